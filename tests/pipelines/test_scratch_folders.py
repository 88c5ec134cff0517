"""A kfp-local run's scratch folder (``kfp-tune-local-*``: kfp.local's log, the spec, the
pipeline root) outlived a ``kfp-tune run`` killed outright, and nobody was told where it was.
The next kfp-local run finds it once the run's processes are gone, names its log once, keeps
only the log, and removes it a week after it was last written."""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from pathlib import Path

import pytest

from kfp_tune.pipelines.local_run import KFP_LOCAL_LOG, LEFTOVER_LOG_DAYS, SCRATCH_PREFIX, STARTING_PREFIX, sweep_scratch_folders

DAY = 86400.0


def _scratch(under: Path, name: str, *, whole: bool = True, log_days_old: float = 0.0) -> Path:
    """A scratch folder as a run leaves it: whole (a killed run's) or cut to its log (a failed run's, -v's)."""
    work = under / f"kfp-tune-local-{name}"
    work.mkdir()
    if whole:
        (work / "experiment.json").write_text("{}")
        (work / "pipeline-root" / "launch-trials").mkdir(parents=True)
    log = work / KFP_LOCAL_LOG
    log.write_text("Executing task 'launch-trials'\n")
    written = time.time() - log_days_old * DAY
    os.utime(log, (written, written))
    return work


def test_a_killed_runs_scratch_folder_is_named_once_cut_to_its_log_and_removed_after_a_week(tmp_path):
    killed = _scratch(tmp_path, "killed")
    running = _scratch(tmp_path, "running")
    failed = _scratch(tmp_path, "failed", whole=False)
    stale = _scratch(tmp_path, "stale", whole=False, log_days_old=LEFTOVER_LOG_DAYS + 1)
    other = tmp_path / "unrelated"
    other.mkdir()
    with open(running / KFP_LOCAL_LOG, "ab") as held:  # as run_in_child's child holds it while it runs
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        assert sweep_scratch_folders(tmp_path) == [killed / KFP_LOCAL_LOG], "a killed run's log is named; a failed run's was named by its error"
        assert list(killed.iterdir()) == [killed / KFP_LOCAL_LOG], "only the log is kept"
        assert (running / "experiment.json").exists() and (running / "pipeline-root").is_dir(), "a run still going is left alone"
        assert not stale.exists(), "a kept log goes a week after it was last written"
        assert failed.exists() and other.exists()
        assert sweep_scratch_folders(tmp_path) == [], "each is named once"
    assert sweep_scratch_folders(tmp_path) == [running / KFP_LOCAL_LOG], "found once its processes are gone"
    assert sweep_scratch_folders(tmp_path, now=time.time() + (LEFTOVER_LOG_DAYS + 1) * DAY) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["unrelated"], "bounded: every kept log goes after a week"


def test_a_new_scratch_folder_is_never_seen_unlocked_by_a_sweep(tmp_path, monkeypatch):
    """Two kfp-local runs started together: one's sweep found the other's new folder before its
    log was locked (mkdtemp, open, then flock), cut its experiment.json, named a live run as
    killed, or held its probe so that the new run's non-blocking lock failed (a traceback). The
    folder gets its swept name only once its log is locked: a sweep just before and just after
    that rename leaves it whole and names nothing."""
    import kfp_tune.pipelines.local_run as local_run

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    swept: list[list[Path]] = []
    rename = os.rename

    def renamed_between_sweeps(src: str | Path, dst: str | Path) -> None:
        (Path(src) / "experiment.json").write_text("{}")  # as if the run had written it: a sweep must leave it
        swept.append(sweep_scratch_folders(tmp_path))
        rename(src, dst)
        swept.append(sweep_scratch_folders(tmp_path))

    monkeypatch.setattr(local_run.os, "rename", renamed_between_sweeps)
    work, log_file = local_run._locked_scratch_folder()
    with log_file:
        assert work.name.startswith(SCRATCH_PREFIX) and work.parent == tmp_path
        assert swept == [[], []] and (work / "experiment.json").exists(), "the live run's folder is left whole, and not named"
        assert [p.name for p in tmp_path.iterdir()] == [work.name], "no folder under the starting name is left"
    assert sweep_scratch_folders(tmp_path) == [work / KFP_LOCAL_LOG], "once its processes are gone, it is a killed run's"


def test_a_folder_of_a_run_killed_before_its_log_was_locked_goes_after_a_day(tmp_path):
    starting = tmp_path / f"{STARTING_PREFIX}abc"
    starting.mkdir()
    assert sweep_scratch_folders(tmp_path) == [] and starting.exists(), "a run starting now is left alone"
    assert sweep_scratch_folders(tmp_path, now=time.time() + DAY + 60) == [] and not starting.exists()


TRIAL = """
import os, pathlib, sys, time
here = pathlib.Path(sys.argv[1])
(here / "started").write_text(str(os.getpid()))
while not (here / "gate").exists():
    time.sleep(0.05)
"""


