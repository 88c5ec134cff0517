"""validate said ``valid`` for Training Operator templates that the operator's webhook (v1.9,
pkg/webhooks/<kind>/*_webhook.go) or its kind's CRD schema refuses on every create: each trial
then stopped the run at TrialNotCreated, after the pipeline was submitted. It refuses them now,
as it refuses a batch/v1 Job's fields that do not convert (QA operators, session 36, finding 4)."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import DELETE, load_katib_example, merge, validation_errors

PYTORCH = "kubeflow-training-operator_pytorchjob-mnist.yaml"
XGBOOST = "kubeflow-training-operator_xgboostjob-lightgbm.yaml"
TFJOB = "kubeflow-training-operator_tfjob-mnist-with-summaries.yaml"
SPEC = "spec.trialTemplate.trialSpec.spec"
PT = f"{SPEC}.pytorchReplicaSpecs"
XGB = f"{SPEC}.xgbReplicaSpecs"


def errors(example: str, **overrides: Any) -> dict[str, str]:
    return {e.path: e.message for e in validation_errors(merge(load_katib_example(example), overrides))}


def replica(doc_example: str, field: str, replica_type: str) -> dict[str, Any]:
    return dict(load_katib_example(doc_example)["spec"]["trialTemplate"]["trialSpec"]["spec"][field][replica_type])


def test_katibs_operator_examples_are_not_refused() -> None:
    from kfp_tune.core.validation import operator_webhook_problems

    for example in (PYTORCH, XGBOOST, TFJOB, "kubeflow-training-operator_mpijob-horovod.yaml", "fpga_xgboost-example.yaml"):
        trial_spec = load_katib_example(example)["spec"]["trialTemplate"]["trialSpec"]
        assert operator_webhook_problems(trial_spec) == [], example


def test_a_master_count_other_than_one_is_refused() -> None:
    got = errors(PYTORCH, **{f"{PT}.Master.replicas": 2})
    assert "expected 1" in got[f"{PT}.Master.replicas"] and "got 2" in got[f"{PT}.Master.replicas"] and "must be 1" in got[f"{PT}.Master.replicas"]
    xgb = errors(XGBOOST, **{f"{XGB}.Master.replicas": 2})
    assert "must be 1" in xgb[f"{XGB}.Master.replicas"], xgb
    assert f"{PT}.Master.replicas" not in errors(PYTORCH)


def test_a_replica_type_the_operator_does_not_have_is_refused_naming_the_one_meant() -> None:
    doc = merge(load_katib_example(PYTORCH), {f"{PT}.master": replica(PYTORCH, "pytorchReplicaSpecs", "Master"), f"{PT}.Master": DELETE})
    got = {e.path: e.message for e in validation_errors(doc)}
    assert "not a replica type of PyTorchJob" in got[f"{PT}.master"] and "did you mean 'Master'?" in got[f"{PT}.master"], got


def test_an_xgboostjob_with_no_master_is_refused() -> None:
    got = errors(XGBOOST, **{f"{XGB}.Master": DELETE})
    assert "Master must be present" in got[XGB], got


def test_a_tfjob_with_a_chief_and_a_master_is_refused() -> None:
    worker = replica(TFJOB, "tfReplicaSpecs", "Worker")
    got = errors(TFJOB, **{f"{SPEC}.tfReplicaSpecs.Chief": worker, f"{SPEC}.tfReplicaSpecs.Master": worker})
    assert "at most one Chief or Master" in got[f"{SPEC}.tfReplicaSpecs"], got


def test_a_replica_without_the_kinds_default_container_is_noted() -> None:
    """A note, not a refusal: a local run, which no webhook sees, runs it."""
    from kfp_tune.core.loading import load_experiment
    from kfp_tune.core.portability import katib_notes

    doc = load_katib_example(PYTORCH)
    for spec in doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["pytorchReplicaSpecs"].values():
        spec["template"]["spec"]["containers"][0]["name"] = "trainer"
    doc["spec"]["trialTemplate"]["primaryContainerName"] = "trainer"
    assert validation_errors(doc) == []
    noted = {n.path: n.message for n in katib_notes(load_experiment(doc))}
    for replica_type in ("Master", "Worker"):
        assert "must have at least one container with name pytorch" in noted[f"{PT}.{replica_type}.template.spec.containers"], noted
    assert not any(".containers" in path for path in (n.path for n in katib_notes(load_experiment(load_katib_example(PYTORCH)))))


@pytest.mark.parametrize("value", ["${trialParameters.numWorkers}", "2", True])
def test_an_integer_field_holding_text_is_refused_saying_a_placeholder_stays_text(value: Any) -> None:
    got = errors(PYTORCH, **{f"{PT}.Worker.replicas": value})
    message = got[f"{PT}.Worker.replicas"]
    assert message.startswith("expected an integer") and "CRD's schema" in message
    assert ("stays text" in message) == (isinstance(value, str) and value.startswith("${"))
    backoff = errors(PYTORCH, **{f"{SPEC}.runPolicy": {"backoffLimit": "${trialParameters.learningRate}"}})
    assert "stays text" in backoff[f"{SPEC}.runPolicy.backoffLimit"], backoff


def test_a_kind_not_of_the_operators_is_not_checked() -> None:
    from kfp_tune.core.validation import operator_webhook_problems

    trial_spec = load_katib_example(PYTORCH)["spec"]["trialTemplate"]["trialSpec"]
    trial_spec["apiVersion"] = "example.com/v1"
    trial_spec["spec"]["pytorchReplicaSpecs"]["Master"]["replicas"] = 2
    assert operator_webhook_problems(trial_spec) == []


def test_a_master_with_no_count_is_refused() -> None:
    """v1.9's webhook tests ``rSpec.Replicas == nil || *rSpec.Replicas != 1``: its CRD defaults nothing, so a Master without replicas is refused."""
    got = errors(PYTORCH, **{f"{PT}.Master.replicas": DELETE})
    assert got[f"{PT}.Master.replicas"].startswith("required: 1") and "must be 1" in got[f"{PT}.Master.replicas"], got
    assert f"{XGB}.Master.replicas" in errors(XGBOOST, **{f"{XGB}.Master.replicas": DELETE})
