"""Katib's webhook runs the command through ``sh -c`` in the primary pod only
(inject_webhook.go Mutate: ``if trial.Spec.PrimaryPodLabels != nil && !isPrimaryPod(...)
{ return }`` comes before ``wrapWorkerContainer``; a Training Operator kind's primaryPodLabels
default to ``training.kubeflow.org/job-role: master``). kfp-tune wrapped the primary container
of every replica: a PyTorchJob Worker's ``--run-note=hello world`` became two words under the
shell. Now only the pod templates the collector goes to are wrapped (the same filter); the
others keep exec form and get the trial's env all the same."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.launchers.kubernetes import ClusterSettings, KubernetesConfig, prepare_manifest, render_manifest
from kfp_tune.launchers.kubernetes.kinds import pod_templates

TRIAL = "wrapped-abcd1234"
COMMAND = ["python3", "/opt/train.py"]
ARGS = ["--x=${trialParameters.x}", "--y=${trialParameters.y}", "--run-note=hello world"]


def pytorchjob() -> dict[str, Any]:
    def replica(count: int) -> dict[str, Any]:
        container = {"name": "pytorch", "image": "trainer:1", "command": list(COMMAND), "args": list(ARGS)}
        return {"replicas": count, "restartPolicy": "Never", "template": {"spec": {"containers": [container]}}}

    return {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "spec": {"pytorchReplicaSpecs": {"Master": replica(1), "Worker": replica(2)}}}


def rendered(collector: str, pod_labels: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    doc = quadratic_experiment(**{"spec.trialTemplate.trialSpec": pytorchjob(), "spec.trialTemplate.primaryContainerName": "pytorch"})
    doc["spec"]["metricsCollectorSpec"] = {"collector": {"kind": collector}}
    if collector == "File":
        doc["spec"]["metricsCollectorSpec"]["source"] = {"fileSystemPath": {"path": "/logs/m.log", "kind": "File"}}
    if pod_labels is not None:
        doc["spec"]["trialTemplate"]["primaryPodLabels"] = pod_labels
    manifest = render_manifest(load_experiment(doc), {"x": "0.5", "y": "0.25"}, TRIAL, KubernetesConfig(namespace="team-a"))
    return {path.split(".")[2]: template["spec"]["containers"][0] for path, template in pod_templates(manifest)}


@pytest.mark.parametrize("collector", ["StdOut", "File"])
def test_only_the_primary_pods_template_runs_under_sh(collector: str) -> None:
    containers = rendered(collector)
    master, worker = containers["Master"], containers["Worker"]
    assert master["command"] == ["sh", "-c"] and master["args"][0].endswith("--run-note=hello world")
    assert worker["command"] == COMMAND, "a Worker is no primary pod: Katib leaves its command as it is"
    assert worker["args"] == ["--x=0.5", "--y=0.25", "--run-note=hello world"], "one word, as the user wrote it"
    assert {"name": "KFP_TUNE_TRIAL", "value": TRIAL} in worker["env"], "the env still goes to every pod's primary container"


def test_primary_pod_labels_of_the_workers_wrap_the_workers_instead() -> None:
    containers = rendered("StdOut", {"training.kubeflow.org/replica-type": "worker"})
    assert containers["Worker"]["command"] == ["sh", "-c"] and containers["Master"]["command"] == COMMAND


def test_without_primary_pod_labels_every_template_is_wrapped_as_katib_wraps_every_pod() -> None:
    job = {"apiVersion": "example.com/v1", "kind": "TrainingRun",
           "spec": {"template": {"spec": {"containers": [{"name": "main", "image": "t:1", "command": list(COMMAND), "args": ["a b"]}]}}}}
    out = prepare_manifest(job, "main", ClusterSettings(namespace="team-a"), {}, collector={"collector": {"kind": "StdOut"}})
    assert out["spec"]["template"]["spec"]["containers"][0]["command"] == ["sh", "-c"]
