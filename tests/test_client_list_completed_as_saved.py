"""kfp-tune list's reading of a completed experiment (three records, its counts as saved) is the
Client's, one place (review C of session 37, finding 9): cli copied
Client.list_experiments_and_problems line for line and rebuilt get_experiment's object, and a
notebook listing a large store had no way to the speed-up. Counted store requests."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.request_counts import count_local_store_requests

from conftest import quad_run_to_its_end
from kfp_tune import Client


def test_the_client_reads_a_completed_experiment_as_saved_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = quad_run_to_its_end(tmp_path, 4) / "store"
    folded = Client(str(store)).get_experiment("quad")
    requests = count_local_store_requests(monkeypatch)
    [saved], problems = Client(str(store)).list_experiments_and_problems(completed_as_saved=True)
    assert not problems and (requests["list"], requests["get"]) == (0, 3), requests
    counted = ("trials", "trialsSucceeded", "trialsFailed", "trialsRunning", "succeededTrialList")
    assert [saved["status"].get(k) for k in counted] == [folded["status"].get(k) for k in counted]
    assert saved["status"]["currentOptimalTrial"]["bestTrialName"] == folded["status"]["currentOptimalTrial"]["bestTrialName"]
    assert (saved["metadata"], saved["spec"]) == (folded["metadata"], folded["spec"])
    requests.clear()
    [whole], _ = Client(str(store)).list_experiments_and_problems()  # as before: folded from every record
    assert requests["list"] >= 1 and whole["status"]["trialsSucceeded"] == saved["status"]["trialsSucceeded"]


def test_list_shows_the_saved_counts_and_status_reads_the_trials_now(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A trial's result damaged by hand after the experiment completed: list (the saved status)
    keeps the saved counts, status reads the trials now; the guide says so (review C, finding 1)."""
    from kfp_tune.cli import main

    store = quad_run_to_its_end(tmp_path, 4) / "store"
    trials = store / "experiments" / "quad" / "trials"
    (sorted(trials.iterdir())[0] / "result.json").write_text("{", encoding="utf-8")
    [saved], _ = Client(str(store)).list_experiments_and_problems(completed_as_saved=True)
    assert saved["status"]["trialsSucceeded"] == 4
    assert Client(str(store)).get_experiment("quad")["status"]["trialsSucceeded"] == 3
    assert main(["list", "--store", str(store)]) == 0
    assert "quad" in capsys.readouterr().out
