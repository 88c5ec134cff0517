"""A KFP API that refuses the token (401, 403: an auth proxy in front of it, such as the Kubeflow
gateway's, refusing a bad or expired token) or fails (500) on kfp.Client's first request, its
health check (QA "security", session 38, finding 1): said at once as what it is, on one line,
after that one request (kfp's own check asks five times 5 s apart and then says it timed out);
no library traceback, and none of what the proxy answered with (its session cookie, an error
page that repeats the token) in any output, from the CLI or the Python API."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import kfp_tune
from conftest import REPO
from kfp_tune.cli import main
from kfp_tune.core.errors import KfpTuneError

DIGITS = str(REPO / "images" / "sklearn-digits" / "experiment.yaml")
TOKEN = "kfptune-bearer-refused-5e1a"
COOKIE = "authservice_session=kfptune-cookie-93c4"
COMMANDS = {"submit": [], "schedule": ["--cron", "@daily"]}
REASONS = {401: "Unauthorized", 403: "Forbidden", 500: "Internal Server Error"}
LEAKS = (TOKEN, "kfptune-cookie", "Set-Cookie", "HTTP response", "Traceback", "ApiException", "timed out", "healthz info attempt")


class RefusingKfp:
    """A KFP API behind a proxy that answers every request with ``status``, a session cookie and
    a JSON body repeating the request's Authorization header, as some gateways' error pages do."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.paths: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.paths.append(self.path)
                body = json.dumps({"error": f"denied for token {self.headers.get('Authorization')}", "code": 16}).encode()
                self.send_response(owner.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Set-Cookie", f"{COOKIE}; Path=/")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture(params=sorted(REASONS))
def refusing_kfp(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RefusingKfp]:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no kfp context.json of this machine's (its namespace skips the check)
    import kfp

    monkeypatch.setattr(kfp.Client, "_LOCAL_KFP_CONTEXT", str(tmp_path / "home" / ".config" / "kfp" / "context.json"))
    fake = RefusingKfp(request.param)
    threading.Thread(target=fake.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()


def _said_as_what_it_is(message: str, fake: RefusingKfp) -> None:
    assert f"KFP API at {fake.url} answered {fake.status} {REASONS[fake.status]}" in message, message
    if fake.status == 401:
        assert "not signed in" in message and "--token-file" in message, message
    elif fake.status == 403:
        assert "refused" in message and "--token-file" in message and "namespace" not in message, message
    else:
        assert "--token-file" not in message and "not signed in" not in message, message
    for leak in LEAKS:
        assert leak not in message, (leak, message)
    assert fake.paths == ["/apis/v2beta1/healthz"], fake.paths  # one request: no retries, 5 s apart


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("token", [True, False], ids=["token-file", "no-token"])
def test_the_cli_says_the_refusal_at_once_on_one_line(refusing_kfp, capsys, tmp_path, command, token):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    argv = [command, DIGITS, "--host", refusing_kfp.url, *COMMANDS[command]] + (["--token-file", str(token_file)] if token else [])
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert err.startswith("error: ") and err.count("\n") == 1, err
    _said_as_what_it_is(err, refusing_kfp)
    for leak in LEAKS:
        assert leak not in out


def test_the_python_api_says_the_same_and_prints_nothing(refusing_kfp, capsys):
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    with pytest.raises(KfpTuneError) as info:
        kfp_tune.submit(DIGITS, host=refusing_kfp.url)
    _said_as_what_it_is(str(info.value), refusing_kfp)
    out, err = capsys.readouterr()
    for leak in (*LEAKS, "Failed to get healthz"):
        assert leak not in out + err, (leak, out + err)
    assert (root.handlers, root.level) == (handlers, level)  # the root logger as it was


def test_a_token_the_proxy_repeats_in_its_message_is_not_shown(refusing_kfp):
    """The client's own token, given with kfp.Client(existing_token=...): the server's words
    are kept (they may say why), the token in them is not."""
    from kfp_tune.pipelines.submit import kfp_api_errors, new_kfp_client

    with pytest.raises(KfpTuneError) as info, kfp_api_errors(refusing_kfp.url):
        new_kfp_client(refusing_kfp.url, None, existing_token=TOKEN, ssl_ca_cert=None)
    assert "denied for token" in str(info.value)
    _said_as_what_it_is(str(info.value), refusing_kfp)


GATEWAY_REASONS = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


@pytest.fixture
def no_wait_between_health_checks(monkeypatch: pytest.MonkeyPatch) -> int:
    """The health check's retries with no wait between them (the count is what is tested)."""
    from kfp_tune.pipelines import submit as submitting

    monkeypatch.setattr(submitting, "HEALTH_CHECK_WAIT_SECONDS", 0)
    return submitting.HEALTH_CHECK_TRIES


def test_a_gateway_answering_503_while_kfp_restarts_is_asked_again_and_the_submit_goes_on(fake_kfp_host, monkeypatch, no_wait_between_health_checks, caplog):
    """Review of b6d9930: the health check asked once, so a gateway's 502 / 503 / 504 while KFP
    restarts (which kfp's own check outlasted, asking five times 5 s apart) ended the submit at
    once. Those answers are asked again, with kfp's budget; the submit then goes on."""
    answered = fake_kfp_host.handle
    health_checks: list[int] = []

    def handle(request):  # the first two health checks meet the gateway, KFP still starting
        if request.path.endswith("/healthz"):
            health_checks.append(1)
            if len(health_checks) <= 2:
                return 503, {"error": "upstream connect error or disconnect/reset before headers", "code": 14}
        return answered(request)

    monkeypatch.setattr(fake_kfp_host, "handle", handle)
    with caplog.at_level("WARNING", logger="kfp_tune.pipelines.submit"):
        submitted = kfp_tune.submit(DIGITS, host=fake_kfp_host.url)
    assert len(health_checks) == 3 and submitted.id in fake_kfp_host.runs, (health_checks, fake_kfp_host.runs)
    said = [r.getMessage() for r in caplog.records if "asking again" in r.getMessage()]  # review D: the wait was silent
    assert len(said) == 2 and said[0].startswith("the KFP API answered 503 Service Unavailable") and "(2 of " in said[0], said


@pytest.mark.parametrize("status", sorted(GATEWAY_REASONS))
def test_a_gateway_that_keeps_answering_so_is_reported_after_the_retries_with_its_status(tmp_path, monkeypatch, capsys, status, no_wait_between_health_checks):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    import kfp

    monkeypatch.setattr(kfp.Client, "_LOCAL_KFP_CONTEXT", str(tmp_path / "home" / ".config" / "kfp" / "context.json"))
    fake = RefusingKfp(status)
    threading.Thread(target=fake.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        assert main(["submit", DIGITS, "--host", fake.url]) == 1
    finally:
        fake.server.shutdown()
        fake.server.server_close()
    err = capsys.readouterr().err
    assert err.startswith(f"error: KFP API at {fake.url} answered {status} {GATEWAY_REASONS[status]}") and err.count("\n") == 1, err
    assert f"asked {no_wait_between_health_checks} times" in err and "--token-file" not in err, err
    for leak in LEAKS:
        assert leak not in err, (leak, err)
    assert fake.paths == ["/apis/v2beta1/healthz"] * no_wait_between_health_checks, fake.paths
