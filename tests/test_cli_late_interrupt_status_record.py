"""A Ctrl-C after ``kfp-tune run`` had ended reads the experiment's status record to tell whether
it ended (a4f5d78). With that record absent (an older writer's, lost) or damaged, the phase is
derived from the trials, as before, and the run exits as the finished run; and the summary read
after the look (the store's retry window cut to a second by then) failing is no error either:
the run says what the look read and exits by it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import kfp_tune.progress
from conftest import quadratic_experiment
from kfp_tune.core.errors import StoreError
from kfp_tune.stores.local import LocalStore
from late_signal import run_with_a_ctrl_c_after_its_end


def write(tmp_path: Path) -> str:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 3, "spec.parallelTrialCount": 1})))
    return str(path)


def then_at_the_end(monkeypatch: pytest.MonkeyPatch, change: Any) -> None:
    """``change()`` once the progress watcher's last look is over, before the late Ctrl-C."""
    last_look = kfp_tune.progress.ProgressWatcher.__exit__

    def last_look_then_change(self: Any, *exc_info: Any) -> None:
        last_look(self, *exc_info)
        change()

    monkeypatch.setattr(kfp_tune.progress.ProgressWatcher, "__exit__", last_look_then_change)


@pytest.mark.parametrize("record", ["damaged", "absent"])
def test_a_late_ctrl_c_without_a_readable_status_record_exits_as_the_finished_run(tmp_path, capsys, monkeypatch, record):
    status = tmp_path / "store" / "experiments" / "quad" / "status.json"
    then_at_the_end(monkeypatch, lambda: status.write_text("{garbage") if record == "damaged" else status.unlink())

    code = run_with_a_ctrl_c_after_its_end(write(tmp_path), tmp_path / "store", monkeypatch)

    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out)["status"] == "Succeeded"
    assert "the signal came after the run had ended: experiment quad Succeeded (ExperimentMaxTrialsReached)" in captured.err
    assert "interrupted" not in captured.err


def test_a_late_ctrl_c_whose_summary_read_fails_says_what_the_look_read(tmp_path, capsys, monkeypatch):
    def store_blips(self: LocalStore, prefix: str) -> list[str]:
        raise StoreError(f"S3 listing of {prefix} failed: connection reset")

    then_at_the_end(monkeypatch, lambda: monkeypatch.setattr(LocalStore, "list", store_blips))  # the look reads one record: no listing

    code = run_with_a_ctrl_c_after_its_end(write(tmp_path), tmp_path / "store", monkeypatch)

    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out) == {  # run --json's shape, what the look did not read null
        "experiment": "quad", "status": "Succeeded", "reason": "ExperimentMaxTrialsReached", "trials": None, "succeeded": None, "failed": None, "best_trial": None}
    store = LocalStore(tmp_path / "store").uri
    assert f"the summary could not be read (S3 listing of experiments/quad/ failed: connection reset); kfp-tune status quad --store {store} shows it" in captured.err
