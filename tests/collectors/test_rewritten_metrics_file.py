"""A File-collector trial that rewrites its metrics file (``open(path, "w")`` each epoch), as
kfp-tune's collector follows it: Katib's collector reads the file whole once the trial has ended
(cmd/metricscollector/v1beta1/file-metricscollector/main.go, reportMetrics ->
CollectObservationLog), so the trial's observation is the file's last content; its early
stopping tails the file, re-opened when cut, so each content's values are new reports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune.collectors import collect_file
from kfp_tune.collectors.observe import CollectedReader, CollectorSource, Follower, ObservationWriter, read_collected
from kfp_tune.collectors.running import RunningMetrics
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.core.vocabulary import CollectorKind, LaunchPhase
from kfp_tune.launchers import LocalLauncher
from kfp_tune.steps import init_experiment
from kfp_tune.steps.prepare import prepare

UNREAD_PARAMETERS = [{"name": "X", "value": "${trialParameters.x}"}, {"name": "Y", "value": "${trialParameters.y}"}]
"""Every parameter reaches the trial, as Katib requires, in variables the trial does not read."""

TRIAL = "quad-t1"
TEXT = CollectorSource(kind=CollectorKind.FILE, names=("loss",), path="/katib/metrics.log", path_kind="File")
JSON = CollectorSource(kind=CollectorKind.FILE, names=("loss",), path="/katib/metrics.json", path_kind="File", file_format="JSON")


def _values(logs: Any) -> list[float]:
    return [m.value for m in logs]


@pytest.mark.parametrize(("source", "line"), [(TEXT, "epoch={epoch} loss={loss}\n"), (JSON, '{{"epoch": "{epoch}", "loss": "{loss}"}}\n')])
def test_a_rewritten_file_counts_its_last_content_and_early_stopping_sees_every_value(local_store: Any, tmp_path: Path, source: CollectorSource, line: str) -> None:
    metrics = tmp_path / "metrics"
    records = ExperimentRecords(local_store, "quad")
    follower, writer = Follower(source, local=metrics), ObservationWriter(records, TRIAL)
    for epoch, loss in enumerate([0.9, 0.5, 0.1]):
        metrics.write_text(line.format(epoch=epoch, loss=loss))  # the trial rewrites the file
        writer.write(follower.poll())
    writer.write(follower.poll(final=True))
    assert _values(read_collected(records, TRIAL)) == [0.1]  # the file at the end, as Katib reads it
    assert _values(CollectedReader(records, TRIAL).read_as_reported()) == [0.9, 0.5, 0.1]  # each a new report


def test_a_file_rewritten_longer_or_shorter_or_appended_to(local_store: Any, tmp_path: Path) -> None:
    """A rewrite that starts with what was stored only adds to it (a trial writing its whole
    history anew each epoch); one with fewer values or others starts a content of its own."""
    metrics = tmp_path / "metrics.log"
    records = ExperimentRecords(local_store, "quad")
    follower, writer = Follower(TEXT, local=metrics), ObservationWriter(records, TRIAL)
    contents = ["loss=0.9\n", "loss=0.9\nloss=0.8\n", "loss=0.9\nloss=0.8\nloss=0.7\n", "loss=0.9\n", "loss=0.6\nloss=0.5\n"]
    stored = []
    for content in contents:
        metrics.write_text(content)
        stored.append(writer.write(follower.poll()))
    assert stored == [1, 1, 1, 1, 2]
    assert _values(read_collected(records, TRIAL)) == [0.6, 0.5]
    assert _values(CollectedReader(records, TRIAL).read_as_reported()) == [0.9, 0.8, 0.7, 0.9, 0.6, 0.5]


def test_a_restarted_writer_goes_on_from_the_last_content_and_sees_a_rewrite_made_meanwhile(local_store: Any, tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.log"
    records = ExperimentRecords(local_store, "quad")
    follower = Follower(TEXT, local=metrics)
    metrics.write_text("loss=0.9\n")
    ObservationWriter(records, TRIAL).write(follower.poll())
    metrics.write_text("loss=0.5\n")
    ObservationWriter(records, TRIAL).write(follower.poll())  # a sidecar restarted: the file was rewritten
    metrics.write_text("loss=0.5\nloss=0.4\n")
    restarted = ObservationWriter(records, TRIAL)
    assert restarted.stored() == {"metrics.log": read_collected(records, TRIAL)}  # the last content
    assert restarted.write(follower.poll()) == 1  # the same content grown: only the new value
    assert restarted.write(follower.poll(final=True)) == 0
    assert _values(read_collected(records, TRIAL)) == [0.5, 0.4]
    assert _values(CollectedReader(records, TRIAL).read_as_reported()) == [0.9, 0.5, 0.4]


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"the collector never {what}"
        time.sleep(0.05)


def test_the_sidecar_process_keeps_a_rewritten_files_last_content(local_store: Any, tmp_path: Path) -> None:
    """``python -m kfp_tune.collectors.sidecar``, as a trial's pod runs it on a cluster with no
    metrics volume (its records are what collect-metrics reads), beside a trial rewriting its file."""
    log = tmp_path / "logs" / "metrics.log"
    log.parent.mkdir()
    collector = {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": str(log), "kind": "File", "format": "TEXT"}}}
    experiment = load_experiment(quadratic_experiment(**{"spec.metricsCollectorSpec": collector}))
    records = ExperimentRecords(local_store, experiment.name)
    init_experiment(records, experiment)
    env = {**os.environ, "KFP_TUNE_STORE": local_store.uri, "KFP_TUNE_EXPERIMENT": experiment.name, "KFP_TUNE_TRIAL": TRIAL}
    argv = [sys.executable, "-m", "kfp_tune.collectors.sidecar", "--poll-seconds", "0.05", "--pod-info", str(tmp_path / "none")]
    running = RunningMetrics(records, experiment, TRIAL)
    sidecar = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for epoch, loss in enumerate([0.9, 0.5, 0.1]):
            log.write_text(f"epoch={epoch} loss={loss}\n")
            _wait_for(lambda value=loss: value in _values(running.read()), f"stored loss={loss}")
    finally:
        sidecar.send_signal(signal.SIGTERM)
        _, err = sidecar.communicate(timeout=60)
    assert sidecar.returncode == 0, err
    trial = TrialState(name=TRIAL, index=0, round="", assignment={"x": "0.5", "y": "0.5"}, created="")
    assert [(m.name, m.value, m.step) for m in collect_file(records, experiment, trial)] == [("loss", 0.1, 0)]
    assert _values(running.read()) == [0.9, 0.5, 0.1]  # early stopping saw each epoch's value


# Rewrites its metrics file each epoch, each time once the collector has stored the one before.
REWRITES = """
import pathlib, sys, time
metrics, reports = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for epoch, loss in enumerate([0.9, 0.5, 0.1]):
    metrics.write_text(f"epoch={epoch} loss={loss}\\n")
    deadline = time.monotonic() + 60
    while len(list(reports.glob("collector-*.json"))) <= epoch and time.monotonic() < deadline:
        time.sleep(0.02)
