"""The continuous slots' (``steps.slots``) guards that no test reached: a mutation pass removed
each and every test still passed. No trial starts after a slot failed; a second stop signal
stops waiting at once, and says so; a launcher that cannot stop its trials (Kubernetes) leaves
the signal handlers alone; an algorithm that waits for running trials when none is running is
an error, not a hang; a failure wakes a slot waiting on the algorithm; a round already stored
with a finished or running trial is refused. Nothing here depends on how fast a machine is:
the trials wait on events, a bound on a wait only turns a regression's hang into a failure."""

from __future__ import annotations

import signal
import threading
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import ExperimentView
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.steps import slots
from kfp_tune.steps.slots import Checkpoint, _Schedule, run_slots, stop_notice
from kfp_tune.steps.suggest import new_trials
from kfp_tune.stores import LocalStore

HANG_BOUND_SECONDS = 30.0
"""How long a wait that the code under test must end is allowed before the test calls it a hang."""
SUCCEEDED = LaunchOutcome(LaunchPhase.SUCCEEDED, exit_code=0, logs={"main": "loss=0.5\naccuracy=0.5\n"})


def _view(tmp_path: Any, trials: int, parallel: int) -> ExperimentView:
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": trials, "spec.parallelTrialCount": parallel}))
    records = ExperimentRecords(LocalStore(tmp_path), experiment.name)
    steps.prepare(records, experiment, "run-1")
    return ExperimentView(records)


class Instant(Launcher):
    """Every trial succeeds at once; what it saw of SIGINT's handler while it ran is kept."""

    def __init__(self) -> None:
        self.runs: list[str] = []
        self.sigint_handlers: list[object] = []

    def run(self, trial: TrialRun) -> LaunchOutcome:
        self.runs.append(trial.trial)
        self.sigint_handlers.append(signal.getsignal(signal.SIGINT))
        return SUCCEEDED


def _waiting_after(calls: int) -> Any:
    """A stand-in for the slots' ``new_trials``: the real one for the first ``calls`` calls, then
    an algorithm that waits for running trials (no trial, not exhausted), as hyperband between
    rungs."""
    made = [0]

    def fake(view: ExperimentView, round_id: str, n: int, adopted: list[str] | None = None) -> dict[str, Any]:
        made[0] += 1
        if made[0] <= calls:
            return new_trials(view, round_id, n, adopted)
        return {"round": round_id, "trials": [], "exhausted": False}

    return fake


