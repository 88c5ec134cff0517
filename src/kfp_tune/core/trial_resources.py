"""Trial resources on Kubernetes: the kinds a trial may be, where their pods are described, what
is refused, and the manifest the Kubernetes launcher creates.

Pure: no Kubernetes client here. :mod:`kfp_tune.launchers.kubernetes` sends what
:func:`prepare_manifest` returns; ``kfp-tune render`` prints it.
"""

from __future__ import annotations

import copy
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from kfp_tune.core.errors import FieldError
from kfp_tune.core.template import find_primary_container

LABEL_PREFIX = "kfp-tune.kubeflow.org"
MANAGED_BY = "kfp-tune"


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


def unsafe_settings(tree: Any, path: str = "") -> list[FieldError]:
    """Every setting that would give a trial the node: ``hostPath`` volumes, ``privileged``
    containers, ``hostNetwork`` / ``hostPID`` / ``hostIPC``. Found anywhere in the manifest,
    whatever the kind, so a runtime patch cannot slip one in either."""
    problems: list[FieldError] = []
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            here = f"{path}.{key}" if path else str(key)
            if key == "hostPath":
                problems.append(FieldError(here, "hostPath volumes are refused: a trial must not reach the node's files"))
            elif key == "privileged" and value is True:
                problems.append(FieldError(here, "privileged containers are refused"))
            elif key in ("hostNetwork", "hostPID", "hostIPC") and value is True:
                problems.append(FieldError(here, f"{key} is refused: a trial must not share the node's namespaces"))
            else:
                problems.extend(unsafe_settings(value, here))
    elif isinstance(tree, list):
        for index, item in enumerate(tree):
            problems.extend(unsafe_settings(item, f"{path}[{index}]"))
    return problems


