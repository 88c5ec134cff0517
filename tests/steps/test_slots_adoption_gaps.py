"""Which unfinished trials a slots run adopts when its last slot stops (gaps a mutation pass
found): only its own run's, never while it stops for an interrupt or a checkpoint (those
trials are handed over or left to the process that follows them), and each one by one slot
only. A trial that another process follows is recorded started with an attempt of its own;
following it here would wait for that attempt, so the test's stand-in for that wait records
the trial and stops the slot instead of waiting.

The trials wait on events; a bound on a wait only turns a regression's hang into a failure."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core import claims
from kfp_tune.core.errors import KfpTuneError, RunInterrupted
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords, TrialStarted
from kfp_tune.core.state import ExperimentView, TrialState
from kfp_tune.steps.schedule import made_by_run
from kfp_tune.steps.slots import Checkpoint, run_slots
from kfp_tune.steps.suggest import new_trials
from kfp_tune.stores import LocalStore
from slot_launchers import HANG_BOUND_SECONDS, SUCCEEDED, Instant


def _records(tmp_path: Any, trials: int) -> ExperimentRecords:
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": trials, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1}))
    records = ExperimentRecords(LocalStore(tmp_path), experiment.name)
    steps.prepare(records, experiment, "run-1")
    return records


def _followed_by_another_process(records: ExperimentRecords, round_id: str, run_id: str) -> str:
    """A trial of round ``round_id`` that another process of run ``run_id`` started and follows."""
    view = ExperimentView(records)
    name = str(new_trials(view, round_id, 1)["trials"][0]["name"])
    view.record_trial(name, TrialStarted(trial=name, time="2026-01-01T00:00:00Z", at=time.time(), run=run_id, attempt="elsewhere", owner="other-host/1"))
    return name


@pytest.fixture
def followed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The trials this process went on to follow although another attempt did (each stops its slot)."""
    seen: list[str] = []

    def wait_for_attempt(records: ExperimentRecords, trial: str, started: TrialStarted, poll: float = 2.0) -> Any:
        seen.append(trial)
        raise KfpTuneError(f"trial {trial!r} was followed here too")

    monkeypatch.setattr(claims, "wait_for_attempt", wait_for_attempt)
    return seen


class InterruptedWhileRunning(Launcher):
    """Its trial ends only once the run was interrupted by a real SIGINT (sent from the trial)."""

    can_interrupt = True

    def __init__(self) -> None:
        self.runs: list[str] = []
        self.interrupted = threading.Event()

    def run(self, trial: TrialRun) -> LaunchOutcome:
        self.runs.append(trial.trial)
        os.kill(os.getpid(), signal.SIGINT)
        assert self.interrupted.wait(HANG_BOUND_SECONDS)
        return SUCCEEDED

    def interrupt(self, force: bool = False) -> None:
        self.interrupted.set()


@pytest.fixture
def sigint_as_python_sets_it() -> Any:
    """SIGINT handled as Python sets it up (``default_int_handler``) for the test, then as it was:
    a run takes over no signal the process ignores (``slots.takes_over``), and a suite started as
    a non-interactive shell's background job (``nohup bash -c '...' &``, as two full runs of it
    were) inherits SIGINT ignored in every xdist worker, so the trial's SIGINT never reached the
    run."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("sigint_as_python_sets_it")
def test_an_interrupted_run_does_not_adopt_a_trial_another_process_of_it_follows(tmp_path: Any, followed: list[str]) -> None:
    records = _records(tmp_path, trials=3)
    _followed_by_another_process(records, "run-1-t000000", "run-1")
    launcher = InterruptedWhileRunning()
    with pytest.raises(RunInterrupted):
        run_slots(ExperimentView(records), launcher, "run-1")
    assert len(launcher.runs) == 1
    assert followed == []


def test_a_run_stopping_for_its_checkpoint_does_not_adopt_a_trial_another_process_of_it_follows(tmp_path: Any, followed: list[str]) -> None:
    records = _records(tmp_path, trials=3)
    _followed_by_another_process(records, "run-1-t000000", "run-1")
    launcher = Instant()
    result = run_slots(ExperimentView(records), launcher, "run-1", checkpoint=Checkpoint(trials=1))
    assert result.checkpoint_due and len(launcher.runs) == 1
    assert followed == []


def test_a_trial_another_run_started_is_not_adopted(tmp_path: Any, followed: list[str]) -> None:
    """maxTrialCount 1, taken by a trial run-2 started: run-1's last slot stops without it."""
    records = _records(tmp_path, trials=1)
    _followed_by_another_process(records, "run-2-t000000", "run-2")
    launcher = Instant()
    result = run_slots(ExperimentView(records), launcher, "run-1")
    assert launcher.runs == [] and followed == []
    assert result.decision.counts["Running"] == 1


class WaitsForTheOtherSlot(Instant):
    """Its trial ends once no other slot is alive: the other slot has stopped, or (the defect)
    gone on to follow the same trial."""

    def run(self, trial: TrialRun) -> LaunchOutcome:
        bound = time.monotonic() + HANG_BOUND_SECONDS
        while any(t.name.startswith("slot-") and t is not threading.current_thread() for t in threading.enumerate()) and time.monotonic() < bound:
            time.sleep(0.01)
        return super().run(trial)


def test_two_slots_adopt_a_trial_of_their_run_once(tmp_path: Any, followed: list[str]) -> None:
    """2 slots (``slots=2``), maxTrialCount 1, taken by a trial this run made (another process of it) and not
    started yet: one slot adopts it, the other stops; the trial is run and counted once."""
    records = _records(tmp_path, trials=1)
    made = str(new_trials(ExperimentView(records), "run-1-t000000", 1)["trials"][0]["name"])
    launcher = WaitsForTheOtherSlot()
    ended: list[str] = []

    def on_trial_end(trial: TrialState, decision: Any) -> None:
        ended.append(trial.name)

    result = run_slots(ExperimentView(records), launcher, "run-1", slots=2, on_trial_end=on_trial_end)
    assert launcher.runs == [made] and followed == []
    assert ended == [made] and result.trials_ended == 1


@pytest.mark.parametrize(("round_name", "made"), [("nightly-r001", True), ("nightly-r001-x", False), ("nightly-t000003", True), ("nightly-2-r001", False)])
def test_a_round_is_its_run_s_only_when_the_whole_name_reads_so(round_name: str, made: bool) -> None:
    assert made_by_run(round_name, "nightly") is made
