"""Every trial manifest the Kubernetes launcher would create, from Katib's own examples and from
ours, validates against the real CRD schemas (tests/data/schemas: Training Operator v1.9,
mpi-operator v0.8.0, Trainer v2.3.0; jsonschema on openAPIV3Schema, with unknown fields refused
as the API server's strict field validation does) or, for batch/v1 Job, with kubernetes-validate.
The schemas are loaded once, in tests/support/fake_kube.py, whose API server checks every body
the launcher sends against them."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from conftest import DATA, KATIB_EXAMPLES, KATIB_NAS, KATIB_REFUSES, REPO
from fake_kube import CRDS, MPI_OPERATOR, TRAINER, TRAINING_OPERATOR, FakeKube, validate
from kfp_tune.core.catalogue import ALGORITHMS
from kfp_tune.core.loading import load_experiment
from kfp_tune.launchers.kubernetes import KubernetesConfig, render_manifest
from kfp_tune.launchers.kubernetes.kinds import trial_kind

OUR_EXAMPLES = sorted(p for p in (REPO / "images").glob("*/*.yaml") if "experiment" in p.name)
POD_KIND_EXAMPLES = [
    p for p in KATIB_EXAMPLES if p.name not in {*KATIB_REFUSES, *KATIB_NAS, "argo_argo-workflow.yaml", "trial-template_trial-configmap-source.yaml"}
]
"""Katib's examples that Katib admits, but Argo's Workflow (its pods are built at run time;
tests/launchers/test_any_kind.py renders and runs it) and the ConfigMap template one (rendered
with its ConfigMap in tests/test_katib_examples.py)."""


def _cluster_config() -> KubernetesConfig:
    return KubernetesConfig(
        namespace="team-a", service_accounts=("default", "trainer"), store_secret="mlpipeline-minio-artifact",
        metrics_claim="kfp-tune-metrics", metrics_mount="/mnt/kfp-tune-metrics", checkpoint_claim="kfp-tune-checkpoints",
    )


def _render(path: Path) -> dict:
    """The example's trial manifest; an architecture search's trial gets its algorithm's values
    (given by hand here, as ``kfp-tune render --assign`` takes them)."""
    experiment = load_experiment(path)
    spec = experiment.spec
    searched = ALGORITHMS[spec.algorithm.algorithm_name].trial_values if spec.nas_config is not None and spec.algorithm else ()
    assignment = {name: f"given-{name}" for name in searched}
    return render_manifest(experiment, assignment, config=_cluster_config(), env={"KFP_TUNE_STORE": "s3://mlpipeline/kfp-tune"})


def test_schemas_for_every_trial_kind_are_here():
    assert {("kubeflow.org/v1", k) for k in ("TFJob", "PyTorchJob", "MPIJob", "XGBoostJob")} | {
        ("kubeflow.org/v2beta1", "MPIJob"), ("trainer.kubeflow.org/v1alpha1", "TrainJob")} <= set(CRDS)


@pytest.mark.parametrize("path", POD_KIND_EXAMPLES + OUR_EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_rendered_trial_manifest_validates(path: Path):
    manifest = _render(path)
    validate(manifest)
    assert manifest["metadata"]["namespace"] == "team-a"


@pytest.mark.parametrize("path", POD_KIND_EXAMPLES + OUR_EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_api_server_accepts_the_rendered_trial(path: Path):
    """Beyond the schema: names, labels, the operators' webhooks (tests/support/fake_kube.py)."""
    manifest = _render(path)
    fake = FakeKube(TRAINING_OPERATOR, MPI_OPERATOR if manifest["apiVersion"] == "kubeflow.org/v2beta1" else (), TRAINER)
    group, _, version = manifest["apiVersion"].rpartition("/")
    plural = trial_kind(manifest).plural
    status, answer, _ = fake.handle("POST", f"/apis/{group}/{version}/namespaces/team-a/{plural}", manifest)
    assert status == 201, answer


def test_our_examples_cover_every_kind_the_issue_names():
    kinds = {(load_experiment(p).spec.trial_template.trial_spec["apiVersion"], load_experiment(p).spec.trial_template.trial_spec["kind"]) for p in OUR_EXAMPLES}
    assert {("kubeflow.org/v1", "PyTorchJob"), ("trainer.kubeflow.org/v1alpha1", "TrainJob"), ("kubeflow.org/v2beta1", "MPIJob")} <= kinds
    collectors = {load_experiment(p).spec.metrics_collector_spec.collector.kind for p in OUR_EXAMPLES}
    assert "TensorFlowEvent" in collectors


@pytest.mark.parametrize(
    "break_it",
    [
        lambda m: m["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"].update(contianers=[]),  # a typo
        lambda m: m["spec"]["pytorchReplicaSpecs"]["Master"].update(replicas="one"),
        lambda m: m["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["containers"][0]["env"].append({"value": "no name"}),
    ],
)
def test_the_validator_catches_a_broken_manifest(break_it):
    path = DATA / "katib-examples" / "kubeflow-training-operator_pytorchjob-mnist.yaml"
    manifest = render_manifest(load_experiment(path), config=_cluster_config())
    validate(manifest)
    break_it(manifest)
    with pytest.raises(jsonschema.ValidationError):
        validate(manifest)


def test_kubernetes_validate_catches_a_broken_job():
    import kubernetes_validate

    path = DATA / "katib-examples" / "hp-tuning_random.yaml"
    manifest = render_manifest(load_experiment(path), config=_cluster_config())
    manifest["spec"]["template"]["spec"]["restartPolicy"] = 7
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(manifest)
