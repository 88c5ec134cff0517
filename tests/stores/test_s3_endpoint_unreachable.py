"""What S3Store says when it cannot reach its endpoint: a host name that does not resolve is
named as such (a typo in KFP_TUNE_S3_ENDPOINT, or no network to AWS), and a host that resolves
but where nothing listens is not blamed on the name.

Real requests through minio and urllib3, to hosts that cannot answer: ``.invalid`` never
resolves (RFC 6761), and a loopback port held bound but not listening refuses every connection.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from kfp_tune.core.errors import StoreError
from kfp_tune.stores.s3 import S3Settings, S3Store

NO_SUCH_HOST = "kfp-tune-no-such-host.invalid"


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A loopback port that is bound (so nothing else takes it) but never listens."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def store_at(endpoint: str) -> S3Store:
    return S3Store("bucket", "team", S3Settings(endpoint=endpoint, secure=False, access_key="id", secret_key="secret"))


def test_a_host_that_does_not_resolve_is_named_without_its_port() -> None:
    with pytest.raises(StoreError) as info:
        store_at(f"{NO_SUCH_HOST}:9000").get("exp/record.json")
    message = str(info.value)
    assert f"the endpoint's host {NO_SUCH_HOST!r} does not resolve" in message, message
    assert "KFP_TUNE_S3_ENDPOINT" in message and "s3_endpoint parameter" in message
    assert message.startswith(f"S3 read of s3://bucket/team/exp/record.json at http://{NO_SUCH_HOST}:9000 failed: ")


def test_a_host_that_resolves_but_refuses_is_not_blamed_on_its_name(refusing_port: int) -> None:
    """Said as what it is, a refused connection (a wrong port, or a store that is down), and
    still transient: a server that is down may come back, so a run's step retries it."""
    with pytest.raises(StoreError) as info:
        store_at(f"127.0.0.1:{refusing_port}").put("exp/record.json", b"{}")
    message = str(info.value)
    assert "does not resolve" not in message, message
    assert message.endswith("(connection refused: nothing listens at the endpoint; check KFP_TUNE_S3_ENDPOINT or the s3_endpoint parameter, or that the object store is up)"), message
    assert info.value.transient
    assert "secret" not in message


def test_a_command_that_only_looks_waits_less_for_the_store_than_a_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """status, trials, report, list, logs: a person waits at a terminal, so an S3 store that
    does not answer is retried for LOOK_RETRY_SECONDS, a run's steps for the stores' default;
    $KFP_TUNE_STORE_RETRY_SECONDS rules both."""
    from kfp_tune import cli
    from kfp_tune.stores.retry import DEFAULT_DEADLINE

    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.delenv("KFP_TUNE_STORE_RETRY_SECONDS", raising=False)
    assert cli._open_store("s3://bucket/team", look=True).deadline == cli.LOOK_RETRY_SECONDS == 30.0
    assert cli._open_store("s3://bucket/team").deadline == DEFAULT_DEADLINE == 300.0
    monkeypatch.setenv("KFP_TUNE_STORE_RETRY_SECONDS", "7")
    assert cli._open_store("s3://bucket/team", look=True).deadline == cli._open_store("s3://bucket/team").deadline == 7.0
