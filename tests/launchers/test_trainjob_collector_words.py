"""The Kubernetes launcher refuses a TrainJob trial's collector that runs in the pod in
validation's words (review B of session 31, finding B8): 130ab57 made validation refuse File,
TensorFlowEvent, PrometheusMetric and Custom for a TrainJob at spec.metricsCollectorSpec.collector.kind,
in the words used for Argo and Tekton trials, but the launcher, which a ConfigMap-held TrainJob
template reaches unvalidated, still said "the File collector is not supported with a TrainJob trial
here (its pods come from the runtime)". Both now say the same, at the same field."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import load_katib_example, merge, validation_errors
from kfp_tune.launchers.kubernetes.manifests import ClusterSettings, prepare_manifest

KIND_FIELD = "spec.metricsCollectorSpec.collector.kind"
COLLECTORS: dict[str, dict[str, Any]] = {
    "File": {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/var/log/metrics.log", "kind": "File"}}},
    "TensorFlowEvent": {"collector": {"kind": "TensorFlowEvent"}, "source": {"fileSystemPath": {"path": "/logs", "kind": "Directory"}}},
    "PrometheusMetric": {"collector": {"kind": "PrometheusMetric"}},
    "Custom": {"collector": {"kind": "Custom", "customCollector": {"name": "reporter", "image": "busybox:1.36"}}},
}


def trainjob_experiment(collector: str) -> dict[str, Any]:
    return merge(load_katib_example("kubeflow-trainer_trainjob-pytorch.yaml"), {"spec.metricsCollectorSpec": COLLECTORS[collector]})


@pytest.mark.parametrize("collector", sorted(COLLECTORS))
def test_the_launcher_refuses_in_validations_words(collector: str) -> None:
    validation = {e.path: e.message for e in validation_errors(trainjob_experiment(collector))}[KIND_FIELD]
    trial = trainjob_experiment(collector)["spec"]["trialTemplate"]["trialSpec"]
    with pytest.raises(ValueError) as info:
        prepare_manifest(trial, "node", ClusterSettings(namespace="team-a"), {}, collector=COLLECTORS[collector])
    assert str(info.value) == f"{KIND_FIELD}: {validation}"
    assert "not supported with a TrainJob trial here" not in str(info.value)


@pytest.mark.parametrize("collector", ["StdOut", "Push"])
def test_stdout_and_push_are_prepared(collector: str) -> None:
    trial = trainjob_experiment("File")["spec"]["trialTemplate"]["trialSpec"]
    out = prepare_manifest(trial, "node", ClusterSettings(namespace="team-a"), {}, collector={"collector": {"kind": collector}})
    assert out["kind"] == "TrainJob" and out["metadata"]["namespace"] == "team-a"
