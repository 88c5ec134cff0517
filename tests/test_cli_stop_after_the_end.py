"""``kfp-tune run`` stopped once its experiment had ended (its goal reached, or its
maxFailedTrialCount) while trials still ran, which the stop recorded Killed. Katib's outcome is
final: the run exits as the ended run, as it did when no trial was stopped, and says which trials
were stopped. It printed "interrupted ... Run the same command to resume" and exited 130 (QA
review A, finding 1); ``tune()`` reads the same rule (tests/test_tune_stop_after_the_end.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.errors import RunInterrupted
from kfp_tune.core.records import ExperimentRecords


def _write(tmp_path: Path, doc: dict[str, Any]) -> str:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def _ends_then_interrupted(monkeypatch: pytest.MonkeyPatch, killed: int, damage_status: bool = False) -> None:
    """The real run to its end, then the interrupt's outcome as the run raises it with ``killed``
    trials stopped (the stop's record, the status, as the run wrote it; or damaged)."""
    import kfp_tune.inline_runner

    finish = kfp_tune.inline_runner.run_inline

    def ends_then_signal(store: Any, experiment: Any, *args: Any, **kwargs: Any) -> None:
        finish(store, experiment, *args, **kwargs)
        if damage_status:
            records = ExperimentRecords(store, experiment.name)
            store.put(records.status_key(), b"{")
        raise RunInterrupted("SIGINT", killed)

    monkeypatch.setattr(kfp_tune.inline_runner, "run_inline", ends_then_signal)


def test_a_stop_after_the_end_that_killed_trials_exits_as_the_ended_run_and_names_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _ends_then_interrupted(monkeypatch, killed=2)
    assert main(["run", _write(tmp_path, quadratic_experiment()), "--engine", "inline", "--store", str(tmp_path / "store"), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["status"] == "Succeeded"
    assert ("the signal (SIGINT) came after experiment quad had ended: Succeeded (ExperimentMaxTrialsReached); "
            "2 trial(s) still running were stopped and recorded Killed; the experiment's outcome stands") in captured.err
    assert "Run the same command to resume" not in captured.err


def test_a_stop_after_the_end_with_the_status_record_damaged_reads_the_end_from_the_trials(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback ``tune()`` now shares: the phase the trials give, as ``kfp-tune status``
    shows it."""
    _ends_then_interrupted(monkeypatch, killed=0, damage_status=True)
    assert main(["run", _write(tmp_path, quadratic_experiment()), "--engine", "inline", "--store", str(tmp_path / "store"), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["status"] == "Succeeded" and "interrupted" not in captured.err
