"""S3 failures a run rides out, against an S3 server on loopback: a connection dropped while an
object is read, a 5xx from a proxy in front of the store (not S3's XML), and a slow-down S3
reports for single keys of a multi-object delete. Each was a permanent failure or escaped as a
defect of kfp-tune (``Error: unexpected ProtocolError``), so a store that restarts stopped the
run at once; each is now a transient StoreError naming the key, which RetryingStore retries.
Also what the multi-object delete sends (1,000 keys a request, each once), the timeouts of the
HTTP client, and a TLS handshake dropped midway (transient, not a TLS misconfiguration)."""

from __future__ import annotations

import re
import ssl
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import urllib3

from kfp_tune.core.errors import StoreError
from kfp_tune.stores.retry import RetryingStore
from kfp_tune.stores.s3 import CONNECT_TIMEOUT, READ_TIMEOUT, S3Settings, S3Store, _cause, _tls_refusal, http_client, is_transient

SECRET = "secret-never-shown"
OBJECT = b'{"name": "whole object"}'
S3_XML = "http://s3.amazonaws.com/doc/2006-03-01/"


class LoopbackS3(BaseHTTPRequestHandler):
    """An S3 server whose answers a test sets: ``partial_reads`` GETs send a Content-Length of
    100 and 11 bytes, then close (later ones the whole OBJECT); ``status`` answers every PUT and
    GET with that status and a text/html page, as nginx does; a multi-object delete records its
    keys and reports ``delete_errors`` (key -> S3 code) for keys it was sent."""

    partial_reads: ClassVar[int] = 0
    status: ClassVar[int | None] = None
    delete_errors: ClassVar[dict[str, str]] = {}
    gets: ClassVar[int] = 0
    deletes: ClassVar[list[list[str]]] = []

    def _answer(self, status: int, content_type: str, body: bytes, length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def _nginx_page(self, status: int) -> None:
        page = f"<html><head><title>{status}</title></head><body><center><h1>{status}</h1></center><hr><center>nginx</center></body></html>"
        self._answer(status, "text/html; charset=utf-8", page.encode())

    def do_GET(self) -> None:
        LoopbackS3.gets += 1
        if self.status is not None:
            self._nginx_page(self.status)
        elif LoopbackS3.partial_reads > 0:
            LoopbackS3.partial_reads -= 1
            self._answer(200, "application/octet-stream", b'{"partial":', length=100)
        else:
            self._answer(200, "application/octet-stream", OBJECT)

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.status is not None:
            self._nginx_page(self.status)
        else:
            self._answer(200, "application/xml", b"")

    def do_POST(self) -> None:
        request = ET.fromstring(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        keys = [element.text or "" for element in request.iter(f"{{{S3_XML}}}Key")]
        LoopbackS3.deletes.append(keys)
        errors = "".join(
            f"<Error><Key>{key}</Key><Code>{self.delete_errors[key]}</Code><Message>m</Message></Error>" for key in keys if key in self.delete_errors
        )
        self._answer(200, "application/xml", f'<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="{S3_XML}">{errors}</DeleteResult>'.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def loopback_s3() -> Iterator[S3Store]:
    """A store under s3://bucket/team on a fresh LoopbackS3."""
    LoopbackS3.partial_reads, LoopbackS3.status, LoopbackS3.delete_errors, LoopbackS3.gets, LoopbackS3.deletes = 0, None, {}, 0, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), LoopbackS3)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        settings = S3Settings(endpoint=f"127.0.0.1:{server.server_address[1]}", secure=False, access_key="id", secret_key=SECRET, region="us-east-1")
        yield S3Store("bucket", "team", settings)
    finally:
        server.shutdown()
        server.server_close()


def retrying(store: S3Store) -> RetryingStore:
    """The store as a run uses it, retrying without waiting between attempts."""
    return RetryingStore(store, deadline=60, sleep=lambda seconds: None)


def test_an_object_cut_short_is_a_transient_failure_naming_its_key(loopback_s3: S3Store):
    LoopbackS3.partial_reads = 1
    with pytest.raises(StoreError) as info:
        loopback_s3.get("experiments/e/experiment.json")
    assert info.value.transient is True
    assert str(info.value) == f"S3 read of s3://bucket/team/experiments/e/experiment.json at {loopback_s3.endpoint_url} failed: ProtocolError (transient)"


def test_an_object_cut_short_is_read_again_whole(loopback_s3: S3Store):
    LoopbackS3.partial_reads = 2
    assert retrying(loopback_s3).get("experiments/e/experiment.json") == OBJECT
    assert LoopbackS3.gets == 3


def test_status_on_a_store_that_cuts_objects_short_is_a_store_failure_not_a_defect(loopback_s3: S3Store, monkeypatch, capsys):
    """As a user met it: ``kfp-tune status`` printed ``Error: unexpected ProtocolError ... (a
    defect in kfp-tune``; now the store's failure, retried in the window (0 here: one try)."""
    from kfp_tune.cli import main

    LoopbackS3.partial_reads = 1
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", loopback_s3.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("KFP_TUNE_STORE_RETRY_SECONDS", "0")
    code = main(["status", "my-exp", "--store", "s3://bucket/team"])
    err = capsys.readouterr().err
    assert code == 1 and "defect" not in err and "Traceback" not in err and SECRET not in err
    assert "S3 read of s3://bucket/team/experiments/my-exp/experiment.json" in err and "failed: ProtocolError, the store failing for 0.0 s (the retry window, KFP_TUNE_STORE_RETRY_SECONDS=0): once it answers, run the same command again (a run resumes where it stopped)" in err


@pytest.mark.parametrize(("status", "transient"), [(502, True), (503, True), (504, True), (429, True), (403, False), (405, False)])
def test_a_proxys_answer_that_is_not_s3s_is_transient_when_a_5xx_or_429(loopback_s3: S3Store, status: int, transient: bool):
    """An ingress or load balancer in front of MinIO answers text/html while MinIO restarts:
    minio raises InvalidResponseError, which was permanent whatever its status."""
    LoopbackS3.status = status
    for operation, words in [(lambda: loopback_s3.put("k.json", b"{}"), "write of"), (lambda: loopback_s3.get("k.json"), "read of")]:
        with pytest.raises(StoreError) as info:
            operation()
        assert info.value.transient is transient
        hint = " (transient)" if transient else ""
        assert str(info.value) == f"S3 {words} s3://bucket/team/k.json at {loopback_s3.endpoint_url} failed: HTTP {status} (text/html){hint}"
        assert "nginx" not in str(info.value) and SECRET not in str(info.value), "the status and content type, never the body"


def test_a_proxys_503_is_retried_until_the_store_answers(loopback_s3: S3Store):
    LoopbackS3.status = 503
    attempts: list[float] = []

    def restart_after_two_tries(seconds: float) -> None:
        attempts.append(seconds)
        if len(attempts) == 2:
            LoopbackS3.status = None

    RetryingStore(loopback_s3, deadline=60, sleep=restart_after_two_tries).put("k.json", b"{}")
    assert len(attempts) == 2


def test_a_non_xml_answers_code_never_carries_its_body():
    from minio.error import InvalidResponseError

    assert is_transient(InvalidResponseError(503, None, "<html>secret-never-shown</html>")) is True
    store = S3Store("bucket", "team", S3Settings(endpoint="127.0.0.1:9", secure=False, access_key="id", secret_key=SECRET))
    message = str(store._error("read of", "k.json", InvalidResponseError(500, None, "<html>secret-never-shown</html>")))
    assert re.search(r"failed: HTTP 500 \(no content type\) \(transient\)$", message) and SECRET not in message


@pytest.mark.parametrize("code", ["SlowDown", "InternalError", "ServiceUnavailable"])
def test_a_slow_down_for_one_key_of_a_delete_is_transient(loopback_s3: S3Store, code: str):
    """S3 answers a multi-object delete 200 and reports each key it did not delete (AWS under
    load: SlowDown, InternalError); that was raised as permanent, so ``kfp-tune delete`` failed."""
    LoopbackS3.delete_errors = {"team/experiments/e/b.json": code}
    with pytest.raises(StoreError) as info:
        loopback_s3.delete(["experiments/e/a.json", "experiments/e/b.json"])
    assert info.value.transient is True
    assert str(info.value) == f"S3 delete of s3://bucket/team/experiments/e/b.json at {loopback_s3.endpoint_url} failed: {code} (1 object(s) not deleted; transient)"


def test_a_delete_slowed_down_for_a_key_is_retried_until_done(loopback_s3: S3Store):
    LoopbackS3.delete_errors = {"team/experiments/e/b.json": "SlowDown"}

    def server_recovers(seconds: float) -> None:
        LoopbackS3.delete_errors = {}

    retrying_store = RetryingStore(loopback_s3, deadline=60, sleep=server_recovers)
    retrying_store.delete(["experiments/e/a.json", "experiments/e/b.json"])
    assert LoopbackS3.deletes == [["team/experiments/e/a.json", "team/experiments/e/b.json"]] * 2


def test_a_delete_with_a_denied_and_a_slowed_key_names_the_one_to_retry(loopback_s3: S3Store):
    """Retried: the slowed key may pass; the denied one fails again, and then permanently."""
    LoopbackS3.delete_errors = {"team/a.json": "AccessDenied", "team/b.json": "SlowDown"}
    with pytest.raises(StoreError) as info:
        loopback_s3.delete(["a.json", "b.json"])
    assert info.value.transient is True
    assert "failed: SlowDown (2 object(s) not deleted; transient)" in str(info.value)
    LoopbackS3.delete_errors = {"team/a.json": "AccessDenied"}
    with pytest.raises(StoreError) as info:
        loopback_s3.delete(["a.json", "b.json"])
    assert info.value.transient is False
    assert str(info.value).endswith("failed: AccessDenied (1 object(s) not deleted)")


def test_a_delete_of_2500_keys_sends_each_once_1000_a_request(loopback_s3: S3Store):
    keys = [f"experiments/e/trials/t{i:04d}.json" for i in range(2500)]
    loopback_s3.delete(keys)
    assert [len(batch) for batch in LoopbackS3.deletes] == [1000, 1000, 500]
    sent = [key for batch in LoopbackS3.deletes for key in batch]
    assert sent == [f"team/{key}" for key in keys]


def test_the_http_client_waits_for_a_connection_and_an_answer_as_documented():
    timeout = http_client().connection_pool_kw["timeout"]
    assert (timeout.connect_timeout, timeout.read_timeout) == (CONNECT_TIMEOUT, READ_TIMEOUT)


def as_urllib3_raises_it(eof: ssl.SSLError) -> urllib3.exceptions.MaxRetryError:
    """``eof`` as minio gets it from urllib3: an SSLError raised from it, as MaxRetryError's reason."""
    wrapped = urllib3.exceptions.SSLError(eof)
    wrapped.__cause__ = eof
    return urllib3.exceptions.MaxRetryError(None, "/bucket/k.json", wrapped)


@pytest.mark.parametrize(
    "exc",
    [
        ssl.SSLEOFError(8, "EOF occurred in violation of protocol (_ssl.c:2427)"),
        as_urllib3_raises_it(ssl.SSLEOFError(8, "EOF occurred in violation of protocol (_ssl.c:2427)")),
    ],
    ids=["SSLEOFError", "MaxRetryError"],
)
def test_a_tls_handshake_dropped_midway_is_transient_not_a_tls_misconfiguration(exc: Exception):
    """A connection the server or a proxy drops in the handshake (a restart) may pass; only a
    certificate not trusted or a plain-HTTP server stop at once."""
    assert isinstance(_cause(exc, ssl.SSLError), ssl.SSLEOFError)
    assert _tls_refusal(exc) is None
    assert is_transient(exc) is True



def test_a_connection_closed_at_once_is_one_connection_per_attempt():
    """The HTTP client retries nothing itself (urllib3's retries off, :func:`http_client`): each
    attempt is one connection, so that RetryingStore's window counts every one; minio's default
    client would open six for a server that closes each connection unanswered."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.05)
    accepted: list[int] = []
    done = threading.Event()

    def close_each() -> None:
        while not done.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(1)
            connection.close()

    thread = threading.Thread(target=close_each, daemon=True)
    thread.start()
    try:
        settings = S3Settings(endpoint=f"127.0.0.1:{listener.getsockname()[1]}", secure=False, access_key="id", secret_key=SECRET, region="us-east-1")
        store = S3Store("bucket", "team", settings)
        with pytest.raises(StoreError) as failed:
            store.get("k.json")
        assert failed.value.transient and len(accepted) == 1, (failed.value, accepted)
    finally:
        done.set()
        thread.join(10)
        listener.close()
