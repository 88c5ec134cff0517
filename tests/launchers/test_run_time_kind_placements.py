"""Where the launcher's cluster settings land in a trial whose pods are made at run time (Argo
Workflow, Tekton TaskRun and PipelineRun at v1 and v1beta1): the service account, node selector,
tolerations, the trial's labels on its pods, and GPUs on the primary step. Each kind reads them
from its own fields (Argo's Workflow spec; Tekton v1's ``podTemplate``, ``taskRunTemplate`` and
a step's ``computeResources``, v1beta1's ``resources``); a setting in the wrong field is dropped
by the controller, so the trial would run as the wrong account or without its GPU. The expected
paths are those of the Argo and Tekton APIs, written out here."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.launchers.kubernetes import KubernetesConfig, render_manifest

NAMESPACE = "team-a"
TRIAL = "placed-trial-1"
NODE_SELECTOR = {"pool": "gpu-a100"}
TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
CONFIG = KubernetesConfig(namespace=NAMESPACE, service_accounts=("trainer",), node_selector=NODE_SELECTOR, tolerations=(TOLERATION,), gpus=2)
STEP = {"name": "train", "image": "python:3.11-slim", "command": ["python3", "/opt/train.py"], "args": ["x=${trialParameters.x}", "y=${trialParameters.y}"]}
TRIAL_LABEL = "kfp-tune.kubeflow.org/trial"


def task_run(version: str) -> dict[str, Any]:
    return {"apiVersion": f"tekton.dev/{version}", "kind": "TaskRun", "spec": {"taskSpec": {"steps": [dict(STEP)]}}}


def pipeline_run(version: str) -> dict[str, Any]:
    tasks = [{"name": "fit", "taskSpec": {"steps": [dict(STEP)]}}]
    return {"apiVersion": f"tekton.dev/{version}", "kind": "PipelineRun", "spec": {"pipelineSpec": {"tasks": tasks}}}


WORKFLOW = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "spec": {"entrypoint": "fit", "templates": [{"name": "fit", "container": {k: v for k, v in STEP.items() if k != "name"}}]},
}


def rendered(trial_spec: dict[str, Any], primary: str, config: KubernetesConfig = CONFIG) -> dict[str, Any]:
    experiment = load_experiment(quadratic_experiment(**{
        "spec.trialTemplate.trialSpec": trial_spec,
        "spec.trialTemplate.primaryContainerName": primary,
        "spec.trialTemplate.successCondition": "status.conditions.#(type==\"Succeeded\")#|#(status==\"True\")#",
        "spec.trialTemplate.failureCondition": "status.conditions.#(type==\"Succeeded\")#|#(status==\"False\")#",
        "spec.metricsCollectorSpec": {"collector": {"kind": "StdOut"}},
    }))
    return render_manifest(experiment, {"x": "0.5", "y": "0.25"}, TRIAL, config)


def at(tree: Any, *path: str | int) -> Any:
    for key in path:
        tree = tree[key]
    return tree


# (trial spec, path of the mapping holding serviceAccountName, of the pod settings, of the primary step, its resources field)
CASES = {
    "tekton v1 TaskRun": (task_run("v1"), ("spec",), ("spec", "podTemplate"), ("spec", "taskSpec", "steps", 0), "computeResources"),
    "tekton v1 PipelineRun": (
        pipeline_run("v1"), ("spec", "taskRunTemplate"), ("spec", "taskRunTemplate", "podTemplate"),
        ("spec", "pipelineSpec", "tasks", 0, "taskSpec", "steps", 0), "computeResources",
    ),
    "tekton v1beta1 TaskRun": (task_run("v1beta1"), ("spec",), ("spec", "podTemplate"), ("spec", "taskSpec", "steps", 0), "resources"),
    "tekton v1beta1 PipelineRun": (
        pipeline_run("v1beta1"), ("spec",), ("spec", "podTemplate"), ("spec", "pipelineSpec", "tasks", 0, "taskSpec", "steps", 0), "resources",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_tekton_takes_each_setting_in_its_own_field(case: str) -> None:
    trial_spec, account_at, pod_at, step_at, resources_key = CASES[case]
    manifest = rendered(trial_spec, "step-train")
    assert at(manifest, *account_at)["serviceAccountName"] == "trainer"
    assert at(manifest, *pod_at)["nodeSelector"] == NODE_SELECTOR
    assert at(manifest, *pod_at)["tolerations"] == [TOLERATION]
    step = at(manifest, *step_at)
    assert step[resources_key]["limits"]["nvidia.com/gpu"] == 2
    other = "resources" if resources_key == "computeResources" else "computeResources"
    assert other not in step, f"{other} is not a field of a {case} step"
    assert manifest["metadata"]["labels"][TRIAL_LABEL] == TRIAL, "Tekton copies the run's labels onto its pods"
    assert {"name": "KFP_TUNE_TRIAL", "value": TRIAL} in step["env"]


def test_an_argo_workflow_takes_them_in_its_spec_and_pod_metadata() -> None:
    manifest = rendered(WORKFLOW, "main")
    spec = manifest["spec"]
    assert (spec["serviceAccountName"], spec["nodeSelector"], spec["tolerations"]) == ("trainer", NODE_SELECTOR, [TOLERATION])
    assert spec["podMetadata"]["labels"][TRIAL_LABEL] == TRIAL, "Argo puts podMetadata's labels on every pod of the workflow"
    container = spec["templates"][0]["container"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 2


@pytest.mark.parametrize("case", ["tekton v1 TaskRun", "tekton v1 PipelineRun"])
def test_the_templates_own_pod_settings_are_kept(case: str) -> None:
    """A node selector the user wrote in the template wins over the launcher's."""
    trial_spec, _, pod_at, _, _ = copy.deepcopy(CASES[case])
    own = {"pool": "the-users-own"}
    holder = trial_spec
    for key in pod_at[:-1]:
        holder = holder.setdefault(key, {})
    holder[pod_at[-1]] = {"nodeSelector": own}
    manifest = rendered(trial_spec, "step-train")
    assert at(manifest, *pod_at)["nodeSelector"] == own
    assert at(manifest, *pod_at)["tolerations"] == [TOLERATION], "settings the template leaves out are still given"


