"""Which S3 failures are retried, and what the error says.

RetryingStore retries exactly the failures S3Store marks transient, so this split decides
whether a run rides out a restarting server (5xx, 429, slow-down, a dropped connection) or
stops at once with a message the user can act on (access denied, no such bucket). The errors
are minio's own classes, built with real urllib3 responses.
"""

from __future__ import annotations

import pytest
import urllib3
from minio.error import S3Error, ServerError

from kfp_tune.core.errors import StoreError, StoreInputError
from kfp_tune.stores.s3 import S3Settings, S3Store, is_transient


def s3_error(status: int, code: str) -> S3Error:
    response = urllib3.response.HTTPResponse(body=b"", status=status)
    return S3Error(response, code, f"{code} message", "/bucket/key", "request-1", "host-1", "bucket", "key")


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (503, "ServiceUnavailable"),
        (500, "SomethingNew"),  # any 5xx, even with a code this version does not know
        (502, "BadGateway"),
        (429, "TooManyRequests"),
        (400, "SlowDown"),  # a throttling code is transient whatever the status
        (400, "RequestTimeout"),
        (409, "OperationAborted"),
    ],
)
def test_server_trouble_and_throttling_are_transient(status: int, code: str):
    assert is_transient(s3_error(status, code)) is True


@pytest.mark.parametrize(
    ("status", "code"),
    [(403, "AccessDenied"), (403, "SignatureDoesNotMatch"), (404, "NoSuchBucket"), (400, "InvalidArgument"), (499, "ClientClosed"), (428, "X")],
)
def test_client_errors_are_permanent(status: int, code: str):
    assert is_transient(s3_error(status, code)) is False


