"""A ``training.kubeflow.org/*`` primaryPodLabels value that the kind's operator never sets given the
template's replica types (``replica-type: Worker`` for the ``worker`` it sets, ``job-role: chief``,
``replica-type: ps`` in a TFJob with no PS) was said valid with no word: every trial then ended
PrimaryPodNotFound on the cluster. validate notes it now, naming the values the operator sets
(QA operators, session 36, finding 5)."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import load_katib_example, merge
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.portability import katib_notes

TFJOB = "kubeflow-training-operator_tfjob-mnist-with-summaries.yaml"
PYTORCH = "kubeflow-training-operator_pytorchjob-mnist.yaml"
LABELS = "spec.trialTemplate.primaryPodLabels"


def label_notes(example: str, labels: dict[str, str], **overrides: Any) -> dict[str, str]:
    doc = merge(load_katib_example(example), {LABELS: labels, **overrides})
    return {n.path: n.message for n in katib_notes(load_experiment(doc)) if n.path.startswith(LABELS)}


@pytest.mark.parametrize(("key", "value", "sets"), [
    ("replica-type", "Worker", "'worker'"),
    ("replica-type", "ps", "'worker'"),
    ("job-role", "chief", "'master'"),
    ("replica-index", "3", "'0', '1'"),
])
def test_a_value_the_training_operator_never_sets_is_noted(key: str, value: str, sets: str) -> None:
    told = label_notes(TFJOB, {f"training.kubeflow.org/{key}": value}, **{"spec.trialTemplate.trialSpec.spec.tfReplicaSpecs.Worker.replicas": 2})
    message = told[f"{LABELS}.training.kubeflow.org/{key}"]
    assert f"never {value!r}" in message and sets in message and "PrimaryPodNotFound" in message, told


def test_the_values_the_operator_sets_are_not_noted() -> None:
    assert label_notes(TFJOB, {"training.kubeflow.org/replica-type": "worker"}) == {}  # Katib's own example
    assert label_notes(PYTORCH, {"training.kubeflow.org/job-role": "master"}) == {}
    assert label_notes(PYTORCH, {"training.kubeflow.org/replica-type": "master", "training.kubeflow.org/replica-index": "0"}) == {}
    assert label_notes(TFJOB, {"training.kubeflow.org/job-name": "anything"}) == {}  # the trial's name: not known here


def test_mpi_operator_v2_sets_job_role_launcher_and_worker_and_no_replica_type() -> None:
    doc = load_katib_example("kubeflow-training-operator_mpijob-horovod.yaml")
    doc["spec"]["trialTemplate"]["trialSpec"]["apiVersion"] = "kubeflow.org/v2beta1"
    doc["spec"]["trialTemplate"]["primaryPodLabels"] = {"training.kubeflow.org/job-role": "master", "training.kubeflow.org/replica-type": "launcher"}
    told = {n.path: n.message for n in katib_notes(load_experiment(doc)) if n.path.startswith(LABELS)}
    assert "'launcher', 'worker'" in told[f"{LABELS}.training.kubeflow.org/job-role"], told
    assert "never sets it" in told[f"{LABELS}.training.kubeflow.org/replica-type"], told


def test_a_kind_not_the_operators_gets_no_such_note() -> None:
    doc = load_katib_example(TFJOB)
    doc["spec"]["trialTemplate"]["trialSpec"]["apiVersion"] = "example.com/v1"
    doc["spec"]["trialTemplate"]["primaryPodLabels"] = {"training.kubeflow.org/replica-type": "Worker"}
    assert not [n for n in katib_notes(load_experiment(doc)) if n.path.startswith(LABELS)]
