"""A value shown on a terminal shows its control characters escaped: a categorical value
"\\e]0;PWNED\\a\\e[2Ka\\nexperiment esc: Failed (FAKE)" passed validate, and run, status and
trials printed it raw, setting the terminal's title and printing a fake status line (its newline
split the trials table's row). --json and logs show what was written, as it is."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from conftest import quadratic_experiment, store_with_a_value
from kfp_tune.cli import main
from kfp_tune.progress import display_width, one_line, table_lines, visible

HOSTILE = "\x1b]0;PWNED\x07\x1b[2Ka\nexperiment esc: Failed (FAKE)"


def test_visible_escapes_control_characters_as_repr_does() -> None:
    assert visible(HOSTILE) == "\\x1b]0;PWNED\\x07\\x1b[2Ka\\nexperiment esc: Failed (FAKE)"
    assert visible("lr=0.01, é ok") == "lr=0.01, é ok"
    assert visible("\x9b2J\x7f") == "\\x9b2J\\x7f"
    assert "\x1b" not in one_line(f"Failed: {HOSTILE}")


def test_visible_escapes_bidirectional_overrides_and_line_separators() -> None:
    """A value holding U+202E shows what follows it reversed ("Trojan Source"): ``lr=\u202e1.0``
    reads as ``lr=0.1``; U+2028 starts a new line in some terminals."""
    assert visible("lr=\u202e1.0\u202c") == "lr=\\u202e1.0\\u202c"
    assert visible("a\u2066b\u2069\u200fc\u061c\u2028d") == "a\\u2066b\\u2069\\u200fc\\u061c\\u2028d"
    assert visible("Ünïcødé 中文 ✓") == "Ünïcødé 中文 ✓", "printable text stays as it is"


def test_status_trials_and_run_show_a_hostile_value_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = quadratic_experiment(metadata={"name": "esc"})
    spec = doc["spec"]
    spec["maxTrialCount"], spec["parallelTrialCount"] = 2, 1
    spec["parameters"].append({"name": "c", "parameterType": "categorical", "feasibleSpace": {"list": [HOSTILE]}})
    spec["trialTemplate"]["trialParameters"].append({"name": "c", "reference": "c"})
    container = spec["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "C", "value": "${trialParameters.c}"}]
    path = tmp_path / "esc.yaml"
    path.write_text(yaml.safe_dump(doc))
    store = str(tmp_path / "store")

    assert main(["run", str(path), "--engine", "inline", "--store", store]) == 0
    shown = {"run": capsys.readouterr()}
    for command in (["status", "esc"], ["trials", "esc"], ["list"]):
        assert main([*command, "--store", store]) == 0
        shown[command[0]] = capsys.readouterr()
    for command, (out, err) in shown.items():
        assert "\x1b" not in out + err and "\x07" not in out + err, command
        assert not any(line.startswith("experiment esc: Failed") for line in (out + err).splitlines()), command
    assert f"c={visible(HOSTILE)}" in shown["status"].out
    assert visible(HOSTILE) in shown["trials"].out and len(shown["trials"].out.splitlines()) == 3, "a row a trial"

    assert main(["trials", "esc", "--json", "--store", store]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["parameters"]["c"] for row in rows} == {HOSTILE}, "--json shows the value as it is"


def test_list_shows_a_reason_edited_into_the_store_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Mutation QA (C04): the shared store's records are anyone's to write; a reason edited into
    them (the experiment's outcome, a run's end record) reached ``kfp-tune list`` raw, setting
    the terminal's title and printing a fake status line."""
    path = tmp_path / "quad.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 2})))
    store = tmp_path / "store"
    assert main(["run", str(path), "--engine", "inline", "--store", str(store)]) == 0
    edited = 0
    for record in (store / "experiments" / "quad").rglob("*.json"):
        text = record.read_text()
        if "ExperimentMaxTrialsReached" in text:
            record.write_text(text.replace("ExperimentMaxTrialsReached", json.dumps(HOSTILE)[1:-1]))
            edited += 1
    assert edited, "the store holds the reason"
    capsys.readouterr()
    assert main(["list", "--store", str(store)]) == 0
    out, err = capsys.readouterr()
    assert "\x1b" not in out + err and "\x07" not in out + err
    assert visible(HOSTILE) in out and len(out.splitlines()) == 2, out


def test_table_lines_pad_by_the_columns_a_terminal_shows() -> None:
    """A Chinese value takes two columns a character: padded by its length, it pushed the rest of
    its row two columns right a character."""
    lines = table_lines([["name", "size", "lr"], ["t-1", "小型", "0.1"], ["t-2", "large", "0.2"], ["t-3", "e\u0301", "0.3"]])
    assert [display_width(line[: line.index("0.")]) for line in lines[1:]] == [13, 13, 13], "the third column starts where the terminal shows it"
    assert lines[0] == "name  size   lr"
    assert display_width("小型") == 4 and display_width("e\u0301") == 1 and display_width("a\u200db") == 2


def cell_starts(line: str) -> list[int]:
    """The terminal column each cell of a table line starts at."""
    return [display_width(line[: found.start()]) for found in re.finditer(r"\S+", line)]


@pytest.mark.parametrize("encoding", ["latin-1", "ascii"])
def test_table_lines_pad_a_cell_as_a_stream_in_that_encoding_writes_it(encoding: str) -> None:
    """On a Latin-1 or ASCII stdout the CLI writes 中文 as ``\\u4e2d\\u6587`` (12 columns):
    padded for the 4 columns 中文 takes, the rest of its row was pushed out of line."""
    lines = table_lines([["name", "size", "lr"], ["t-1", "中文", "0.1"], ["t-2", "café", "0.2"], ["t-3", "large", "0.3"]], encoding)
    written = [line.encode(encoding, "backslashreplace").decode(encoding) for line in lines]
    assert cell_starts(written[0]) == cell_starts(written[1]) == cell_starts(written[2]) == cell_starts(written[3]), written
    assert "\\u4e2d\\u6587" in written[1]


def test_trials_table_lines_up_a_wide_value_on_a_latin1_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """kfp-tune trials on a Latin-1 terminal: the CLI passes its stdout's encoding to the table."""
    import io
    import sys

    store = store_with_a_value(tmp_path, "中文")
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="latin-1")
    monkeypatch.setattr(sys, "stdout", stdout)
    assert main(["trials", "wide", "--store", store]) == 0
    stdout.flush()
    lines = stdout.buffer.getvalue().decode("latin-1").splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 3 and all("\\u4e2d\\u6587" in row for row in lines[1:])
    assert cell_starts(lines[0]) == cell_starts(lines[1]) == cell_starts(lines[2]), lines


def test_trials_table_lines_up_a_wide_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = store_with_a_value(tmp_path, "小型")
    capsys.readouterr()
    assert main(["trials", "wide", "--store", store]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all("小型" in row for row in lines[1:])

    def starts(line: str) -> list[int]:  # the terminal column each cell starts at
        return [display_width(line[: found.start()]) for found in re.finditer(r"\S+", line)]

    assert starts(lines[1]) == starts(lines[2]) == starts(lines[0]), lines
