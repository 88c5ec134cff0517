"""A local HTTP server that answers the KFP API v2beta1 calls ``kfp.Client`` makes to submit a
run and schedule a recurring run (and to list recurring runs by name), and records every request. The closest faithful fake of a
KFP host we can run here: the real client, its real HTTP, a server that keeps what it is sent.

It refuses what the KFP API server refuses where submit and schedule meet it (checked against
kubeflow/pipelines 2.14.0-2.17.0's backend, apiserver/server and storage): a second experiment
of one name in one namespace (409, AlreadyExists), a cron robfig/cron v1.2.0's ``cron.Parse``
refuses and a ``max_concurrency`` outside 1-10 (400, InvalidArgument). Experiments and
recurring runs are kept per namespace: on multi-user KFP (``serve(multi_user=True)``) each
namespace has its own, and an empty namespace is refused where the API server refuses it
(listing or creating an experiment, listing recurring runs outside an experiment); single-user
KFP reads every namespace as none (``ResourceManager.ReplaceNamespace``), so there they all
share one. Nothing fires: no run of a recurring run is ever made.

An error is answered as KFP 2.x's grpc-gateway v2 answers it: ``{"code", "message",
"details"}``, the message the API server's chain of wrapped errors (``util.Wrap``: "List
experiments failed: Failed to authorize with API: Invalid input error: ..."), the details one
``google.rpc.Status`` with the innermost words; ``serve(legacy_errors=True)``: KFP 1.x's
``{"error", "code"}`` instead.
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
INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED = 3, 5, 6, 7
"""The gRPC codes the KFP API puts in an error's ``code`` (400, 404, 409, 403)."""
RPC_STATUS = "type.googleapis.com/google.rpc.Status"
"""The type of the one entry of an error's ``details`` (util.UserError.GRPCStatus)."""
INVALID_INPUT = "Invalid input error"
"""How util.NewInvalidInputError starts the message it wraps (its details have the words alone)."""
EMPTY_EXPERIMENT_NAMESPACE = "An experiment cannot have an empty namespace in multi-user mode"
"""experiment_server.go canAccessExperiment's words."""


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
    legacy_errors: bool = False  # answer errors as KFP 1.x did ({"error", "code"}), not as 2.x

    def posted(self, path: str) -> list[Any]:
        return [r.body for r in self.requests if r.method == "POST" and r.path == f"{API}/{path}"]

    def namespace_of(self, given: str | None) -> str:
        """The namespace the API server files a resource under: none on single-user KFP."""
        return (given or "") if self.multi_user else ""

    def refused(self, status: int, code: int, chain: tuple[str, ...], words: str) -> tuple[int, Any]:
        """An error answer: ``words`` (util.NewInvalidInputError's and the like: the details'
        message) under the wrapping messages of ``chain``, outermost first, each joined by ": "
        as pkg/errors.Wrap joins them; the innermost of ``chain`` is the error's own kind
        ("Invalid input error")."""
        message = ": ".join((*chain, words))
        if self.legacy_errors:
            return status, {"error": message, "code": code}
        return status, {"code": code, "message": message, "details": [{"@type": RPC_STATUS, "code": code, "message": words}]}

    def _empty_namespace(self, namespace: str) -> bool:
        """ResourceManager.IsEmptyNamespace on multi-user KFP."""
        return self.multi_user and namespace in ("", "-")

    def handle(self, request: Request) -> tuple[int, Any]:
        self.requests.append(request)
        path = request.path
        if path == f"{API}/healthz":
            return 200, {"multi_user": self.multi_user}
        if self.fail_with:
            return self.refused(self.fail_with, PERMISSION_DENIED, (), "refused by the fake")
        if path == f"{API}/experiments" and request.method == "GET":  # experiment_server.go listExperiments
            wanted = _filter_value(request.query, "display_name")
            namespace = self.namespace_of((request.query.get("namespace") or [None])[0])
            if self._empty_namespace(namespace):
                return self.refused(
                    400, INVALID_ARGUMENT, ("List experiments failed", "Failed to authorize with API", INVALID_INPUT), EMPTY_EXPERIMENT_NAMESPACE,
                )
            found = [
                e for e in self.experiments.values()
                if (wanted is None or e["display_name"] == wanted) and e.get("namespace", "") == namespace
            ]
            return 200, ({"experiments": found, "total_size": len(found)} if found else {})
        if path == f"{API}/experiments" and request.method == "POST":
            return self._create_experiment(request.body)
        if path.startswith(f"{API}/experiments/") and request.method == "GET":
            found = self.experiments.get(path.rsplit("/", 1)[1])
            return (200, found) if found else self.refused(404, NOT_FOUND, ("Failed to get experiment", "ResourceNotFoundError"), "not found")
        if path == f"{API}/runs" and request.method == "POST":
            body = dict(request.body, run_id=str(uuid.uuid4()), state="PENDING", created_at="2026-11-23T00:00:00Z")
            self.runs[body["run_id"]] = body
            return 200, body
        if path == f"{API}/recurringruns" and request.method == "GET":  # as KFP: {} when none, else recurringRuns (its proto name)
            wanted, experiment = _filter_value(request.query, "display_name"), (request.query.get("experiment_id") or [None])[0]
            given = request.query.get("namespace")
            namespace = self.namespace_of(given[0]) if given else None
            if experiment is None and self._empty_namespace(namespace or ""):  # job_server.go listJobs, canAccessJob
                return self.refused(400, INVALID_ARGUMENT, (
                    "Failed to list jobs",
                    "Failed to list recurring runs due to authorization error. Check if you have permission to access namespace ",
                    INVALID_INPUT,
                ), "a recurring run cannot have an empty namespace in multi-user mode")
            found = [
                r for r in self.recurring_runs.values()
                if (wanted is None or r["display_name"] == wanted) and (experiment is None or r["experiment_id"] == experiment)
                and (namespace is None or r.get("namespace", "") == namespace)
            ]
            return 200, ({"recurringRuns": found, "total_size": len(found)} if found else {})
        if path == f"{API}/recurringruns" and request.method == "POST":
            return self._create_recurring_run(request.body)
        return self.refused(404, NOT_FOUND, (), f"the fake KFP API has no {request.method} {path}")

    def _create_experiment(self, given: dict[str, Any]) -> tuple[int, Any]:
        """experiment_server.go ``createExperiment``, experiment_store.go's unique (name, namespace)."""
        namespace = self.namespace_of(given.get("namespace"))
        if self._empty_namespace(namespace):
            return self.refused(
                400, INVALID_ARGUMENT, ("Failed to create a experiment", "Failed to authorize the request", INVALID_INPUT), EMPTY_EXPERIMENT_NAMESPACE,
            )
        name = given.get("display_name")
        if any(e["display_name"] == name and e.get("namespace", "") == namespace for e in self.experiments.values()):
            return self.refused(
                409, ALREADY_EXISTS, ("Failed to create a experiment", "Already exist error"),
                f"Failed to create a new experiment. The name {name} already exists. Please specify a new name",
            )
        body = dict(given, namespace=namespace, experiment_id=str(uuid.uuid4()), created_at="2026-11-23T00:00:00Z", storage_state="AVAILABLE")
        self.experiments[body["experiment_id"]] = body
        return 200, body

    def _create_recurring_run(self, given: dict[str, Any]) -> tuple[int, Any]:
        """job_server.go ``CreateRecurringRun``, api_converter.go ``toModelJob``'s checks (max
        concurrency, then the cron); the recurring run is filed under its experiment's namespace."""
        converting = ("Failed to create a recurring run due to conversion error", INVALID_INPUT)
        try:
            concurrency = int(given.get("max_concurrency") or 0)
        except ValueError:  # grpc-gateway's own refusal of the JSON: not the API server's words
            return self.refused(400, INVALID_ARGUMENT, (), f"invalid value for max_concurrency: {given.get('max_concurrency')!r}")
        if not 1 <= concurrency <= 10:
            return self.refused(400, INVALID_ARGUMENT, converting, f"Max concurrency of a recurring run must be at least 1 and at most 10. Received {concurrency}")
        cron = ((given.get("trigger") or {}).get("cron_schedule") or {}).get("cron")
        if cron is not None and (problem := robfig_parse_problem(cron)):
            return self.refused(
                400, INVALID_ARGUMENT, converting, f"Schedule cron is not a supported format(https://godoc.org/github.com/robfig/cron). Error: {problem}",
            )
        experiment = self.experiments.get(given.get("experiment_id") or "")
        if experiment is None:
            return self.refused(404, NOT_FOUND, ("Failed to create a recurring run",), f"experiment {given.get('experiment_id')!r} not found")
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


