"""The kinds a trial may be on Kubernetes: their REST coordinates and where their pods are
described. Add a kind here and the launcher, ``render`` and ``cleanup`` all know it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TrialKind:
    """One kind of trial resource: its REST coordinates and how its pods are found."""

    api_version: str
    kind: str
    plural: str
    job_name_label: str
    """The label the kind's controller puts on its pods, with the resource's name as value."""
    replica_specs: str = ""
    """The field holding ``{ReplicaType: {replicas, template}}`` (Training Operator kinds)."""

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]

    @property
    def resource(self) -> str:
        """``plural.group`` as RBAC and kubectl name it (``jobs.batch``)."""
        return f"{self.plural}.{self.group}"


_TRAINING = "training.kubeflow.org/job-name"
KINDS: dict[tuple[str, str], TrialKind] = {
    (k.api_version, k.kind): k
    for k in (
        TrialKind("batch/v1", "Job", "jobs", "batch.kubernetes.io/job-name"),
        TrialKind("kubeflow.org/v1", "TFJob", "tfjobs", _TRAINING, "tfReplicaSpecs"),
        TrialKind("kubeflow.org/v1", "PyTorchJob", "pytorchjobs", _TRAINING, "pytorchReplicaSpecs"),
        TrialKind("kubeflow.org/v1", "XGBoostJob", "xgboostjobs", _TRAINING, "xgbReplicaSpecs"),
        TrialKind("kubeflow.org/v1", "MPIJob", "mpijobs", _TRAINING, "mpiReplicaSpecs"),
        TrialKind("kubeflow.org/v2beta1", "MPIJob", "mpijobs", _TRAINING, "mpiReplicaSpecs"),
        TrialKind("trainer.kubeflow.org/v1alpha1", "TrainJob", "trainjobs", "jobset.sigs.k8s.io/jobset-name"),
    )
}


def trial_kind(manifest: Mapping[str, Any]) -> TrialKind:
    """The manifest's kind; ValueError naming the kinds there are."""
    key = (str(manifest.get("apiVersion", "")), str(manifest.get("kind", "")))
    if key not in KINDS:
        known = ", ".join(f"{k} ({v})" for v, k in KINDS)
        raise ValueError(f"trial kind {key[1]!r} of apiVersion {key[0]!r} cannot run on Kubernetes here; expected one of: {known}")
    return KINDS[key]


def pod_templates(manifest: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, pod template) for every pod template in the manifest (none for TrainJob, whose
    pods come from its runtime)."""
    kind = trial_kind(manifest)
    spec = manifest.get("spec") or {}
    if kind.kind == "Job":
        if isinstance(spec.get("template"), dict):
            yield "spec.template", spec["template"]
        return
    if kind.replica_specs:
        for replica, replica_spec in (spec.get(kind.replica_specs) or {}).items():
            if isinstance(replica_spec, dict) and isinstance(replica_spec.get("template"), dict):
                yield f"spec.{kind.replica_specs}.{replica}.template", replica_spec["template"]
