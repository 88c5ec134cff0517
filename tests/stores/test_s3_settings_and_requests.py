"""S3 settings from the environment, and what S3Store sends: the endpoint a user meant, errors
that say where a bad endpoint came from, object names under the prefix exactly, temporary
credentials and the region on every request, and unsafe keys never sent at all."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from kfp_tune.core.errors import StoreError, StoreInputError
from kfp_tune.stores.s3 import S3Settings, S3Store


@pytest.mark.parametrize(
    ("environ", "endpoint", "expected"),
    [
        ({"KFP_TUNE_S3_ENDPOINT": "http://minio:9000"}, None, ("minio:9000", False)),
        ({"AWS_ENDPOINT_URL_S3": "https://s3.example.com"}, None, ("s3.example.com", True)),
        ({"AWS_ENDPOINT_URL": "seaweed:8333"}, None, ("seaweed:8333", True)),  # no scheme means https
        ({"KFP_TUNE_S3_ENDPOINT": "http://first:1", "AWS_ENDPOINT_URL": "http://last:2"}, None, ("first:1", False)),
        ({"KFP_TUNE_S3_ENDPOINT": "http://env:1"}, "http://parameter:2/", ("parameter:2", False)),
        ({"AWS_REGION": "eu-west-1"}, None, ("s3.amazonaws.com", True)),
        ({"AWS_ACCESS_KEY_ID": "id"}, None, ("s3.amazonaws.com", True)),
    ],
)
def test_the_endpoint_is_the_one_the_user_set(environ: dict[str, str], endpoint: str | None, expected: tuple[str, bool]):
    settings = S3Settings.from_env(environ, endpoint=endpoint)
    assert (settings.endpoint, settings.secure) == expected


def test_credentials_token_and_region_come_from_the_environment():
    settings = S3Settings.from_env(
        {"KFP_TUNE_S3_ENDPOINT": "http://m:9", "AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "key", "AWS_SESSION_TOKEN": "token", "AWS_DEFAULT_REGION": "us-east-2"}
    )
    assert (settings.access_key, settings.secret_key, settings.session_token, settings.region) == ("id", "key", "token", "us-east-2")
    both = S3Settings.from_env({"KFP_TUNE_S3_ENDPOINT": "http://m:9", "AWS_REGION": "eu-north-1", "AWS_DEFAULT_REGION": "us-east-2"})
    assert both.region == "eu-north-1", "AWS_REGION wins, as in the AWS tools"
    empty = S3Settings.from_env({"KFP_TUNE_S3_ENDPOINT": "http://m:9", "AWS_ACCESS_KEY_ID": "", "AWS_SESSION_TOKEN": ""})
    assert (empty.access_key, empty.session_token, empty.region) == (None, None, None)


def test_no_endpoint_and_nothing_saying_aws_is_refused_at_once():
    with pytest.raises(StoreInputError) as info:
        S3Settings.from_env({"AWS_SECRET_ACCESS_KEY": "only a secret"})
    assert "set KFP_TUNE_S3_ENDPOINT" in str(info.value) and "for AWS S3 itself, set AWS_REGION" in str(info.value)


@pytest.mark.parametrize(
    ("environ", "endpoint", "source"),
    [
        ({}, "ftp://m:9", "the s3_endpoint parameter"),
        ({"KFP_TUNE_S3_ENDPOINT": "ftp://m:9"}, None, "$KFP_TUNE_S3_ENDPOINT"),
        ({"AWS_ENDPOINT_URL": "http://m:0"}, None, "$AWS_ENDPOINT_URL"),
        ({"AWS_ENDPOINT_URL_S3": "http://m:70000"}, None, "$AWS_ENDPOINT_URL_S3"),
        ({"KFP_TUNE_S3_ENDPOINT": "http://:9000"}, None, "$KFP_TUNE_S3_ENDPOINT"),
        ({"KFP_TUNE_S3_ENDPOINT": "http://m:9/bucket"}, None, "$KFP_TUNE_S3_ENDPOINT"),
    ],
)
def test_a_bad_endpoint_is_refused_naming_where_it_came_from(environ: dict[str, str], endpoint: str | None, source: str):
    with pytest.raises(StoreInputError) as info:
        S3Settings.from_env(environ, endpoint=endpoint)
    raw = endpoint or next(iter(environ.values()))
    assert f"S3 endpoint {raw!r} from {source}: expected http://host:port or https://host" in str(info.value)
    if "/bucket" in raw:
        assert "with no path (the bucket goes in the s3:// store URI)" in str(info.value)


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("http://127.0.0.1:1/?X-Amz-Security-Token=QASECRETa", "http://127.0.0.1:1/?***"),
        ("http://m:9#QASECRETb", "http://m:9#***"),
        ("ftp://m:9/?sig=QASECRETc", "ftp://m:9/?***"),
        ("m:9/bucket?sig=QASECRETd", "m:9/bucket?***"),
    ],
)
def test_a_query_or_fragment_in_the_endpoint_is_refused_and_not_repeated(raw: str, masked: str, monkeypatch, capsys):
    """The endpoint was echoed whole, a presigned token in its query too; it is masked as --host's is."""
    from kfp_tune.cli import main

    with pytest.raises(StoreInputError) as info:
        S3Settings.from_env({"KFP_TUNE_S3_ENDPOINT": raw})
    assert f"S3 endpoint {masked!r} from $KFP_TUNE_S3_ENDPOINT: expected http://host:port or https://host" in str(info.value)
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", raw)
    assert main(["list", "--store", "s3://qabucket/p1"]) == 2
    err = capsys.readouterr().err
    assert f"S3 endpoint {masked!r}" in err and "QASECRET" not in str(info.value) + err


