"""The manifest the Kubernetes launcher creates for a trial: the rendered template with its
namespace, labels, owner, service account, accelerator settings, env, and what its metrics
collector needs, and every refused setting checked. Pure: no Kubernetes client here;
``kfp-tune render`` prints it.

Which pods get what, in a trial of several replica types:

- the launcher's env (the trial's place in the store, the store's credentials by Secret
  reference) and ``KATIB_TRIAL_NAME``: the primary container of every pod template that has
  one, as Katib's webhook gives its trial env to every pod's primary container
  (inject_webhook.go, mutatePodEnv);
- ``gpus``: each pod that trains (:func:`.kinds.training_containers`: every replica running the
  primary container, but a TFJob's parameter servers; an MPIJob's workers, not its launcher;
  a TrainJob's ``trainer.resourcesPerNode``), where it asks for no accelerator
  (:func:`is_accelerator`);
- the metrics collector (kfp-tune's, or the user's Custom one) and the metrics folder: only the
  templates whose pods may carry ``primaryPodLabels`` (:func:`.kinds.primary_pod_templates`), as
  Katib injects its collector in the primary pod only;
- labels: the resource keeps its own, with kfp-tune's and the algorithm's; its pod templates
  keep theirs and get the Experiment's ``metadata.labels``, the algorithm's and kfp-tune's
  (:attr:`~kfp_tune.core.interfaces.TrialRun.pod_labels`), as Katib's webhook gives the pods the
  Trial's labels, and not the resource's own, which neither Katib nor the kind's controller
  copies onto its pods. The Experiment's labels are not the resource's: Katib puts them on the
  Trial, and its generator gives the resource only its name and namespace;
- service account: the first allowed one and no token, but for the Training Operator's MPIJob
  launcher, which its operator gives an account of its own for ``kubectl exec``;
- a TrainJob, whose pods are its runtime's: the service account (no token setting: Trainer's
  patch has no such field), node selector, tolerations and pod labels in a ``runtimePatches``
  entry of kfp-tune's own (:func:`_patch_train_job_pods`).

Metrics collectors, as Katib's webhook adds them to the trial's pod:

- File / TensorFlowEvent: an ``emptyDir`` mounted at the metrics folder in the primary container,
  and kfp-tune's collector container (:mod:`kfp_tune.collectors.sidecar`) beside it, which
  follows the file or folder and stores what the trial reports as it comes. With a
  ``metricsVolume`` in the launcher config, that claim takes the emptyDir's place (launch-trial
  also reads the files through its own mount once the trial has ended).
- PrometheusMetric: the same collector container, scraping ``localhost:<port><path>``.
- Custom: the user's ``customCollector`` container, with the folder of ``source.fileSystemPath``
  shared as an ``emptyDir`` (:mod:`kfp_tune.collectors.custom`).

The primary container's command: for StdOut, File and TensorFlowEvent (Katib's
``NeedWrapWorkerMetricsCollectorList``) it runs as Katib's webhook runs it, ``command: [sh, -c]``
and ``args`` the command and args joined by single spaces (:mod:`kfp_tune.core.shell_form`), so
the shell parses the line as under Katib (the quotes of ``--flag="${trialParameters.x}"`` go);
in the pod templates the collector goes to (those whose pods may carry ``primaryPodLabels``), as
Katib wraps it in the primary pod only, and in the template entries a kind built at run time
makes it from. Where one template makes several pods (a TFJob's workers) all of them run the
line, where Katib wraps worker 0's only; so do a TrainJob's nodes (``numNodes`` above 1), which
share one trainer, where Katib wraps node 0's only (its default ``primaryPodLabels``). A container with no ``command`` is left as it is: Katib reads the
image's entrypoint from its registry, which kfp-tune does not. Push, None, PrometheusMetric and
Custom keep exec form, as under Katib.

The collector containers are Kubernetes native sidecars (``initContainers`` with
``restartPolicy: Always``, Kubernetes 1.29 or later): they start before the trial's containers,
do not keep the pod (and so the Job) from completing, and get SIGTERM once the trial's containers
have ended, when they store what is left. Katib's shell line also redirects the output to a file
and writes a marker file when the command ends, for its collector to wait on; a native sidecar
needs neither. The collector containers get the store's place and credentials as a Push trial does: the
launcher's env, Secret references included, never a credential as a value. They run in the pod
templates that have the primary container and whose pods may be the primary pod; where one
template makes several pods (a TFJob's workers, of which worker 0 is the master role) kfp-tune's
own collector also checks its pod's labels (the downward API) and stores nothing in another."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from kfp_tune.core.checkpoints import TRIAL_DIR_SETTING
from kfp_tune.core.collector_checks import FROM_THE_TRAINING_RUNTIME, KIND_FIELD, pod_collector_problem
from kfp_tune.core.errors import shown
from kfp_tune.core.naming import LABEL_PREFIX, label_problems
from kfp_tune.core.shell_form import katib_wraps, shell_form
from kfp_tune.core.template import is_train_job, primary_container, unsafe_settings
from kfp_tune.core.vocabulary import KATIB_TRIAL_VARIABLE, CollectorKind
from kfp_tune.launchers.kubernetes.kinds import (
    TRAINER_JOB,
    pod_templates,
    primary_pod_container,
    primary_pod_templates,
    runtime_patch_pod_templates,
    training_containers,
    trial_kind,
)
from kfp_tune.launchers.metrics_files import metrics_root
from kfp_tune.launchers.runtime_image import default_image

FILE_KINDS = ("File", "TensorFlowEvent")
SIDECAR_KINDS = ("File", "TensorFlowEvent", "PrometheusMetric")
SIDECAR_RESOURCES = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}
"""The collector container's resources (a quota that requires limits accepts the pod)."""


