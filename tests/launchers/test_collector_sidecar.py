"""Metrics collectors on a cluster, as Katib's webhook adds them to a trial's pod: an emptyDir at
the metrics folder and kfp-tune's collector as a native sidecar (File, TensorFlowEvent), the
same sidecar scraping the trial's endpoint (PrometheusMetric), the user's container (Custom); and
the sidecar itself, run as a process against a real store, following a file while a trial writes
it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import DATA, quadratic_experiment
from fake_kube import TRAINING_OPERATOR, FakeKube, validate
from kfp_tune.collectors import collect_file
from kfp_tune.collectors.observe import DONE_STAMP, CollectedReader, ObservationWriter, read_collected
from kfp_tune.collectors.sidecar import CONTAINER_NAME, run
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.observation import MetricLog
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import TrialState
from kfp_tune.launchers.kubernetes import KubernetesConfig, render_manifest
from kfp_tune.launchers.kubernetes.kinds import trial_kind
from kfp_tune.launchers.kubernetes.manifests import ClusterSettings, prepare_manifest
from kfp_tune.steps import init_experiment

STORE_ENV = {"KFP_TUNE_STORE": "s3://mlpipeline/kfp-tune", "KFP_TUNE_S3_ENDPOINT": "http://minio:9000"}
CONFIG = KubernetesConfig(namespace="team-a", store_secret="mlpipeline-minio-artifact")  # no metricsVolume
SECRET_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


def _pods(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    spec = manifest["spec"]
    if manifest["kind"] == "Job":
        return [spec["template"]["spec"]]
    replicas = next(v for k, v in spec.items() if k.endswith("ReplicaSpecs"))
    return [r["template"]["spec"] for r in replicas.values()]


def _container(pod: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in pod.get("containers", []) + pod.get("initContainers", []) if c["name"] == name)


@pytest.mark.parametrize(
    ("example", "folder"),
    [
        ("metrics-collector_file-metrics-collector.yaml", "/katib"),
        ("metrics-collector_file-metrics-collector-with-json-format.yaml", "/katib"),
        ("early-stopping_median-stop-with-json-format.yaml", "/katib"),
        ("kubeflow-training-operator_tfjob-mnist-with-summaries.yaml", "/mnist-with-summaries-logs"),
    ],
)
def test_katibs_file_and_tfevent_examples_render_with_a_sidecar_and_no_metrics_volume(example: str, folder: str):
    experiment = load_experiment(DATA / "katib-examples" / example)
    manifest = render_manifest(experiment, config=CONFIG, env=STORE_ENV)
    validate(manifest)  # the kind's schema, strict
    fake = FakeKube(TRAINING_OPERATOR)
    group, _, version = manifest["apiVersion"].rpartition("/")
    status, answer, _ = fake.handle("POST", f"/apis/{group}/{version}/namespaces/team-a/{trial_kind(manifest).plural}", manifest)
    assert status == 201, answer
    primary = experiment.spec.trial_template.primary_container_name
    for pod in _pods(manifest):
        volume = next(v for v in pod["volumes"] if v["name"] == "kfp-tune-metrics")
        assert volume == {"name": "kfp-tune-metrics", "emptyDir": {}}
        trainer = _container(pod, primary)
        assert {"name": "kfp-tune-metrics", "mountPath": folder} in trainer["volumeMounts"]
        (sidecar,) = [c for c in pod["initContainers"] if c["name"] == CONTAINER_NAME]
        assert sidecar["restartPolicy"] == "Always"  # a native sidecar: it does not hold the pod up
        assert sidecar["command"] == ["python3", "-m", "kfp_tune.collectors.sidecar"]
        assert {"name": "kfp-tune-metrics", "mountPath": folder} in sidecar["volumeMounts"]
        env = {e["name"]: e for e in sidecar["env"]}
        assert env["KFP_TUNE_STORE"]["value"] == STORE_ENV["KFP_TUNE_STORE"] and env["KFP_TUNE_TRIAL"]["value"] == manifest["metadata"]["name"]
        for name in SECRET_VARIABLES:  # credentials by Secret reference, never as values
            assert "value" not in env[name] and env[name]["valueFrom"]["secretKeyRef"]["name"] == "mlpipeline-minio-artifact"


def test_the_sidecar_image_is_the_launchers_setting_else_kfp_tune_image(monkeypatch):
    experiment = load_experiment(DATA / "katib-examples" / "metrics-collector_file-metrics-collector.yaml")
    monkeypatch.setenv("KFP_TUNE_IMAGE", "registry.example/kfp-tune:test")
    pod = _pods(render_manifest(experiment, config=CONFIG))[0]
    assert _container(pod, CONTAINER_NAME)["image"] == "registry.example/kfp-tune:test"
    settings = ClusterSettings(namespace="team-a", collector_image="registry.example/kfp-tune:pinned")
    out = prepare_manifest(_job(), "main", settings, {}, metrics=("/logs/m.log", "File", "exp/t"))
    assert _container(_pods(out)[0], CONTAINER_NAME)["image"] == "registry.example/kfp-tune:pinned"


def test_with_a_metrics_volume_the_claim_takes_the_emptydirs_place():
    settings = ClusterSettings(namespace="team-a", metrics_claim="tuning-metrics")
    pod = _pods(prepare_manifest(_job(), "main", settings, {}, metrics=("/logs/m.log", "File", "exp/t")))[0]
    assert {"name": "kfp-tune-metrics", "persistentVolumeClaim": {"claimName": "tuning-metrics"}} in pod["volumes"]
    assert not any("emptyDir" in v for v in pod["volumes"])
    mount = {"name": "kfp-tune-metrics", "mountPath": "/logs", "subPath": "exp/t"}
    assert _container(pod, "main")["volumeMounts"] == [mount]
    assert mount in _container(pod, CONTAINER_NAME)["volumeMounts"]


def test_prometheus_metric_gets_the_sidecar_and_no_metrics_volume():
    collector = {"collector": {"kind": "PrometheusMetric"}, "source": {"httpGet": {"port": 9100, "path": "/stats"}}}
    out = prepare_manifest(_job(), "main", ClusterSettings(namespace="team-a", env=(("KFP_TUNE_STORE", "s3://b/p"),)), {}, collector=collector)
    validate({**out, "metadata": {"name": "t", "namespace": "team-a"}})
    pod = _pods(out)[0]
    sidecar = _container(pod, CONTAINER_NAME)
    assert [v["name"] for v in pod["volumes"]] == ["kfp-tune-pod-info"]
    assert [m["name"] for m in sidecar["volumeMounts"]] == ["kfp-tune-pod-info"]
    assert "volumeMounts" not in _container(pod, "main")


def test_a_custom_collector_is_added_beside_the_trial_as_katib_adds_it():
    example = yaml.safe_load((DATA / "katib-examples" / "metrics-collector_custom-metrics-collector.yaml").read_text())
    collector = example["spec"]["metricsCollectorSpec"]
    settings = ClusterSettings(namespace="team-a", env=(("KFP_TUNE_STORE", "s3://b/p"), ("AWS_ACCESS_KEY_ID", {"secretKeyRef": {"name": "s", "key": "accesskey"}})))
    trial = example["spec"]["trialTemplate"]["trialSpec"]
    trial["metadata"] = {"name": "custom-t", "namespace": "team-a"}
    out = prepare_manifest(trial, "training-container", settings, {}, collector=collector)
    validate(out)
    pod = _pods(out)[0]
    custom = _container(pod, "custom-metrics-logger-and-collector")
    given = collector["collector"]["customCollector"]
    assert custom["image"] == given["image"] and custom["args"] == given["args"] and custom["restartPolicy"] == "Always"
    env = {e["name"]: e for e in custom["env"]}
    assert env["TrialNamePrefix"] == given["env"][0]  # the user's own env first, kept
    assert env["KFP_TUNE_STORE"]["value"] == "s3://b/p" and "value" not in env["AWS_ACCESS_KEY_ID"]
    shared = {"name": "kfp-tune-metrics", "mountPath": "/katib"}  # the folder of fileSystemPath /katib/mnist.log
    assert shared in custom["volumeMounts"] and shared in _container(pod, "training-container")["volumeMounts"]
    assert {"name": "kfp-tune-metrics", "emptyDir": {}} in pod["volumes"]
    assert pod["shareProcessNamespace"] is True
    assert not any(c["name"] == CONTAINER_NAME for c in pod["initContainers"])


def test_collectors_that_need_a_pod_template_are_refused_for_a_trainjob():
    trainjob = {"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob", "spec": {"runtimeRef": {"name": "torch"}, "trainer": {"image": "t", "command": ["python", "train.py"]}}}
    for collector in ({"collector": {"kind": "PrometheusMetric"}}, {"collector": {"kind": "Custom", "customCollector": {"name": "c", "image": "c"}}}):
        with pytest.raises(ValueError, match=r"^spec\.metricsCollectorSpec\.collector\.kind: \w+ cannot collect the metrics of a trial of kind TrainJob"):
            prepare_manifest(trainjob, "node", ClusterSettings(namespace="team"), {}, collector=collector)


def _job() -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {"containers": [{"name": "main", "image": "trainer", "command": ["python", "train.py"]}], "restartPolicy": "Never"}}}}


# --- the sidecar itself ------------------------------------------------------------------------


def _file_experiment(tmp_path: Path, file_format: str = "TEXT") -> Any:
    doc = quadratic_experiment(**{"spec.metricsCollectorSpec": {
        "collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": str(tmp_path / "logs" / "metrics.log"), "kind": "File", "format": file_format}}}})
    return load_experiment(doc)


def _wait_for(condition: Any, what: str, seconds: float = 60.0) -> None:
    """Wait until ``condition()`` holds (it is something the process under test writes)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_the_sidecar_follows_the_file_while_the_trial_writes_it_and_stores_the_rest_on_sigterm(tmp_path, local_store):
    experiment = _file_experiment(tmp_path)
    records = ExperimentRecords(local_store, experiment.name)
    init_experiment(records, experiment)
    log = tmp_path / "logs" / "metrics.log"
    log.parent.mkdir()
    env = {**os.environ, "KFP_TUNE_STORE": local_store.uri, "KFP_TUNE_EXPERIMENT": experiment.name, "KFP_TUNE_TRIAL": "quad-t1"}
    sidecar = subprocess.Popen([sys.executable, "-m", "kfp_tune.collectors.sidecar", "--poll-seconds", "0.05", "--pod-info", str(tmp_path / "no-pod-info")], env=env)
    try:
        reader = CollectedReader(records, "quad-t1")
        with log.open("a") as out:
            out.write("epoch 1 loss=0.5 accuracy=0.7\n")
            out.flush()
            _wait_for(lambda: len(reader.read()) == 2, "the first line's two metrics")
            out.write("epoch 2 loss=0.25 accuracy=0.8\nloss=0.125")  # the last line not finished yet
            out.flush()
            _wait_for(lambda: len(reader.read()) == 4, "the second line")
            assert not reader.finished()
        assert [m.value for m in reader.read() if m.name == "loss"] == [0.5, 0.25]  # a half-written line is not read
        sidecar.send_signal(signal.SIGTERM)  # what the kubelet sends once the trial's container has ended
        assert sidecar.wait(timeout=60) == 0
    finally:
        if sidecar.poll() is None:
            sidecar.kill()
    assert reader.finished()
    trial = TrialState(name="quad-t1", index=0, round="", assignment={}, created="")
    assert collect_file(records, experiment, trial) == [
        MetricLog("loss", 0.5, 0), MetricLog("accuracy", 0.7, 0), MetricLog("loss", 0.25, 1), MetricLog("accuracy", 0.8, 1), MetricLog("loss", 0.125, 2),
    ]


