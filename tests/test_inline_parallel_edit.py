"""A run in one process (``kfp-tune run --engine inline``, ``tune()``) follows an edit of
parallelTrialCount while it runs, as Katib's controller reads the Experiment's count on every
reconcile (experiment_controller.go ``ReconcileTrials``): QA "katib" (session 31) found the run
kept its first count for good (lowered 3 -> 1, it still ran 3 at a time; raised 1 -> 3, one at a
time), though the edit said the run would follow it. A lowered count lets the running trials end
(Katib deletes the newest) and starts none until fewer run; a raised one starts more as the
next trial ends. Trials here block until the test lets them end, so what runs at once is counted,
never timed."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune.client import Client
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.inline_runner import run_inline
from kfp_tune.steps import slots
from kfp_tune.stores import LocalStore
from slot_launchers import HANG_BOUND_SECONDS, SUCCEEDED


class Held(Launcher):
    """Each trial runs until the test ends it; counts how many run at once."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.active: list[str] = []
        self.released: set[str] = set()
        self.started: list[str] = []
        self.slots: set[threading.Thread] = set()
        """The threads (slots) trials ran in."""
        self.peak = 0

    def run(self, trial: TrialRun) -> LaunchOutcome:
        with self.cond:
            self.active.append(trial.trial)
            self.started.append(trial.trial)
            self.slots.add(threading.current_thread())
            self.peak = max(self.peak, len(self.active))
            self.cond.notify_all()
            assert self.cond.wait_for(lambda: trial.trial in self.released, HANG_BOUND_SECONDS), f"{trial.trial} was never let end"
            self.active.remove(trial.trial)
            self.cond.notify_all()
        return SUCCEEDED

    def wait_active(self, count: int) -> list[str]:
        """The trials running once ``count`` of them run (AssertionError past the bound)."""
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.active) >= count, HANG_BOUND_SECONDS), f"never {count} at once: {self.active}"
            return list(self.active)

    def end(self, names: list[str]) -> None:
        """Let these trials end, and wait until their runs have returned."""
        with self.cond:
            self.released.update(names)
            self.cond.notify_all()
            assert self.cond.wait_for(lambda: not set(names) & set(self.active), HANG_BOUND_SECONDS), f"{names} never ended"

    def wait_slots_alive(self, count: int) -> None:
        """Until ``count`` of the slots that ran trials are alive (a slot that stops ends its thread)."""
        deadline = threading.Event()
        for _ in range(int(HANG_BOUND_SECONDS / 0.05)):
            if sum(slot.is_alive() for slot in self.slots) == count:
                return
            deadline.wait(0.05)
        raise AssertionError(f"never {count} slot(s) alive: {[s.name for s in self.slots if s.is_alive()]}")

    def count_from_now(self) -> None:
        """``peak`` from here on: the most trials running at once after now."""
        with self.cond:
            self.peak = len(self.active)


def _run_in_thread(store: LocalStore, launcher: Held, parallel: int, trials: int) -> threading.Thread:
    experiment = load_experiment(quadratic_experiment(**{"spec.parallelTrialCount": parallel, "spec.maxTrialCount": trials}))
    thread = threading.Thread(target=run_inline, args=(store, experiment, launcher), daemon=True)
    thread.start()
    return thread


def test_a_lowered_parallel_trial_count_lets_the_running_trials_end_and_then_runs_that_many(tmp_path: Path) -> None:
    store, launcher = LocalStore(tmp_path / "store"), Held()
    run = _run_in_thread(store, launcher, parallel=3, trials=7)
    first = launcher.wait_active(3)
    Client(store).edit_experiment_budget("quad", parallel_trial_count=1)
    launcher.end(first)
    launcher.wait_slots_alive(1)  # two of the three slots stop as their trials end; the third goes on
    launcher.count_from_now()
    for _ in range(4):  # one at a time from here: each is let end once it runs alone
        [running] = launcher.wait_active(1)
        launcher.end([running])
    run.join(HANG_BOUND_SECONDS)
    assert not run.is_alive() and len(launcher.started) == 7
    assert launcher.peak == 1, f"{launcher.peak} ran at once after parallelTrialCount was lowered to 1"


def test_a_raised_parallel_trial_count_runs_more_at_once_from_the_next_trial_end(tmp_path: Path) -> None:
    store, launcher = LocalStore(tmp_path / "store"), Held()
    run = _run_in_thread(store, launcher, parallel=1, trials=5)
    first = launcher.wait_active(1)
    Client(store).edit_experiment_budget("quad", parallel_trial_count=3)
    launcher.end(first)
    three = launcher.wait_active(3)  # one slot before: never three
    launcher.end(three)
    launcher.end(launcher.wait_active(1))
    run.join(HANG_BOUND_SECONDS)
    assert not run.is_alive() and len(launcher.started) == 5