@pytest.mark.timeout(120)
def test_a_killed_runs_trial_folder_is_left_while_the_trial_runs_and_swept_a_week_after_it_ended(tmp_path):
    """kill -9 of a run left each local trial's kfp-tune-metrics-* folder in $TMPDIR for ever (QA).
    The trial holds its folder's log (its output) while it runs, the launcher killed or not; once
    it has ended, the folder goes a week after it was last written, as a killed run's kfp.local log does."""
    import signal
    import subprocess
    import sys

    from kfp_tune.launchers.scratch import METRICS_PREFIX, TRIAL_LOG, in_use, sweep_metrics_folders

    temp = tmp_path / "tmp"
    temp.mkdir()
    (tmp_path / "trial.py").write_text(TRIAL)
    launcher = (
        "from kfp_tune.core.interfaces import TrialRun\nfrom kfp_tune.launchers import LocalLauncher\n"
        f"container = {{'name': 'main', 'command': ['python3', {str(tmp_path / 'trial.py')!r}, {str(tmp_path)!r}]}}\n"
        "manifest = {'kind': 'Job', 'spec': {'template': {'spec': {'containers': [container]}}}}\n"
        "LocalLauncher().run(TrialRun('e', 't', manifest, {}, 'main'))\n"
    )
    run = subprocess.Popen([sys.executable, "-c", launcher], env={**os.environ, "TMPDIR": str(temp)})
    try:
        while not (tmp_path / "started").exists():
            assert run.poll() is None, "the launcher ended before its trial started"
            time.sleep(0.05)
        run.send_signal(signal.SIGKILL)
        run.wait()
        [folder] = temp.glob(METRICS_PREFIX + "*")
        log = folder / TRIAL_LOG
        long_ago = time.time() - (LEFTOVER_LOG_DAYS + 1) * DAY
        os.utime(log, (long_ago, long_ago))
        sweep_metrics_folders(temp)
        sweep_scratch_folders(temp, now=time.time() + (LEFTOVER_LOG_DAYS + 1) * DAY)
        assert log.exists(), "a live trial's folder is never taken, however old"
    finally:
        (tmp_path / "gate").write_text("")
    while in_use(log):  # the trial has ended: nothing holds its log
        time.sleep(0.05)
    sweep_metrics_folders(temp)
    assert not folder.exists(), "a week after it was last written, once the trial has ended"


def test_a_trial_folder_goes_a_week_after_its_log_was_last_written_and_a_kfp_local_run_sweeps_them_too(tmp_path):
    """An ended trial's folder goes a week after its log was last written; one without a log (its
    launcher killed while making it) a week after the folder was made; the sweep of a kfp-local
    run takes them too, and names none (the trial's result is in the store, or was never recorded)."""
    from kfp_tune.launchers.scratch import METRICS_PREFIX, TRIAL_LOG

    ended, fresh, bare = (tmp_path / f"{METRICS_PREFIX}{name}" for name in ("ended", "fresh", "bare"))
    for folder in (ended, fresh, bare):
        (folder / "mount").mkdir(parents=True)
    for folder in (ended, fresh):
        (folder / TRIAL_LOG).write_text("loss=0.5\n")
    written = time.time() - 2 * DAY
    os.utime(ended / TRIAL_LOG, (written, written))
    assert sweep_scratch_folders(tmp_path, now=time.time() + (LEFTOVER_LOG_DAYS - 3) * DAY) == []
    assert ended.exists() and fresh.exists() and bare.exists(), "kept a week"
    assert sweep_scratch_folders(tmp_path, now=time.time() + (LEFTOVER_LOG_DAYS - 1.5) * DAY) == []
    assert not ended.exists() and fresh.exists() and bare.exists()
    assert sweep_scratch_folders(tmp_path, now=time.time() + (LEFTOVER_LOG_DAYS + 0.5) * DAY) == []
    assert list(tmp_path.iterdir()) == []


def test_a_kept_log_goes_seven_days_after_it_was_last_written(tmp_path):
    """The guide's week, in days: an unlocked trial log last written 6.5 days ago stays, one 7.5 days ago goes."""
    from kfp_tune.launchers.scratch import METRICS_PREFIX, TRIAL_LOG, sweep_metrics_folders

    written = 1_700_000_000.0
    folder = tmp_path / f"{METRICS_PREFIX}ended"
    folder.mkdir()
    (folder / TRIAL_LOG).write_text("loss=0.5\n")
    os.utime(folder / TRIAL_LOG, (written, written))
    sweep_metrics_folders(tmp_path, now=written + 6.5 * DAY)
    assert folder.exists(), "kept 6.5 days after it was last written"
    sweep_metrics_folders(tmp_path, now=written + 7.5 * DAY)
    assert not folder.exists(), "gone 7.5 days after it was last written"


def test_the_trial_folders_are_swept_once_per_process_at_its_first_local_trial(monkeypatch):
    """The sweep of what killed runs left (sweep_metrics_folders) runs at this process's first local
    trial, not before it and not again at each later trial (a folder listing per trial)."""
    import threading

    from kfp_tune.core.interfaces import TrialRun
    from kfp_tune.launchers import LocalLauncher, local

    sweeps = []
    monkeypatch.setattr(local, "_swept", threading.Event())  # as a fresh process has it
    monkeypatch.setattr(local, "sweep_metrics_folders", lambda: sweeps.append(True))
    manifest = {"kind": "Job", "spec": {"template": {"spec": {"containers": [{"name": "main", "command": ["true"]}]}}}}
    launcher = LocalLauncher()
    assert sweeps == []
    for trial in ("t-1", "t-2"):
        assert launcher.run(TrialRun("e", trial, manifest, {}, "main")).phase == "Succeeded"
        assert sweeps == [True], trial
    assert LocalLauncher().run(TrialRun("e", "t-3", manifest, {}, "main")).phase == "Succeeded" and sweeps == [True]
