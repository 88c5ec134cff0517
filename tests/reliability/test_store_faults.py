"""The store failing: transient errors retried, permanent ones clear, nothing half-written."""

from __future__ import annotations

import threading
import time

import pytest
import yaml

from conftest import S3_ACCESS_KEY, S3_SECRET_KEY
from faults import FlakyStore, ledger_counts, ledger_experiment
from kfp_tune.core.errors import StoreError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords, decode_record, encode_record
from kfp_tune.core.state import load_state
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers.local import LocalLauncher
from kfp_tune.stores import LocalStore, open_store
from kfp_tune.stores.retry import RetryingStore


def _no_sleep(_: float) -> None:
    pass


def test_transient_failures_are_retried_until_the_operation_lands(tmp_path):
    flaky = FlakyStore(LocalStore(tmp_path), rate=0.5, seed=1)
    store = RetryingStore(flaky, sleep=_no_sleep)
    for i in range(40):
        store.put(f"k{i}", b"v%d" % i)
        assert store.get(f"k{i}") == b"v%d" % i
        assert store.create(f"once{i}", b"first") is True, "a create that landed before its error is still ours"
        assert store.create(f"once{i}", b"second") is False
    assert store.list("once") == sorted(f"once{i}" for i in range(40))
    assert flaky.failures > 20


def test_a_permanent_failure_is_raised_at_once(tmp_path):
    calls = []

    class Denied:
        uri = "s3://denied"

        def get(self, key):
            calls.append(key)
            raise StoreError("S3 read of s3://denied/k failed: AccessDenied")

    with pytest.raises(StoreError, match="AccessDenied"):
        RetryingStore(Denied(), sleep=_no_sleep).get("k")  # type: ignore[arg-type]
    assert calls == ["k"]


def test_retries_give_up_at_the_deadline(tmp_path):
    always = FlakyStore(LocalStore(tmp_path), rate=1.0)
    started = time.monotonic()
    with pytest.raises(StoreError, match="transient"):
        RetryingStore(always, deadline=0.5, first_delay=0.05).get("k")
    assert time.monotonic() - started < 5


def test_readers_never_see_a_half_written_record(tmp_path):
    store = LocalStore(tmp_path)
    big = {"kind": "Blob", "version": 1, "data": "x" * 200_000}
    store.put("r.json", encode_record(big))
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            store.put("r.json", encode_record({**big, "data": str(i) * 200_000}))
            i = (i + 1) % 10

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(300):
            record = decode_record(store.get("r.json"), "r.json", "Blob")  # type: ignore[arg-type]
            assert len(set(record["data"])) == 1
    finally:
        stop.set()
        thread.join()


def test_a_damaged_experiment_record_stops_the_run_and_is_left_as_it_is(tmp_path):
    from kfp_tune.cli import main

    store = tmp_path / "store"
    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump(ledger_experiment(tmp_path / "ledger.txt", name="damaged", **{"spec.maxTrialCount": 2})))
    assert main(["run", str(path), "--engine", "inline", "--store", str(store)]) == 0
    head = store / "experiments" / "damaged" / "experiment.json"
    head.write_bytes(head.read_bytes()[:-40])
    damaged = head.read_bytes()
    assert main(["run", str(path), "--engine", "inline", "--store", str(store)]) == 1
    assert head.read_bytes() == damaged, "a damaged record must not be replaced by a fresh experiment"
    assert sum(ledger_counts(tmp_path / "ledger.txt").values()) == 2


@pytest.mark.s3
def test_permanent_s3_errors_stop_at_once_with_a_clear_message(seaweed, s3_bucket, monkeypatch):
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", seaweed.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", seaweed.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-value-42")
    started = time.monotonic()
    with pytest.raises(StoreError) as info:
        open_store(f"s3://{s3_bucket}/x").put("k", b"v")
    assert "wrong-secret-value-42" not in str(info.value) and not info.value.transient
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", seaweed.secret_key)
    with pytest.raises(StoreError, match="NoSuchBucket"):
        open_store("s3://no-such-bucket-kfptune/x").put("k", b"v")
    assert time.monotonic() - started < 10, "permanent errors are not retried"


@pytest.mark.s3
def test_a_run_survives_the_s3_server_restarting(tmp_path, monkeypatch, caplog):
    """A dedicated SeaweedFS is stopped in the middle of a run and started again on the same
    ports and data 10 s later; the run waits it out and completes."""
    from minio import Minio

    from seaweed import start_seaweed

    caplog.set_level("WARNING")
    (tmp_path / "weed").mkdir()
    server = start_seaweed(tmp_path / "weed", S3_ACCESS_KEY, S3_SECRET_KEY)
    try:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        Minio(server.endpoint.split("://")[1], access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY, secure=False).make_bucket("restart")
        ledger = tmp_path / "ledger.txt"
        experiment = load_experiment(ledger_experiment(ledger, name="restart", sleep=0.5, **{"spec.maxTrialCount": 6, "spec.parallelTrialCount": 2}))
        store = open_store("s3://restart/tuning")
        outcome: dict = {}
        thread = threading.Thread(target=lambda: outcome.setdefault("decision", run_inline(store, experiment, LocalLauncher())))
        thread.start()
        deadline = time.monotonic() + 60
        while sum(ledger_counts(ledger).values()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.stop()
        time.sleep(10)  # longer than minio's own few retries
        server = server.restart()
        thread.join(timeout=240)
        assert not thread.is_alive() and outcome["decision"].phase == "Succeeded"
        state = load_state(ExperimentRecords(store, "restart"))
        assert len(state.trials) == 6 and all(t.status == "Succeeded" for t in state.trials)
        assert max(ledger_counts(ledger).values()) == 1
        assert "retrying in" in caplog.text, "the run met the outage and kfp-tune's own retries carried it"
    finally:
        server.stop()
