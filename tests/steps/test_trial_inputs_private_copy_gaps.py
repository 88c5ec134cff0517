"""The checks a trial's input cache folder must pass and the lifecycle of the process's own
copy folder (``kfp-tune-input-copy-*``) it falls back to, where the tests of
test_trial_inputs_cache.py and test_trial_inputs_copy_sweep.py left a changed line unnoticed
(mutation pass, session 31: ta-02, ta-06, ta-07, ta-09, ta-10, ta-12, ta-18, ta-22, ta-28,
ta-29, sc-02, sc-06, sc-08, sc-11, sc-13)."""

from __future__ import annotations

import atexit
import gc
import logging
import os
import shutil
import stat
import tempfile
import threading
import time
import warnings as warnings_module
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from memory_store import MemoryStore

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.launchers import scratch
from kfp_tune.launchers.scratch import (
    DAY_SECONDS,
    INPUT_COPY_PREFIX,
    LEFTOVER_LOG_DAYS,
    METRICS_PREFIX,
    PROCESS_LOCK,
    hold_folder,
    in_use,
    sweep_input_copies,
    sweep_metrics_folders,
)
from kfp_tune.steps import trial_artifacts
from kfp_tune.steps.trial_artifacts import ArtifactError, file_input, input_path, record_run_inputs, stage_input
from kfp_tune.stores import open_store, register_scheme

LOGGER = "kfp_tune.steps.trial_artifacts"
KEPT = LEFTOVER_LOG_DAYS * DAY_SECONDS


class Trial:
    """A staged dataset (``train.csv`` and ``sub/more.csv``) of experiment ``exp`` in a memory
    store, a trial to read it, and a temporary folder (1777, as /tmp) of the test's own; this
    process's own-copy bookkeeping starts empty and its locks are let go at the end."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        stores: dict[str, MemoryStore] = {}
        register_scheme("memgaps", lambda uri: stores.setdefault(uri, MemoryStore(uri)))
        uri = "memgaps://team"
        records = ExperimentRecords(open_store(uri), "exp")
        data = tmp_path / "data"
        (data / "sub").mkdir(parents=True)
        (data / "train.csv").write_bytes(b"label,x\n1,0.5\n")
        (data / "sub" / "more.csv").write_bytes(b"2,0.25\n")
        self.data = data
        brought = file_input("dataset", data)
        stage_input(records, brought)
        record_run_inputs(records, "run-1", [brought])
        experiment = load_experiment(quadratic_experiment(**{"metadata.name": "exp"}))
        (trial,) = steps.suggest(records, "run-1-r000", 1, experiment, run_id="run-1", n=1)
        steps.close_run(records, "run-1")
        for name, value in (("KFP_TUNE_STORE", uri), ("KFP_TUNE_EXPERIMENT", "exp"), ("KFP_TUNE_TRIAL", trial)):
            monkeypatch.setenv(name, value)
        self.tmp = tmp_path / "tmp"
        self.tmp.mkdir()
        os.chmod(self.tmp, 0o1777)
        monkeypatch.setattr(tempfile, "tempdir", str(self.tmp))
        self.cache = self.tmp / f"kfp-tune-inputs-{os.getuid()}"
        self.digest = brought.digest
        self.locks: dict[Path, BinaryIO] = {}
        monkeypatch.setattr(trial_artifacts, "_own_copies", {})
        monkeypatch.setattr(trial_artifacts, "_own_copy_locks", self.locks)
        monkeypatch.setattr(trial_artifacts, "_warned", set())
        monkeypatch.setattr(atexit, "register", lambda *args, **kwargs: None)  # the test's tmp_path goes anyway

    def level(self, name: str) -> Path:
        return {"cache": self.cache, "experiment": self.cache / "exp", "digest": self.cache / "exp" / self.digest}[name]

    def private_levels(self) -> None:
        """The cache's folders made as a trial makes them, each 0700."""
        for name in ("cache", "experiment", "digest"):
            self.level(name).mkdir(mode=0o700, exist_ok=True)
            os.chmod(self.level(name), 0o700)

    def copy_folders(self) -> list[Path]:
        return sorted(p for p in self.tmp.iterdir() if p.name.startswith(INPUT_COPY_PREFIX))

    def own_copy(self, got: Path) -> Path:
        """The process's own copy folder an input was fetched into (``<own>/exp/<digest>/dataset``)."""
        own = got.parents[2]
        assert own.parent == self.tmp and own.name.startswith(INPUT_COPY_PREFIX), got
        return own

    def read_whole(self, got: Path) -> None:
        assert (got / "train.csv").read_bytes() == (self.data / "train.csv").read_bytes()
        assert (got / "sub" / "more.csv").read_bytes() == (self.data / "sub" / "more.csv").read_bytes()


