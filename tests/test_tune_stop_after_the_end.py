"""A ``tune()`` stopped (the stop button, Ctrl-C, SIGTERM) once its experiment had already ended:
no trial was stopped, and the experiment is Succeeded (or Failed). QA "scale" (session 32,
finding 1) met it at the end of a run: ``tune()`` raised ``TuneInterrupted`` saying the experiment
"is left unfinished" and that the same call resumes it, while ``kfp-tune status`` said Succeeded.
The stop still stops the caller (a Ctrl-C is not swallowed: a script looping over ``tune()``
calls must stop), but its note now says the experiment ended, how, and that the same call
returns its result; so too when the stop recorded Killed trials still running after the end (its
goal reached: QA review A, finding 1). A stop before the end is said as before."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from kfp_tune import search, tune
from kfp_tune.api import TuneInterrupted
from kfp_tune.core.errors import RunInterrupted
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.reports import summarize
from kfp_tune.steps import slots
from kfp_tune.steps.slots import Checkpoint
from kfp_tune.stores import as_store

TRIALS = 3


pytestmark = pytest.mark.usefixtures("usual_sigint")  # tests/conftest.py


def _tune(store: Path, parallel: int = 2) -> Any:
    return tune(lambda p: p["x"] ** 2, parameters={"x": search.double(-1, 1)}, objective_metric_name="loss", objective_type="minimize",
                algorithm="random", algorithm_settings={"random_state": "7"}, max_trial_count=TRIALS, parallel_trial_count=parallel,
                store=str(store), name="ended")


def test_a_stop_that_came_once_every_slot_had_ended_says_the_experiment_ended(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The signal lands while the run still answers it, after its last trial: the run records the
    interrupt (no trial to stop) and raises RunInterrupted; the experiment had Succeeded."""
    real_wait = slots._Schedule.wait_for_slots

    def every_slot_ended_then_ctrl_c(schedule: Any) -> None:
        real_wait(schedule)
        signal.raise_signal(signal.SIGINT)  # the run's own handler: it interrupts the schedule

    monkeypatch.setattr(slots._Schedule, "wait_for_slots", every_slot_ended_then_ctrl_c)
    with pytest.raises(TuneInterrupted) as stopped:
        _tune(tmp_path / "store")
    store = (tmp_path / "store").as_uri()
    assert stopped.value.__notes__ == [
        f"tune() stopped (SIGINT) once experiment 'ended' in {store} had ended: Succeeded (ExperimentMaxTrialsReached), no trial stopped; "
        "the same call returns its result: tune(..., name='ended')"]
    assert (stopped.value.experiment, stopped.value.ended, stopped.value.killed) == ("ended", ("Succeeded", "ExperimentMaxTrialsReached"), 0)
    monkeypatch.undo()
    with pytest.warns(UserWarning, match="has already completed"):
        result = _tune(tmp_path / "store")
    assert (result.status, len(result.trials)) == ("Succeeded", TRIALS)


