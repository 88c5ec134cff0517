"""How the local launcher ends a trial that does not end by itself, and what it says about one
that failed: early stopping (the rule is given the trial's output so far, decoded; the trial
gets SIGTERM before SIGKILL, so it can save its work), the deadline (the trial's whole process
group goes, not only the process started), and a non-zero exit (reason ``Error``).

Trials report that they are running, or got a signal, with files the test reads; the trials
that would otherwise sleep for an hour are killed when the test ends."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from kfp_tune.core.interfaces import LaunchOutcome, TrialRun
from kfp_tune.core.vocabulary import EARLY_STOP_MESSAGE, EARLY_STOP_REASON, LaunchPhase
from kfp_tune.launchers import local
from kfp_tune.launchers.local import LocalLauncher
from processes import gone

LOUD_THEN_SILENT = """
import os, pathlib, signal, sys, time
here = pathlib.Path(sys.argv[1])
def on_term(*_):
    (here / "got-sigterm").write_text("yes")
    sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
(here / "pid").write_text(str(os.getpid()))
sys.stdout.buffer.write(b"epoch 1 \\xff loss=0.5\\n")
sys.stdout.flush()
time.sleep(3600)
"""
WITH_A_CHILD = """
import os, pathlib, subprocess, sys, time
here = pathlib.Path(sys.argv[1])
child = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(3600)"])
(here / "child.tmp").write_text(str(child.pid))
(here / "child.tmp").replace(here / "child")  # whole when it appears: the clock jumps then
time.sleep(3600)
"""


def trial(script: str, folder: Path, should_stop: Callable[[str], bool] | None = None, deadline: int | None = None) -> TrialRun:
    spec: dict = {"template": {"spec": {"containers": [{"name": "main", "command": [sys.executable, "-c", script, str(folder)]}]}}}
    if deadline is not None:
        spec["activeDeadlineSeconds"] = deadline
    manifest = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "t"}, "spec": spec}
    return TrialRun("e", "t", manifest, {}, "main", should_stop=should_stop, metrics_collector={"collector": {"kind": "None"}})


def test_an_early_stopped_trial_gets_sigterm_first_and_ends_early_stopped(folder: Path) -> None:
    seen: list[str] = []

    def should_stop(text: str) -> bool:
        seen.append(text)
        return "loss=" in text

    outcome: LaunchOutcome = LocalLauncher().run(trial(LOUD_THEN_SILENT, folder, should_stop))
    assert (outcome.phase, outcome.reason) == (LaunchPhase.EARLY_STOPPED, EARLY_STOP_REASON)  # the result's reason too: one for both records
    assert outcome.message == EARLY_STOP_MESSAGE  # Katib's message for an early-stopped trial
    assert seen[-1] == "epoch 1 \ufffd loss=0.5\n", "the rule reads the output so far, decoded, a bad byte replaced"
    assert (folder / "got-sigterm").read_text() == "yes", "SIGTERM first, so the trial can end cleanly"


def test_the_deadline_ends_the_trials_whole_process_group(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Even a process of the group that ignores SIGTERM: SIGKILL goes to the group after the
    grace period (made short here). The launcher's clock stands still until the trial has
    started its child, then jumps past the deadline: a slow start cannot beat the deadline."""

    def clock() -> float:
        return time.monotonic() + 1e6 if (folder / "child").exists() else 0.0

    monkeypatch.setattr(local, "GRACE_SECONDS", 0.5)
    monkeypatch.setattr(local, "time", SimpleNamespace(monotonic=clock, sleep=time.sleep))
    outcome = LocalLauncher().run(trial(WITH_A_CHILD, folder, deadline=1))
    assert (outcome.phase, outcome.reason) == (LaunchPhase.FAILED, "DeadlineExceeded")
    assert gone(int((folder / "child").read_text())), "the process the trial started is gone too"


def test_a_failed_trials_message_carries_the_last_line_of_its_log(folder: Path) -> None:
    """What a user reads in `kfp-tune trials` for a trial that crashed: the exception, not only
    "exit code 1" (the whole log stays in the store); a long line is cut, a blank tail skipped."""
    script = "import sys; print('loading data'); sys.stderr.write('x' * 500 + chr(10)); raise KeyError('learning_rate')"
    outcome = LocalLauncher().run(trial(script, folder))
    assert (outcome.phase, outcome.reason, outcome.exit_code) == (LaunchPhase.FAILED, "Error", 1)
    assert outcome.message == "exit code 1: KeyError: 'learning_rate'"
    assert "loading data" in outcome.logs["main"]
    long_last = LocalLauncher().run(trial("import sys; print('y' * 500); print(); sys.exit(4)", folder))
    assert long_last.message == "exit code 4: " + "y" * 297 + "..."


def test_a_non_zero_exit_is_an_error_with_its_code(folder: Path) -> None:
    outcome = LocalLauncher().run(trial("import sys; sys.exit(3)", folder))
    assert (outcome.phase, outcome.reason, outcome.message, outcome.exit_code) == (LaunchPhase.FAILED, "Error", "exit code 3", 3)
    ok = LocalLauncher().run(trial("pass", folder))
    assert (ok.phase, ok.reason, ok.message, ok.exit_code) == (LaunchPhase.SUCCEEDED, "", "", 0)


@pytest.mark.parametrize("exit_code", [0, 1])
def test_a_trial_that_ended_before_a_look_is_judged_on_all_it_reported(folder: Path, monkeypatch: pytest.MonkeyPatch, exit_code: int) -> None:
    """Katib's collector judges each report as it is written, so whether the trial ended before
    the launcher looked decides nothing: it is judged once more on all it printed (no look comes
    while it runs here), and one that then failed was stopped before it failed."""
    monkeypatch.setattr(local, "POLL_SECONDS", 3600.0)
    seen: list[str] = []

    def should_stop(text: str) -> bool:
        seen.append(text)
        return text.count("loss=") >= 2

    script = f"import sys; print('loss=3.0'); print('loss=1.5'); print('loss=1.0'); sys.exit({exit_code})"
    outcome = LocalLauncher().run(trial(script, folder, should_stop))
    assert (outcome.phase, outcome.reason, outcome.message) == (LaunchPhase.EARLY_STOPPED, EARLY_STOP_REASON, EARLY_STOP_MESSAGE)
    assert seen == ["loss=3.0\nloss=1.5\nloss=1.0\n"], "one look, after its end, at everything it printed"
    assert outcome.logs["main"] == seen[0] and outcome.exit_code == exit_code
    kept = LocalLauncher().run(trial("print('loss=3.0')", folder, should_stop))  # not what stops it: it ends as it ended
    assert (kept.phase, kept.reason) == (LaunchPhase.SUCCEEDED, "")
