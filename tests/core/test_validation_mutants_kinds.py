"""What validation says about spec.trialTemplate.primaryContainerName for each kind of trial.

Argo and Tekton make their pods' containers at run time and name them themselves (Argo: 'main'
for a container or script template; Tekton: 'step-<step name>'), so the name a user must give
is not the one written in the template, and the error says which names the pods will have.
For the kinds whose pods are made from the manifest's pod templates (batch Job, the Training
Operator's jobs, TrainJob, JobSet) a name missing from the template is an error; for a kind
kfp-tune does not know (a user's CRD) it is only a warning, since its controller may name its
containers itself and the launcher checks the running pod."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from conftest import DELETE, load_katib_example, merge, quadratic_experiment, validation_errors

PRIMARY = "spec.trialTemplate.primaryContainerName"
TRIAL_SPEC = "spec.trialTemplate.trialSpec"


def primary_messages(doc: dict[str, Any]) -> list[str]:
    return [e.message for e in validation_errors(doc) if e.path == PRIMARY]


def katib(example: str, **overrides: Any) -> dict[str, Any]:
    return merge(load_katib_example(example), overrides)


# --- Argo Workflow --------------------------------------------------------------------------


def test_argo_the_name_main_that_argo_gives_is_accepted() -> None:
    """Katib's Argo example names its primary container 'main', as Argo does in the pod."""
    assert primary_messages(katib("argo_argo-workflow.yaml")) == []


def test_argo_the_templates_own_container_name_is_refused_saying_argo_calls_it_main() -> None:
    """The example's training template writes ``name: model-training``; Argo ignores it, so a
    primaryContainerName of 'model-training' would never be found in the pod."""
    [message] = primary_messages(katib("argo_argo-workflow.yaml", **{PRIMARY: "model-training"}))
    assert message.startswith("Argo"), message  # the rule is the controller's, named first
    assert "'main'" in message and "Tekton" not in message
    assert "expected one of ['main']" in message
    assert message.endswith("got 'model-training'")


def test_argo_a_workflow_whose_spec_is_not_a_mapping_is_reported_not_a_crash() -> None:
    """A hostile or mistyped ``spec: [...]``: said at spec, not as an empty choice of names at
    primaryContainerName (QA fuzz, session 31, finding 7)."""
    for spec in (["templates"], "templates"):
        doc = katib("argo_argo-workflow.yaml", **{f"{TRIAL_SPEC}.spec": spec})
        assert primary_messages(doc) == []
        got = {e.path: e.message for e in validation_errors(doc)}
        assert got[f"{TRIAL_SPEC}.spec"] == f"expected a mapping (the Workflow's spec), got {spec!r}", got


# --- Tekton PipelineRun ---------------------------------------------------------------------


def test_tekton_the_step_name_alone_is_refused_saying_tekton_prefixes_it() -> None:
    """Tekton names a step's container 'step-<step name>': the example's steps are
    epochs-optimize and model-training."""
    [message] = primary_messages(katib("tekton_pipeline-run.yaml", **{PRIMARY: "model-training"}))
    assert message.startswith("Tekton"), message
    assert "'step-<step name>'" in message and "Argo" not in message
    assert "expected one of ['step-epochs-optimize', 'step-model-training']" in message
    assert message.endswith("got 'model-training'")


def test_tekton_the_prefixed_step_name_is_accepted() -> None:
    assert primary_messages(katib("tekton_pipeline-run.yaml")) == []
    assert primary_messages(katib("tekton_pipeline-run.yaml", **{PRIMARY: "step-epochs-optimize"})) == []


def test_tekton_a_task_run_whose_spec_is_not_a_mapping_is_reported_not_a_crash() -> None:
    """Said at spec; no containers known, so nothing at primaryContainerName."""
    doc = katib(
        "tekton_pipeline-run.yaml",
        **{f"{TRIAL_SPEC}.kind": "TaskRun", f"{TRIAL_SPEC}.spec": ["steps"], PRIMARY: "step-train"},
    )
    assert primary_messages(doc) == []
    assert {e.path: e.message for e in validation_errors(doc)}[f"{TRIAL_SPEC}.spec"] == "expected a mapping (the TaskRun's spec), got ['steps']"


# --- kinds built from the manifest's pod templates ------------------------------------------


def jobset(container: str) -> dict[str, Any]:
    """A JobSet (jobset.x-k8s.io) with one replicated Job whose pod runs ``container``."""
    pod = {"containers": [{"name": container, "image": "python:3.11-slim", "command": ["python3", "-c", "print('loss=1')"]}], "restartPolicy": "Never"}
    return {
        "apiVersion": "jobset.x-k8s.io/v1alpha2",
        "kind": "JobSet",
        "spec": {"replicatedJobs": [{"name": "workers", "replicas": 1, "template": {"spec": {"template": {"spec": pod}}}}]},
    }


CONDITIONS = {"spec.trialTemplate.successCondition": "status.terminalState==Completed", "spec.trialTemplate.failureCondition": "status.terminalState==Failed"}


def test_a_batch_job_without_the_named_container_is_refused_naming_it() -> None:
    [message] = primary_messages(quadratic_experiment(**{PRIMARY: "trainer"}))
    assert "no container named 'trainer'" in message


@pytest.mark.parametrize("example", ["kubeflow-training-operator_pytorchjob-mnist.yaml", "kubeflow-training-operator_tfjob-mnist-with-summaries.yaml"])
def test_a_training_operator_job_without_the_named_container_is_refused(example: str) -> None:
    [message] = primary_messages(katib(example, **{PRIMARY: "not-there"}))
    assert "no container named 'not-there'" in message


def test_a_jobset_without_the_named_container_is_refused_and_with_it_accepted() -> None:
    with_trainer = quadratic_experiment(**{"spec.trialTemplate.trialSpec": jobset("trainer"), "spec.trialTemplate.trialParameters": [], **CONDITIONS})
    assert primary_messages(merge(with_trainer, {PRIMARY: "trainer"})) == []
    [message] = primary_messages(merge(with_trainer, {PRIMARY: "main"}))
    assert "no container named 'main'" in message


def test_a_trainjob_without_a_trainer_is_refused() -> None:
    """A TrainJob's primary container is its spec.trainer (its pods call it 'node'); without one
    the trial's command has nowhere to go."""
    doc = katib("kubeflow-trainer_trainjob-pytorch.yaml", **{f"{TRIAL_SPEC}.spec.trainer": DELETE})
    [message] = primary_messages(doc)
    assert "'node'" in message
    assert primary_messages(katib("kubeflow-trainer_trainjob-pytorch.yaml")) == []


# --- kinds kfp-tune does not know: a warning, the launcher checks the pod ------------------


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        ("example.com/v1", "Trainer"),  # a user's CRD
        ("kubeflow.org/v1", "Notebook"),  # Kubeflow's group, but not one of its training jobs
        ("batch.example.com/v1", "Job"),  # a Job of another group
        ("example.com/v1", "JobSet"),
    ],
)
def test_a_kind_kfp_tune_does_not_know_gets_a_warning_not_an_error(api_version: str, kind: str, caplog: pytest.LogCaptureFixture) -> None:
    doc = quadratic_experiment(**{f"{TRIAL_SPEC}.apiVersion": api_version, f"{TRIAL_SPEC}.kind": kind, PRIMARY: "trainer", **CONDITIONS})
    with caplog.at_level(logging.WARNING, logger="kfp_tune.core.validation"):
        assert primary_messages(doc) == []
    assert "'trainer'" in caplog.text and kind in caplog.text
