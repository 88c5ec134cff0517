"""The manifest the Kubernetes launcher creates for a trial: the rendered template with its
namespace, labels, owner, service account, accelerator settings, env and metrics volume, and
every refused setting checked. Pure: no Kubernetes client here; ``kfp-tune render`` prints it."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kfp_tune.core.template import primary_container, unsafe_settings
from kfp_tune.launchers.kubernetes.kinds import pod_templates, trial_kind
from kfp_tune.launchers.metrics_files import metrics_root


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
    refused: settings that give a trial the node, a service account not allowed, labels the API
    server would refuse."""
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
    bad_labels = label_problems(metadata.get("labels") or {}, "metadata.labels")
    for path, template in pod_templates(out):
        bad_labels += label_problems((template.get("metadata") or {}).get("labels") or {}, f"{path}.metadata.labels")
    if bad_labels:
        raise ValueError("; ".join(bad_labels))
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


_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def label_problems(labels: Mapping[str, Any], path: str) -> list[str]:
    """What the API server would refuse in these labels, or in a selector made of them: a key is
    ``[prefix/]name`` (prefix a DNS subdomain of 253 characters at most; name 63 at most), a value
    63 characters at most; names and values alphanumeric at both ends, ``-``, ``_``, ``.`` between."""
    problems = []
    for key, value in labels.items():
        prefix, slash, name = str(key).rpartition("/")
        if (slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix))) or len(name) > 63 or not _LABEL_NAME.match(name):
            problems.append(f"{path}: {key!r} is not a valid label key")
        if not isinstance(value, str) or (value and (len(value) > 63 or not _LABEL_NAME.match(value))):
            problems.append(f"{path}.{key}: {value!r} is not a valid label value (63 characters at most, alphanumeric at both ends, '-', '_' or '.' between)")
    return problems


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