@pytest.mark.parametrize(
    "exc",
    [
        ServerError("bad gateway from a proxy", 502),
        urllib3.exceptions.ProtocolError("connection aborted"),
        urllib3.exceptions.MaxRetryError(None, "/bucket/key", "too many retries"),
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError("timed out"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_lost_connection_or_a_bare_5xx_is_transient(exc: Exception):
    assert is_transient(exc) is True


@pytest.mark.parametrize("exc", [ValueError("bad value"), KeyError("k"), RuntimeError("bug")], ids=lambda e: type(e).__name__)
def test_a_programming_error_is_not_retried(exc: Exception):
    assert is_transient(exc) is False


class RaisingClient:
    """Stands for the minio client of a store whose server answers every call with ``exc``."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def __getattr__(self, name: str):
        def call(*args: object, **kwargs: object) -> None:
            raise self.exc

        return call


EVERY_OPERATION = [
    (lambda s: s.put("k.json", b"{}"), "S3 write of s3://bucket/team/exp/k.json"),
    (lambda s: s.create("k.json", b"{}"), "S3 write of s3://bucket/team/exp/k.json"),
    (lambda s: s.get("k.json"), "S3 read of s3://bucket/team/exp/k.json"),
    (lambda s: s.list("trials/"), "S3 listing of s3://bucket/team/exp/trials/"),
]
"""Each store operation and how its error names it."""


def failing_store(exc: Exception) -> S3Store:
    settings = S3Settings(endpoint="127.0.0.1:9", secure=False, access_key="id", secret_key="secret-never-shown")
    store = S3Store("bucket", "team/exp", settings)
    store._client = RaisingClient(exc)  # type: ignore[assignment]
    return store


@pytest.mark.parametrize(("operation", "words"), EVERY_OPERATION)
def test_a_transient_failure_is_marked_and_says_so(operation, words: str):
    with pytest.raises(StoreError) as info:
        operation(failing_store(s3_error(503, "SlowDown")))
    assert info.value.transient is True
    assert str(info.value) == f"{words} at http://127.0.0.1:9 failed: SlowDown (transient)"


def test_a_permanent_failure_names_its_code_without_a_transient_hint():
    """Refused credentials are the user's settings to fix, as a missing bucket: InputError (the
    CLI's exit 2), where they were exit 1."""
    with pytest.raises(StoreInputError) as info:
        failing_store(s3_error(403, "AccessDenied")).put("k.json", b"{}")
    assert info.value.transient is False
    assert str(info.value) == ("S3 write of s3://bucket/team/exp/k.json at http://127.0.0.1:9 failed: AccessDenied (the credentials are "
                               "valid but may not do this: check what the bucket's policy grants them on 'bucket', or that the bucket 'bucket' exists)")
    assert "secret-never-shown" not in str(info.value)


@pytest.mark.parametrize("code", ["InvalidAccessKeyId", "SignatureDoesNotMatch"])
def test_refused_credentials_say_which_variables_to_check_and_never_their_values(code: str):
    with pytest.raises(StoreInputError) as info:
        failing_store(s3_error(403, code)).get("k.json")
    assert info.value.transient is False
    assert str(info.value).endswith(f"failed: {code} (the server refused the credentials: check AWS_ACCESS_KEY_ID and "
                                    "AWS_SECRET_ACCESS_KEY (in a pipeline, the store Secret))")
    assert "secret-never-shown" not in str(info.value) and "'id'" not in str(info.value)


@pytest.mark.parametrize("code", ["InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidTokenId", "InvalidToken", "ExpiredToken"])
def test_refused_credentials_with_a_session_token_set_name_it_too_never_its_value(code: str):
    """A token left from an STS or SSO login goes with every request, and a server that does not
    know it refuses keys that are right (SeaweedFS says InvalidAccessKeyId, MinIO InvalidTokenId)."""
    settings = S3Settings(endpoint="127.0.0.1:9", secure=False, access_key="id", secret_key="secret-never-shown", session_token="tok-never-shown")
    store = S3Store("bucket", "team/exp", settings)
    store._client = RaisingClient(s3_error(403, code))  # type: ignore[assignment]
    with pytest.raises(StoreInputError) as info:
        store.put("k.json", b"{}")
    assert info.value.transient is False
    assert str(info.value).endswith(
        f"failed: {code} (the server refused the credentials: check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, "
        "which is set: a session token left from another login makes the server refuse good keys, so unset it if these keys "
        "need none (in a pipeline, the store Secret))"
    )
    assert "tok-never-shown" not in str(info.value) and "secret-never-shown" not in str(info.value)


def test_access_denied_without_credentials_says_none_were_given():
    store = S3Store("bucket", "team/exp", S3Settings(endpoint="127.0.0.1:9", secure=False))
    store._client = RaisingClient(s3_error(403, "AccessDenied"))  # type: ignore[assignment]
    with pytest.raises(StoreInputError, match=r"AccessDenied \(no credentials were given: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"):
        store.list("trials/")


def test_a_missing_bucket_is_the_users_to_fix_and_named():
    """A store that is not there: InputError (the CLI's exit 2, as for a wrong store URI)."""
    from kfp_tune.core.errors import InputError

    with pytest.raises(InputError, match=r"failed: NoSuchBucket \(no bucket 'bucket' there: create it, or check the s3:// store URI\)"):
        failing_store(s3_error(404, "NoSuchBucket")).put("k.json", b"{}")


@pytest.mark.parametrize(("operation", "words"), EVERY_OPERATION)
def test_a_failure_without_an_s3_code_is_named_by_its_kind(operation, words: str):
    with pytest.raises(StoreError) as info:
        operation(failing_store(ConnectionResetError(104, "Connection reset by peer")))
    assert info.value.transient is True
    assert str(info.value) == f"{words} at http://127.0.0.1:9 failed: ConnectionResetError (transient)"


@pytest.mark.parametrize(("operation", "words"), EVERY_OPERATION)
def test_a_refused_connection_is_said_to_be_one_and_still_retried(operation, words: str):
    """Nothing listens at the endpoint: a wrong port, or a store that is down (it may come back)."""
    with pytest.raises(StoreError) as info:
        operation(failing_store(ConnectionRefusedError(111, "Connection refused")))
    assert info.value.transient is True
    assert str(info.value) == (
        f"{words} at http://127.0.0.1:9 failed: ConnectionRefusedError (connection refused: nothing listens at the endpoint; "
        "check KFP_TUNE_S3_ENDPOINT or the s3_endpoint parameter, or that the object store is up)"
    )


@pytest.mark.parametrize("code", ["NoSuchKey", "NoSuchObject"])
def test_a_missing_object_is_none_whichever_code_the_server_uses(code: str):
    assert failing_store(s3_error(404, code)).get("k.json") is None


def test_a_create_refused_because_the_key_exists_is_false_not_an_error():
    assert failing_store(s3_error(412, "PreconditionFailed")).create("k.json", b"{}") is False
