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

from conftest import quadratic_experiment
from kfp_tune.client import Client
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.inline_runner import run_inline
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
