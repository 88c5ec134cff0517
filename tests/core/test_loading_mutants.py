"""Reading an experiment's source: a path given as text is read as the file it names, YAML
text as YAML; the size limit is Kubernetes' request limit, the limit itself allowed; a file is
read no further than that limit; and the YAML mistakes only a hand-written tag or a merge key
can make are reported at their line, naming what was found."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from kfp_tune.core.errors import SpecError
from kfp_tune.core.loading import parse_yaml, read_experiment_source
from kfp_tune.core.yaml_bounds import MAX_NODES

KUBERNETES_REQUEST_LIMIT = 3 * 1024 * 1024
"""kube-apiserver's default limit on a request body (MaxRequestBodyBytes): kubectl cannot send more."""


def problem(text: str) -> str:
    """The one problem parse_yaml reports for ``text``."""
    with pytest.raises(SpecError) as info:
        parse_yaml(text)
    [error] = info.value.errors
    assert error.path == "(file)"
    return error.message


def source_problem(source: str | Path) -> str:
    with pytest.raises(SpecError) as info:
        read_experiment_source(source)
    [error] = info.value.errors
    assert error.path == "(file)"
    return error.message


# --- a path as text or YAML text ---------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
def test_a_path_written_as_text_is_read_as_the_file_by_its_suffix(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"experiment{suffix}"
    document = {"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "metadata": {"name": "quad"}}
    path.write_text(json.dumps(document))
    assert read_experiment_source(str(path)) == document


def test_yaml_text_whose_last_value_ends_like_a_file_name_is_read_as_text() -> None:
    """A newline makes it text, whatever it ends with."""
    assert read_experiment_source("kind: Experiment\nfile: trial.yaml") == {"kind": "Experiment", "file": "trial.yaml"}


def test_yaml_text_at_the_request_limit_is_read_and_one_byte_more_is_refused() -> None:
    head = "a: 1\n"
    at_limit = head + "#" * (KUBERNETES_REQUEST_LIMIT - len(head) - 1) + "\n"
    assert len(at_limit.encode()) == KUBERNETES_REQUEST_LIMIT
    assert read_experiment_source(at_limit) == {"a": 1}
    message = source_problem(at_limit + "#")
    assert "YAML text is larger than" in message and f"{KUBERNETES_REQUEST_LIMIT:,} bytes" in message


# --- files -------------------------------------------------------------------------------------


def test_a_folder_or_fifo_is_refused_by_name_without_reading_it(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # opening it for reading would block until a writer came
    for target in (tmp_path, fifo):
        message = source_problem(target)
        assert str(target) in message and "not a regular file" in message


def _bytes_read_by_this_thread() -> int:
    text = Path("/proc/thread-self/io").read_text()
    return int(re.search(r"^rchar: (\d+)$", text, re.M).group(1))  # type: ignore[union-attr]


@pytest.mark.skipif(not Path("/proc/thread-self/io").exists(), reason="needs Linux's per-thread I/O accounting")
def test_a_huge_file_is_refused_having_read_none_of_it(tmp_path: Path) -> None:
    """Its size is looked at first (yaml_bounds.bounded_file_bytes, review B of session 38,
    finding 8): a 64 MiB (sparse) file is refused with none of it read, where the loader's own
    read took the limit + 1 bytes first."""
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(64 * 1024 * 1024)
    before = _bytes_read_by_this_thread()
    message = source_problem(path)
    read = _bytes_read_by_this_thread() - before
    assert "larger than" in message and str(path) in message
    assert read < 64 * 1024 < KUBERNETES_REQUEST_LIMIT, read


# --- YAML mistakes -----------------------------------------------------------------------------


def test_a_control_character_is_named() -> None:
    """PyYAML's reader refuses it without a line and column; its own words are shown."""
    message = problem("a: \x07\n")
    assert message.startswith("not valid YAML: ") and "#x0007" in message and "control characters" in message


@pytest.mark.parametrize(("value", "found"), [("x", "Scalar"), ("[1, 2]", "Sequence")])
def test_a_map_tag_on_what_is_no_mapping_is_refused_where_it_is(value: str, found: str) -> None:
    message = problem(f"spec:\n  value: !!map {value}\n")
    assert message.startswith("not valid YAML: line 2, column 10: expected a mapping, but found "), message
    assert found in message


def test_a_key_given_twice_after_a_merge_key_is_refused() -> None:
    text = "base: &base {a: '1'}\nderived:\n  <<: *base\n  b: '2'\n  b: '3'\n"
    message = problem(text)
    assert "'b' is given twice" in message and "line 5" in message and "first on line 4" in message


def test_a_list_key_brought_in_by_a_merge_is_refused_at_its_line_showing_the_list() -> None:
    message = problem("spec:\n  derived:\n    <<: {[1, 2]: x}\n")
    assert message == "not valid YAML: line 3, column 10: a mapping key must be a string, got [1, 2]"


@pytest.mark.parametrize("value", [".nan", ".inf", "-.Inf"])
def test_a_number_json_cannot_carry_is_refused_at_its_line_and_column(value: str) -> None:
    message = problem(f"spec:\n  value: {value}\n")
    assert message.startswith(f"not valid YAML: line 2, column 10: {value!r} is not a number JSON can carry"), message


# --- aliases -----------------------------------------------------------------------------------


def test_an_aliased_scalar_is_read_and_counts_as_one_node() -> None:
    """An alias counts the node it names: one for a scalar, so a list of scalar aliases that
    reaches the node limit exactly is still read (a list of n items is n + 1 nodes, in a
    mapping, 1, with its key, 1)."""
    assert parse_yaml("a: &v x\nb: *v\n") == {"a": "x", "b": "x"}
    items = MAX_NODES - 3
    text = "k: [&s x" + ", *s" * (items - 1) + "]\n"
    assert parse_yaml(text)["k"] == ["x"] * items


def test_the_copies_made_by_aliases_are_counted_in_the_refusal() -> None:
    """Every alias of a 1,000-node list adds 1,000 copies; the refusal names the line of the
    alias that crossed the limit and how many copies all the aliases up to it made."""
    block = "[" + ", ".join(["x"] * 999) + "]"  # 1,000 nodes
    text = f"a: &a {block}\n" + "".join(f"b{i}: *a\n" for i in range(200))
    message = problem(text)
    found = re.search(r"^line (\d+): YAML aliases expand this document to more than [\d,]+ nodes \(([\d,]+) of them copies made by aliases\)", message)
    assert found, message
    line, copies = int(found.group(1)), int(found.group(2).replace(",", ""))
    aliases_read = line - 1  # one alias per line after the anchor's
    assert aliases_read > 1 and copies == aliases_read * 1000
