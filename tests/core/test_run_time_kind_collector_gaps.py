"""What validation says about a collector for a trial whose pods another controller makes at run
time, where the tests of test_run_time_kind_collectors.py left a changed line unnoticed
(mutation pass, session 31: cc-04, cc-05, val-01, val-02, val-04, val-06, val-07, val-08,
val-11): which controller the refusal names, what it says is referenced, Push with a partly
referenced spec whose primary container is written inline, and no second error at the
collector for a trial refused already at another field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from collector_sources import collector
from conftest import merge, validation_errors
from katib_run_time_kinds import argo, argo_from_a_workflow_template, tekton_pipeline_run

KIND_PATH = "spec.metricsCollectorSpec.collector.kind"
PRIMARY_PATH = "spec.trialTemplate.primaryContainerName"
CONTAINER = {"image": "python:3.11", "command": ["python3", "/opt/train.py", "--lr=${trialParameters.learningRate}"]}


def tekton_task_run() -> dict[str, Any]:
    doc = tekton_pipeline_run()
    template = doc["spec"]["trialTemplate"]
    template["trialSpec"] = {"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "spec": {"taskSpec": {"steps": [{"name": "train", **copy.deepcopy(CONTAINER)}]}}}
    template["primaryContainerName"] = "step-train"
    template.pop("primaryPodLabels", None)
    return doc


def with_trial_spec(trial_spec: dict[str, Any], primary: str) -> dict[str, Any]:
    """Katib's Argo example with another trialSpec and primary container name."""
    doc = argo()
    template = doc["spec"]["trialTemplate"]
    template["trialSpec"] = trial_spec
    template["primaryContainerName"] = primary
    template.pop("primaryPodLabels", None)
    template.pop("successCondition", None)
    template.pop("failureCondition", None)
    return doc


def kind_messages(doc: dict[str, Any]) -> list[str]:
    return [e.message for e in validation_errors(doc) if e.path == KIND_PATH]


@pytest.mark.parametrize(("trial", "says"), [
    (argo, "a Workflow has none (Argo makes its pods at run time)"),
    (tekton_pipeline_run, "a PipelineRun has none (Tekton makes its pods at run time)"),
    (tekton_task_run, "a TaskRun has none (Tekton makes its pods at run time)"),
])
@pytest.mark.parametrize("kind", ["File", "Custom"])
def test_the_refusal_of_a_collector_in_the_pod_names_the_controller_that_makes_the_pods(trial: Any, says: str, kind: str) -> None:
    [message] = kind_messages(merge(trial(), collector(kind)))
    assert says in message, message
    assert "shows no container named" not in message, message


# --- Push and what is referenced -------------------------------------------------------------


def tekton_from_a_pipeline() -> dict[str, Any]:
    doc = tekton_pipeline_run()
    spec = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]
    del spec["pipelineSpec"]
    spec["pipelineRef"] = {"name": "training"}
    return doc


def tekton_from_a_task() -> dict[str, Any]:
    doc = tekton_task_run()
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"] = {"taskRef": {"name": "training"}, "params": [{"name": "lr", "value": "${trialParameters.learningRate}"}]}
    return doc


def tekton_with_a_task_referenced() -> dict[str, Any]:
    doc = tekton_pipeline_run()
    task = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["pipelineSpec"]["tasks"][1]
    del task["taskSpec"]
    task["taskRef"] = {"name": "training"}
    return doc


@pytest.mark.parametrize(("referenced", "named"), [
    (argo_from_a_workflow_template, "its spec.workflowTemplateRef"),
    (tekton_from_a_pipeline, "its spec.pipelineRef"),
    (tekton_from_a_task, "its spec.taskRef"),
    (tekton_with_a_task_referenced, "a task's taskRef"),
])
def test_the_push_refusal_names_what_is_referenced(referenced: Any, named: str) -> None:
    [message] = kind_messages(merge(referenced(), collector("Push")))
    assert message.startswith("Push needs the trial's place in the store"), message
    assert f"({named} is referenced, not written, and kfp-tune does not read it)" in message, message


