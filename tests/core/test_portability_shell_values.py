"""A categorical value holding whitespace or shell syntax that reaches an unquoted
``${trialParameters.x}`` of a command Katib runs through ``sh -c`` (the StdOut, File and
TensorFlowEvent collectors; core.shell_form): the shell splits it or runs it, under Katib as
under kfp-tune, while the records keep the value whole. validate says so, naming the value and
how it reaches the trial; quoted for what it holds, or in env, or with a collector Katib does
not wrap, there is no note."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.portability import katib_notes

VALUES = ["a b", "ünï 日本", "plain", " lead", "x;rm -rf /tmp/none", "it's", 'say "hi"', "$HOME", "1.5e3"]


def _experiment(args: list[str], **overrides: Any) -> dict[str, Any]:
    doc = quadratic_experiment(**overrides)
    doc["spec"]["parameters"] = [{"name": "cat", "parameterType": "categorical", "feasibleSpace": {"list": VALUES}}]
    doc["spec"]["trialTemplate"]["trialParameters"] = [{"name": "choice", "reference": "cat"}]
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"] = args
    return doc


def _shell_notes(doc: dict[str, Any]) -> dict[str, str]:
    return {n.path: n.message for n in katib_notes(load_experiment(doc), doc) if "sh -c" in n.message}


def test_an_unquoted_placeholder_notes_each_value_the_shell_splits_or_runs() -> None:
    notes = _shell_notes(_experiment(["cat=${trialParameters.choice}"]))
    noted = {VALUES[int(path.rsplit("[", 1)[1].rstrip("]"))] for path in notes}
    assert noted == {"a b", "ünï 日本", " lead", "x;rm -rf /tmp/none", "it's", 'say "hi"', "$HOME"}
    assert all(path.startswith("spec.parameters[0].feasibleSpace.list[") for path in notes)
    message = notes["spec.parameters[0].feasibleSpace.list[1]"]
    assert "'ünï 日本'" in message and "${trialParameters.choice}" in message and "'cat=${trialParameters.choice}'" in message
    assert "container 'main'" in message and "StdOut" in message and "sh -c" in message
    assert "quote the placeholder" in message and "env" in message
    assert "splits it at its whitespace" in message
    assert "';'" in notes["spec.parameters[0].feasibleSpace.list[4]"]


def test_a_double_quoted_placeholder_notes_only_what_double_quotes_leave_to_the_shell() -> None:
    notes = _shell_notes(_experiment(['cat="${trialParameters.choice}"']))
    noted = {VALUES[int(path.rsplit("[", 1)[1].rstrip("]"))] for path in notes}
    assert noted == {'say "hi"', "$HOME"}


def test_a_single_quoted_placeholder_notes_only_a_single_quote() -> None:
    notes = _shell_notes(_experiment(["cat='${trialParameters.choice}'"]))
    assert list(notes) == ["spec.parameters[0].feasibleSpace.list[5]"]


def test_no_note_in_env_or_under_a_collector_katib_does_not_wrap() -> None:
    doc = _experiment(["plain"])
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "CAT", "value": "${trialParameters.choice}"}]
    assert _shell_notes(doc) == {}
    pushed = _experiment(["cat=${trialParameters.choice}"], **{"spec.metricsCollectorSpec": {"collector": {"kind": "Push"}}})
    assert _shell_notes(pushed) == {}


def test_validate_prints_the_note_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(_experiment(["cat=${trialParameters.choice}"])))
    assert main(["validate", str(path)]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if "sh -c" in line]
    assert len(lines) == 7 and lines[0].startswith("note: spec.parameters[0].feasibleSpace.list[0]: ")
