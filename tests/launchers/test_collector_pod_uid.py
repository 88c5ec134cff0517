"""The collector sidecar learns its pod's uid from the downward API, beside its labels: a pod the
Training Operator makes again under the same name has a new uid, and its observations are a new
attempt (tests/collectors/test_collector_attempts.py). Kubernetes serves ``metadata.uid`` in a
downward API volume (as it does labels, annotations, name and namespace)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import pytest

from fake_kube import validate
from kfp_tune.collectors import sidecar
from kfp_tune.launchers.kubernetes.manifests import ClusterSettings, prepare_manifest

JOB = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "t"},
       "spec": {"template": {"spec": {"containers": [{"name": "main", "image": "python:3.11", "command": ["python3", "train.py"]}], "restartPolicy": "Never"}}}}
FILE = {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/logs/m.log", "kind": "File"}}}
COLLECTORS: list[tuple[dict[str, Any], Any]] = [
    (FILE, ("/logs/m.log", "File", "")),
    ({"collector": {"kind": "TensorFlowEvent"}, "source": {"fileSystemPath": {"path": "/logs", "kind": "Directory"}}}, ("/logs", "Directory", "")),
    ({"collector": {"kind": "PrometheusMetric"}}, None),
]


@pytest.mark.parametrize(("collector", "metrics"), COLLECTORS)
def test_the_sidecars_pod_info_holds_its_pods_uid_where_it_reads_it(collector: dict[str, Any], metrics: Any) -> None:
    out = prepare_manifest(JOB, "main", ClusterSettings(namespace="team-a"), {}, metrics=metrics, collector=collector)
    validate(out)  # the Job's schema, strict
    pod = out["spec"]["template"]["spec"]
    (container,) = [c for c in pod["initContainers"] if c["name"] == sidecar.CONTAINER_NAME]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == sidecar.POD_INFO_VOLUME]
    (volume,) = [v for v in pod["volumes"] if v["name"] == sidecar.POD_INFO_VOLUME]
    items = {item["path"]: item["fieldRef"]["fieldPath"] for item in volume["downwardAPI"]["items"]}
    assert items == {"labels": "metadata.labels", sidecar.POD_UID_FILE: "metadata.uid"}
    assert PurePosixPath(mount["mountPath"], sidecar.POD_UID_FILE) == PurePosixPath(sidecar.POD_INFO_PATH, "uid") and mount["readOnly"] is True
