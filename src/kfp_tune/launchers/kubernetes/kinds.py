"""The kinds a trial may be on Kubernetes: their REST coordinates, how their pods are found and
where their pods are described.

Any kind may be a trial, as with Katib's ``trialResources``. Three sorts:

- :data:`KINDS`: batch/v1 Job, the Training Operator's and mpi-operator's kinds, Trainer's
  TrainJob. Known here to the plural; ``cleanup`` always looks for them.
- :data:`WELL_KNOWN`: Argo Workflow, Tekton PipelineRun and TaskRun, JobSet, at any version:
  how their controllers label their pods and name their containers is known here.
- any other kind: its plural is learned from the cluster (discovery, as Katib's RESTMapper
  does) or from ``trialResources`` in the launcher config; its pods are found by their owner
  references (as Katib's pod webhook finds them) unless the config names the label its
  controller puts on them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from kfp_tune.core.spec import KUBEFLOW_JOB_PRIMARY_POD_LABELS
from kfp_tune.core.template import is_train_job, primary_container
from kfp_tune.core.validation import run_time_containers


@dataclass(frozen=True)
class TrialKind:
    """One kind of trial resource: its REST coordinates and how its pods are found."""

    api_version: str
    kind: str
    plural: str = ""
    """"" until learned from the cluster or the launcher config (a kind not known here)."""
    job_name_label: str = ""
    """The label the kind's controller puts on its pods, with the resource's name as value;
    "" when not known: the pods are then found by their owner references."""
    replica_specs: str = ""
    """The field holding ``{ReplicaType: {replicas, template}}`` (Training Operator kinds)."""
    built_at_run_time: bool = False
    """Its pods are made at run time from something other than pod templates (Argo templates,
    Tekton steps): the primary container's name is the controller's, not the template's."""

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]

    @property
    def resource(self) -> str:
        """``plural.group`` as RBAC and kubectl name it (``jobs.batch``)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def known(self) -> bool:
        """Whether its REST coordinates are known (no need to ask the cluster)."""
        return bool(self.plural)


_TRAINING = "training.kubeflow.org/job-name"
_API_VERSION = re.compile(r"v[1-9][0-9]*((alpha|beta)[1-9][0-9]*)?")
"""A Kubernetes API version: v1, v1alpha1, v2beta3."""
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
"""Kinds whose API is known to the version; ``cleanup`` lists each of them."""

WELL_KNOWN: dict[tuple[str, str], TrialKind] = {
    (k.group, k.kind): k
    for k in (
        # Argo Workflows: every pod of a workflow has this label; a container or script
        # template's container is named "main" in its pod
        TrialKind("argoproj.io/v1alpha1", "Workflow", "workflows", "workflows.argoproj.io/workflow", built_at_run_time=True),
        # Tekton: a step's container is "step-<step name>"; pods carry these labels
        TrialKind("tekton.dev/v1", "PipelineRun", "pipelineruns", "tekton.dev/pipelineRun", built_at_run_time=True),
        TrialKind("tekton.dev/v1", "TaskRun", "taskruns", "tekton.dev/taskRun", built_at_run_time=True),
        # JobSet: pod templates at spec.replicatedJobs[].template.spec.template
        TrialKind("jobset.x-k8s.io/v1alpha2", "JobSet", "jobsets", "jobset.sigs.k8s.io/jobset-name"),
        # the Training Operator's other kinds (v1.8, v1.9), not looked for by cleanup unless used
        TrialKind("kubeflow.org/v1", "PaddleJob", "paddlejobs", _TRAINING, "paddleReplicaSpecs"),
        TrialKind("kubeflow.org/v1", "JAXJob", "jaxjobs", _TRAINING, "jaxReplicaSpecs"),
    )
}
"""Kinds known here at any version of their API (its plural and how it labels its pods)."""


def trial_kind(manifest: Mapping[str, Any]) -> TrialKind:
    """The manifest's kind: from :data:`KINDS`, :data:`WELL_KNOWN` (at the manifest's version), or
    a kind not known here (``plural`` empty, learned from the cluster). ValueError when the
    manifest has no apiVersion or kind."""
    api_version, kind = manifest.get("apiVersion"), manifest.get("kind")
    if not isinstance(api_version, str) or not api_version or not isinstance(kind, str) or not kind:
        raise ValueError(f"the trial manifest needs apiVersion and kind as strings, got apiVersion {api_version!r} and kind {kind!r}")
    if (api_version, kind) in KINDS:
        return KINDS[(api_version, kind)]
    group = api_version.rpartition("/")[0]
    if (group, kind) in WELL_KNOWN:
        return dataclasses.replace(WELL_KNOWN[(group, kind)], api_version=api_version)
    return TrialKind(api_version, kind)


TRAINER_JOB = "node"
"""The replicated job whose pods run a TrainJob's ``spec.trainer`` (Trainer's ``constants.Node``):
every runtime Trainer ships has it, and ``primaryPodLabels`` select its first pod."""
RUNTIME_PATCH_POD = ("template", "spec", "template")
"""Where a replicated job's patch in a TrainJob's ``runtimePatches`` holds its pod template."""


def runtime_patch_pod_templates(manifest: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, replicated job, pod template) of every replicated job a TrainJob's own
    ``spec.runtimePatches`` patch (Trainer v2.3: ``[].trainingRuntimeSpec.template.spec.replicatedJobs[]``),
    in their order: the only place a TrainJob holds pod settings, its pods being its runtime's.
    Entries of other shapes are left to validation and the API server."""
    patches = (manifest.get("spec") or {}).get("runtimePatches") if isinstance(manifest.get("spec"), Mapping) else None
    for index, patch in enumerate(patches if isinstance(patches, list) else []):
        jobs = _at(patch, ("trainingRuntimeSpec", "template", "spec", "replicatedJobs"))
        for job_index, job in enumerate(jobs if isinstance(jobs, list) else []):
            if not isinstance(job, Mapping) or not isinstance(job.get("name"), str):
                continue
            template = _at(job, RUNTIME_PATCH_POD)
            path = f"spec.runtimePatches[{index}].trainingRuntimeSpec.template.spec.replicatedJobs[{job_index}].{'.'.join(RUNTIME_PATCH_POD)}"
            yield path, job["name"], template if isinstance(template, dict) else {}


