"""A function trial the stop button lets go keeps what it printed up to the stop as its log
(QA notebook, session 36, finding 1: its call never returned, so the Killed trial had no log and
``get_trial_logs`` gave ''). The stop is a real SIGINT, sent from the trial's own thread, as the
kernel's interrupt sends it; each press waits until the run has answered it."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from kfp_tune import Client, search, tune
from kfp_tune.core.errors import RunInterrupted
from kfp_tune.launchers.function import FunctionLauncher

BOUND_SECONDS = 60.0
"""Only turns a regression's hang into a failure."""

pytestmark = pytest.mark.usefixtures("usual_sigint")  # tests/conftest.py


class Training:
    """Prints two steps, presses stop ``presses`` times (each answered by the launcher), prints
    ``after_stop``, then runs on until :meth:`finish` when ``runs_on``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, presses: int, runs_on: bool, after_stop: str = ""):
        self.presses, self.runs_on, self.after_stop = presses, runs_on, after_stop
        self.release = threading.Event()
        self.threads: list[threading.Thread] = []
        self._answers = 0
        self._answered = threading.Condition()
        real = FunctionLauncher.interrupt

        def answered(launcher: FunctionLauncher, force: bool = False) -> None:
            real(launcher, force)
            with self._answered:
                self._answers += 1
                self._answered.notify_all()

        monkeypatch.setattr(FunctionLauncher, "interrupt", answered)

    def __call__(self, params: dict[str, Any]) -> float:
        self.threads.append(threading.current_thread())
        print("step 0: loss=2.5")
        print("step 1: loss=1.25", flush=True)
        for _ in range(self.presses):
            with self._answered:
                before = self._answers
                os.kill(os.getpid(), signal.SIGINT)
                assert self._answered.wait_for(lambda before=before: self._answers > before, BOUND_SECONDS), "the run never answered the stop"
        if self.after_stop:
            print(self.after_stop)
        if self.runs_on:
            self.release.wait(BOUND_SECONDS)
        return float(params["x"])

    def finish(self) -> None:
        self.release.set()
        for thread in self.threads:
            thread.join(BOUND_SECONDS)


def test_a_call_the_stop_lets_go_keeps_what_it_printed_as_its_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    training = Training(monkeypatch, presses=2, runs_on=True)
    try:
        with pytest.raises(RunInterrupted):
            tune(training, {"x": search.double(0, 1)}, max_trial_count=1, name="killed-log", store=str(tmp_path))
        client = Client(str(tmp_path))
        (trial,) = client.list_trials("killed-log")
        assert trial.status.conditions[-1]["reason"] == "RunInterrupted"
        assert client.get_trial_logs(("killed-log", trial.metadata.name)) == "step 0: loss=2.5\nstep 1: loss=1.25\n"
    finally:
        training.finish()
    # its call returning later writes nothing over it
    assert client.get_trial_logs(("killed-log", trial.metadata.name)) == "step 0: loss=2.5\nstep 1: loss=1.25\n"


def test_a_call_that_ends_in_the_grace_period_keeps_its_whole_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One press: the run waits for the call, which ends; its log is all it printed, and what
    it returned, not the output kept at the stop."""
    training = Training(monkeypatch, presses=1, runs_on=False, after_stop="step 2: done")
    try:
        with pytest.raises(RunInterrupted):
            tune(training, {"x": search.double(0, 1)}, max_trial_count=2, name="waited", algorithm="random",
                 algorithm_settings={"random_state": 4}, store=str(tmp_path))
    finally:
        training.finish()
    client = Client(str(tmp_path))
    (trial,) = client.list_trials("waited")
    assert trial.status.conditions[-1]["type"] == "Succeeded"
    text = client.get_trial_logs(("waited", trial.metadata.name))
    assert text.startswith("step 0: loss=2.5\nstep 1: loss=1.25\nstep 2: done\nobjective=")


def test_a_function_that_raises_keyboard_interrupt_keeps_what_it_printed(tmp_path: Path) -> None:
    def stops(params: dict[str, Any]) -> float:
        print("epoch 1 of 9")
        raise KeyboardInterrupt

    with pytest.raises(RunInterrupted):
        tune(stops, {"x": search.double(0, 1)}, max_trial_count=1, name="raised", store=str(tmp_path))
    client = Client(str(tmp_path))
    (trial,) = client.list_trials("raised")
    assert client.get_trial_logs(("raised", trial.metadata.name)) == "epoch 1 of 9\n"
