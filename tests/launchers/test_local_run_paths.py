"""LocalLauncher's trial run, where the other local launcher tests left a path unwatched (found
by altering each line of it in a scratch copy): a workingDir that is no folder here starts
nothing, one gone between the look and the start is still named, a program not found in a
folder that is there is named itself, a Custom collector that cannot start fails the trial
before it starts, a trial the run's interrupt found ended is still the interrupt's, an
interrupted trial keeps its log (cut as a finished one's is), the last line of a trial that
ended without a newline is judged whole, a trial stopped at its end on a full scratch file
system is early stopped, not the disk's failure, and one that failed on it keeps its Custom
collector's output."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.errors import RunInterrupted, TrialMachineryFailed
from kfp_tune.core.interfaces import TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import load_state
from kfp_tune.core.vocabulary import EARLY_STOP_MESSAGE, EARLY_STOP_REASON, LaunchPhase
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import kept_log, local
from kfp_tune.launchers.local import LocalLauncher

UNREAD_PARAMETERS = [{"name": "X", "value": "${trialParameters.x}"}, {"name": "Y", "value": "${trialParameters.y}"}]
"""Every parameter reaches the trial, as Katib requires, in variables the trial does not read."""

WAIT = 120.0
"""Seconds to wait for what a correct launcher does at once."""


def _trial(container: dict[str, Any], experiment: str = "e", **run: Any) -> TrialRun:
    """A Job's trial, run in exec form (the Push collector's), each word as it is."""
    manifest = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "t"}, "spec": {"template": {"spec": {"containers": [{"name": "main", **container}]}}}}
    return TrialRun(experiment, "t", manifest, {}, "main", metrics_collector={"collector": {"kind": "Push"}}, **run)


def _python(script: str) -> dict[str, Any]:
    return {"command": [sys.executable, "-c", script]}


def _wait_for(path: Path) -> None:
    event = threading.Event()
    for _ in range(int(WAIT / 0.01)):
        if path.exists():
            return
        event.wait(0.01)
    raise AssertionError(f"{path} never came")


def test_a_working_dir_that_is_no_folder_here_starts_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Looked at before anything starts: no "running" line for a trial that never ran (nor its
    collector beside it), only the folder named."""
    caplog.set_level("INFO", logger=local.__name__)
    missing = str(tmp_path / "not-made-yet")
    outcome = LocalLauncher().run(_trial({**_python("print(1)"), "workingDir": missing}))
    assert (outcome.phase, outcome.reason) == (LaunchPhase.FAILED, "StartError")
    assert outcome.message == f"workingDir {missing!r}: no such folder on this machine; create it or map it with --mount"
    assert not [record for record in caplog.records if ": running " in record.getMessage()]


def test_a_working_dir_gone_between_the_look_and_the_start_is_still_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The folder removed once the launcher looked (as another process may): Popen's error
    names the folder it could not enter, and so does the trial's message, not the command."""
    missing = tmp_path / "removed"
    real_isdir = os.path.isdir
    monkeypatch.setattr(local.os.path, "isdir", lambda path: True if path == os.fsencode(missing) else real_isdir(path))
    outcome = LocalLauncher().run(_trial({**_python("print(1)"), "workingDir": str(missing)}))
    assert (outcome.phase, outcome.reason) == (LaunchPhase.FAILED, "StartError")
    assert outcome.message == f"workingDir {str(missing)!r}: no such folder on this machine; create it or map it with --mount"


def test_a_program_not_found_in_a_working_dir_that_is_here_is_named_itself(tmp_path: Path) -> None:
    outcome = LocalLauncher().run(_trial({"command": ["kfp-tune-test-no-such-program"], "workingDir": str(tmp_path)}))
    assert (outcome.phase, outcome.reason) == (LaunchPhase.FAILED, "StartError")
    assert outcome.message == "cannot start 'kfp-tune-test-no-such-program': No such file or directory"


def _with_custom_collector(collector_command: list[str], trial_command: list[str]) -> Experiment:
    """The quadratic experiment, one trial, with a Custom collector beside it."""
    return load_experiment(quadratic_experiment(**{
        "spec.maxTrialCount": 1,
        "spec.parallelTrialCount": 1,
        "spec.maxFailedTrialCount": 1,
        "spec.metricsCollectorSpec": {
            "collector": {"kind": "Custom", "customCollector": {"name": "c", "image": "c", "command": collector_command}},
            "source": {"fileSystemPath": {"path": "/katib/out.log", "kind": "File"}},
        },
        "spec.trialTemplate.trialSpec.spec.template.spec.containers": [{"name": "main", "env": UNREAD_PARAMETERS, "image": "python:3.11", "command": trial_command}],
    }))


def test_a_custom_collector_that_cannot_start_fails_the_trial_before_it_starts(tmp_path: Path, local_store: Any) -> None:
    ran = tmp_path / "trial-ran"
    experiment = _with_custom_collector([str(tmp_path / "no-such-collector")], ["python3", "-c", f"open({str(ran)!r}, 'w').close()"])
    run_inline(local_store, experiment, LocalLauncher(env={"KFP_TUNE_STORE": local_store.uri}))
    (trial,) = load_state(ExperimentRecords(local_store, "quad")).trials
    assert trial.result is not None and trial.status == "Failed"
    assert trial.result.reason.endswith("StartError"), trial.result.reason
    assert "cannot start the metrics collector: [Errno 2] No such file or directory" in trial.result.message, trial.result.message
    assert not ran.exists(), "the trial never started"


