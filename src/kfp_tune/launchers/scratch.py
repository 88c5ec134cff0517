"""Scratch folders under the temporary folder (``$TMPDIR``) that a run or a trial works in, and
the one rule for sweeping what a killed one left there.

A folder's log is held locked while it is in use: the process that made it takes the lock, and
the processes it starts inherit the log as their output, so the lock lasts as long as any of
them (a trial that outlives its killed launcher included). A later sweep takes a folder only
when its log is not locked, and removes a kept log :data:`LEFTOVER_LOG_DAYS` days after it was
last written. Two kinds follow it: a kfp-local run's ``kfp-tune-local-*``
(:func:`kfp_tune.pipelines.local_run.sweep_scratch_folders`) and a local trial's
``kfp-tune-metrics-*`` (:data:`METRICS_PREFIX`, :func:`sweep_metrics_folders`). A trial
process's own copy of its input (:data:`INPUT_COPY_PREFIX`) holds a lock of its own the same
way, and goes as soon as nobody holds it (:func:`sweep_input_copies`): it keeps no log to read.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

LEFTOVER_LOG_DAYS = 7.0
DAY_SECONDS = 86400.0
"""How long a kept log (a failed kfp-local run's, -v's, a killed run's or trial's) stays after it
was last written: a later run removes it then."""

METRICS_PREFIX = "kfp-tune-metrics-"
"""A local trial's folder (its output, its collector's metrics folder, a Custom collector's
shared folder, a pbt checkpoint): ``kfp-tune-metrics-*`` under the temporary folder."""
TRIAL_LOG = "trial.log"
"""The trial's output in its folder: the lock a sweep looks for."""
INPUT_COPY_PREFIX = "kfp-tune-input-copy-"
"""A trial process's own copy of its input, made when its user's cache folder fails the check
(:func:`kfp_tune.steps.trial_artifacts.input_path`): ``kfp-tune-input-copy-*`` under the
temporary folder, one per process."""
PROCESS_LOCK = ".process.lock"
"""In a folder a process keeps for itself alone (:func:`hold_folder`): held locked while the
process lives, the lock a sweep looks for. A dot name: never an experiment's (a Kubernetes name)."""


def locked_log(path: Path) -> BinaryIO:
    """``path`` made, open for writing and reading, and locked: a sweep leaves its folder alone
    while this file, or a process that inherited it, is open."""
    log = open(path, "w+b")  # noqa: SIM115 (the caller closes it, once the folder is dealt with)
    fcntl.flock(log.fileno(), fcntl.LOCK_EX)
    return log


def in_use(log: Path) -> bool:
    """Whether a process still has ``log`` open under its lock (:func:`locked_log`)."""
    try:
        with open(log, "rb") as opened:
            fcntl.flock(opened.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:  # held (BlockingIOError), gone meanwhile, or not ours to read
        return True
    return False


def hold_folder(folder: Path) -> BinaryIO:
    """``folder``'s :data:`PROCESS_LOCK`, held by this process (and whatever it forks) until it
    ends, however it ends: the kernel lets go of the lock even on SIGKILL, where no atexit
    handler runs. Locked aside first, then moved in, so a sweep never finds it there unheld."""
    aside = folder / f"{PROCESS_LOCK}.{os.getpid()}"
    held = locked_log(aside)
    try:
        os.rename(aside, folder / PROCESS_LOCK)
    except BaseException:
        held.close()
        aside.unlink(missing_ok=True)
        raise
    return held


def kept_too_long(log: Path, now: float) -> bool:
    """Whether a log nobody holds (:func:`in_use`) was last written over :data:`LEFTOVER_LOG_DAYS` days ago."""
    return now - log.stat().st_mtime > LEFTOVER_LOG_DAYS * DAY_SECONDS


def own_folder(path: Path) -> os.stat_result | None:
    """``path``'s stat when it is a folder of this user's, not a link to one; else None. One
    look that follows no link: a link swapped in between two looks cannot pass as the folder."""
    info = path.lstat()
    return info if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() else None


def sweep_metrics_folders(folder: Path | None = None, now: float | None = None) -> None:
    """Remove what local trials of a killed run left under the temporary folder (``folder``):
    a launcher killed outright (SIGKILL) cannot remove its trials' folders, and the trials
    themselves may go on writing there. A folder goes once its trial's log is not locked (the
    trial and everything it started have ended) and was last written :data:`LEFTOVER_LOG_DAYS`
    days ago; one without a log (its launcher died making it) once the folder itself is as old.
    The copies of an input such trials made of their own go too (:func:`sweep_input_copies`)."""
    now = time.time() if now is None else now

    def ended(work: Path, info: os.stat_result) -> bool:
        log = work / TRIAL_LOG
        if log.exists():
            return not in_use(log) and kept_too_long(log, now)
        return now - info.st_mtime > LEFTOVER_LOG_DAYS * DAY_SECONDS

    _sweep_own_folders(folder, METRICS_PREFIX, ended)
    sweep_input_copies(folder, now)


def sweep_input_copies(folder: Path | None = None, now: float | None = None) -> None:
    """Remove the copies of a trial's input that processes of this user's left under the
    temporary folder (``folder``): a copy of its own is removed at its process's exit, which
    Python skips on SIGTERM and SIGKILL, how the local launcher stops an early-stopped,
    timed-out or interrupted trial. A copy goes once nobody holds its :data:`PROCESS_LOCK` (its
    process and any it forked have ended); one without the lock (an older kfp-tune's, or a
    process killed while making it) once it is :data:`LEFTOVER_LOG_DAYS` days old. Only this
    user's folders, never through a link (:func:`own_folder`)."""
    now = time.time() if now is None else now

    def ended(copy: Path, info: os.stat_result) -> bool:
        lock = copy / PROCESS_LOCK
        try:
            has_lock = stat.S_ISREG(lock.lstat().st_mode)  # a link or a pipe there is no lock of ours: not opened
        except FileNotFoundError:
            has_lock = False
        if has_lock:
            return not in_use(lock)
        return now - info.st_mtime > LEFTOVER_LOG_DAYS * DAY_SECONDS

    _sweep_own_folders(folder, INPUT_COPY_PREFIX, ended)


def _sweep_own_folders(folder: Path | None, prefix: str, ended: Callable[[Path, os.stat_result], bool]) -> None:
    """Remove each of this user's folders named ``prefix*`` under the temporary folder
    (``folder``) that ``ended`` says is left over; never one through a link or another user's
    (:func:`own_folder`), and one another sweep removed meanwhile is no error."""
    for path in Path(folder or tempfile.gettempdir()).glob(prefix + "*"):
        with contextlib.suppress(OSError):
            info = own_folder(path)
            if info is not None and ended(path, info):
                shutil.rmtree(path, ignore_errors=True)