@pytest.fixture
def trial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_plugin_registries: None) -> Iterator[Trial]:
    made = Trial(tmp_path, monkeypatch)
    yield made
    for lock in made.locks.values():
        lock.close()


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


# --- which cache folder is refused, and said why ---------------------------------------------


@pytest.mark.parametrize("level", ["cache", "digest"])
@pytest.mark.parametrize("opened", [0o770, 0o750, 0o707, 0o701])
def test_a_cache_folder_open_to_the_group_only_or_to_others_only_is_never_used(opened, level, trial, caplog):
    """A folder open to the group (a shared group on a shared machine) is as open as one open to
    everyone: either half of the bits lets another user in."""
    trial.private_levels()
    os.chmod(trial.level(level), opened)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        got = input_path()
    trial.read_whole(got)
    assert not got.is_relative_to(trial.cache)
    trial.own_copy(got)
    [warning] = warnings(caplog)
    assert f"{trial.level(level)} is not used" in warning and f"has mode {oct(opened)}" in warning


def test_a_link_at_the_cache_s_place_is_said_to_be_a_link(trial, caplog):
    elsewhere = trial.tmp / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    trial.cache.symlink_to(elsewhere, target_is_directory=True)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        got = input_path()
    trial.read_whole(got)
    assert list(elsewhere.iterdir()) == []
    [warning] = warnings(caplog)
    assert f"{trial.cache} is not used for input 'dataset': it is a link;" in warning


def test_a_file_at_the_cache_s_place_is_said_to_be_no_folder(trial, caplog):
    """A file of this user's own: the warning says what is wrong with it, not that it is another user's."""
    trial.cache.write_bytes(b"not a folder")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        got = input_path()
    trial.read_whole(got)
    assert trial.cache.read_bytes() == b"not a folder"
    [warning] = warnings(caplog)
    assert f"{trial.cache} is not used for input 'dataset': it is not a folder;" in warning and "belongs to user" not in warning


def test_a_cache_folder_that_cannot_be_made_leads_to_the_process_s_own_copy(trial, monkeypatch, caplog):
    """Any error making a level (no permission, a full disk), not only one already there: the
    input is fetched into the process's own folder, never a raw OSError out of input_path."""
    plain_mkdir = Path.mkdir

    def mkdir(self: Path, *args: Any, **kwargs: Any) -> None:
        if self == trial.cache:
            raise PermissionError(13, "Permission denied")
        plain_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        got = input_path()
    trial.read_whole(got)
    trial.own_copy(got)
    [warning] = warnings(caplog)
    assert f"{trial.cache} is not used" in warning and "cannot be made (Permission denied)" in warning


def test_the_folders_of_a_fetched_input_are_private_under_any_umask(trial):
    before = os.umask(0o022)
    try:
        got = input_path()
    finally:
        os.umask(before)
    trial.read_whole(got)
    assert mode(got) == 0o700 and mode(got / "sub") == 0o700
    assert mode(got / "sub" / "more.csv") == 0o600


