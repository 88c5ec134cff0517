"""A text nested thousands of flow levels deep (``x: [[[[...]]]]``) is refused with the nesting
bound's own message, without the pure-Python parser's pass that words a syntax error: that pass
costs in proportion to the open flow levels at every token, so 5,000 levels took 70 s and
20,000 over two minutes (QA "security", session 38, finding 2). libyaml stops at its own 1,000
levels before kfp-tune's bound sees an event (its scanner reads a long line ahead); the words are
then the bound's, and the pure-Python pass, where a syntax error still needs it, stops at the
bound too. Work is counted, not timed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kfp_tune.core.errors import SpecError
from kfp_tune.core.loading import parse_yaml
from kfp_tune.core.yaml_bounds import MAX_DEPTH, yaml_problem
from kfp_tune.pipelines.submit import read_package

HEAD = "apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nmetadata:\n  name: deep\n"
REFUSAL = f"line 5: nested more than {MAX_DEPTH} levels deep"


def deep(levels: int, tail: str = "") -> str:
    return HEAD + "x: " + "[" * levels + tail + "]" * levels + "\n"


@pytest.fixture
def flow_levels_scanned(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each flow collection the pure-Python scanner opens, at its level (libyaml's are not seen)."""
    opened: list[int] = []
    original = yaml.scanner.Scanner.fetch_flow_collection_start

    def counting(self, token_class):
        opened.append(self.flow_level)
        return original(self, token_class)

    monkeypatch.setattr(yaml.scanner.Scanner, "fetch_flow_collection_start", counting)
    return opened


def refusal(text: str) -> str:
    with pytest.raises(SpecError) as info:
        parse_yaml(text)
    [error] = info.value.errors
    return error.message


@pytest.mark.parametrize("levels", [1_000, 5_000, 20_000])
def test_past_libyamls_own_bound_the_message_is_the_bound_and_no_pure_python_pass_runs(levels, flow_levels_scanned):
    assert refusal(deep(levels)) == REFUSAL
    assert flow_levels_scanned == []


def test_below_libyamls_bound_kfp_tunes_bound_says_the_same(flow_levels_scanned):
    assert refusal(deep(999)) == REFUSAL
    assert flow_levels_scanned == []


def test_a_syntax_error_deep_inside_is_worded_by_a_pass_that_stops_at_the_bound(flow_levels_scanned):
    # libyaml finds the @ before the parser gives an event; the wording pass stops at the bound
    assert refusal(deep(900, tail="@")) == REFUSAL
    assert 0 < len(flow_levels_scanned) <= MAX_DEPTH + 1 and max(flow_levels_scanned) <= MAX_DEPTH


def test_a_syntax_error_within_the_bound_keeps_its_worded_character():
    with pytest.raises(yaml.YAMLError) as info:
        list(yaml.parse("a: [[1, 2]]\nb: @\n", Loader=yaml.CSafeLoader))
    assert "found character '@' that cannot start any token" in yaml_problem(info.value, "a: [[1, 2]]\nb: @\n")


def test_a_deep_package_named_file_is_refused_once_with_the_bound(tmp_path: Path, flow_levels_scanned):
    """submit's "is it a compiled package?" reading (read_package) says the same, quickly."""
    file = tmp_path / "deep.yaml"
    file.write_text(deep(5_000))
    assert read_package(file).unreadable.startswith(REFUSAL + "; expected a compiled pipeline package")
    assert flow_levels_scanned == []