def test_no_trial_starts_after_another_slot_failed(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """2 slots, 6 trials' budget: the first trial's launch raises while the second runs; the
    second ends only once the run has recorded the failure. Its slot then starts nothing: two
    trials in all, and the run re-raises the error."""
    view = _view(tmp_path, trials=6, parallel=2)
    failure_recorded = threading.Event()
    original_failed = _Schedule.failed

    def failed(self: _Schedule, exc: BaseException) -> None:
        original_failed(self, exc)
        failure_recorded.set()

    monkeypatch.setattr(_Schedule, "failed", failed)

    class FirstRaises(Launcher):
        def __init__(self) -> None:
            self.runs: list[str] = []
            self.lock = threading.Lock()
            self.second_started = threading.Event()
            self.waits_cut_short: list[str] = []

        def run(self, trial: TrialRun) -> LaunchOutcome:
            with self.lock:
                self.runs.append(trial.trial)
                started = len(self.runs)
                if started == 2:
                    self.second_started.set()
            if started == 1:
                if not self.second_started.wait(HANG_BOUND_SECONDS):
                    self.waits_cut_short.append("second trial's start")
                raise RuntimeError("the API server said 500")
            if started == 2 and not failure_recorded.wait(HANG_BOUND_SECONDS):
                self.waits_cut_short.append("the failure")
            return SUCCEEDED

    launcher = FirstRaises()
    with pytest.raises(RuntimeError, match="the API server said 500"):
        run_slots(view, launcher, "run-1", adopt=True)
    assert launcher.waits_cut_short == []
    assert len(launcher.runs) == 2, launcher.runs
    assert len(ExperimentView(view.records).state.trials) == 2


class Interruptible(Launcher):
    can_interrupt = True

    def __init__(self) -> None:
        self.forced: list[bool] = []

    def run(self, trial: TrialRun) -> LaunchOutcome:
        raise AssertionError("no trial runs here")

    def interrupt(self, force: bool = False) -> None:
        self.forced.append(force)


def test_a_second_signal_stops_waiting_for_the_trials_at_once(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A slot still alive, SIGINT twice, the wait after the first an hour: waiting for the slots
    returns at once, the launcher told to stop the second time without grace."""
    monkeypatch.setattr(slots, "INTERRUPT_WAIT_SECONDS", 3600.0)
    launcher = Interruptible()
    schedule = _Schedule(_view(tmp_path, trials=6, parallel=2), "run-1", Checkpoint(), adopt=False, hands_over=False)
    schedule.slots_alive = 1
    schedule.interrupt("SIGINT", launcher)
    assert schedule.wait_until - slots.time.monotonic() > 600.0  # the first signal waits
    schedule.interrupt("SIGINT", launcher)
    assert launcher.forced == [False, True]
    assert schedule.wait_until <= slots.time.monotonic()
    waiter = threading.Thread(target=schedule.wait_for_slots, daemon=True)
    waiter.start()
    waiter.join(HANG_BOUND_SECONDS)
    assert not waiter.is_alive(), "the second signal did not stop the wait for the trials"


def test_the_second_signal_s_notice_says_it_stops_at_once() -> None:
    assert stop_notice("SIGINT", first=False) == "SIGINT: stopping at once"
    assert "send it again" in stop_notice("SIGTERM", first=True)


def test_a_launcher_that_cannot_stop_its_trials_leaves_the_signal_handlers_alone(tmp_path: Any, usual_sigint: None) -> None:
    """A launcher without ``can_interrupt`` (Kubernetes: its trials run on, the next run
    re-attaches): Ctrl-C stays Python's KeyboardInterrupt while the trials run."""
    assert threading.current_thread() is threading.main_thread()  # elsewhere nothing is installed anyway
    launcher = Instant()
    run_slots(_view(tmp_path, trials=2, parallel=1), launcher, "run-1", adopt=True)
    assert len(launcher.sigint_handlers) == 2
    assert all(h is signal.default_int_handler for h in launcher.sigint_handlers), launcher.sigint_handlers


@pytest.mark.timeout(120)
def test_an_algorithm_waiting_for_trials_when_none_runs_is_an_error(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """One slot: after the first trial ended the algorithm makes no trial and is not exhausted
    (it waits for running trials), and none is running: the run raises instead of waiting for
    ever (the ended trial must no longer count as running)."""
    monkeypatch.setattr(slots, "new_trials", _waiting_after(1))
    launcher = Instant()
    with pytest.raises(KfpTuneError, match="waiting for running trials, and none is running"):
        run_slots(_view(tmp_path, trials=6, parallel=1), launcher, "run-1", adopt=True)
    assert len(launcher.runs) == 1


def test_a_failure_wakes_a_slot_waiting_on_the_algorithm(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A slot waits for the algorithm (which waits for a running trial); another slot fails: the
    waiting slot takes no trial and is done. (In run_slots the failing slot's end wakes it too;
    the failure must on its own, whatever else notifies.)"""
    asked = threading.Event()

    def waiting(view: ExperimentView, round_id: str, n: int, adopted: list[str] | None = None) -> dict[str, Any]:
        asked.set()
        return {"round": round_id, "trials": [], "exhausted": False}

    monkeypatch.setattr(slots, "new_trials", waiting)
    schedule = _Schedule(_view(tmp_path, trials=6, parallel=2), "run-1", Checkpoint(), adopt=False, hands_over=False)
    schedule.running.add("a-trial-that-runs-on")
    got: list[str | None] = []
    waiter = threading.Thread(target=lambda: got.append(schedule.next_trial()), daemon=True)
    waiter.start()
    assert asked.wait(HANG_BOUND_SECONDS)
    schedule.failed(RuntimeError("another slot failed"))  # takes the lock once the waiter waits
    waiter.join(HANG_BOUND_SECONDS)
    alive = waiter.is_alive()
    schedule.slot_ended()  # wakes a waiter left behind by a regression, so it ends
    assert not alive, "the slot waiting on the algorithm was not woken by the failure"
    assert got == [None]


@pytest.mark.timeout(120)
def test_a_round_already_used_with_a_finished_trial_is_refused(tmp_path: Any) -> None:
    """The round this run would record next (``run-1-t000001``) is already stored, holding a
    trial the run has adopted and finished: the run stops with an error naming the round
    instead of running that trial again."""
    view = _view(tmp_path, trials=6, parallel=1)
    [taken] = new_trials(view, "run-1-t000001", 1)["trials"]
    launcher = Instant()
    with pytest.raises(KfpTuneError, match=r"round 'run-1-t000001' was already used by another run: trial '[^']+'"):
        run_slots(view, launcher, "run-1", adopt=True)
    assert launcher.runs == [taken["name"]]
