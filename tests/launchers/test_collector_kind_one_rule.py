"""A trial's collector kind is read by one rule for every kind of trial (review B of session 31,
finding B8): the launcher and the manifest each had their own, and they differed where the
metricsCollectorSpec names no kind but the trial has a metrics path (the manifest said StdOut,
the launcher File). Now: the kind it names; else File or TensorFlowEvent by the metrics path's
kind; else StdOut, Katib's default."""

from __future__ import annotations

from typing import Any

import pytest

from kfp_tune.launchers.kubernetes import launcher, manifests
from kfp_tune.launchers.kubernetes.manifests import ClusterSettings, collector_kind, prepare_manifest


@pytest.mark.parametrize(("collector", "path_kind", "expected"), [
    ({"collector": {"kind": "Push"}}, "Directory", "Push"),
    ({"collector": {"kind": "File"}}, None, "File"),
    ({}, "Directory", "TensorFlowEvent"),
    ({"collector": {}}, "File", "File"),
    (None, "", "File"),
    ({}, None, "StdOut"),
    (None, None, "StdOut"),
])
def test_the_rule(collector: dict[str, Any] | None, path_kind: str | None, expected: str) -> None:
    assert collector_kind(collector, path_kind) == expected


def test_the_launcher_has_no_rule_of_its_own() -> None:
    assert not hasattr(launcher, "_collector_kind") and not hasattr(manifests, "_collector_kind")


def test_a_metrics_path_with_no_kind_named_gets_the_file_collector_in_a_pod_template() -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {}, "spec": {"template": {"spec": {
        "containers": [{"name": "main", "image": "trainer:1", "command": ["python3", "/opt/train.py"]}], "restartPolicy": "Never"}}}}
    out = prepare_manifest(job, "main", ClusterSettings(namespace="team-a"), {}, metrics=("/logs/m.log", "File", ""), collector={})
    pod = out["spec"]["template"]["spec"]
    assert [c["name"] for c in pod.get("initContainers") or []] == ["kfp-tune-metrics-collector"], pod
