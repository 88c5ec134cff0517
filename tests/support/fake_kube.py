"""An in-memory Kubernetes API server, small and faithful enough for the launcher's calls.

It speaks the real REST paths and JSON the official ``kubernetes`` client sends and parses
(create, get, list with label selectors, delete with owner-reference garbage collection, pod
logs), keeps every request, and can answer with injected errors. No Kubernetes API server can
run here, so this stands in for one; the launcher is tested through the real client and HTTP,
never by patching the client.

A small built-in "controller" plays the operators: when a trial resource is created it gets a
primary pod (with the labels the real operators put on theirs) whose log and outcome come from
``FakeKube.script`` (a function of the manifest), and after ``run_seconds`` the resource's
status gets the kind's terminal condition.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from kubernetes import client

GROUP_PATH = re.compile(r"^/apis/(?P<group>[^/]+)/(?P<version>[^/]+)/namespaces/(?P<ns>[^/]+)/(?P<plural>[^/]+)(?:/(?P<name>[^/]+))?$")
CORE_PATH = re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/(?P<plural>configmaps|pods)(?:/(?P<name>[^/]+)(?:/(?P<sub>log))?)?$")
KUBEFLOW_KINDS = {"tfjobs": "TFJob", "pytorchjobs": "PyTorchJob", "xgboostjobs": "XGBoostJob", "mpijobs": "MPIJob"}
KINDS = {"jobs": "Job", "trainjobs": "TrainJob", "configmaps": "ConfigMap", "pods": "Pod", **KUBEFLOW_KINDS}


@dataclass
class Script:
    """How a simulated trial goes: its log lines (seconds after start, text) and its end."""

    outcome: str = "Succeeded"  # or "Failed"
    run_seconds: float = 0.2
    log: list[tuple[float, str]] = field(default_factory=list)
    reason: str = ""


@dataclass
class Fault:
    """Answer ``times`` requests matching ``method`` and ``path`` (a regex) with ``status``."""

    method: str
    path: str
    status: int
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any

    @property
    def verb(self) -> str:
        """The RBAC verb of the call."""
        if self.method != "GET":
            return {"POST": "create", "DELETE": "delete", "PUT": "update", "PATCH": "patch"}[self.method]
        return "get" if _name_of(self.path) else "list"

    @property
    def resource(self) -> str:
        """The RBAC resource: ``plural.group`` (``pods``, ``pods/log`` for the core group)."""
        match = GROUP_PATH.match(self.path)
        if match:
            return f"{match['plural']}.{match['group']}"
        match = CORE_PATH.match(self.path)
        assert match, self.path
        return f"{match['plural']}/{match['sub']}" if match["sub"] else match["plural"]


def _name_of(path: str) -> str | None:
    match = GROUP_PATH.match(path) or CORE_PATH.match(path)
    return match["name"] if match else None


class FakeKube:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}  # (collection path, namespace, name)
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.script: Callable[[dict[str, Any]], Script] = lambda manifest: Script(log=[(0.0, "loss=0.5")])
        self.started: dict[str, float] = {}
        self.scripts: dict[str, Script] = {}
        self.lock = threading.RLock()
        self.url = ""

    # --- what tests look at ----------------------------------------------------------------

    def api_client(self) -> client.ApiClient:
        configuration = client.Configuration()
        configuration.host = self.url
        return client.ApiClient(configuration)

    def stored(self, plural: str) -> list[dict[str, Any]]:
        return [o for (collection, _, _), o in self.objects.items() if collection.endswith("/" + plural)]

    def calls_to(self, method: str, plural: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and re.search(rf"/{plural}(/|$)", c.path)]

    def put(self, collection: str, namespace: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Store an object as if someone else had created it."""
        meta = obj.setdefault("metadata", {})
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("namespace", namespace)
        meta.setdefault("creationTimestamp", "2026-11-23T00:00:00Z")
        meta["resourceVersion"] = str(len(self.calls) + 1)
        self.objects[(collection, namespace, meta["name"])] = obj
        return obj

    # --- the simulated operators -------------------------------------------------------------

    def _start(self, collection: str, namespace: str, obj: dict[str, Any]) -> None:
        plural = collection.rsplit("/", 1)[1]
        if plural not in ("jobs", "trainjobs", *KUBEFLOW_KINDS):
            return
        name = obj["metadata"]["name"]
        script = self.script(obj)
        self.scripts[name], self.started[name] = script, time.monotonic()
        if plural == "jobs":
            labels, container = {"batch.kubernetes.io/job-name": name, "job-name": name}, _primary_name(obj)
        elif plural == "trainjobs":
            labels = {"jobset.sigs.k8s.io/jobset-name": name, "jobset.sigs.k8s.io/replicatedjob-name": "node", "batch.kubernetes.io/job-completion-index": "0"}
            container = "node"
        else:
            role = "launcher" if plural == "mpijobs" else "master"
            labels, container = {"training.kubeflow.org/job-name": name, "training.kubeflow.org/job-role": role}, _primary_name(obj)
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"{name}-primary-0", "labels": labels, "ownerReferences": [{"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": name, "uid": obj["metadata"]["uid"]}]},
            "spec": {"containers": [{"name": container, "image": "trial"}]},
        }
        self.put("/api/v1/pods", namespace, pod)

    def _refresh(self, collection: str, obj: dict[str, Any]) -> None:
        """Give a finished simulated trial its terminal condition."""
        name = obj["metadata"]["name"]
        script = self.scripts.get(name)
        if script is None or time.monotonic() - self.started[name] < script.run_seconds or obj.get("status", {}).get("conditions"):
            return
        plural = collection.rsplit("/", 1)[1]
        kind_type = ("Succeeded" if plural in KUBEFLOW_KINDS else "Complete") if script.outcome == "Succeeded" else "Failed"
        obj["status"] = {"conditions": [
            {"type": "Created", "status": "True"},
            {"type": kind_type, "status": "True", "reason": script.reason or kind_type, "message": f"simulated {script.outcome.lower()}"},
        ]}

    def _log(self, pod_name: str) -> str:
        name = pod_name.rsplit("-primary-", 1)[0]
        script = self.scripts.get(name)
        if script is None:
            return ""
        elapsed = time.monotonic() - self.started[name]
        return "".join(line + "\n" for at, line in script.log if at <= elapsed)

    # --- HTTP ------------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        parsed = urlparse(raw_path)
        path, query = parsed.path, parse_qs(parsed.query)
        with self.lock:
            self.calls.append(Call(method, path, query, body))
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and re.search(fault.path, path):
                    fault.times -= 1
                    return fault.status, _status(fault.status, "injected fault"), fault.headers
            match = GROUP_PATH.match(path) or CORE_PATH.match(path)
            if not match:
                return 404, _status(404, f"the fake has no {path}"), {}
            groups = match.groupdict()
            collection = f"/apis/{groups['group']}/{groups['version']}/{groups['plural']}" if "group" in groups else f"/api/v1/{groups['plural']}"
            namespace, name = groups["ns"], groups["name"]
            if groups.get("sub") == "log":
                if (collection, namespace, name) not in self.objects:
                    return 404, _status(404, f'pods "{name}" not found'), {}
                return 200, self._log(name), {"Content-Type": "text/plain"}
            if method == "POST":
                key = (collection, namespace, body["metadata"]["name"])
                if key in self.objects:
                    return 409, _status(409, f'{groups["plural"]} "{key[2]}" already exists', "AlreadyExists"), {}
                obj = self.put(collection, namespace, json.loads(json.dumps(body)))
                self._start(collection, namespace, obj)
                return 201, obj, {}
            if method == "GET" and name:
                obj = self.objects.get((collection, namespace, name))
                if obj is None:
                    return 404, _status(404, f'{groups["plural"]} "{name}" not found', "NotFound"), {}
                self._refresh(collection, obj)
                return 200, obj, {}
            if method == "GET":
                selector = _selector(query.get("labelSelector", [""])[0])
                items = [
                    o for (c, ns, _), o in sorted(self.objects.items())
                    if c == collection and ns == namespace and all((o["metadata"].get("labels") or {}).get(k) == v for k, v in selector.items())
                ]
                for item in items:
                    self._refresh(collection, item)
                return 200, {"apiVersion": "v1", "kind": KINDS.get(groups["plural"], "Object") + "List", "metadata": {"resourceVersion": "1"}, "items": items}, {}
            if method == "DELETE":
                obj = self.objects.pop((collection, namespace, name), None)
                if obj is None:
                    return 404, _status(404, f'{groups["plural"]} "{name}" not found', "NotFound"), {}
                self._collect_garbage(obj["metadata"]["uid"])
                return 200, _status(200, "deleted", "Success"), {}
            return 405, _status(405, "method not allowed"), {}

    def _collect_garbage(self, uid: str) -> None:
        """Delete every object owned by the deleted one, and theirs (background propagation)."""
        owned = [k for k, o in self.objects.items() if any(r.get("uid") == uid for r in o["metadata"].get("ownerReferences") or [])]
        for key in owned:
            obj = self.objects.pop(key, None)
            if obj is not None:
                self._collect_garbage(obj["metadata"]["uid"])


def _primary_name(obj: dict[str, Any]) -> str:
    from kfp_tune.core.template import find_containers

    names = [c.get("name") for c in find_containers(obj)]
    return names[0] if names else "main"


def _selector(text: str) -> dict[str, str]:
    out = {}
    for part in filter(None, text.split(",")):
        key, _, value = part.partition("=")
        out[key.strip()] = value.strip()
    return out


def _status(code: int, message: str, reason: str = "") -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success" if code < 300 else "Failure", "message": message, "reason": reason, "code": code}


def serve() -> tuple[FakeKube, ThreadingHTTPServer]:
    fake = FakeKube()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, payload, headers = fake.handle(self.command, self.path, body)
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server
