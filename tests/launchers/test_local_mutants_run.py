"""The local launcher's trial process, where test_local_stopping.py and test_local_interrupt.py
leave off: the trial reads nothing from the terminal, a program that cannot start is named, output
that is not UTF-8 is kept, an error in the early stopping rule stops the trial's group, a
deadline is a failure even when the trial exits 0 at SIGTERM, the exit code after a stop is the
trial's own, a run without a deadline outlives many polls, leftovers of a trial's group get
SIGKILL and no other signal, and an interrupt sends SIGTERM unless forced.

Trials say they are ready (a handler set, a child started) with files the test waits on; the
launcher's clock is replaced where a deadline must pass, or must not, whatever the machine's load."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from kfp_tune.core.errors import RunInterrupted
from kfp_tune.core.interfaces import LaunchOutcome, TrialRun
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.launchers import local
from kfp_tune.launchers.local import LocalLauncher
from processes import gone

WAIT = 120.0
"""Seconds to wait for what a correct launcher does at once."""


def trial(argv: list[str], should_stop: Callable[[str], bool] | None = None, deadline: int | None = None, collector: str = "None") -> TrialRun:
    spec: dict = {"template": {"spec": {"containers": [{"name": "main", "command": argv}]}}}
    if deadline is not None:
        spec["activeDeadlineSeconds"] = deadline
    manifest = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "t"}, "spec": spec}
    return TrialRun("e", "t", manifest, {}, "main", should_stop=should_stop, metrics_collector={"collector": {"kind": collector}})


def python(script: str, *args: str) -> list[str]:
    return [sys.executable, "-c", script, *args]


def when_exists(path: Path) -> Callable[[str], bool]:
    """An early stopping rule that stops the trial once ``path`` exists."""
    return lambda _output: path.exists()


def test_the_trial_reads_nothing_from_the_runs_stdin(folder: Path) -> None:
    """A trial that asks for input gets end of file at once, never the terminal's (or a pipe's) lines."""
    read_end, write_end = os.pipe()
    saved = os.dup(0)
    os.dup2(read_end, 0)
    try:
        os.write(write_end, b"typed at the terminal\n")
        outcome = LocalLauncher().run(trial(python("import sys; print(repr(sys.stdin.read()))")))
    finally:
        os.dup2(saved, 0)
        for fd in (saved, read_end, write_end):
            os.close(fd)
    assert outcome.phase == LaunchPhase.SUCCEEDED, outcome.logs
    assert outcome.logs["main"].strip() == "''"


def test_a_program_that_cannot_start_is_named_in_the_message(folder: Path) -> None:
    missing = str(folder / "no-such-program")
    outcome = LocalLauncher().run(trial([missing, "--lr=0.1"], collector="Push"))  # exec form: nothing starts
    assert (outcome.phase, outcome.reason) == (LaunchPhase.FAILED, "StartError")
    assert missing in outcome.message and os.strerror(2) in outcome.message


def test_output_that_is_not_utf8_is_kept_with_the_bad_bytes_replaced() -> None:
    outcome = LocalLauncher().run(trial(python("import sys; sys.stdout.buffer.write(b'loss=0.5 \\xff\\xfe done\\n')")))
    assert outcome.phase == LaunchPhase.SUCCEEDED
    assert outcome.logs["main"] == "loss=0.5 \ufffd\ufffd done\n"


def test_an_early_stopping_rule_that_fails_stops_the_trials_group_and_the_error_comes_out(folder: Path) -> None:
    script = "import os, pathlib, sys, time; pathlib.Path(sys.argv[1]).write_text(str(os.getpid())); time.sleep(3600)"

    def broken_rule(_output: str) -> bool:
        if (folder / "pid").exists():
            raise RuntimeError("the rule's store is gone")
        return False

    with pytest.raises(RuntimeError, match="the rule's store is gone"):
        LocalLauncher().run(trial(python(script, str(folder / "pid")), should_stop=broken_rule))
    assert gone(int((folder / "pid").read_text())), "the trial does not outlive the error"


EXITS_AT_SIGTERM = """
import os, pathlib, signal, sys, time
here = pathlib.Path(sys.argv[1])
signal.signal(signal.SIGTERM, lambda *_: sys.exit(int(sys.argv[2])))
(here / "pid").write_text(str(os.getpid()))
time.sleep(3600)
"""


def test_a_trial_past_its_deadline_fails_even_if_it_exits_0_at_sigterm(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The launcher's clock stands still until the trial is ready, then jumps past the deadline."""

    def clock() -> float:
        return time.monotonic() + 1e6 if (folder / "pid").exists() else 0.0

    monkeypatch.setattr(local, "time", SimpleNamespace(monotonic=clock, sleep=time.sleep))
    outcome = LocalLauncher().run(trial(python(EXITS_AT_SIGTERM, str(folder), "0"), deadline=60))
    assert (outcome.phase, outcome.reason, outcome.exit_code) == (LaunchPhase.FAILED, "DeadlineExceeded", 0)