# --- the process's own copy folder -----------------------------------------------------------


def _fall_back(trial: Trial) -> Path:
    """The cache open to others: input_path fetches into this process's own folder; that folder."""
    trial.private_levels()
    os.chmod(trial.cache, 0o777)
    got = input_path()
    trial.read_whole(got)
    return trial.own_copy(got)


def test_an_own_folder_removed_meanwhile_is_made_again_under_a_lock_of_its_own(trial):
    """Removed between two input_path calls (a sweep, the user): the next one makes a new folder
    and holds its lock, so a sweep leaves it alone while the process reads it."""
    first = _fall_back(trial)
    shutil.rmtree(first)
    got = input_path()
    trial.read_whole(got)
    second = trial.own_copy(got)
    assert second != first
    assert (second / PROCESS_LOCK).is_file() and in_use(second / PROCESS_LOCK)
    sweep_input_copies(trial.tmp, now=time.time() + 2 * KEPT)
    trial.read_whole(got)


def test_an_own_folder_tampered_with_is_replaced_and_let_go_for_a_sweep(trial):
    """Opened to others meanwhile: the next call makes a new folder, and lets go of the old
    one's lock, so that a sweep takes what is left of it."""
    first = _fall_back(trial)
    os.chmod(first, 0o777)
    with warnings_module.catch_warnings(record=True) as seen:
        warnings_module.simplefilter("always", ResourceWarning)
        second = trial.own_copy(input_path())
        gc.collect()
    assert second != first and in_use(second / PROCESS_LOCK)
    # gc.collect() also finds what earlier tests of this worker left (a notebook kernel's zmq
    # sockets, seen on a fresh clone's CI): only a file of this trial's folders is the lock's
    left = [str(w.message) for w in seen if issubclass(w.category, ResourceWarning) and (str(first) in str(w.message) or PROCESS_LOCK in str(w.message))]
    assert left == [], "the old lock is closed, not left to the garbage collector"
    assert not in_use(first / PROCESS_LOCK)
    sweep_input_copies(trial.tmp)
    assert not first.exists() and second.exists()


def test_an_input_that_cannot_be_kept_private_even_in_the_own_folder_is_an_artifact_error(trial):
    """A folder below the process's own tampered with (opened to others) after a first fetch:
    the next input_path refuses with the error a trial is told about, naming the folder."""
    own = _fall_back(trial)
    os.chmod(own / "exp", 0o777)
    with pytest.raises(ArtifactError, match=r"cannot keep input 'dataset' where only this user can read it: .*/exp has mode 0o777"):
        input_path()


def test_an_own_folder_that_cannot_be_locked_is_removed(trial, monkeypatch):
    def refused(folder: Path) -> BinaryIO:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(trial_artifacts, "hold_folder", refused)
    trial.private_levels()
    os.chmod(trial.cache, 0o777)
    with pytest.raises(ArtifactError, match=r"cannot lock the private folder .* No space left on device"):
        input_path()
    assert trial.copy_folders() == []


def test_a_lock_that_cannot_be_moved_in_leaves_nothing_aside_and_nothing_held(tmp_path, monkeypatch):
    def rename(source: Any, target: Any) -> None:
        raise OSError(5, "Input/output error")

    with monkeypatch.context() as patched:
        patched.setattr(os, "rename", rename)
        with pytest.raises(OSError, match="Input/output error"):
            hold_folder(tmp_path)
    assert list(tmp_path.iterdir()) == []
    held = hold_folder(tmp_path)  # nothing of the failed try is in its way
    try:
        assert [p.name for p in tmp_path.iterdir()] == [PROCESS_LOCK] and in_use(tmp_path / PROCESS_LOCK)
    finally:
        held.close()


# --- the sweep of own copies -----------------------------------------------------------------


