"""What the local launcher does once a trial's main process has ended: what is left of its
process group is ended, as a container's processes end with its main one.

Trials say they are ready with files the test waits on; nothing here depends on timing."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from kfp_tune.core.interfaces import TrialRun
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.launchers import local
from kfp_tune.launchers.local import LocalLauncher
from processes import gone


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    for pid_file in tmp_path.glob("pid*"):  # whatever a failing launcher left running
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


def shell_trial(line: str) -> TrialRun:
    """A Job trial whose command is one shell line (Katib's StdOut collector runs it with sh -c)."""
    manifest = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "t"}, "spec": {"template": {"spec": {"containers": [{"name": "main", "command": [line]}]}}}}
    return TrialRun("e", "t", manifest, {}, "main", metrics_collector={"collector": {"kind": "StdOut"}})


# A background child that notes the signal it gets, then says it is ready (its pid).
NOTES_SIGTERM = textwrap.dedent("""
    import os, pathlib, signal, sys, time
    here = pathlib.Path(sys.argv[1])
    def on_term(*_):
        (here / "got-sigterm").write_text("yes")
        sys.exit(0)
    signal.signal(signal.SIGTERM, on_term)
    (here / "pid.tmp").write_text(str(os.getpid()))
    (here / "pid.tmp").replace(here / "pid")
    time.sleep(3600)
""")


def test_what_a_trial_left_running_in_the_background_ends_with_it(folder: Path) -> None:
    """The QA reproduction: ``sleep 301 & python3 train.py`` succeeded and left the sleep
    running, adopted by init, writing to the trial's unlinked output for ever."""
    line = f"sleep 301 & echo $! > {shlex.quote(str(folder / 'pid'))}; echo loss=0.5"
    outcome = LocalLauncher().run(shell_trial(line))
    assert outcome.phase == LaunchPhase.SUCCEEDED, outcome
    assert gone(int((folder / "pid").read_text()))


def test_a_leftover_gets_sigterm_first_so_it_can_save_its_work(folder: Path) -> None:
    script = folder / "child.py"
    script.write_text(NOTES_SIGTERM)
    ready = shlex.quote(str(folder / "pid"))
    line = f"python3 {shlex.quote(str(script))} {shlex.quote(str(folder))} & while [ ! -e {ready} ]; do sleep 0.01; done; echo loss=0.5"
    outcome = LocalLauncher().run(shell_trial(line))
    assert outcome.phase == LaunchPhase.SUCCEEDED, outcome
    assert gone(int((folder / "pid").read_text()))
    assert (folder / "got-sigterm").read_text() == "yes"


def test_a_trial_that_left_nothing_behind_is_sent_no_signal(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing left of the group: no signal, so no grace period to wait either."""
    sent: list[int] = []
    monkeypatch.setattr(local, "_signal_group", lambda process, signum: sent.append(signum))
    outcome = LocalLauncher().run(shell_trial("echo loss=0.5"))
    assert outcome.phase == LaunchPhase.SUCCEEDED, outcome
    assert sent == []
