"""The notebook's stop button on ``tune()``: SIGINT to the main thread while function trials run.

Python cannot stop a call running in a thread, so a function trial the stop leaves running goes
on until it returns. The run records it Killed (its budget given back) and ends; what the call
returns after that must write nothing: not into the same experiment (its Killed record stands),
and above all not into one deleted, or deleted and made again under the same name, since
(QA notebook, session 31: the old trials' records landed in the new experiment, which then read
as damaged, and a delete was partly undone). The stop says what happens to such calls, which
experiment it left and how to resume it.

The stop is a real SIGINT, sent from a trial's thread once every trial runs, as the kernel's
interrupt sends it; the second press waits until the run has answered the first. Nothing
depends on how fast the machine is: a bound on a wait only turns a regression's hang into a
failure."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from kfp_tune import Client, search, tune
from kfp_tune.api import TuneResult, tune_result
from kfp_tune.core.errors import RunInterrupted
from kfp_tune.core.records import ExperimentRecords, TrialEnded
from kfp_tune.core.state import TRIAL_INTERRUPTED, ExperimentView
from kfp_tune.core.vocabulary import TRIAL_TTL_VARIABLE, TrialStatus
from kfp_tune.launchers.function import FunctionLauncher
from kfp_tune.stores import LocalStore

HANG_BOUND_SECONDS = 60.0
TRAINING_BOUND_SECONDS = 3 * HANG_BOUND_SECONDS
"""How long a stuck training waits to be let go: past any other bound, so that what is waited
for while it runs (a heartbeat falling silent) is never its return."""
SPACE = {"x": search.double(-3, 3)}


pytestmark = pytest.mark.usefixtures("usual_sigint")  # tests/conftest.py


class StopButton:
    """Presses stop (SIGINT to this process, which the main thread answers) and waits until the
    run has answered: its launcher was told to interrupt (``answers``: each call's ``force``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.answers: list[bool] = []
        self._answered = threading.Condition()
        real = FunctionLauncher.interrupt

        def answered(launcher: FunctionLauncher, force: bool = False) -> None:
            real(launcher, force)
            with self._answered:
                self.answers.append(force)
                self._answered.notify_all()

        monkeypatch.setattr(FunctionLauncher, "interrupt", answered)

    def press(self) -> None:
        with self._answered:
            before = len(self.answers)
            os.kill(os.getpid(), signal.SIGINT)
            if not self._answered.wait_for(lambda: len(self.answers) > before, HANG_BOUND_SECONDS):
                raise AssertionError("the run never answered the stop button")


class TrainingThatRunsOn:
    """A training loop the stop button cannot stop: each call waits until :meth:`finish`. Once
    ``trials`` calls run, the last to arrive presses stop ``presses`` times."""

    def __init__(self, button: StopButton, trials: int, presses: int):
        self.button, self.presses = button, presses
        self.all_running = threading.Barrier(trials)
        self.release = threading.Event()
        self.threads: list[threading.Thread] = []

    def __call__(self, params: dict[str, Any]) -> float:
        self.threads.append(threading.current_thread())
        if self.all_running.wait(HANG_BOUND_SECONDS) == 0:
            for _ in range(self.presses):
                self.button.press()
        self.release.wait(TRAINING_BOUND_SECONDS)
        print("epoch 9: training done")
        return float(params["x"]) ** 2

    def finish(self) -> None:
        """The calls return; their slots' threads do what they do after, to their end."""
        self.release.set()
        assert not still_alive(self.threads), "a trial's thread never ended"


def still_alive(threads: list[threading.Thread]) -> list[threading.Thread]:
    """The threads that have not ended within one bound, all waited for together."""
    deadline = time.monotonic() + HANG_BOUND_SECONDS
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [thread for thread in threads if thread.is_alive()]


def stopped_tune(store: Path, training: TrainingThatRunsOn, **arguments: Any) -> RunInterrupted:
    """``tune()`` of ``training`` (two trials at once), stopped; what it raised."""
    with pytest.raises(RunInterrupted) as raised:
        tune(training, SPACE, max_trial_count=2, parallel_trial_count=2, algorithm="random", store=str(store), **arguments)
    return raised.value


def trial_folders(store: Path, name: str) -> list[str]:
    folder = store / "experiments" / name / "trials"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_stopped_trials_write_nothing_into_the_experiment_made_again_under_their_experiments_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    training = TrainingThatRunsOn(StopButton(monkeypatch), trials=2, presses=2)
    try:
        stopped_tune(tmp_path, training, name="gone")
        assert Client(str(tmp_path)).delete_experiment("gone", confirm=True) > 0
        again = tune(lambda p: p["x"] ** 2, SPACE, max_trial_count=2, name="gone", algorithm="random", store=str(tmp_path))
    finally:
        training.finish()
    assert isinstance(again, TuneResult) and again.status == "Succeeded"
    read_back = tune_result(LocalStore(tmp_path), "gone")  # DamagedRecord when an old trial's records landed in it
    assert [t.name for t in read_back.trials] == [t.name for t in again.trials]
    assert trial_folders(tmp_path, "gone") == sorted(t.name for t in again.trials)


def test_a_deleted_experiment_stays_deleted_when_its_stopped_trials_return(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing of it comes back: not the trials' ends, metrics and logs when their calls return,
    nor their heartbeats while the calls run on (beating every quarter of a second here)."""
    monkeypatch.setenv(TRIAL_TTL_VARIABLE, "1")
    beating_before = {t for t in threading.enumerate() if t.name == "run-heartbeat"}

    class SeesTheHeartbeats(TrainingThatRunsOn):
        """Notes the heartbeats beating while both trials run, before the stop: read after the
        run, a heartbeat that had already ended would not be counted (a race on a loaded machine)."""

        def __call__(self, params: dict[str, Any]) -> float:
            beats.extend(t for t in threading.enumerate() if t.name == "run-heartbeat" and t not in beating_before and t not in beats)
            return super().__call__(params)

    beats: list[threading.Thread] = []
    training = SeesTheHeartbeats(StopButton(monkeypatch), trials=2, presses=2)
    try:
        stopped_tune(tmp_path, training, name="gone")
        assert len(beats) >= 2  # each trial's (and the run's own), seen while the trials ran
        assert not still_alive(beats), "a stopped trial's heartbeat still beats"  # the run is over; the calls run on
        Client(str(tmp_path)).delete_experiment("gone", confirm=True)
    finally:
        training.finish()
    experiment = tmp_path / "experiments" / "gone"
    assert not experiment.exists() or sorted(str(p.relative_to(experiment)) for p in experiment.rglob("*") if p.is_file()) == []


def test_a_stopped_trial_keeps_its_killed_record_when_its_call_returns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    training = TrainingThatRunsOn(StopButton(monkeypatch), trials=2, presses=2)
    try:
        stopped = stopped_tune(tmp_path, training, name="kept")
        records = ExperimentRecords(LocalStore(tmp_path), "kept")
        before = {key: records.store.get(key) for key in records.store.list(records.root + "/")}
    finally:
        training.finish()
    assert stopped.killed == 2
    after = {key: records.store.get(key) for key in records.store.list(records.root + "/")}
    assert after == before  # no log, no metrics, no second end: the run's records stand as it left them
    trials = ExperimentView(records).state.trials
    assert [(t.status, t.result.reason if t.result else None) for t in trials] == [(TrialStatus.KILLED, TRIAL_INTERRUPTED)] * 2
    for trial in trials:
        ended = records.read_typed(records.trial_key(trial.name, TrialEnded.FILE), TrialEnded)
        assert ended is not None and ended.reason == "Killed"


def test_a_trial_that_returns_while_the_run_waits_for_it_is_recorded_as_it_ended(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One press: the run waits for its trials (INTERRUPT_WAIT_SECONDS); a call that returns then
    is recorded Succeeded, as `kfp-tune run`'s trials that end in their grace period are."""

    class ReturnsOnceStopped(TrainingThatRunsOn):
        def __call__(self, params: dict[str, Any]) -> float:
            self.threads.append(threading.current_thread())
            if self.all_running.wait(HANG_BOUND_SECONDS) == 0:
                self.button.press()
                self.release.set()  # the training returns in the run's grace period
            self.release.wait(HANG_BOUND_SECONDS)
            return float(params["x"]) ** 2

    training = ReturnsOnceStopped(StopButton(monkeypatch), trials=2, presses=1)
    try:
        stopped = stopped_tune(tmp_path, training, name="waited")
    finally:
        training.finish()
    assert stopped.killed == 0
    trials = ExperimentView(ExperimentRecords(LocalStore(tmp_path), "waited")).state.trials
    assert [t.status for t in trials] == [TrialStatus.SUCCEEDED] * 2


def test_the_stop_names_the_experiment_it_left_how_to_resume_it_and_what_becomes_of_the_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Without ``name=`` the experiment's name is made up, and running the cell again starts a
    new one: the error names it and the call that resumes it. The calls still running are said
    to run on in the background, their results discarded, until the kernel restarts; the notice
    the button gets says so too."""
    training = TrainingThatRunsOn(StopButton(monkeypatch), trials=2, presses=2)
    try:
        with caplog.at_level(logging.WARNING):
            stopped = stopped_tune(tmp_path, training)
    finally:
        training.finish()
    name = getattr(stopped, "experiment", None)
    assert isinstance(name, str) and trial_folders_parent(tmp_path) == [name]
    assert str(stopped) == "SIGINT"  # as any RunInterrupted's: the signal's name; the rest is a note shown under the traceback
    said = "\n".join(getattr(stopped, "__notes__", []))
    assert f"experiment {name!r}" in said and f"tune(..., name={name!r})" in said, said
    assert "2 trial call(s) still run in this process's threads" in said and "their results are discarded" in said, said
    assert "restart the kernel" in said, said
    notices = [r.getMessage() for r in caplog.records if r.name == "kfp_tune.launchers.function"]
    assert len(notices) == 2 and all("cannot be stopped from outside" in n and "restart the kernel" in n for n in notices), notices
    with pytest.warns(UserWarning, match=f"resuming experiment {name}: .* 2 interrupted trial"):
        resumed = tune(lambda p: p["x"] ** 2, SPACE, max_trial_count=2, parallel_trial_count=2, algorithm="random", store=str(tmp_path), name=name)
    assert isinstance(resumed, TuneResult) and resumed.experiment == name and resumed.status == "Succeeded"
    assert [t.status for t in resumed.trials].count(TrialStatus.SUCCEEDED) == 2


def trial_folders_parent(store: Path) -> list[str]:
    return sorted(p.name for p in (store / "experiments").iterdir())
