"""An in-memory Kubernetes API server that answers the launcher's calls as a real one does.

No API server can run here, so this stands in for one; the launcher is tested through the real
``kubernetes`` client and its HTTP, never by patching the client. Where the launcher depends on
the server's behaviour, the fake follows the real one, not the launcher's assumptions:

- Only what is installed is served: the built-in kinds (ConfigMap, Pod, batch/v1 Job) and the
  operators' resources a test installs (:data:`TRAINING_OPERATOR`, :data:`MPI_OPERATOR`,
  :data:`TRAINER`). Anything else answers 404, as an unknown resource does. A CRD serves one
  version here, as the operators' CRDs do: installing mpi-operator replaces the
  ``mpijobs.kubeflow.org`` CRD, so ``kubeflow.org/v1 mpijobs`` then answers 404.
- Bodies are checked as the API server and the operators' admission webhooks check them:
  apiVersion / kind / namespace against the URL (400), names (DNS-1123; DNS-1035 for the
  Training Operator's kinds), label and annotation keys and values, owner references, and the
  object against its schema (the CRD schemas in tests/data/schemas; kubernetes-validate for the
  built-in kinds), a Pod's or a Job's pod template's tolerations as Kubernetes validates a
  pod's (a CRD's schema does not), all 422 Invalid. Unknown fields are refused (422) rather than pruned: as with
  ``fieldValidation=Strict``, so a field a CRD would silently drop shows up as an error. A test
  may play an older operator (:attr:`FakeKube.older_crds`: its CRD's schema, whose missing fields
  are pruned, as a real server does by default) or an API server without SidecarContainers
  (:attr:`FakeKube.sidecar_containers`: init containers' ``restartPolicy`` dropped).
- Label selectors are parsed (``=``, ``==``, ``!=``, ``in``, ``notin``, exists, ``!key``); a
  malformed one answers 400.
- The operators are played as they behave: a Job gets its pod(s) with ``job-name`` /
  ``batch.kubernetes.io/job-name``; the Training Operator's kinds get one pod per replica, named
  ``<job>-<replica type>-<index>`` and labelled with ``training.kubeflow.org/job-name``,
  ``replica-type``, ``replica-index`` and ``job-role: master`` on the master role (Master, Chief,
  else Worker 0 for TFJob and PyTorchJob; Launcher for its MPIJob); mpi-operator v2 runs the launcher as a Job
  (``<job>-launcher``) and labels ``job-role: launcher`` / ``worker``; a TrainJob becomes a
  JobSet whose Jobs (one per replicated job of the runtime, see :attr:`FakeKube.runtimes`) carry
  ``jobset.sigs.k8s.io/*`` and ``batch.kubernetes.io/job-completion-index`` labels.
- Every pod gets an ``istio-proxy`` sidecar, as in a Kubeflow profile namespace (unless the pod
  template's annotation ``sidecar.istio.io/inject`` is ``"false"``), so a log read without
  ``container`` answers 400 ("a container name must be specified ..."), as for any pod with more
  than one container. The trial's log is printed by one container of the rank-0 pod (master,
  launcher, node 0); other pods and containers print other lines.
- A resource created suspended (a Job's or TrainJob's ``spec.suspend``, ``spec.runPolicy.suspend``
  of the Training Operator's kinds) gets its controller's ``Suspended=True`` condition and no pod
  until :meth:`FakeKube.resume` (Kueue admitting it: the condition turns False, its
  ``lastTransitionTime`` the resume); :meth:`FakeKube.suspend` preempts a running one (its pods
  deleted). :attr:`Script.remade`: the Training Operator makes a failed pod again under its name.
- Containers not started yet (:attr:`Script.waiting`: pulling the image) leave their pod
  ``Pending``, and GET pods/log answers 400 ``container "main" in pod "..." is waiting to start:
  ContainerCreating``, as the kubelet does.
- Delete follows the propagation policy: Background / Foreground delete dependents (the garbage
  collector, recursively); Orphan leaves them, without their owner reference. Without a policy a
  batch/v1 Job orphans its pods (that API's default through REST); other kinds use Background.
  An object whose owners are all gone is collected, as the garbage collector does.

Every request is kept (:attr:`FakeKube.calls`), and :attr:`FakeKube.faults` answers chosen
requests with injected errors (and headers such as ``Retry-After``), or cuts an answer's body
short and closes the connection (:attr:`Fault.body_bytes`: an API server restarting while a log
streams).

Kinds the fake does not play (Argo Workflow, Tekton PipelineRun, a user's CRD): a test installs
their :class:`Resource` and plays their controller itself, as a function in
:attr:`FakeKube.controllers` that makes pods with :meth:`FakeKube.run_pod` when one is created,
and sets ``.status`` with :meth:`FakeKube.set_status`, as that controller would. Discovery is
served as the API server serves it: ``GET /apis/<group>/<version>`` lists the resources served
there (and their ``status`` subresources) as an ``APIResourceList``; a group/version not
served answers 404.
"""

from __future__ import annotations

import bisect
import calendar
import contextlib
import copy
import hashlib
import json
import math
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import jsonschema
import yaml
from kubernetes import client

SCHEMAS = Path(__file__).resolve().parent.parent / "data" / "schemas"
KUBERNETES_VERSION = "1.30.0"

# --- what a cluster serves ------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """One served resource: REST coordinates and kind."""

    group: str
    version: str
    plural: str
    kind: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


BUILT_IN = (Resource("", "v1", "configmaps", "ConfigMap"), Resource("", "v1", "pods", "Pod"), Resource("batch", "v1", "jobs", "Job"))
TRAINING_OPERATOR = (
    Resource("kubeflow.org", "v1", "tfjobs", "TFJob"),
    Resource("kubeflow.org", "v1", "pytorchjobs", "PyTorchJob"),
    Resource("kubeflow.org", "v1", "xgboostjobs", "XGBoostJob"),
    Resource("kubeflow.org", "v1", "mpijobs", "MPIJob"),
)
"""Kubeflow Training Operator v1.9 (with its own MPIJob, kubeflow.org/v1)."""
MPI_OPERATOR = (Resource("kubeflow.org", "v2beta1", "mpijobs", "MPIJob"),)
"""mpi-operator v0.8: its CRD replaces mpijobs.kubeflow.org, serving v2beta1 only."""
TRAINER = (Resource("trainer.kubeflow.org", "v1alpha1", "trainjobs", "TrainJob"), Resource("jobset.x-k8s.io", "v1alpha2", "jobsets", "JobSet"))
"""Kubeflow Trainer v2 and the JobSet controller it runs on."""

DISCOVERY_PATH = re.compile(r"^/apis/(?P<group>[^/]+)/(?P<version>[^/]+)/?$|^/api/(?P<core>v1)/?$")
GROUP_PATH = re.compile(r"^/apis/(?P<group>[^/]+)/(?P<version>[^/]+)/namespaces/(?P<ns>[^/]+)/(?P<plural>[^/]+)(?:/(?P<name>[^/]+)(?:/(?P<sub>[^/]+))?)?$")
CORE_PATH = re.compile(r"^/api/(?P<version>v1)/namespaces/(?P<ns>[^/]+)/(?P<plural>[^/]+)(?:/(?P<name>[^/]+)(?:/(?P<sub>[^/]+))?)?$")

# --- Kubernetes' name and label rules (k8s.io/apimachinery/pkg/util/validation) ---------------

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


def dns1123_subdomain_errors(value: str) -> list[str]:
    if len(value) > 253:
        return ["must be no more than 253 characters"]
    return [] if _DNS1123_SUBDOMAIN.match(value) else ["a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'"]


def dns1035_label_errors(value: str) -> list[str]:
    if len(value) > 63:
        return ["must be no more than 63 characters"]
    return [] if _DNS1035_LABEL.match(value) else ["a DNS-1035 label must start with an alphabetic character and consist of lower case alphanumeric characters or '-'"]


def qualified_name_errors(key: str) -> list[str]:
    """A label or annotation key: ``[prefix/]name``, prefix a DNS-1123 subdomain."""
    prefix, slash, name = key.rpartition("/")
    errors = []
    if slash and (not prefix or dns1123_subdomain_errors(prefix)):
        errors.append(f"prefix part of {key!r} must be a DNS-1123 subdomain")
    if not name or len(name) > 63 or not _QUALIFIED_NAME.match(name):
        errors.append(f"name part of {key!r} must be 63 characters or less, alphanumeric, '-', '_' or '.', and begin and end with an alphanumeric character")
    return errors


def label_value_errors(value: Any) -> list[str]:
    if not isinstance(value, str):
        return ["must be a string"]
    if value and (len(value) > 63 or not _QUALIFIED_NAME.match(value)):
        return [f"label value {value!r} must be 63 characters or less, empty or alphanumeric, '-', '_' or '.', and begin and end with an alphanumeric character"]
    return []


# --- label selectors (k8s.io/apimachinery/pkg/labels) -----------------------------------------

_REQUIREMENT = re.compile(
    r"^\s*(?:(?P<not>!)\s*(?P<nkey>[^\s=!(),]+)"
    r"|(?P<key>[^\s=!(),]+)\s*(?:(?P<op>==|=|!=)\s*(?P<value>[^\s=!(),]*)|\s(?P<setop>in|notin)\s*\((?P<values>[^()]*)\))?)\s*$"
)


class BadSelector(ValueError):
    """A label selector the API server would not parse (400)."""


