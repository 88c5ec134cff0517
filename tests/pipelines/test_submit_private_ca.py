"""QA "airgap" finding 3: an https:// KFP API whose certificate a private CA signed could not be
reached from the CLI (kfp.Client trusts certifi's bundle alone unless given ``ssl_ca_cert``), and
the message blamed "this machine's" trust store, which kfp never reads. SSL_CERT_FILE (or
REQUESTS_CA_BUNDLE), which the S3 store already honours, now reaches kfp.Client; without it the
message says to set it; a variable naming no file is refused before anything is sent."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import REPO
from fake_kfp import serve
from kfp_tune.cli import main

DIGITS = str(REPO / "images" / "sklearn-digits" / "experiment.yaml")
TOKEN = "kfptune-bearer-ca-7d1c"


def _certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed CA certificate for 127.0.0.1 and its key, as files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / f"{name}.pem", folder / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture
def tls_kfp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str, Path]]:
    """The fake KFP API behind TLS with a private CA's certificate: (the fake, its https URL, the
    CA file); neither CA variable set (a machine may set both to its own bundle)."""
    for variable in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(variable, raising=False)
    fake, plain = serve()
    cert_file, key_file = _certificate(tmp_path, "private-ca")
    server = ThreadingHTTPServer(("127.0.0.1", 0), plain.RequestHandlerClass)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()  # shutdown() waits up to one poll (0.5 s by default)
    try:
        yield fake, f"https://127.0.0.1:{server.server_address[1]}", cert_file
    finally:
        server.shutdown()
        server.server_close()
        plain.shutdown()


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"])
def test_the_ca_in_the_standard_variables_reaches_kfp(tls_kfp, monkeypatch, capsys, tmp_path, variable):
    fake, url, ca = tls_kfp
    monkeypatch.setenv(variable, str(ca))
    assert main(["submit", DIGITS, "--host", url]) == 0, capsys.readouterr().err
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    assert main(["schedule", DIGITS, "--host", url, "--cron", "@daily", "--token-file", str(token)]) == 0, capsys.readouterr().err
    assert len(fake.runs) == 1 and len(fake.recurring_runs) == 1
    assert TOKEN not in capsys.readouterr().err


def test_without_the_ca_the_message_says_what_to_set_not_this_machine(tls_kfp, monkeypatch, capsys):
    fake, url, _ = tls_kfp
    assert main(["submit", DIGITS, "--host", url]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"error: KFP API at {url} could not be reached (the TLS handshake failed: the server's certificate is not one certifi's CA "
        "bundle, which kfp trusts by default, trusts, or it does not speak TLS; for a private CA, set SSL_CERT_FILE or "
        "REQUESTS_CA_BUNDLE to a file holding its certificate)\n"
    )
    assert fake.runs == {}


def test_another_ca_is_named_as_the_file_that_does_not_trust_it(tls_kfp, monkeypatch, capsys, tmp_path):
    _, url, _ = tls_kfp
    other, _ = _certificate(tmp_path, "other-ca")
    monkeypatch.setenv("SSL_CERT_FILE", str(other))
    assert main(["submit", DIGITS, "--host", url]) == 1
    assert "the server's certificate is not one the CA file in SSL_CERT_FILE trusts, or it does not speak TLS)\n" in capsys.readouterr().err


def test_a_ca_variable_naming_no_file_is_refused_before_anything_is_sent(tls_kfp, monkeypatch, capsys, tmp_path):
    fake, url, _ = tls_kfp
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "missing.pem"))
    assert main(["submit", DIGITS, "--host", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: REQUESTS_CA_BUNDLE: expected a file of CA certificates (PEM) for the KFP API's https://, got '"), err
    assert err.endswith("missing.pem', which is no file\n") and err.count("\n") == 1, err
    assert fake.requests == []


@pytest.mark.parametrize("token", [False, True], ids=["kfp-credentials", "token-file"])
def test_the_ca_reaches_kfp_when_the_host_comes_from_the_endpoint_variable(tls_kfp, monkeypatch, capsys, tmp_path, token):
    # review B finding 2: --host defaults to $KF_PIPELINES_ENDPOINT, which kfp.Client reads itself
    fake, url, ca = tls_kfp
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    monkeypatch.setenv("KF_PIPELINES_ENDPOINT", url)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    argv = ["submit", DIGITS] + (["--token-file", str(token_file)] if token else [])
    assert main(argv) == 0, capsys.readouterr().err
    assert len(fake.runs) == 1


def test_a_tls_failure_at_the_endpoint_variable_says_what_to_set(tls_kfp, monkeypatch, capsys):
    fake, url, _ = tls_kfp
    monkeypatch.setenv("KF_PIPELINES_ENDPOINT", url)
    assert main(["submit", DIGITS]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: KFP API at the host in $KF_PIPELINES_ENDPOINT could not be reached (the TLS handshake failed"), err
    assert err.endswith("; for a private CA, set SSL_CERT_FILE or REQUESTS_CA_BUNDLE to a file holding its certificate)\n"), err
    assert fake.runs == {}


def test_a_ca_variable_naming_no_file_at_the_endpoint_variable_is_refused_before_anything_is_sent(tls_kfp, monkeypatch, capsys, tmp_path):
    fake, url, _ = tls_kfp
    monkeypatch.setenv("KF_PIPELINES_ENDPOINT", url)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    assert main(["submit", DIGITS]) == 2
    assert capsys.readouterr().err.startswith("error: SSL_CERT_FILE: expected a file of CA certificates (PEM) for the KFP API's https://")
    assert fake.requests == []


@pytest.mark.parametrize("from_variable", [False, True], ids=["--host", "KF_PIPELINES_ENDPOINT"])
@pytest.mark.parametrize("token", [False, True], ids=["kfp-credentials", "token-file"])
def test_a_stale_ca_variable_does_not_block_a_plain_http_host(fake_kfp_host, monkeypatch, capsys, tmp_path, from_variable, token):
    # review B finding 3: the CA variables matter only for https://; a leftover one is common
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "gone.pem"))
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    if from_variable:
        monkeypatch.setenv("KF_PIPELINES_ENDPOINT", fake_kfp_host.url)
        argv = ["submit", DIGITS]
    else:
        monkeypatch.delenv("KF_PIPELINES_ENDPOINT", raising=False)
        argv = ["submit", DIGITS, "--host", fake_kfp_host.url]
    argv += ["--token-file", str(token_file)] if token else []
    assert main(argv) == 0, capsys.readouterr().err
    assert len(fake_kfp_host.runs) == 1


def test_a_stale_ca_variable_does_not_block_tune_to_a_plain_http_host(fake_kfp_host, monkeypatch, tmp_path):
    import kfp_tune
    from kfp_tune import search

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "gone.pem"))
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    kfp_tune.submit_function(_objective, {"x": search.double(0, 4)}, host=fake_kfp_host.url, store="s3://team-bucket/tuning", max_trial_count=2)
    assert len(fake_kfp_host.runs) == 1


def _objective(parameters: dict[str, Any]) -> float:
    return float(parameters["x"])


def test_a_ca_file_holding_no_certificate_is_refused_naming_the_variable_not_the_server(tls_kfp, monkeypatch, capsys, tmp_path):
    # review B finding 13: the server was blamed for an unreadable CA file; its content is never repeated
    fake, url, _ = tls_kfp
    secret = tmp_path / "notpem"
    secret.write_text("SUPERSECRET-abc123\n")
    monkeypatch.setenv("SSL_CERT_FILE", str(secret))
    assert main(["submit", DIGITS, "--host", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: SSL_CERT_FILE: expected a file of CA certificates (PEM) for the KFP API's https://, got '"), err
    assert err.endswith("notpem', which holds no PEM certificate\n") and err.count("\n") == 1, err
    assert "SUPERSECRET" not in err
    assert fake.requests == []


def test_a_ca_folder_is_refused_saying_to_join_its_certificates_into_one_file(tls_kfp, monkeypatch, capsys):
    fake, url, ca = tls_kfp
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca.parent))
    assert main(["submit", DIGITS, "--host", url]) == 2
    err = capsys.readouterr().err
    assert err.endswith(
        "which is a folder: kfp takes one file, so put its certificates in one (cat FOLDER/*.pem > FILE) and name that\n"
    ), err
    assert fake.requests == []


def test_the_delete_hint_names_the_ca_file_that_reached_the_host(tls_kfp, monkeypatch, capsys):
    fake, url, ca = tls_kfp
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    schedule = ["schedule", DIGITS, "--host", url, "--cron", "@daily"]
    assert main(schedule) == 0, capsys.readouterr().err
    (first,) = fake.recurring_runs
    capsys.readouterr()
    assert main(schedule) == 2
    err = capsys.readouterr().err
    assert f"kfp.Client(host='{url}', ssl_ca_cert='{ca}').delete_recurring_run('{first}')" in err, err