def _at(tree: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        tree = tree.get(key) if isinstance(tree, Mapping) else None
    return tree


def pod_templates(manifest: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, pod template) for every pod template in the manifest: none for a TrainJob (its
    pods come from its runtime: :func:`runtime_patch_pod_templates` are its patches of them) nor
    for kinds built at run time; for a kind not known here, every mapping under ``spec`` whose
    ``spec`` has a ``containers`` list (a PodTemplateSpec)."""
    kind = trial_kind(manifest)
    spec = manifest.get("spec") or {}
    if not isinstance(spec, dict) or kind.built_at_run_time or is_train_job(manifest):
        return
    if kind.kind == "Job" and kind.known:
        if isinstance(spec.get("template"), dict):
            yield "spec.template", spec["template"]
        return
    if kind.replica_specs:
        for replica, replica_spec in (spec.get(kind.replica_specs) or {}).items():
            if isinstance(replica_spec, dict) and isinstance(replica_spec.get("template"), dict):
                yield f"spec.{kind.replica_specs}.{replica}.template", replica_spec["template"]
        return
    yield from _pod_template_specs(spec, "spec")


def _pod_template_specs(tree: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(tree, dict):
        inner = tree.get("spec")
        if isinstance(inner, dict) and isinstance(inner.get("containers"), list):
            yield path, tree
            return
        for key, value in tree.items():
            yield from _pod_template_specs(value, f"{path}.{key}")
    elif isinstance(tree, list):
        for index, item in enumerate(tree):
            yield from _pod_template_specs(item, f"{path}[{index}]")


def template_primary_containers(manifest: Mapping[str, Any], name: str, primary_pod_labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """For a kind built at run time: the entries of the template the primary container is made
    from (Argo: the container or script of templates whose pods carry ``primaryPodLabels``, when
    ``name`` is ``main``; Tekton: steps named ``name`` less its ``step-`` prefix, in the tasks
    whose pods carry them). Where the launcher puts the trial's env and accelerators."""
    entries = [(entry, labels) for runtime_name, entry, labels in (run_time_containers(manifest) or ([], True))[0] if runtime_name == name]
    chosen = [entry for entry, labels in entries if all(labels.get(k) == v for k, v in primary_pod_labels.items())]
    return chosen or [entry for entry, _ in entries]


@dataclass(frozen=True)
class RunTimePlaces:
    """Where a kind built at run time takes the settings the launcher gives pods, as paths of
    keys from the resource's root (None: it has no such place)."""

    service_account: tuple[str, ...] | None = None
    """The mapping that holds ``serviceAccountName`` for all the kind's pods."""
    pod: tuple[str, ...] | None = None
    """The mapping that holds ``nodeSelector`` and ``tolerations``."""
    pod_labels: tuple[str, ...] | None = None
    """The metadata that holds ``labels`` for all the kind's pods (None: the kind's controller
    copies the resource's own labels onto its pods, as Tekton does)."""
    resources_key: str = "resources"
    """The field of a primary container entry that holds resource limits."""


def run_time_places(manifest: Mapping[str, Any]) -> RunTimePlaces:
    """The places for Argo Workflow and Tekton PipelineRun / TaskRun; none for other kinds."""
    kind = trial_kind(manifest)
    if (kind.group, kind.kind) == ("argoproj.io", "Workflow"):
        return RunTimePlaces(("spec",), ("spec",), ("spec", "podMetadata"))
    if kind.group == "tekton.dev" and kind.kind in ("PipelineRun", "TaskRun"):
        if kind.version == "v1beta1":
            return RunTimePlaces(("spec",), ("spec", "podTemplate"))
        if kind.kind == "PipelineRun":
            return RunTimePlaces(("spec", "taskRunTemplate"), ("spec", "taskRunTemplate", "podTemplate"), None, "computeResources")
        return RunTimePlaces(("spec",), ("spec", "podTemplate"), None, "computeResources")
    return RunTimePlaces()


def parse_trial_resource(entry: Any) -> TrialKind:
    """One entry of ``trialResources`` in the launcher config: Katib's ``Kind.version.group``
    (``Workflow.v1alpha1.argoproj.io``; the plural is learned from the cluster), or a mapping
    ``{"kind", "apiVersion", "plural", "podLabel"}``. ValueError for anything else."""
    if isinstance(entry, str):
        kind, dot, rest = entry.partition(".")
        version, dot2, group = rest.partition(".")
        if not kind or not dot or not _API_VERSION.fullmatch(version) or not dot2 or not group:
            raise ValueError(f"launcher_config trialResources: {entry!r} is not Kind.version.group (as in Katib's katib-config, e.g. Workflow.v1alpha1.argoproj.io)")
        known = trial_kind({"apiVersion": f"{group}/{version}", "kind": kind})
        return known
    if isinstance(entry, Mapping):
        allowed = {"kind", "apiVersion", "plural", "podLabel"}
        unknown = sorted(set(entry) - allowed)
        if unknown:
            raise ValueError(f"launcher_config trialResources: unknown key(s) {unknown}; expected some of {sorted(allowed)}")
        api_version, kind_name, plural, label = entry.get("apiVersion"), entry.get("kind"), entry.get("plural", ""), entry.get("podLabel", "")
        if not isinstance(api_version, str) or "/" not in api_version or not isinstance(kind_name, str) or not kind_name:
            raise ValueError(f"launcher_config trialResources: {dict(entry)!r} needs kind and apiVersion (group/version)")
        if not isinstance(plural, str) or not isinstance(label, str):
            raise ValueError(f"launcher_config trialResources: plural and podLabel must be strings in {dict(entry)!r}")
        known = trial_kind({"apiVersion": api_version, "kind": kind_name})
        return dataclasses.replace(known, plural=plural or known.plural, job_name_label=label or known.job_name_label)
    raise ValueError(f"launcher_config trialResources: expected 'Kind.version.group' or a mapping with kind, apiVersion and plural, got {entry!r}")


# --- the labels a kind's controller gives the pods it makes from each template ------------------------

UNKNOWN_VALUE = None
"""A predicted label whose key is set on the pod but whose value is not known here (a controller's
uid, the operator's name)."""

_TRAINING_LABELS = ("training.kubeflow.org/operator-name", _TRAINING, "training.kubeflow.org/replica-type",
                    "training.kubeflow.org/replica-index", "training.kubeflow.org/job-role")
_JOB_LABELS = ("batch.kubernetes.io/job-name", "job-name", "batch.kubernetes.io/controller-uid", "controller-uid")
_COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
_MAX_PREDICTED_REPLICAS = 1000
_TRAINING_KINDS = ("TFJob", "PyTorchJob", "XGBoostJob", "PaddleJob", "JAXJob", "MPIJob")
"""The Training Operator v1.9's kinds at kubeflow.org/v1 whose pods' labels are known here."""


def _master_role(kind: str, replica_types: frozenset[str], replica_type: str, index: int | None) -> bool | None:
    """Whether the Training Operator v1.9 labels this replica ``job-role: master`` (each kind's
    ``IsMasterRole``, pkg/controller.v1/<kind>/*_controller.go); None when it depends on an index
    not known here, or the kind is not known."""
    if kind in ("TFJob", "PyTorchJob"):
        heads = {"Chief", "Master"} if kind == "TFJob" else {"Master"}
        if heads & replica_types:
            return replica_type in heads
        return None if index is None and replica_type == "Worker" else replica_type == "Worker" and index == 0
    if kind in ("XGBoostJob", "PaddleJob"):
        return replica_type == "Master"
    if kind == "JAXJob":
        return None if index is None else index == 0
    if kind == "MPIJob":
        return replica_type == "Launcher"
    return None


def _replica_count(replica_spec: Mapping[str, Any]) -> int | None:
    """``replicas`` (1 when not given, as the operators default it); None when not a number."""
    value = replica_spec.get("replicas", 1)
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    return min(value, _MAX_PREDICTED_REPLICAS) if isinstance(value, int) and value >= 0 else None


@dataclass(frozen=True)
class PodLabelling:
    """The labels of the pods a trial's controller makes from each of its pod templates, as far as
    they are known here: ``pods`` maps a template's path to one label set per pod (a value
    :data:`UNKNOWN_VALUE` where only the key is known); ``keys``: the label keys the controller
    sets or clears, so a key in neither those nor any template's labels is one only the cluster
    knows (a mutating webhook's)."""

    pods: Mapping[str, tuple[Mapping[str, str | None], ...]]
    keys: frozenset[str]

    def may_match(self, path: str, wanted: Mapping[str, str]) -> bool:
        """Whether a pod made from the template at ``path`` may carry every label of ``wanted``."""
        known = self.keys | {key for pods in self.pods.values() for pod in pods for key in pod}
        for pod in self.pods.get(path, ()):
            if all((pod[key] in (UNKNOWN_VALUE, value)) if key in pod else key not in known for key, value in wanted.items()):
                return True
        return False


def pod_labelling(manifest: Mapping[str, Any]) -> PodLabelling | None:
    """How the pods of the kinds whose controllers are known here are labelled (the template's own
    labels, then the controller's): batch/v1 Job (its job-name and controller-uid labels, an
    Indexed Job's completion index); the Training Operator v1.9's kinds (``replica-type``,
    ``replica-index``, ``job-role: master`` on the master role: pkg/controller.v1/common/pod.go and
    each kind's IsMasterRole; its MPIJob's launcher has no index, mpi/mpijob_controller.go
    newLauncher); mpi-operator v2's MPIJob (``job-role`` launcher / worker, the launcher a Job's
    pod: pkg/controller/mpi_job_controller.go defaultLabels). None for other kinds."""
    kind = trial_kind(manifest)
    spec = manifest.get("spec") or {}
    if not isinstance(spec, Mapping):
        return None
    templates = dict(pod_templates(manifest))

    def own(path: str) -> dict[str, str | None]:
        labels = (templates[path].get("metadata") or {}).get("labels") or {}
        return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, Mapping) else {}

    job_labels: dict[str, str | None] = dict.fromkeys(_JOB_LABELS, UNKNOWN_VALUE)
    if kind.kind == "Job" and kind.known:
        extra = {_COMPLETION_INDEX: UNKNOWN_VALUE} if spec.get("completionMode") == "Indexed" else {}
        return PodLabelling({path: ({**own(path), **job_labels, **extra},) for path in templates}, frozenset({*_JOB_LABELS, _COMPLETION_INDEX}))
    mpi_v2 = (kind.kind, kind.version) == ("MPIJob", "v2beta1")
    if kind.group != "kubeflow.org" or not (mpi_v2 or (kind.version == "v1" and kind.kind in _TRAINING_KINDS)):
        return None
    replicas = spec.get(kind.replica_specs) or {}
    if not isinstance(replicas, Mapping):
        return None
    types = frozenset(str(t) for t in replicas)
    pods: dict[str, tuple[Mapping[str, str | None], ...]] = {}
    for replica_type, replica_spec in replicas.items():
        path = f"spec.{kind.replica_specs}.{replica_type}.template"
        if path not in templates or not isinstance(replica_spec, Mapping):
            continue
        count = _replica_count(replica_spec)
        indexes: list[int | None] = list(range(count)) if count is not None else [None]
        made = []
        for index in [None] if replica_type == "Launcher" else indexes:
            shown_index = UNKNOWN_VALUE if index is None else str(index)
            if mpi_v2:
                labels: dict[str, str | None] = {**own(path), "training.kubeflow.org/operator-name": UNKNOWN_VALUE, _TRAINING: UNKNOWN_VALUE,
                                                 "training.kubeflow.org/job-role": str(replica_type).lower()}
                if replica_type == "Launcher":
                    labels.update(job_labels)
                else:
                    labels["training.kubeflow.org/replica-index"] = shown_index
                made.append(labels)
                continue
            master = _master_role(kind.kind, types, str(replica_type), index)
            labels = {**own(path), "training.kubeflow.org/operator-name": UNKNOWN_VALUE, _TRAINING: UNKNOWN_VALUE,
                      "training.kubeflow.org/replica-type": str(replica_type).lower()}
            if not (kind.kind == "MPIJob" and replica_type == "Launcher"):
                labels["training.kubeflow.org/replica-index"] = shown_index
            if master is None:
                labels["training.kubeflow.org/job-role"] = UNKNOWN_VALUE
            elif master:
                labels["training.kubeflow.org/job-role"] = "master"
            made.append(labels)
        pods[path] = tuple(made)
    return PodLabelling(pods, frozenset({*_TRAINING_LABELS, *(_JOB_LABELS if mpi_v2 else ())}))


