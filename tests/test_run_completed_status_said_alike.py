"""A completed experiment's saved status is stale only when a reader of it would be told
something else (review E of session 37, findings 3 and 4, of c6817d5): one that differs only in
order (the best trial's assignments, a trial list), in how a number is written or in a
condition's message says the same, so a re-run writes nothing and warns of nothing; and a stale
one met by another run's claim is reported as computed from its trials, with one warning, not
refused as busy (two re-runs of it at the same moment)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core import claims
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.steps.decide_stop import only_reported
from kfp_tune.stores.local import LocalStore

STALE_WORDS = "its saved status (status.json) is stale"


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def completed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The experiment's YAML, run to its end (3 trials, Succeeded) in tmp_path/store."""
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 3, "spec.parallelTrialCount": 1})))
    assert main(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "store")]) == 0
    capsys.readouterr()
    return path


def _edit(store: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = store / "experiments" / "quad" / "status.json"
    saved = json.loads(path.read_text())
    change(saved["status"])
    path.write_text(json.dumps(saved))


def _reverse_assignments(status: dict[str, Any]) -> None:
    status["currentOptimalTrial"]["parameterAssignments"].reverse()


def _reverse_succeeded(status: dict[str, Any]) -> None:
    assert len(status["succeededTrialList"]) == 3
    status["succeededTrialList"].reverse()


def _number_written_longer(status: dict[str, Any]) -> None:
    for metric in status["currentOptimalTrial"]["observation"]["metrics"]:
        metric["latest"] = repr(float(metric["latest"])) + "0"


def _condition_message(status: dict[str, Any]) -> None:
    status["conditions"][-1]["message"] = status["conditions"][-1]["message"] + " (reworded)"


@pytest.mark.parametrize("change", [_reverse_assignments, _reverse_succeeded, _number_written_longer, _condition_message])
def test_a_status_said_alike_is_not_stale(completed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], change: Callable[[dict[str, Any]], None]) -> None:
    store = tmp_path / "store"
    _edit(store, change)
    before = _files(store)
    assert main(["run", str(completed), "--engine", "inline", "--store", str(store)]) == 0
    err = capsys.readouterr().err
    assert STALE_WORDS not in err, err
    assert _files(store) == before


def test_one_field_said_otherwise_differs(completed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    _edit(store, lambda status: status.update(trialsSucceeded=status["trialsSucceeded"] - 1))
    assert main(["run", str(completed), "--engine", "inline", "--store", str(store)]) == 0
    err = capsys.readouterr().err
    assert "(trialsSucceeded differs from what its trials say); rewritten from its trials" in err, err


def test_a_stale_status_another_run_holds_is_reported_as_computed(completed: Path, tmp_path: Path) -> None:
    """Two re-runs of it at the same moment both pass the pre-flight (no claim yet); the first
    claims it to rewrite the status, and the second meets that claim in only_reported: it
    reports, as a read-only key's run does, rather than fail as 'being run'."""
    store = tmp_path / "store"
    _edit(store, lambda status: status.update(trialsSucceeded=status["trialsSucceeded"] - 1))
    claims.claim(ExperimentRecords(LocalStore(store), "quad"), "other-run", False)  # the first re-run, rewriting it
    before = _files(store)
    said: list[str] = []
    assert only_reported(LocalStore(store), "quad", said.append) is True
    assert len(said) == 1 and STALE_WORDS in said[0] and "run 'other-run'" in said[0] and "did not rewrite it" in said[0], said
    assert _files(store) == before
