"""What runs beside a local trial, where test_local_custom_collector.py leaves off.

The Custom collector's process: this Python for ``python3``, its args, its own env (the
launcher's, its container's, never store credentials; container paths mapped to the shared
folder; an env entry without a value is empty), its working directory, its own session, no
terminal input, stderr and bytes that are not UTF-8 kept in its log; a command given as a string
is refused, a ``valueFrom`` entry is refused by name, one that cannot start fails the trial before
the trial runs. The File collector's follower: it runs exactly when early stopping needs it, and
everything the trial wrote is stored (and marked done) by the time ``run`` returns. A store that
does not hold the trial's experiment is no error."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune.collectors.observe import CollectedReader, read_collected
from kfp_tune.core.interfaces import LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.launchers import LocalLauncher
from kfp_tune.steps.prepare import prepare
from kfp_tune.stores import LocalStore

UNREAD_PARAMETERS = [{"name": "X", "value": "${trialParameters.x}"}, {"name": "Y", "value": "${trialParameters.y}"}]
"""Every parameter reaches the trial, as Katib requires, in variables the trial does not read."""

COLLECTOR = r"""
import json, os, pathlib, stat, sys, time
shared = pathlib.Path(sys.argv[1])
st, null = os.fstat(0), os.stat(os.devnull)
names = ["KFP_TUNE_EXPERIMENT", "KFP_TUNE_TRIAL", "KFP_TUNE_STORE", "AWS_SECRET_ACCESS_KEY", "VISIBLE", "SHARED", "EMPTY"]
info = {
    "executable": sys.executable, "args": sys.argv[1:], "cwd": os.getcwd(), "own_session": os.getsid(0) == os.getpid(),
    "stdin_is_null": stat.S_ISCHR(st.st_mode) and st.st_rdev == null.st_rdev, "env": {n: os.environ.get(n) for n in names},
}
sys.stderr.write("on stderr\n")
sys.stderr.flush()
sys.stdout.buffer.write(b"\xff\n")
print(json.dumps(info), flush=True)
(shared / "collector-ready").write_text("yes")
time.sleep(3600)
"""

TRIAL = r"""
import os, pathlib, sys, time
shared = pathlib.Path(sys.argv[1])
for _ in range(6000):  # a bound for a broken launcher only: a working one readies the collector first
    if (shared / "collector-ready").exists():
        break
    time.sleep(0.01)
print(os.path.realpath(shared))
"""

FAKE_PYTHON = '#!/bin/sh\necho "a python3 from PATH, not this one"\ntouch "$3/collector-ready"\n'


@contextlib.contextmanager
def stdin_with_input() -> Iterator[None]:
    """This process's stdin a pipe holding a line, as a terminal or a pipeline would give it."""
    read_end, write_end = os.pipe()
    saved = os.dup(0)
    os.dup2(read_end, 0)
    try:
        os.write(write_end, b"typed\n")
        yield
    finally:
        os.dup2(saved, 0)
        for fd in (saved, read_end, write_end):
            os.close(fd)


def _prepared(tmp_path: Path, **overrides: Any) -> tuple[LocalStore, ExperimentRecords, TrialRun]:
    doc = quadratic_experiment(**{"spec.maxFailedTrialCount": 1, **overrides})
    experiment = load_experiment(doc)
    store = LocalStore(tmp_path / "store")
    records = ExperimentRecords(store, experiment.name)
    prepare(records, experiment)
    return store, records, trial_run(experiment, TrialState("quad-t1", 0, "r0", {"x": "0.5", "y": "0.5"}, ""))