def primary_pod_templates(
    manifest: Mapping[str, Any], primary_pod_labels: Mapping[str, str] | None, pod_labels: Mapping[str, str] | None = None
) -> set[str] | None:
    """The paths of the pod templates whose pods may be the trial's primary pod (carry every
    label of ``primaryPodLabels``); None when every template may (no such labels, or a kind
    whose pods' labels are not known here). As Katib's pod webhook decides per pod
    (inject_webhook.go Mutate, isPrimaryPod), decided per template where the labels are known.
    Decided by the template's own labels and its controller's, never by ``pod_labels`` (the
    Experiment's, the algorithm's and kfp-tune's, :attr:`~kfp_tune.core.interfaces.TrialRun.pod_labels`):
    Katib's webhook adds the Trial's labels to the pod and then tests the pod's labels as
    they came (``isPrimaryPod(pod.Labels, ...)``, not the mutated pod's), so a key only those
    set selects no pod: the empty set, for any kind."""
    if not primary_pod_labels:
        return None
    added = set(pod_labels or {})
    own = [(template.get("metadata") or {}).get("labels") or {} for _, template in pod_templates(manifest)]
    if any(key in added and not any(isinstance(labels, Mapping) and labels.get(key) == value for labels in own) for key, value in primary_pod_labels.items()):
        return set()
    labelling = pod_labelling(manifest)
    if labelling is None:
        return None
    labelling = PodLabelling(labelling.pods, labelling.keys | added)
    return {path for path in labelling.pods if labelling.may_match(path, primary_pod_labels)}


