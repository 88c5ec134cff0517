"""The Kubernetes launcher's manifest is checked against the Pod Security baseline whole, after
kfp-tune has added what it adds: the user's Custom collector container was added after the
only check (the QA security pass: a privileged, SYS_ADMIN, hostPort collector reached the pod),
so it is now refused at its field, and anything a later addition brings is refused too. The
strings of a label map or a node selector set nothing in a pod and are not read as settings, so
the labels kfp-tune adds (the Experiment's own among them) refuse nothing."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kfp_tune.launchers.kubernetes import manifests
from kfp_tune.launchers.kubernetes.manifests import ClusterSettings, prepare_manifest

SETTINGS = ClusterSettings(namespace="team-a", env=(("KFP_TUNE_STORE", "s3://b/p"),))
JOB: dict[str, Any] = {
    "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "t-1"},
    "spec": {"template": {"spec": {
        "containers": [{"name": "main", "image": "trainer:1", "command": ["python3", "/opt/train.py"]}],
        "restartPolicy": "Never",
    }}},
}
CUSTOM = "spec.metricsCollectorSpec.collector.customCollector"


def custom(**settings: Any) -> dict[str, Any]:
    container = {"name": "my-collector", "image": "collector:1", "command": ["collect"], **settings}
    return {"collector": {"kind": "Custom", "customCollector": container}, "source": {"fileSystemPath": {"path": "/m/metrics.log", "kind": "File"}}}


def test_the_qa_passs_custom_collector_is_refused_at_its_fields() -> None:
    collector = custom(securityContext={"privileged": True, "capabilities": {"add": ["SYS_ADMIN"]}}, ports=[{"containerPort": 80, "hostPort": 8080}])
    with pytest.raises(ValueError) as info:
        prepare_manifest(JOB, "main", SETTINGS, {}, collector=collector)
    message = str(info.value)
    for field in ("securityContext.privileged", "securityContext.capabilities.add[0]", "ports[0].hostPort"):
        assert f"{CUSTOM}.{field}: " in message, message
    assert "the Pod Security Standards' baseline" in message


def test_a_custom_collector_the_baseline_allows_is_added() -> None:
    collector = custom(securityContext={"runAsUser": 0, "capabilities": {"add": ["CHOWN"]}}, ports=[{"containerPort": 80}])
    pod = prepare_manifest(JOB, "main", SETTINGS, {}, collector=collector)["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["initContainers"]] == ["my-collector"]


def test_what_a_later_addition_brings_is_refused_by_the_check_of_the_whole_manifest(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check runs on the manifest as it will be created: an addition made after the
    template was checked (here a stand-in for the sidecar that is privileged) cannot slip by."""
    def privileged_sidecar(manifest: dict[str, Any], *_: Any, **__: Any) -> None:
        manifest["spec"]["template"]["spec"].setdefault("initContainers", []).append(
            {"name": "added", "image": "x", "securityContext": {"privileged": True}})

    monkeypatch.setattr(manifests, "_add_sidecar", privileged_sidecar)
    with pytest.raises(ValueError) as info:
        prepare_manifest(JOB, "main", SETTINGS, {}, collector={"collector": {"kind": "PrometheusMetric"}})
    assert str(info.value).startswith("spec.template.spec.initContainers[0].securityContext.privileged: privileged containers are refused"), info.value


@pytest.mark.parametrize("key", ["hostPath", "hostPort", "procMount", "privileged", "container.apparmor.security.beta.kubernetes.io/main"])
def test_labels_and_node_selectors_named_like_a_setting_refuse_nothing(key: str) -> None:
    """A label is text on the pod, a node selector's entry text to match the node's labels:
    neither sets what its key is named after, wherever kfp-tune puts it."""
    job = copy.deepcopy(JOB)
    job["metadata"]["labels"] = {key: "unconfined"}
    job["spec"]["template"]["metadata"] = {"labels": {key: "8080"}}
    settings = ClusterSettings(namespace="team-a", node_selector={key: "true"})
    out = prepare_manifest(job, "main", settings, {"app": "x"}, collector=custom(), pod_labels={key: "true", "kfp-tune.io/trial": "t-1"})
    pod = out["spec"]["template"]
    assert pod["metadata"]["labels"][key] == "true" and pod["spec"]["nodeSelector"] == {key: "true"}