"""


def test_the_local_launcher_keeps_a_rewritten_files_last_content(local_store: Any, tmp_path: Path) -> None:
    """Locally the file comes back with the trial's outcome and collect-metrics reads it whole at
    the end (already its last content); the follower that early stopping reads, run beside the
    trial only with early stopping, now sees each content too."""
    script = tmp_path / "trial.py"
    script.write_text(REWRITES)
    records = ExperimentRecords(local_store, "quad")
    reports = local_store.root / records.reports_prefix(TRIAL)
    doc = quadratic_experiment(
        **{
            "spec.metricsCollectorSpec": {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/katib/metrics.log", "kind": "File"}}},
            "spec.earlyStopping": {"algorithmName": "medianstop"},
            "spec.trialTemplate.trialSpec.spec.template.spec.containers": [{"name": "main", "env": UNREAD_PARAMETERS, "image": "t", "command": ["python3", str(script), "/katib/metrics.log", str(reports)]}],
        }
    )
    experiment = load_experiment(doc)
    prepare(records, experiment)
    outcome = LocalLauncher(env={"KFP_TUNE_STORE": local_store.uri}).run(trial_run(experiment, TrialState(TRIAL, 0, "r0", {"x": "0.5", "y": "0.5"}, "")))
    assert outcome.phase == LaunchPhase.SUCCEEDED, (outcome.message, outcome.logs)
    assert list(outcome.files.values()) == [b"epoch=2 loss=0.1\n"]  # what collect-metrics reads
    assert _values(read_collected(records, TRIAL)) == [0.1]
    assert _values(CollectedReader(records, TRIAL).read_as_reported()) == [0.9, 0.5, 0.1]
