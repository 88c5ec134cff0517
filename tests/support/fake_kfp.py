"""A local HTTP server that answers the KFP API v2beta1 calls ``kfp.Client`` makes to submit a
run and schedule a recurring run (and to list recurring runs by name), and records every request. The closest faithful fake of a
KFP host we can run here: the real client, its real HTTP, a server that keeps what it is sent.

It refuses what the KFP API server refuses where submit and schedule meet it (checked against
kubeflow/pipelines' backend, apiserver/server and storage): a second experiment of one name in
one namespace (409, AlreadyExists), a cron robfig/cron v1.2.0's ``cron.Parse`` refuses and a
``max_concurrency`` outside 1-10 (400, InvalidArgument). Experiments and recurring runs are
kept per namespace: on multi-user KFP (``serve(multi_user=True)``) each namespace has its own,
and an experiment with none is refused; single-user KFP reads every namespace as none
(``ResourceManager.ReplaceNamespace``), so there they all share one. Nothing fires: no run of a
recurring run is ever made.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

API = "/apis/v2beta1"
INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS = 3, 5, 6
"""The gRPC codes the KFP API puts in an error's ``code`` (400, 404, 409)."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]


@dataclass
class FakeKfp:
    requests: list[Request] = field(default_factory=list)
    experiments: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    recurring_runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    url: str = ""
    fail_with: int | None = None  # answer every API call (healthz aside) with this HTTP status
    multi_user: bool = False

    def posted(self, path: str) -> list[Any]:
        return [r.body for r in self.requests if r.method == "POST" and r.path == f"{API}/{path}"]

    def namespace_of(self, given: str | None) -> str:
        """The namespace the API server files a resource under: none on single-user KFP."""
        return (given or "") if self.multi_user else ""

    def handle(self, request: Request) -> tuple[int, Any]:
        self.requests.append(request)
        path = request.path
        if path == f"{API}/healthz":
            return 200, {"multi_user": self.multi_user}
        if self.fail_with:
            return self.fail_with, {"error": "refused by the fake", "code": 7}
        if path == f"{API}/experiments" and request.method == "GET":
            wanted = _filter_value(request.query, "display_name")
            namespace = self.namespace_of((request.query.get("namespace") or [None])[0])
            found = [
                e for e in self.experiments.values()
                if (wanted is None or e["display_name"] == wanted) and e.get("namespace", "") == namespace
            ]
            return 200, ({"experiments": found, "total_size": len(found)} if found else {})
        if path == f"{API}/experiments" and request.method == "POST":
            return self._create_experiment(request.body)
        if path.startswith(f"{API}/experiments/") and request.method == "GET":
            found = self.experiments.get(path.rsplit("/", 1)[1])
            return (200, found) if found else (404, {"error": "not found", "code": NOT_FOUND})
        if path == f"{API}/runs" and request.method == "POST":
            body = dict(request.body, run_id=str(uuid.uuid4()), state="PENDING", created_at="2026-11-23T00:00:00Z")
            self.runs[body["run_id"]] = body
            return 200, body
        if path == f"{API}/recurringruns" and request.method == "GET":  # as KFP: {} when none, else recurringRuns (its proto name)
            wanted, experiment = _filter_value(request.query, "display_name"), (request.query.get("experiment_id") or [None])[0]
            given = request.query.get("namespace")
            namespace = self.namespace_of(given[0]) if given else None
            found = [
                r for r in self.recurring_runs.values()
                if (wanted is None or r["display_name"] == wanted) and (experiment is None or r["experiment_id"] == experiment)
                and (namespace is None or r.get("namespace", "") == namespace)
            ]
            return 200, ({"recurringRuns": found, "total_size": len(found)} if found else {})
        if path == f"{API}/recurringruns" and request.method == "POST":
            return self._create_recurring_run(request.body)
        return 404, {"error": f"the fake KFP API has no {request.method} {path}", "code": NOT_FOUND}

    def _create_experiment(self, given: dict[str, Any]) -> tuple[int, Any]:
        """experiment_server.go ``createExperiment``, experiment_store.go's unique (name, namespace)."""
        namespace = self.namespace_of(given.get("namespace"))
        if self.multi_user and namespace in ("", "-"):
            return 400, {"error": "An experiment cannot have an empty namespace in multi-user mode", "code": INVALID_ARGUMENT}
        name = given.get("display_name")
        if any(e["display_name"] == name and e.get("namespace", "") == namespace for e in self.experiments.values()):
            return 409, {
                "error": f"Failed to create a new experiment. The name {name} already exists. Please specify a new name",
                "code": ALREADY_EXISTS,
            }
        body = dict(given, namespace=namespace, experiment_id=str(uuid.uuid4()), created_at="2026-11-23T00:00:00Z", storage_state="AVAILABLE")
        self.experiments[body["experiment_id"]] = body
        return 200, body

    def _create_recurring_run(self, given: dict[str, Any]) -> tuple[int, Any]:
        """recurring_run_server.go ``validateCreateRecurringRunRequest``; the recurring run is
        filed under its experiment's namespace."""
        try:
            concurrency = int(given.get("max_concurrency") or 0)
        except ValueError:
            return 400, {"error": f"invalid value for max_concurrency: {given.get('max_concurrency')!r}", "code": INVALID_ARGUMENT}
        if not 1 <= concurrency <= 10:
            return 400, {
                "error": f"The max concurrency of the recurring run is out of range. Support 1-10. Received {concurrency}.",
                "code": INVALID_ARGUMENT,
            }
        cron = ((given.get("trigger") or {}).get("cron_schedule") or {}).get("cron")
        if cron is not None and (problem := robfig_parse_problem(cron)):
            return 400, {
                "error": f"Schedule cron is not a supported format(https://godoc.org/github.com/robfig/cron). Error: {problem}",
                "code": INVALID_ARGUMENT,
            }
        experiment = self.experiments.get(given.get("experiment_id") or "")
        if experiment is None:
            return 404, {"error": f"experiment {given.get('experiment_id')!r} not found", "code": NOT_FOUND}
        body = dict(given, namespace=experiment.get("namespace", ""), recurring_run_id=str(uuid.uuid4()), status="ENABLED",
                    created_at="2026-11-23T00:00:00Z")
        self.recurring_runs[body["recurring_run_id"]] = body
        return 200, body


