"""Kubeflow Trainer's TrainJob is told by its group and kind (:func:`kfp_tune.core.template.is_train_job`)
everywhere: validation walked a user's own ``example.com/v1`` TrainJob's ``spec.trainer`` as a
container (refusing the user's own fields there in a container's words), and the Katib defaults
gave such a kind the pod labels of Trainer's runtime pods, which select none of its pods. Katib's
webhook defaults the success and failure conditions of every kind named TrainJob (its
``GetKind()`` has no group), so those stay."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import quadratic_experiment, validation_errors
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.spec import JOB_FAILURE_CONDITION, JOB_SUCCESS_CONDITION, TRAINJOB_PRIMARY_POD_LABELS

CONTAINER = {"name": "trainer", "image": "trainer:1", "command": ["python3", "/opt/train.py"], "args": ["--x=${trialParameters.x}", "--y=${trialParameters.y}"]}


def _experiment(trial_spec: dict[str, Any], container: str = "trainer") -> dict[str, Any]:
    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["trialSpec"] = trial_spec
    doc["spec"]["trialTemplate"]["primaryContainerName"] = container
    return doc


def _own_train_job() -> dict[str, Any]:
    """A user's kind named TrainJob with a field of its own named ``trainer`` (a command line as
    one string: no container's field)."""
    return {"apiVersion": "example.com/v1", "kind": "TrainJob", "spec": {"trainer": {"replicas": 2, "command": "python3 train.py"},
                                                                        "template": {"spec": {"restartPolicy": "Never", "containers": [dict(CONTAINER)]}}}}


def test_a_users_trainjobs_spec_trainer_is_not_walked_as_a_container() -> None:
    assert validation_errors(_experiment(_own_train_job())) == []


def test_trainers_trainjobs_spec_trainer_is_still_checked_as_a_container() -> None:
    trial_spec = {"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob",
                  "spec": {"runtimeRef": {"name": "torch-distributed"}, "trainer": {"image": "trainer:1", "command": "python3 train.py"}}}
    errors = {e.path: e.message for e in validation_errors(_experiment(trial_spec, "node"))}
    assert errors["spec.trialTemplate.trialSpec.spec.trainer.command"].startswith("expected a list of strings")


@pytest.mark.parametrize(
    ("api_version", "labels"),
    [("trainer.kubeflow.org/v1alpha1", TRAINJOB_PRIMARY_POD_LABELS), ("example.com/v1", {})],
)
def test_only_trainers_trainjob_gets_its_runtimes_pod_labels_and_every_trainjob_katibs_conditions(api_version: str, labels: dict[str, str]) -> None:
    trial_spec = _own_train_job() if api_version == "example.com/v1" else {
        "apiVersion": api_version, "kind": "TrainJob", "spec": {"runtimeRef": {"name": "torch-distributed"}, "trainer": {"image": "trainer:1", "args": CONTAINER["args"]}}}
    template = load_experiment(_experiment(trial_spec)).spec.trial_template
    assert template is not None
    assert (template.primary_pod_labels or {}) == labels
    assert (template.success_condition, template.failure_condition) == (JOB_SUCCESS_CONDITION, JOB_FAILURE_CONDITION)
