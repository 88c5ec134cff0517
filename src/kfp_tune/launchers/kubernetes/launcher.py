"""Run a trial as a Kubernetes resource of any kind: Job, the Training Operator's kinds, TrainJob,
JobSet, an Argo Workflow, a Tekton PipelineRun or a user's CRD (see :mod:`.kinds`).

The launcher creates the rendered trial (see :func:`kfp_tune.launchers.kubernetes.manifests.prepare_manifest`)
under its deterministic name, owned by a per-experiment anchor ConfigMap (never the launch-trial
pod, which Argo removes), and follows it until the kind's success or failure condition holds.
The failure condition is looked at first, as Katib does; its result gives the reason and
message. It then reads the primary pod's primary container log (a clear failure naming the pod's
containers when it has none of that name, or, for a trial that succeeded, naming the labels of
its pods when none carries ``primaryPodLabels``), and deletes the resource unless the template
says ``retain``.

A kind not known here gets its plural from the cluster's discovery API (``GET
/apis/<group>/<version>``, as Katib's RESTMapper does) or from ``trialResources`` in the launcher
config; its pods are found by ``primaryPodLabels`` and owner references that lead to the trial,
as Katib's pod webhook finds them. The experiment's anchor records such a kind, so ``cleanup``
finds its trials too.

Safe to call again: a second create of the same trial gets 409 and adopts the resource when its
labels say it is this trial's; ``reattach`` follows a resource a dead launch-trial left. SIGTERM
to launch-trial deletes the trial it is following. API errors: 429 and 5xx are retried with
backoff (an outage longer than ``apiRetrySeconds`` while a trial is followed leaves it running,
followed again once the API answers); a create a ResourceQuota refuses is tried again for
``quotaWaitSeconds``; other 403s and
404s become one error naming the resource and the permission; the rest quote what the API
server's Status said.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import functools
import json
import logging
import math
import random
import signal
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from kfp_tune.collectors.formats import rfc3339_microseconds
from kfp_tune.core import conditions
from kfp_tune.core.checkpoints import TRIAL_DIR_SETTING
from kfp_tune.core.collector_checks import KIND_FIELD, made_at_run_time, pod_collector_problem, unreachable_push_problem
from kfp_tune.core.errors import KfpTuneError, TrialMachineryFailed, TrialNotCreated, clipped, shown
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialHandedOver, TrialRun
from kfp_tune.core.naming import (
    LABEL_PREFIX,
    LABEL_VALUE_RULE,
    MANAGED_BY,
    dns_label,
    experiment_selector,
    is_dns_subdomain,
    label_field_problems,
    namespace_problem,
)
from kfp_tune.core.shell_form import katib_wraps
from kfp_tune.core.template import primary_container
from kfp_tune.core.validation import trial_log_names
from kfp_tune.core.vocabulary import EARLY_STOP_MESSAGE, EARLY_STOP_REASON, S3_ENDPOINT_VARIABLE, STORE_VARIABLE, CollectorKind, LaunchPhase, trial_place_env
from kfp_tune.launchers.kept_log import READ_CHUNK_BYTES, KeptLog, metrics_formats
from kfp_tune.launchers.kubernetes.kinds import (
    KINDS,
    TrialKind,
    parse_trial_resource,
    pod_templates,
    primary_pod_container,
    primary_pod_templates,
    run_time_places,
    template_primary_containers,
    trial_kind,
)
from kfp_tune.launchers.kubernetes.manifests import (
    SIDECAR_KINDS,
    CheckpointMount,
    ClusterSettings,
    add_gpus,
    collector_kind,
    label_problems,
    native_sidecars,
    prepare_manifest,
    refuse_unsafe_settings,
    set_katib_trial_name,
    sidecar_drop_cause,
    trial_pod_labels,
    wrap_command,
)
from kfp_tune.launchers.kubernetes.pod_status import SUSPENDED, StartWatch, failure, paused, suspension, termination

if TYPE_CHECKING:
    from kfp_tune.collectors.running import EarlyStoppingRuleError

log = logging.getLogger(__name__)

NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
OWNER_DEPTH = 4
"""How many owners up from a pod the launcher looks for the trial (Tekton: pod, TaskRun,
PipelineRun; JobSet: pod, Job, JobSet)."""
PODS_SHOWN = 3
"""How many of a trial's pods an error about its primary pod lists."""
ANCHOR_KINDS = "trialKinds"
"""The anchor's data key that records the kinds not in :data:`KINDS` its trials are of."""
LOG_SLACK_SECONDS = 2
"""How much earlier than the last line already read a poll's log read starts (``sinceSeconds``
is whole seconds, the request takes time, and the node's clock may be a little off this one's):
the lines read again are found among those taken (see :data:`LOG_DISORDER_SECONDS`)."""
LOG_DISORDER_SECONDS = 1.0
"""How much earlier than a line written before it a line's time may be: containerd takes a
line's time before the write that the container's two streams (stdout, stderr) share, so a line
can follow one stamped a little later. A read's lines within this much of the newest line taken
are told from the new ones by their time and text; those older were taken before."""
_LOG_DISORDER_US = round(LOG_DISORDER_SECONDS * 1e6)
"""The same in microseconds, as line times are read (:func:`_line_time`)."""
_REPLICA_TYPE = "training.kubeflow.org/replica-type"
"""The Training Operator's label of a pod's replica type (lower case): which template it is made from."""


class PrimaryContainerMissing(KfpTuneError):
    """The primary pod has no container named as primaryContainerName."""


class PrimaryPodMissing(KfpTuneError):
    """The trial has pods, and none carries primaryPodLabels."""


class ApiUnavailable(KfpTuneError):
    """The API server answered 429 or 5xx for ``apiRetrySeconds``: an outage (an API server
    restarting, etcd changing leader), not an answer about the trial."""


RETRIED_STATUSES = (429, 500, 502, 503, 504)
"""The API errors retried with backoff: the server is overloaded or restarting."""


class QuotaExceeded(KfpTuneError):
    """A create refused by a ResourceQuota of the namespace (403, "exceeded quota"): it may be
    taken once trials end and their resources are deleted."""


QUOTA_EXCEEDED = "exceeded quota"
"""What the API server's ResourceQuota admission says, in a 403's Status message, when a create
would go over a quota (``<resource> "<name>" is forbidden: exceeded quota: <quota>, requested:
..., used: ..., limited: ...``); a 403 for a missing permission says ``cannot <verb> resource``."""
DEFAULT_QUOTA_WAIT_SECONDS = 3600.0
"""How long a trial waits for quota when the launcher config sets neither ``quotaWaitSeconds``
nor ``timeoutSeconds``."""
STATUS_MESSAGE_LIMIT = 600
"""How much of the API server's Status message an error quotes."""
QUOTA_POLL_LIMIT = 30.0
"""The longest wait between two tries of a create refused for quota."""


class TrialInterrupted(BaseException):
    """launch-trial got SIGTERM while it followed a trial (the run was stopped)."""


@dataclass(frozen=True)
class KubernetesConfig:
    """The launcher's settings, from launch-trial's ``launcher_config`` JSON (camelCase keys).

    ``{"kind": "kubernetes", "namespace": "team-a", "serviceAccounts": ["trainer"], "gpus": 1,
    "nodeSelector": {...}, "tolerations": [...], "timeoutSeconds": 3600, "pollSeconds": 5,
    "quotaWaitSeconds": 3600, "storeSecret": "mlpipeline-minio-artifact",
    "metricsVolume": {"claimName": "kfp-tune-metrics", "mountPath": "/mnt/kfp-tune-metrics"},
    "checkpointVolume": {"claimName": "kfp-tune-checkpoints"},
    "trialResources": ["Workflow.v1alpha1.argoproj.io",
                       {"kind": "TrainingRun", "apiVersion": "example.com/v1", "plural": "trainingruns", "podLabel": "example.com/run"}]}``

    ``trialResources``, as Katib's: kinds trials may be of beyond those kfp-tune knows; as
    ``Kind.version.group`` the plural is learned from the cluster, as a mapping it is given (for
    a cluster whose discovery the launcher may not read), with the label the kind's controller
    puts on its pods (value: the trial's name) when there is one. ``cleanup`` looks for these
    kinds too."""

    namespace: str = ""
    service_accounts: tuple[str, ...] = ("default",)
    node_selector: Mapping[str, str] | None = None
    tolerations: tuple[Mapping[str, Any], ...] = ()
    gpus: int = 0
    timeout_seconds: float | None = None
    poll_seconds: float = 5.0
    api_retry_seconds: float = 120.0
    quota_wait_seconds: float | None = None
    """How long a trial whose create a ResourceQuota refuses ("exceeded quota") waits for the
    quota, trying again, before its run stops with that error (Katib's trial controller tries
    again without end: trial_controller.go reconcileJob returns the error and is requeued). None:
    ``timeout_seconds`` when set (a trial of the experiment holding the quota ends by then), else
    :data:`DEFAULT_QUOTA_WAIT_SECONDS`; 0: no wait."""
    store_secret: str = ""
    """A Secret (keys ``accesskey`` / ``secretkey``) whose values reach the trial as
    ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``, by reference, for the Push collector."""
    metrics_claim: str = ""
    metrics_mount: str = ""
    """File / TensorFlowEvent collectors: a PersistentVolumeClaim mounted in the trial at the
    collector's folder (subPath ``<experiment>/<trial>``) and in launch-trial at this path."""
    checkpoint_claim: str = ""
    """Experiments with ``suggestion_trial_dir`` (pbt): a ReadWriteMany PersistentVolumeClaim
    that holds every trial's checkpoint folder at ``<experiment>/<trial>``, mounted in the trial
    at ``suggestion_trial_dir`` (as Katib's suggestion volume is), its parent's folder copied
    there first by an init container."""
    trial_resources: tuple[TrialKind, ...] = ()
    collector_image: str = ""
    """The image of the metrics collector sidecar (File, TensorFlowEvent, PrometheusMetric);
    empty: ``KFP_TUNE_IMAGE``, else the image kfp-tune's components run in."""
    store_secret_optional: bool = False
    """``store_secret`` is the run's (the pipeline's ``store_secret``, given where the config named
    none), referenced ``optional``: the trials may run in a namespace without that Secret (the
    config's or the experiment's), where a required reference would keep every pod from starting
    (CreateContainerConfigError) and the trial waiting; without it a trial that needs the store
    is refused there with S3's own "no credentials" error."""
    namespace_from_experiment: bool = False
    """``namespace`` is the experiment's ``metadata.namespace`` (the launcher config named none:
    :func:`kfp_tune.launchers.launcher_from_config`), not one chosen for the launcher: a 403
    there says how to put the trials beside the run rather than what to grant in it."""

    @property
    def quota_wait(self) -> float:
        """:attr:`quota_wait_seconds`, its default applied."""
        if self.quota_wait_seconds is not None:
            return self.quota_wait_seconds
        return self.timeout_seconds if self.timeout_seconds else DEFAULT_QUOTA_WAIT_SECONDS

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KubernetesConfig:
        known = {"kind", "namespace", "serviceAccounts", "nodeSelector", "tolerations", "gpus", "timeoutSeconds", "pollSeconds", "apiRetrySeconds", "quotaWaitSeconds",
                 "storeSecret", "metricsVolume", "checkpointVolume", "trialResources", "collectorImage"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"launcher_config: unknown key(s) {unknown}; expected some of {sorted(known)}")
        resources = data.get("trialResources") or []
        if not isinstance(resources, list):
            raise ValueError(f"launcher_config trialResources: expected a list, got {resources!r}")
        trial_resources = tuple(parse_trial_resource(entry) for entry in resources)
        _check_config_values(data)
        namespace = str(data.get("namespace") or (NAMESPACE_FILE.read_text().strip() if NAMESPACE_FILE.exists() else "default"))
        volume = data.get("metricsVolume") or {}
        return cls(
            namespace=namespace,
            service_accounts=tuple(data.get("serviceAccounts") or ("default",)),
            node_selector=data.get("nodeSelector"),
            tolerations=tuple(data.get("tolerations") or ()),
            gpus=int(data.get("gpus") or 0),
            timeout_seconds=float(data["timeoutSeconds"]) if data.get("timeoutSeconds") else None,
            poll_seconds=float(data["pollSeconds"]) if data.get("pollSeconds") is not None else cls.poll_seconds,
            api_retry_seconds=float(data["apiRetrySeconds"]) if data.get("apiRetrySeconds") is not None else cls.api_retry_seconds,
            quota_wait_seconds=float(data["quotaWaitSeconds"]) if data.get("quotaWaitSeconds") is not None else None,
            store_secret=str(data.get("storeSecret") or ""),
            metrics_claim=str(volume.get("claimName") or ""),
            metrics_mount=str(volume.get("mountPath") or ""),
            checkpoint_claim=_checkpoint_claim(data),
            trial_resources=trial_resources,
            collector_image=str(data.get("collectorImage") or ""),
        )