def test_the_exit_code_of_a_stopped_trial_is_its_own(folder: Path) -> None:
    outcome = LocalLauncher().run(trial(python(EXITS_AT_SIGTERM, str(folder), "3"), should_stop=when_exists(folder / "pid")))
    assert (outcome.phase, outcome.exit_code) == (LaunchPhase.EARLY_STOPPED, 3)
    plain = "import os, pathlib, sys, time; pathlib.Path(sys.argv[1]).write_text(str(os.getpid())); time.sleep(3600)"
    outcome = LocalLauncher().run(trial(python(plain, str(folder / "pid-2")), should_stop=when_exists(folder / "pid-2")))
    assert (outcome.phase, outcome.exit_code) == (LaunchPhase.EARLY_STOPPED, -signal.SIGTERM), "ended by the signal, as Popen says"


WAITS_FOR_GO = "import os, pathlib, sys, time\ngo = pathlib.Path(sys.argv[1])\nwhile not go.exists(): time.sleep(0.01)\nprint('done')"


@pytest.mark.parametrize("deadline", [None, 60], ids=["no-deadline", "deadline-not-reached"])
def test_a_trial_that_runs_for_several_polls_ends_as_itself(folder: Path, monkeypatch: pytest.MonkeyPatch, deadline: int | None) -> None:
    """The trial waits for a file the early stopping rule writes on its first call, so it runs
    past at least one of the launcher's polls. The launcher's clock stands still: a deadline of a
    minute is never reached, however slow the machine."""
    monkeypatch.setattr(local, "time", SimpleNamespace(monotonic=lambda: 1e6, sleep=time.sleep))
    calls: list[str] = []

    def rule(output: str) -> bool:
        calls.append(output)
        (folder / "go").write_text("go")
        return False

    outcome = LocalLauncher().run(trial(python(WAITS_FOR_GO, str(folder / "go")), should_stop=rule, deadline=deadline))
    assert calls, "the trial ran past a poll"
    assert (outcome.phase, outcome.reason, outcome.exit_code) == (LaunchPhase.SUCCEEDED, "", 0), outcome.message
    assert outcome.logs["main"] == "done\n"


LEFT_BEHIND = """
import os, pathlib, signal, sys, time
here = pathlib.Path(sys.argv[1])
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGHUP, lambda *_: (here / "got-sighup").write_text("yes"))
(here / "pid-child").write_text(str(os.getpid()))
while True:
    time.sleep(3600)
"""


def test_what_is_left_of_a_stopped_group_gets_sigkill_and_no_other_signal(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under Katib's ``sh -c`` the shell ends at SIGTERM at once; its child here ignores SIGTERM,
    and is SIGKILLed at the end of the grace period (made short): nothing else reaches it."""
    monkeypatch.setattr(local, "GRACE_SECONDS", 0.3)
    script = folder / "child.py"
    script.write_text(LEFT_BEHIND)
    line = ["python3", str(script), str(folder), ";", "true"]  # two commands: the shell stays as the child's parent
    outcome = LocalLauncher().run(trial(line, should_stop=when_exists(folder / "pid-child"), collector="StdOut"))
    assert outcome.phase == LaunchPhase.EARLY_STOPPED
    assert gone(int((folder / "pid-child").read_text()))
    assert not (folder / "got-sighup").exists()


class Running:
    """launcher.run(trial) on a thread; what it returned or raised."""

    def __init__(self, launcher: LocalLauncher, run: TrialRun) -> None:
        self.outcome: LaunchOutcome | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._body, args=(launcher, run))
        self.thread.start()

    def _body(self, launcher: LocalLauncher, run: TrialRun) -> None:
        try:
            self.outcome = launcher.run(run)
        except BaseException as exc:  # judged by the test
            self.error = exc

    def wait_for(self, path: Path) -> None:
        deadline = time.monotonic() + WAIT
        while not path.exists():
            assert self.thread.is_alive(), f"the run ended before the trial was ready: {self.outcome or self.error}"
            assert time.monotonic() < deadline, "the trial never got ready"
            time.sleep(0.01)

    def finished(self) -> bool:
        self.thread.join(WAIT)
        return not self.thread.is_alive()


SAVES_AT_SIGTERM = """
import os, pathlib, signal, sys, time
here = pathlib.Path(sys.argv[1])
def on_term(*_):
    (here / "saved").write_text("yes")
    sys.exit(0)
signal.signal(signal.SIGTERM, on_term if sys.argv[2] == "save" else signal.SIG_IGN)
(here / "pid").write_text(str(os.getpid()))
while True:
    time.sleep(3600)
"""


def test_an_interrupt_sends_sigterm_so_the_trial_can_save_its_work(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "GRACE_SECONDS", 3600.0)  # only the trial's own exit can end it in time
    launcher = LocalLauncher()
    running = Running(launcher, trial(python(SAVES_AT_SIGTERM, str(folder), "save")))
    running.wait_for(folder / "pid")
    launcher.interrupt()
    assert running.finished() and isinstance(running.error, RunInterrupted), running.outcome
    assert (folder / "saved").read_text() == "yes"


def test_an_interrupted_trial_that_ignores_sigterm_is_killed_after_the_grace_period(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "GRACE_SECONDS", 0.3)
    launcher = LocalLauncher()
    running = Running(launcher, trial(python(SAVES_AT_SIGTERM, str(folder), "ignore")))
    running.wait_for(folder / "pid")
    launcher.interrupt()
    assert running.finished() and isinstance(running.error, RunInterrupted), running.outcome or running.error
    assert gone(int((folder / "pid").read_text()))