def _run_in_thread(launcher: LocalLauncher, trial: TrialRun) -> tuple[threading.Thread, list[BaseException]]:
    raised: list[BaseException] = []

    def run() -> None:
        try:
            launcher.run(trial)
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, raised


def test_a_trial_the_interrupt_found_ended_is_still_the_interrupts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The interrupt's flag seen by the trial's watch, which stopped it, before the interrupt
    looked which trials still ran (it had ended by then, so it is not among them): stopped by
    the run all the same (RunInterrupted), not a trial that failed on its own."""
    monkeypatch.setattr(local, "POLL_SECONDS", 0.02)
    ready = tmp_path / "ready"
    launcher = LocalLauncher()
    thread, raised = _run_in_thread(launcher, _trial(_python(f"import pathlib, time; pathlib.Path({str(ready)!r}).touch(); time.sleep(3600)")))
    _wait_for(ready)
    launcher._interrupted.set()  # as interrupt() has set it, its look at the running trials still to come
    thread.join(WAIT)
    assert not thread.is_alive()
    assert [type(exc) for exc in raised] == [RunInterrupted]


def test_an_interrupted_trial_keeps_what_it_printed_cut_as_a_finished_ones_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its head and tail, and between them the lines that name a metric (:mod:`kept_log`)."""
    monkeypatch.setattr(kept_log, "LOG_HEAD_BYTES", 2000)
    monkeypatch.setattr(kept_log, "LOG_TAIL_BYTES", 5000)
    ready = tmp_path / "ready"
    script = (
        "import pathlib, sys, time\n"
        "print('first line')\n"
        "for _ in range(20): print('x' * 1000)\n"
        "print('loss=0.25')\n"
        "for _ in range(20): print('y' * 1000)\n"
        "print('last line', flush=True)\n"
        f"pathlib.Path({str(ready)!r}).touch()\n"
        "time.sleep(3600)\n"
    )
    launcher = LocalLauncher()
    thread, raised = _run_in_thread(launcher, _trial(_python(script), metric_names=("loss",)))
    _wait_for(ready)
    launcher.interrupt(force=True)
    thread.join(WAIT)
    assert not thread.is_alive()
    (exc,) = raised
    assert isinstance(exc, RunInterrupted)
    log = exc.logs["main"]
    assert log.startswith("first line\n") and log.endswith("y" * 1000 + "\nlast line\n")
    assert "\nloss=0.25\n" in log, "the line naming a metric is kept from the middle left out"
    assert len(log.encode()) < 20 * 1000, "cut"


def test_a_trial_that_ended_on_a_line_without_a_newline_is_judged_with_that_line_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "POLL_SECONDS", 3600.0)  # no look while it runs: only the one at its end
    seen: list[str] = []

    def should_stop(text: str) -> bool:
        seen.append(text)
        return text.endswith("loss=1.5\n")

    outcome = LocalLauncher().run(_trial(_python("import sys; sys.stdout.write('loss=3.0\\nloss=1.5')"), should_stop=should_stop))
    assert seen == ["loss=3.0\nloss=1.5\n"]
    assert (outcome.phase, outcome.reason, outcome.message) == (LaunchPhase.EARLY_STOPPED, EARLY_STOP_REASON, EARLY_STOP_MESSAGE)


class _Full:
    """What ``os.fstatvfs`` says of a full file system."""

    f_bfree = f_bavail = f_ffree = f_favail = 0
    f_files = f_blocks = 1000


def test_a_trial_stopped_at_its_end_is_early_stopped_on_a_full_scratch_file_system_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """It failed as its write was refused, but early stopping had it stopped on what it printed
    before: EarlyStopped, not the disk's failure that stops the run."""
    monkeypatch.setattr(local, "POLL_SECONDS", 3600.0)
    monkeypatch.setattr(local.os, "fstatvfs", lambda fd: _Full())
    script = "print('loss=0.5', flush=True); open('/dev/full', 'wb', buffering=0).write(b'x' * 1048576)"
    outcome = LocalLauncher().run(_trial(_python(script), should_stop=lambda text: "loss=0.5" in text))
    assert (outcome.phase, outcome.reason, outcome.exit_code) == (LaunchPhase.EARLY_STOPPED, EARLY_STOP_REASON, 1)


def test_a_trial_that_failed_on_a_full_scratch_file_system_keeps_its_custom_collectors_output(tmp_path: Path, local_store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the run stops with (TrialMachineryFailed) carries every log the trial's end would
    have kept: its Custom collector's too."""
    monkeypatch.setattr(local.os, "fstatvfs", lambda fd: _Full())
    ready = tmp_path / "collector-ready"
    collector = f"import pathlib, time; print('collector ran', flush=True); pathlib.Path({str(ready)!r}).touch(); time.sleep(3600)"
    refused = (f"import pathlib, time\nwhile not pathlib.Path({str(ready)!r}).exists(): time.sleep(0.01)\n"
               "open('/dev/full', 'wb', buffering=0).write(b'x' * 1048576)\n")
    experiment = _with_custom_collector(["python3", "-c", collector], ["python3", "-c", refused])
    steps.prepare(ExperimentRecords(local_store, experiment.name), experiment, "run-1")
    trial = _trial({"command": ["python3", "-c", refused]}, experiment=experiment.name)
    with pytest.raises(TrialMachineryFailed) as raised:
        LocalLauncher(env={"KFP_TUNE_STORE": local_store.uri}).run(trial)
    assert raised.value.logs["c"] == "collector ran\n"
    assert "No space left on device" in raised.value.logs["main"]
