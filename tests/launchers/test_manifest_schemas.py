"""Every trial manifest the Kubernetes launcher would create, from Katib's own examples and from
ours, validates against the real CRD schemas (tests/data/schemas: Training Operator v1.9,
mpi-operator v0.8.0, Trainer v2.3.0; jsonschema on openAPIV3Schema, with unknown fields refused
as the API server's strict field validation does) or, for batch/v1 Job, with kubernetes-validate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from conftest import DATA, KATIB_EXAMPLES, REPO
from kfp_tune.core.loading import load_experiment
from kfp_tune.launchers.kubernetes import KubernetesConfig, render_manifest

SCHEMAS = DATA / "schemas"
OUR_EXAMPLES = sorted(p for p in (REPO / "images").glob("*/*.yaml") if "experiment" in p.name)


def _strict(schema: Any) -> Any:
    """The schema with additionalProperties false wherever properties are listed and unknown
    fields are not kept (x-kubernetes-preserve-unknown-fields)."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if "properties" in out and "additionalProperties" not in out and not out.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


def _crd_schemas() -> dict[tuple[str, str], dict]:
    out = {}
    for path in SCHEMAS.glob("*.yaml"):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = _strict(version["schema"]["openAPIV3Schema"])
            schema["properties"]["metadata"] = {"type": "object"}  # ObjectMeta is checked by the API server itself
            out[(f"{group}/{version['name']}", kind)] = schema
    return out


CRDS = _crd_schemas()


def validate(manifest: dict) -> None:
    key = (manifest["apiVersion"], manifest["kind"])
    if key == ("batch/v1", "Job"):
        import kubernetes_validate

        kubernetes_validate.validate(manifest, "1.30.0", strict=True)
        return
    assert key in CRDS, f"no CRD schema for {key}"
    jsonschema.validate(manifest, CRDS[key], cls=jsonschema.Draft7Validator)


def _cluster_config() -> KubernetesConfig:
    return KubernetesConfig(
        namespace="team-a", service_accounts=("default", "trainer"), store_secret="mlpipeline-minio-artifact",
        metrics_claim="kfp-tune-metrics", metrics_mount="/mnt/kfp-tune-metrics",
    )


def test_schemas_for_every_trial_kind_are_here():
    assert {("kubeflow.org/v1", k) for k in ("TFJob", "PyTorchJob", "MPIJob", "XGBoostJob")} | {
        ("kubeflow.org/v2beta1", "MPIJob"), ("trainer.kubeflow.org/v1alpha1", "TrainJob")} <= set(CRDS)


@pytest.mark.parametrize("path", KATIB_EXAMPLES + OUR_EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_rendered_trial_manifest_validates(path: Path):
    experiment = load_experiment(path)
    manifest = render_manifest(experiment, config=_cluster_config(), env={"KFP_TUNE_STORE": "s3://mlpipeline/kfp-tune"})
    validate(manifest)
    assert manifest["metadata"]["namespace"] == "team-a"


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
