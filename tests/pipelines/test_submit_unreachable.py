"""A KFP host that cannot be reached, wherever kfp-tune calls one (``submit``, ``schedule``, their
Python forms, ``tune(host=...)`` and its handle's ``wait``): one line naming the host and why
(refused, does not resolve, TLS, timed out), in the words ``cleanup`` uses for a Kubernetes API
server it cannot reach (``kfp_tune.core.errors.unreachable_reason``); no urllib3 text
(MaxRetryError, Errno), no traceback, nothing that may be a credential."""

from __future__ import annotations

import socket

import pytest
import urllib3.exceptions

import kfp_tune
from conftest import REPO
from fake_kfp import serve
from kfp_tune import search
from kfp_tune.cli import main
from kfp_tune.core.errors import KfpTuneError

DIGITS = str(REPO / "images" / "sklearn-digits" / "experiment.yaml")
REFUSED = "connection refused: nothing listens at that address and port, or the cluster is down"
COMMANDS = {"submit": [], "schedule": ["--cron", "@daily"]}


def quadratic(params):
    return float((params["x"] - 2) ** 2)


@pytest.fixture
def closed_port() -> str:
    """http://127.0.0.1:PORT where nothing listens: a port the system gave, then closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _one_clear_line(err: str, host: str, why: str) -> None:
    assert err == f"error: KFP API at {host} could not be reached ({why})\n", err
    for raw in ("MaxRetryError", "Errno", "Traceback", "HTTPConnection", "/apis/"):
        assert raw not in err


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_host_that_refuses_the_connection_is_named_with_why(closed_port, capsys, command):
    assert main([command, DIGITS, "--host", closed_port, *COMMANDS[command]]) == 1
    _one_clear_line(capsys.readouterr().err, closed_port, REFUSED)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_host_name_that_does_not_resolve_is_named_with_why(capsys, command):
    host = "http://kfp-tune-no-such-host.invalid:8080"  # .invalid never resolves (RFC 6761)
    assert main([command, DIGITS, "--host", host, *COMMANDS[command]]) == 1
    _one_clear_line(capsys.readouterr().err, host, "its host name does not resolve")


def test_https_to_a_host_that_does_not_speak_tls_is_named_with_why(fake_kfp_host, capsys, monkeypatch):
    """kfp trusts certifi's bundle unless given a CA file, not this machine's trust store: the
    message says which, and what to set for a private CA (tests/pipelines/test_submit_private_ca.py)."""
    for variable in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(variable, raising=False)
    host = fake_kfp_host.url.replace("http://", "https://")
    assert main(["submit", DIGITS, "--host", host]) == 1
    _one_clear_line(
        capsys.readouterr().err, host,
        "the TLS handshake failed: the server's certificate is not one certifi's CA bundle, which kfp trusts by default, trusts, or it "
        "does not speak TLS; for a private CA, set SSL_CERT_FILE or REQUESTS_CA_BUNDLE to a file holding its certificate",
    )
    assert fake_kfp_host.requests == []


def test_the_python_forms_say_the_same(closed_port):
    expected = f"KFP API at {closed_port} could not be reached ({REFUSED})"
    for call in (
        lambda: kfp_tune.submit(DIGITS, host=closed_port),
        lambda: kfp_tune.schedule(DIGITS, "@daily", host=closed_port),
        lambda: kfp_tune.tune(quadratic, {"x": search.double(0, 4)}, host=closed_port, store="s3://team-bucket/tuning"),
    ):
        with pytest.raises(KfpTuneError) as info:
            call()
        assert str(info.value) == expected


def test_waiting_on_a_run_whose_host_went_away_says_why():
    fake, server = serve()
    try:
        handle = kfp_tune.submit_function(quadratic, {"x": search.double(0, 4)}, host=fake.url, name="quad-gone")
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(KfpTuneError) as info:
        handle.wait(timeout=5, poll_seconds=0.05)
    assert str(info.value) == f"KFP API at {fake.url} could not be reached ({REFUSED})"


def test_a_timeout_is_named_and_the_request_never_shown():
    """urllib3's error repeats the request's URL, which may hold a token: left out, as the
    host's own credential-looking parts are masked."""
    from kfp_tune.pipelines.submit import kfp_api_errors

    host = "http://kfp.example:8888/?token=kfptune-host-secret"
    with pytest.raises(KfpTuneError) as info, kfp_api_errors(host):
        timeout = urllib3.exceptions.ConnectTimeoutError(None, "Connection to kfp.example timed out. (connect timeout=5)")
        raise urllib3.exceptions.MaxRetryError(None, "/apis/v2beta1/runs?token=kfptune-request-secret", timeout)  # type: ignore[arg-type]
    assert str(info.value) == "KFP API at http://kfp.example:8888/?*** could not be reached (the connection timed out)"
