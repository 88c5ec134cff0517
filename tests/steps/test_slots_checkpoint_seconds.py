"""A checkpoint's time limit (``checkpoint_seconds``, :class:`~kfp_tune.steps.slots.Checkpoint`):
the slots hand back once it is due even while every slot is busy, and a launcher that hands its
trials over (the Kubernetes one) leaves them running for the next checkpoint instead of waiting
for the slowest one. No test looked at the seconds before: a run whose timer never started
waited for its trials, and nothing noticed."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialHandedOver, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import ExperimentView
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.steps.slots import Checkpoint, SlotsResult, run_slots
from kfp_tune.stores import LocalStore

SLOTS = 2
SAFETY_RELEASE_SECONDS = 30.0
"""When the test lets its trials end if the run has not handed back by then (a regression): the
run then returns with trials ended, and the test fails instead of hanging."""


class HeldTrials(Launcher):
    """Hands trials over, as the Kubernetes launcher does: each trial runs until the run hands
    it over (``trial.handover``) or the test releases it; only a released trial ends."""

    hands_over = True

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started: list[str] = []
        self.ended: list[str] = []
        self.handed_over: list[str] = []
        self.lock = threading.Lock()

    def run(self, trial: TrialRun) -> LaunchOutcome:
        with self.lock:
            self.started.append(trial.trial)
        while not self.release.wait(0.01):
            if trial.handover is not None and trial.handover.is_set():
                with self.lock:
                    self.handed_over.append(trial.trial)
                raise TrialHandedOver(trial.trial)
        with self.lock:
            self.ended.append(trial.trial)
        return LaunchOutcome(LaunchPhase.SUCCEEDED, exit_code=0, logs={"main": "loss=0.5\naccuracy=0.5\n"})


def _run_to_checkpoint(folder: Path, seconds: float) -> tuple[HeldTrials, SlotsResult, list[str], ExperimentRecords]:
    """A fresh experiment run to a checkpoint of ``seconds`` with 2 slots and held trials;
    returns the launcher, the result, the trials that had ended when run_slots returned, and
    the records."""
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 6, "spec.parallelTrialCount": SLOTS}))
    records = ExperimentRecords(LocalStore(folder), experiment.name)
    steps.prepare(records, experiment, "run-1")
    launcher = HeldTrials()
    safety = threading.Timer(SAFETY_RELEASE_SECONDS, launcher.release.set)
    safety.daemon = True
    safety.start()
    try:
        result = run_slots(ExperimentView(records), launcher, "run-1", checkpoint=Checkpoint(seconds=seconds), adopt=True)
        return launcher, result, list(launcher.ended), records
    finally:
        safety.cancel()
        launcher.release.set()


def test_a_checkpoint_s_seconds_hand_back_while_every_slot_is_busy(tmp_path):
    """2 slots, trials that never end by themselves, a checkpoint of 0.3 s: run_slots returns
    at the checkpoint while no trial has ended (they end only when the test releases them),
    says the checkpoint was due, and both running trials are handed over, still running in the
    records for the next checkpoint to re-attach to. It is the checkpoint's timer that hands
    back while both slots are busy (no slot asks for a trial then), so the test counts only a
    try in which both slots got a trial: on a loaded machine, where the checkpoint came first,
    it tries again with twice the seconds."""
    seconds = 0.3
    for attempt in range(8):
        launcher, result, ended_at_return, records = _run_to_checkpoint(tmp_path / f"try-{attempt}", seconds)
        assert ended_at_return == [], "the run waited for its trials to end instead of handing back at the checkpoint"
        assert result.checkpoint_due and result.decision.phase == "Running"
        assert sorted(launcher.handed_over) == sorted(launcher.started)
        assert result.trials_ended == 0, "a trial handed over, still running, was counted as ended (the step's log said so)"
        state = ExperimentView(records).state
        assert sorted(t.name for t in state.trials) == sorted(launcher.started)
        assert all(t.started is not None and t.ended is None and not t.is_terminal for t in state.trials), [(t.name, t.status) for t in state.trials]
        if len(launcher.started) == SLOTS:
            return
        seconds *= 2
    pytest.fail(f"the checkpoint came before both slots had a trial in every try, the last of {seconds / 2:g} s")


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
