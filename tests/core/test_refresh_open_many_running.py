"""The progress watcher's look lists each open trial's folder: with many running at once
(parallelTrialCount 16 of 32 trials) that was 18 listings where one listing of the whole
experiment, a page a thousand keys, does (review C of session 37, finding 4). A look now takes the
cheaper: the whole listing once the open trials outnumber its pages. Counted store requests."""

from __future__ import annotations

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


def _experiment(root, trials: int, running: int) -> tuple[ExperimentRecords, ExperimentView, list[str]]:
    """``trials`` trials started, all but ``running`` of them ended."""
    records = ExperimentRecords(LocalStore(root), NAME)
    init_experiment(records, load_experiment(quadratic_experiment(**{"spec.maxTrialCount": trials, "spec.parallelTrialCount": 16})))
    writer = ExperimentView(records)
    names = [trial_name(NAME, writer.state.uid, index) for index in range(trials)]
    entries = [{"name": n, "index": i, "assignment": {"x": f"0.{i + 1}", "y": "0.5"}} for i, n in enumerate(names)]
    writer.record_round("round-0000", {"round": "round-0000", "seq": 0, "created": "2026-01-05T09:00:00Z", "requested": trials,
                                       "exhausted": False, "trials": entries, "adopted": []})
    for index, name in enumerate(names):
        writer.record_trial(name, TrialStarted(trial=name, time="2026-01-05T09:00:00Z", at=1_767_603_600.0 + index, run="run-1", attempt="1"))
        if index >= running:
            writer.record_trial(name, TrialEnded.now(name, LaunchPhase.SUCCEEDED))
            writer.record_trial(name, TrialResult(trial=name, status=TrialStatus.SUCCEEDED, observation={"loss": {"min": 1.0, "max": 1.0, "latest": 1.0, "count": 1}},
                                                  metrics={"loss": 1.0}, time="2026-01-05T09:00:05Z"))
    return records, writer, names


def test_a_look_at_16_running_of_32_is_one_listing(tmp_path, monkeypatch) -> None:
    records, writer, names = _experiment(tmp_path, 32, 16)
    watcher = ExperimentView(records)
    watcher.refresh_open()  # the first look reads it whole
    writer.record_trial(names[0], TrialEnded.now(names[0], LaunchPhase.SUCCEEDED))
    writer.record_trial(names[0], TrialResult(trial=names[0], status=TrialStatus.SUCCEEDED, observation={"loss": {"min": 0.5, "max": 0.5, "latest": 0.5, "count": 1}},
                                              metrics={"loss": 0.5}, time="2026-01-05T09:00:09Z"))
    requests = count_local_store_requests(monkeypatch)
    state = watcher.refresh_open()
    assert requests["list"] == 1, requests  # was 18: rounds, outcomes and each of the 16 running trials
    assert state.by_name[names[0]].status == TrialStatus.SUCCEEDED and len(state.tally.active) == 15


def test_a_look_at_few_running_lists_only_their_folders(tmp_path, monkeypatch) -> None:
    records, _, _ = _experiment(tmp_path, 32, 1)
    watcher = ExperimentView(records)
    watcher.refresh_open()
    requests = count_local_store_requests(monkeypatch)
    watcher.refresh_open()
    assert requests["list"] == 3, requests  # rounds, outcomes, the one running trial's folder
