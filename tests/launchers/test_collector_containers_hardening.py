"""The containers the Kubernetes launcher adds beside a trial, at the edges the collector tests
do not reach: kfp-tune's collector sidecar runs unprivileged (no privilege escalation, every
capability dropped) and reads the pod's labels from a read-only downward API file named as the
sidecar reads it; a user's Custom collector may not take the name of a container the pod already
has; and a TensorFlowEvent path with no ``kind`` is a folder, as Katib defaults it."""

from __future__ import annotations

import copy
from pathlib import PurePosixPath
from typing import Any

import pytest

from kfp_tune.collectors import sidecar
from kfp_tune.launchers.kubernetes.manifests import ClusterSettings, prepare_manifest

SETTINGS = ClusterSettings(namespace="team-a", env=(("KFP_TUNE_STORE", "s3://b/p"),))
JOB: dict[str, Any] = {
    "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "t-1"},
    "spec": {"template": {"spec": {
        "containers": [{"name": "main", "image": "trainer:1", "command": ["python3", "/opt/train.py"], "args": ["--logdir=/logs"]}],
        "initContainers": [{"name": "fetch-data", "image": "busybox:1"}],
        "restartPolicy": "Never",
    }}},
}


def pod(manifest: dict[str, Any]) -> dict[str, Any]:
    return dict(manifest["spec"]["template"]["spec"])


def container(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in spec.get("containers", []) + spec.get("initContainers", []) if c["name"] == name)


def file_collector(kind: str = "File", path: str = "/logs/metrics.log", path_kind: str = "File") -> dict[str, Any]:
    fsp = {"path": path, **({"kind": path_kind} if path_kind else {})}
    return {"collector": {"kind": kind}, "source": {"fileSystemPath": fsp}}


@pytest.mark.parametrize("kind", ["File", "PrometheusMetric"])
def test_the_collector_sidecar_runs_unprivileged(kind: str) -> None:
    metrics = ("/logs/metrics.log", "File", "") if kind == "File" else None
    collector = file_collector() if kind == "File" else {"collector": {"kind": kind}}
    spec = pod(prepare_manifest(JOB, "main", SETTINGS, {}, metrics=metrics, collector=collector))
    security = container(spec, sidecar.CONTAINER_NAME)["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"], "Kubernetes matches capability names as written: ALL"


def test_the_sidecar_reads_the_pods_labels_from_a_read_only_downward_api_file() -> None:
    spec = pod(prepare_manifest(JOB, "main", SETTINGS, {}, metrics=("/logs/metrics.log", "File", ""), collector=file_collector()))
    mount = next(m for m in container(spec, sidecar.CONTAINER_NAME)["volumeMounts"] if m["mountPath"] == sidecar.POD_INFO_PATH)
    assert mount["readOnly"] is True
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    (item,) = [i for i in volume["downwardAPI"]["items"] if i["path"] != sidecar.POD_UID_FILE]  # the uid: tests/launchers/test_collector_pod_uid.py
    assert item["fieldRef"] == {"fieldPath": "metadata.labels"}
    # the file the sidecar opens under its pod-info folder (kfp_tune.collectors.sidecar.run)
    assert item["path"] == "labels" and PurePosixPath(sidecar.POD_INFO_PATH, item["path"]).name == "labels"


@pytest.mark.parametrize("taken", ["main", "fetch-data"])
def test_a_custom_collector_may_not_take_a_name_the_pod_has(taken: str) -> None:
    collector = {"collector": {"kind": "Custom", "customCollector": {"name": taken, "image": "collector:1", "command": ["collect"]}}}
    with pytest.raises(ValueError) as info:
        prepare_manifest(JOB, "main", SETTINGS, {}, collector=collector)
    assert str(info.value) == f"spec.metricsCollectorSpec.collector.customCollector.name: {taken!r} is already a container of the trial's pod"


def shared(kind: str, path: str) -> set[str]:
    """Where the metrics volume is mounted in the sidecar, for a path given with no kind (the
    trial's command names no folder of it, so nothing widens the mount)."""
    job = copy.deepcopy(JOB)
    job["spec"]["template"]["spec"]["containers"][0]["args"] = ["--epochs=1"]
    spec = pod(prepare_manifest(job, "main", SETTINGS, {}, metrics=(path, "", ""), collector=file_collector(kind, path, "")))
    return {m["mountPath"] for m in container(spec, sidecar.CONTAINER_NAME)["volumeMounts"]} - {sidecar.POD_INFO_PATH}


def test_a_tensorflow_event_path_without_a_kind_is_a_folder() -> None:
    """The trial writes its event files into the path itself: that folder is what is shared."""
    assert shared("TensorFlowEvent", "/logs/tb") == {"/logs/tb"}
    assert shared("File", "/logs/tb/metrics.log") == {"/logs/tb"}, "a File path: its folder"
