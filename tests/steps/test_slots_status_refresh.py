"""``status.json`` (what ``kfp-tune status`` and the KFP UI read) is rewritten as trials end
while a run goes on, at most once per ``slots.STATUS_EVERY_SECONDS``, and always at the end. No
test looked at it during a run: a status written only at the end went unnoticed. The interval is
set here (0, or never), or the slots' clock is one the trials move, so that nothing depends on
how fast the trials run."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune import search, tune
from kfp_tune.core.decision import Decision
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import TrialState
from kfp_tune.core.vocabulary import LaunchPhase, RecordKind, TrialStatus
from kfp_tune.inline_runner import run_inline
from kfp_tune.steps import slots
from kfp_tune.stores import LocalStore

TRIALS = 4


class Instant(Launcher):
    """Every trial succeeds at once, reporting both of the experiment's metrics."""

    def run(self, trial: TrialRun) -> LaunchOutcome:
        return LaunchOutcome(LaunchPhase.SUCCEEDED, exit_code=0, logs={"main": "loss=0.5\naccuracy=0.5\n"})


class TrialClock:
    """The slots' ``time`` module with a clock only the trials move: each trial takes ``step``
    seconds by it. Its start is far from 0, as a machine's monotonic clock is."""

    def __init__(self, step: float):
        self.now, self.step = 100.0, step

    def monotonic(self) -> float:
        return self.now

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


class Timed(Instant):
    def __init__(self, clock: TrialClock):
        super().__init__()
        self.clock = clock

    def run(self, trial: TrialRun) -> LaunchOutcome:
        self.clock.now += self.clock.step
        return super().run(trial)


def _succeeded_in_status_as_each_trial_ended(store, launcher: Launcher | None = None) -> tuple[list[object], list[object]]:
    """Run TRIALS trials one at a time; returns (trialsSucceeded in status.json, the count of
    Succeeded trials in the records) as each trial's end was reported."""
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": TRIALS, "spec.parallelTrialCount": 1}))
    records = ExperimentRecords(store, experiment.name)
    in_status: list[object] = []
    succeeded: list[object] = []

    def on_trial_end(trial: TrialState, decision: Decision) -> None:
        status = records.read(records.status_key(), RecordKind.EXPERIMENT_STATUS)
        in_status.append(status["status"].get("trialsSucceeded") if status else None)
        succeeded.append(decision.counts[TrialStatus.SUCCEEDED.value])

    decision = run_inline(store, experiment, launcher or Instant(), on_trial_end=on_trial_end)
    assert decision.counts[TrialStatus.SUCCEEDED.value] == TRIALS
    return in_status, succeeded


def test_the_status_is_rewritten_as_each_trial_ends(local_store, monkeypatch: pytest.MonkeyPatch):
    """No interval: each trial's end finds the status counting it (1, 2, 3, 4 succeeded)."""
    monkeypatch.setattr(slots, "STATUS_EVERY_SECONDS", 0.0)
    in_status, succeeded = _succeeded_in_status_as_each_trial_ended(local_store)
    assert succeeded == list(range(1, TRIALS + 1))
    assert in_status == succeeded


def test_the_status_waits_for_its_interval_but_is_written_at_the_end(local_store, monkeypatch: pytest.MonkeyPatch):
    """An interval never reached: the status is not rewritten between trials (each end finds
    the status written before the run, which counts no trial), but it is when the experiment ends."""
    monkeypatch.setattr(slots, "STATUS_EVERY_SECONDS", math.inf)
    in_status, succeeded = _succeeded_in_status_as_each_trial_ended(local_store)
    assert succeeded == list(range(1, TRIALS + 1))
    assert in_status[-1] == TRIALS
    assert all(count in (None, 0) for count in in_status[:-1]), in_status  # the run's first status: none yet (Katib leaves a 0 count out)


def test_the_status_is_rewritten_once_its_interval_has_passed_since_the_last_write(local_store, monkeypatch: pytest.MonkeyPatch):
    """Trials of 0.5 s each by the slots' clock, an interval of 1 s: written at the first end
    (nothing written by this run yet), then when a whole second has passed since that write (at
    the third end, 1.0 s later: not only once more than a second has), and at the experiment's end."""
    clock = TrialClock(step=0.5)
    monkeypatch.setattr(slots, "time", clock)
    monkeypatch.setattr(slots, "STATUS_EVERY_SECONDS", 1.0)
    in_status, succeeded = _succeeded_in_status_as_each_trial_ended(local_store, Timed(clock))
    assert succeeded == [1, 2, 3, 4]
    assert in_status == [1, 1, 3, 4]  # the second end is 0.5 s after the first write; the fourth ends the experiment