@dataclass(frozen=True)
class ClusterSettings:
    """What the Kubernetes launcher adds to every trial it creates (from its config)."""

    namespace: str
    service_accounts: tuple[str, ...] = ("default",)
    """Service accounts a trial may name; the first is used when it names none."""
    node_selector: Mapping[str, str] | None = None
    tolerations: tuple[Mapping[str, Any], ...] = ()
    gpus: int = 0
    """``nvidia.com/gpu`` for each container that trains, in every pod, where it asks for no
    accelerator (:func:`is_accelerator`; KFP's task-level accelerator settings, forwarded)."""
    env: tuple[tuple[str, Any], ...] = ()
    """Env for the primary container of every pod: (name, value) or (name, {"secretKeyRef": ...})."""
    metrics_claim: str = ""
    """File / TensorFlowEvent collectors on a cluster: a PersistentVolumeClaim, shared with
    launch-trial, where the trial's metrics folder lives (subPath ``<experiment>/<trial>``).
    Without one, a collector sidecar follows the trial's metrics instead."""
    collector_image: str = ""
    """The image of kfp-tune's collector sidecar; empty: ``KFP_TUNE_IMAGE``, else the image the
    components run in."""
    checkpoint_claim: str = ""
    """Trials with a checkpoint folder (``suggestion_trial_dir``): the ReadWriteMany claim the
    folders live on, at ``<experiment>/<trial>``."""


class CheckpointMount(NamedTuple):
    """A trial's checkpoint folder on the claim: mounted at ``path`` from
    ``<experiment>/<trial>``, first a copy of ``<experiment>/<parent>`` when there is a parent."""

    path: str
    experiment: str
    trial: str
    parent: str = ""


