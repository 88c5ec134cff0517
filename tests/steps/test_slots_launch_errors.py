"""A launcher whose ``run`` raises (a defect, an API server's error): the slots close that trial
Failed (``LaunchError``, the error as its message) and stop the run with the error, never leaving
the trial Running (``run_slots``). A run that was taken over (ExperimentBusy) is the exception:
its trials are the new run's to finish, so none is closed. No test told the two apart before."""

from __future__ import annotations

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.errors import ExperimentBusy
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import ExperimentState, ExperimentView
from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.steps.slots import run_slots


class Raising(Launcher):
    """Its ``run`` raises ``error`` for every trial, as one whose API server answered 500 would."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.runs: list[str] = []

    def run(self, trial: TrialRun) -> LaunchOutcome:
        self.runs.append(trial.trial)
        raise self.error


def _run(local_store, error: Exception) -> tuple[Raising, ExperimentState]:
    """One slot, two trials' budget: run until the launcher's error stops the run (it must)."""
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1}))
    records = ExperimentRecords(local_store, experiment.name)
    steps.prepare(records, experiment, "run-1")
    launcher = Raising(error)
    with pytest.raises(type(error), match=str(error)):
        run_slots(ExperimentView(records), launcher, "run-1", adopt=True)
    return launcher, ExperimentView(records).state


def test_a_launch_that_raises_ends_its_trial_failed_and_stops_the_run(local_store):
    """RuntimeError from the launcher: the run re-raises it after its one trial; that trial
    ends Failed, reason LaunchError, its message naming the error; no other trial started."""
    launcher, state = _run(local_store, RuntimeError("the API server said 500"))
    [trial] = state.trials
    assert launcher.runs == [trial.name]
    assert trial.status == TrialStatus.FAILED and trial.is_terminal and trial.ended is not None
    assert trial.result is not None and trial.result.reason == "LaunchError"
    assert "RuntimeError: the API server said 500" in trial.result.message


def test_a_run_taken_over_leaves_its_trial_to_the_new_run(local_store):
    """ExperimentBusy (another run took the experiment over while this one launched): the run
    stops with it, and the trial is left as it was, started and not ended, for the run that
    took over to follow; it is not closed Failed."""
    launcher, state = _run(local_store, ExperimentBusy("experiment 'quad' was taken over by run 'run-2'"))
    [trial] = state.trials
    assert launcher.runs == [trial.name]
    assert trial.started is not None and trial.ended is None and not trial.is_terminal
    assert trial.result is None and trial.status != TrialStatus.FAILED