@pytest.mark.parametrize("port", ["1", "65535"])
def test_every_real_port_is_accepted(port: str):
    assert S3Settings.from_env({"KFP_TUNE_S3_ENDPOINT": f"http://m:{port}"}).endpoint == f"m:{port}"


def test_credentials_in_the_endpoint_are_refused_without_repeating_them():
    with pytest.raises(StoreInputError) as info:
        S3Settings.from_env({"AWS_ENDPOINT_URL": "http://AKIAID:s3cr3t@minio:9000"})
    assert "from $AWS_ENDPOINT_URL: credentials do not belong in the endpoint URL" in str(info.value)
    assert "s3cr3t" not in str(info.value) and "AKIAID" not in str(info.value)


SETTINGS = S3Settings(endpoint="127.0.0.1:9", secure=False)


@pytest.mark.parametrize(
    ("uri", "bucket", "prefix", "shown"),
    [
        ("s3://bucket", "bucket", "", "s3://bucket"),
        ("s3://bucket/", "bucket", "", "s3://bucket"),
        ("s3://bucket/team/exp/", "bucket", "team/exp", "s3://bucket/team/exp"),
        ("s3://bucket//team", "bucket", "team", "s3://bucket/team"),
        ("s3://bucket/Team Runs/naïve", "bucket", "Team Runs/naïve", "s3://bucket/Team Runs/naïve"),
    ],
)
def test_a_store_uri_names_bucket_and_prefix(uri: str, bucket: str, prefix: str, shown: str):
    store = S3Store.from_uri(uri, SETTINGS)
    assert (store.bucket, store.prefix, store.uri) == (bucket, prefix, shown)
    assert store.endpoint_url == "http://127.0.0.1:9" and store.settings is SETTINGS


def test_a_secure_endpoint_is_shown_as_https():
    store = S3Store("bucket", settings=S3Settings(endpoint="s3.example.com", secure=True))
    assert store.endpoint_url == "https://s3.example.com" and "https://s3.example.com" in repr(store)


@pytest.mark.parametrize("uri", ["s3://AKIA:s3cr3t@bucket/x", "gs://bucket/x", "s3:///x"])
def test_a_uri_that_is_not_an_s3_store_is_refused(uri: str):
    with pytest.raises(StoreInputError, match="expected s3://bucket/prefix") as info:
        S3Store.from_uri(uri, SETTINGS)
    assert "s3cr3t" not in str(info.value) and "AKIA" not in str(info.value)
    if "@" in uri:
        assert "bucket/x" in str(info.value), "the rest of the URI is still shown"


