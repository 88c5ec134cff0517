"""One contract, two stores: a local folder and S3 on a real SeaweedFS server (loopback)."""

from __future__ import annotations

import logging
import os
import threading

import pytest

from kfp_tune.core.errors import StoreError, StoreInputError
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.stores import LocalStore, open_store
from kfp_tune.stores.s3 import S3Settings, S3Store


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    return request.getfixturevalue("s3_store")


def test_get_of_a_missing_key_is_none(store):
    assert store.get("nothing/here.json") is None


def test_put_then_get_round_trips_bytes(store):
    data = bytes(range(256)) * 3
    store.put("a/b/c.bin", data)
    assert store.get("a/b/c.bin") == data


def test_put_replaces_whole_object(store):
    store.put("k.txt", b"first version, longer")
    store.put("k.txt", b"second")
    assert store.get("k.txt") == b"second"


def test_list_by_prefix_sorted_and_exact(store):
    for key in ("exp/b.json", "exp/a.json", "exp/sub/c.json", "expert/x.json", "other/y.json"):
        store.put(key, b"{}")
    assert store.list("exp/") == ["exp/a.json", "exp/b.json", "exp/sub/c.json"]
    assert store.list("exp") == ["exp/a.json", "exp/b.json", "exp/sub/c.json", "expert/x.json"]
    assert store.list("none/") == []


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "./a"])
def test_unsafe_keys_are_refused(store, key):
    with pytest.raises(StoreError):
        store.put(key, b"x")


def test_write_once_records_keep_the_first_writer(store):
    records = ExperimentRecords(store, "exp")
    first = records.write_once(records.round_key("r1"), "Round", {"n": 1})
    second = records.write_once(records.round_key("r1"), "Round", {"n": 2})
    assert first["n"] == second["n"] == 1


def test_damaged_and_unknown_version_records_are_reported(store):
    records = ExperimentRecords(store, "exp")
    store.put(records.status_key(), b"{not json")
    with pytest.raises(StoreError, match="damaged"):
        records.read(records.status_key(), "ExperimentStatus")
    store.put(records.status_key(), b'{"kind": "ExperimentStatus", "version": 99}')
    with pytest.raises(StoreError, match="version 99"):
        records.read(records.status_key(), "ExperimentStatus")


def test_concurrent_writers_of_different_keys(store):
    def write(i: int) -> None:
        for j in range(5):
            store.put(f"c/{i}/{j}", f"{i}-{j}".encode())

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.list("c/")) == 20 and store.get("c/3/4") == b"3-4"


def test_local_store_leaves_no_temporary_files(tmp_path):
    store = LocalStore(tmp_path)
    store.put("x/y.json", b"1")
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["y.json"]


def test_open_store_by_uri(tmp_path, monkeypatch):
    assert isinstance(open_store(str(tmp_path)), LocalStore)
    assert open_store(f"file://{tmp_path}").root == tmp_path.resolve()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KFP_TUNE_STORE", raising=False)
    assert open_store().root == (tmp_path / "kfp-tune-runs").resolve()
    with pytest.raises(ValueError, match="expected s3://"):
        open_store("gs://bucket/x")


def test_s3_settings_come_from_the_environment():
    settings = S3Settings.from_env({"KFP_TUNE_S3_ENDPOINT": "http://127.0.0.1:9000", "AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "s3cr3t-value"})
    assert (settings.endpoint, settings.secure) == ("127.0.0.1:9000", False)
    assert "s3cr3t-value" not in repr(settings)
    assert S3Settings.from_env({"AWS_ENDPOINT_URL": "minio-service.kubeflow:9000"}).secure is True
    with pytest.raises(StoreError, match="expected http"):
        S3Settings.from_env({"KFP_TUNE_S3_ENDPOINT": "ftp://x"})


@pytest.mark.s3
def test_s3_wrong_credentials_fail_clearly_without_leaking(seaweed, s3_bucket, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "definitely-wrong-secret-123"
    settings = S3Settings.from_env({"KFP_TUNE_S3_ENDPOINT": seaweed.endpoint, "AWS_ACCESS_KEY_ID": seaweed.access_key, "AWS_SECRET_ACCESS_KEY": secret})
    store = S3Store(s3_bucket, "p", settings)
    with pytest.raises(StoreInputError) as info:  # the user's settings: the CLI's exit 2, as a missing bucket
        store.put("k", b"v")
    message = str(info.value)
    assert "SignatureDoesNotMatch" in message or "AccessDenied" in message or "InvalidAccessKeyId" in message
    assert secret not in message and secret not in repr(store) and secret not in caplog.text
    from kfp_tune.cli import main

    environment = {"KFP_TUNE_S3_ENDPOINT": seaweed.endpoint, "AWS_ACCESS_KEY_ID": seaweed.access_key, "AWS_SECRET_ACCESS_KEY": secret}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        assert main(["list", "--store", f"s3://{s3_bucket}/p"]) == 2


@pytest.mark.s3
def test_s3_missing_bucket_is_a_clear_error(s3_env):
    store = S3Store.from_uri("s3://no-such-bucket-kfptune/x")
    with pytest.raises(StoreError, match="NoSuchBucket"):
        store.put("k", b"v")


@pytest.mark.s3
def test_s3_prefix_isolates_experiments(s3_env, s3_bucket):
    a = S3Store.from_uri(f"s3://{s3_bucket}/team-a")
    b = S3Store.from_uri(f"s3://{s3_bucket}/team-b")
    a.put("k", b"a")
    assert b.get("k") is None and a.list("") == ["k"]
    assert os.environ["AWS_SECRET_ACCESS_KEY"] not in repr(a)


@pytest.mark.s3
def test_s3_a_stale_session_token_is_named_in_the_hint_never_its_value(seaweed, s3_bucket, caplog):
    """Right keys, and a token left from another login: the server refuses the keys, so the
    hint must say the token is set (a user would otherwise check keys that are right)."""
    caplog.set_level(logging.DEBUG)
    token = "stale-session-token-from-sso-42"
    environ = {**seaweed.env(), "AWS_SESSION_TOKEN": token}
    with pytest.raises(StoreError) as info:
        S3Store(s3_bucket, "p", S3Settings.from_env(environ)).put("k", b"v")
    message = str(info.value)
    assert "AWS_SESSION_TOKEN, which is set" in message and "check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN" in message, message
    assert token not in message and token not in caplog.text
    without = S3Store(s3_bucket, "p", S3Settings.from_env(seaweed.env()))
    without.put("k", b"v")
    assert without.get("k") == b"v", "the same keys without the token are accepted"
