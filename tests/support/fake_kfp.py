"""A local HTTP server that answers the KFP API v2beta1 calls ``kfp.Client`` makes to submit a
run and schedule a recurring run (and to list recurring runs by name), and records every request. The closest faithful fake of a
KFP host we can run here: the real client, its real HTTP, a server that keeps what it is sent.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

API = "/apis/v2beta1"


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

    def posted(self, path: str) -> list[Any]:
        return [r.body for r in self.requests if r.method == "POST" and r.path == f"{API}/{path}"]

    def handle(self, request: Request) -> tuple[int, Any]:
        self.requests.append(request)
        path = request.path
        if path == f"{API}/healthz":
            return 200, {"multi_user": False}
        if self.fail_with:
            return self.fail_with, {"error": "refused by the fake", "code": 7}
        if path == f"{API}/experiments" and request.method == "GET":
            wanted = _filter_value(request.query, "display_name")
            found = [e for e in self.experiments.values() if wanted is None or e["display_name"] == wanted]
            return 200, ({"experiments": found, "total_size": len(found)} if found else {})
        if path == f"{API}/experiments" and request.method == "POST":
            body = dict(request.body, experiment_id=str(uuid.uuid4()), created_at="2026-11-23T00:00:00Z", storage_state="AVAILABLE")
            self.experiments[body["experiment_id"]] = body
            return 200, body
        if path.startswith(f"{API}/experiments/") and request.method == "GET":
            found = self.experiments.get(path.rsplit("/", 1)[1])
            return (200, found) if found else (404, {"error": "not found", "code": 5})
        if path == f"{API}/runs" and request.method == "POST":
            body = dict(request.body, run_id=str(uuid.uuid4()), state="PENDING", created_at="2026-11-23T00:00:00Z")
            self.runs[body["run_id"]] = body
            return 200, body
        if path == f"{API}/recurringruns" and request.method == "GET":  # as KFP: {} when none, else recurringRuns (its proto name)
            wanted, experiment = _filter_value(request.query, "display_name"), (request.query.get("experiment_id") or [None])[0]
            found = [
                r for r in self.recurring_runs.values()
                if (wanted is None or r["display_name"] == wanted) and (experiment is None or r["experiment_id"] == experiment)
            ]
            return 200, ({"recurringRuns": found, "total_size": len(found)} if found else {})
        if path == f"{API}/recurringruns" and request.method == "POST":
            body = dict(request.body, recurring_run_id=str(uuid.uuid4()), status="ENABLED", created_at="2026-11-23T00:00:00Z")
            self.recurring_runs[body["recurring_run_id"]] = body
            return 200, body
        return 404, {"error": f"the fake KFP API has no {request.method} {path}", "code": 5}


def _filter_value(query: dict[str, list[str]], key: str) -> str | None:
    """The string value of an EQUALS predicate on ``key`` in KFP's JSON ``filter`` query."""
    for raw in query.get("filter", []):
        for predicate in json.loads(raw).get("predicates", []):
            if predicate.get("key") == key:
                return predicate.get("string_value") or predicate.get("stringValue")
    return None


def serve() -> tuple[FakeKfp, ThreadingHTTPServer]:
    """Start the fake on a free loopback port; ``server.shutdown()`` stops it."""
    fake = FakeKfp()

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
