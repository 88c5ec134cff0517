"""A slot about to start its trial when the run is interrupted twice (Ctrl-C, Ctrl-C): the second
signal stops waiting for the slots at once, so the run records its end (trials Killed, status,
claim released) while that slot is still alive. It must start nothing afterwards: a trial
recorded ``Running`` after the run released its claim is left Running for ever (the process
exits, and the launcher refuses to run it anyway). The trial the run made for that slot is
given back, as the running ones are, not left ``Created``.

The slot is held at the one point between its claim check and its ``started`` record (its
trial's run being built), where it interrupts the run twice as a signal handler would and waits
until the run has ended; nothing depends on how fast a machine is (a bound on a wait only
turns a regression's hang into a failure)."""

from __future__ import annotations

import importlib
import threading
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core import claims
from kfp_tune.core.errors import RunInterrupted
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords, TrialStarted
from kfp_tune.core.state import TRIAL_INTERRUPTED, ExperimentView
from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.steps.slots import run_slots
from kfp_tune.stores import LocalStore
from slot_launchers import HANG_BOUND_SECONDS, kept_schedules

launch_trial_module = importlib.import_module("kfp_tune.steps.launch_trial")  # the package exports the function by that name


class RefusesOnceInterrupted(Launcher):
    """As the local launcher: once interrupted it runs no trial (RunInterrupted instead)."""

    can_interrupt = True

    def __init__(self) -> None:
        self.forced: list[bool] = []
        self.runs: list[str] = []

    def run(self, trial: TrialRun) -> LaunchOutcome:
        self.runs.append(trial.trial)
        raise RunInterrupted("SIGINT")

    def interrupt(self, force: bool = False) -> None:
        self.forced.append(force)


def test_a_slot_still_alive_after_a_second_signal_starts_no_trial_and_its_trial_is_given_back(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1}))
    records = ExperimentRecords(LocalStore(tmp_path), experiment.name)
    steps.prepare(records, experiment, "run-1")
    view = ExperimentView(records)
    launcher = RefusesOnceInterrupted()
    schedules = kept_schedules(monkeypatch)
    run_ended = threading.Event()
    held: list[threading.Thread] = []
    waits_cut_short: list[str] = []
    real_trial_run = launch_trial_module.trial_run

    def trial_run_after_the_run_ended(*args: Any, **kwargs: Any) -> Any:
        held.append(threading.current_thread())
        schedules[0].interrupt("SIGINT", launcher)
        schedules[0].interrupt("SIGINT", launcher)  # the second: the run stops waiting for this slot
        if not run_ended.wait(HANG_BOUND_SECONDS):
            waits_cut_short.append("the run's end")
        return real_trial_run(*args, **kwargs)

    monkeypatch.setattr(launch_trial_module, "trial_run", trial_run_after_the_run_ended)
    with pytest.raises(RunInterrupted):
        run_slots(view, launcher, "run-1", adopt=True)
    try:
        assert launcher.forced == [False, True]
        latest = claims.latest_claim(records)
        assert latest is not None and latest.ended  # the claim is released: the run is over
        [trial] = ExperimentView(records).state.trials
        assert trial.started is None
        assert trial.status == TrialStatus.KILLED and trial.result is not None and trial.result.reason == TRIAL_INTERRUPTED, trial.result
        assert trial.given_back and "not started" in trial.result.message
    finally:
        run_ended.set()
        for thread in held:
            thread.join(HANG_BOUND_SECONDS)
    assert waits_cut_short == [] and len(held) == 1 and not held[0].is_alive()
    [trial] = ExperimentView(records).state.trials
    assert trial.started is None, "the slot started its trial after the run had ended"
    assert records.store.get(records.trial_key(trial.name, TrialStarted.FILE)) is None
    assert launcher.runs == []