def _custom(tmp_path: Path, custom: dict[str, Any], trial_command: list[str] | None = None) -> tuple[LaunchOutcome, str]:
    """One trial of an experiment with this Custom collector; (its outcome, the store's URI)."""
    script = tmp_path / "trial.py"
    script.write_text(TRIAL)
    store, _, run = _prepared(
        tmp_path,
        **{
            "spec.metricsCollectorSpec": {"collector": {"kind": "Custom", "customCollector": custom}, "source": {"fileSystemPath": {"path": "/katib/m.log", "kind": "File"}}},
            "spec.trialTemplate.trialSpec.spec.template.spec.containers": [
                {"name": "main", "env": UNREAD_PARAMETERS, "image": "t", "command": trial_command or ["python3", str(script), "/katib"]}
            ],
        },
    )
    return LocalLauncher(env={"KFP_TUNE_STORE": store.uri}).run(run), store.uri


def test_the_custom_collectors_process_gets_its_own_args_env_folder_and_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "python3").write_text(FAKE_PYTHON)
    (fake_bin / "python3").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}{os.pathsep}{os.environ.get('PATH', os.defpath)}")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-key")
    monkeypatch.setenv("VISIBLE", "yes")
    custom = {
        "name": "my-collector", "image": "me/collector", "command": ["python3"], "args": ["-c", COLLECTOR, "/katib"],
        "env": [{"name": "SHARED", "value": "/katib/sub"}, {"name": "EMPTY"}], "workingDir": "/katib",
    }
    with stdin_with_input():
        outcome, store_uri = _custom(tmp_path, custom)
    assert outcome.phase == LaunchPhase.SUCCEEDED, (outcome.message, outcome.logs)
    shared = outcome.logs["main"].strip()  # the trial's view of /katib
    assert shared != "/katib" and Path(shared).name  # a folder of this machine's, not the container path
    log = outcome.logs["my-collector"]
    assert log.startswith("on stderr\n\ufffd\n"), "stderr and undecodable bytes are kept in the collector's log"
    info = json.loads(log.splitlines()[-1])
    assert info["executable"] == sys.executable, "python3 is this Python, not the first one on PATH"
    assert info["args"] == [shared], "its args, /katib mapped to the folder the trial sees"
    assert os.path.realpath(info["cwd"]) == shared
    assert info["own_session"] and info["stdin_is_null"]
    assert info["env"] == {
        "KFP_TUNE_EXPERIMENT": "quad", "KFP_TUNE_TRIAL": "quad-t1", "KFP_TUNE_STORE": store_uri,
        "AWS_SECRET_ACCESS_KEY": None, "VISIBLE": "yes", "SHARED": os.path.join(info["cwd"], "sub"), "EMPTY": "",
    }


@pytest.mark.parametrize("field", ["command", "args"])
def test_a_custom_collector_whose_command_or_args_is_a_string_is_refused(tmp_path: Path, field: str) -> None:
    custom: dict[str, Any] = {"name": "c", "image": "c", "command": ["python3"], "args": ["collect.py"]}
    custom[field] = " ".join(custom[field])
    outcome, _ = _custom(tmp_path, custom)
    assert (outcome.phase, outcome.reason) == (LaunchPhase.FAILED, "InvalidTrial")
    assert "customCollector" in outcome.message and "lists" in outcome.message