def primary_template_container(
    manifest: Mapping[str, Any], primary: str, primary_pod_labels: Mapping[str, str] | None, pod_labels: Mapping[str, str] | None = None
) -> tuple[str, dict[str, Any]] | None:
    """(pod template's path, container) of the primary container that Katib's primary pod runs:
    that of the template whose pods Katib takes as the trial's primary pod (those that may carry
    ``primaryPodLabels``, :func:`primary_pod_templates`: a PyTorchJob's Master, a TFJob's Chief,
    else its first Worker), else of the first template with replicas holding it; the order of
    the replica types in the YAML means nothing. None for a kind with no pod templates known here
    (a TrainJob): the first container so named runs."""
    if not isinstance(manifest.get("apiVersion"), str) or not isinstance(manifest.get("kind"), str):
        return None  # no kind to read templates by (validation refuses such a trial template)
    holding = [(path, container) for path, template in pod_templates(manifest)
               if (container := primary_container(template, primary)) is not None]
    allowed = primary_pod_templates(manifest, primary_pod_labels, pod_labels)  # by the templates' own labels, not the trial's (``pod_labels``)
    if allowed is not None and not allowed:  # no pod is primary (the trial's labels only): the kind's own primary runs
        allowed = primary_pod_templates(manifest, KUBEFLOW_JOB_PRIMARY_POD_LABELS)
    with_pods = [(path, container) for path, container in holding if _replica_count_at(manifest, path) != 0]
    chosen = [(path, container) for path, container in holding if allowed is not None and path in allowed] or with_pods or holding
    return chosen[0] if chosen else None