def test_a_stop_once_the_goal_was_reached_that_killed_the_trials_still_running_says_the_experiment_ended(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The goal is reached by one call while two others still run; the stop records those two
    Killed. Katib's outcome is final: the experiment stays Succeeded (ExperimentGoalReached), and
    the note said 'is left unfinished ... the same call resumes it' (QA review A, finding 1)."""
    entered, release, lock, calls = threading.Barrier(3, timeout=60), threading.Event(), threading.Lock(), [0]

    def goal_then_two_that_wait(params: dict[str, Any]) -> float:
        with lock:
            first, calls[0] = calls[0] == 0, calls[0] + 1
        entered.wait()  # all three running at once
        if first:
            return 0.0
        release.wait(60)
        return 1.0

    goal_written, real_write, real_wait = threading.Event(), slots.write_status, slots._Schedule.wait_for_slots

    def write_status(*args: Any, **kwargs: Any) -> Any:
        written = real_write(*args, **kwargs)
        if written.finished:
            goal_written.set()
        return written

    def goal_written_then_ctrl_c(schedule: Any) -> None:
        assert goal_written.wait(60)
        signal.raise_signal(signal.SIGINT)  # the run's own handler, in this (the main) thread
        real_wait(schedule)

    monkeypatch.setattr(slots, "write_status", write_status)
    monkeypatch.setattr(slots._Schedule, "wait_for_slots", goal_written_then_ctrl_c)
    monkeypatch.setattr(slots, "INTERRUPT_WAIT_SECONDS", 0.0)  # the two calls are not waited for
    store = tmp_path / "store"

    def goal_tune(objective: Any) -> Any:
        return tune(objective, parameters={"x": search.double(-1, 1)}, objective_metric_name="loss", objective_type="minimize",
                    algorithm="random", algorithm_settings={"random_state": "7"}, max_trial_count=6, parallel_trial_count=3, goal=0.01,
                    store=str(store), name="goal")

    try:
        with pytest.raises(TuneInterrupted) as stopped:
            goal_tune(goal_then_two_that_wait)
    finally:
        release.set()
    assert stopped.value.__notes__[0] == (
        f"tune() stopped (SIGINT) once experiment 'goal' in {store.as_uri()} had ended: Succeeded (ExperimentGoalReached), "
        "2 trial(s) still running stopped and recorded Killed (the experiment's outcome stands); the same call returns its result: tune(..., name='goal')")
    assert (stopped.value.ended, stopped.value.killed) == (("Succeeded", "ExperimentGoalReached"), 2)
    monkeypatch.undo()
    with pytest.warns(UserWarning, match="has already completed"):
        result = goal_tune(lambda p: 1.0)
    assert (result.status, result.best_trial.metrics["loss"] if result.best_trial else None) == ("Succeeded", 0.0)


def test_a_stop_after_the_end_with_the_status_record_damaged_reads_the_end_from_the_trials(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The status record unreadable (damaged, an older writer's): the outcome the trials give,
    as ``kfp-tune status`` shows it and the CLI reads it, not 'is left unfinished'."""
    import kfp_tune.api

    real_run = kfp_tune.api.run_inline

    def ended_then_status_damaged_then_interrupted(store: Any, experiment: Any, *args: Any, **kwargs: Any) -> None:
        real_run(store, experiment, *args, **kwargs)
        records = ExperimentRecords(store, experiment.name)
        store.put(records.status_key(), b"{")
        raise RunInterrupted("SIGINT", 0)

    monkeypatch.setattr(kfp_tune.api, "run_inline", ended_then_status_damaged_then_interrupted)
    with pytest.raises(TuneInterrupted) as stopped:
        _tune(tmp_path / "store")
    assert stopped.value.ended == ("Succeeded", "ExperimentMaxTrialsReached")
    assert "had ended: Succeeded (ExperimentMaxTrialsReached), no trial stopped" in stopped.value.__notes__[0]


def test_a_stop_before_the_end_that_stopped_no_trial_still_raises_tune_interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between trials (none running, none stopped) the experiment is left Running: that is an
    unfinished experiment, as the note says. One slot: the checkpoint counts ended trials, so with
    two a slot freed by trial 1 could start trial 3 before trial 2 ended, and the run Succeeded."""
    import kfp_tune.api

    real_run = kfp_tune.api.run_inline

    def two_trials_then_interrupted(*args: Any, **kwargs: Any) -> None:
        real_run(*args, checkpoint=Checkpoint(trials=2), **kwargs)
        raise RunInterrupted("SIGINT", 0)

    monkeypatch.setattr(kfp_tune.api, "run_inline", two_trials_then_interrupted)
    with pytest.raises(TuneInterrupted) as stopped:
        _tune(tmp_path / "store", parallel=1)
    assert "experiment 'ended'" in stopped.value.__notes__[0] and "is left unfinished" in stopped.value.__notes__[0]
    assert stopped.value.ended is None
    left = summarize(as_store(str(tmp_path / "store")), "ended")
    assert (left["status"], left["trials"]) == ("Running", 2)  # stopped between trials 2 and 3, as the test means


def test_a_stop_before_the_experiment_was_written_still_raises_tune_interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing to read back (no experiment yet): the stop is what the caller sees, not a read error."""
    import kfp_tune.api

    def interrupted_at_once(*args: Any, **kwargs: Any) -> None:
        raise RunInterrupted("SIGINT", 0)

    monkeypatch.setattr(kfp_tune.api, "run_inline", interrupted_at_once)
    with pytest.raises(TuneInterrupted) as stopped:
        _tune(tmp_path / "store")
    assert stopped.value.experiment == "ended"
