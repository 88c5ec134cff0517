"""A kind named TrainJob in a group other than Trainer's (``example.com/v1``) is a user's own kind,
not Kubeflow Trainer's TrainJob: its primary container is the one its pod template shows, as for
any other kind. ``primary_container`` took every kind named TrainJob for Trainer's (its
``spec.trainer``), while validation's own TrainJob check asks for the group too, so such a kind was
refused for File, Custom and Push with "its trialSpec shows no container named 'trainer'"
(false), and warned of at primaryContainerName."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from collector_sources import collector as collector_override
from conftest import merge, quadratic_experiment, validation_errors
from kfp_tune.core.template import is_train_job, primary_container

CONTAINER = {"name": "trainer", "image": "trainer:1", "command": ["python3", "/opt/train.py"], "args": ["--x=${trialParameters.x}", "--y=${trialParameters.y}"]}


def own_train_job(api_version: str = "example.com/v1") -> dict[str, Any]:
    """A user's kind named TrainJob whose pod template shows the container that trains."""
    return {"apiVersion": api_version, "kind": "TrainJob", "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [dict(CONTAINER)]}}}}


def trainers_train_job(api_version: str = "trainer.kubeflow.org/v1alpha1") -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": "TrainJob", "spec": {"runtimeRef": {"name": "torch-distributed"}, "trainer": {"image": "trainer:1"}}}


def test_a_trainjob_of_another_group_has_the_primary_container_its_pod_template_shows() -> None:
    manifest = own_train_job()
    assert primary_container(manifest, "trainer") is manifest["spec"]["template"]["spec"]["containers"][0]
    assert primary_container(manifest, "node") is None


@pytest.mark.parametrize("api_version", ["trainer.kubeflow.org/v1alpha1", "trainer.kubeflow.org/v1"])
def test_trainers_trainjob_has_its_spec_trainer_whatever_the_name_or_version(api_version: str) -> None:
    manifest = trainers_train_job(api_version)
    assert primary_container(manifest, "node") is manifest["spec"]["trainer"]
    assert primary_container(manifest, "anything") is manifest["spec"]["trainer"]


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        ({"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob"}, True),
        ({"apiVersion": "trainer.kubeflow.org/v2", "kind": "TrainJob"}, True),
        ({"apiVersion": "example.com/v1", "kind": "TrainJob"}, False),
        ({"apiVersion": "v1", "kind": "TrainJob"}, False),  # the core group: no group at all
        ({"kind": "TrainJob"}, False),
        ({"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainingRuntime"}, False),
        ({"apiVersion": ["trainer.kubeflow.org/v1alpha1"], "kind": "TrainJob"}, False),
    ],
)
def test_trainers_trainjob_is_told_by_its_group_and_kind(manifest: dict[str, Any], expected: bool) -> None:
    assert is_train_job(manifest) is expected


def _experiment(collector: str, trial_spec: dict[str, Any]) -> dict[str, Any]:
    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["trialSpec"] = trial_spec
    doc["spec"]["trialTemplate"]["primaryContainerName"] = "trainer"
    return merge(doc, collector_override(collector))


@pytest.mark.parametrize("collector", ["StdOut", "File", "Custom", "Push"])
def test_a_trainjob_of_another_group_takes_every_collector_with_no_warning(collector: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert validation_errors(_experiment(collector, own_train_job())) == []
    assert not [record.getMessage() for record in caplog.records if "primaryContainerName" in record.getMessage()]


@pytest.mark.parametrize("collector", ["File", "Custom"])
def test_trainers_trainjob_is_still_refused_a_collector_in_the_pod(collector: str) -> None:
    doc = _experiment(collector, trainers_train_job())
    doc["spec"]["trialTemplate"]["primaryContainerName"] = "node"
    [message] = [e.message for e in validation_errors(doc) if e.path == "spec.metricsCollectorSpec.collector.kind"]
    assert message.startswith(f"{collector} cannot collect the metrics of a trial of kind TrainJob") and "training runtime" in message