HANG_BOUND_SECONDS = 30.0
"""How long a trial waits for the experiment to end before the test calls it a hang."""


def _ended_before_the_second_trial(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Set once a slot has found the experiment ended (``_Schedule.final`` kept) and stopped: the
    trial that waits for it ends after the outcome, whatever the threads' speed."""
    ended = threading.Event()
    original = slots._Schedule.next_trial

    def next_trial(self: slots._Schedule) -> str | None:
        name = original(self)
        if name is None and self.final is not None:
            ended.set()
        return name

    monkeypatch.setattr(slots._Schedule, "next_trial", next_trial)
    return ended


class FailsThenSucceedsLate:
    """The first trial to start fails at once; the other succeeds once the experiment has
    ended (maxFailedTrialCount 1), as kfp-tune QA's repro: one trial fails, the other is still running."""

    def __init__(self, ended: threading.Event):
        self.ended, self.lock, self.started = ended, threading.Lock(), 0

    def first(self) -> bool:
        with self.lock:
            self.started += 1
            return self.started == 1

    def wait_for_the_end(self) -> None:
        assert self.ended.wait(HANG_BOUND_SECONDS), "the experiment did not end while a trial ran"


def _assert_status_counts_the_late_trial(status: dict[str, Any]) -> None:
    """The outcome stays the first final one; counts, lists and the best trial follow the late trial."""
    assert (status["phase"], status["reason"]) == ("Failed", "ExperimentFailed")
    assert status["trialsSucceeded"] == len(status["succeededTrialList"]) == 1
    assert status["trialsFailed"] == len(status["failedTrialList"]) == 1
    assert status["trialsRunning"] == 0 and status["runningTrialList"] == []
    assert status["currentOptimalTrial"]["bestTrialName"] == status["succeededTrialList"][0]


def test_a_trial_ending_after_the_experiment_ended_is_counted_in_the_status(local_store, monkeypatch: pytest.MonkeyPatch):
    """2 slots, maxFailedTrialCount 1: one trial fails at once (the experiment is Failed), the
    other succeeds afterwards. status.json kept the counts and best trial of the moment the
    experiment ended (trialsSucceeded 0, trialsRunning 1, no best trial) beside a
    succeededTrialList naming the trial; Katib's updateTrialsSummary runs on every reconcile."""
    trials = FailsThenSucceedsLate(_ended_before_the_second_trial(monkeypatch))

    class Launches(Launcher):
        def run(self, trial: TrialRun) -> LaunchOutcome:
            if trials.first():
                return LaunchOutcome(LaunchPhase.FAILED, exit_code=1, logs={"main": "boom\n"})
            trials.wait_for_the_end()
            return LaunchOutcome(LaunchPhase.SUCCEEDED, exit_code=0, logs={"main": "loss=0.25\naccuracy=0.5\n"})

    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 4, "spec.parallelTrialCount": 2, "spec.maxFailedTrialCount": 1}))
    decision = run_inline(local_store, experiment, Launches())
    records = ExperimentRecords(local_store, experiment.name)
    status = records.read(records.status_key(), RecordKind.EXPERIMENT_STATUS)["status"]
    _assert_status_counts_the_late_trial(status)
    assert decision.counts[TrialStatus.SUCCEEDED.value] == 1 and decision.counts[TrialStatus.RUNNING.value] == 0


def test_tune_s_result_and_status_agree_on_a_trial_ending_after_the_experiment_ended(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The same through tune(), which runs inline: its result and the stored status agree."""
    trials = FailsThenSucceedsLate(_ended_before_the_second_trial(monkeypatch))

    def objective(p: dict[str, Any]) -> float:
        if trials.first():
            raise ValueError("boom")
        trials.wait_for_the_end()
        return 0.25

    result = tune(objective, {"x": search.double(0, 1)}, max_trial_count=4, parallel_trial_count=2, max_failed_trial_count=1,
                  algorithm_settings={"random_state": 1}, store=str(tmp_path), name="late")
    records = ExperimentRecords(LocalStore(tmp_path), "late")
    status = records.read(records.status_key(), RecordKind.EXPERIMENT_STATUS)["status"]
    _assert_status_counts_the_late_trial(status)
    assert (result.status, result.reason) == (status["phase"], status["reason"])
    assert [t.name for t in result.trials if t.status == "Succeeded"] == status["succeededTrialList"]
    assert result.best_trial is not None and result.best_trial.name == status["currentOptimalTrial"]["bestTrialName"]
