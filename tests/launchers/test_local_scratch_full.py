"""A local trial that fails while the temporary folder's file system is full (its own output
refused: No space left on device) did not fail on its own: a container's stdout is a stream,
which never fills. It is given back (TrialStale), nothing counts towards maxFailedTrialCount,
and the run stops naming the folder. The full file system is a fake ``os.fstatvfs`` (no tmpfs
without root); the trial's failure is a real ENOSPC (a write to /dev/full)."""

from __future__ import annotations

import errno
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.errors import TrialMachineryFailed
from kfp_tune.core.interfaces import TrialRun
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import TRIAL_STALE, ExperimentView
from kfp_tune.core.vocabulary import LaunchPhase, TrialStatus
from kfp_tune.launchers import local
from kfp_tune.launchers.local import LocalLauncher
from kfp_tune.stores import LocalStore

REFUSED_WRITE = "print('loss=0.5', flush=True)\nopen('/dev/full', 'wb', buffering=0).write(b'x' * 1048576)\n"
"""A trial whose write is refused with ENOSPC: it exits 1, as a trial printing to a full TMPDIR does."""


def _script(folder: Path, code: str, name: str = "trial") -> Path:
    path = folder / f"{name}.py"
    path.write_text(code)
    return path


def _trial(folder: Path, code: str, name: str = "t") -> TrialRun:
    command = ["python3", str(_script(folder, code, name))]
    manifest = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
                "spec": {"template": {"spec": {"containers": [{"name": "main", "command": command}]}}}}
    return TrialRun("e", name, manifest, {}, "main", metrics_collector={"collector": {"kind": "StdOut"}})


class _Statvfs:
    """What ``os.fstatvfs`` says of a file system: ``free`` blocks of ``total_blocks``, and
    ``files`` free files."""

    def __init__(self, free: int, files: int = 100, total_files: int = 1000, total_blocks: int = 1000):
        self.f_bfree = self.f_bavail = free
        self.f_ffree = self.f_favail = files
        self.f_files = total_files
        self.f_blocks = total_blocks


def _fake_fstatvfs(monkeypatch: pytest.MonkeyPatch, free: int, files: int = 100, total_files: int = 1000, total_blocks: int = 1000) -> None:
    monkeypatch.setattr(local.os, "fstatvfs", lambda fd: _Statvfs(free, files, total_files, total_blocks))


def test_a_trial_that_fails_on_a_full_temporary_folder_stops_the_run_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_fstatvfs(monkeypatch, free=0)
    with pytest.raises(TrialMachineryFailed) as raised:
        LocalLauncher().run(_trial(tmp_path, REFUSED_WRITE))
    message = str(raised.value)
    assert f"the temporary folder {tempfile.gettempdir()} (TMPDIR)" in message
    assert "is full: the trial ended exit code 1" in message and "No space left on device" in message
    assert "run the same command again to resume" in message
    assert "loss=0.5" in raised.value.logs["main"] and "Errno 28" in raised.value.logs["main"]  # what it printed is kept


def test_a_trial_that_fails_with_room_left_is_failed_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_fstatvfs(monkeypatch, free=1)
    outcome = LocalLauncher().run(_trial(tmp_path, REFUSED_WRITE))
    assert outcome.phase == LaunchPhase.FAILED and outcome.reason == "Error"