def argo_with_the_primary_inline_beside_a_referenced_workflow_template() -> dict[str, Any]:
    """Katib's Argo example whose Workflow also takes templates from a WorkflowTemplate on the
    cluster: its spec is not all written, but the primary container's template is."""
    doc = argo()
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["workflowTemplateRef"] = {"name": "shared-steps"}
    return doc


def tekton_with_the_primary_inline_beside_a_referenced_task() -> dict[str, Any]:
    """The Tekton example whose preprocessing task is referenced; its training task, the
    primary container's, is written inline."""
    doc = tekton_pipeline_run()
    task = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["pipelineSpec"]["tasks"][0]
    del task["taskSpec"]
    task["taskRef"] = {"name": "preprocessing"}
    return doc


@pytest.mark.parametrize("partly_referenced", [argo_with_the_primary_inline_beside_a_referenced_workflow_template,
                                               tekton_with_the_primary_inline_beside_a_referenced_task])
def test_push_is_taken_where_the_primary_container_is_written_inline_beside_a_reference(partly_referenced: Any) -> None:
    """Push reaches the trial through the env kfp-tune gives the entry the primary container is
    made from: written inline, it gets it, whatever else is referenced."""
    assert kind_messages(merge(partly_referenced(), collector("Push"))) == []


# --- refused at another field first: no second error at the collector ------------------------


def test_a_trial_spec_with_an_empty_kind_is_refused_at_its_kind_only() -> None:
    doc = with_trial_spec({"apiVersion": "argoproj.io/v1alpha1", "kind": "", "spec": {"image": "trainer:1"}}, "trainer")
    errors = validation_errors(merge(doc, collector("File")))
    assert [e.path for e in errors if e.path == "spec.trialTemplate.trialSpec.kind"], errors
    assert [e for e in errors if e.path == KIND_PATH] == []


@pytest.mark.parametrize(("trial", "kind"), [("users kind", "File"), ("users kind", "Push"), ("Argo from a WorkflowTemplate", "Push")])
def test_an_empty_primary_container_name_is_refused_there_and_nowhere_else(trial: str, kind: str) -> None:
    doc = argo_from_a_workflow_template() if trial != "users kind" else with_trial_spec(
        {"apiVersion": "example.com/v1", "kind": "Trainer", "spec": {"image": "python:3.11", "args": ["--lr=${trialParameters.learningRate}"]}}, "")
    doc["spec"]["trialTemplate"]["primaryContainerName"] = ""
    errors = validation_errors(merge(doc, collector(kind)))
    assert [e.path for e in errors if e.path == PRIMARY_PATH], errors
    assert [e for e in errors if e.path == KIND_PATH] == [], errors


def test_a_known_kind_without_its_primary_container_is_refused_there_not_at_the_collector() -> None:
    """A Job's pods come from its pod template: a collector has its place there; what is wrong is
    the name, refused at primaryContainerName."""
    job = {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {
        "containers": [{"name": "training", **CONTAINER}], "restartPolicy": "Never"}}}}
    errors = validation_errors(merge(with_trial_spec(job, "nope"), collector("File")))
    assert [e.path for e in errors if e.path == PRIMARY_PATH], errors
    assert [e for e in errors if e.path == KIND_PATH] == [], errors


def test_a_users_kind_named_train_job_in_another_group_is_not_refused_as_trainers() -> None:
    """Only trainer.kubeflow.org's TrainJob has its pods from a training runtime: a kind of the
    user's of that name, in another group, is never refused for that."""
    mine = {"apiVersion": "example.com/v1", "kind": "TrainJob", "spec": {"template": {"spec": {"containers": [{"name": "trainer", **CONTAINER}]}}}}
    for kind in ("File", "Custom"):
        messages = kind_messages(merge(with_trial_spec(mine, "trainer"), collector(kind)))
        assert not [m for m in messages if "training runtime" in m], messages
    trainers = {"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob", "spec": {"runtimeRef": {"name": "torch-distributed"}, "trainer": {**CONTAINER}}}
    [message] = kind_messages(merge(with_trial_spec(trainers, "node"), collector("File")))
    assert "a TrainJob's pods come from its training runtime" in message, message
