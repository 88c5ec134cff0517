"""The ``--json`` shapes were only partly documented (QA automation, session 37, finding 5):
``trials --json``'s keys nowhere, ``run --json``'s ``damaged`` not named. The guide's "What
``--json`` prints" now has a table per command; these tests hold it to what is printed: every key
printed is documented, every key documented "always" is printed, and ``run --json``'s optional
keys are those its code prints."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune import cli

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide.md"
ROW = re.compile(r"^\| (`[^|]+`) \| ([^|]+) \| ([^|]+) \|$")


def documented() -> dict[str, dict[str, str]]:
    """Each command's table in the guide's section: key -> its "present" cell."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index("### What `--json` prints"):]
    section = section[: section.index("\n## ", 1)]
    tables: dict[str, dict[str, str]] = {}
    current = ""
    for line in section.splitlines():
        heading = re.match(r"^`(\w+)(?: NAME)? --json`", line)
        if heading:
            current = heading[1]
            tables[current] = {}
        row = ROW.match(line)
        if row and current and row[1] != "`key`":
            for key in re.findall(r"`(\w+)`", row[1]):
                tables[current][key] = row[3]
    return tables


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> dict[str, Any]:
    """One small experiment run inline, and what each --json printed of it."""
    folder = tmp_path_factory.mktemp("json")
    path = folder / "exp.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1})))
    store = str(folder / "store")
    printed: dict[str, Any] = {}
    with pytest.MonkeyPatch.context() as patch:
        for name, argv in {
            "run": ["run", str(path), "--engine", "inline", "--store", store, "--json"],
            "trials": ["trials", "quad", "--store", store, "--json"],
            "list": ["list", "--store", store, "--json"],
            "status": ["status", "quad", "--store", store, "--json"],
        }.items():
            out: list[str] = []
            patch.setattr("sys.stdout", _Lines(out))
            assert cli.main(argv) == 0, name
            printed[name] = json.loads("".join(out))
    return printed


class _Lines:
    def __init__(self, out: list[str]):
        self.out = out
        self.encoding = "utf-8"

    def write(self, text: str) -> int:
        self.out.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def test_the_guide_documents_each_command():
    assert set(documented()) == {"run", "trials", "list", "status"}


@pytest.mark.parametrize("command", ["run", "trials", "list", "status"])
def test_every_printed_key_is_documented_and_every_always_key_printed(ran, command):
    table = documented()[command]
    objects = ran[command] if isinstance(ran[command], list) else [ran[command]]
    assert objects
    for printed in objects:
        assert set(printed) <= set(table), f"{command} --json prints keys the guide does not name: {set(printed) - set(table)}"
        always = {key for key, present in table.items() if present.startswith("always")}
        assert always <= set(printed), f"{command} --json lacks keys the guide says are always there: {always - set(printed)}"


def test_the_run_summarys_optional_keys_are_those_documented(capsys):
    """Every key ``run --json`` can print, each with something to say."""
    summary: dict[str, Any] = {key: 1 for key in cli.SUMMARY_JSON_KEYS}
    summary |= {"metrics_unavailable": 1, "early_stopped": 1, "killed": 1, "given_back": 1, "damaged": [{"key": "k", "problem": "p"}],
                "last_failed_trial": {"name": "t", "reason": "r", "message": "m"}, "objective": "loss", "message": "", "running": 0, "store": "s"}

    cli._print_summary(summary, True)

    assert set(json.loads(capsys.readouterr().out)) == set(documented()["run"])
    assert {k for k, present in documented()["run"].items() if present.startswith("always")} == set(cli.SUMMARY_JSON_KEYS)


def test_parameters_are_strings_and_metrics_numbers_as_documented(ran):
    best = ran["run"]["best_trial"]
    assert all(isinstance(v, str) for v in best["parameters"].values())
    assert all(isinstance(v, (int, float)) for v in best["metrics"].values())
    assert all(isinstance(v, str) for row in ran["trials"] for v in row["parameters"].values())
