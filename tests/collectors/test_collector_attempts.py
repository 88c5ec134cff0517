"""A trial's pod made again under its name is a new attempt for kfp-tune's collector sidecar too:
only the latest attempt's observations are the trial's (its result, early stopping, a resumed
PrometheusMetric series), as only the attempt that completes reports under Katib.

The Training Operator deletes a failed pod and makes it again under the same name (``restartPolicy:
ExitCode``; an evicted pod under ``OnFailure``), with a new uid and a new ``emptyDir``. Katib's
collector in the failed pod never reports (it waits for a ``completed`` marker the failed command
never writes: pkg/metricscollector/v1beta1/common/pns.go). kfp-tune's sidecar stores as the trial
reports, so it tells attempts apart by its pod's uid (the downward API file ``uid``); a pod with no
such file (made by an older kfp-tune) is followed as before.

Each pod is played here by :func:`kfp_tune.collectors.sidecar.run` with its own pod-info folder,
and its emptyDir by the metrics path made anew; each sidecar is stopped (``stop`` set: one final
read), as the kubelet stops it when the pod's trial container ends."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune.collectors import collect_file, collect_stored, collect_tfevent, observe
from kfp_tune.collectors.observe import CollectedReader, ObservationWriter, read_collected
from kfp_tune.collectors.running import RunningMetrics
from kfp_tune.collectors.sidecar import run
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.observation import MetricLog
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState
from kfp_tune.steps import init_experiment

TRIAL = "quad-remade1"
PRIMARY = 'training.kubeflow.org/job-role="master"\n'
STATE = TrialState(name=TRIAL, index=0, round="", assignment={}, created="")


def _pod(tmp_path: Path, uid: str | None) -> Path:
    """A pod's downward API folder: its labels, and its uid when its kfp-tune writes one."""
    folder = tmp_path / f"pod-{uid or 'old'}"
    folder.mkdir(exist_ok=True)
    (folder / "labels").write_text(PRIMARY)
    if uid is not None:
        (folder / "uid").write_text(uid)
    return folder


def _sidecar(records: ExperimentRecords, pod_info: Path) -> int:
    """A pod's sidecar, stopped once its trial container has ended: one final read and ``done``."""
    stop = threading.Event()
    stop.set()
    return run(records, TRIAL, stop, poll_seconds=0.01, pod_info=pod_info)


def _setup(local_store: Any, collector: dict[str, Any]) -> tuple[ExperimentRecords, Experiment]:
    experiment = load_experiment(quadratic_experiment(**{"spec.metricsCollectorSpec": collector,
                                                         "spec.trialTemplate.primaryPodLabels": {"training.kubeflow.org/job-role": "master"}}))
    records = ExperimentRecords(local_store, experiment.name)
    init_experiment(records, experiment)
    return records, experiment


def _losses(logs: list[MetricLog]) -> list[float]:
    return [m.value for m in logs if m.name == "loss"]


def _write_events(folder: Path, values: list[float], wall: float) -> None:
    """An event file (its name says its start time, as TensorFlow names it) with ``loss`` at steps 0, 1, ..."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(folder), filename_suffix=f".{int(wall)}")
    for step, value in enumerate(values):
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="loss", simple_value=value)])
        writer.add_event(event_pb2.Event(wall_time=wall + step, step=step, summary=summary))
    writer.close()


def _empty_dir(path: Path) -> Path:
    """The pod's emptyDir at the metrics folder: gone with the pod, empty in the next one."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def test_a_remade_pods_event_files_are_the_trials_observation_not_the_failed_attempts(tmp_path: Path, local_store: Any) -> None:
    folder = tmp_path / "logs"
    records, experiment = _setup(local_store, {"collector": {"kind": "TensorFlowEvent"}, "source": {"fileSystemPath": {"path": str(folder), "kind": "Directory"}}})
    _write_events(_empty_dir(folder), [0.01], wall=1_700_000_000.0)  # the failed attempt (it diverged, printed a low loss, crashed)
    assert _sidecar(records, _pod(tmp_path, "uid-failed")) == 1
    _write_events(_empty_dir(folder), [0.5, 0.4], wall=1_700_000_050.0)  # the pod made again: another event file
    assert _sidecar(records, _pod(tmp_path, "uid-again")) == 2
    assert _losses(collect_tfevent(records, experiment, STATE)) == pytest.approx([0.5, 0.4])  # float32 in an event file
    assert _losses(RunningMetrics(records, experiment, TRIAL).read()) == pytest.approx([0.5, 0.4])


