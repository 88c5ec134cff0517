"""run_slots' promises no test held it to (mutation pass, session 31: slots-01, slots-03,
slots-17, slots-20, slots-23, slots-26): the slots a caller fixes stay fixed whatever the spec's
parallelTrialCount; a slot's thread never keeps the process alive after an interrupt; the
checkpoint's clock is stopped when the slots end; and an interrupted run ends as interrupted
even when a slot failed as it stopped."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.errors import RunInterrupted
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import ExperimentView
from kfp_tune.steps import slots
from kfp_tune.steps.slots import Checkpoint, run_slots
from kfp_tune.stores import LocalStore
from slot_launchers import HANG_BOUND_SECONDS, SUCCEEDED, Instant, kept_schedules


def _view(store: Any, **overrides: Any) -> ExperimentView:
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 4, "spec.parallelTrialCount": 3, **overrides}))
    records = ExperimentRecords(store, experiment.name)
    steps.prepare(records, experiment, "run-1")
    return ExperimentView(records)


class Counting(Launcher):
    """Each trial succeeds at once; counts the trials running at once, and the most there were."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.runs = 0

    def run(self, trial: TrialRun) -> LaunchOutcome:
        with self.lock:
            self.running += 1
            self.runs += 1
            self.peak = max(self.peak, self.running)
        with self.lock:
            self.running -= 1
        return SUCCEEDED


class SlotsSeen:
    """How many slots' threads the run started each time, and the most it counted alive at once."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.started: list[int] = []
        self.most_alive = 0
        plain = slots._SlotWork.start_slots

        def start_slots(work: slots._SlotWork, count: int) -> None:
            self.started.append(count)
            plain(work, count)
            with work.schedule.cond:
                self.most_alive = max(self.most_alive, work.schedule.slots_alive)

        monkeypatch.setattr(slots._SlotWork, "start_slots", start_slots)


@pytest.mark.parametrize("fixed", [1, 2])
def test_slots_fixed_by_the_caller_stay_fixed_whatever_parallel_trial_count_says(fixed, tmp_path, monkeypatch):
    seen = SlotsSeen(monkeypatch)
    launcher = Counting()
    result = run_slots(_view(LocalStore(tmp_path), **{"spec.parallelTrialCount": 3}), launcher, "run-1", slots=fixed)
    assert result.decision.finished and launcher.runs == 4
    assert seen.started[0] == fixed, "the run starts as many slots as the caller fixed, not the spec's 3"
    assert seen.most_alive == fixed and launcher.peak <= fixed


def test_slots_fixed_by_the_caller_do_not_follow_an_edit_of_parallel_trial_count(tmp_path, monkeypatch):
    """A pipeline's slots step fixes its slots for the step: an edit raising parallelTrialCount
    while it runs starts no more slots in it."""
    seen = SlotsSeen(monkeypatch)
    view = _view(LocalStore(tmp_path), **{"spec.parallelTrialCount": 1})

    class Raising(Counting):
        def run(self, trial: TrialRun) -> LaunchOutcome:
            view.state.experiment.spec.parallel_trial_count = 3  # as an edit the view follows
            return super().run(trial)

    launcher = Raising()
    run_slots(view, launcher, "run-1", slots=1)
    assert seen.started[0] == 1 and seen.most_alive == 1 and launcher.peak == 1 and launcher.runs == 4


class NeverEnding(Launcher):
    """Its first trial, once started, has the run interrupted twice (as Ctrl-C pressed twice: no
    waiting for the trials), then goes on until the test lets it go, as a Python function a
    thread cannot stop. Its interrupt stops nothing."""

    can_interrupt = True

    def __init__(self, schedules: list[slots._Schedule]) -> None:
        self.schedules = schedules
        self.release = threading.Event()

    def run(self, trial: TrialRun) -> LaunchOutcome:
        self.schedules[0].interrupt("SIGINT", self)
        self.schedules[0].interrupt("SIGINT", self)
        self.release.wait(HANG_BOUND_SECONDS)
        return SUCCEEDED

    def interrupt(self, force: bool = False) -> None:
        pass


def test_a_trial_that_cannot_be_stopped_does_not_keep_the_process_alive(tmp_path, monkeypatch):
    """After an interrupt the run ends without its unstoppable trial, whose slot's thread is a
    daemon: the interpreter exits without waiting for it."""
    schedules = kept_schedules(monkeypatch)
    launcher = NeverEnding(schedules)
    before = set(threading.enumerate())
    try:
        with pytest.raises(RunInterrupted):
            run_slots(_view(LocalStore(tmp_path), **{"spec.parallelTrialCount": 1}), launcher, "run-1")
        left = [t for t in threading.enumerate() if t not in before and t.name.startswith("slot-")]
        assert left, "the trial still runs in its slot's thread"
        assert all(t.daemon for t in left), [t.name for t in left if not t.daemon]
    finally:
        launcher.release.set()
        for thread in set(threading.enumerate()) - before:
            thread.join(HANG_BOUND_SECONDS)


class FailsAsItStops(Launcher):
    """Its trial, once the run is interrupted, fails with an error of the launcher's own."""

    can_interrupt = True

    def __init__(self, schedules: list[slots._Schedule]) -> None:
        self.schedules = schedules

    def run(self, trial: TrialRun) -> LaunchOutcome:
        self.schedules[0].interrupt("SIGTERM", self)
        raise RuntimeError("the launcher lost its connection as it stopped the trial")

    def interrupt(self, force: bool = False) -> None:
        pass


def test_an_interrupted_run_ends_interrupted_even_when_a_slot_failed_as_it_stopped(tmp_path, monkeypatch):
    """The run's exit (128 + the signal) and the trials it stopped come from the interrupt; a
    slot's error meanwhile does not replace it."""
    schedules = kept_schedules(monkeypatch)
    with pytest.raises(RunInterrupted) as raised:
        run_slots(_view(LocalStore(tmp_path), **{"spec.parallelTrialCount": 1}), FailsAsItStops(schedules), "run-1")
    assert raised.value.signal_name == "SIGTERM"


def test_the_checkpoint_s_clock_is_stopped_when_the_slots_end(tmp_path):
    """A run that ends long before its checkpoint in seconds (as tune() in a notebook) leaves no
    timer thread behind to call the finished run's schedule later."""
    before = set(threading.enumerate())
    result = run_slots(_view(LocalStore(tmp_path), **{"spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1}), Instant(), "run-1", checkpoint=Checkpoint(seconds=3600))
    assert result.decision.finished
    timers = [t for t in set(threading.enumerate()) - before if isinstance(t, threading.Timer)]
    for timer in timers:
        timer.join(HANG_BOUND_SECONDS)  # a cancelled timer's thread ends as soon as it wakes
    assert [t for t in timers if t.is_alive()] == []