def _copy(tmp: Path, name: str, written: float) -> Path:
    folder = tmp / f"{INPUT_COPY_PREFIX}{name}"
    (folder / "exp").mkdir(parents=True)
    (folder / "exp" / "train.csv").write_bytes(b"1,0.5\n")
    os.utime(folder, (written, written))
    return folder


def test_a_local_run_s_sweep_ages_lockless_copies_by_the_time_it_is_given(tmp_path):
    """sweep_metrics_folders(now=...) sweeps the copies by the same clock as the metrics folders."""
    written = time.time()
    copy = _copy(tmp_path, "older-kfp-tune", written)
    sweep_metrics_folders(tmp_path, now=written + KEPT - 1)
    assert copy.exists()
    sweep_metrics_folders(tmp_path, now=written + KEPT + 1)
    assert not copy.exists()


def test_both_sweeps_keep_a_lockless_folder_exactly_the_days_kept_old_and_remove_it_after(tmp_path):
    written = float(int(time.time()) - 10)
    copy = _copy(tmp_path, "older-kfp-tune", written)
    metrics = tmp_path / f"{METRICS_PREFIX}killed-launcher"
    metrics.mkdir()
    os.utime(metrics, (written, written))
    sweep_metrics_folders(tmp_path, now=written + KEPT)
    assert copy.exists() and metrics.exists()
    sweep_metrics_folders(tmp_path, now=written + KEPT + 1)
    assert not copy.exists() and not metrics.exists()


def test_a_lock_that_is_a_link_is_no_lock_of_the_copy_s(tmp_path):
    """A link at the lock's name, to a lock a live process holds elsewhere, does not keep an
    old copy: it goes as a copy with no lock does, once it is old."""
    written = time.time() - 2 * KEPT
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    held = hold_folder(elsewhere)
    try:
        copy = _copy(tmp_path, "linked-lock", written)
        (copy / PROCESS_LOCK).symlink_to(elsewhere / PROCESS_LOCK)
        os.utime(copy, (written, written))
        sweep_input_copies(tmp_path)
        assert not copy.exists()
        assert in_use(elsewhere / PROCESS_LOCK), "what the link pointed to is left alone"
    finally:
        held.close()


def test_a_lock_that_is_a_pipe_neither_blocks_the_sweep_nor_keeps_the_copy(tmp_path):
    written = time.time() - 2 * KEPT
    copy = _copy(tmp_path, "piped-lock", written)
    pipe = copy / PROCESS_LOCK
    os.mkfifo(pipe)
    os.utime(copy, (written, written))
    sweep = threading.Thread(target=sweep_input_copies, args=(tmp_path,), daemon=True)
    sweep.start()
    sweep.join(60)
    if sweep.is_alive():  # blocked opening the pipe: a writer lets it go, and the test fails
        with open(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK), "wb"):
            sweep.join(60)
        pytest.fail("the sweep blocked opening a pipe at the lock's name")
    assert not copy.exists()


def test_a_copy_removed_by_another_sweep_meanwhile_fails_no_sweep(tmp_path, monkeypatch):
    written = time.time() - 2 * KEPT
    gone = _copy(tmp_path, "gone", written)
    others = [_copy(tmp_path, f"left-{n}", written) for n in range(3)]
    plain = scratch.own_folder

    def own_folder(path: Path) -> os.stat_result | None:
        if path == gone:
            raise FileNotFoundError(2, "No such file or directory", str(path))
        return plain(path)

    monkeypatch.setattr(scratch, "own_folder", own_folder)
    sweep_input_copies(tmp_path)
    assert [p for p in others if p.exists()] == []
    metrics = [tmp_path / f"{METRICS_PREFIX}{n}" for n in range(2)]
    for folder in metrics:
        folder.mkdir()
        os.utime(folder, (written, written))
    monkeypatch.setattr(scratch, "own_folder", lambda path: own_folder(gone if path == metrics[0] else path))
    sweep_metrics_folders(tmp_path)
    assert not metrics[1].exists()