def robfig_parse_problem(spec: str) -> str:
    """What robfig/cron v1.2.0's ``cron.Parse`` (the KFP API server's check) says of ``spec``
    ("" when it parses): a descriptor, ``@every`` a Go duration, or five or six fields (the day
    of week optional), each a list of ``*``, ``?``, ``N`` or ``A-B`` with an optional ``/step``.
    Written from parser.go on its own, not from kfp-tune's stricter check_cron."""
    if spec.startswith("@"):
        if spec in _DESCRIPTORS:
            return ""
        if spec.startswith("@every "):
            problem = go_duration_problem(spec[len("@every "):])
            return f"Failed to parse duration {spec}: {problem}" if problem else ""
        return f"Unrecognized descriptor: {spec}"
    fields = spec.split()
    if len(fields) not in (5, 6):
        return f"Expected 5 to 6 fields, found {len(fields)}: {spec}"
    for text, (low, high, names) in zip(fields, _BOUNDS, strict=False):  # five fields: no day of week (DowOptional)
        for expr in [e for e in text.split(",") if e]:  # getField's strings.FieldsFunc: no empty entry
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


def go_duration_problem(text: str) -> str:
    """What Go's ``time.ParseDuration`` says of ``text`` ("" when it parses): one or more
    numbers (a fraction allowed), each with a unit (ns, us, µs, μs, ms, s, m, h), a sign
    before them; "0" alone needs none."""
    rest = text[1:] if text[:1] in ("-", "+") else text
    if rest == "0":
        return ""
    if not rest:
        return f"time: invalid duration {_go_quote(text)}"
    while rest:
        number = re.match(r"\d*(\.\d*)?", rest)
        assert number is not None  # matches the empty text
        digits = number.group(0)
        if not any(c.isdigit() for c in digits):
            return f"time: invalid duration {_go_quote(text)}"
        rest = rest[len(digits):]
        unit = re.match(r"[^\d.]*", rest)
        assert unit is not None
        if not unit.group(0):
            return f"time: missing unit in duration {_go_quote(text)}"
        if unit.group(0) not in ("ns", "us", "µs", "μs", "ms", "s", "m", "h"):
            return f"time: unknown unit {_go_quote(unit.group(0))} in duration {_go_quote(text)}"
        rest = rest[len(unit.group(0)):]
    return ""


def _go_quote(text: str) -> str:
    """Go's quote in time's errors (a double-quoted string)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


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


def serve(multi_user: bool = False, legacy_errors: bool = False) -> tuple[FakeKfp, ThreadingHTTPServer]:
    """Start the fake on a free loopback port; ``server.shutdown()`` stops it. ``multi_user``:
    answer as multi-user KFP (experiments and recurring runs per namespace); ``legacy_errors``:
    errors in KFP 1.x's shape."""
    fake = FakeKfp(multi_user=multi_user, legacy_errors=legacy_errors)

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
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()  # shutdown() waits up to one poll (0.5 s by default)
    return fake, server