def test_early_stopping_sees_only_the_remade_pods_file(tmp_path: Path, local_store: Any) -> None:
    log = tmp_path / "logs" / "metrics.log"
    records, experiment = _setup(local_store, {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": str(log), "kind": "File", "format": "TEXT"}}})
    _empty_dir(log.parent)
    log.write_text("loss=0.9\nloss=0.01\n")
    assert _sidecar(records, _pod(tmp_path, "uid-failed")) == 2
    running = RunningMetrics(records, experiment, TRIAL)  # the launcher's, kept across polls
    assert _losses(running.read()) == [0.9, 0.01]  # judged while the failed attempt ran
    _empty_dir(log.parent)
    log.write_text("loss=0.9\n")  # the new attempt starts as the failed one did
    writer = ObservationWriter(records, TRIAL, pod="uid-again")  # its sidecar, at a poll while it runs
    writer.write({"metrics.log": [MetricLog("loss", 0.9, 0)]})
    assert _losses(running.read()) == [0.9]
    assert not CollectedReader(records, TRIAL).finished()  # the failed attempt's done record is not the new attempt's
    log.write_text("loss=0.9\nloss=0.5\n")
    assert _sidecar(records, _pod(tmp_path, "uid-again")) == 1  # a restarted container goes on where its attempt's records end
    assert _losses(running.read()) == [0.9, 0.5]
    assert CollectedReader(records, TRIAL).finished()
    assert _losses(collect_file(records, experiment, STATE)) == [0.9, 0.5]


class _Endpoint:
    """The trial's PrometheusMetric endpoint, as each scrape finds it."""

    def __init__(self) -> None:
        self.text = ""

    def __call__(self, url: str, timeout: float = 0.0) -> str:
        return self.text


PROMETHEUS = {"collector": {"kind": "PrometheusMetric"}, "source": {"httpGet": {"port": 9100, "path": "/metrics"}}}


def test_a_remade_pods_prometheus_series_starts_afresh(tmp_path: Path, local_store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = _Endpoint()
    monkeypatch.setattr(observe, "scrape", endpoint)
    records, experiment = _setup(local_store, PROMETHEUS)
    endpoint.text = "loss 0.01\n"
    assert _sidecar(records, _pod(tmp_path, "uid-failed")) == 1
    endpoint.text = "loss 0.5\n"  # the new pod's endpoint
    assert _sidecar(records, _pod(tmp_path, "uid-again")) == 1
    assert _losses(collect_stored(records, experiment, STATE)) == [0.5]
    endpoint.text = "loss 0.4\n"
    assert _sidecar(records, _pod(tmp_path, "uid-again")) == 1  # its own container restarted: its series goes on
    assert _losses(read_collected(records, TRIAL)) == [0.5, 0.4]


def test_a_pod_of_an_older_kfp_tune_with_no_uid_file_is_followed_as_before(tmp_path: Path, local_store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """No uid to tell a new pod from a restarted container: the series goes on from what is stored, as before."""
    endpoint = _Endpoint()
    monkeypatch.setattr(observe, "scrape", endpoint)
    records, _ = _setup(local_store, PROMETHEUS)
    for text in ("loss 0.01\n", "loss 0.5\n"):
        endpoint.text = text
        assert _sidecar(records, _pod(tmp_path, None)) == 1
    assert _losses(read_collected(records, TRIAL)) == [0.01, 0.5]
    assert [k.rsplit("/", 1)[-1] for k in local_store.list(records.reports_prefix(TRIAL)) if "attempt" in k] == []  # nothing new stored


def test_the_attempts_are_numbered_in_the_order_their_pods_started(local_store: Any) -> None:
    records = ExperimentRecords(local_store, "quad")
    first = ObservationWriter(records, TRIAL, pod="a")
    first.write({"m": [MetricLog("loss", 1.0, 0)]})
    second = ObservationWriter(records, TRIAL, pod="b")
    third = ObservationWriter(records, TRIAL, pod="c")
    assert (first.attempt, second.attempt, third.attempt, ObservationWriter(records, TRIAL, pod="b").attempt) == (0, 1, 2, 1)
    third.write({"m": [MetricLog("loss", 3.0, 0)]})
    assert read_collected(records, TRIAL) == [MetricLog("loss", 3.0, 0)]  # the latest attempt, though it stored nothing before
    second.write({"m": [MetricLog("loss", 2.0, 0)]})  # an earlier pod's late flush
    assert read_collected(records, TRIAL) == [MetricLog("loss", 3.0, 0)]