def test_env_from_a_cluster_is_refused_naming_the_variable(tmp_path: Path) -> None:
    custom = {"name": "c", "image": "c", "command": ["python3", "c.py"], "env": [{"name": "OK", "value": "1"}, {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}
    outcome, _ = _custom(tmp_path, custom)
    assert (outcome.phase, outcome.reason) == (LaunchPhase.FAILED, "InvalidTrial")
    assert "customCollector.env[1]" in outcome.message and "'POD_NAME'" in outcome.message


def test_a_custom_collector_that_cannot_start_fails_the_trial_before_it_runs(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-collector")
    marker = tmp_path / "trial-ran"
    outcome, _ = _custom(tmp_path, {"name": "c", "image": "c", "command": [missing]}, trial_command=["python3", "-c", f"open({str(marker)!r}, 'w')"])
    assert (outcome.phase, outcome.reason) == (LaunchPhase.FAILED, "StartError")
    assert missing in outcome.message
    assert not marker.exists()


# --- the follower of a File collector ------------------------------------------------------------

WRITES_METRICS = "import sys; open(sys.argv[1], 'w').write('loss=0.5\\nloss=0.25\\n')"
MEDIANSTOP = {"algorithmName": "medianstop", "algorithmSettings": [{"name": "min_trials_required", "value": "2"}, {"name": "start_step", "value": "4"}]}


def _file_trial(tmp_path: Path, collector: str, early_stopping: bool) -> tuple[ExperimentRecords, LaunchOutcome]:
    overrides: dict[str, Any] = {
        "spec.metricsCollectorSpec": {"collector": {"kind": collector}, **({"source": {"fileSystemPath": {"path": "/katib/metrics.log", "kind": "File"}}} if collector == "File" else {})},
        "spec.trialTemplate.trialSpec.spec.template.spec.containers": [
            {"name": "main", "env": UNREAD_PARAMETERS, "image": "t", "command": ["python3", "-c", shlex.quote(WRITES_METRICS), "/katib/metrics.log" if collector == "File" else os.devnull]}
        ],
    }
    if early_stopping:
        overrides["spec.earlyStopping"] = MEDIANSTOP
    store, records, run = _prepared(tmp_path, **overrides)
    return records, LocalLauncher(env={"KFP_TUNE_STORE": store.uri}).run(run)


def test_with_early_stopping_a_file_collectors_observations_are_stored_by_the_time_run_returns(tmp_path: Path) -> None:
    records, outcome = _file_trial(tmp_path, "File", early_stopping=True)
    assert outcome.phase == LaunchPhase.SUCCEEDED, (outcome.message, outcome.logs)
    assert [(m.name, m.value) for m in read_collected(records, "quad-t1")] == [("loss", 0.5), ("loss", 0.25)]
    assert CollectedReader(records, "quad-t1").finished(), "the follower said it is done"


@pytest.mark.parametrize(("collector", "early_stopping"), [("File", False), ("StdOut", True), ("StdOut", False)])
def test_without_a_file_collector_and_early_stopping_nothing_follows_the_trial(tmp_path: Path, collector: str, early_stopping: bool) -> None:
    """The files come back with the outcome (File), the output is the log (StdOut): a follower
    would only store a second copy."""
    records, outcome = _file_trial(tmp_path, collector, early_stopping)
    assert outcome.phase == LaunchPhase.SUCCEEDED, (outcome.message, outcome.logs)
    assert records.store.list(records.reports_prefix("quad-t1")) == []


def test_a_store_without_the_trials_experiment_is_no_error(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "empty-store")
    manifest = {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {"containers": [{"name": "main", "command": [sys.executable, "-c", "print('ran')"]}]}}}}
    outcome = LocalLauncher(env={"KFP_TUNE_STORE": store.uri}).run(TrialRun("not-stored", "t", manifest, {}, "main", metrics_collector={"collector": {"kind": "Push"}}))
    assert (outcome.phase, outcome.logs["main"]) == (LaunchPhase.SUCCEEDED, "ran\n")


def test_a_store_that_cannot_be_read_fails_the_trial_under_its_own_reason(tmp_path: Path) -> None:
    """Not as a checkpoint that could not be made: the experiment has none, and the user should
    look at the store."""
    container = {"name": "main", "env": UNREAD_PARAMETERS, "image": "t", "command": [sys.executable, "-c", "print('ran')"]}
    store, records, run = _prepared(tmp_path, **{"spec.trialTemplate.trialSpec.spec.template.spec.containers": [container]})
    stored = next((tmp_path / "store").rglob(f"*{records.experiment_key().rsplit('/', 1)[-1]}*"))
    stored.write_text("{ not json")
    outcome = LocalLauncher(env={"KFP_TUNE_STORE": store.uri}).run(run)
    assert (outcome.phase, outcome.reason) == (LaunchPhase.FAILED, "StoreUnavailable")
    assert outcome.message.startswith("the trial's experiment could not be read from the store: ") and "checkpoint" not in outcome.message