def primary_container(manifest: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """The container that trains: the one named ``name``; for a TrainJob, ``spec.trainer``
    (its pods' trainer container is named ``node``)."""
    if manifest.get("kind") == "TrainJob":
        trainer = (manifest.get("spec") or {}).get("trainer")
        return trainer if isinstance(trainer, dict) else None
    return find_primary_container(manifest, name)


def metrics_root(manifest: Mapping[str, Any], container_name: str, path: str, kind: str) -> tuple[str, str]:
    """(folder to give the trial, the collector path relative to it) for a File or
    TensorFlowEvent collector: the shortest folder above the path that the command names
    (``--log-path=/logs`` with a collector path ``/logs/test``), else the path's own folder."""
    path = posixpath.normpath(path)
    base = path if kind == "Directory" else posixpath.dirname(path)
    container = primary_container(manifest, container_name) or {}
    texts = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
    texts += [str(item.get("value", "")) for item in container.get("env") or []]
    root = ancestor = base
    while ancestor not in ("/", ""):
        if any(_names_path(text, ancestor) for text in texts):
            root = ancestor
        ancestor = posixpath.dirname(ancestor)
    return root, posixpath.relpath(path, root)


def read_metrics_files(local: Path, kind: str) -> dict[str, bytes]:
    """What a trial wrote to its metrics path, seen at ``local``: a File collector's file under
    its own name, or every file in a Directory by its path below it."""
    if kind != "Directory":
        return {local.name: local.read_bytes()} if local.is_file() else {}
    return {p.relative_to(local).as_posix(): p.read_bytes() for p in sorted(local.rglob("*")) if p.is_file()}


def _names_path(text: str, path: str) -> bool:
    """Whether an argument names the path (alone, or after ``=``), or a file under it."""
    starts = [0] + ([text.find("=" + path) + 1] if "=" + path in text else [])
    for start in starts:
        if text.startswith(path, start):
            end = start + len(path)
            if end == len(text) or text[end] == "/":
                return True
    return False


@dataclass(frozen=True)
class ClusterSettings:
    """What the Kubernetes launcher adds to every trial it creates (from its config)."""

    namespace: str
    service_accounts: tuple[str, ...] = ("default",)
    """Service accounts a trial may name; the first is used when it names none."""
    node_selector: Mapping[str, str] | None = None
    tolerations: tuple[Mapping[str, Any], ...] = ()
    gpus: int = 0
    """``nvidia.com/gpu`` for the primary container when the template asks for none (KFP's
    task-level accelerator settings, forwarded)."""
    env: tuple[tuple[str, Any], ...] = ()
    """Env for the primary container: (name, value) or (name, {"secretKeyRef": ...})."""
    metrics_claim: str = ""
    """File / TensorFlowEvent collectors on a cluster: a PersistentVolumeClaim, shared with
    launch-trial, where the trial's metrics folder lives (subPath ``<experiment>/<trial>``)."""


def labels_for(experiment: str, trial: str, round_id: str = "") -> dict[str, str]:
    labels = {f"{LABEL_PREFIX}/experiment": experiment, f"{LABEL_PREFIX}/trial": trial, f"{LABEL_PREFIX}/managed-by": MANAGED_BY}
    if round_id:
        labels[f"{LABEL_PREFIX}/round"] = round_id[-63:].lstrip("-_.")
    return labels


def prepare_manifest(
    manifest: Mapping[str, Any],
    primary_container_name: str,
    settings: ClusterSettings,
    labels: Mapping[str, str],
    owner: Mapping[str, Any] | None = None,
    metrics: tuple[str, str, str] | None = None,
) -> dict[str, Any]:
    """The resource to create: the rendered trial with namespace, labels (on the resource and its
    pod templates), owner reference, service account, ``automountServiceAccountToken: false``
    unless the template asks for it, accelerator settings where the template has none, and the
    launcher's env on the primary container; with ``metrics`` (collector path, its kind, the
    subPath) the metrics claim mounted where the trial writes them. ValueError for anything
    refused."""
    out = copy.deepcopy(dict(manifest))
    trial_kind(out)
    problems = unsafe_settings(out)
    if problems:
        raise ValueError("; ".join(f"{p.path}: {p.message}" for p in problems))
    metadata = out.setdefault("metadata", {})
    metadata["namespace"] = settings.namespace
    metadata.setdefault("labels", {}).update(labels)
    if owner is not None:
        metadata["ownerReferences"] = [dict(owner)]
    for path, template in pod_templates(out):
        template.setdefault("metadata", {}).setdefault("labels", {}).update(labels)
        pod = template.setdefault("spec", {})
        account = pod.get("serviceAccountName") or pod.get("serviceAccount")
        if account and account not in settings.service_accounts:
            raise ValueError(f"{path}.spec.serviceAccountName: {account!r} is not in the launcher's allowed service accounts {list(settings.service_accounts)}")
        pod.setdefault("serviceAccountName", settings.service_accounts[0] if settings.service_accounts else "default")
        pod.setdefault("automountServiceAccountToken", False)
        if settings.node_selector and "nodeSelector" not in pod:
            pod["nodeSelector"] = dict(settings.node_selector)
        if settings.tolerations and "tolerations" not in pod:
            pod["tolerations"] = [dict(t) for t in settings.tolerations]
    container = primary_container(out, primary_container_name)
    if container is None:
        raise ValueError(f"no container named {primary_container_name!r} in the trial manifest")
    if settings.gpus:
        resources = container.setdefault("resourcesPerNode" if out.get("kind") == "TrainJob" else "resources", {})
        limits = resources.setdefault("limits", {})
        limits.setdefault("nvidia.com/gpu", settings.gpus)
    if metrics is not None:
        _mount_metrics(out, primary_container_name, container, settings, *metrics)
    env = container.setdefault("env", [])
    present = {item.get("name") for item in env}
    for name, value in settings.env:
        if name not in present:
            env.append({"name": name, "valueFrom": dict(value)} if isinstance(value, Mapping) else {"name": name, "value": str(value)})
    return out


METRICS_VOLUME = "kfp-tune-metrics"


def _mount_metrics(manifest: dict[str, Any], container_name: str, container: dict[str, Any], settings: ClusterSettings, path: str, kind: str, sub_path: str) -> None:
    if not settings.metrics_claim:
        raise ValueError(
            "the File and TensorFlowEvent collectors on Kubernetes need a shared volume for the trial's metrics: "
            "set metricsVolume in the launcher config (a PersistentVolumeClaim also mounted in launch-trial), "
            "or use the StdOut or Push collector"
        )
    if manifest.get("kind") == "TrainJob":
        raise ValueError("the File and TensorFlowEvent collectors are not supported with a TrainJob trial here (its pods come from the runtime); use StdOut or Push")
    root, _ = metrics_root(manifest, container_name, path, kind)
    container.setdefault("volumeMounts", []).append({"name": METRICS_VOLUME, "mountPath": root, "subPath": sub_path})
    for _, template in pod_templates(manifest):
        volumes = template.setdefault("spec", {}).setdefault("volumes", [])
        if not any(v.get("name") == METRICS_VOLUME for v in volumes):
            volumes.append({"name": METRICS_VOLUME, "persistentVolumeClaim": {"claimName": settings.metrics_claim}})
