"""run_slots' paths that no test noticed a change in (found by altering each line of it in a
scratch copy): the trials an interrupt stopped handed to the run's end, what a store down at
that end left unrecorded, a checkpoint due when the experiment has finished anyway, and a
retrying store's outage watch given up when the slots end."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.errors import RunInterrupted, StoreError
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import ExperimentView
from kfp_tune.steps import slots
from kfp_tune.steps.slots import Checkpoint, run_slots
from kfp_tune.stores import LocalStore
from kfp_tune.stores.retry import RetryingStore
from slot_launchers import SUCCEEDED, Instant, kept_schedules


class ItsTrialInterrupted(Launcher):
    """As a trial whose own function raised KeyboardInterrupt: the run stops as on Ctrl-C."""

    can_interrupt = True

    def run(self, trial: TrialRun) -> LaunchOutcome:
        raise RunInterrupted("SIGTERM")

    def interrupt(self, force: bool = False) -> None:
        pass


def _view(store: Any, **overrides: Any) -> ExperimentView:
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1, **overrides}))
    records = ExperimentRecords(store, experiment.name)
    steps.prepare(records, experiment, "run-1")
    return ExperimentView(records)


@pytest.mark.parametrize("store_down", [False, True], ids=["recorded", "store-down"])
def test_an_interrupted_slots_run_ends_with_the_trials_it_stopped(tmp_path, monkeypatch, store_down):
    view = _view(LocalStore(tmp_path))
    ended: list[tuple[str, set[str]]] = []
    real_end = slots.interrupt_run

    def interrupt_run(view: ExperimentView, run_id: str, signal_name: str, killed: set[str]) -> int:
        ended.append((signal_name, set(killed)))
        if store_down:
            raise StoreError("S3 write failed: connection refused")
        return real_end(view, run_id, signal_name, killed)

    monkeypatch.setattr(slots, "interrupt_run", interrupt_run)
    with pytest.raises(RunInterrupted) as raised:
        run_slots(view, ItsTrialInterrupted(), "run-1")
    (trial,) = [t.name for t in view.state.trials]
    assert ended == [("SIGTERM", {trial})], "the stopped trial is the run's to give back"
    assert (raised.value.signal_name, raised.value.killed) == ("SIGTERM", 0 if store_down else 1)
    assert raised.value.unrecorded == ("the store could not record the interrupt (S3 write failed: connection refused)" if store_down else "")


class DueWhileItRuns(Launcher):
    """Its trial succeeds after the checkpoint has come due while it ran (as the checkpoint's
    clock would make it: ``time_up``); it is not handed over."""

    def __init__(self, schedules: list[slots._Schedule]) -> None:
        self.schedules = schedules

    def run(self, trial: TrialRun) -> LaunchOutcome:
        self.schedules[0].time_up()
        return SUCCEEDED


def test_a_checkpoint_due_as_the_experiment_finishes_leaves_nothing_to_the_next_step(tmp_path, monkeypatch):
    """The checkpoint came due while the last trial ran: the experiment finished with it, so
    the checkpoint leaves nothing to go on with; one trial short of the end, it does."""
    schedules = kept_schedules(monkeypatch)
    view = _view(LocalStore(tmp_path), **{"spec.maxTrialCount": 1, "spec.maxFailedTrialCount": 1})
    result = run_slots(view, DueWhileItRuns(schedules), "run-1", checkpoint=Checkpoint(seconds=3600))
    assert (result.decision.finished, result.checkpoint_due, result.trials_ended) == (True, False, 1)
    result = run_slots(_view(LocalStore(tmp_path / "more"), **{"spec.maxTrialCount": 3}), Instant(), "run-1", checkpoint=Checkpoint(trials=2))
    assert (result.decision.finished, result.checkpoint_due, result.trials_ended) == (False, True, 2)


def test_the_outage_watch_is_given_up_once_the_slots_end(tmp_path):
    store = RetryingStore(LocalStore(tmp_path))
    store.on_outage = lambda seconds: None  # as a stop signal's, while the store was down
    run_slots(_view(store), Instant(), "run-1")
    assert store.on_outage is None