def primary_pod_container(
    manifest: Mapping[str, Any], primary: str, primary_pod_labels: Mapping[str, str] | None, pod_labels: Mapping[str, str] | None = None
) -> dict[str, Any] | None:
    """The primary container the primary pod runs (:func:`primary_template_container`), else the
    first so named (None: none): whose command names the File collector's metrics folder, read
    alike where the manifest is made and where launch-trial reads the folder back."""
    runs = primary_template_container(manifest, primary, primary_pod_labels, pod_labels)
    return runs[1] if runs is not None else primary_container(manifest, primary)


def _replica_count_at(manifest: Mapping[str, Any], path: str) -> int | None:
    """``replicas`` of the replica whose pod template is at ``path`` (1 when not given); None
    where ``path`` is no replica's template."""
    spec = manifest.get("spec")
    for key, specs in (spec.items() if isinstance(spec, Mapping) else ()):
        for replica_type, replica in (specs.items() if key.endswith("ReplicaSpecs") and isinstance(specs, Mapping) else ()):
            if isinstance(replica, Mapping) and path == f"spec.{key}.{replica_type}.template":
                count = replica.get("replicas", 1)
                return count if isinstance(count, int) else 1
    return None


def training_containers(manifest: Mapping[str, Any], primary_container_name: str) -> list[dict[str, Any]] | None:
    """The containers that do the training, where the kind says so otherwise than "every
    container named primaryContainerName": an MPIJob's workers (the launcher only runs mpirun:
    both MPI operators hide its GPUs unless it also runs ranks, the Training Operator's
    ``isGPULauncher`` and mpi-operator v2's ``runLauncherAsWorker``), the container its
    ``mainContainer`` names or else the first; a TFJob's replicas but its parameter servers
    (``PS``, which hold variables). None for the other kinds."""
    kind = trial_kind(manifest)
    spec = manifest.get("spec") or {}
    replicas = spec.get(kind.replica_specs) if isinstance(spec, Mapping) and kind.replica_specs else None
    if kind.group != "kubeflow.org" or not isinstance(replicas, Mapping) or kind.kind not in ("MPIJob", "TFJob"):
        return None

    def containers(replica_type: str) -> list[dict[str, Any]]:
        template = (replicas.get(replica_type) or {}).get("template") if isinstance(replicas.get(replica_type), Mapping) else None
        found = ((template or {}).get("spec") or {}).get("containers") if isinstance(template, Mapping) else None
        return [c for c in found or [] if isinstance(c, dict)]

    def named(found: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
        return [c for c in found if c.get("name") == name]

    if kind.kind == "TFJob":
        return [c for replica_type in replicas if replica_type != "PS" for c in named(containers(str(replica_type)), primary_container_name)]
    workers = containers("Worker")
    main = spec.get("mainContainer")
    chosen = (named(workers, main) if isinstance(main, str) and main else []) or workers[:1]
    if kind.version == "v2beta1" and spec.get("runLauncherAsWorker") is True:
        chosen += named(containers("Launcher"), primary_container_name)
    return chosen