class RecordingS3(BaseHTTPRequestHandler):
    """An S3 server on loopback that has no objects: it records each request (header names in
    lower case) and answers NoSuchKey to reads, an empty listing to lists, and 200 to writes."""

    requests: ClassVar[list[tuple[str, str, dict[str, str]]]] = []

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.requests.append(("GET", self.path, {k.lower(): v for k, v in self.headers.items()}))
        if "list-type=2" in self.path:
            body = b'<?xml version="1.0"?><ListBucketResult><Name>bucket</Name><IsTruncated>false</IsTruncated><KeyCount>0</KeyCount></ListBucketResult>'
            self._answer(200, body)
            return
        self._answer(404, b"<Error><Code>NoSuchKey</Code><Message>no such key</Message></Error>")

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        self.requests.append(("PUT", self.path, {k.lower(): v for k, v in self.headers.items()}))
        self._answer(200, b"")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recording_s3() -> Iterator[tuple[str, list[tuple[str, str, dict[str, str]]]]]:
    RecordingS3.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingS3)  # the server binds the port it keeps
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)  # shutdown() waits up to one poll (0.5 s by default)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", RecordingS3.requests
    finally:
        server.shutdown()
        server.server_close()


def test_temporary_credentials_and_the_region_go_with_every_request(recording_s3):
    endpoint, requests = recording_s3
    settings = S3Settings(endpoint=endpoint, secure=False, access_key="ASIAID", secret_key="secret", session_token="the-session-token", region="eu-north-1")
    store = S3Store("bucket", "team", settings)
    assert store.get("k.json") is None
    store.put("k.json", b"{}")
    assert [(verb, path.split("?")[0]) for verb, path, _ in requests] == [("GET", "/bucket/team/k.json"), ("PUT", "/bucket/team/k.json")]
    for _, _, headers in requests:
        assert headers.get("x-amz-security-token") == "the-session-token"
        assert "/eu-north-1/s3/aws4_request" in headers["authorization"] and "Credential=ASIAID/" in headers["authorization"]


def test_object_names_are_the_key_under_the_prefix_exactly(recording_s3, monkeypatch):
    from kfp_tune.stores import s3

    monkeypatch.setattr(s3, "_probed", {})  # this process's first create here, even on a port an earlier test had
    endpoint, requests = recording_s3
    settings = S3Settings(endpoint=endpoint, secure=False, access_key="id", secret_key="secret", region="us-east-1")
    S3Store("bucket", "", settings).put("a/b.json", b"1")
    S3Store("bucket", "/team/exp/", settings).put("a/b.json", b"2")
    assert S3Store("bucket", "", settings).create("c.json", b"3") is True
    assert S3Store("bucket", "team", settings).list("a/") == []
    paths = [path for _, path, _ in requests]
    probe = f"/bucket/{s3.PROBE_KEY}"  # the first create probes first: this server answers 200 to both
    assert paths[:5] == ["/bucket/a/b.json", "/bucket/team/exp/a/b.json", probe, probe, "/bucket/c.json"]
    assert "prefix=team%2Fa%2F" in paths[5]
    assert all(headers.get("if-none-match") == "*" for _, _, headers in requests[2:5]), "create is a conditional PUT"


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "..", "a//b", "./a", "a/.", "a/"])
def test_an_unsafe_key_is_refused_before_any_request(recording_s3, key: str):
    """Nothing may escape the prefix or alias another key, whatever the server would make of it."""
    endpoint, requests = recording_s3
    store = S3Store("bucket", "team", S3Settings(endpoint=endpoint, secure=False, access_key="id", secret_key="secret", region="us-east-1"))
    for call in (lambda: store.get(key), lambda: store.put(key, b"x"), lambda: store.create(key, b"x")):
        with pytest.raises(StoreError) as info:
            call()
        assert not info.value.transient, "a refused key is never retried"
    assert requests == []


@pytest.mark.parametrize(("prefix", "part"), [("a//b", "an empty part ('//')"), ("./x", "a '.' part"), ("/team/../x/", "a '..' part")])
def test_a_prefix_with_an_unsafe_part_is_refused_before_any_request(recording_s3, prefix: str, part: str):
    """Built directly (not from a checked URI), the store refuses it too: nothing may alias or escape."""
    endpoint, requests = recording_s3
    with pytest.raises(StoreInputError) as info:
        S3Store("bucket", prefix, S3Settings(endpoint=endpoint, secure=False, access_key="id", secret_key="secret"))
    assert str(info.value).startswith(f"S3 store {'s3://bucket/' + prefix.lstrip('/')!r}: the prefix {prefix.strip('/')!r} has {part}: ")
    assert requests == []