def prepare_manifest(
    manifest: Mapping[str, Any],
    primary_container_name: str,
    settings: ClusterSettings,
    labels: Mapping[str, str],
    owner: Mapping[str, Any] | None = None,
    metrics: tuple[str, str, str] | None = None,
    collector: Mapping[str, Any] | None = None,
    checkpoint: CheckpointMount | None = None,
    primary_pod_labels: Mapping[str, str] | None = None,
    trial_name: str = "",
    pod_labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The resource to create: the rendered trial with namespace, ``labels`` (the resource's),
    ``pod_labels`` over each pod template's own (:func:`trial_pod_labels`), owner reference, service account, ``automountServiceAccountToken: false``
    unless the template asks for it (a TrainJob: these in a runtime patch, :func:`_patch_train_job_pods`),
    accelerator settings where the template has none, and the launcher's env on the primary containers (see the module for which pods get what); and the
    metrics collector's volume and containers: ``metrics`` is (collector path, its kind, the
    claim's subPath) for File and TensorFlowEvent, ``collector`` the experiment's
    ``metricsCollectorSpec`` (Katib's camelCase; None: the kind follows from ``metrics``),
    ``primary_pod_labels`` the trial's (the collector goes where they may select a pod); and the
    trial's ``checkpoint`` folder on the launcher's checkpoint claim (:func:`_mount_checkpoint`);
    ``trial_name``, where given, as ``KATIB_TRIAL_NAME`` in the primary containers.
    ValueError for anything refused: settings that give a trial the node (looked for in the
    template, then in the whole manifest once everything is added: the Custom collector's
    container too), a service account not allowed, labels the API server would refuse."""
    out = copy.deepcopy(dict(manifest))
    trial_kind(out)
    refuse_unsafe_settings(out)
    metadata = out.setdefault("metadata", {})
    metadata["namespace"] = settings.namespace
    metadata.setdefault("labels", {}).update(labels)
    if owner is not None:
        metadata["ownerReferences"] = [dict(owner)]
    operator_account = _operator_account_template(out)
    for path, template in pod_templates(out):
        template.setdefault("metadata", {}).setdefault("labels", {}).update(trial_pod_labels(labels, pod_labels))
        pod = template.setdefault("spec", {})
        account = pod.get("serviceAccountName") or pod.get("serviceAccount")
        if account and account not in settings.service_accounts:
            raise ValueError(f"{path}.spec.serviceAccountName: {account!r} is not in the launcher's allowed service accounts {list(settings.service_accounts)}")
        if path != operator_account:
            pod.setdefault("serviceAccountName", settings.service_accounts[0] if settings.service_accounts else "default")
            pod.setdefault("automountServiceAccountToken", False)
        if settings.node_selector and "nodeSelector" not in pod:
            pod["nodeSelector"] = dict(settings.node_selector)
        if settings.tolerations and "tolerations" not in pod:
            pod["tolerations"] = [dict(t) for t in settings.tolerations]
    bad_labels = label_problems(metadata.get("labels") or {}, "metadata.labels")
    if is_train_job(out):
        bad_labels += _patch_train_job_pods(out, settings, trial_pod_labels(labels, pod_labels))
    for path, template in pod_templates(out):
        bad_labels += label_problems((template.get("metadata") or {}).get("labels") or {}, f"{path}.metadata.labels")
    if bad_labels:
        raise ValueError("; ".join(bad_labels))
    container = primary_container(out, primary_container_name)
    if container is None:
        raise ValueError(f"no container named {primary_container_name!r} in the trial manifest")
    in_templates = [
        (path, c) for path, t in pod_templates(out) for c in (t.get("spec") or {}).get("containers") or []
        if isinstance(c, dict) and c.get("name") == primary_container_name
    ]
    primaries = [c for _, c in in_templates] or [container]  # a TrainJob's trainer has no pod template
    # where the collector goes (Katib wraps only there): by the templates' own labels, before the trial's were added
    primary_pods = primary_pod_templates(manifest, primary_pod_labels, trial_pod_labels(labels, pod_labels))
    wrapped = [c for path, c in in_templates if primary_pods is None or path in primary_pods] if in_templates else [container]
    if settings.gpus:
        for target in training_containers(out, primary_container_name) or primaries:
            add_gpus(target, settings.gpus, "resourcesPerNode" if is_train_job(out) else "resources")
    kind = collector_kind(collector, metrics[1] if metrics is not None else None)
    if is_train_job(out) and (refused := pod_collector_problem(kind, "TrainJob", FROM_THE_TRAINING_RUNTIME)) is not None:
        raise ValueError(f"{KIND_FIELD}: {refused}")  # in validation's words: a ConfigMap template reaches here unvalidated
    if kind in SIDECAR_KINDS:
        path, path_kind = metrics[:2] if metrics is not None else _file_system_path(collector)
        if kind in FILE_KINDS and not path:
            raise ValueError(f"the {kind} collector needs source.fileSystemPath.path")
        # the folder the primary pod's command names (a PyTorchJob's Master, whatever the YAML's order): from the template as written
        commands = primary_pod_container(manifest, primary_container_name, primary_pod_labels, trial_pod_labels(labels, pod_labels)) or {}
        claim = ""
        if metrics is not None and settings.metrics_claim:
            _mount_metrics(out, primary_container_name, settings, metrics_root(commands, metrics[0], metrics[1])[0], metrics[2], primary_pods)
            claim = metrics[2]
        root = metrics_root(commands, path, path_kind or ("Directory" if kind == "TensorFlowEvent" else "File"))[0] if kind in FILE_KINDS else ""
        _add_sidecar(out, primary_container_name, settings, root, claim, primary_pods)
    elif kind == "Custom":
        _add_custom(out, primary_container_name, settings, collector or {}, primary_pods)
    if checkpoint is not None:
        _mount_checkpoint(out, primary_container_name, settings, checkpoint)
    if katib_wraps(kind):  # last: metrics_root above reads the command's words
        for target in wrapped:
            wrap_command(target)
    for target in primaries:  # Katib's webhook: the trial's env in every pod's primary container (mutatePodEnv)
        _add_env(target, settings.env)
        if trial_name:
            set_katib_trial_name(target, trial_name)
    refuse_unsafe_settings(out)  # again, whole: what was added since (a Custom collector, the env) cannot slip one by
    return out


def refuse_unsafe_settings(tree: Any, path: str = "") -> None:
    """ValueError naming every setting the Pod Security baseline forbids in ``tree``
    (:func:`~kfp_tune.core.template.unsafe_settings`), at ``path``."""
    problems = unsafe_settings(tree, path)
    if problems:
        raise ValueError("; ".join(f"{p.path}: {p.message}" for p in problems))


def trial_pod_labels(labels: Mapping[str, str], pod_labels: Mapping[str, str] | None = None) -> dict[str, str]:
    """The labels a trial's pods get over their template's own: ``pod_labels`` (the
    Experiment's, the algorithm's and kfp-tune's: :attr:`~kfp_tune.core.interfaces.TrialRun.pod_labels`);
    where none are given, kfp-tune's own of the resource's ``labels``. As Katib's pod webhook
    gives a trial's pods the Trial's labels (mutatePodMetadata). Not the labels of the
    template's own metadata, which neither Katib nor the kind's controller copies onto its pods:
    a NetworkPolicy, PodDisruptionBudget or Service that selects the resource by them would
    select its pods too."""
    if pod_labels:
        return dict(pod_labels)
    return {key: value for key, value in labels.items() if key.startswith(f"{LABEL_PREFIX}/")}


def add_gpus(container: dict[str, Any], gpus: int, field: str) -> None:
    """``nvidia.com/gpu: gpus`` as the container's limit, unless it asks for an accelerator itself
    (:func:`is_accelerator`: a MIG slice, an AMD GPU or an FPGA is one too, and a whole NVIDIA GPU
    beside it would keep the pod off the nodes that have it; a limit or a request: Kubernetes
    takes an extended resource's request only equal to its limit), or claims devices through
    Dynamic Resource Allocation (``resources.claims``: a DRA-only cluster has no
    ``nvidia.com/gpu`` to give, and elsewhere the trial would hold two GPUs). The one rule for
    every kind: a pod template's container and a run-time kind's primary entry."""
    resources = container.setdefault(field, {})
    if any(is_accelerator(str(name)) for part in ("limits", "requests") for name in resources.get(part) or {}) or resources.get("claims"):
        return
    resources.setdefault("limits", {})["nvidia.com/gpu"] = gpus


ACCELERATOR_WORDS = frozenset({
    "gpu", "vgpu", "mig", "fpga", "xilinx", "tpu", "npu", "ipu", "neuron", "neuroncore", "neurondevice", "habana", "gaudi", "ascend",
    "mlu", "dcu", "gcu", "qaic",
})
"""The words that make an extended resource's name an accelerator's (:func:`is_accelerator`)."""


def is_accelerator(resource: str) -> bool:
    """Whether ``resource`` names an accelerator: an extended resource (``domain/name``, not
    Kubernetes' own ``kubernetes.io`` ones) one of whose words (split at ``/ . - _``, any
    trailing digits dropped, any case) is in :data:`ACCELERATOR_WORDS`: ``nvidia.com/gpu``,
    ``nvidia.com/mig-1g.10gb``, ``amd.com/gpu``, ``gpu.intel.com/i915``, ``xilinx/aws-vu9p-f1``,
    ``habana.ai/gaudi``, ``aws.amazon.com/neuroncore``, ``google.com/tpu``. Device plugins name
    their resources freely, so the rule goes by words; the extended resources that come beside
    GPUs (RDMA, SR-IOV: ``rdma/hca_shared_devices_a``, ``nvidia.com/hostdev``) are no accelerator."""
    domain, slash, _ = resource.partition("/")
    if not slash or domain == "kubernetes.io" or domain.endswith(".kubernetes.io"):
        return False
    return any(word.rstrip("0123456789") in ACCELERATOR_WORDS for word in re.split(r"[/._-]+", resource.lower()))


RUNTIME_PATCH_MANAGER = f"{LABEL_PREFIX}/launcher"
"""The ``manager`` of the runtime patch kfp-tune adds to a TrainJob: Trainer keys a TrainJob's
patches by it, and its webhook takes a domain-prefixed path."""
MAX_RUNTIME_PATCHES = 16
"""The most ``runtimePatches`` a TrainJob takes (Trainer v2.3's CRD, maxItems)."""


def _patch_train_job_pods(manifest: dict[str, Any], settings: ClusterSettings, pod_labels: Mapping[str, str]) -> list[str]:
    """What a pod template gets from the launcher (service account, node selector, tolerations,
    ``pod_labels``), for a TrainJob, whose pods are its runtime's: in a ``runtimePatches`` entry
    of kfp-tune's own (:data:`RUNTIME_PATCH_MANAGER`), after the template's own, for the replicated
    job :data:`~.kinds.TRAINER_JOB` and every one the template's own patches name (they are in the
    runtime: Trainer refuses a patch of a job its runtime lacks, so no other is named). What the
    template's patches set for a job wins, as a pod template's own settings do: kfp-tune adds no
    service account, node selector or tolerations where they set one (Trainer applies the patches
    in their order), and every account they name must be allowed. No token setting: Trainer's
    patch has no ``automountServiceAccountToken``. Returns the problems of the labels added;
    ValueError for patches that leave no room for kfp-tune's."""
    spec = manifest.setdefault("spec", {})
    patches = spec.get("runtimePatches")
    patches = [] if patches is None else patches
    if not isinstance(patches, list):
        raise ValueError(f"spec.runtimePatches: expected a list of patches, got {shown(patches)}")
    for index, patch in enumerate(patches):
        if isinstance(patch, Mapping) and patch.get("manager") == RUNTIME_PATCH_MANAGER:
            raise ValueError(
                f"spec.runtimePatches[{index}].manager: {RUNTIME_PATCH_MANAGER!r} names the patch kfp-tune adds with the launcher's "
                "settings; give your patch another manager"
            )
    if len(patches) >= MAX_RUNTIME_PATCHES:
        raise ValueError(
            f"spec.runtimePatches: {len(patches)} patches; Trainer takes at most {MAX_RUNTIME_PATCHES}, and kfp-tune adds one with the "
            f"launcher's settings (service account, node selector, tolerations, pod labels): write yours in {MAX_RUNTIME_PATCHES - 1} at most"
        )
    theirs = list(runtime_patch_pod_templates(manifest))
    allowed = list(settings.service_accounts)
    for path, _, template in theirs:
        account = (template.get("spec") or {}).get("serviceAccountName") if isinstance(template.get("spec"), Mapping) else None
        if account and account not in allowed:
            raise ValueError(f"{path}.spec.serviceAccountName: {account!r} is not in the launcher's allowed service accounts {allowed}")
    jobs: list[dict[str, Any]] = []
    problems: list[str] = []
    for name in dict.fromkeys([TRAINER_JOB, *(job for _, job, _ in theirs)]):
        set_there = {key for _, job, template in theirs if job == name and isinstance(template.get("spec"), Mapping) for key in template["spec"]}
        pod: dict[str, Any] = {}
        if "serviceAccountName" not in set_there:
            pod["serviceAccountName"] = allowed[0] if allowed else "default"
        if settings.node_selector and "nodeSelector" not in set_there:
            pod["nodeSelector"] = dict(settings.node_selector)
        if settings.tolerations and "tolerations" not in set_there:
            pod["tolerations"] = [dict(t) for t in settings.tolerations]
        added: dict[str, Any] = {"metadata": {"labels": dict(pod_labels)}} if pod_labels else {}
        if pod:
            added["spec"] = pod
        if not added:
            continue
        if pod_labels:
            where = f"spec.runtimePatches[{len(patches)}].trainingRuntimeSpec.template.spec.replicatedJobs[{len(jobs)}].template.spec.template.metadata.labels"
            problems += label_problems(pod_labels, where)
        jobs.append({"name": name, "template": {"spec": {"template": added}}})
    if jobs:
        spec["runtimePatches"] = [*patches, {"manager": RUNTIME_PATCH_MANAGER, "trainingRuntimeSpec": {"template": {"spec": {"replicatedJobs": jobs}}}}]
    return problems


def _operator_account_template(manifest: Mapping[str, Any]) -> str:
    """The path of the pod template whose service account the kind's operator sets up and uses
    itself, so the launcher names none and leaves its token mounted: the Training Operator's
    (kubeflow.org/v1) MPIJob launcher, whose ``kubectl exec`` into the workers (and its
    kubectl-delivery init container, which waits for them) runs as ``<job>-launcher``, an account
    the operator makes with a Role allowing exec into this job's workers only
    (training-operator pkg/controller.v1/mpi/mpijob_controller.go, newLauncher,
    newLauncherServiceAccount, newLauncherRole). A template that names an account keeps it, and
    the operator binds that Role to it. mpi-operator v2 reaches its workers over SSH: no token.
    "" for every other kind."""
    kind = trial_kind(manifest)
    if (kind.api_version, kind.kind) == ("kubeflow.org/v1", "MPIJob"):
        return f"spec.{kind.replica_specs}.Launcher.template"
    return ""


def wrap_command(container: dict[str, Any]) -> None:
    """What Katib's ``wrapWorkerContainer`` does to the primary container: ``command: [sh, -c]``
    and one arg, its command and args joined (:func:`~kfp_tune.core.shell_form.shell_form`; a
    command that is already ``sh -c`` or ``bash -c`` keeps its shell). Left as it is without a
    ``command`` list (the image's entrypoint, which Katib reads from the registry and kfp-tune
    cannot) and for an entry the kind runs from a script (Argo's ``source``, Tekton's ``script``:
    the command the controller makes runs the same through a shell)."""
    command, args = container.get("command"), container.get("args") or []
    if not command or not isinstance(command, list) or not isinstance(args, list) or "source" in container or "script" in container:
        return
    words = shell_form([str(word) for word in command + args])
    container["command"], container["args"] = words[:2], words[2:]


def set_katib_trial_name(container: dict[str, Any], trial_name: str) -> None:
    """``KATIB_TRIAL_NAME`` on a primary container, as Katib's webhook sets it (mutatePodEnv):
    last, in place of the container's own entry of that name, which Katib's appended one
    overrides (of two entries of one name, Kubernetes takes the last)."""
    env = [item for item in container.get("env") or [] if not (isinstance(item, Mapping) and item.get("name") == KATIB_TRIAL_VARIABLE)]
    container["env"] = [*env, {"name": KATIB_TRIAL_VARIABLE, "value": trial_name}]


def _add_env(container: dict[str, Any], items: tuple[tuple[str, Any], ...]) -> None:
    """The launcher's env on a container, after the container's own (its own win)."""
    env = container.setdefault("env", [])
    present = {item.get("name") for item in env}
    for name, value in items:
        if name not in present:
            env.append({"name": name, "valueFrom": dict(value)} if isinstance(value, Mapping) else {"name": name, "value": str(value)})


METRICS_VOLUME = "kfp-tune-metrics"


def _mount_metrics(
    manifest: dict[str, Any], container_name: str, settings: ClusterSettings, root: str, sub_path: str, primary_pods: set[str] | None = None
) -> None:
    """The launcher's metrics claim at ``root`` (:func:`~kfp_tune.launchers.metrics_files.metrics_root`)
    where the trial writes, at ``sub_path`` (launch-trial reads the files through its own mount
    of it): in the primary container of the pod templates whose pods may be the primary pod, as
    Katib mounts the metrics folder in the primary pod only."""
    for pod, container in _collector_templates(manifest, container_name, primary_pods):
        container.setdefault("volumeMounts", []).append({"name": METRICS_VOLUME, "mountPath": root, "subPath": sub_path})
        _add_volume(pod, {"name": METRICS_VOLUME, "persistentVolumeClaim": {"claimName": settings.metrics_claim}})


CHECKPOINT_VOLUME = "kfp-tune-checkpoints"
CHECKPOINT_ROOT = "/kfp-tune-checkpoints"
"""Where the copier init container sees the experiment's folder on the claim."""
CHECKPOINT_COPIER = "kfp-tune-checkpoint-copy"
COPIER_RESOURCES = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}


def _mount_checkpoint(manifest: dict[str, Any], container_name: str, settings: ClusterSettings, checkpoint: CheckpointMount) -> None:
    """What Katib's webhook does for ``suggestion_trial_dir``: the claim mounted in the primary
    container at the path, from ``<experiment>/<trial>`` (kubelet makes the folder); and, for a
    trial with a parent, an init container first in the pod that copies the parent's folder
    there (kfp-tune's image, :mod:`kfp_tune.launchers.checkpoints`; Katib's suggestion service
    copies it on its own volume instead). The copier runs as the primary container does (its
    ``securityContext``), so the trial owns what it copies."""
    if not settings.checkpoint_claim:
        raise ValueError(f"{TRIAL_DIR_SETTING} {checkpoint.path!r}: the launcher config has no checkpointVolume to keep the trials' checkpoint folders on")
    if is_train_job(manifest):
        raise ValueError(f"{TRIAL_DIR_SETTING}: checkpoint folders are not supported with a TrainJob trial here (its pods come from the runtime)")
    for pod, container in _collector_templates(manifest, container_name):
        _add_volume(pod, {"name": CHECKPOINT_VOLUME, "persistentVolumeClaim": {"claimName": settings.checkpoint_claim}})
        container.setdefault("volumeMounts", []).append(
            {"name": CHECKPOINT_VOLUME, "mountPath": checkpoint.path, "subPath": f"{checkpoint.experiment}/{checkpoint.trial}"}
        )
        if not checkpoint.parent:
            continue
        copier: dict[str, Any] = {
            "name": CHECKPOINT_COPIER,
            "image": settings.collector_image or default_image(),
            "command": ["python3", "-m", "kfp_tune.launchers.checkpoints", CHECKPOINT_ROOT, checkpoint.parent, checkpoint.trial],
            "volumeMounts": [{"name": CHECKPOINT_VOLUME, "mountPath": CHECKPOINT_ROOT, "subPath": checkpoint.experiment}],
            "resources": copy.deepcopy(COPIER_RESOURCES),
            "securityContext": copy.deepcopy(container.get("securityContext") or {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}),
        }
        pod.setdefault("initContainers", []).insert(0, copier)


def collector_kind(collector: Mapping[str, Any] | None, metrics_path_kind: str | None = None) -> str:
    """A trial's collector kind, for every kind of trial: the one its ``metricsCollectorSpec``
    (``collector``) names; else, where it has a metrics path (``metrics_path_kind``: that path's
    kind, ``Directory`` or ``File``; None: no path), TensorFlowEvent or File; else StdOut, Katib's
    default."""
    named = ((collector or {}).get("collector") or {}).get("kind")
    if named:
        return str(named)
    if metrics_path_kind is not None:
        return (CollectorKind.TENSORFLOW_EVENT if metrics_path_kind == "Directory" else CollectorKind.FILE).value
    return CollectorKind.STDOUT.value


def _file_system_path(collector: Mapping[str, Any] | None) -> tuple[str, str]:
    fsp = ((collector or {}).get("source") or {}).get("fileSystemPath") or {}
    return str(fsp.get("path") or ""), str(fsp.get("kind") or "")


def _collector_templates(
    manifest: dict[str, Any], container_name: str, primary_pods: set[str] | None = None
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(pod spec, primary container) of every pod template that runs the primary container; with
    ``primary_pods`` (paths), only of those whose pods may be the primary pod (a PyTorchJob's Master, not
    its Workers: :func:`.kinds.primary_pod_templates`), as Katib's webhook adds its collector to
    the primary pod only (inject_webhook.go Mutate). Empty when the pods of no such template
    carry them: the launcher then says so when the trial has ended."""
    found = []
    for path, template in pod_templates(manifest):
        pod = template.setdefault("spec", {})
        container = next((c for c in pod.get("containers") or [] if isinstance(c, dict) and c.get("name") == container_name), None)
        if container is not None:
            found.append((path, pod, container))
    if not found:
        raise ValueError(f"no pod template runs the primary container {container_name!r}")
    return [(pod, container) for path, pod, container in found if primary_pods is None or path in primary_pods]


def _add_volume(pod: dict[str, Any], volume: dict[str, Any]) -> None:
    volumes = pod.setdefault("volumes", [])
    if not any(v.get("name") == volume["name"] for v in volumes):
        volumes.append(volume)


def _add_sidecar(
    manifest: dict[str, Any], container_name: str, settings: ClusterSettings, root: str, sub_path: str = "",
    primary_pods: set[str] | None = None,
) -> None:
    """kfp-tune's collector container beside the primary one, with the metrics folder ``root``
    (File, TensorFlowEvent: an emptyDir, or the metrics claim at ``sub_path`` when the launcher
    has one, already mounted in the primary container; empty for the other kinds) and the pod's
    labels and uid (downward API: its uid tells a pod made again under its name, a new attempt,
    from the sidecar's own container restarting)."""
    from kfp_tune.collectors.sidecar import CONTAINER_NAME, POD_INFO_PATH, POD_INFO_VOLUME, POD_UID_FILE

    pod_info = [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}, {"path": POD_UID_FILE, "fieldRef": {"fieldPath": "metadata.uid"}}]
    for pod, container in _collector_templates(manifest, container_name, primary_pods):
        mounts = [{"name": POD_INFO_VOLUME, "mountPath": POD_INFO_PATH, "readOnly": True}]
        _add_volume(pod, {"name": POD_INFO_VOLUME, "downwardAPI": {"items": copy.deepcopy(pod_info)}})
        if root and sub_path:  # the claim: already in these pod templates, mounted in their primary container
            mounts.insert(0, {"name": METRICS_VOLUME, "mountPath": root, "subPath": sub_path})
        elif root:
            _add_volume(pod, {"name": METRICS_VOLUME, "emptyDir": {}})
            container.setdefault("volumeMounts", []).append({"name": METRICS_VOLUME, "mountPath": root})
            mounts.insert(0, {"name": METRICS_VOLUME, "mountPath": root})
        sidecar: dict[str, Any] = {
            "name": CONTAINER_NAME,
            "image": settings.collector_image or default_image(),
            "command": ["python3", "-m", "kfp_tune.collectors.sidecar"],
            "restartPolicy": "Always",
            "volumeMounts": mounts,
            "resources": copy.deepcopy(SIDECAR_RESOURCES),
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        }
        _add_env(sidecar, settings.env)
        pod.setdefault("initContainers", []).append(sidecar)


def native_sidecars(obj: Any, path: str = "") -> set[tuple[str, str]]:
    """(pod spec's path, container name) of every init container with ``restartPolicy: Always``
    (a native sidecar: the collector's, the Custom collector's, the user's own) anywhere in a
    trial's manifest, whatever its kind: held against the object the API server stored, it tells
    a cluster that dropped the field (:func:`sidecar_drop_cause`)."""
    found: set[tuple[str, str]] = set()
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            if key == "initContainers" and isinstance(value, list):
                found |= {(path, str(c.get("name"))) for c in value if isinstance(c, Mapping) and c.get("restartPolicy") == "Always"}
            else:
                found |= native_sidecars(value, f"{path}.{key}" if path else str(key))
    elif isinstance(obj, list):
        for index, item in enumerate(obj):
            found |= native_sidecars(item, f"{path}[{index}]")
    return found


def sidecar_drop_cause(api_version: str, kind: str) -> tuple[str, str]:
    """(the likely cause, the upgrade that cures it) of a cluster that stored a trial of this kind
    without its init containers' ``restartPolicy``: for a built-in kind the API server (the field
    is Kubernetes 1.29's, 1.28's behind a feature gate); for an operator's kind its CRD's schema,
    generated from an older Kubernetes API, which prunes what it does not list."""
    group = api_version.split("/")[0] if "/" in api_version else ""
    if group in ("", "batch"):
        return ("the API server is Kubernetes older than 1.29 (or 1.28 without the SidecarContainers feature gate), which drops the field",
                "upgrade the cluster to Kubernetes 1.29 or later")
    if (api_version, kind) == ("kubeflow.org/v2beta1", "MPIJob"):
        return (f"the cluster's {kind} CRD (mpi-operator's) does not list the field, so the API server prunes it: an mpi-operator release "
                "built against a Kubernetes API older than 1.29 (v0.8.0's CRD has it)", "upgrade mpi-operator")
    if group == "kubeflow.org":
        return (f"the cluster's {kind} CRD does not list the field, so the API server prunes it: a Training Operator older than v1.8 "
                "(v1.7's CRDs were generated from Kubernetes 1.27's API)", "upgrade the Training Operator to v1.8 or later")
    return (f"the cluster's {kind} CRD ({group}) does not list the field, so the API server prunes it: its operator's CRD was generated "
            "from a Kubernetes API older than 1.29", f"upgrade the operator that serves {kind}")


def _add_custom(
    manifest: dict[str, Any], container_name: str, settings: ClusterSettings, collector: Mapping[str, Any], primary_pods: set[str] | None = None
) -> None:
    """The user's collector container beside the primary one (Katib's Custom collector), with the
    folder of ``source.fileSystemPath`` shared, and the store's place in its env: in the primary
    pod's template only (its container cannot tell a worker's pod from the primary one, and would
    report each worker's metrics as the trial's). Refused, naming its fields, where it has what the
    Pod Security baseline forbids, as the trial template is."""
    from kfp_tune.collectors.custom import FIELD, custom_container, shared_folder

    refuse_unsafe_settings(custom_container(collector), FIELD)  # at its own field, as validation names it
    folder = shared_folder(collector)
    for pod, container in _collector_templates(manifest, container_name, primary_pods):
        custom = copy.deepcopy(custom_container(collector))
        if any(c.get("name") == custom["name"] for c in (pod.get("containers") or []) + (pod.get("initContainers") or [])):
            raise ValueError(f"spec.metricsCollectorSpec.collector.customCollector.name: {custom['name']!r} is already a container of the trial's pod")
        custom["restartPolicy"] = "Always"
        if folder:
            _add_volume(pod, {"name": METRICS_VOLUME, "emptyDir": {}})
            for target in (container, custom):
                target.setdefault("volumeMounts", []).append({"name": METRICS_VOLUME, "mountPath": folder})
        _add_env(custom, settings.env)
        pod.setdefault("initContainers", []).append(custom)
        pod["shareProcessNamespace"] = True
