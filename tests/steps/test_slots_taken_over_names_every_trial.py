"""A run taken over while it follows several trials (QA shared, finding 3): each slot's trial
ends, is recorded, and raised its own ExperimentBusy; the run's last line named only the first
("trial 'tko-ouku68yh', which this process followed, ended meanwhile"), as if it had followed one.
Now one line names every trial the process followed and how each ended.

The trials wait on events; a bound on a wait only turns a regression's hang into a failure."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.errors import ExperimentBusy
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import ExperimentView
from kfp_tune.core.vocabulary import LaunchPhase, TrialStatus
from kfp_tune.steps.slots import run_slots
from kfp_tune.stores import LocalStore
from slot_launchers import HANG_BOUND_SECONDS, SUCCEEDED


class TwoGated(Launcher):
    """Two trials run at once until the test opens their gate; the second one fails."""

    def __init__(self) -> None:
        self.runs: list[str] = []
        self.lock = threading.Lock()
        self.both_started = threading.Barrier(3)
        self.gate = threading.Event()

    def run(self, trial: TrialRun) -> LaunchOutcome:
        with self.lock:
            self.runs.append(trial.trial)
            number = len(self.runs)
        if number > 2:
            raise AssertionError("a run that was taken over started another trial")
        self.both_started.wait(HANG_BOUND_SECONDS)
        self.gate.wait(HANG_BOUND_SECONDS)
        return SUCCEEDED if number == 1 else LaunchOutcome(LaunchPhase.FAILED, exit_code=1, logs={"main": "boom\n"})


def test_a_run_taken_over_names_every_trial_it_followed(tmp_path: Any) -> None:
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 4, "spec.parallelTrialCount": 2}))
    records = ExperimentRecords(LocalStore(tmp_path), experiment.name)
    steps.prepare(records, experiment, "run-1")
    launcher = TwoGated()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = run_slots(ExperimentView(records), launcher, "run-1", adopt=True)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    launcher.both_started.wait(HANG_BOUND_SECONDS)
    steps.prepare(records, experiment, "run-2", take_over=True)
    launcher.gate.set()
    thread.join(HANG_BOUND_SECONDS)
    error = outcome.get("error")
    assert isinstance(error, ExperimentBusy), outcome
    first, second = launcher.runs
    state = ExperimentView(records).state
    assert (state.trial(first).status, state.trial(second).status) == (TrialStatus.SUCCEEDED, TrialStatus.FAILED)
    ended = "experiment 'quad' is now driven by run 'run-2', not by run 'run-1'"
    followed = sorted([f"{first!r} (Succeeded)", f"{second!r} (Failed)"])
    assert str(error) == (
        f"{ended}; trials {followed[0]} and {followed[1]}, which this process followed, ended meanwhile and are recorded so; this process stops"
    )


class FirstEndsFirst(Launcher):
    """Two trials at once: the first ends at once; the second only once a slot's error is
    recorded (``recorded``), so that the takeover meets the first slot between trials."""

    def __init__(self, recorded: threading.Event) -> None:
        self.runs: list[str] = []
        self.lock = threading.Lock()
        self.both_started = threading.Barrier(2)
        self.recorded = recorded

    def run(self, trial: TrialRun) -> LaunchOutcome:
        with self.lock:
            self.runs.append(trial.trial)
            number = len(self.runs)
        if number > 2:
            raise AssertionError("a run that was taken over started another trial")
        self.both_started.wait(HANG_BOUND_SECONDS)
        if number == 2:
            self.recorded.wait(HANG_BOUND_SECONDS)
        return SUCCEEDED


def test_a_slot_between_trials_refused_first_does_not_hide_the_trial_another_slot_followed(tmp_path: Any, monkeypatch: Any) -> None:
    """Review B's ordering: the takeover lands as the first trial ends, so that slot meets it as
    a plain refusal (asking for its next trial) and its error is recorded first; the trial the
    other slot still follows ends after. The last line still names that trial, in the process's
    words."""
    from kfp_tune.steps import slots

    recorded = threading.Event()
    plain_failed = slots._Schedule.failed

    def failed(schedule: Any, exc: BaseException) -> None:
        plain_failed(schedule, exc)
        recorded.set()

    monkeypatch.setattr(slots._Schedule, "failed", failed)
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 6, "spec.parallelTrialCount": 2}))
    records = ExperimentRecords(LocalStore(tmp_path), experiment.name)
    steps.prepare(records, experiment, "run-1")
    launcher = FirstEndsFirst(recorded)

    def on_trial_end(trial: Any, decision: Any) -> None:
        if trial.name == launcher.runs[0]:
            steps.prepare(records, experiment, "run-2", take_over=True)

    with pytest.raises(ExperimentBusy) as caught:
        run_slots(ExperimentView(records), launcher, "run-1", adopt=True, on_trial_end=on_trial_end)
    first, second = launcher.runs
    state = ExperimentView(records).state
    assert (state.trial(first).status, state.trial(second).status) == (TrialStatus.SUCCEEDED, TrialStatus.SUCCEEDED)
    assert str(caught.value) == (
        "experiment 'quad' is now driven by run 'run-2', not by run 'run-1'; "
        f"trial {second!r}, which this process followed, ended meanwhile and is recorded Succeeded; this process stops"
    )
