"""The progress watcher's look (ExperimentView.refresh_open) folds a given-back trial's ``ended``
record written after its result (review C of session 37, finding 8): decide_stop.give_back writes
``result.json`` first (the trial is final from then), then ``ended.json``; a look between the two
took the trial out of the open set, its folder was never listed again, and its ``ended`` stayed
None in the watcher's view while a full load had it."""

from __future__ import annotations

import pytest
from support.request_counts import count_local_store_requests

from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.naming import trial_name
from kfp_tune.core.records import ExperimentRecords, TrialEnded, TrialResult, TrialStarted
from kfp_tune.core.state import ExperimentView
from kfp_tune.core.vocabulary import LaunchPhase, TrialStatus
from kfp_tune.steps import init_experiment
from kfp_tune.stores import LocalStore

NAME = "quad"


@pytest.mark.parametrize("other_running", [False, True])
def test_a_given_back_trials_late_ended_record_is_folded_by_the_next_look(tmp_path, monkeypatch, other_running: bool) -> None:
    """The other trial ended: the look lists the open trials' folders; running too: two open
    trials of two outnumber a whole listing's one page, so the look is the whole listing."""
    records = ExperimentRecords(LocalStore(tmp_path), NAME)
    init_experiment(records, load_experiment(quadratic_experiment()))
    writer = ExperimentView(records)
    names = [trial_name(NAME, writer.state.uid, index) for index in range(2)]
    entries = [{"name": n, "index": i, "assignment": {"x": f"0.{i + 1}", "y": "0.5"}} for i, n in enumerate(names)]
    writer.record_round("round-0000", {"round": "round-0000", "seq": 0, "created": "2026-01-05T09:00:00Z", "requested": 2, "exhausted": False,
                                       "trials": entries, "adopted": []})
    for index, name in enumerate(names):
        writer.record_trial(name, TrialStarted(trial=name, time="2026-01-05T09:00:00Z", at=1_767_603_600.0 + index, run="run-1", attempt="1"))
    if not other_running:
        writer.record_trial(names[1], TrialEnded.now(names[1], LaunchPhase.SUCCEEDED))
        writer.record_trial(names[1], TrialResult(trial=names[1], status=TrialStatus.SUCCEEDED, observation={"loss": {"min": 1.0, "max": 1.0, "latest": 1.0, "count": 1}},
                                                  metrics={"loss": 1.0}, time="2026-01-05T09:00:05Z"))
    watcher = ExperimentView(records)
    watcher.refresh_open()
    given_back = names[0]
    # give_back's order: the result first, a look, then the ended record
    writer.record_trial(given_back, TrialResult(trial=given_back, status=TrialStatus.KILLED, reason="TrialInterrupted", message="the run was stopped",
                                                time="2026-01-05T09:00:05Z"))
    assert watcher.refresh_open().by_name[given_back].ended is None
    writer.record_trial(given_back, TrialEnded.now(given_back, LaunchPhase.FAILED, "Killed", "the run was stopped", None))
    ended = watcher.refresh_open().by_name[given_back].ended
    assert ended is not None and ended.reason == "Killed"
    assert ended == ExperimentView(records).refresh().by_name[given_back].ended  # as a full load has it
    requests = count_local_store_requests(monkeypatch)
    watcher.refresh_open()  # folded: its folder is not listed again, the running trial's is
    assert requests["list"] == (3 if other_running else 2), requests  # rounds, outcomes, the one running trial if any