def _asking_for_gpus(case: str, asked: dict[str, Any]) -> tuple[dict[str, Any], str, tuple[str | int, ...], str]:
    """A trial spec whose primary step has ``asked`` as its resources, its primary container's
    name, the path of that step and its resources field."""
    if case == "argo Workflow":
        workflow = copy.deepcopy(WORKFLOW)
        workflow["spec"]["templates"][0]["container"]["resources"] = copy.deepcopy(asked)
        return workflow, "main", ("spec", "templates", 0, "container"), "resources"
    trial_spec, _, _, step_at, resources_key = copy.deepcopy(CASES[case])
    at(trial_spec, *step_at)[resources_key] = copy.deepcopy(asked)
    return trial_spec, "step-train", step_at, resources_key


@pytest.mark.parametrize("case", ["argo Workflow", "tekton v1 TaskRun", "tekton v1beta1 PipelineRun"])
@pytest.mark.parametrize("asked", [{"requests": {"nvidia.com/gpu": 3}}, {"limits": {"nvidia.com/gpu": 0}}])
def test_a_primary_step_that_asks_for_gpus_itself_keeps_what_it_asks(case: str, asked: dict[str, Any]) -> None:
    """The same rule as a pod template's container: the launcher's gpus only where the step asks
    for none. A GPU request with the launcher's limit beside it (requests 3, limits 2) was
    refused by the API server at create: an extended resource's request must equal its limit."""
    trial_spec, primary, step_at, resources_key = _asking_for_gpus(case, asked)
    manifest = rendered(trial_spec, primary)
    assert at(manifest, *step_at)[resources_key] == asked