TOLERATION_OPERATORS = ("Exists", "Equal")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
TOLERATION_FIELDS = ("key", "operator", "value", "effect", "tolerationSeconds")


def toleration_problem(toleration: Mapping[str, Any]) -> tuple[str, str] | None:
    """(field, what it takes) for the first thing in a toleration that Kubernetes refuses on a
    pod (ValidateTolerations, pkg/apis/core/validation) or drops as unknown, else None. An
    operator's CRD does not check these rules: its trial would be created and each of its pods
    refused, or its GPU pods left Pending by a toleration that lost a misspelt ``operator``."""
    unknown = sorted(str(name) for name in toleration if name not in TOLERATION_FIELDS)
    if unknown:
        return unknown[0], f"only a toleration's fields, some of {list(TOLERATION_FIELDS)} (Kubernetes drops {unknown[0]!r} as unknown)"
    for name in ("key", "operator", "value", "effect"):
        if toleration.get(name) is not None and not isinstance(toleration[name], str):
            return name, f"{name} a string"
    key, value = toleration.get("key") or "", toleration.get("value") or ""
    operator, effect = toleration.get("operator") or "Equal", toleration.get("effect") or ""
    if operator not in TOLERATION_OPERATORS:
        return "operator", f"operator one of {list(TOLERATION_OPERATORS)}"
    if effect and effect not in TAINT_EFFECTS:
        return "effect", f"effect one of {list(TAINT_EFFECTS)} (or none: every effect)"
    if key and label_field_problems({key: ""}, "key"):
        return "key", "key a label name ([prefix/]name: name 63 characters at most, alphanumeric at both ends, '-', '_' or '.' between; prefix a DNS subdomain)"
    if not key and operator != "Exists":
        return "operator", "operator 'Exists' where key is empty (an empty key with Exists tolerates every taint)"
    if operator == "Exists" and value:
        return "value", "no value with operator 'Exists' (it tolerates every value of the key)"
    if value and label_field_problems({"key": value}, "value"):
        return "value", f"value a label value ({LABEL_VALUE_RULE})"
    seconds = toleration.get("tolerationSeconds")
    if seconds is not None and not (isinstance(seconds, int) and not isinstance(seconds, bool)):
        return "tolerationSeconds", f"tolerationSeconds a whole number of seconds, an integer (got {shown(seconds)})"
    if seconds is not None and effect != "NoExecute":
        return "tolerationSeconds", "tolerationSeconds only with effect 'NoExecute' (how long a pod stays on a node tainted NoExecute)"
    return None


