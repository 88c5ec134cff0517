"""TLS with the S3 endpoint, against real servers on loopback: an endpoint whose certificate is
not trusted (self-signed, as a private MinIO often is) and a plain-HTTP endpoint reached with
https (an endpoint written without a scheme). Both stop at once with what to set, not after
minutes of retries, and never as a defect of kfp-tune (an ssl.SSLError's ``reason`` is a str,
and following it as a cause raised AttributeError)."""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kfp_tune.cli import main
from kfp_tune.core.errors import StoreError, StoreInputError
from kfp_tune.stores.s3 import S3Settings, S3Store

SECRET = "tls-secret-never-shown"


class Answer404(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _serve(server: http.server.HTTPServer) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)  # shutdown() waits up to one poll (0.5 s by default)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def plain_http_port() -> Iterator[int]:
    yield from _serve(http.server.HTTPServer(("127.0.0.1", 0), Answer404))


@pytest.fixture
def self_signed(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A TLS server on loopback with a self-signed certificate for 127.0.0.1; (its port, the
    certificate's file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    server = http.server.HTTPServer(("127.0.0.1", 0), Answer404)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    for port in _serve(server):
        yield port, cert_file


def _store(port: int) -> S3Store:
    return S3Store("bucket", "team", S3Settings(endpoint=f"127.0.0.1:{port}", secure=True, access_key="id", secret_key=SECRET))


def test_an_untrusted_certificate_stops_at_once_saying_what_to_set(self_signed):
    """The user's setting (QA s3, session 36, finding 4): StoreInputError (exit 2), in
    kfp-tune's words, not urllib3's class name (MaxRetryError)."""
    port, _ = self_signed
    with pytest.raises(StoreInputError) as info:
        _store(port).get("k.json")
    assert info.value.transient is False
    message = str(info.value)
    assert message.startswith(f"S3 read of s3://bucket/team/k.json at https://127.0.0.1:{port} failed: TLS: the endpoint's certificate is not trusted (")
    assert message.endswith("for a private CA or a self-signed certificate, set SSL_CERT_FILE to a file holding the CA's certificate")
    assert SECRET not in message and "MaxRetryError" not in message


def test_with_its_certificate_in_ssl_cert_file_the_endpoint_is_trusted(self_signed, monkeypatch):
    """What the message says to do works: the TLS hint is gone and the server's answer shows
    (minio reads SSL_CERT_FILE when the store is made)."""
    port, cert_file = self_signed
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    with pytest.raises(StoreError) as info:
        _store(port).list("trials/")
    assert "TLS" not in str(info.value) and "certificate" not in str(info.value)


def test_https_to_a_plain_http_endpoint_says_to_write_http(plain_http_port, monkeypatch, capsys):
    """As a user meets it: KFP_TUNE_S3_ENDPOINT=host:port (no scheme, so https) for MinIO on
    plain HTTP, then ``kfp-tune list``: the user's setting (exit 2) at once, one line, no
    traceback, no MaxRetryError (QA s3, session 36, finding 4: it was exit 1)."""
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", f"127.0.0.1:{plain_http_port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    code = main(["list", "--store", "s3://bucket/team"])
    err = capsys.readouterr().err
    assert "TLS: the endpoint does not speak TLS; for a plain-HTTP endpoint, write http://host:port in KFP_TUNE_S3_ENDPOINT" in err
    assert (code, len(err.strip().splitlines())) == (2, 1) and "Traceback" not in err and SECRET not in err and "MaxRetryError" not in err, err


class HttpToHttpsServer(http.server.BaseHTTPRequestHandler):
    """What Go's TLS server (SeaweedFS, MinIO) answers a plain-HTTP request: 400, no content
    type, "Client sent an HTTP request to an HTTPS server."."""

    def do_GET(self) -> None:
        body = b"Client sent an HTTP request to an HTTPS server.\n"
        self.send_response_only(400)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_http_to_a_tls_port_says_to_write_https(monkeypatch, capsys):
    """QA s3, session 36, finding 4: ``http://`` to the store's TLS port said only "HTTP 400
    (no content type)", exit 1. It says to write https://, exit 2."""
    for port in _serve(http.server.HTTPServer(("127.0.0.1", 0), HttpToHttpsServer)):
        monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "id")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
        code = main(["list", "--store", "s3://bucket/team"])
    err = capsys.readouterr().err
    assert "the endpoint speaks TLS (it answered plain HTTP: 'Client sent an HTTP request to an HTTPS server'): write https://host:port in KFP_TUNE_S3_ENDPOINT" in err, err
    assert (code, len(err.strip().splitlines())) == (2, 1) and SECRET not in err, err


@pytest.mark.parametrize("missing", ["nonexist.crt", "a-folder"], ids=["no-such-file", "a-folder"])
def test_an_ssl_cert_file_that_cannot_be_read_is_said_at_once_naming_it(self_signed, tmp_path, monkeypatch, capsys, missing):
    """QA s3, session 36, finding 2: a misspelt SSL_CERT_FILE was retried as an outage (300 s
    under ``run``) and said as "MaxRetryError (transient)", never naming the file. It is the
    user's setting: exit 2 at once, naming the variable, the path and why."""
    port, _ = self_signed
    (tmp_path / "a-folder").mkdir()
    path = tmp_path / missing
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", f"https://127.0.0.1:{port}")
    monkeypatch.setenv("SSL_CERT_FILE", str(path))
    monkeypatch.setenv("KFP_TUNE_STORE_RETRY_SECONDS", "2")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    code = main(["list", "--store", "s3://bucket/team"])
    err = capsys.readouterr().err
    why = "No such file or directory" if missing == "nonexist.crt" else "Is a directory"
    assert f"error: --store: SSL_CERT_FILE={path} cannot be read ({why})" in err, err
    assert code == 2 and "stopped answering" not in err and "MaxRetryError" not in err and "Traceback" not in err, err


def test_an_unreadable_ssl_cert_file_is_no_matter_for_a_plain_http_endpoint(tmp_path, monkeypatch):
    """Only TLS reads SSL_CERT_FILE: a store on plain HTTP opens whatever it holds."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "nonexist.crt"))
    store = S3Store("bucket", "team", S3Settings(endpoint="127.0.0.1:9", secure=False, access_key="id", secret_key=SECRET))
    assert store.endpoint_url == "http://127.0.0.1:9"


@pytest.mark.parametrize("held", ["text", "empty", "the-key", "der"])
def test_an_ssl_cert_file_holding_no_certificate_is_said_at_once_naming_it(self_signed, tmp_path, monkeypatch, capsys, held):
    """Review D of the store fixes, finding 4: an SSL_CERT_FILE that opens but holds no PEM
    certificate (text, an empty file from a failed ``kubectl get secret``, the key instead of
    the certificate, a DER file) was retried as an outage and said as "MaxRetryError". It is
    the user's setting: exit 2 at once, naming the variable, the path and what it lacks."""
    port, cert_file = self_signed
    path = tmp_path / "ca.crt"
    if held == "der":
        path.write_bytes(ssl.PEM_cert_to_DER_cert(cert_file.read_text()))
    else:
        path.write_bytes({"text": b"not a certificate\n", "empty": b"", "the-key": (tmp_path / "key.pem").read_bytes()}[held])
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", f"https://127.0.0.1:{port}")
    monkeypatch.setenv("SSL_CERT_FILE", str(path))
    monkeypatch.setenv("KFP_TUNE_STORE_RETRY_SECONDS", "2")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    code = main(["list", "--store", "s3://bucket/team"])
    err = capsys.readouterr().err
    assert f"error: --store: SSL_CERT_FILE={path} holds no PEM certificate" in err, err
    assert code == 2 and "stopped answering" not in err and "MaxRetryError" not in err and "Traceback" not in err, err