def parse_selector(text: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """(key, operator, values) for each requirement: operators ``=``, ``!=``, ``in``, ``notin``,
    ``exists``, ``!``. BadSelector for what the API server refuses."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    if current or parts:
        parts.append(current)
    out = []
    for part in parts:
        match = _REQUIREMENT.match(part)
        if not match:
            raise BadSelector(f"unable to parse requirement: {part!r}")
        if match["not"]:
            key, op, values = match["nkey"], "!", ()
        elif match["op"]:
            key, op, values = match["key"], "!=" if match["op"] == "!=" else "=", (match["value"],)
        elif match["setop"]:
            key, op = match["key"], match["setop"]
            values = tuple(v.strip() for v in match["values"].split(","))
        else:
            key, op, values = match["key"], "exists", ()
        errors = qualified_name_errors(key) + [e for v in values for e in label_value_errors(v)]
        if errors:
            raise BadSelector(f"unable to parse requirement: {'; '.join(errors)}")
        out.append((key, op, values))
    return out


def selector_matches(requirements: list[tuple[str, str, tuple[str, ...]]], labels: dict[str, str]) -> bool:
    for key, op, values in requirements:
        present, value = key in labels, labels.get(key)
        if op in ("=", "in"):
            ok = present and value in values
        elif op in ("!=", "notin"):
            ok = value not in values
        else:
            ok = present if op == "exists" else not present
        if not ok:
            return False
    return True


# --- schemas -------------------------------------------------------------------------------------


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


def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """{(apiVersion, kind): strict openAPIV3Schema} for the CRDs in tests/data/schemas (ObjectMeta
    is left to the API server's own checks)."""
    out = {}
    for path in sorted(SCHEMAS.glob("*.yaml")):
        crd = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # the C parser: these are large
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = _strict(version["schema"]["openAPIV3Schema"])
            schema["properties"]["metadata"] = {"type": "object"}
            out[(f"{group}/{version['name']}", kind)] = schema
    return out


CRDS = crd_schemas()


def schema_errors(obj: dict[str, Any], crds: dict[tuple[str, str], dict[str, Any]] | None = None) -> list[str]:
    """What the API server would refuse in the object's body (its schema; not ObjectMeta).
    ``crds``: schemas in place of :data:`CRDS`' for some kinds (an older operator's)."""
    key = (str(obj.get("apiVersion")), str(obj.get("kind")))
    schemas = {**CRDS, **(crds or {})}
    if key in schemas:
        validator = jsonschema.Draft7Validator(schemas[key])
        return [f"{'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}" for e in validator.iter_errors(obj)]
    import kubernetes_validate

    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [str(exc)]
    except kubernetes_validate.SchemaNotFoundError:
        return []  # JobSet: no schema here; only the fake's controllers create them
    return []


def validate(obj: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError / kubernetes_validate.ValidationError for a body its
    schema refuses (what test_manifest_schemas checks every rendered trial against)."""
    key = (str(obj.get("apiVersion")), str(obj.get("kind")))
    if key in CRDS:
        jsonschema.validate(obj, CRDS[key], cls=jsonschema.Draft7Validator)
        return
    import kubernetes_validate

    kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def pruned(value: Any, schema: Any) -> Any:
    """``value`` as the API server keeps it under a CRD's structural schema (a strict one, as
    :func:`crd_schemas` gives): every field the schema does not list is dropped, silently, as
    structural pruning does when a create asks no ``fieldValidation`` (Kubernetes' default,
    Warn), where properties are listed and unknown fields are not preserved."""
    if not isinstance(schema, dict) or schema.get("x-kubernetes-preserve-unknown-fields"):
        return value
    if isinstance(value, dict):
        properties, extra = schema.get("properties"), schema.get("additionalProperties")
        if properties is None:
            return {k: pruned(v, extra) for k, v in value.items()} if isinstance(extra, dict) else value
        return {k: pruned(v, properties[k]) for k, v in value.items() if k in properties or extra not in (False, None)}
    if isinstance(value, list):
        return [pruned(v, schema.get("items")) for v in value]
    return value


def without_field(schema: dict[str, Any], parent: str, field_name: str) -> dict[str, Any]:
    """A copy of a CRD schema with ``field_name`` taken out of the items of every list field
    named ``parent``: the schema of an operator built against an older Kubernetes API (Training
    Operator v1.7's, from k8s.io/api v0.27, has no ``initContainers[].restartPolicy``)."""
    out = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            item = (node.get("properties") or {}).get(parent, {}).get("items")
            if isinstance(item, dict):
                (item.get("properties") or {}).pop(field_name, None)
            for sub in node.values():
                walk(sub)
        elif isinstance(node, list):
            for sub in node:
                walk(sub)

    walk(out)
    return out


def _job_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """kubernetes-validate's batch/v1 Job schema and its definitions (strict, KUBERNETES_VERSION)."""
    import kubernetes_validate

    folder = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / f"v{KUBERNETES_VERSION}-local-strict"
    return json.loads((folder / "job-batch-v1.json").read_text()), json.loads((folder / "_definitions.json").read_text())["$defs"]


Step = tuple[str, str]  # ("field", name), ("item", list field), ("key", map field)


def schema_places(api_version: str, kind: str, names: frozenset[str] | set[str]) -> list[tuple[Step, ...]]:
    """Every place in the kind's schema where a field named one of ``names`` may sit: a path of
    steps from the object's root (fields, list items, map values). batch/v1 Job from
    kubernetes-validate's schema, the operators' kinds from their CRDs."""
    if (api_version, kind) in CRDS:
        root, definitions = CRDS[(api_version, kind)], {}
    else:
        assert (api_version, kind) == ("batch/v1", "Job"), (api_version, kind)
        root, definitions = _job_schema()
    places: list[tuple[Step, ...]] = []

    def walk(schema: Any, path: tuple[Step, ...], refs: tuple[str, ...]) -> None:
        if not isinstance(schema, dict):
            return
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[1]
            if name not in refs:
                walk(definitions[name], path, (*refs, name))
            return
        for combined in ("allOf", "anyOf", "oneOf"):
            for option in schema.get(combined) or []:
                walk(option, path, refs)
        for field_name, sub in (schema.get("properties") or {}).items():
            here = (*path, ("field", field_name))
            if field_name in names:
                places.append(here)
            walk(sub, here, refs)
        if isinstance(schema.get("items"), dict):
            walk(schema["items"], (*path[:-1], ("item", path[-1][1])) if path and path[-1][0] == "field" else path, refs)
        if isinstance(schema.get("additionalProperties"), dict):
            walk(schema["additionalProperties"], (*path[:-1], ("key", path[-1][1])) if path and path[-1][0] == "field" else path, refs)

    walk(root, (), ())
    return places


_NEW_ITEM = {"containers": {"name": "extra", "image": "extra:1"}, "initContainers": {"name": "extra", "image": "extra:1"},
             "ephemeralContainers": {"name": "extra", "image": "extra:1"}, "volumes": {"name": "extra"}}


def put_at(manifest: dict[str, Any], place: tuple[Step, ...], value: Any, key: str = "") -> str:
    """Set ``value`` at a schema place in the manifest, through what is there (the first item of
    a list; the map value under ``key``, by default the first) or what a user would add; the
    dotted path it went to."""
    node: Any = manifest
    dotted = []
    for index, (step, name) in enumerate(place):
        last = index == len(place) - 1
        if step == "field":
            dotted.append(name)
            if last:
                node[name] = value
            else:
                node = node.setdefault(name, {})
        elif step == "item":
            items = node.setdefault(name, [])
            if not items:
                items.append(copy.deepcopy(_NEW_ITEM.get(name, {"name": "extra"})))
            dotted.append(f"{name}[0]")
            node = items[0]
        else:
            entries = node.setdefault(name, {})
            chosen = key or next(iter(entries), "Worker")
            dotted.append(f"{name}.{chosen}")
            node = entries.setdefault(chosen, {})
    return ".".join(dotted)


# --- the simulated trials -------------------------------------------------------------------------


@dataclass
class Script:
    """How a simulated trial goes: its log lines (seconds after start, text) and its end.

    ``log`` is printed by the rank-0 pod's training container (``container``: by default the
    first container of its template; ``node`` for a TrainJob); every other pod prints
    ``worker_log`` and every other container a line naming itself."""

    outcome: str = "Succeeded"  # or "Failed"
    run_seconds: float = 0.2
    log: list[tuple[float, str]] = field(default_factory=list)
    reason: str = ""
    container: str = ""
    worker_log: list[tuple[float, str]] = field(default_factory=lambda: [(0.0, "worker: nothing to report")])
    partial: tuple[int, ...] = ()
    """Indices of ``log`` lines the runtime wrote before their newline came (a CRI log entry
    tagged P: CRI-O writes what the program flushed, containerd a 16 KiB piece): the next line
    goes on the same line, which the kubelet serves with the first piece's time; the last line
    partial: the program ended without its newline."""
    restarts: tuple[float, ...] = ()
    """Seconds after the start at which the rank-0 pod's printer fails and the kubelet starts it
    again in the same pod (restartPolicy OnFailure): its ``restartCount`` goes up, the ``log``
    lines from then on are the new container's log file, and ``previous=true`` reads the one
    before. Simpler than a kubelet: no back-off between the two."""
    retries: tuple[float, ...] = ()
    """Seconds after the start at which a batch Job's rank-0 pod fails and the Job controller
    makes a new one (``backoffLimit``): the old pod is ``Failed``, the new one created a second
    or more later, printing the ``log`` lines from then on. Simpler than the controller: no
    back-off between the two."""
    remade: tuple[float, ...] = ()
    """Seconds after the start at which the rank-0 pod of a kind the fake plays as the Training
    Operator fails and the operator deletes it and makes it again under the same name
    (``restartPolicy: ExitCode`` with a retryable exit code, or an evicted pod under
    ``OnFailure``: training-operator v1.9 pkg/controller.v1/common/pod.go, ReconcilePods): a new
    uid, ``restartCount`` 0, a later ``creationTimestamp``, printing the ``log`` lines from then
    on. Simpler than the operator: made again at once, so no poll finds the name without a pod."""
    written: dict[int, float] = field(default_factory=dict)
    """Indices of ``log`` lines the runtime wrote this many seconds after their time: containerd
    takes a line's time before the write that stdout and stderr share, so a line can follow one
    stamped later (``log`` is in the order written; each line is written at its time plus this,
    or just after the line before it, whichever is later). Only its time is out of order."""
    waiting: float = 0.0
    """Seconds after the start until which the trial's containers have not started (pulling
    the image: ``ContainerCreating``; ``math.inf``: never): the pods are ``Pending``, their
    ``containerStatuses`` waiting, and GET pods/log answers 400 as the kubelet does. The
    ``log`` lines' times are still after the trial's start (give them after this)."""
    clean_pods: bool = False
    """The trial's pods are deleted as it ends (the Training Operator's ``cleanPodPolicy: All``,
    or someone cleaning up): their logs are gone then."""
    pending: tuple[tuple[float, str, str], ...] = ()
    """While :attr:`waiting`: (seconds after the start, reason, message) the printer container's
    ``state.waiting`` shows from then on, as the kubelet writes it (``ErrImagePull``,
    ``ImagePullBackOff``, ``CreateContainerConfigError``); the reason ``Unschedulable``: the pod
    is not scheduled, its ``PodScheduled`` condition False with that reason and message and no
    ``containerStatuses`` (the scheduler's). Before the first, or with none: ``ContainerCreating``."""
    exit_reason: str = ""
    exit_code: int = 0
    """A Failed trial's rank-0 pod, as it ends: ``Failed``, its printer container's
    ``state.terminated`` this reason and exit code (``OOMKilled``, 137), as the kubelet writes
    it ("": the pod's status is left as it was)."""
    evicted: str = ""
    """A Failed trial's rank-0 pod was evicted as it ended: its ``status.reason`` ``Evicted`` and
    this ``status.message`` (the kubelet's: "The node was low on resource: memory. ...")."""


@dataclass
class Fault:
    """Answer ``times`` requests matching ``method`` and ``path`` (a regex) with ``status``, its
    Status saying ``message`` (and ``reason``), as the API server's would."""

    method: str
    path: str
    status: int
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "injected fault"
    reason: str = ""
    body_bytes: int | None = None
    """Answer as the server would (``status`` unused), but send only this many bytes of the
    body its Content-Length promises, then close the connection: the API server restarting
    while a log streams (the client's read of the body fails with urllib3's ProtocolError,
    IncompleteRead). Simpler than a server: the cut is at a byte count, not a moment."""


CUT_AFTER = "X-Fake-Cut-After"
"""The header (never sent) by which :meth:`FakeKube.handle` tells the HTTP handler to cut a body."""


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    at: float = 0.0
    status: int = 0

    @property
    def verb(self) -> str:
        """The RBAC verb of the call."""
        if self.method == "GET" and DISCOVERY_PATH.match(self.path):
            return "get"
        if self.method != "GET":
            return {"POST": "create", "DELETE": "delete", "PUT": "update", "PATCH": "patch"}[self.method]
        if self.query.get("watch", [""])[0] in ("true", "1"):
            return "watch"
        match = _match(self.path)
        return "get" if match and match["name"] else "list"

    @property
    def resource(self) -> str:
        """The RBAC resource: ``plural.group`` (``pods``, ``pods/log`` for the core group); for a
        discovery request, its non-resource URL (``/apis/argoproj.io/v1alpha1``)."""
        if DISCOVERY_PATH.match(self.path):
            return self.path.rstrip("/")
        match = _match(self.path)
        assert match, self.path
        group = match.groupdict().get("group") or ""
        plural = f"{match['plural']}/{match['sub']}" if match["sub"] else match["plural"]
        return f"{plural}.{group}" if group else plural


def _match(path: str) -> re.Match[str] | None:
    return GROUP_PATH.match(path) or CORE_PATH.match(path)


@dataclass
class _PodLog:
    trial: str  # the trial resource's uid
    printer: str  # the container that prints the script's log ("" for none)
    rank0: bool
    since: float = 0.0  # the part of the script's log this pod prints: seconds after the start
    until: float = float("inf")  # when it fails (Script.retries, Script.remade)
    made_from: tuple[dict[str, Any], dict[str, str], list[dict[str, Any]] | None] = ({}, {}, None)
    """(template, the controller's labels, init containers) it was made from: what the Training
    Operator makes it again from (Script.remade)."""
    stuck: str = ""
    """The native sidecar that lost its ``restartPolicy: Always`` (:attr:`FakeKube.sidecar_containers`
    off): a plain init container that never ends, so the pod stays in Init and its trial never ends."""

    def attempts(self, script: Script) -> list[float]:
        """When each of its printer's containers started (Script.restarts), seconds after the start."""
        return [self.since, *(at for at in script.restarts if self.since < at < self.until)] if self.rank0 else [self.since]


class _LogLines:
    """A container's script lines, as its log files hold them (in the order written), with what
    a read needs at hand: when each was written, their times (``written``: some later than the
    line's time, see :attr:`Script.written`), stamped text, and when each rotated file starts."""

    def __init__(self, start: float, lines: list[tuple[float, str]], max_bytes: int | None, every: float, phase: float, partial: Collection[int] = (),
                 written: dict[int, float] | None = None):
        self.ats: list[float] = []
        """When each line was written, seconds after the start (in order)."""
        for index, (at, _) in enumerate(lines):
            self.ats.append(max(at + (written or {}).get(index, 0.0), self.ats[-1] if self.ats else at))
        base = round(start * 1e9)  # apart, so lines a few nanoseconds apart keep them (a float's 1e9 s + at does not)
        self.stamps = [base + round(at * 1e9) for at, _ in lines]
        self.texts = [line + ("" if index in partial else "\n") for index, (_, line) in enumerate(lines)]
        # the kubelet puts the time at a line's start only: a partial entry's next goes on its line
        self.stamped = [f"{_rfc3339_nano_fixed(stamp)} {text}" if index == 0 or self.texts[index - 1].endswith("\n") else text
                        for index, (stamp, text) in enumerate(zip(self.stamps, self.texts, strict=True))]
        sizes = [0]
        for stamped in self.stamped:  # the CRI file's line: time, stream, tag, text
            sizes.append(sizes[-1] + len(stamped.encode()) + len("stdout F "))
        self.rotations: list[tuple[float, int]] = [(-1.0, 0)]
        """(seconds after the start, the first line of the file begun then)."""
        check = phase
        while max_bytes is not None and self.ats and check <= self.ats[-1]:
            written = bisect.bisect_right(self.ats, check)
            if sizes[written] - sizes[self.rotations[-1][1]] > max_bytes:
                self.rotations.append((check, written))
            check += every

    def file_start(self, elapsed: float) -> int:
        """The first line of the current file ``elapsed`` seconds after the start."""
        return self.rotations[bisect.bisect_right(self.rotations, (elapsed, len(self.ats) + 1)) - 1][1]


GO_TRUE = ("1", "t", "T", "TRUE", "true", "True")
"""What Go's strconv.ParseBool reads as true (the API server's query parameters)."""


def _rfc3339_nano_fixed(nanoseconds: int) -> str:
    seconds, fraction = divmod(nanoseconds, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:09d}Z"


class FakeKube:
    def __init__(self, *operators: tuple[Resource, ...], namespace_sidecars: tuple[str, ...] = ("istio-proxy",)) -> None:
        self.served: dict[tuple[str, str], Resource] = {}
        self.install(*BUILT_IN)
        for operator in operators:
            self.install(*operator)
        self.objects: dict[tuple[str, str, str, str], dict[str, Any]] = {}  # (group, plural, namespace, name)
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.script: Callable[[dict[str, Any]], Script] = lambda manifest: Script(log=[(0.0, "loss=0.5")])
        self.scripts: dict[str, Script] = {}  # trial name -> its script
        self.started: dict[str, tuple[float, Script]] = {}  # trial uid -> when it started, its script
        self.pod_logs: dict[tuple[str, str], _PodLog] = {}
        self.sidecars = namespace_sidecars
        self.runtimes: dict[str, list[tuple[str, str, int | None]]] = {
            "torch-distributed": [("node", "node", None)],
            # with dataset and model initializers before the trainer, as Trainer's LLM runtimes have
            "torch-with-initializers": [("dataset-initializer", "dataset-initializer", 1), ("model-initializer", "model-initializer", 1), ("node", "node", None)],
        }
        """ClusterTrainingRuntimes: name -> replicated jobs (name, container, pods; None: numNodes)."""
        self.controllers: dict[str, Callable[[str, dict[str, Any]], None]] = {}
        """plural -> the controller of a kind the fake does not play, called with (namespace, the
        object) when one is created: a test's stand-in for Argo, Tekton or a user's operator."""
        self.clock: Callable[[], float] = time.monotonic
        """The cluster's seconds: when trials start and what their logs have printed by now (a
        test may give a clock of its own that its launcher's sleep moves on)."""
        self.epoch = time.time() - time.monotonic()
        """:attr:`clock` plus this is the nodes' time since 1970 (:meth:`wall`)."""
        self.log_max_bytes: int | None = None
        """The kubelet's ``containerLogMaxSize``: a container's log file is rotated once it holds
        more, and GET pods/log reads the current file only (None: never rotated)."""
        self.log_check_seconds = 10.0
        self.log_check_phase = 0.0
        """The kubelet looks at each container's log file every ``log_check_seconds``
        (containerLogMonitorInterval), here from ``log_check_phase`` seconds after the container
        started, and rotates it when it holds more than :attr:`log_max_bytes`."""
        self.log_bytes_served = 0
        """The bytes of every GET pods/log answer so far."""
        self._log_lines: dict[tuple[str, bool, str], _LogLines] = {}
        self.random = random.Random(20261123)  # the pods' name suffixes
        self.held: dict[str, tuple[Resource, str]] = {}
        """uid -> (resource, namespace) of the trials created or put suspended (``spec.suspend``,
        ``spec.runPolicy.suspend``): no pod until :meth:`resume`."""
        self.older_crds: dict[tuple[str, str], dict[str, Any]] = {}
        """(apiVersion, kind) -> the schema of an older operator's CRD for that kind (strict, as
        :func:`crd_schemas` gives, e.g. made with :func:`without_field`), in place of
        tests/data/schemas': a create's body is pruned to what it lists (:func:`pruned`), as the
        API server does without ``fieldValidation=Strict``, and checked against it."""
        self.sidecar_containers = True
        """Kubernetes' SidecarContainers feature (on by default from 1.29; 1.28 behind a gate):
        off, the API server drops ``restartPolicy`` from a Pod's, a Job's pod template's init
        containers, as an older one does (its dropDisabledFields), and from every pod a
        controller or an operator makes here, whatever its CRD keeps: such a native sidecar runs
        as a plain init container that never ends, its pod stays in Init and its trial never ends."""
        self.lock = threading.RLock()
        self.url = ""

    def install(self, *resources: Resource) -> None:
        """Serve these resources (a CRD per group and plural: a later version replaces it)."""
        for resource in resources:
            self.served[(resource.group, resource.plural)] = resource

    def uninstall(self, *resources: Resource) -> None:
        for resource in resources:
            if self.served.get((resource.group, resource.plural)) == resource:
                del self.served[(resource.group, resource.plural)]

    # --- what tests look at ----------------------------------------------------------------

    def api_client(self) -> client.ApiClient:
        configuration = client.Configuration()
        configuration.host = self.url
        return client.ApiClient(configuration)

    def stored(self, plural: str, group: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            self._collect_orphans()
            return [o for (g, p, _, _), o in sorted(self.objects.items()) if p == plural and (group is None or g == group)]

    def pods_of(self, name: str) -> list[dict[str, Any]]:
        """The pods the controllers made for the trial resource ``name`` (by their name prefix)."""
        return [p for p in self.stored("pods") if p["metadata"]["name"].startswith(name + "-")]

    def calls_to(self, method: str, plural: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and re.search(rf"/{plural}(/|$)", c.path)]

    def put(self, obj: dict[str, Any], namespace: str) -> dict[str, Any]:
        """Store an object as if someone else had created it (no checks, no controller)."""
        group, _, _ = str(obj["apiVersion"]).rpartition("/")
        (resource,) = [r for r in self.served.values() if r.group == group and r.kind == obj["kind"]]
        return self._store(resource, namespace, copy.deepcopy(obj))

    def run_pod(self, namespace: str, owner: dict[str, Any], name: str, template: dict[str, Any], labels: dict[str, str],
                log: tuple[str, ...] = (), printer: str = "") -> dict[str, Any]:
        """A pod as the controller of a kind the fake does not play makes it: from ``template``
        (metadata and spec), with ``labels``, controlled by ``owner``, with the namespace's
        sidecars; ``printer`` (by default the first container) prints ``log``, every other
        container a line naming itself."""
        with self.lock:
            key = f"{owner['metadata']['uid']}/{name}"
            script = Script(log=[(0.0, line) for line in log], container=printer)
            self.started[key] = (self.clock(), script)
            self._pod(namespace, name, template, labels, owner, key, script, rank0=True)
            return self.objects[("", "pods", namespace, name)]

    def resume(self, plural: str, namespace: str, name: str) -> None:
        """Admit a suspended trial, as Kueue does: its suspend field set to false; its controller
        then turns its ``Suspended`` condition False (``lastTransitionTime`` now, as it resets the
        resource's ``startTime``) and makes its pods, the trial's script starting then."""
        with self.lock:
            (key,) = [k for k in self.objects if (k[1], k[2], k[3]) == (plural, namespace, name)]
            obj = self.objects[key]
            resource, _ = self.held.pop(obj["metadata"]["uid"])
            _set_suspend(resource, obj, False)
            kind, where = obj["kind"], f"{namespace}/{name}"
            said = {"jobs": ("JobResumed", "Job resumed"), "trainjobs": ("Resumed", "TrainJob is resumed")}
            reason, message = said.get(plural, (f"{kind}Resumed", f"{kind} {where} is resumed."))
            self._condition(obj, "Suspended", "False", reason, message)
            self._start(resource, namespace, obj)

    def suspend(self, plural: str, namespace: str, name: str) -> None:
        """Suspend a running trial, as Kueue does to preempt it: its suspend field set to true;
        its controller deletes its pods and turns its ``Suspended`` condition True. Its script
        starts again from its beginning on :meth:`resume`."""
        with self.lock:
            (key,) = [k for k in self.objects if (k[1], k[2], k[3]) == (plural, namespace, name)]
            obj = self.objects[key]
            uid = obj["metadata"]["uid"]
            resource = self.served[(key[0], plural)]
            _set_suspend(resource, obj, True)
            self.started.pop(uid, None)
            for (pod_namespace, pod), info in list(self.pod_logs.items()):
                if info.trial == uid:
                    self._delete(("", "pods", pod_namespace, pod), "Background")
                    del self.pod_logs[(pod_namespace, pod)]
            self._log_lines = {k: v for k, v in self._log_lines.items() if k[0] != uid}  # its pods' logs go with them
            self._hold(resource, namespace, obj)

    def _hold(self, resource: Resource, namespace: str, obj: dict[str, Any]) -> None:
        """A suspended trial: its controller's ``Suspended=True`` condition, no pod."""
        kind, where = obj["kind"], f"{namespace}/{obj['metadata']['name']}"
        said = {"jobs": ("JobSuspended", "Job suspended"), "trainjobs": ("Suspended", "TrainJob is suspended")}
        reason, message = said.get(resource.plural, (f"{kind}Suspended", f"{kind} {where} is suspended."))
        self._condition(obj, "Suspended", "True", reason, message)
        self.held[obj["metadata"]["uid"]] = (resource, namespace)

    def _condition(self, obj: dict[str, Any], kind: str, status: str, reason: str, message: str) -> None:
        """Set the condition ``kind`` of ``obj``, its ``lastTransitionTime`` now (whole seconds)."""
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.wall()))
        conditions = [c for c in (obj.setdefault("status", {}).get("conditions") or []) if c.get("type") != kind]
        conditions.append({"type": kind, "status": status, "reason": reason, "message": message, "lastProbeTime": now, "lastTransitionTime": now})
        obj["status"]["conditions"] = conditions

    def set_status(self, plural: str, namespace: str, name: str, status: dict[str, Any]) -> None:
        """Set an object's ``.status``, as its controller would."""
        with self.lock:
            (obj,) = [o for (_, p, ns, n), o in self.objects.items() if (p, ns, n) == (plural, namespace, name)]
            obj["status"] = copy.deepcopy(status)

    def wall(self) -> float:
        """The nodes' time, seconds since 1970 (what a log's timestamps say)."""
        return self.epoch + self.clock()

    # --- storing ------------------------------------------------------------------------------

    def _store(self, resource: Resource, namespace: str, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj.setdefault("metadata", {})
        meta.setdefault("uid", str(uuid.UUID(int=self.random.getrandbits(128))))
        meta["namespace"] = namespace
        # pods keep a time of their own (a trial's pods are told apart by name, a retried pod's is later);
        # anything else gets the cluster's time, in whole seconds as the API server keeps it
        meta.setdefault("creationTimestamp", "2026-11-23T00:00:00Z" if resource.plural == "pods" else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.wall())))
        meta["resourceVersion"] = str(len(self.calls) + len(self.objects) + 1)
        obj.setdefault("apiVersion", resource.api_version)
        obj.setdefault("kind", resource.kind)
        self.objects[(resource.group, resource.plural, namespace, meta["name"])] = obj
        return obj

    def _uids(self) -> set[str]:
        return {o["metadata"]["uid"] for o in self.objects.values()}

    def _suffix(self) -> str:
        return "".join(self.random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))

    # --- the simulated controllers ---------------------------------------------------------------

    def _start(self, resource: Resource, namespace: str, obj: dict[str, Any]) -> None:
        if resource.plural in self.controllers:
            self.controllers[resource.plural](namespace, obj)
            return
        if resource.plural not in ("jobs", "tfjobs", "pytorchjobs", "xgboostjobs", "mpijobs", "trainjobs"):
            return
        uid, name = obj["metadata"]["uid"], obj["metadata"]["name"]
        if _suspended(resource, obj):  # its controller makes no pod until it is resumed
            self._hold(resource, namespace, obj)
            return
        script = self.script(obj)
        self.scripts[name], self.started[uid] = script, (self.clock(), script)
        if resource.plural == "jobs":
            self._job_pods(namespace, obj, uid, script, rank0=True)
        elif resource.plural == "trainjobs":
            self._trainjob(namespace, obj, uid, script)
        elif resource.plural == "mpijobs" and resource.version == "v2beta1":
            self._mpi_v2(namespace, obj, uid, script)
        else:
            self._training_operator(resource, namespace, obj, uid, script)

    def _pod(self, namespace: str, name: str, template: dict[str, Any], labels: dict[str, str], owner: dict[str, Any],
             trial_uid: str, script: Script, rank0: bool, init: list[dict[str, Any]] | None = None, since: float = 0.0,
             created: str | None = None) -> None:
        """A pod from a template, as a controller creates it, with the namespace's sidecars."""
        spec = copy.deepcopy(template.get("spec") or {})
        meta = template.get("metadata") or {}
        annotations = dict(meta.get("annotations") or {})
        containers = spec.setdefault("containers", [])
        if annotations.get("sidecar.istio.io/inject", "true") != "false":
            containers.extend({"name": sidecar, "image": f"{sidecar}:1"} for sidecar in self.sidecars)
        if init:
            spec["initContainers"] = [*init, *(spec.get("initContainers") or [])]
        stuck = ""
        if not self.sidecar_containers:  # an API server before 1.29 drops it from every pod, whatever made it
            for container in spec.get("initContainers") or []:
                if isinstance(container, dict) and container.pop("restartPolicy", None) == "Always":
                    stuck = stuck or str(container.get("name") or "")
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "labels": {**(meta.get("labels") or {}), **labels},
                "annotations": annotations,
                "ownerReferences": [{"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
                                     "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}],
            },
            "spec": spec,
            "status": {"phase": "Running"},
        }
        if created:
            pod["metadata"]["creationTimestamp"] = created
        self._store(BUILT_IN[1], namespace, pod)
        first = (template.get("spec") or {}).get("containers") or [{}]
        printer = script.container or str(first[0].get("name") or "")
        fails = script.retries if owner.get("kind") == "Job" else script.remade
        until = min((at for at in fails if at > since), default=float("inf")) if rank0 else float("inf")
        self.pod_logs[(namespace, name)] = _PodLog(trial_uid, printer, rank0, since, until, (template, labels, init), stuck)

    def _owned(self, obj: dict[str, Any], resource: Resource, namespace: str, name: str, spec: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
        """A child object a controller creates, controlled by ``obj``."""
        child = {
            "apiVersion": resource.api_version, "kind": resource.kind,
            "metadata": {"name": name, "labels": labels, "ownerReferences": [
                {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"], "uid": obj["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]},
            "spec": spec,
        }
        return self._store(resource, namespace, child)

    def _job_pods(self, namespace: str, job: dict[str, Any], trial_uid: str, script: Script, rank0: bool) -> None:
        """The Job controller: ``parallelism`` pods (1 by default), with the Job's pod labels."""
        name, spec = job["metadata"]["name"], job.get("spec") or {}
        indexed = spec.get("completionMode") == "Indexed"
        for index in range(int(spec.get("parallelism", 1))):
            labels = {"batch.kubernetes.io/controller-uid": job["metadata"]["uid"], "batch.kubernetes.io/job-name": name,
                      "controller-uid": job["metadata"]["uid"], "job-name": name}
            pod_name = f"{name}-{self._suffix()}"
            if indexed:
                labels["batch.kubernetes.io/job-completion-index"] = str(index)
                pod_name = f"{name}-{index}-{self._suffix()}"
            self._pod(namespace, pod_name, spec.get("template") or {}, labels, job, trial_uid, script, rank0 and index == 0)

    def _training_operator(self, resource: Resource, namespace: str, obj: dict[str, Any], trial_uid: str, script: Script) -> None:
        """Training Operator v1.9: a pod per replica, ``<job>-<type>-<index>``; its MPIJob names
        them ``<job>-launcher`` / ``<job>-worker-<i>`` and adds a kubectl-delivery init container."""
        name = obj["metadata"]["name"]
        field_name = {"tfjobs": "tfReplicaSpecs", "pytorchjobs": "pytorchReplicaSpecs", "xgboostjobs": "xgbReplicaSpecs", "mpijobs": "mpiReplicaSpecs"}[resource.plural]
        replicas: dict[str, Any] = (obj.get("spec") or {}).get(field_name) or {}
        chief = any(r in replicas for r in ("Chief", "Master"))
        for replica_type, replica_spec in replicas.items():
            for index in range(int(replica_spec.get("replicas", 1))):
                if resource.plural in ("tfjobs", "pytorchjobs"):  # each kind's IsMasterRole: else worker 0
                    master = replica_type in ("Chief", "Master") if chief else (replica_type == "Worker" and index == 0)
                else:
                    master = replica_type == ("Launcher" if resource.plural == "mpijobs" else "Master")
                labels = {"training.kubeflow.org/operator-name": f"{resource.kind.lower()}-controller", "training.kubeflow.org/job-name": name,
                          "training.kubeflow.org/replica-type": replica_type.lower(), "training.kubeflow.org/replica-index": str(index)}
                if master:
                    labels["training.kubeflow.org/job-role"] = "master"
                init = None
                if resource.plural == "mpijobs":
                    pod_name = f"{name}-launcher" if replica_type == "Launcher" else f"{name}-worker-{index}"
                    if replica_type == "Launcher":
                        init = [{"name": "kubectl-delivery", "image": "mpioperator/kubectl-delivery:latest"}]
                        del labels["training.kubeflow.org/replica-index"]
                else:
                    pod_name = f"{name}-{replica_type.lower()}-{index}"
                self._pod(namespace, pod_name, replica_spec.get("template") or {}, labels, obj, trial_uid, script, master, init)

    def _mpi_v2(self, namespace: str, obj: dict[str, Any], trial_uid: str, script: Script) -> None:
        """mpi-operator v2: the launcher runs as a Job ``<job>-launcher``; workers are pods."""
        name = obj["metadata"]["name"]
        replicas: dict[str, Any] = (obj.get("spec") or {}).get("mpiReplicaSpecs") or {}
        base = {"training.kubeflow.org/operator-name": "mpi-operator", "training.kubeflow.org/job-name": name}
        for index in range(int((replicas.get("Worker") or {}).get("replicas", 0))):
            labels = {**base, "training.kubeflow.org/job-role": "worker", "training.kubeflow.org/replica-index": str(index)}
            self._pod(namespace, f"{name}-worker-{index}", replicas["Worker"].get("template") or {}, labels, obj, trial_uid, script, False)
        template = copy.deepcopy((replicas.get("Launcher") or {}).get("template") or {})
        template.setdefault("metadata", {}).setdefault("labels", {}).update({**base, "training.kubeflow.org/job-role": "launcher"})
        job = self._owned(obj, BUILT_IN[2], namespace, f"{name}-launcher", {"template": template}, {"app": name})
        self._job_pods(namespace, job, trial_uid, script, rank0=True)

    def _trainjob(self, namespace: str, obj: dict[str, Any], trial_uid: str, script: Script) -> None:
        """Trainer v2: a JobSet named as the TrainJob; a Job per replicated job of the runtime,
        ``<trainjob>-<replicated job>-0``, Indexed, its pods ``<job>-<index>-<suffix>``."""
        name, spec = obj["metadata"]["name"], obj.get("spec") or {}
        trainer = spec.get("trainer") or {}
        jobset = self._owned(obj, TRAINER[1], namespace, name, {}, {})
        runtime = self.runtimes[(spec.get("runtimeRef") or {}).get("name", "")]
        for replicated, container, count in runtime:
            pods = int(trainer.get("numNodes", 1)) if count is None else count
            main = {"name": container, "image": "runtime:1"}
            if replicated == "node":
                main.update({k: trainer[k] for k in ("image", "command", "args", "env") if k in trainer})
            labels = {"jobset.sigs.k8s.io/jobset-name": name, "jobset.sigs.k8s.io/replicatedjob-name": replicated,
                      "jobset.sigs.k8s.io/replicatedjob-replicas": "1", "jobset.sigs.k8s.io/job-index": "0",
                      "jobset.sigs.k8s.io/job-key": hashlib.sha256(f"{namespace}/{name}-{replicated}-0".encode()).hexdigest()}
            template = {"metadata": {"labels": labels}, "spec": {"containers": [main]}}
            job = self._owned(jobset, BUILT_IN[2], namespace, f"{name}-{replicated}-0",
                              {"completionMode": "Indexed", "completions": pods, "parallelism": pods, "template": template}, dict(labels))
            self._job_pods(namespace, job, trial_uid, Script(**{**script.__dict__, "container": container}), rank0=replicated == "node")

    def _refresh(self, resource: Resource, obj: dict[str, Any]) -> None:
        """Give a finished simulated trial its terminal condition (and delete its pods, under
        ``Script.clean_pods``)."""
        conditions = (obj.get("status") or {}).get("conditions") or []
        if obj["metadata"]["uid"] not in self.started or [c for c in conditions if c.get("type") != "Suspended"]:
            return
        started, script = self.started[obj["metadata"]["uid"]]
        if self.clock() - started < script.run_seconds:
            return
        if any(info.trial == obj["metadata"]["uid"] and info.stuck for info in self.pod_logs.values()):  # a pod of it stays in Init
            return
        if script.outcome == "Failed" and (script.exit_reason or script.evicted):
            for (namespace, name), info in self.pod_logs.items():
                pod = self.objects.get(("", "pods", namespace, name))
                if info.trial == obj["metadata"]["uid"] and info.rank0 and pod is not None:
                    pod["status"] = {"phase": "Failed", **({"reason": "Evicted", "message": script.evicted} if script.evicted else {})}
                    if script.exit_reason:
                        image = next((str(c.get("image") or "") for c in pod["spec"]["containers"] if c.get("name") == info.printer), "")
                        pod["status"]["containerStatuses"] = [{"name": info.printer, "image": image, "imageID": "", "restartCount": 0, "ready": False, "started": False,
                                                               "state": {"terminated": {"reason": script.exit_reason, "exitCode": script.exit_code}}}]
        if script.clean_pods:
            for namespace, pod in [key for key, info in self.pod_logs.items() if info.trial == obj["metadata"]["uid"]]:
                self._delete(("", "pods", namespace, pod), "Background")
        kubeflow = resource.group == "kubeflow.org"
        kind_type = ("Succeeded" if kubeflow else "Complete") if script.outcome == "Succeeded" else "Failed"
        reason, message = script.reason or kind_type, f"simulated {script.outcome.lower()}"
        if script.outcome == "Succeeded" and not script.reason:  # as the controllers word it
            kind, where = obj["kind"], f'{obj["metadata"]["namespace"]}/{obj["metadata"]["name"]}'
            if kubeflow:  # the training-operator's
                reason, message = f"{kind}Succeeded", f"{kind} {where} successfully completed."
            elif kind == "Job":  # Kubernetes 1.31's Job controller
                reason, message = "CompletionsReached", "Reached expected number of succeeded pods"
        obj["status"] = {"conditions": [
            *conditions,  # a resumed trial's Suspended=False, as its controller leaves it
            {"type": "Created", "status": "True"},
            {"type": kind_type, "status": "True", "reason": reason, "message": message},
        ]}

    def _tick(self) -> None:
        """What the kubelet and the Job controller did by now to the scripted pods: the printer's
        ``restartCount`` (Script.restarts), a failed attempt's pod replaced (Script.retries)."""
        for (namespace, name), info in list(self.pod_logs.items()):
            pod = self.objects.get(("", "pods", namespace, name))
            if pod is None or info.trial not in self.started:
                continue
            started, script = self.started[info.trial]
            elapsed = self.clock() - started
            if info.stuck:  # the kubelet runs it as a plain init container, which never ends
                pod["status"] = {"phase": "Pending", "initContainerStatuses": [
                    {"name": info.stuck, "image": "", "imageID": "", "restartCount": 0, "ready": False, "started": True, "state": {"running": {}}}],
                    "containerStatuses": [
                    {"name": c["name"], "image": str(c.get("image") or ""), "imageID": "", "restartCount": 0, "ready": False, "started": False,
                     "state": {"waiting": {"reason": "PodInitializing"}}} for c in pod["spec"]["containers"]]}
                continue
            if self._waiting(namespace, name):
                reason, message = next(((r, m) for at, r, m in reversed(script.pending) if at <= elapsed), ("ContainerCreating", ""))
                if reason == "Unschedulable":  # the scheduler's word: no node yet, so no container statuses
                    pod["status"] = {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": reason, "message": message}]}
                    continue
                printer = {"reason": reason, **({"message": message} if message else {})}
                pod["status"] = {"phase": "Pending", "containerStatuses": [
                    {"name": c["name"], "image": str(c.get("image") or ""), "imageID": "", "restartCount": 0, "ready": False, "started": False,
                     "state": {"waiting": printer if c["name"] == info.printer else {"reason": "ContainerCreating"}}} for c in pod["spec"]["containers"]]}
                continue
            if pod["status"].get("phase") == "Pending":
                pod["status"] = {"phase": "Running"}
            if len(info.attempts(script)) > 1:
                restarts = sum(1 for at in info.attempts(script)[1:] if at <= elapsed)
                printer_image = next((str(c.get("image") or "") for c in pod["spec"]["containers"] if c.get("name") == info.printer), "")
                statuses = [s for s in pod["status"].get("containerStatuses") or [] if s.get("name") != info.printer]
                pod["status"]["containerStatuses"] = [*statuses, {"name": info.printer, "image": printer_image, "imageID": "", "restartCount": restarts, "ready": True, "started": True, "state": {"running": {}}}]
            if elapsed >= info.until and pod["status"].get("phase") != "Failed":
                pod["status"]["phase"] = "Failed"
                (owner,) = pod["metadata"]["ownerReferences"]
                # created later, in whole seconds as the API server keeps them
                later = calendar.timegm(time.strptime(pod["metadata"]["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")) + max(1, math.ceil(info.until - info.since))
                created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(later))
                if owner["kind"] != "Job":  # the Training Operator: deleted, and made again under its name
                    (controller,) = [o for o in self.objects.values() if o["metadata"]["uid"] == owner["uid"]]
                    template, labels, init = info.made_from
                    self._delete(("", "pods", namespace, name), "Background")
                    self._pod(namespace, name, template, labels, controller, info.trial, script, True, init, since=info.until, created=created)
                    continue
                job = self.objects[("batch", "jobs", namespace, owner["name"])]
                labels = {k: v for k, v in pod["metadata"]["labels"].items() if k not in ((job["spec"].get("template") or {}).get("metadata") or {}).get("labels", {})}
                self._pod(namespace, f"{owner['name']}-{self._suffix()}", job["spec"].get("template") or {}, labels, job, info.trial, script, True,
                          since=info.until, created=created)

    def _waiting(self, namespace: str, name: str) -> bool:
        """Whether the pod's containers have not started yet (:attr:`Script.waiting`)."""
        info = self.pod_logs.get((namespace, name))
        if info is None or info.trial not in self.started:
            return False
        started, script = self.started[info.trial]
        return bool(info.stuck) or self.clock() - started < script.waiting

    def _log(self, namespace: str, pod: dict[str, Any], container: str, query: dict[str, list[str]]) -> str:
        """A container's log as the kubelet serves it (pkg/kubelet/kuberuntime/logs/logs.go,
        ReadLogs): the lines printed by now, of the current log file only once
        :attr:`log_max_bytes` rotated it; ``sinceSeconds`` leaves out each line (each piece of
        a partial one) stamped before the node's time less that many seconds, one by one, as
        the kubelet does: a line stamped out of order (:attr:`Script.written`) is left out or
        served by its own time; ``timestamps`` starts each line with its time (the
        kubelet's RFC3339NanoFixed: nine digits, UTC) and a space; ``limitBytes`` cuts the
        answer; a restarted container's (Script.restarts) is its own file, ``previous`` the one
        before (the kubelet keeps one). Simpler than a kubelet: a line is split in parts only as
        the script says (:attr:`Script.partial`), not at the runtime's 16 KiB."""
        info = self.pod_logs.get((namespace, pod["metadata"]["name"]))
        previous = query.get("previous", [""])[0] in GO_TRUE
        missing = LookupError(f'previous terminated container "{container}" in pod "{pod["metadata"]["name"]}" not found')
        if info is None or container != info.printer:
            if previous:
                raise missing
            return "" if info is None else f"{pod['metadata']['name']}/{container}: not the training container\n"
        started, script = self.started[info.trial]
        elapsed = self.clock() - started
        attempts = info.attempts(script)
        attempt = bisect.bisect_right(attempts, min(elapsed, info.until)) - 1 - previous
        if attempt < 0:
            raise missing
        key = (info.trial, info.rank0, container, info.since, attempt)
        if key not in self._log_lines:
            ends = [*attempts[1:], info.until]
            script_lines = script.log if info.rank0 else script.worker_log
            chosen = [index for index, (at, _) in enumerate(script_lines) if attempts[attempt] <= at < ends[attempt]]
            written = {n: script.written[i] for n, i in enumerate(chosen) if i in script.written} if info.rank0 else {}
            self._log_lines[key] = _LogLines(self.epoch + started, [script_lines[i] for i in chosen], self.log_max_bytes,
                                             self.log_check_seconds, self.log_check_phase, {n for n, i in enumerate(chosen) if i in script.partial}, written)
        lines = self._log_lines[key]
        printed = bisect.bisect_right(lines.ats, elapsed)
        first = min(lines.file_start(elapsed), printed)
        since = query.get("sinceSeconds", [""])[0]
        cut = round((self.wall() - int(since)) * 1e9) if since else 0
        stamped = query.get("timestamps", [""])[0] in GO_TRUE
        text = "".join((lines.stamped if stamped else lines.texts)[n] for n in range(first, printed) if lines.stamps[n] >= cut)
        limit = query.get("limitBytes", [""])[0]
        return text.encode()[: int(limit)].decode("utf-8", errors="ignore") if limit else text

    # --- the garbage collector ---------------------------------------------------------------------

    def _delete(self, key: tuple[str, str, str, str], policy: str) -> None:
        obj = self.objects.pop(key, None)
        if obj is None:
            return
        uid = obj["metadata"]["uid"]
        for other_key, other in list(self.objects.items()):
            refs = other["metadata"].get("ownerReferences") or []
            if not any(r.get("uid") == uid for r in refs):
                continue
            kept = [r for r in refs if r.get("uid") != uid]
            if kept or policy == "Orphan":
                other["metadata"]["ownerReferences"] = kept
                if not kept:
                    other["metadata"].pop("ownerReferences")
            else:
                self._delete(other_key, "Background")

    def _collect_orphans(self) -> None:
        """Objects whose owners are all gone (an owner reference to no object) are collected."""
        while True:
            uids = self._uids()
            gone = [k for k, o in self.objects.items() if (o["metadata"].get("ownerReferences") or []) and not any(r.get("uid") in uids for r in o["metadata"]["ownerReferences"])]
            if not gone:
                return
            for key in gone:
                self._delete(key, "Background")

    # --- checks on what is sent ---------------------------------------------------------------------

    def _invalid(self, resource: Resource, namespace: str, body: dict[str, Any]) -> tuple[int, str] | None:
        """(status, message) the API server (or an operator's webhook) would refuse the body with."""
        if body.get("apiVersion") != resource.api_version or body.get("kind") != resource.kind:
            return 400, f"the API version in the data ({body.get('apiVersion')}) and kind ({body.get('kind')}) do not match the URL's ({resource.api_version}, {resource.kind})"
        meta = body.get("metadata") or {}
        if meta.get("namespace") not in (None, namespace):
            return 400, "the namespace of the provided object does not match the namespace sent on the request"
        errors: list[str] = []
        name = meta.get("name")
        if not name:
            errors.append("metadata.name: Required value: name or generateName is required")
        else:
            errors += [f"metadata.name: Invalid value: {name!r}: {e}" for e in dns1123_subdomain_errors(str(name))]
            if resource.plural == "jobs":
                errors += [f"metadata.name: Invalid value: {name!r}: {e}" for e in label_value_errors(name)]  # it becomes the job-name label
            if resource.group == "kubeflow.org":  # the Training Operator's and mpi-operator's webhooks
                errors += [f"metadata.name: Invalid value: {name!r}: should match: {e}" for e in dns1035_label_errors(str(name))]
        errors += _meta_errors(meta, "metadata")
        for path, template in _pod_templates(body):
            errors += _meta_errors(template.get("metadata") or {}, f"{path}.metadata")
        if resource.group in ("", "batch"):  # a Pod's validation, which a CRD's schema does not do
            specs = [("spec", body.get("spec") or {})] if resource.plural == "pods" else [(f"{p}.spec", t.get("spec") or {}) for p, t in _pod_templates(body)]
            for path, spec in specs:
                errors += toleration_errors(spec.get("tolerations") or [], f"{path}.tolerations")
        errors += schema_errors(body, self.older_crds)
        errors += self._webhook_errors(resource, body)
        return (422, f"{resource.kind}.{resource.group or 'core'} {name!r} is invalid: " + "; ".join(errors)) if errors else None

    def _as_kept(self, resource: Resource, body: dict[str, Any]) -> dict[str, Any]:
        """The body as the API server keeps it: pruned by an older CRD's schema
        (:attr:`older_crds`), its init containers' ``restartPolicy`` dropped without the
        SidecarContainers feature (:attr:`sidecar_containers`)."""
        older = self.older_crds.get((resource.api_version, resource.kind))
        if older is not None:
            body = pruned(body, older)
        if not self.sidecar_containers and resource.group in ("", "batch"):
            body = copy.deepcopy(body)
            specs = [body.get("spec") or {}] if resource.plural == "pods" else [t.get("spec") or {} for _, t in _pod_templates(body)]
            for spec in specs:
                for container in spec.get("initContainers") or []:
                    if isinstance(container, dict):
                        container.pop("restartPolicy", None)
        return body

    def _webhook_errors(self, resource: Resource, body: dict[str, Any]) -> list[str]:
        """The Training Operator v1.9's validating webhooks (pkg/webhooks/<kind>/*_webhook.go: a
        default-named container in every replica; PyTorchJob's and XGBoostJob's replica types and
        a Master count of 1; an XGBoostJob's Master present; a TFJob's one Chief or Master) and
        Trainer's (a runtime that exists)."""
        rules = {"tfjobs": ("tfReplicaSpecs", "tensorflow", None), "pytorchjobs": ("pytorchReplicaSpecs", "pytorch", ("Master", "Worker")),
                 "xgboostjobs": ("xgbReplicaSpecs", "xgboost", ("Master", "Worker"))}
        spec = body.get("spec") or {}
        if resource.group == "kubeflow.org" and resource.version == "v1" and resource.plural in rules:
            field_name, container, types = rules[resource.plural]
            replicas = spec.get(field_name) or {}
            errors = []
            for replica, replica_spec in replicas.items():
                where = f"spec.{field_name}[{replica}]"
                if types is not None and replica not in types:
                    errors.append(f"{where}: Unsupported value: {replica!r}: supported values: {', '.join(repr(t) for t in types)}")
                if not any(c.get("name") == container for c in ((replica_spec.get("template") or {}).get("spec") or {}).get("containers") or []):
                    errors.append(f"{where}.template.spec.containers: Required value: must have at least one container with name {container}")
                count = replica_spec.get("replicas")
                if replica == "Master" and types is not None and (count is None or (isinstance(count, int) and count != 1)):  # not defaulted yet
                    errors.append(f"{where}.replicas: Forbidden: must be 1")
                elif replica == "Worker" and resource.plural == "pytorchjobs" and isinstance(count, int) and count < 1:
                    errors.append(f"{where}.replicas: Forbidden: must be at least 1")
            if resource.plural == "xgboostjobs" and "Master" not in replicas:
                errors.append(f"spec.{field_name}[Master]: Required value: must be present")
            if resource.plural == "tfjobs" and len({"Chief", "Master"} & set(replicas)) > 1:
                errors.append(f"spec.{field_name}: Forbidden: must not have more than 1 Chief or Master role")
            return errors
        if resource.plural == "trainjobs" and (spec.get("runtimeRef") or {}).get("name") not in self.runtimes:
            return [f"spec.runtimeRef: Not found: {(spec.get('runtimeRef') or {}).get('name')!r}"]
        return []

    # --- HTTP ------------------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        parsed = urlparse(raw_path)
        path, query = parsed.path, parse_qs(parsed.query, keep_blank_values=True)
        with self.lock:
            call = Call(method, path, query, body, at=time.monotonic())
            self.calls.append(call)
            cut = next((f for f in self.faults if f.body_bytes is not None and f.times > 0 and f.method == method and re.search(f.path, path)), None)
            if cut is not None:
                cut.times -= 1
            status, payload, headers = self._answer(method, path, query, body)
            call.status = status
            return status, payload, {**headers, CUT_AFTER: str(cut.body_bytes)} if cut is not None else headers

    def _answer(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any, dict[str, str]]:
        for fault in self.faults:
            if fault.body_bytes is None and fault.times > 0 and fault.method == method and re.search(fault.path, path):
                fault.times -= 1
                return fault.status, _status(fault.status, fault.message, fault.reason), dict(fault.headers)
        self._collect_orphans()
        self._tick()
        discovery = DISCOVERY_PATH.match(path)
        if discovery and method == "GET":
            return self._discovery(discovery["group"] or "", discovery["version"] or discovery["core"])
        match = _match(path)
        if not match:
            return 404, "404 page not found", {"Content-Type": "text/plain"}
        group, version = match.groupdict().get("group") or "", match["version"]
        resource = self.served.get((group, match["plural"]))
        if resource is None or resource.version != version:
            if any((r.group, r.version) == (group, version) for r in self.served.values()):
                return 404, _status(404, "the server could not find the requested resource", "NotFound"), {}
            return 404, "404 page not found", {"Content-Type": "text/plain"}
        namespace, name, sub = match["ns"], match["name"], match["sub"]
        key = (group, resource.plural, namespace, name or "")
        if sub is not None:
            if (resource.plural, sub, method) != ("pods", "log", "GET"):
                return 404, _status(404, "the server could not find the requested resource", "NotFound"), {}
            return self._read_log(namespace, name, query)
        if method == "POST" and not name:
            if not isinstance(body, dict):
                return 400, _status(400, "the body of the request was in an unknown format", "BadRequest"), {}
            body = self._as_kept(resource, body)
            refused = self._invalid(resource, namespace, body)
            if refused:
                return refused[0], _status(refused[0], refused[1], "Invalid" if refused[0] == 422 else "BadRequest"), {}
            key = (group, resource.plural, namespace, body["metadata"]["name"])
            if key in self.objects:
                return 409, _status(409, f'{resource.plural}.{group} "{key[3]}" already exists', "AlreadyExists"), {}
            obj = self._store(resource, namespace, json.loads(json.dumps(body)))
            self._start(resource, namespace, obj)
            return 201, obj, {}
        if method == "GET" and name:
            obj = self.objects.get(key)
            if obj is None:
                return 404, _status(404, f'{resource.plural}.{group} "{name}" not found', "NotFound"), {}
            self._refresh(resource, obj)
            return 200, obj, {}
        if method == "GET":
            try:
                requirements = parse_selector(query.get("labelSelector", [""])[0])
            except BadSelector as exc:
                return 400, _status(400, str(exc), "BadRequest"), {}
            items = [o for (g, p, ns, _), o in sorted(self.objects.items())
                     if (g, p, ns) == (group, resource.plural, namespace) and selector_matches(requirements, o["metadata"].get("labels") or {})]
            for item in items:
                self._refresh(resource, item)
            return 200, {"apiVersion": resource.api_version, "kind": resource.kind + "List", "metadata": {"resourceVersion": "1"}, "items": items}, {}
        if method == "DELETE" and name:
            options = body if isinstance(body, dict) else {}
            policy = query.get("propagationPolicy", [options.get("propagationPolicy") or ""])[0]
            orphan = query.get("orphanDependents", [str(options.get("orphanDependents", "")).lower()])[0]
            if policy and orphan:
                return 422, _status(422, "DeleteOptions: propagationPolicy and orphanDependents may not both be set", "Invalid"), {}
            if policy not in ("", "Orphan", "Background", "Foreground"):
                return 422, _status(422, f"DeleteOptions.propagationPolicy: Unsupported value: {policy!r}", "Invalid"), {}
            if not policy:
                policy = {"true": "Orphan", "false": "Background"}.get(orphan) or ("Orphan" if (group, resource.plural) == ("batch", "jobs") else "Background")
            if key not in self.objects:
                return 404, _status(404, f'{resource.plural}.{group} "{name}" not found', "NotFound"), {}
            self._delete(key, policy)
            return 200, _status(200, "deleted", "Success"), {}
        return 405, _status(405, "method not allowed", "MethodNotAllowed"), {}

    def _discovery(self, group: str, version: str) -> tuple[int, Any, dict[str, str]]:
        """GET /apis/<group>/<version> (/api/v1): the resources served there, each CRD's with its
        status subresource, as the API server lists them; 404 for a group/version not served."""
        served = sorted((r for r in self.served.values() if (r.group, r.version) == (group, version)), key=lambda r: r.plural)
        if not served:
            return 404, "404 page not found", {"Content-Type": "text/plain"}
        verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
        resources: list[dict[str, Any]] = []
        for r in served:
            resources.append({"name": r.plural, "singularName": r.kind.lower(), "namespaced": True, "kind": r.kind, "verbs": verbs})
            if group:
                resources.append({"name": f"{r.plural}/status", "singularName": "", "namespaced": True, "kind": r.kind, "verbs": ["get", "patch", "update"]})
        group_version = f"{group}/{version}" if group else version
        return 200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}, {}

    def _read_log(self, namespace: str, name: str, query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        """GET pods/log: as the API server picks the container (pkg/registry/core/pod)."""
        pod = self.objects.get(("", "pods", namespace, name))
        if pod is None:
            return 404, _status(404, f'pods "{name}" not found', "NotFound"), {}
        containers = [c["name"] for c in pod["spec"].get("containers") or []]
        init = [c["name"] for c in pod["spec"].get("initContainers") or []]
        container = query.get("container", [""])[0]
        if not container:
            if len(containers) != 1:
                message = f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
                if init:
                    message += f" or one of the init containers: [{' '.join(init)}]"
                return 400, _status(400, message, "BadRequest"), {}
            container = containers[0]
        elif container not in containers + init:
            return 400, _status(400, f"container {container} is not valid for pod {name}", "BadRequest"), {}
        for number in ("sinceSeconds", "limitBytes"):
            value = query.get(number, [""])[0]
            if value and (not value.isdigit() or int(value) < 1):
                return 422, _status(422, f"PodLogOptions \"\" is invalid: {number}: Invalid value: {value}: must be greater than 0", "Invalid"), {}
        if self._waiting(namespace, name):  # the kubelet's validateContainerLogStatus
            return 400, _status(400, f'container "{container}" in pod "{name}" is waiting to start: ContainerCreating', "BadRequest"), {}
        try:
            text = self._log(namespace, pod, container, query)
        except LookupError as exc:
            return 400, _status(400, str(exc), "BadRequest"), {}
        self.log_bytes_served += len(text.encode())
        return 200, text, {"Content-Type": "text/plain"}


def _suspended(resource: Resource, obj: dict[str, Any]) -> bool:
    """Whether the resource's ``suspend`` is true: in ``spec`` of a Job or TrainJob, in
    ``spec.runPolicy`` of the Training Operator's kinds and mpi-operator's."""
    spec = obj.get("spec") or {}
    holder = (spec.get("runPolicy") or {}) if resource.group == "kubeflow.org" else spec
    return holder.get("suspend") is True


def _set_suspend(resource: Resource, obj: dict[str, Any], value: bool) -> None:
    spec = obj.setdefault("spec", {})
    (spec.setdefault("runPolicy", {}) if resource.group == "kubeflow.org" else spec)["suspend"] = value


def _meta_errors(meta: dict[str, Any], path: str) -> list[str]:
    errors = []
    for key, value in (meta.get("labels") or {}).items():
        errors += [f"{path}.labels: Invalid value: {key!r}: {e}" for e in qualified_name_errors(key) + label_value_errors(value)]
    for key in meta.get("annotations") or {}:
        errors += [f"{path}.annotations: Invalid value: {key!r}: {e}" for e in qualified_name_errors(key)]
    refs = meta.get("ownerReferences") or []
    for index, ref in enumerate(refs):
        errors += [f"{path}.ownerReferences[{index}].{k}: Required value" for k in ("apiVersion", "kind", "name", "uid") if not ref.get(k)]
    if sum(1 for ref in refs if ref.get("controller")) > 1:
        errors.append(f"{path}.ownerReferences: Invalid value: only one reference can have Controller set to true")
    return errors


def toleration_errors(tolerations: list[Any], path: str) -> list[str]:
    """What Kubernetes' ValidateTolerations (pkg/apis/core/validation) refuses in a pod's
    tolerations, in its words."""
    errors = []
    for index, toleration in enumerate(tolerations):
        at = f"{path}[{index}]"
        key, operator = toleration.get("key") or "", toleration.get("operator") or ""
        value, effect = toleration.get("value") or "", toleration.get("effect") or ""
        if key:
            errors += [f"{at}.key: Invalid value: {key!r}: {e}" for e in qualified_name_errors(key)]
        if not key and operator != "Exists":
            errors.append(f'{at}.operator: Invalid value: {operator!r}: operator must be Exists when `key` is empty, which means "match all values and all keys"')
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            errors.append(f"{at}.effect: Invalid value: {effect!r}: effect must be 'NoExecute' when `tolerationSeconds` is set")
        if operator in ("Equal", ""):
            errors += [f"{at}.operator: Invalid value: {value!r}: {e}" for e in label_value_errors(value)]
        elif operator == "Exists":
            if value:
                errors.append(f"{at}.operator: Invalid value: {toleration!r}: value must be empty when `operator` is 'Exists'")
        else:
            errors.append(f'{at}.operator: Unsupported value: {operator!r}: supported values: "Equal", "Exists"')
        if effect and effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            errors.append(f'{at}.effect: Unsupported value: {effect!r}: supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"')
    return errors


def _pod_templates(body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    spec = body.get("spec") or {}
    if isinstance(spec.get("template"), dict):
        yield "spec.template", spec["template"]
    for field_name, replicas in spec.items():
        if field_name.endswith("ReplicaSpecs") and isinstance(replicas, dict):
            for replica, replica_spec in replicas.items():
                if isinstance(replica_spec, dict) and isinstance(replica_spec.get("template"), dict):
                    yield f"spec.{field_name}.{replica}.template", replica_spec["template"]


def _status(code: int, message: str, reason: str = "") -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success" if code < 300 else "Failure", "message": message, "reason": reason, "code": code}


def serve(*operators: tuple[Resource, ...]) -> tuple[FakeKube, ThreadingHTTPServer]:
    """A fake API server on loopback serving the built-in kinds and the given operators'."""
    fake = FakeKube(*operators)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw
            status, payload, headers = fake.handle(self.command, self.path, body)
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            cut = headers.pop(CUT_AFTER, None)
            self.send_response(status)
            self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data if cut is None else data[: int(cut)])
            if cut is not None:  # the server went away in the middle of the body
                self.close_connection = True

        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()  # shutdown() waits up to one poll
    return fake, server


def write_kubeconfig(path: Path, url: str, token: str = "fake-token") -> Path:
    """A kubeconfig at ``path`` whose one context reaches the fake API server at ``url`` with a
    bearer ``token``, as a user's or a pod's own config would (the launcher and the CLI read it)."""
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": url}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "me"}}],
        "users": [{"name": "me", "user": {"token": token}}],
    }))
    return path


@contextlib.contextmanager
def reached_through_kubeconfig(folder: Path, monkeypatch: Any, token: str = "fake-token") -> Iterator[FakeKube]:
    """A fake API server (built-in kinds) that the kubernetes package in this process finds
    through a kubeconfig in ``folder``, as a user's or a pod's own config, with no in-cluster
    config to prefer; the package's default configuration put back and the server stopped after."""
    from kubernetes.client import Configuration
    from kubernetes.config import kube_config

    kube, server = serve()
    kubeconfig = write_kubeconfig(folder / "kubeconfig", kube.url, token)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(kubeconfig))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    saved = Configuration.get_default_copy()
    try:
        yield kube
    finally:
        Configuration.set_default(saved)
        server.shutdown()
        server.server_close()