def _check_config_values(data: Mapping[str, Any]) -> None:
    """Each value of the launcher config of the type and range Kubernetes (and the launcher)
    takes, else ValueError naming the key and what it takes: a wrong one was accepted and
    reached the trial's manifest (``serviceAccounts: "trainer"`` became the account "t"), or
    failed with Python's own message."""
    def refuse(key: str, expected: str) -> ValueError:
        return ValueError(f"launcher_config {key}: expected {expected}, got {shown(data_at(key))}")

    def data_at(key: str) -> Any:
        value: Any = data
        for part in key.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        return value

    def is_number(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

    namespace = data.get("namespace")
    if namespace not in (None, "") and (problem := namespace_problem(namespace)) is not None:
        raise ValueError(f"launcher_config namespace: {problem}")
    accounts = data.get("serviceAccounts")
    if accounts is not None and (not isinstance(accounts, list) or not all(is_dns_subdomain(a) for a in accounts)):
        raise refuse("serviceAccounts", "a list of service account names (DNS-1123 subdomains), e.g. [\"trainer\"]")
    selector = data.get("nodeSelector")
    if selector is not None and (not isinstance(selector, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in selector.items())):
        raise refuse("nodeSelector", "a mapping of label name to label value, both strings")
    bad_selector = label_problems(selector or {}, "launcher_config nodeSelector")
    if bad_selector:  # else the API server refuses each trial's create (422), once the run is under way
        raise ValueError("; ".join(bad_selector))
    tolerations = data.get("tolerations")
    if tolerations is not None:
        if not isinstance(tolerations, list) or not all(isinstance(t, Mapping) for t in tolerations):
            raise refuse("tolerations", "a list of Kubernetes tolerations (mappings: key, operator, value, effect)")
        for index, toleration in enumerate(tolerations):  # else every trial's pods are refused (422), or a misspelt field dropped
            refused = toleration_problem(toleration)
            if refused is not None:
                field_name, expected = refused
                raise ValueError(f"launcher_config tolerations: {shown(dict(toleration))}: expected {expected} (tolerations[{index}].{field_name})")
    gpus = data.get("gpus")
    if gpus is not None and not (isinstance(gpus, int) and not isinstance(gpus, bool) and gpus >= 0):
        raise refuse("gpus", "a whole number of GPUs per trial, 0 or more")
    timeout = data.get("timeoutSeconds")
    if timeout is not None and not (is_number(timeout) and timeout >= 0):
        raise refuse("timeoutSeconds", "a number of seconds, more than 0 (0 or null: no limit)")
    poll = data.get("pollSeconds")
    if poll is not None and not (is_number(poll) and poll >= 0):
        raise refuse("pollSeconds", "a number of seconds, 0 or more")
    retry = data.get("apiRetrySeconds")
    if retry is not None and not (is_number(retry) and retry >= 0):
        raise refuse("apiRetrySeconds", "a number of seconds, 0 or more")
    quota_wait = data.get("quotaWaitSeconds")
    if quota_wait is not None and not (is_number(quota_wait) and quota_wait >= 0):
        raise refuse("quotaWaitSeconds", "a number of seconds, 0 or more (0: no wait for a namespace's ResourceQuota)")
    secret = data.get("storeSecret")
    if secret not in (None, "") and not is_dns_subdomain(secret):
        raise refuse("storeSecret", "the name of a Secret (a DNS-1123 subdomain)")
    volume = data.get("metricsVolume")
    if volume is not None:
        if not isinstance(volume, Mapping):
            raise refuse("metricsVolume", "a mapping with claimName and mountPath")
        if not is_dns_subdomain(volume.get("claimName")):
            raise refuse("metricsVolume.claimName", "the name of a PersistentVolumeClaim (a DNS-1123 subdomain)")
        if volume.get("mountPath") is not None and not (isinstance(volume["mountPath"], str) and volume["mountPath"].startswith("/")):
            raise refuse("metricsVolume.mountPath", "an absolute path in launch-trial's container")
    image = data.get("collectorImage")
    if image is not None and not isinstance(image, str):
        raise refuse("collectorImage", "an image reference (a string)")


CHECKPOINT_CLAIM_FIELD = "launcher_config checkpointVolume.claimName"


def _checkpoint_claim(data: Mapping[str, Any]) -> str:
    """``checkpointVolume.claimName``, checked when given (ValueError naming the field)."""
    if "checkpointVolume" not in data:
        return ""
    volume = data["checkpointVolume"]
    claim = volume.get("claimName") if isinstance(volume, Mapping) else None
    unknown = sorted(set(volume) - {"claimName"}) if isinstance(volume, Mapping) else []
    if not is_dns_subdomain(claim) or unknown:
        raise ValueError(
            f"{CHECKPOINT_CLAIM_FIELD}: expected " + '{"claimName": NAME}'
            + f" naming a ReadWriteMany PersistentVolumeClaim (a DNS subdomain) in the trials' namespace, got {volume!r}"
        )
    return claim


def check_checkpoints(launcher: Launcher, trial_dir: str) -> None:
    """An experiment whose trials keep checkpoint folders (``suggestion_trial_dir``) needs a
    place for them on a cluster: ValueError naming the launcher config's field when a
    Kubernetes launcher has none, so a run is refused before any trial is made."""
    if trial_dir and isinstance(launcher, KubernetesLauncher) and not launcher.config.checkpoint_claim:
        raise ValueError(missing_claim(trial_dir))


def check_service_accounts(launcher: Launcher, trial_spec: Any) -> None:
    """Every service account the trial template names must be one the launcher config allows
    (``serviceAccounts``): ValueError naming it, so a run is refused before any trial is made,
    instead of each trial being refused in turn until maxFailedTrialCount fails the experiment.
    Names that depend on a trial parameter are left to each trial's check."""
    if not isinstance(launcher, KubernetesLauncher):
        return
    allowed = list(launcher.config.service_accounts)
    for path, account in _service_accounts(trial_spec or {}, "spec.trialTemplate.trialSpec"):
        if account not in allowed and "${" not in account:
            raise ValueError(
                f"{path}: {account!r} is not in the launcher's allowed service accounts {allowed}; add it to the launcher config's "
                "serviceAccounts (and grant it what the trial needs)"
            )


def missing_claim(trial_dir: str) -> str:
    return (
        f"{CHECKPOINT_CLAIM_FIELD}: the experiment's trials keep checkpoint folders at suggestion_trial_dir {trial_dir!r}, which on a cluster "
        'live on a ReadWriteMany PersistentVolumeClaim: add "checkpointVolume": {"claimName": NAME} to the launcher config'
    )


class _NotRead(enum.Enum):
    """A poll that did not read the primary pod (its None says it read none)."""

    POD = "not read"


class OwnedResources(NamedTuple):
    """What :meth:`KubernetesLauncher.owned_resources` found by the experiment's label selector."""

    owned: list[tuple[TrialKind, dict[str, Any]]]
    """The resources the experiment's anchor owns, with their kinds."""
    unowned_kinds: set[str]
    """Kinds (``jobs.batch``) of which a resource with the experiment's labels is not the
    anchor's: a label selector would select it too."""
    not_the_anchor: str = ""
    """Where a ConfigMap of the anchor's name is not kfp-tune's anchor for the experiment (its
    labels are not those :meth:`KubernetesLauncher.anchor` gives), that in words: it owns no
    trial of kfp-tune's, and nothing was listed."""


@dataclass(frozen=True)
class SweepResult:
    """What :meth:`KubernetesLauncher.sweep` deleted and kept."""

    deleted: list[str]
    """The names of the resources deleted (``dry_run``: that would be)."""
    kept: list[tuple[str, str]]
    """The resources kept (trials not ended): (resource, name), as kubectl names them
    (``jobs.batch``, ``NAME``)."""
    kept_selectors: dict[str, str]
    """For each resource kind of the kept whose kept resources are all that the experiment's
    label selector selects once the sweep is done (none of it left, none another anchor owns),
    that selector: one short ``kubectl delete -l`` in place of hundreds of names."""
    not_the_anchor: str = ""
    """:attr:`OwnedResources.not_the_anchor`: the ConfigMap of the anchor's name is someone
    else's, to be left alone."""
    others: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    """The resources kept because they are no trial of the experiment that ``ours`` gave:
    another experiment's of the same name, whose trials run in this namespace too (another
    store's), that shares the anchor: (resource, name)."""
    others_taken: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    """The resources of no trial of ``ours`` that ``take_others`` said to delete, deleted
    (``dry_run``: that would be), in place of :attr:`others`: (resource, name)."""


class PersonsCall(NamedTuple):
    """A command a person runs with their own kubeconfig (``kfp-tune cleanup``), not the run's
    launch-trial: a 403 then names that command and the RBAC it needs, for the identity the API
    server names, where launch-trial's names its service account and manifests/rbac.yaml."""

    command: str
    """The command, as a person types it: ``kfp-tune cleanup``."""
    needs: str
    """All the RBAC the command needs, in words: ``list and delete on the trial kinds ...``."""


class KubernetesLauncher(Launcher):
    hands_over = True  # a trial is a cluster resource: the next step re-attaches to it
    persons_call: PersonsCall | None = None
    """Set where a person calls the API through this launcher (:class:`PersonsCall`)."""

    def __init__(
        self, config: KubernetesConfig, api_client: Any = None, env: Mapping[str, str] | None = None, sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ):
        """``api_client``: a ``kubernetes.client.ApiClient`` (default: in-cluster config, else
        ~/.kube/config). ``env``: what the trial gets to report to the store (Push). ``sleep``:
        how it waits between polls and before a retry (tests record the waits). ``clock``: the
        seconds since 1970 that a log's times are held against (tests give the fake cluster's)."""
        self.config = config
        self._clock = clock
        self._api_client = api_client
        self.env = dict(env or {})
        self._sleep = sleep
        self._kinds: dict[tuple[str, str], TrialKind] = {}
        self._in_cluster = False
        """Whether :attr:`api` took the pod's in-cluster configuration (its service account), not a kubeconfig."""

    @property
    def namespace(self) -> str:
        """Where trials are created (what ``${trialSpec.Namespace}`` becomes)."""
        return self.config.namespace

    # --- the Kubernetes API, with retries and clear errors ------------------------------------

    @property
    def api(self) -> Any:
        if self._api_client is None:
            from kubernetes import client, config

            try:
                config.load_incluster_config()
                self._in_cluster = True
            except config.ConfigException:
                config.load_kube_config()
            self._api_client = client.ApiClient()
        return self._api_client

    def _custom(self) -> Any:
        from kubernetes import client

        return client.CustomObjectsApi(self.api)

    def _core(self) -> Any:
        from kubernetes import client

        return client.CoreV1Api(self.api)

    def call(self, verb: str, resource: str, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call the API; retry 429, 5xx and lost connections with backoff (honouring
        Retry-After) for up to ``api_retry_seconds``; 403 and 404 (other than a missing
        object, which the caller handles) become one clear error, but for a create refused by a
        ResourceQuota (:class:`QuotaExceeded`, which the caller waits on)."""
        from kubernetes.client.exceptions import ApiException

        deadline = time.monotonic() + self.config.api_retry_seconds
        attempt = 0
        where = f"{resource} {name!r} in namespace {self.config.namespace!r}" if name else f"{resource} in namespace {self.config.namespace!r}"
        while True:
            attempt += 1
            try:
                return fn(*args, **kwargs)
            except ApiException as exc:
                status = int(exc.status or 0)
                said = status_message(exc) if status == 403 and verb == "create" else ""
                if QUOTA_EXCEEDED in said:
                    raise QuotaExceeded(f"Kubernetes refused to {verb} {where}: exceeded quota (403 Forbidden): {clipped(said, STATUS_MESSAGE_LIMIT)}") from None
                if status == 403:
                    raise KfpTuneError(self._forbidden(verb, resource, where, status_message(exc))) from None
                if status not in RETRIED_STATUSES or time.monotonic() >= deadline:
                    raise
                wait = _retry_after(exc) or min(10.0, 0.25 * 2 ** attempt) * (0.5 + random.random() / 2)
            except Exception as exc:  # a lost connection, a reset: the API server may be restarting
                if time.monotonic() >= deadline or not is_connection_error(exc):
                    raise
                wait = min(10.0, 0.25 * 2 ** attempt) * (0.5 + random.random() / 2)
            log.warning("Kubernetes %s %s: retrying in %.1f s (attempt %d)", verb, where, wait, attempt)
            self._sleep(min(wait, max(0.0, deadline - time.monotonic())))

    def _forbidden(self, verb: str, resource: str, where: str, said: str) -> str:
        """A 403 in words, the API server's own (which names the user or service account) quoted.
        In the experiment's ``metadata.namespace`` (``kubeflow`` in every Katib example) other
        than the run's, the way out is to create the trials beside the run, not to grant the
        run's account rights in that namespace."""
        refused = f"Kubernetes refused to {verb} {where} (403 Forbidden" + (f": {clipped(said, STATUS_MESSAGE_LIMIT)})" if said else ")")
        if self.persons_call is not None:  # inside a cluster (a notebook's pod) the identity is the pod's service account, maybe the run's own
            command, needs = self.persons_call
            identity, granted_to, not_the_run = (
                ("this pod's service account (the server names it above)", "that service account", "") if self._in_cluster else
                ("your kubeconfig's identity (whom the server names above)", "that identity", "; manifests/rbac.yaml grants the run's service account, not you")
            )
            return (
                f"{refused}: {command} calls the API as {identity}, which needs '{verb}' on {resource} in namespace {self.config.namespace!r}; "
                f"{command.removeprefix('kfp-tune ')} needs {needs} there, which a Role bound to {granted_to} grants (ask the namespace's owner "
                f"or a cluster admin){not_the_run}"
            )
        run_namespace = _run_namespace()
        if self.config.namespace_from_experiment and run_namespace != self.config.namespace:
            beside = f"{run_namespace!r}" if run_namespace else "the run's namespace"
            return (
                f"{refused}: {self.config.namespace!r} is the experiment's metadata.namespace, where trials go when the launcher config "
                f"names no namespace; to create them beside the run, give launcher_config {{\"kind\": \"kubernetes\", \"namespace\": "
                f"\"{run_namespace or 'NAMESPACE'}\"}} (kfp-tune submit --param launcher_config=...) or set metadata.namespace to {beside} "
                "(docs/guide.md, 'Which namespace the trials go to')"
            )
        return f"{refused}: the launch-trial service account needs '{verb}' on {resource} in that namespace (see manifests/rbac.yaml)"

    # --- anchor and resources -----------------------------------------------------------------

    def anchor_name(self, experiment: str) -> str:
        return dns_label(f"kfp-tune-{experiment}")

    def anchor(self, experiment: str, kind: TrialKind | None = None) -> dict[str, Any]:
        """The experiment's anchor ConfigMap (created on first use): every trial resource is
        owned by it, so deleting it removes them all, and only what it owns is ever swept. It
        records the trials' kind when that is not in :data:`KINDS`, for ``cleanup`` to look for."""
        from kubernetes.client.exceptions import ApiException

        core, name = self._core(), self.anchor_name(experiment)
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "labels": {f"{LABEL_PREFIX}/experiment": experiment, f"{LABEL_PREFIX}/managed-by": MANAGED_BY}},
            "data": {"experiment": experiment, "about": "kfp-tune owns its trials through this object; deleting it deletes them"},
        }
        recorded = kind is not None and (kind.api_version, kind.kind) not in KINDS
        if kind is not None and recorded:
            body["data"][ANCHOR_KINDS] = json.dumps([_kind_record(kind)])
        try:
            created = self.call("create", "configmaps", name, core.create_namespaced_config_map, self.config.namespace, body)
        except ApiException as exc:
            if exc.status != 409:
                raise self._api_error("create", "configmaps", name, exc) from None
            created = self.call("get", "configmaps", name, core.read_namespaced_config_map, name, self.config.namespace)
        data = self.api.sanitize_for_serialization(created)
        if not _is_anchor_of(data, experiment):
            raise KfpTuneError(self._not_the_anchor(experiment))
        if kind is not None and recorded and (kind.api_version, kind.kind) not in {(k.api_version, k.kind) for k in _recorded_kinds(data.get("data") or {})}:
            log.warning(
                "the anchor %s was made for trials of another kind: cleanup finds this experiment's %s trials only if the launcher config's "
                "trialResources lists %s.%s.%s", name, kind.kind, kind.kind, kind.version, kind.group,
            )
        return data

    def _not_the_anchor(self, experiment: str) -> str:
        return f"configmap {self.anchor_name(experiment)!r} in namespace {self.config.namespace!r} exists and is not kfp-tune's anchor for experiment {experiment!r}"

    def settings(self) -> ClusterSettings:
        env: list[tuple[str, Any]] = list(self.env.items())
        if self.config.store_secret:
            for key, variable in (("accesskey", "AWS_ACCESS_KEY_ID"), ("secretkey", "AWS_SECRET_ACCESS_KEY")):
                reference = {"name": self.config.store_secret, "key": key, **({"optional": True} if self.config.store_secret_optional else {})}
                env.append((variable, {"secretKeyRef": reference}))
        return ClusterSettings(
            namespace=self.config.namespace,
            service_accounts=self.config.service_accounts,
            node_selector=self.config.node_selector,
            tolerations=self.config.tolerations,
            gpus=self.config.gpus,
            env=tuple(env),
            metrics_claim=self.config.metrics_claim,
            checkpoint_claim=self.config.checkpoint_claim,
            collector_image=self.config.collector_image,
        )

    def prepare(self, trial: TrialRun, owner: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The manifest to create (ValueError if refused). Env for the trial: its names in the
        store, so it can report metrics (Push) or upload metrics files."""
        problems = label_problems(trial.primary_pod_labels, "primaryPodLabels")
        if problems:  # the API server would refuse the pod selector, once the trial was running
            raise ValueError("; ".join(problems))
        labels = dict((trial.manifest.get("metadata") or {}).get("labels") or {})
        settings = self.settings()
        settings = dataclasses.replace(settings, env=(*settings.env, *trial_place_env(trial.experiment, trial.trial).items()))
        kind = trial_kind(trial.manifest)
        if trial.checkpoint_path and not self.config.checkpoint_claim:
            raise ValueError(missing_claim(trial.checkpoint_path))
        if kind.built_at_run_time or (not kind.known and primary_container(trial.manifest, trial.primary_container) is None):
            if trial.checkpoint_path:
                raise ValueError(f"{TRIAL_DIR_SETTING}: checkpoint folders are not supported with a {kind.kind} trial here (its pods are made at run time, with no place for the volume)")
            return _prepare_built_at_run_time(trial, kind, settings, labels, owner)
        metrics = (trial.metrics_path, trial.metrics_path_kind, self._metrics_sub_path(trial)) if trial.metrics_path else None
        checkpoint = CheckpointMount(trial.checkpoint_path, trial.experiment, trial.trial, trial.checkpoint_parent) if trial.checkpoint_path else None
        return prepare_manifest(
            trial.manifest, trial.primary_container, settings, labels, owner, metrics, collector=trial.metrics_collector, checkpoint=checkpoint,
            primary_pod_labels=trial.primary_pod_labels, trial_name=trial.trial, pod_labels=trial.pod_labels,
        )

    # --- kinds --------------------------------------------------------------------------------

    def kind_of(self, manifest: Mapping[str, Any]) -> TrialKind:
        """The manifest's kind with its REST coordinates: known here, given in the config's
        trialResources, or learned from the cluster's discovery API. KfpTuneError when the
        cluster does not serve it."""
        kind = trial_kind(manifest)
        key = (kind.api_version, kind.kind)
        if key not in self._kinds:
            configured = next((c for c in self.config.trial_resources if (c.api_version, c.kind) == key), None)
            if key in KINDS:
                resolved = kind
            elif configured is not None and configured.plural:
                resolved = configured
            else:
                resolved = kind if kind.known else dataclasses.replace(kind, plural=self._discover(kind))
                if configured is not None and configured.job_name_label:
                    resolved = dataclasses.replace(resolved, job_name_label=configured.job_name_label)
            self._kinds[key] = resolved
        return self._kinds[key]

    def _discover(self, kind: TrialKind) -> str:
        """The kind's plural, from ``GET /apis/<group>/<version>``."""
        from kubernetes.client.exceptions import ApiException

        if not kind.group:
            raise KfpTuneError(f"trial kind {kind.kind!r} of apiVersion {kind.api_version!r}: a kind of the core API group cannot be a trial here")
        where = f"/apis/{kind.group}/{kind.version}"

        def fetch() -> Any:
            try:
                return self._custom().get_api_resources(kind.group, kind.version)
            except ApiException as exc:
                if exc.status in (401, 403, 404):
                    return exc  # an answer, not a fault to retry
                raise

        listing = self.call("get", f"the discovery document {where}", "", fetch)
        if isinstance(listing, ApiException):
            if listing.status == 404:
                raise KfpTuneError(
                    f"the cluster serves no {kind.api_version} (discovery {where} answered 404): is the operator that serves {kind.kind} installed, at that version?"
                )
            raise KfpTuneError(
                f"could not learn the plural of trial kind {kind.kind} ({kind.api_version}): discovery {where} answered {listing.status}; "
                f'list it in the launcher config\'s trialResources as {{"kind": "{kind.kind}", "apiVersion": "{kind.api_version}", "plural": "..."}}'
            )
        served = [(r.kind, r.name) for r in listing.resources or []]
        plural = next((name for served_kind, name in served if served_kind == kind.kind and "/" not in name), None)
        if plural is None:
            kinds = sorted({k for k, name in served if "/" not in name})
            raise KfpTuneError(f"the cluster serves {kind.api_version} but no kind {kind.kind!r} there (discovery {where}); it serves {kinds}")
        log.info("trial kind %s (%s): plural %r, from discovery", kind.kind, kind.api_version, plural)
        return str(plural)

    def _metrics_sub_path(self, trial: TrialRun) -> str:
        return f"{trial.experiment}/{trial.trial}"

    def _metrics_files(self, trial: TrialRun) -> dict[str, bytes]:
        """What the trial wrote to its metrics folder, read through launch-trial's own mount of
        the shared claim."""
        if not trial.metrics_path or not self.config.metrics_mount:
            return {}
        from kfp_tune.launchers.metrics_files import metrics_root, read_metrics_files

        commands = primary_pod_container(trial.manifest, trial.primary_container, trial.primary_pod_labels, trial.pod_labels) or {}  # as prepare_manifest read it
        _, relative = metrics_root(commands, trial.metrics_path, trial.metrics_path_kind)
        return read_metrics_files(Path(self.config.metrics_mount) / self._metrics_sub_path(trial) / relative, trial.metrics_path_kind)

    def _owner(self, anchor: Mapping[str, Any]) -> dict[str, Any]:
        meta = anchor["metadata"]
        return {"apiVersion": "v1", "kind": "ConfigMap", "name": meta["name"], "uid": meta["uid"], "controller": False, "blockOwnerDeletion": False}

    def _api_error(self, verb: str, resource: str, name: str, exc: Any) -> KfpTuneError:
        status = int(getattr(exc, "status", 0) or 0)
        if status == 404 and verb in ("create", "list"):
            return KfpTuneError(f"Kubernetes has no {resource} in namespace {self.config.namespace!r} to {verb} (404): is the namespace there, and the operator that serves {resource} installed?")
        what = f"{resource} {name!r}" if name else resource
        said = status_message(exc)
        return (ApiUnavailable if status in RETRIED_STATUSES else KfpTuneError)(
            f"Kubernetes {verb} {what} in namespace {self.config.namespace!r} failed: {status} {getattr(exc, 'reason', '')}"
            + (f": {clipped(said, STATUS_MESSAGE_LIMIT)}" if said else "")
        )

    def _get(self, kind: TrialKind, name: str) -> dict[str, Any] | None:
        from kubernetes.client.exceptions import ApiException

        try:
            return self.call("get", kind.resource, name, self._custom().get_namespaced_custom_object, kind.group, kind.version, self.config.namespace, kind.plural, name)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise self._api_error("get", kind.resource, name, exc) from None

    def _delete(self, kind: TrialKind, name: str) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            self.call(
                "delete", kind.resource, name, self._custom().delete_namespaced_custom_object,
                kind.group, kind.version, self.config.namespace, kind.plural, name, propagation_policy="Background",
            )
            log.info("deleted %s %s", kind.resource, name)
        except ApiException as exc:
            if exc.status != 404:
                raise self._api_error("delete", kind.resource, name, exc) from None

    def create_or_adopt(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Create the trial resource; on 409 adopt the one there if its labels say it is this
        trial's, else refuse (a name clash with something kfp-tune does not own)."""
        from kubernetes.client.exceptions import ApiException

        kind, name = self.kind_of(manifest), manifest["metadata"]["name"]
        try:
            return self.call("create", kind.resource, name, self._custom().create_namespaced_custom_object, kind.group, kind.version, self.config.namespace, kind.plural, manifest)
        except ApiException as exc:
            if exc.status != 409:
                raise self._api_error("create", kind.resource, name, exc) from None
        existing = self._get(kind, name)
        if existing is None:  # deleted between the 409 and the read: create again
            return self.create_or_adopt(manifest)
        if not _is_ours(existing, manifest):
            raise KfpTuneError(f"{kind.resource} {name!r} in namespace {self.config.namespace!r} exists and is not this kfp-tune trial's (its labels differ); it is left alone")
        log.info("adopted %s %s, created before", kind.resource, name)
        return existing

    def _create_within_quota(self, trial: TrialRun, manifest: dict[str, Any]) -> dict[str, Any]:
        """:meth:`create_or_adopt`, tried again while a ResourceQuota refuses it, for up to
        ``quota_wait`` seconds (a trial that ends frees its share when its resource is deleted),
        as Katib's trial controller requeues a create that failed (trial_controller.go,
        reconcileJob); then the quota's refusal, with the server's words. A checkpoint's handover
        ends the wait: nothing was created, so the next step finds nothing to follow and gives
        the trial's budget back."""
        started = time.monotonic()
        deadline = started + self.config.quota_wait
        wait = max(self.config.poll_seconds, 1.0)
        while True:
            try:
                return self.create_or_adopt(manifest)
            except QuotaExceeded as exc:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise QuotaExceeded(
                        f"{exc}; still so after waiting {time.monotonic() - started:.0f} s (launcher config quotaWaitSeconds: {self.config.quota_wait:g}). "
                        "A trial's resource counts against the quota until it is deleted (retain: true keeps it): raise the quota, "
                        "or lower parallelTrialCount"
                    ) from None
                if trial.handover is not None and trial.handover.is_set():
                    log.info("trial %s was waiting for quota at the checkpoint: not created, handed back", trial.trial)
                    raise TrialHandedOver(trial.trial) from None
                log.warning("trial %s waits for quota (%.0f s left): %s", trial.trial, left, exc)
                self._sleep(min(wait, left))
                wait = min(wait * 2, QUOTA_POLL_LIMIT)

    # --- running a trial ------------------------------------------------------------------------

    def run(self, trial: TrialRun) -> LaunchOutcome:
        try:
            self.prepare(trial)  # refusals before any API call
        except ValueError as exc:
            return LaunchOutcome(LaunchPhase.FAILED, reason="TrialRefused", message=str(exc))
        try:
            manifest = self.prepare(trial, self._owner(self.anchor(trial.experiment, self.kind_of(trial.manifest))))
            stored = self._create_within_quota(trial, manifest)
        except TrialNotCreated:
            raise
        except Exception as exc:  # the kubeconfig, a permission, the API server, an operator: not the trial
            raise TrialNotCreated(f"Kubernetes trial {trial.trial!r} could not be created: {_why(exc)}") from exc
        self._refuse_dropped_sidecars(trial, manifest, stored)
        return self._follow(trial, manifest, created_here=True)

    def _refuse_dropped_sidecars(self, trial: TrialRun, manifest: Mapping[str, Any], stored: Any) -> None:
        """The API server stored the trial without an init container's ``restartPolicy: Always``
        that was sent (an operator's CRD older than the field prunes it, an API server older than
        Kubernetes 1.29 drops it; a create asking ``fieldValidation=Strict`` would refuse the
        unknown fields Katib accepts): the sidecar would run as a plain init container that never
        ends, and every pod stay in Init. The trial is deleted and the run stops
        (:class:`TrialNotCreated`), saying why and what to do."""
        dropped = sorted(native_sidecars(manifest) - native_sidecars(stored if isinstance(stored, Mapping) else {}))
        if not dropped:
            return
        kind, name = self.kind_of(manifest), str(manifest["metadata"]["name"])
        cause, upgrade = sidecar_drop_cause(kind.api_version, kind.kind)
        if kind.group not in ("", "batch"):  # the operator's pods need the field too, which only Kubernetes 1.29 keeps in a pod
            upgrade += ", on Kubernetes 1.29 or later (an older API server drops it from the pods the operator makes)"
        self._stop_for_dropped_sidecars(trial, kind, name, f"Kubernetes stored {kind.kind} {name!r} without", [f"{c} at {path}" for path, c in dropped],
                                        cause, upgrade)

    def _refuse_sidecars_dropped_from_pods(self, trial: TrialRun, kind: TrialKind, name: str, sidecars: Collection[str],
                                           pods: Collection[Mapping[str, Any]]) -> None:
        """A pod of the trial whose native sidecar (one of ``sidecars``, sent with ``restartPolicy:
        Always``) lacks the field, though the trial's resource kept it: an API server older than
        Kubernetes 1.29 (or 1.28 without SidecarContainers) drops it from every pod, also from
        those an operator makes of a CRD that lists it, so the trial hangs in Init, as when the
        create lost it (:meth:`_refuse_dropped_sidecars`): deleted, and the run stops."""
        dropped = sorted({(str(c.get("name")), _name_of(pod)) for pod in pods for c in _init_containers(pod.get("spec"))
                          if c.get("name") in sidecars and c.get("restartPolicy") != "Always"})
        if not dropped:
            return
        cause = ("the API server is Kubernetes older than 1.29 (or 1.28 without the SidecarContainers feature gate), which drops the field "
                 f"from every pod, also from those made of a {kind.kind} that kept it")
        self._stop_for_dropped_sidecars(trial, kind, name, f"the pods of {kind.kind} {name!r} lack", [f"{c} in pod {pod}" for c, pod in dropped],
                                        cause, "upgrade the cluster to Kubernetes 1.29 or later")

    def _stop_for_dropped_sidecars(self, trial: TrialRun, kind: TrialKind, name: str, what: str, containers: list[str], cause: str, upgrade: str) -> None:
        """Delete the trial whose native sidecars lost their ``restartPolicy`` and stop the run
        (:class:`TrialNotCreated`: nothing of it ran), saying which, why and what to do."""
        try:
            self._delete(kind, name)
            deleted = "it was deleted"
        except Exception as exc:  # the run stops all the same; the user is told to delete it
            deleted = f"deleting it failed ({_why(exc)}): delete it by hand"
        more = f" and {len(containers) - PODS_SHOWN} more" if len(containers) > PODS_SHOWN else ""
        has_collector = collector_kind(trial.metrics_collector, trial.metrics_path_kind) in (*SIDECAR_KINDS, CollectorKind.CUSTOM.value)
        raise TrialNotCreated(
            f"{what} the initContainers[].restartPolicy: Always sent for its native sidecar(s) "
            f"({', '.join(containers[:PODS_SHOWN])}{more}): {cause}. Each would run as a plain init container that never ends and the trial's "
            f"containers would never start (its pods stay in Init), so {deleted} and the run stops. To run it, {upgrade}"
            + (", or use the StdOut or Push metrics collector, which add no sidecar" if has_collector else "")
            + " (docs/guide.md, 'Metrics collectors')"
        )

    def reattach(self, trial: TrialRun) -> LaunchOutcome | None:
        """Follow a trial a dead launch-trial started; None when its resource is gone. An API
        outage as it starts does not end the trial: it is followed, and read once the API answers."""
        kind = self.kind_of(trial.manifest)
        try:
            if self._get(kind, trial.trial) is None:
                return None
        except Exception as exc:
            if not _is_outage(exc):
                raise
            log.warning("trial %s: the Kubernetes API did not answer (%s); it is followed until it does", trial.trial, exc)
        try:
            manifest = self.prepare(trial)
        except ValueError as exc:
            return LaunchOutcome(LaunchPhase.FAILED, reason="TrialRefused", message=str(exc))
        return self._follow(trial, manifest)

    def _follow(self, trial: TrialRun, manifest: dict[str, Any], created_here: bool = False) -> LaunchOutcome:
        kind, name = self.kind_of(manifest), manifest["metadata"]["name"]
        timeout = self.config.timeout_seconds
        started = time.monotonic()
        output = _FollowedLog(trial)
        watch = StartWatch(name, others=bool(kind.job_name_label))  # other pods listed by the label: one LIST
        sidecars = _sent_sidecars(manifest)
        with _sigterm_raises():
            try:
                while True:
                    try:
                        outcome = self._wait(trial, kind, name, started, timeout, output, watch, created_here, sidecars)
                        break
                    except Exception as exc:  # an outage: the trial runs on, as Katib's controller requeues
                        if not _is_outage(exc):
                            raise
                        log.warning("trial %s: the Kubernetes API did not answer for apiRetrySeconds (%s); the trial goes on running and is "
                                    "followed again (a checkpoint hands it over meanwhile)", name, exc)
                        self._sleep(self.config.poll_seconds)
            except TrialInterrupted:
                log.warning("launch-trial was stopped: deleting trial %s", name)
                self._delete(kind, name)
                raise
            except _FailedAfterEnd as ended:  # it has ended: kept under retain, as any ended trial, and its own end goes up with the error
                if not trial.retain:
                    self._delete(kind, name)
                own_end = ended.error.outcome
                if own_end is not None and (files := self._metrics_files(trial)):
                    ended.error.outcome = dataclasses.replace(own_end, files=files)
                raise ended.error from ended.error.__cause__
            except TrialMachineryFailed:  # a rule's error: the run stops and gives the trial back, so none follows it again
                log.warning("trial %s: deleting it, as the run stops and gives it back", name)
                self._delete(kind, name)
                raise
            except PrimaryContainerMissing as exc:  # no metrics can be read from it: end it
                self._delete(kind, name)
                return LaunchOutcome(LaunchPhase.FAILED, reason="PrimaryContainerNotFound", message=str(exc))
            except PrimaryPodMissing as exc:  # it has ended: kept under retain, as any ended trial
                outcome = LaunchOutcome(LaunchPhase.FAILED, reason="PrimaryPodNotFound", message=str(exc))
        if not trial.retain:
            self._delete(kind, name)
        files = self._metrics_files(trial)
        return dataclasses.replace(outcome, files=files) if files else outcome

    def _failed_end(self, trial: TrialRun, kind: TrialKind, name: str, uid: str, reason: str, message: str, logs: dict[str, str]) -> LaunchOutcome:
        """A trial whose failure condition was met: the job's reason and message, and how its
        primary pod ended (read only for a trial no early-stopping rule stopped)."""
        return LaunchOutcome(LaunchPhase.FAILED, reason=reason, message=message + self._how_pod_ended(trial, kind, name, uid), logs=logs)

    def _wait(self, trial: TrialRun, kind: TrialKind, name: str, started: float, timeout: float | None, output: _FollowedLog,
              watch: StartWatch, created_here: bool = False, sidecars: Collection[str] = frozenset()) -> LaunchOutcome:
        """Poll the trial until it ends (or is handed over); an API outage (:func:`_is_outage`)
        is raised for :meth:`_follow` to wait out, ``output`` keeping what was read and ``watch``
        whether its primary container has started (until it has, its pods are read at each poll
        that reads them for the log anyway, else on polls 3, 6, 12, 24, ... and at its timeout,
        and why it waits is logged: :class:`.pod_status.StartWatch`).
        A resource held suspended (Kueue queues it: :func:`.pod_status.suspension`) is waited on
        without a timeout, which counts from its resume; an Argo Workflow paused
        (:func:`.pod_status.paused`) is timed on, its running pods going on. ``created_here``: this launcher created
        the trial (:meth:`_ran_for`). ``sidecars``: the native sidecars it was sent with, which a
        pod read here must have kept (:meth:`_refuse_sidecars_dropped_from_pods`)."""
        success = trial.success_condition
        failure = trial.failure_condition
        selects_none = primary_pod_templates(trial.manifest, trial.primary_pod_labels, trial.pod_labels) == set()  # no pod will be primary
        while True:
            if trial.handover is not None and trial.handover.is_set():
                log.info("handing trial %s over to the next step; it goes on running", name)
                raise TrialHandedOver(name)
            resource = self._get(kind, name)
            if resource is None:
                return LaunchOutcome(LaunchPhase.FAILED, reason="TrialDeleted", message=f"{kind.resource} {name!r} was deleted before it finished")
            uid = str((resource.get("metadata") or {}).get("uid") or "")
            failed = conditions.met(failure, resource) if failure else None  # Katib looks at the failure condition first
            if failed is not None:
                reason = str(failed.get("reason") or "") or _failed_reason(resource)
                message = str(failed.get("message") or "") or _failed_message(resource)
                logs = self._logs(trial, kind, name, uid, output, ended=True)
                return _judged_at_end(trial, output, logs, functools.partial(self._failed_end, trial, kind, name, uid, reason, message, logs))
            succeeded = conditions.met(success, resource) if success else None
            if succeeded is not None:  # its reason and message are the job's, as for a failure (Katib's GetDeployedJobStatus)
                logs = self._logs(trial, kind, name, uid, output, ended=True)
                if not logs:
                    self._check_primary_pod(trial, kind, name, uid)
                return _judged_at_end(trial, output, logs, functools.partial(
                    LaunchOutcome, LaunchPhase.SUCCEEDED, reason=str(succeeded.get("reason") or ""), message=str(succeeded.get("message") or ""), logs=logs))
            held = suspension(resource)  # queued (Kueue): no pod, and its time does not count, as Katib keeps it Running
            watch.resource(held, time.monotonic(), paused(resource))  # an Argo Workflow paused: its pods and its time go on
            since = started if watch.held_at is None else max(started, watch.held_at)
            timed_out = timeout is not None and not held and self._ran_for(resource, since, created_here) >= timeout
            pod: dict[str, Any] | _NotRead | None = _NotRead.POD
            if watch.poll(read_anyway=output.follows or timed_out, timed_out=timed_out):  # read once in such a poll, for the log too
                every_pod = functools.cache(functools.partial(self._pods_of, kind, name, uid))  # one LIST of them all at most
                pods = self._primary_pods(trial, kind, name, uid, every_pod() if watch.reads_all else None)
                if sidecars:  # a pod hung in Init for good is not waited on: the pods read anyway say so
                    self._refuse_sidecars_dropped_from_pods(trial, kind, name, sidecars, [*pods, *(every_pod() if watch.reads_all else [])])
                pod = pods[0] if pods else None
                watch.look(pods, self._log_container(trial, kind), every_pod, selects_none)
            if timed_out:
                logs = self._logs(trial, kind, name, uid, output)  # still running: an unfinished last line may go on
                self._delete(kind, name)
                why = watch.at_timeout()
                return LaunchOutcome(LaunchPhase.FAILED, reason="DeadlineExceeded", logs=logs,
                                     message=f"the trial ran past the launcher's timeout of {timeout:g} s and was deleted" + (f"; {why}" if why else ""))
            if output.follows:  # its output is read as it comes: what the kubelet rotates away was read before
                self._read_log(trial, kind, name, uid, output, found=pod)  # the kept log is built only when it is returned
                if output.read_once and output.judge():  # once its container runs
                    self._delete(kind, name)
                    return LaunchOutcome(LaunchPhase.EARLY_STOPPED, reason=EARLY_STOP_REASON, message=EARLY_STOP_MESSAGE, logs=output.logs())
            elif trial.should_stop is not None and output.judge():  # its reports are in the store, not the log
                logs = self._logs(trial, kind, name, uid, output)
                self._delete(kind, name)
                return LaunchOutcome(LaunchPhase.EARLY_STOPPED, reason=EARLY_STOP_REASON, message=EARLY_STOP_MESSAGE, logs=logs)
            self._sleep(self.config.poll_seconds)

    def _how_pod_ended(self, trial: TrialRun, kind: TrialKind, name: str, uid: str) -> str:
        """``; primary pod NAME: OOMKilled (exit code 137)`` for a failed trial's message: the job's
        condition says only that it failed (BackoffLimitExceeded), the pod why. "" when the pod is
        gone or says nothing; an API error here leaves the message as it was."""
        try:
            pod = self._primary_pod(trial, kind, name, uid)
        except Exception as exc:  # the trial has ended: its outcome does not wait on this
            log.debug("trial %s: its primary pod not read for how it ended: %s", name, exc)
            return ""
        how = termination(pod, self._log_container(trial, kind)) if pod else ""
        said = f"; primary pod {pod['metadata']['name']}: {how}" if pod and how else ""
        try:  # one LIST at the trial's end: a Worker OOMKilled fails a PyTorchJob whose Master only exits 1
            others = [(str(p["metadata"]["name"]), failure(p)) for p in self._pods_of(kind, name, uid) if pod is None or p["metadata"]["name"] != pod["metadata"]["name"]]
        except Exception as exc:
            log.debug("trial %s: its other pods not read for how they ended: %s", name, exc)
            return said
        failed = [f"; pod {other}: {how}" for other, how in others if how]
        more = f" (and {len(failed) - PODS_SHOWN} more failed pods)" if len(failed) > PODS_SHOWN else ""
        return said + "".join(failed[:PODS_SHOWN]) + more

    def _log_container(self, trial: TrialRun, kind: TrialKind) -> str:
        """The primary pod's container that the trial's log is read from."""
        return trial_log_names({"apiVersion": kind.api_version, "kind": kind.kind}, trial.primary_container)[0]

    def _ran_for(self, resource: Mapping[str, Any], started: float, created_here: bool = False) -> float:
        """How long the trial has run, for ``timeoutSeconds``: since the resource's
        ``creationTimestamp`` (on :attr:`_clock`), not only since this process began following it
        (``started``, on the monotonic clock: the later of its start and the last poll that found
        the resource suspended): a pipeline hands a trial over to the next step at every
        checkpoint (600 s by default), whose ``reattach`` would start the count again, so a
        longer timeout never fired. The longer of the two, so a resource with no readable
        creation time still has this follow's time counted. A resource that was suspended is
        timed from its last resume instead of its creation (its ``Suspended`` condition turned
        False), as Kubernetes resets a Job's ``startTime``, which ``activeDeadlineSeconds``
        counts from: time queued in Kueue is not time run. A trial this process created
        (``created_here``) is timed on the monotonic clock alone: this machine's clock ahead of
        the API server's would otherwise end it early (the gap still moves a reattached trial's)."""
        following = time.monotonic() - started
        if created_here:
            return following
        stamps = [str((resource.get("metadata") or {}).get("creationTimestamp") or ""), _resumed_at(resource)]
        begun = [at for at in map(rfc3339_microseconds, stamps) if at is not None]
        return max(following, self._clock() - max(begun) / 1e6) if begun else following

    def primary_pod(self, trial: TrialRun, kind: TrialKind, name: str, uid: str = "") -> str:
        """The primary pod's name ("" before it exists)."""
        pod = self._primary_pod(trial, kind, name, uid)
        return str(pod["metadata"]["name"]) if pod else ""

    def _primary_pod(self, trial: TrialRun, kind: TrialKind, name: str, uid: str) -> dict[str, Any] | None:
        """The primary pod (:meth:`_primary_pods`' first; None before it exists)."""
        pods = self._primary_pods(trial, kind, name, uid)
        return pods[0] if pods else None

    def _primary_pods(self, trial: TrialRun, kind: TrialKind, name: str, uid: str, listed: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        """The pods that may be primary, the primary one first: of those with the kind's job-name label and ``primaryPodLabels`` (for a
        kind whose pods' label is not known, of those with ``primaryPodLabels`` whose owner
        references lead to the trial, ``uid``): one that has not failed before one that has, then
        the newest, then by name. A Job that retried has a failed pod per attempt beside the one
        that runs now, whose log is the trial's (Katib's sidecar reads each pod as it runs).
        Only pods of the templates that may be primary by their own and their controller's
        labels (:func:`.kinds.primary_pod_templates`): every pod carries the Experiment's labels,
        which Katib's webhook adds after it has decided ([] when a key only those set).
        ``listed``: the trial's pods of every template, read this poll (:meth:`_pods_of`), to
        pick them from instead of a LIST."""
        allowed = primary_pod_templates(trial.manifest, trial.primary_pod_labels, trial.pod_labels)
        if allowed is not None and not allowed:
            return []
        wanted = trial.primary_pod_labels.items()
        pods = (self._pods_of(kind, name, uid, trial.primary_pod_labels) if listed is None
                else [p for p in listed if wanted <= (p["metadata"].get("labels") or {}).items()])
        replica_types = {path.split(".")[2].lower() for path in allowed or () if path.count(".") == 3 and path.endswith(".template")}
        if allowed and len(replica_types) == len(allowed) and any(_REPLICA_TYPE in (p["metadata"].get("labels") or {}) for p in pods):
            pods = [p for p in pods if ((p["metadata"].get("labels") or {}).get(_REPLICA_TYPE)) in replica_types]
        pods.sort(key=lambda p: str(p["metadata"].get("creationTimestamp") or ""), reverse=True)  # stable: by name among equals
        pods.sort(key=lambda p: (p.get("status") or {}).get("phase") == "Failed")
        return pods

    def _check_primary_pod(self, trial: TrialRun, kind: TrialKind, name: str, uid: str) -> None:
        """PrimaryPodMissing when the trial, which succeeded, has pods and none carries
        ``primaryPodLabels``: no log was read and no collector ran in a primary pod (Katib's
        webhook adds its collector only to a pod with those labels: inject_webhook.go Mutate), so
        the trial would end MetricsUnavailable as if it had printed nothing. The error names the
        labels and lists a few of the pods' own. Not for Push, whose trial reports from any pod."""
        if _collector_of(trial) == CollectorKind.PUSH or not trial.primary_pod_labels or self._primary_pod(trial, kind, name, uid) is not None:
            return
        pods = self._pods_of(kind, name, uid)
        if not pods:  # none left (an operator's cleanPodPolicy): nothing to tell
            return
        wanted = ", ".join(f"{k}={v}" for k, v in trial.primary_pod_labels.items())
        shown_pods = "; ".join(f"{p['metadata']['name']}: {_telling_labels(p)}" for p in pods[:PODS_SHOWN])
        more = f" (and {len(pods) - PODS_SHOWN} more)" if len(pods) > PODS_SHOWN else ""
        raise PrimaryPodMissing(
            f"no pod of {kind.kind} {name!r} matched primaryPodLabels {wanted}, so no metrics were read from it; its pods' labels: {shown_pods}{more}. "
            "Set primaryPodLabels to labels of the pod that reports the metrics"
        )

    def _pods_of(self, kind: TrialKind, name: str, uid: str, labels: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """The trial's pods with these labels, by name: of those with the kind's job-name label, or
        (a kind whose pods' label is not known) of those whose owner references lead to the trial
        (``uid``; read when not given)."""
        wanted = {kind.job_name_label: name, **(labels or {})} if kind.job_name_label else dict(labels or {})
        selector = ",".join(f"{k}={v}" for k, v in wanted.items())
        listed = self.call("list", "pods", "", self._core().list_namespaced_pod, self.config.namespace, label_selector=selector)
        pods = sorted((self.api.sanitize_for_serialization(p) for p in listed.items), key=lambda p: str(p["metadata"]["name"]))
        if kind.job_name_label:
            return pods
        if not uid:
            resource = self._get(kind, name)
            uid = str(((resource or {}).get("metadata") or {}).get("uid") or "")
        owners: dict[str, list[dict[str, Any]]] = {}
        return [p for p in pods if uid and self._leads_to(p["metadata"].get("ownerReferences") or [], uid, OWNER_DEPTH, owners)]

    def _leads_to(self, references: list[dict[str, Any]], uid: str, depth: int, seen: dict[str, list[dict[str, Any]]]) -> bool:
        """Whether these owner references lead to the object ``uid`` within ``depth`` owners."""
        if any(ref.get("uid") == uid for ref in references):
            return True
        if depth <= 1:
            return False
        return any(self._leads_to(self._owners_of(ref, seen), uid, depth - 1, seen) for ref in references)

    def _owners_of(self, reference: Mapping[str, Any], seen: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
        """The owner references of the object a reference names ([] when it cannot be read)."""
        from kubernetes.client.exceptions import ApiException

        key = str(reference.get("uid"))
        if key not in seen:
            seen[key] = []
            try:
                owner = self.kind_of({"apiVersion": reference.get("apiVersion"), "kind": reference.get("kind")})
                found = self._get(owner, str(reference.get("name"))) if owner.group else None
            except (KfpTuneError, ApiException, ValueError) as exc:
                log.debug("owner %s %s not read: %s", reference.get("kind"), reference.get("name"), exc)
                found = None
            if found is not None and (found.get("metadata") or {}).get("uid") == reference.get("uid"):
                seen[key] = list((found.get("metadata") or {}).get("ownerReferences") or [])
        return seen[key]

    def trial_logs(self, trial: TrialRun) -> dict[str, str]:
        """The trial's primary container's log as it stands ({} before its pod exists), kept as
        the launcher keeps it when the trial ends: for ``kfp-tune logs`` and the client."""
        return self._logs(trial, self.kind_of(trial.manifest), str(trial.manifest["metadata"]["name"]), "", _FollowedLog(trial), ended=True)

    def _logs(self, trial: TrialRun, kind: TrialKind, name: str, uid: str, output: _FollowedLog, ended: bool = False) -> dict[str, str]:
        """Read what the primary container printed since ``output``'s last read (:meth:`_read_log`),
        and return the log as the store keeps it (:mod:`kfp_tune.launchers.kept_log`): {} before
        the pod exists; the log kept so far once its pod (or its log) is gone."""
        self._read_log(trial, kind, name, uid, output, ended)
        return output.logs()

    def _read_log(self, trial: TrialRun, kind: TrialKind, name: str, uid: str, output: _FollowedLog, ended: bool = False,
                  found: dict[str, Any] | _NotRead | None = _NotRead.POD) -> None:
        """Hand ``output`` what the primary container printed since its last read; ``ended``: the
        trial has ended, so a last line without its newline is whole. Nothing before the pod
        exists, or once its pod (or its log) is gone. PrimaryContainerMissing when the pod has
        no container of that name. ``found``: the primary pod this poll read (None: none), else
        it is read here."""
        from kubernetes.client.exceptions import ApiException

        if found is _NotRead.POD:
            found = self._primary_pod(trial, kind, name, uid)
        if found is None:
            return
        pod = str(found["metadata"]["name"])
        container = self._log_container(trial, kind)
        spec = found.get("spec") or {}
        containers = [str(c.get("name")) for c in spec.get("containers") or []]
        init = [str(c.get("name")) for c in spec.get("initContainers") or []]
        if container not in containers + init:
            raise PrimaryContainerMissing(
                f"the primary pod {pod!r} of {kind.resource} {name!r} has no container named {container!r} (primaryContainerName); "
                f"its containers: {containers}" + (f", init containers: {init}" if init else "")
            )
        output.source(pod, str(found["metadata"].get("uid") or ""), _restart_count(found, container))

        def read() -> None:
            since = output.since_seconds(self._clock())
            query: dict[str, Any] = {"container": container, "timestamps": True, "_preload_content": False}
            if since is not None:
                query["since_seconds"] = since
            read_at = self._clock()
            response = self._core().read_namespaced_pod_log(pod, self.config.namespace, **query)
            try:
                for chunk in response.stream(READ_CHUNK_BYTES):
                    output.take(chunk)
            except Exception as exc:
                output.read_failed()  # what it took is dropped: a retry reads it all again
                if is_connection_error(exc):  # the connection lost while the log came (an API server restart)
                    log.warning("trial %s: the read of pod %s's log broke off (%s: %s); what it read is dropped", trial.trial, pod, type(exc).__name__, exc)
                raise
            finally:
                response.release_conn()
            output.read_done(read_at, ended)

        try:
            self.call("get", "pods/log", pod, read)  # retried as a request is, the log with it
        except ApiException as exc:
            if exc.status in (400, 404):  # the container has not started, or the pod is gone
                return
            raise self._api_error("get", "pods/log", pod, exc) from None

    # --- cleanup ------------------------------------------------------------------------------

    def owned_resources(self, experiment: str) -> OwnedResources:
        """Every trial resource of the experiment that kfp-tune owns: its labels say so and the
        experiment's anchor is among its owners. Kinds whose API is not served are skipped; a
        resource served at one version of several (MPIJob: kubeflow.org/v1 with the Training
        Operator, v2beta1 with mpi-operator) is listed once, at the version that is served."""
        from kubernetes.client.exceptions import ApiException

        found = OwnedResources([], set())
        anchor_uid = None
        try:
            anchor = self.call("get", "configmaps", self.anchor_name(experiment), self._core().read_namespaced_config_map, self.anchor_name(experiment), self.config.namespace)
            anchor_uid = anchor.metadata.uid
        except ApiException as exc:
            if exc.status != 404:
                raise self._api_error("get", "configmaps", self.anchor_name(experiment), exc) from None
            return found
        if not _is_anchor_of(self.api.sanitize_for_serialization(anchor), experiment):  # anchor() refuses it: no trial of kfp-tune's is owned by it
            return OwnedResources([], set(), self._not_the_anchor(experiment))
        selector = experiment_selector(experiment)
        listed_already: set[tuple[str, str]] = set()
        for kind in [*KINDS.values(), *_recorded_kinds(anchor.data or {}), *self._configured_kinds()]:
            if (kind.group, kind.plural) in listed_already:
                continue
            try:
                listed = self.call("list", kind.resource, "", self._custom().list_namespaced_custom_object, kind.group, kind.version, self.config.namespace, kind.plural, label_selector=selector)
            except ApiException as exc:
                if exc.status == 404:
                    continue  # not served at this version: that operator (or this version of it) is not installed
                raise self._api_error("list", kind.resource, "", exc) from None
            listed_already.add((kind.group, kind.plural))
            for item in listed.get("items", []):
                owners = (item.get("metadata") or {}).get("ownerReferences") or []
                if any(o.get("uid") == anchor_uid for o in owners):
                    found.owned.append((kind, item))
                else:
                    found.unowned_kinds.add(kind.resource)
        return found

    def sweep(
        self, experiment: str, keep: Collection[str] | Callable[[], Collection[str]] = frozenset(), dry_run: bool = False,
        ours: Collection[str] | Callable[[], Collection[str]] | None = None,
        take_others: Callable[[list[tuple[str, str]]], bool] | None = None,
    ) -> SweepResult:
        """Delete the experiment's trial resources left behind (a killed run, ``retain`` off; an
        ended trial's that ``retain`` kept), except the trials in ``keep`` (still running); what
        it deleted and kept (``dry_run``: what it would delete, nothing deleted). Never touches
        what it does not own. A callable ``keep`` is asked only once the resources are listed: a
        trial's record is written before its resource is created, so a trial started while the
        sweep runs is either not listed or already among those the store says have not ended.

        ``ours``: every trial the experiment has recorded (asked after ``keep``); a resource
        labelled with another trial is kept and named in :attr:`SweepResult.others`. The anchor
        is named after the experiment alone, so experiments of one name kept in two stores, with
        their trials in one namespace, share it; a trial name hashes its experiment's uid, so a
        trial label that is none of ``ours`` is another experiment's, whatever kfp-tune made it
        (every build has labelled its resources with their trial). None: every resource the
        anchor owns is the experiment's (no store records it any more: ``kfp-tune delete``).

        ``take_others``: asked, once the experiment's own are deleted, with the resources of no
        trial of ``ours`` (if any), whether to delete them too (:attr:`SweepResult.others_taken`):
        a predecessor's of the same name in the same store (deleted and made again: a new uid)
        cannot be told from another store's live experiment's, so a person says which they are.
        Only those named are deleted; one listed later is another sweep's."""
        listing = self.owned_resources(experiment)
        kept = set(keep() if callable(keep) else keep)
        accounted_for = None if ours is None else set(ours() if callable(ours) else ours)
        result = SweepResult([], [], {}, listing.not_the_anchor)
        left = set(listing.unowned_kinds)  # kinds the selector would select more of
        others: list[tuple[TrialKind, str]] = []
        for kind, item in listing.owned:
            name = item["metadata"]["name"]
            trial = (item["metadata"].get("labels") or {}).get(f"{LABEL_PREFIX}/trial")
            if trial in kept:
                result.kept.append((kind.resource, name))
                continue
            if accounted_for is not None and trial not in accounted_for:
                others.append((kind, name))
                continue
            if not dry_run:
                self._delete(kind, name)
            else:
                left.add(kind.resource)
            result.deleted.append(name)
        named = [(kind.resource, name) for kind, name in others]
        if others and take_others is not None and take_others(list(named)):
            for kind, name in others:
                if not dry_run:
                    self._delete(kind, name)
            result.others_taken.extend(named)
        else:
            result.others.extend(named)
        if result.others or dry_run:
            left.update(kind.resource for kind, _ in others)
        selector = experiment_selector(experiment)
        result.kept_selectors.update({resource: selector for resource in {resource for resource, _ in result.kept} - left})
        return result

    def delete_anchor(self, experiment: str, dry_run: bool = False) -> bool:
        """Delete the experiment's anchor ConfigMap; whether there was one (``dry_run``: only
        that). For once the sweep has deleted what it owned, no trial of the experiment runs and
        no run drives it. Its dependents are orphaned, not collected: anything it owns by then
        was created since the sweep's listing, by another store's run of the experiment's name
        (the anchor is named after the name alone), which follows it by name and would lose it
        to the garbage collector. A later trial of the experiment makes it again. A ConfigMap of that name
        whose labels are not the anchor's (someone else's, which :meth:`anchor` refuses too) is
        left alone, with a warning: False. The delete is on the uid read, so one made again in
        between is not taken either."""
        from kubernetes.client.exceptions import ApiException

        core, name = self._core(), self.anchor_name(experiment)
        verb = "get"
        try:
            found = self.call("get", "configmaps", name, core.read_namespaced_config_map, name, self.config.namespace)
            if not _is_anchor_of(self.api.sanitize_for_serialization(found), experiment):
                log.warning("%s: left alone", self._not_the_anchor(experiment))
                return False
            if not dry_run:
                verb = "delete"
                options = {"propagationPolicy": "Orphan", "preconditions": {"uid": found.metadata.uid}}  # a body's options, not the query's, are read
                self.call("delete", "configmaps", name, core.delete_namespaced_config_map, name, self.config.namespace, body=options)
                log.info("deleted configmap %s", name)
        except ApiException as exc:
            if exc.status in (404, 409):  # gone, or made again since it was read (the uid's precondition)
                return False
            raise self._api_error(verb, "configmaps", name, exc) from None
        return True

    def _configured_kinds(self) -> list[TrialKind]:
        """The config's trialResources with their plurals (those that cannot be learned are
        left out, with a warning)."""
        kinds = []
        for kind in self.config.trial_resources:
            try:
                kinds.append(kind if kind.plural else self.kind_of({"apiVersion": kind.api_version, "kind": kind.kind}))
            except KfpTuneError as exc:
                log.warning("trialResources %s.%s.%s is not looked for: %s", kind.kind, kind.version, kind.group, exc)
        return kinds


def _is_anchor_of(config_map: Mapping[str, Any], experiment: str) -> bool:
    """Whether a ConfigMap (as the API gives it) carries the labels :meth:`KubernetesLauncher.anchor`
    gives the experiment's anchor: one that does not is someone else's of that name."""
    labels = (config_map.get("metadata") or {}).get("labels") or {}
    return bool(labels.get(f"{LABEL_PREFIX}/managed-by") == MANAGED_BY and labels.get(f"{LABEL_PREFIX}/experiment") == experiment)


def _run_namespace() -> str:
    """The namespace launch-trial runs in, the run's ("" outside a cluster)."""
    try:
        return NAMESPACE_FILE.read_text().strip()
    except OSError:
        return ""


def _why(exc: Exception) -> str:
    """An error met before a trial's resource existed, in words: kfp-tune's own messages as they
    are, the kubernetes client's with what to check."""
    from kubernetes.config import ConfigException

    if isinstance(exc, ConfigException):
        return (f"no Kubernetes configuration: not inside a cluster, and {exc} (set KUBECONFIG, or give the launcher config "
                "kind: local to run trials here)")
    return str(exc) if isinstance(exc, KfpTuneError) else f"{type(exc).__name__}: {exc}"


def _name_of(pod: Mapping[str, Any]) -> str:
    return str((pod.get("metadata") or {}).get("name") or "")


def _init_containers(tree: Any) -> Iterator[Mapping[str, Any]]:
    """Every init container anywhere in a manifest or a pod's spec."""
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            if key == "initContainers" and isinstance(value, list):
                yield from (c for c in value if isinstance(c, Mapping))
            else:
                yield from _init_containers(value)
    elif isinstance(tree, list):
        for item in tree:
            yield from _init_containers(item)


def _sent_sidecars(manifest: Mapping[str, Any]) -> frozenset[str]:
    """The names of the native sidecars (``restartPolicy: Always``) a trial's manifest sends,
    less any name that is also a plain init container's in it: a pod with one of these
    without the field lost it."""
    plain = {c.get("name") for c in _init_containers(manifest) if c.get("restartPolicy") != "Always"}
    return frozenset(container for _, container in native_sidecars(manifest) if container not in plain)


def _telling_labels(pod: Mapping[str, Any]) -> str:
    """A pod's labels as ``k=v, ...``, less kfp-tune's own and controllers' uids (the same on
    every pod of the trial, or no use in primaryPodLabels)."""
    labels = sorted((str(k), str(v)) for k, v in ((pod.get("metadata") or {}).get("labels") or {}).items())
    return ", ".join(f"{k}={v}" for k, v in labels if not k.startswith(LABEL_PREFIX) and not k.endswith("controller-uid")) or "no labels"


def _kind_record(kind: TrialKind) -> dict[str, str]:
    return {"apiVersion": kind.api_version, "kind": kind.kind, "plural": kind.plural}


def _recorded_kinds(data: Mapping[str, Any]) -> list[TrialKind]:
    """The kinds an anchor's data records (a damaged record is ignored: cleanup still finds the
    kinds of KINDS and trialResources)."""
    try:
        records = json.loads(str(data.get(ANCHOR_KINDS) or "[]"))
        return [TrialKind(str(r["apiVersion"]), str(r["kind"]), str(r["plural"])) for r in records if r.get("plural")]
    except (ValueError, TypeError, KeyError, AttributeError):
        log.warning("the anchor's %s is not a list of kinds: %r", ANCHOR_KINDS, data.get(ANCHOR_KINDS))
        return []


_SERVICE_ACCOUNT_KEYS = ("serviceAccountName", "serviceAccount", "taskServiceAccountName")


def _service_accounts(tree: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, name) for every service account a resource names, wherever it names one."""
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            here = f"{path}.{key}" if path else str(key)
            if key in _SERVICE_ACCOUNT_KEYS and isinstance(value, str):
                yield here, value
            else:
                yield from _service_accounts(value, here)
    elif isinstance(tree, list):
        for index, item in enumerate(tree):
            yield from _service_accounts(item, f"{path}[{index}]")


def _prepare_built_at_run_time(trial: TrialRun, kind: TrialKind, settings: ClusterSettings, labels: Mapping[str, str], owner: Mapping[str, Any] | None) -> dict[str, Any]:
    """The resource to create for a kind whose pods are made at run time (Argo Workflow, Tekton,
    a kind not known here whose template does not show the primary container): what
    prepare_manifest does for pod templates, in the places such a kind takes it: namespace,
    labels (on its pods the Experiment's, the algorithm's and kfp-tune's, where the kind has a
    place for them: :func:`.manifests.trial_pod_labels`), owner, service account (every
    one it names must be allowed; the first allowed where it names none), node selector and
    tolerations, env and accelerators on the template entries the primary container is made
    from, and their command in ``sh -c`` where Katib wraps it (:func:`.manifests.wrap_command`).
    ValueError for anything refused: what the Pod Security baseline forbids (an Argo
    ``podSpecPatch`` too), in the user's manifest and again in the whole one once everything is
    added, as :func:`.manifests.prepare_manifest` checks it; a collector that runs in the pod,
    which such a kind has no pod template for (Katib adds it with a pod webhook), and Push where
    no entry gets the env the trial reports with, as validation refuses them."""
    out = copy.deepcopy(dict(trial.manifest))
    refuse_unsafe_settings(out)
    collector = _collector_of(trial)
    refused = pod_collector_problem(collector, kind.kind, made_at_run_time(kind.api_version, kind.kind, trial.primary_container))
    if refused is not None:
        raise ValueError(f"{KIND_FIELD}: {refused}")
    metadata = out.setdefault("metadata", {})
    metadata["namespace"] = settings.namespace
    metadata.setdefault("labels", {}).update(labels)
    if owner is not None:
        metadata["ownerReferences"] = [dict(owner)]
    allowed = list(settings.service_accounts)
    for path, account in _service_accounts(out.get("spec") or {}, "spec"):
        if account not in allowed:
            raise ValueError(f"{path}: {account!r} is not in the launcher's allowed service accounts {allowed}")
    places = run_time_places(out)
    if places.service_account is not None and not _holder(out, places.service_account).get("serviceAccountName"):
        _holder(out, places.service_account)["serviceAccountName"] = allowed[0] if allowed else "default"
    if places.pod is not None:
        for key, value in (("nodeSelector", dict(settings.node_selector or {})), ("tolerations", [dict(t) for t in settings.tolerations])):
            if value and key not in (_lookup(out, places.pod) or {}):
                _holder(out, places.pod)[key] = value
    bad_labels = label_problems(metadata.get("labels") or {}, "metadata.labels")
    pod_labels = trial_pod_labels(labels, trial.pod_labels)
    if places.pod_labels is not None:
        pod_meta = _holder(out, places.pod_labels)
        pod_meta.setdefault("labels", {}).update(pod_labels)
        bad_labels += label_problems(pod_meta["labels"], ".".join(places.pod_labels) + ".labels")
    for path, template in pod_templates(out):  # a kind not known here may have some
        template.setdefault("metadata", {}).setdefault("labels", {}).update(pod_labels)
        bad_labels += label_problems(template["metadata"]["labels"], f"{path}.metadata.labels")
    if bad_labels:
        raise ValueError("; ".join(bad_labels))
    containers = template_primary_containers(out, trial.primary_container, trial.primary_pod_labels)
    if settings.gpus:
        if not containers:
            raise ValueError(
                f"the launcher's gpus cannot be given to this {kind.kind} trial: its template does not show the container "
                f"{trial.primary_container!r} will be made from; set its resources in the template"
            )
        for container in containers:
            add_gpus(container, settings.gpus, places.resources_key)
    if katib_wraps(collector):  # as prepare_manifest does
        for container in containers:
            wrap_command(container)
    for container in containers:
        env = container.setdefault("env", [])
        present = {item.get("name") for item in env if isinstance(item, Mapping)}
        for env_name, value in settings.env:
            if env_name not in present:
                env.append({"name": env_name, "valueFrom": dict(value)} if isinstance(value, Mapping) else {"name": env_name, "value": str(value)})
        set_katib_trial_name(container, trial.trial)
    if not containers:
        if collector == CollectorKind.PUSH:
            raise ValueError(f"{KIND_FIELD}: " + unreachable_push_problem(
                f"the primary container {trial.primary_container!r} of this {kind.kind} trial is made at run time from no entry of it kfp-tune can see"
            ))
        log.info("%s trial %s: the primary container %r is made at run time from no entry of the template kfp-tune can see; no env given to it",
                 kind.kind, trial.trial, trial.primary_container)
    refuse_unsafe_settings(out)  # again, whole: what was added since (env, service account, node selector) cannot slip one by
    return out


def _collector_of(trial: TrialRun) -> str:
    """The trial's collector kind, by the one rule for every kind of trial (:func:`.manifests.collector_kind`)."""
    return collector_kind(trial.metrics_collector, trial.metrics_path_kind if trial.metrics_path else None)


def _lookup(tree: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = tree
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def _holder(tree: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    """The mapping at ``path``, made where missing."""
    node = tree
    for key in path:
        node = node.setdefault(key, {})
    return node


def _is_ours(existing: Mapping[str, Any], manifest: Mapping[str, Any]) -> bool:
    want = manifest["metadata"]["labels"]
    have = (existing.get("metadata") or {}).get("labels") or {}
    keys = (f"{LABEL_PREFIX}/managed-by", f"{LABEL_PREFIX}/experiment", f"{LABEL_PREFIX}/trial")
    return all(have.get(k) == want.get(k) for k in keys)


class _FailedAfterEnd(Exception):
    """``error`` (an early-stopping rule's) was raised judging a trial that had ended: its
    resource is kept under retain, as any ended trial's, and ``error.outcome`` says how it
    ended, as if no rule had been asked."""

    def __init__(self, error: EarlyStoppingRuleError):
        super().__init__(str(error))
        self.error = error


def _judged_at_end(trial: TrialRun, output: _FollowedLog, logs: dict[str, str], own_end: Callable[[], LaunchOutcome]) -> LaunchOutcome:
    """The outcome of a trial that has ended: EarlyStopped when it reported what stops it, else
    its ``own_end`` (the job's). One that ended between two polls is judged on all it reported,
    so the poll's timing decides nothing (Katib's collector judges each line as it is written:
    file-metricscollector main.go, watchMetricsFile); not judged before its container ran. A
    rule's error here is raised as :class:`_FailedAfterEnd`, carrying the trial's output and
    its own end: the trial had ended, so the rule's error does not make how it ended."""
    from kfp_tune.collectors.running import EarlyStoppingRuleError

    if trial.should_stop is None or not logs:
        return own_end()
    try:
        stops = output.judge(ended=True)
    except EarlyStoppingRuleError as exc:
        exc.logs = exc.logs or logs
        exc.outcome = own_end()
        raise _FailedAfterEnd(exc) from exc
    if not stops:
        return own_end()
    return LaunchOutcome(LaunchPhase.EARLY_STOPPED, reason=EARLY_STOP_REASON, message=EARLY_STOP_MESSAGE, logs=logs)


def _resumed_at(resource: Mapping[str, Any]) -> str:
    """When the resource last resumed from suspension: its ``Suspended`` condition's
    ``lastTransitionTime`` once that condition is False ("" when it has none)."""
    for condition in (resource.get("status") or {}).get("conditions") or []:
        if isinstance(condition, Mapping) and condition.get("type") == SUSPENDED and condition.get("status") == "False":
            return str(condition.get("lastTransitionTime") or "")
    return ""


def _line_time(line: bytes) -> int | None:
    """The time a line of a ``timestamps=true`` log read starts with (microseconds since 1970),
    None when it starts with none."""
    stamp, space, _ = line.partition(b" ")
    return rfc3339_microseconds(stamp.decode("ascii", errors="replace")) if space else None


def _restart_count(pod: Mapping[str, Any], container: str) -> int:
    """How many times the pod's container has restarted (its ``containerStatuses``; 0 when not
    told): each restart is a new container, with a log file of its own."""
    status = pod.get("status") or {}
    for entry in [*(status.get("containerStatuses") or []), *(status.get("initContainerStatuses") or [])]:
        if entry.get("name") == container:
            return int(entry.get("restartCount") or 0)
    return 0


class _FollowedLog:
    """A trial's primary container output as the launcher reads it, a poll at a time.

    Katib's StdOut collector is a sidecar that tails the output as it is written
    (cmd/metricscollector/v1beta1/file-metricscollector/main.go, watchMetricsFile; the webhook
    sends the output to its file: pkg/webhook/v1beta1/pod/utils.go, wrapWorkerContainer), so it
    sees every line. Here the log comes from ``GET pods/log``, which gives the container's
    current log file only: the kubelet rotates it at ``containerLogMaxSize`` (10 MiB by default),
    and what was before is gone. So while a trial whose metrics are in its output runs, each poll
    reads what came since the last (``timestamps``, ``sinceSeconds`` reaching back to just
    before the last line read, the lines read again told from the new by their times and texts:
    :meth:`_lines`; a read whose connection broke off is dropped and made again); the log the
    store keeps (:class:`KeptLog`: head, tail, the lines naming a metric) is built as the lines
    come, and early stopping is handed only the new text (:meth:`~kfp_tune.collectors.running.StopTest.appended`).

    A new container (a restart: its ``restartCount`` went up) or a new primary pod (a Job that
    retried; a pod the Training Operator made again under the same name, for ``restartPolicy:
    ExitCode`` or an eviction, told apart by its uid) starts the log and the stop test again: as
    in Katib, where an attempt's output is its own file and only the attempt that completes
    reports. A line not ended yet is read again at the next poll, whole; once the trial has
    ended it is whole as it stands. The state lives in this object, one per followed trial: a
    step that picks a trial up after a checkpoint starts from the log file as it stands then
    (what the kubelet rotated away before is not in its stored log)."""

    def __init__(self, trial: TrialRun):
        from kfp_tune.collectors.running import StopTest

        self.trial = trial
        self.stop_test = trial.should_stop if isinstance(trial.should_stop, StopTest) else None
        if self.stop_test is not None:
            self.follows = self.stop_test.reads_output
        elif trial.should_stop is not None:
            self.follows = True  # a plain callable reads the output so far, as the contract says
        else:
            self.follows = _collector_of(trial) == CollectorKind.STDOUT
        self._source: tuple[str, str, int] | None = None
        self._read_once = False
        """A read of the trial's container was made (its container had started)."""
        self._start()

    def _start(self) -> None:
        self.kept = KeptLog(self.trial.metric_names, metrics_formats(self.trial.metrics_collector))
        self.last: int | None = None
        """The newest time of the lines taken, in microseconds (as ``rfc3339_microseconds`` reads)."""
        self._recent: list[tuple[int, int]] = []
        """(time, hash of the text) of the lines taken within :data:`LOG_DISORDER_SECONDS` of
        :attr:`last`, in the log's order: what a read may get again and must tell from new lines."""
        self._ahead = 0.0
        """How far ahead of the launcher's clock the node's was seen (0 at least): the most, over
        the reads, of the newest line's time less the launcher's clock when that read began."""
        self._unfinished: int | None = None
        """The time of the line the last read ended in the middle of (None when it ended a line)."""
        self._read_at: float | None = None
        self._fresh: list[str] = []
        """What was taken and not yet handed to the stop test."""
        self.ends_line = True
        self._begin_read()

    def _begin_read(self) -> None:
        """What one read keeps until it is over (:meth:`read_done`) or broke off (:meth:`read_failed`)."""
        self._carry = b""
        self._read_starts = True
        """No byte of the read was taken yet. A line the program wrote in pieces (a CRI partial
        entry, ``P``: CRI-O writes what was flushed) has the kubelet's time at its start only,
        and the kubelet leaves out the pieces before ``sinceSeconds`` one by one
        (pkg/kubelet/kuberuntime/logs/logs.go, ReadLogs and logWriter.write): a read whose reach
        starts between the pieces of a line begins with that line's rest, without a time. The
        reach starts before such a line's time (:meth:`since_seconds`), so it is a line taken,
        whole, before."""
        self._overlap = self.last is not None
        """The read is still in the part of the log taken before: no new line was met yet."""
        self._matched = 0
        """Where in :attr:`_recent` the last line met again was."""
        self._taken: list[tuple[int, int]] = []
        self._new: list[bytes] = []
        self._newest = self.last

    def source(self, pod: str, uid: str, restarts: int) -> None:
        """The pod (its name and uid: a pod made again under the same name is another) and the
        container instance (its restart count) the next read is of: another one starts again."""
        if self._source is not None and self._source != (pod, uid, restarts):
            log.info("trial %s: its primary container is now in pod %s (uid %s, restart %d): its log and early stopping start again",
                     self.trial.trial, pod, uid, restarts)
            self._start()
            if self.stop_test is not None:
                from kfp_tune.collectors.running import RunningMetrics, StopTest

                running = self.stop_test.running
                self.stop_test = StopTest(RunningMetrics(running.records, running.experiment, running.trial), self.stop_test.rule, self.stop_test.curves)
        self._source = (pod, uid, restarts)

    def since_seconds(self, now: float) -> int | None:
        """``sinceSeconds`` for the next read: None (all of it) until a line was taken; else
        reaching :data:`LOG_SLACK_SECONDS` before both the last read's start (which holds whatever
        the node's clock says) and the newest line taken, or the line the last read ended in the
        middle of when that is older: the node's time of those is the launcher's ``now`` plus how
        far ahead the node's clock was seen (:attr:`_ahead`). Where the node's clock is further
        ahead than its lines' times showed, a line unfinished at a poll whose time is more than
        the slack older than the poll may still be cut at its start, and its rest left out as a
        line taken before (:attr:`_read_starts`)."""
        if self.last is None or self._read_at is None:
            return None
        oldest = self.last if self._unfinished is None else min(self.last, self._unfinished)
        back = max(now - self._read_at, now + self._ahead - oldest / 1e6)
        return max(1, math.ceil(back) + LOG_SLACK_SECONDS)

    def take(self, data: bytes) -> None:
        """The next bytes of a read (``timestamps=true``: each line starts with its time and a space)."""
        data = self._carry + data
        if self._read_starts and self.last is not None:
            newline = data.find(b"\n")
            if newline < 0:  # the first line is not whole yet: whether it has a time is not known
                self._carry = data
                return
            if _line_time(data[:newline]) is None:
                data = data[newline + 1:]  # the rest of a line taken before (see _read_starts)
        self._read_starts = False
        cut = data.rfind(b"\n") + 1
        self._carry = data[cut:]
        if cut:
            self._lines(data[:cut])

    def read_failed(self) -> None:
        """The read broke off: what it took is dropped, and the next read reaches back as if it
        had not been made."""
        self._begin_read()

    def read_done(self, read_at: float, ended: bool) -> None:
        """The read is over: what it took is kept; a line without its newline is read again next
        time, or, once the trial has ended, taken as it is."""
        unfinished = None
        if ended and self._carry and not (self._read_starts and self.last is not None and _line_time(self._carry) is None):
            self._lines(self._carry)
        elif self._carry:
            unfinished = _line_time(self._carry)
        if self._new:
            block = b"".join(self._new)
            self.kept.feed(block)
            self.ends_line = block.endswith(b"\n")
            self._fresh.append(block.decode("utf-8", errors="replace"))
        if self._newest is not None:
            self.last = self._newest
            floor = self.last - _LOG_DISORDER_US
            self._recent = [seen for seen in [*self._recent, *self._taken] if seen[0] >= floor]
            self._ahead = max(self._ahead, max(self.last, unfinished or 0) / 1e6 - read_at)
        self._unfinished = unfinished
        self._read_at = read_at
        self._read_once = True
        self._begin_read()

    def _lines(self, data: bytes) -> None:
        """Take a read's whole lines. Those at its start that were taken before are left: by their
        time when older than :data:`LOG_DISORDER_SECONDS` before the newest taken, else when found,
        by time and text, next in the order they were taken in (the kubelet serves them in that
        order, less those before ``sinceSeconds``). Once a line is not found there every line is
        new, whatever its time: a line stamped before the one written before it (two streams) is
        taken, in this read or the next. A new line stamped more than that window before the
        newest taken, met before any other new line of its read, is taken as read before."""
        for line in data.splitlines(keepends=True):
            at = _line_time(line)
            text = line.partition(b" ")[2]
            if at is None:  # no time (not a kubelet's answer): a line of its own, after the last
                at, text = self._newest if self._newest is not None else 0, line
            seen = (at, hash(text))
            if self._overlap and self.last is not None:
                if at < self.last - _LOG_DISORDER_US:
                    continue
                try:
                    self._matched = self._recent.index(seen, self._matched) + 1
                    continue
                except ValueError:
                    self._overlap = False
            self._taken.append(seen)
            self._newest = at if self._newest is None else max(self._newest, at)
            self._new.append(text)

    @property
    def read_once(self) -> bool:
        """Whether a read of the log was made (not before the pod exists or its container starts)."""
        return self._read_once

    def logs(self) -> dict[str, str]:
        """The log as the store keeps it, by the name of the container it is read from (a
        TrainJob's ``node``, whatever ``primaryContainerName`` says: ``trial_log_names``; {} before
        a read of it was made: no pod yet, or its container not started)."""
        return {trial_log_names(self.trial.manifest, self.trial.primary_container)[0]: self.kept.text()} if self._read_once else {}

    def judge(self, ended: bool = False) -> bool:
        """Ask the trial's stop test; ``ended``: the trial has ended, so its last line is whole.
        A :class:`~kfp_tune.collectors.running.StopTest` is handed only what came since its last
        look (none when it does not read the output); any other callable, the log kept so far
        (the whole output, unless it is long), as the contract says."""
        from kfp_tune.collectors.formats import ended_output

        should_stop = self.trial.should_stop
        if should_stop is None:
            return False
        if self.stop_test is None:
            text = self.kept.text()
            return should_stop(ended_output(text) if ended else text)
        if not self.stop_test.reads_output:
            return self.stop_test.appended("")
        fresh, self._fresh = self._fresh, []
        for text in fresh:
            if self.stop_test.appended(text):
                return True
        return ended and not self.ends_line and self.stop_test.appended("\n")


def _failed_condition(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    for condition in (resource.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Failed" and condition.get("status") == "True":
            return condition
    return {}


def _failed_reason(resource: Mapping[str, Any]) -> str:
    return str(_failed_condition(resource).get("reason") or "Failed")


def _failed_message(resource: Mapping[str, Any]) -> str:
    return str(_failed_condition(resource).get("message") or "the trial's failure condition holds")


def status_message(exc: Any) -> str:
    """The message of the Status the API server answered an error with ("" when its body is no
    Status). A 422's names the field and what it takes; it may quote a value of the manifest,
    which is the experiment's own (already in the store): the launcher's credentials reach a
    trial only as Secret references (``secretKeyRef``), never as values."""
    try:
        body = json.loads(getattr(exc, "body", None) or "")
    except (TypeError, ValueError):
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return " ".join(message.split()) if isinstance(message, str) else ""


def _retry_after(exc: Any) -> float | None:
    headers = getattr(exc, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _is_outage(exc: Exception) -> bool:
    """Whether an error from following a trial is the API server not answering for
    ``apiRetrySeconds`` (429, 5xx, a lost connection), which says nothing about the trial."""
    from kubernetes.client.exceptions import ApiException

    if isinstance(exc, ApiException):
        return int(exc.status or 0) in RETRIED_STATUSES
    return isinstance(exc, ApiUnavailable) or is_connection_error(exc)


def is_connection_error(exc: Exception) -> bool:
    """Whether ``exc`` is a lost or refused connection to the API server (retried, as a 5xx is)."""
    import urllib3.exceptions

    return isinstance(exc, (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError))


class _sigterm_raises:
    """Within the block, SIGTERM raises TrialInterrupted (main thread only; elsewhere a no-op)."""

    def __enter__(self) -> None:
        self._previous: Any = None
        if threading.current_thread() is threading.main_thread():
            def raise_interrupted(signum: int, frame: Any) -> None:
                raise TrialInterrupted()

            self._previous = signal.signal(signal.SIGTERM, raise_interrupted)

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)


def launcher_env(store_uri: str, s3_endpoint: str = "") -> dict[str, str]:
    """Env the Kubernetes launcher gives every trial so it can report to the store."""
    env = {STORE_VARIABLE: store_uri}
    if s3_endpoint:
        env[S3_ENDPOINT_VARIABLE] = s3_endpoint
    return env


__all__ = ["KubernetesConfig", "KubernetesLauncher", "OwnedResources", "SweepResult", "TrialInterrupted", "launcher_env"]