_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_BOUNDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}), (0, 59, {}), (0, 23, {}), (1, 31, {}),
    (1, 12, {m: i for i, m in enumerate(_MONTH_NAMES, start=1)}), (0, 6, {d: i for i, d in enumerate(_DAY_NAMES)}),
)
"""robfig/cron's fields, seconds first: their ranges and the names they take."""
_DESCRIPTORS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_DURATION = re.compile(r"[-+]?(?:0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)")


def robfig_parse_problem(spec: str) -> str:
    """What robfig/cron v1.2.0's ``cron.Parse`` (the KFP API server's check) says of ``spec``
    ("" when it parses): a descriptor, ``@every`` a Go duration, or five or six fields (the day
    of week optional), each a list of ``*``, ``?``, ``N`` or ``A-B`` with an optional ``/step``.
    Written from parser.go on its own, not from kfp-tune's stricter check_cron."""
    if spec.startswith("@"):
        if spec in _DESCRIPTORS:
            return ""
        if spec.startswith("@every ") and _DURATION.fullmatch(spec[len("@every "):]):
            return ""
        return f"Unrecognized descriptor: {spec}"
    fields = spec.split()
    if len(fields) not in (5, 6):
        return f"Expected 5 to 6 fields, found {len(fields)}: {spec}"
    for text, (low, high, names) in zip(fields, _BOUNDS, strict=False):  # five fields: no day of week (DowOptional)
        for expr in text.split(","):
            range_and_step = expr.split("/")
            low_and_high = range_and_step[0].split("-")
            if low_and_high[0] in ("*", "?"):
                start, end = low, high
            else:
                if len(low_and_high) > 2:
                    return f"Too many hyphens: {expr}"
                values = [_int_or_name(part, names) for part in low_and_high]
                first, last = values[0], values[-1]
                if first is None or last is None:
                    return f"Failed to parse int from {expr}"
                start, end = first, last
            if len(range_and_step) > 2:
                return f"Too many slashes: {expr}"
            if len(range_and_step) == 2:
                if not re.fullmatch(r"[+-]?\d+", range_and_step[1]):
                    return f"Failed to parse int from {range_and_step[1]}"
                if len(low_and_high) == 1:
                    end = high
                if int(range_and_step[1]) <= 0:
                    return f"Step of range should be a positive number: {expr}"
            if start < low:
                return f"Beginning of range ({start}) below minimum ({low}): {expr}"
            if end > high:
                return f"End of range ({end}) above maximum ({high}): {expr}"
            if start > end:
                return f"Beginning of range ({start}) beyond end of range ({end}): {expr}"
    return ""


def _int_or_name(text: str, names: dict[str, int]) -> int | None:
    """robfig/cron's parseIntOrName: a name of the field, else an integer (Go's Atoi)."""
    if text.lower() in names:
        return names[text.lower()]
    return int(text) if re.fullmatch(r"[+-]?\d+", text) else None


def _filter_value(query: dict[str, list[str]], key: str) -> str | None:
    """The string value of an EQUALS predicate on ``key`` in KFP's JSON ``filter`` query."""
    for raw in query.get("filter", []):
        for predicate in json.loads(raw).get("predicates", []):
            if predicate.get("key") == key:
                return predicate.get("string_value") or predicate.get("stringValue")
    return None


def serve(multi_user: bool = False) -> tuple[FakeKfp, ThreadingHTTPServer]:
    """Start the fake on a free loopback port; ``server.shutdown()`` stops it. ``multi_user``:
    answer as multi-user KFP (experiments and recurring runs per namespace)."""
    fake = FakeKfp(multi_user=multi_user)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            parsed = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            status, payload = fake.handle(Request(self.command, parsed.path, parse_qs(parsed.query), body, dict(self.headers)))
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server
