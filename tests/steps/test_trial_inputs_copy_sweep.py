"""A trial's own copy of its input (``kfp-tune-input-copy-*``, made when its user's cache folder
fails the check) was removed only at exit (atexit), which Python does not run on SIGTERM or
SIGKILL: every early-stopped, timed-out or interrupted local trial left a whole copy of the
dataset in the temporary folder, and no sweep knew the name (review B of 698aae6, finding B2).
Its process now holds a lock in it while it lives, and the scratch sweeps remove it once
nobody holds that lock: only this user's folders, never through a link, never a live one."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import BinaryIO

import pytest

from kfp_tune.launchers.scratch import INPUT_COPY_PREFIX, LEFTOVER_LOG_DAYS, PROCESS_LOCK, in_use, sweep_input_copies, sweep_metrics_folders
from kfp_tune.pipelines.local_run import sweep_scratch_folders

DAY = 86400.0
OTHER_UID = 65534
"""nobody: the other user of the machine."""

OWN_COPY = """
import sys
from pathlib import Path
from kfp_tune.steps import trial_artifacts

own = trial_artifacts._own_copy_root(Path(sys.argv[1]))
(own / "exp").mkdir()
(own / "exp" / "train.csv").write_bytes(b"label,x\\n1,0.5\\n" * 1000)
print(own, flush=True)
sys.stdin.read()  # until the test says (it never does: the process is killed)
"""
"""A trial process that fetched its input into its own folder and is still reading it."""


def _trial_with_its_own_copy(temp: Path) -> tuple[subprocess.Popen[str], Path]:
    trial = subprocess.Popen(
        [sys.executable, "-c", OWN_COPY, str(temp)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(temp)}
    )
    assert trial.stdout is not None
    own = Path(trial.stdout.readline().strip())
    assert own.parent == temp and own.name.startswith(INPUT_COPY_PREFIX), own
    return trial, own


@pytest.mark.timeout(120)
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_a_stopped_trial_s_own_copy_is_left_while_it_runs_and_swept_once_it_has_ended(stop, tmp_path):
    """The finding: the local launcher stops a trial with SIGTERM (SIGKILL after the grace
    period); its copy stayed for good. A sweep leaves it while the trial runs, removes it after."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    trial, own = _trial_with_its_own_copy(temp)
    try:
        sweep_metrics_folders(temp)
        sweep_scratch_folders(temp, now=time.time() + (LEFTOVER_LOG_DAYS + 1) * DAY)
        assert (own / "exp" / "train.csv").exists(), "a live trial's copy is never taken, however old"
    finally:
        trial.send_signal(stop)
        trial.wait()
        assert trial.stdin is not None and trial.stdout is not None
        trial.stdin.close()
        trial.stdout.close()
    assert trial.returncode == -stop
    assert own.exists(), "Python runs no atexit handler on this signal: the sweep is what removes it"
    sweep_metrics_folders(temp)  # what the local launcher sweeps at its first trial, and every kfp-local run
    assert not own.exists()


def test_a_kfp_local_run_s_sweep_removes_an_ended_process_s_copy_too(tmp_path):
    own = tmp_path / f"{INPUT_COPY_PREFIX}ended"
    (own / "exp").mkdir(parents=True)
    (own / PROCESS_LOCK).write_bytes(b"")  # its process has ended: nobody holds the lock
    sweep_scratch_folders(tmp_path)
    assert not own.exists()