def test_a_trial_that_succeeds_on_a_full_temporary_folder_keeps_its_success(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_fstatvfs(monkeypatch, free=0)
    assert LocalLauncher().run(_trial(tmp_path, "print('loss=0.5')")).phase == LaunchPhase.SUCCEEDED


def test_a_trial_that_looks_after_another_trial_freed_room_is_still_given_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The QA run (3 trials at once on a 2 MB TMPDIR): the trial whose output was refused looked
    after another trial had ended and its folder was removed, freeing 1 MiB, and was Failed.
    The file system is full while trial b ends, free again once trial a looks."""
    full = [False]
    monkeypatch.setattr(local.os, "fstatvfs", lambda fd: _Statvfs(0 if full[0] else 1))
    waits = f"import pathlib, time\npathlib.Path({str(tmp_path / 'ready')!r}).touch()\nwhile not pathlib.Path({str(tmp_path / 'go')!r}).exists():\n    time.sleep(0.01)\n"
    launcher = LocalLauncher()
    raised: list[BaseException] = []

    def run_a() -> None:
        try:
            launcher.run(_trial(tmp_path, waits + REFUSED_WRITE, "a"))
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=run_a)
    thread.start()
    while not (tmp_path / "ready").exists():  # trial a runs
        time.sleep(0.01)
    full[0] = True
    assert launcher.run(_trial(tmp_path, "print('loss=0.5')", "b")).phase == LaunchPhase.SUCCEEDED
    full[0] = False  # b's folder removed: room again
    (tmp_path / "go").touch()
    thread.join()
    assert len(raised) == 1 and isinstance(raised[0], TrialMachineryFailed), raised
    assert f"the temporary folder {tempfile.gettempdir()} (TMPDIR), where a local trial's output and scratch files go, was full at " in str(raised[0])


def test_a_file_system_that_reports_no_size_is_never_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tmpfs mounted with size=0 (no limit) says 0 blocks of 0 free, as a FUSE file system
    answering zeros does: called full, every trial failing for its own reason stopped the run."""
    _fake_fstatvfs(monkeypatch, free=0, files=0, total_files=0, total_blocks=0)
    outcome = LocalLauncher().run(_trial(tmp_path, REFUSED_WRITE))
    assert outcome.phase == LaunchPhase.FAILED and outcome.reason == "Error"


def test_a_file_system_full_long_before_the_trial_failed_leaves_the_failure_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process filled the disk for a moment (the first look), and the trial failed well
    after room came back: its failure is its own, not the disk's."""
    looked = tmp_path / "looked"
    calls: list[int] = []

    def fstatvfs(fd: int) -> _Statvfs:
        calls.append(fd)
        looked.touch()
        return _Statvfs(0 if len(calls) == 1 else 1)

    monkeypatch.setattr(local.os, "fstatvfs", fstatvfs)
    monkeypatch.setattr(local, "SCRATCH_LOOK_SECONDS", 0.0, raising=False)
    monkeypatch.setattr(local, "SCRATCH_FULL_RECENT_SECONDS", 0.2, raising=False)
    waits = f"import pathlib, time\nwhile not pathlib.Path({str(looked)!r}).exists():\n    time.sleep(0.01)\ntime.sleep(0.5)\n"  # 0.5 s after the full look, at the least
    outcome = LocalLauncher().run(_trial(tmp_path, waits + REFUSED_WRITE))
    assert outcome.phase == LaunchPhase.FAILED and outcome.reason == "Error"


def test_a_file_system_full_early_and_again_just_before_the_failure_is_why_it_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mutation QA (F08): the disk full for a moment early on, room again, then full again just
    before the trial's write was refused: the latest full moment is the one that counts (the
    trial is given back, not failed). The launcher's clock is a fake one, so no timing decides."""

    class Clock:
        now = 100.0

        def monotonic(self) -> float:
            return self.now

        def time(self) -> float:
            return 1_000_000.0 + self.now

    clock = Clock()
    monkeypatch.setattr(local, "time", clock)
    _fake_fstatvfs(monkeypatch, free=0)
    launcher = LocalLauncher()
    assert launcher._seen_full(0)  # full early on
    clock.now = 100.0 + 10 * local.SCRATCH_FULL_RECENT_SECONDS
    assert launcher._seen_full(0)  # and again just before the trial failed
    ended = clock.now + 1.0
    assert launcher._full_near(ended) == clock.time(), "the latest full moment, near the failure"
    assert launcher._full_near(ended + 2 * local.SCRATCH_FULL_RECENT_SECONDS) is None, "long before the failure: not why it failed"


def test_a_file_system_that_cannot_answer_is_not_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An NFS TMPDIR's statfs answered ESTALE: that ended the run as a defect in kfp-tune."""

    def stale(fd: int) -> _Statvfs:
        raise OSError(errno.ESTALE, "Stale file handle")

    monkeypatch.setattr(local.os, "fstatvfs", stale)
    waits = "import time\ntime.sleep(0.7)\n"  # past a poll
    outcome = LocalLauncher().run(_trial(tmp_path, waits + REFUSED_WRITE))
    assert outcome.phase == LaunchPhase.FAILED and outcome.reason == "Error"


