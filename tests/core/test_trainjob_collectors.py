"""A Trainer TrainJob trial's pods come from its training runtime, whose pod templates the trial
does not hold: a collector that runs in the pod (File, TensorFlowEvent, PrometheusMetric, Custom)
was refused only when the run's launch step prepared the first trial (the runtimekinds fixer,
session 31). Validation refuses it before anything runs, at the collector's kind, as it does for
Argo and Tekton trials; StdOut and Push are taken."""

from __future__ import annotations

from typing import Any

import pytest

from collector_sources import collector as collector_override
from conftest import merge, quadratic_experiment, validation_errors

KIND_PATH = "spec.metricsCollectorSpec.collector.kind"
def train_job(collector: str) -> dict[str, Any]:
    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["trialSpec"] = {
        "apiVersion": "trainer.kubeflow.org/v1alpha1",
        "kind": "TrainJob",
        "spec": {"runtimeRef": {"name": "torch-distributed"}, "trainer": {"image": "trainer:1", "command": ["python3", "/opt/train.py"], "args": ["--x=${trialParameters.x}", "--y=${trialParameters.y}"]}},
    }
    doc["spec"]["trialTemplate"]["primaryContainerName"] = "node"
    return merge(doc, collector_override(collector))


@pytest.mark.parametrize("collector", ["File", "TensorFlowEvent", "PrometheusMetric", "Custom"])
def test_a_collector_in_the_pod_is_refused_for_a_train_job_before_anything_runs(collector: str) -> None:
    [message] = [e.message for e in validation_errors(train_job(collector)) if e.path == KIND_PATH]
    assert message.startswith(f"{collector} cannot collect the metrics of a trial of kind TrainJob"), message
    assert "training runtime" in message and message.endswith("use StdOut or Push"), message


@pytest.mark.parametrize("collector", ["StdOut", "Push"])
def test_stdout_and_push_are_taken_for_a_train_job(collector: str) -> None:
    assert validation_errors(train_job(collector)) == []