def test_the_lock_is_held_from_the_moment_the_folder_bears_its_name(tmp_path, monkeypatch):
    """The lock is made aside and renamed into the folder once it is held: a sweep running
    meanwhile can never find it there unheld (and take the folder from under the live process
    that is filling it); a folder with no lock yet is young, and a sweep leaves it a week."""
    from kfp_tune.steps import trial_artifacts

    seen: list[tuple[str, bool]] = []
    plain_rename = os.rename

    def rename(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        plain_rename(source, target)
        if Path(target).name == PROCESS_LOCK:
            seen.append((Path(target).parent.name, in_use(Path(target))))

    monkeypatch.setattr(os, "rename", rename)
    monkeypatch.setattr(trial_artifacts.atexit, "register", lambda *args, **kwargs: None)
    own = trial_artifacts._own_copy_root(tmp_path)
    assert seen == [(own.name, True)] and in_use(own / PROCESS_LOCK)
    assert [p.name for p in tmp_path.iterdir()] == [own.name] and [p.name for p in own.iterdir()] == [PROCESS_LOCK]  # nothing aside
    sweep_input_copies(tmp_path)
    assert own.exists() and trial_artifacts._own_copy_root(tmp_path) == own, "its process reuses it"


def _held(path: Path) -> BinaryIO:
    """``path`` made and locked as a live process holds its copy's lock."""
    held = open(path, "w+b")  # noqa: SIM115 (closed by the test)
    fcntl.flock(held.fileno(), fcntl.LOCK_EX)
    return held


def test_only_this_user_s_ended_copies_are_removed_never_through_a_link(tmp_path):
    now = time.time()
    long_ago = now - (LEFTOVER_LOG_DAYS + 1) * DAY

    def copy(name: str, lock: bool = True) -> Path:
        folder = tmp_path / f"{INPUT_COPY_PREFIX}{name}"
        (folder / "exp").mkdir(parents=True)
        (folder / "exp" / "train.csv").write_bytes(b"1,0.5\n")
        if lock:
            (folder / PROCESS_LOCK).write_bytes(b"")
        return folder

    ended = copy("ended")
    live = copy("live")
    held = _held(live / PROCESS_LOCK)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "exp").mkdir(parents=True)
    (elsewhere / PROCESS_LOCK).write_bytes(b"")
    link = tmp_path / f"{INPUT_COPY_PREFIX}link"
    link.symlink_to(elsewhere, target_is_directory=True)
    a_file = tmp_path / f"{INPUT_COPY_PREFIX}file"
    a_file.write_bytes(b"not a folder")
    unlocked_recent = copy("unlocked-recent", lock=False)  # an older kfp-tune's copy: no lock to tell a live one by
    unlocked_old = copy("unlocked-old", lock=False)
    os.utime(unlocked_old, (long_ago, long_ago))
    other_cache = tmp_path / "kfp-tune-inputs-0"
    other_cache.mkdir()
    try:
        sweep_input_copies(tmp_path, now=now)
        assert not ended.exists()
        assert (live / "exp" / "train.csv").exists(), "a live process's copy stays"
        assert link.is_symlink() and (elsewhere / "exp").exists() and (elsewhere / PROCESS_LOCK).exists(), "no link is followed or removed"
        assert a_file.exists() and other_cache.exists()
        assert unlocked_recent.exists(), "a folder with no lock may be a live older kfp-tune's: it goes once it is a week old"
        assert not unlocked_old.exists()
    finally:
        held.close()
    sweep_input_copies(tmp_path, now=now)
    assert not live.exists(), "once its process has ended"


@pytest.mark.skipif(os.getuid() != 0, reason="plays the other user with chown, which needs root")
def test_another_user_s_ended_copy_is_left_alone(tmp_path):
    theirs = tmp_path / f"{INPUT_COPY_PREFIX}theirs"
    (theirs / "exp").mkdir(parents=True)
    (theirs / PROCESS_LOCK).write_bytes(b"")
    for path in (theirs, theirs / "exp", theirs / PROCESS_LOCK):
        os.chown(path, OTHER_UID, OTHER_UID)
    sweep_input_copies(tmp_path, now=time.time() + (LEFTOVER_LOG_DAYS + 1) * DAY)
    assert (theirs / "exp").exists() and (theirs / PROCESS_LOCK).exists()


def test_a_fallback_sweeps_the_user_s_ended_copies_before_making_its_own(tmp_path, monkeypatch):
    """The trials that fall back are the ones that leave copies: each one sweeps before its own."""
    from kfp_tune.steps import trial_artifacts

    monkeypatch.setattr(trial_artifacts.atexit, "register", lambda *args, **kwargs: None)
    ended = tmp_path / f"{INPUT_COPY_PREFIX}ended"
    (ended / "exp").mkdir(parents=True)
    (ended / PROCESS_LOCK).write_bytes(b"")
    own = trial_artifacts._own_copy_root(tmp_path)
    assert not ended.exists() and own.exists()