def test_slots_waiting_for_a_rung_to_end_stop_too_when_the_count_was_lowered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Review C (session 31): a slot already waiting in the schedule for running trials to end
    (hyperband between rungs) took a trial as it woke, past a lowered count. Here the algorithm
    gives 3 trials, then none until all 3 have ended (as hyperband's first rung)."""
    real = slots.new_trials
    made = [0]
    waiting = threading.Condition()
    told_to_wait: list[str] = []

    def rung_by_rung(view: Any, round_id: str, n: int, *args: Any, **kwargs: Any) -> Any:
        if made[0] >= 3 and sum(t.is_terminal for t in view.state.trials) < 3:
            with waiting:
                told_to_wait.append(threading.current_thread().name)
                waiting.notify_all()
            return {"round": round_id, "trials": [], "exhausted": False}
        made[0] += 1
        return real(view, round_id, n, *args, **kwargs)

    monkeypatch.setattr(slots, "new_trials", rung_by_rung)
    store, launcher = LocalStore(tmp_path / "store"), Held()
    run = _run_in_thread(store, launcher, parallel=3, trials=6)
    first = launcher.wait_active(3)
    launcher.end(first[:2])
    with waiting:  # both slots told to wait for the rung's last trial before the count changes
        assert waiting.wait_for(lambda: len(set(told_to_wait)) == 2, HANG_BOUND_SECONDS), told_to_wait
    Client(store).edit_experiment_budget("quad", parallel_trial_count=1)
    launcher.end(first[2:])  # the rung ends: the count read with this result is 1
    launcher.wait_slots_alive(1)
    launcher.count_from_now()
    for _ in range(3):
        [running] = launcher.wait_active(1)
        launcher.end([running])
    run.join(HANG_BOUND_SECONDS)
    assert not run.is_alive() and len(launcher.started) == 6 and launcher.peak == 1


def test_a_slot_that_cannot_start_ends_the_run_with_the_error_not_a_wait(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Review C (session 31): slots counted alive before their threads started, so a start that
    failed (a process out of threads) left the run waiting for them for good, its claim held."""
    real_start = threading.Thread.start

    def start(thread: threading.Thread) -> None:
        if thread.name.startswith("slot-") and thread.name != "slot-0":
            raise RuntimeError("can't start new thread")
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    store, launcher = LocalStore(tmp_path / "store"), Held()
    errors: list[BaseException] = []
    experiment = load_experiment(quadratic_experiment(**{"spec.parallelTrialCount": 1, "spec.maxTrialCount": 5}))

    def drive() -> None:
        try:
            run_inline(store, experiment, launcher)
        except BaseException as exc:
            errors.append(exc)

    run = threading.Thread(target=drive, daemon=True)
    real_start(run)
    first = launcher.wait_active(1)
    Client(store).edit_experiment_budget("quad", parallel_trial_count=3)
    launcher.end(first)
    run.join(HANG_BOUND_SECONDS)
    assert not run.is_alive(), "the run waited for slots that never started"
    assert [str(e) for e in errors] == ["can't start new thread"]


def test_an_edit_past_the_local_bound_is_followed_up_to_it_with_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """Review C (session 31): an edit took an inline run past the bound of trials a process
    keeps at once (MAX_LOCAL_SLOTS, 256), which run and tune() refuse at the start: 282 at once.
    The bound is made 2 here, to run 2."""
    import kfp_tune.inline_runner

    monkeypatch.setattr(kfp_tune.inline_runner, "MAX_LOCAL_SLOTS", 2)
    store, launcher = LocalStore(tmp_path / "store"), Held()
    run = _run_in_thread(store, launcher, parallel=1, trials=5)
    first = launcher.wait_active(1)
    Client(store).edit_experiment_budget("quad", parallel_trial_count=4)
    with caplog.at_level("WARNING", logger="kfp_tune.steps.slots"):
        launcher.end(first)
        launcher.count_from_now()
        two = launcher.wait_active(2)
        launcher.wait_slots_alive(2)
        assert len(launcher.active) == 2
        launcher.end(two)
        launcher.end(launcher.wait_active(2))
    run.join(HANG_BOUND_SECONDS)
    assert not run.is_alive() and len(launcher.started) == 5 and launcher.peak == 2
    said = [r.getMessage() for r in caplog.records if "parallelTrialCount 4" in r.getMessage()]
    assert said == ["parallelTrialCount 4: this run keeps at most 2 trials at a time in this process (a thread or process each); it runs 2"]


def test_slots_the_caller_fixed_stay_fixed_whatever_an_edit_asks(tmp_path: Path) -> None:
    """A pipeline's slots step fixes its slots for the step (an edit applies from the next
    checkpoint, as the guide says), whatever the view reads of the stored spec meanwhile."""
    from kfp_tune import steps
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.inline_runner import BudgetFollowingView
    from kfp_tune.steps.slots import run_slots

    store, launcher = LocalStore(tmp_path / "store"), Held()
    experiment = load_experiment(quadratic_experiment(**{"spec.parallelTrialCount": 1, "spec.maxTrialCount": 3}))
    records = ExperimentRecords(store, experiment.name)
    steps.prepare(records, experiment, "run-1")
    run = threading.Thread(target=run_slots, args=(BudgetFollowingView(records), launcher, "run-1"), kwargs={"slots": 1}, daemon=True)
    run.start()
    first = launcher.wait_active(1)
    Client(store).edit_experiment_budget("quad", parallel_trial_count=3)
    launcher.end(first)
    launcher.count_from_now()
    for _ in range(2):
        [running] = launcher.wait_active(1)
        launcher.end([running])
    run.join(HANG_BOUND_SECONDS)
    assert not run.is_alive() and len(launcher.started) == 3 and launcher.peak == 1
