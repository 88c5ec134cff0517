"""A run whose trials are all made ends once they have ended: a slot that leaves because there is
nothing left to run (the budget used, the experiment finished, the search space spent) is never
replaced. QA "scale" (session 32, finding 1): since each pass of a slot's loop tops the slots back
up to parallelTrialCount (to follow a raised count), the slots that left at the end were started
again, each listing the whole experiment, for good (threads past ``slot-1147`` with 16 asked for):
``kfp-tune run`` and ``tune()`` never returned at 8-16 slots. A store whose listing is slow (as a
large experiment's, or S3's) made the top-up win every time.

What is bounded here is counted, not timed: the slots' threads started in all (at most
parallelTrialCount, with no edit) and the store's listings after the last trial. A regression
that starts more slots than that ends its run with an error at once (the counting wrapper fails
the run), so no test waits on an endless loop; the joins are bounded all the same."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune import search, tune
from kfp_tune.client import Client
from kfp_tune.core.interfaces import LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.inline_runner import run_inline
from kfp_tune.steps import slots
from kfp_tune.stores import LocalStore
from slot_launchers import HANG_BOUND_SECONDS, Instant

PARALLEL = 16
TRIALS = 40
LISTING_SECONDS = 0.02
"""How long each listing of the slow store takes: a listing of a large experiment, or of S3."""


class SlowListing(LocalStore):
    """A folder store whose ``list`` takes a while; counts its listings."""

    def __init__(self, root: Path):
        super().__init__(root)
        self.listings = 0

    def list(self, prefix: str) -> list[str]:
        self.listings += 1
        time.sleep(LISTING_SECONDS)
        return super().list(prefix)


class SlotCount:
    """The slots' threads started in a run (their names). Past ``bound`` the run is failed at
    once, so that a run that would start slots for good ends, with this error, instead."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, bound: int):
        self.names: list[str] = []
        self.lock = threading.Lock()
        real = slots._SlotWork.slot

        def counted(work: Any) -> None:
            with self.lock:
                self.names.append(threading.current_thread().name)
                started = len(self.names)
            if started > bound:
                work.schedule.failed(AssertionError(f"slot thread {started} started, {bound} at most: slots were started again after they left"))
            real(work)

        monkeypatch.setattr(slots._SlotWork, "slot", counted)


class CountedInstant(Instant):
    """Each trial succeeds at once; the store's listings are noted as the last one ends."""

    def __init__(self, store: SlowListing, trials: int):
        super().__init__()
        self.store, self.trials = store, trials
        self.lock = threading.Lock()
        self.listings_at_last: int | None = None

    def run(self, trial: TrialRun) -> LaunchOutcome:
        outcome = super().run(trial)
        with self.lock:
            if len(self.runs) == self.trials:
                self.listings_at_last = self.store.listings
        return outcome


def _in_thread(target: Any, *args: Any, **kwargs: Any) -> tuple[threading.Thread, list[Any]]:
    """``target`` run in a daemon thread; the list gets what it returned or raised."""
    outcome: list[Any] = []

    def drive() -> None:
        try:
            outcome.append(target(*args, **kwargs))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=drive, daemon=True)
    thread.start()
    return thread, outcome


def test_a_run_at_16_slots_ends_after_its_last_trial_and_starts_no_slot_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SlowListing(tmp_path / "store")
    launcher = CountedInstant(store, TRIALS)
    count = SlotCount(monkeypatch, PARALLEL)
    experiment = load_experiment(quadratic_experiment(**{"spec.parallelTrialCount": PARALLEL, "spec.maxTrialCount": TRIALS}))
    run, outcome = _in_thread(run_inline, store, experiment, launcher)
    run.join(HANG_BOUND_SECONDS)
    assert not run.is_alive(), f"the run did not end after its last trial: {len(count.names)} slot threads started"
    assert not isinstance(outcome[0], BaseException), outcome[0]
    assert (outcome[0].reason, len(launcher.runs)) == ("ExperimentMaxTrialsReached", TRIALS)
    assert len(count.names) == PARALLEL, count.names
    assert launcher.listings_at_last is not None
    after = store.listings - launcher.listings_at_last
    assert after <= PARALLEL, f"{after} listings of the whole experiment after its last trial"


def test_tune_at_16_slots_returns_after_its_last_call_and_starts_no_slot_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SlowListing(tmp_path / "store")
    count = SlotCount(monkeypatch, PARALLEL)
    calls: list[float] = []
    calls_lock = threading.Lock()

    def objective(params: dict[str, float]) -> float:
        with calls_lock:
            calls.append(params["x"])
        return params["x"] ** 2

    run, outcome = _in_thread(tune, objective, parameters={"x": search.double(-1, 1)}, objective_metric_name="loss", objective_type="minimize",
                              algorithm="random", algorithm_settings={"random_state": "7"}, max_trial_count=TRIALS,
                              parallel_trial_count=PARALLEL, store=store, name="end16")
    run.join(HANG_BOUND_SECONDS)
    assert not run.is_alive(), f"tune() did not return after its last call: {len(count.names)} slot threads started"
    assert not isinstance(outcome[0], BaseException), outcome[0]
    assert (outcome[0].status, len(outcome[0].trials), len(calls)) == ("Succeeded", TRIALS, TRIALS)
    assert len(count.names) == PARALLEL, count.names


def test_a_slot_that_left_at_the_budget_is_started_again_when_the_budget_is_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not replacing a slot that found nothing to run holds for the budget it found used: a
    maxTrialCount raised while the last trials run makes more to run, and the run follows the
    edit at parallelTrialCount again, as Katib's controller creates trials up to it on the next
    reconcile. Here 3 slots, 4 trials: after the 4th is made the next free slot leaves; the edit
    to 8 then runs 3 at a time again."""
    from test_inline_parallel_edit import Held

    store, launcher = LocalStore(tmp_path / "store"), Held()
    experiment = load_experiment(quadratic_experiment(**{"spec.parallelTrialCount": 3, "spec.maxTrialCount": 4}))
    run, outcome = _in_thread(run_inline, store, experiment, launcher)
    first = launcher.wait_active(3)
    launcher.end(first[:1])  # its slot takes the 4th trial
    launcher.wait_active(3)
    launcher.end(first[1:2])  # its slot finds the budget used, and leaves
    launcher.wait_slots_alive(2)
    Client(store).edit_experiment_budget("quad", max_trial_count=8)
    launcher.end(first[2:])  # the edit is read with this result: 3 at once from here
    launcher.count_from_now()
    launcher.wait_active(3)
    while len(launcher.started) < 8 or launcher.active:
        launcher.end(launcher.wait_active(1))
    run.join(HANG_BOUND_SECONDS)
    assert not run.is_alive() and not isinstance(outcome[0], BaseException), outcome
    assert len(launcher.started) == 8 and launcher.peak == 3
