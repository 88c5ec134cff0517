"""LocalLauncher.interrupt, as a Ctrl-C of ``kfp-tune run`` uses it: every running trial's
process group is stopped (SIGTERM; SIGKILL when forced, for a trial that ignores SIGTERM), the
trial's ``run`` raises RunInterrupted instead of reporting a failure of its own, and no trial
starts afterwards.

The trials say they are running with a file, and the test waits for that file; the launcher's
grace period is made an hour, so a trial that only a late SIGKILL would end shows up as a run
that never returns (a deadline of minutes, never reached when the launcher is right)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kfp_tune.core.errors import RunInterrupted
from kfp_tune.core.interfaces import LaunchOutcome, TrialRun
from kfp_tune.launchers import local
from kfp_tune.launchers.local import LocalLauncher

TRIAL = """
import os, pathlib, signal, sys, time
if sys.argv[2] == "ignore-sigterm":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
pathlib.Path(sys.argv[1]).write_text(str(os.getpid()))
time.sleep(3600)
"""
DEADLINE = 120.0
"""Seconds to wait for what a correct launcher does at once (a trial starting, a run returning)."""


def trial(name: str, started: Path, mode: str = "plain") -> TrialRun:
    manifest = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
                "spec": {"template": {"spec": {"containers": [{"name": "main", "command": [sys.executable, "-c", TRIAL, str(started), mode]}]}}}}
    return TrialRun("e", name, manifest, {}, "main", metrics_collector={"collector": {"kind": "None"}})


class Running:
    """launcher.run(trial) on a thread; what it returned or raised."""

    def __init__(self, launcher: LocalLauncher, run: TrialRun) -> None:
        self.outcome: LaunchOutcome | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._body, args=(launcher, run), name=f"run-{run.trial}")
        self.thread.start()

    def _body(self, launcher: LocalLauncher, run: TrialRun) -> None:
        try:
            self.outcome = launcher.run(run)
        except BaseException as exc:  # judged by the test
            self.error = exc

    def finished(self) -> bool:
        self.thread.join(DEADLINE)
        return not self.thread.is_alive()


def wait_for(path: Path, running: Running) -> None:
    """Until the trial has written its file (it is running) or its run ended without it."""
    deadline = time.monotonic() + DEADLINE
    while not path.exists():
        assert running.thread.is_alive(), f"the run ended before the trial started: {running.outcome or running.error}"
        assert time.monotonic() < deadline, "the trial never started"
        time.sleep(0.01)


@pytest.fixture(autouse=True)
def long_grace(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """An hour's grace; afterwards, any trial a failing launcher left running is killed."""
    monkeypatch.setattr(local, "GRACE_SECONDS", 3600.0)
    yield
    for started in tmp_path.glob("started*"):
        with contextlib.suppress(ProcessLookupError, PermissionError, ValueError):
            os.killpg(int(started.read_text()), signal.SIGKILL)


@pytest.mark.parametrize(("mode", "force"), [("plain", False), ("ignore-sigterm", True)])
def test_an_interrupted_trial_is_stopped_and_its_run_raises(tmp_path: Path, mode: str, force: bool) -> None:
    launcher = LocalLauncher()
    started = tmp_path / "started"
    running = Running(launcher, trial("t-1", started, mode))
    wait_for(started, running)
    launcher.interrupt(force=force)
    assert running.finished(), "the interrupted trial was not stopped"
    assert isinstance(running.error, RunInterrupted), f"expected RunInterrupted, got {running.outcome or running.error!r}"


def test_every_running_trial_is_stopped(tmp_path: Path) -> None:
    launcher = LocalLauncher()
    files = [tmp_path / f"started-{i}" for i in range(2)]
    runs = [Running(launcher, trial(f"t-{i}", path)) for i, path in enumerate(files)]
    for path, running in zip(files, runs, strict=True):
        wait_for(path, running)
    launcher.interrupt()
    for running in runs:
        assert running.finished() and isinstance(running.error, RunInterrupted), running.outcome


def test_no_trial_starts_after_an_interrupt(tmp_path: Path) -> None:
    launcher = LocalLauncher()
    launcher.interrupt()
    started = tmp_path / "started"
    with pytest.raises(RunInterrupted):
        launcher.run(trial("t-late", started))
    assert not started.exists(), "the trial's command must not have run"


SHELLED_TRIAL = """
import os, pathlib, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a trial that saves a checkpoint on SIGTERM, say
pathlib.Path(sys.argv[1]).write_text(str(os.getpgrp()))
time.sleep(3600)
"""


def test_a_second_interrupt_kills_a_trial_whose_shell_the_first_one_ended(tmp_path: Path) -> None:
    """Under the StdOut collector a trial runs as ``sh -c`` (Katib's form), its program the
    shell's child. The first Ctrl-C's SIGTERM ends the shell; the program ignores it. The second
    Ctrl-C must SIGKILL the whole group: it skipped the group because its leader had ended,
    leaving the program running after the run said it was killed."""
    script = tmp_path / "trial.py"
    script.write_text(SHELLED_TRIAL)
    started = tmp_path / "started"
    manifest = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "t-sh"},
                "spec": {"template": {"spec": {"containers": [{"name": "main", "command": [sys.executable, str(script), str(started)]}]}}}}
    launcher = LocalLauncher()
    running = Running(launcher, TrialRun("e", "t-sh", manifest, {}, "main", metrics_collector={"collector": {"kind": "StdOut"}}))
    wait_for(started, running)
    group = int(started.read_text())
    [shell] = launcher._running
    launcher.interrupt()
    deadline = time.monotonic() + DEADLINE
    while shell.returncode is None and time.monotonic() < deadline:  # the run's thread has seen the shell end
        time.sleep(0.01)
    # the run now waits out the grace period for the rest of the group; the trial must still be
    # registered for the second interrupt (it was dropped as soon as the shell ended): up to 1 s to see it go
    settle = time.monotonic() + 1.0
    while shell in launcher._running and time.monotonic() < settle:
        time.sleep(0.01)
    assert shell in launcher._running, "the stopped trial's group is not registered while it is still running"
    launcher.interrupt(force=True)
    assert running.finished() and isinstance(running.error, RunInterrupted), running.outcome
    with pytest.raises(ProcessLookupError):
        os.killpg(group, 0)  # nothing of the trial is left


def test_a_trial_that_ended_or_was_interrupted_is_no_longer_registered(tmp_path: Path) -> None:
    """A trial's process leaves the launcher's running set when it ends, on its own or stopped: a
    later interrupt must not signal a process group whose id the system may have given to another."""
    launcher = LocalLauncher()
    manifest = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "t-0"},
                "spec": {"template": {"spec": {"containers": [{"name": "main", "command": [sys.executable, "-c", "print(1)"]}]}}}}
    outcome = launcher.run(TrialRun("e", "t-0", manifest, {}, "main", metrics_collector={"collector": {"kind": "None"}}))
    assert outcome.phase == "Succeeded" and launcher._running == set(), (outcome, launcher._running)
    started = tmp_path / "started"
    running = Running(launcher, trial("t-1", started))
    wait_for(started, running)
    assert len(launcher._running) == 1
    launcher.interrupt()
    assert running.finished() and isinstance(running.error, RunInterrupted), running.outcome
    assert (launcher._running, launcher._stopped) == (set(), set())