def test_a_restarted_collector_goes_on_where_the_stored_records_end(local_store):
    records = ExperimentRecords(local_store, "quad")
    logs = [MetricLog("loss", float(i), i) for i in range(5)]
    assert ObservationWriter(records, "t").write({"metrics.log": logs[:2]}) == 2
    again = ObservationWriter(records, "t")  # a new container: it reads the file from the start
    assert again.write({"metrics.log": logs}) == 3
    assert again.write({"metrics.log": logs}) == 0
    assert read_collected(records, "t") == logs


def test_sources_are_read_back_each_in_its_order_and_sorted_by_name(local_store):
    records = ExperimentRecords(local_store, "quad")
    writer = ObservationWriter(records, "t")
    writer.write({"train/events.1": [MetricLog("loss", 2.0, 0)], "eval/events.1": [MetricLog("loss", 9.0, 0)]})
    writer.write({"train/events.1": [MetricLog("loss", 2.0, 0), MetricLog("loss", 1.0, 1)], "eval/events.1": [MetricLog("loss", 9.0, 0)]})
    assert [m.value for m in read_collected(records, "t")] == [9.0, 2.0, 1.0]


def test_in_a_pod_that_is_not_the_primary_the_sidecar_stores_nothing(tmp_path, local_store):
    doc = quadratic_experiment(**{
        "spec.metricsCollectorSpec": {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": str(tmp_path / "m.log"), "kind": "File", "format": "TEXT"}}},
        "spec.trialTemplate.primaryPodLabels": {"training.kubeflow.org/job-role": "master"},
    })
    experiment = load_experiment(doc)
    records = ExperimentRecords(local_store, experiment.name)
    init_experiment(records, experiment)
    (tmp_path / "m.log").write_text("loss=0.5\n")
    pod_info = tmp_path / "pod"
    pod_info.mkdir()
    results: list[int] = []
    for labels, trial in (('training.kubeflow.org/job-role="worker"\n', "worker"), ('training.kubeflow.org/job-role="master"\nother="x"\n', "master")):
        (pod_info / "labels").write_text(labels)
        stop = threading.Event()
        stop.set()  # the trial has ended already: one final read
        results.append(run(records, trial, stop, poll_seconds=0.05, pod_info=pod_info))
    assert results == [0, 1]
    assert read_collected(records, "worker") == [] and local_store.get(records.report_key("worker", DONE_STAMP)) is None
    assert read_collected(records, "master") == [MetricLog("loss", 0.5, 0)]
