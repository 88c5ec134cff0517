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
    with pytest.raises(StoreError) as info:
        store_at(f"127.0.0.1:{refusing_port}").put("exp/record.json", b"{}")
    message = str(info.value)
    assert "does not resolve" not in message, message
    assert message.endswith("(transient)") and info.value.transient, "a server that is down may come back: retried"
