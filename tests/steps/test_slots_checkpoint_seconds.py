"""A checkpoint's time limit (``checkpoint_seconds``, :class:`~kfp_tune.steps.slots.Checkpoint`):
the slots hand back once it is due even while every slot is busy, and a launcher that hands its
trials over (the Kubernetes one) leaves them running for the next checkpoint instead of waiting
for the slowest one. No test looked at the seconds before: a run whose timer never started
waited for its trials, and nothing noticed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialHandedOver, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import ExperimentView
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.steps.slots import Checkpoint, run_slots
from kfp_tune.stores import LocalStore

SLOTS = 2
SAFETY_RELEASE_SECONDS = 30.0
"""When the test lets its trials end if the run has not handed back by then (a regression): the
run then returns with trials ended, and the test fails instead of hanging."""
REAL_TIMER = threading.Timer
"""The test's own safety timer, kept from the stand-in the checkpoint gets (:class:`TimerWhenBusy`)."""


class HeldTrials(Launcher):
    """Hands trials over, as the Kubernetes launcher does: each trial runs until the run hands
    it over (``trial.handover``) or the test releases it; only a released trial ends."""

    hands_over = True

    def __init__(self) -> None:
        self.release = threading.Event()
        self.every_slot_busy = threading.Event()
        self.started: list[str] = []
        self.ended: list[str] = []
        self.handed_over: list[str] = []
        self.lock = threading.Lock()

    def run(self, trial: TrialRun) -> LaunchOutcome:
        with self.lock:
            self.started.append(trial.trial)
            if len(self.started) == SLOTS:
                self.every_slot_busy.set()
        while not self.release.wait(0.01):
            if trial.handover is not None and trial.handover.is_set():
                with self.lock:
                    self.handed_over.append(trial.trial)
                raise TrialHandedOver(trial.trial)
        with self.lock:
            self.ended.append(trial.trial)
        return LaunchOutcome(LaunchPhase.SUCCEEDED, exit_code=0, logs={"main": "loss=0.5\naccuracy=0.5\n"})


def timer_when_busy(launcher: HeldTrials) -> type:
    """A stand-in for the checkpoint's ``threading.Timer``: it fires once every slot holds a
    trial, whatever its seconds, so the test needs no clock (the case the timer exists for: no
    slot asks for a trial then, so only the timer can hand back)."""

    class TimerWhenBusy:
        def __init__(self, seconds: float, function: Callable[[], None]) -> None:
            self.function, self.cancelled, self.daemon = function, threading.Event(), True

        def start(self) -> None:
            threading.Thread(target=self._fire, daemon=True).start()

        def _fire(self) -> None:
            while not self.cancelled.is_set():
                if launcher.every_slot_busy.wait(0.01):
                    self.function()
                    return

        def cancel(self) -> None:
            self.cancelled.set()

    return TimerWhenBusy


def test_a_checkpoint_s_seconds_hand_back_while_every_slot_is_busy(tmp_path, monkeypatch):
    """2 slots, trials that never end by themselves, a checkpoint whose time is up once both
    slots hold a trial (its timer stood in for, its seconds an hour so no slot sees it due):
    run_slots returns while no trial has ended (they end only when the test releases them),
    says the checkpoint was due, and both running trials are handed over, still running in the
    records for the next checkpoint to re-attach to."""
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 6, "spec.parallelTrialCount": SLOTS}))
    records = ExperimentRecords(LocalStore(tmp_path), experiment.name)
    steps.prepare(records, experiment, "run-1")
    launcher = HeldTrials()
    monkeypatch.setattr(threading, "Timer", timer_when_busy(launcher))
    safety = REAL_TIMER(SAFETY_RELEASE_SECONDS, launcher.release.set)
    safety.daemon = True
    safety.start()
    try:
        result = run_slots(ExperimentView(records), launcher, "run-1", checkpoint=Checkpoint(seconds=3600.0), adopt=True)
        ended_at_return = list(launcher.ended)
    finally:
        safety.cancel()
        launcher.release.set()
    assert ended_at_return == [], "the run waited for its trials to end instead of handing back at the checkpoint"
    assert result.checkpoint_due and result.decision.phase == "Running"
    assert len(launcher.started) == SLOTS and sorted(launcher.handed_over) == sorted(launcher.started)
    assert result.trials_ended == 0, "a trial handed over, still running, was counted as ended (the step's log said so)"
    state = ExperimentView(records).state
    assert sorted(t.name for t in state.trials) == sorted(launcher.started)
    assert all(t.started is not None and t.ended is None and not t.is_terminal for t in state.trials), [(t.name, t.status) for t in state.trials]


def test_a_checkpoint_is_due_after_its_trials_or_its_seconds_whichever_first():
    """``Checkpoint.due`` on its own, with start times far from now (no timing race): the
    seconds count from the run's start, the trials from those ended in it, no limit never."""
    now = time.monotonic()
    long_ago, just_now = now - 7200.0, now
    assert Checkpoint(seconds=3600.0).due(0, long_ago)
    assert not Checkpoint(seconds=3600.0).due(0, just_now)
    assert Checkpoint(trials=3, seconds=3600.0).due(3, just_now)
    assert not Checkpoint(trials=3, seconds=3600.0).due(2, just_now)
    assert Checkpoint(trials=3, seconds=3600.0).due(2, long_ago)
    assert not Checkpoint().due(10**6, long_ago)