def test_a_running_trial_asks_the_file_system_rarely(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not at every poll: a hung statfs (NFS) would hold up the deadline, an interrupt and early
    stopping. Polls every 0.01 s for 0.5 s, looks at most every minute: one look running, one at the end."""
    calls: list[int] = []

    def fstatvfs(fd: int) -> _Statvfs:
        calls.append(fd)
        return _Statvfs(1)

    monkeypatch.setattr(local.os, "fstatvfs", fstatvfs)
    monkeypatch.setattr(local, "POLL_SECONDS", 0.01)
    monkeypatch.setattr(local, "SCRATCH_LOOK_SECONDS", 60.0, raising=False)
    assert LocalLauncher().run(_trial(tmp_path, "import time\ntime.sleep(0.5)\nprint('loss=0.5')")).phase == LaunchPhase.SUCCEEDED
    assert len(calls) <= 2, len(calls)


@pytest.mark.parametrize(
    ("free", "files", "total_files", "total_blocks", "full"),
    [
        (0, 10, 100, 1000, True), (1, 10, 100, 1000, False), (5, 0, 100, 1000, True),
        (5, 0, 0, 1000, False),  # total_files 0: a file system that does not count files
        (0, 0, 0, 0, False),  # total_blocks 0: one that reports no size (tmpfs size=0, a FUSE one)
    ],
)
def test_scratch_full_reads_blocks_and_files_free(monkeypatch: pytest.MonkeyPatch, free: int, files: int, total_files: int, total_blocks: int, full: bool) -> None:
    _fake_fstatvfs(monkeypatch, free, files, total_files, total_blocks)
    assert local.scratch_full(0) is full


@pytest.mark.parametrize(
    ("euid", "blocks_kept", "files_kept", "full"),
    [
        pytest.param(1000, True, False, True, id="user-blocks-only-roots-left"),
        pytest.param(1000, False, True, True, id="user-files-only-roots-left"),
        pytest.param(0, True, False, False, id="root-blocks-kept-for-it"),
        pytest.param(0, False, True, False, id="root-files-kept-for-it"),
    ],
)
def test_scratch_full_reads_what_this_user_may_use(monkeypatch: pytest.MonkeyPatch, euid: int, blocks_kept: bool, files_kept: bool, full: bool) -> None:
    """Mutation QA (F05): ext4 keeps 5% of its blocks for root, so a non-root user's TMPDIR is
    full while blocks (f_bfree) are free that only root may use (f_bavail 0): for that user it
    is full, and for root, who may use them, it is not."""
    info = _Statvfs(5)
    if blocks_kept:
        info.f_bavail = 0
    if files_kept:
        info.f_favail = 0
    monkeypatch.setattr(local.os, "fstatvfs", lambda fd: info)
    monkeypatch.setattr(local.os, "geteuid", lambda: euid)
    assert local.scratch_full(0) is full


def test_kfp_tune_run_gives_the_trial_back_and_exits_1_naming_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    """The QA reproduction (a 2 MB TMPDIR, trials printing 1 MiB): the trials were Failed, the
    experiment failed on maxFailedTrialCount, and nothing said No space left on device."""
    doc = quadratic_experiment()
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["command"] = ["python3", str(_script(tmp_path, REFUSED_WRITE))]
    doc["spec"]["parallelTrialCount"] = 1
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(doc))
    _fake_fstatvfs(monkeypatch, free=0)
    assert main(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "store")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"error: the temporary folder {tempfile.gettempdir()} (TMPDIR), where a local trial's output and scratch files go, is full" in err, err
    state = ExperimentView(ExperimentRecords(LocalStore(tmp_path / "store"), "quad")).state
    (trial,) = state.trials
    assert trial.result is not None and (trial.result.status, trial.result.reason) == (TrialStatus.KILLED, TRIAL_STALE)
    assert trial.given_back and state.given_back == 1  # counts towards neither budget nor maxFailedTrialCount
