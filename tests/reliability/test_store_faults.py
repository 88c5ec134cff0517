"""The store failing: transient errors retried, permanent ones clear, nothing half-written."""

from __future__ import annotations

import logging
import random
import threading
import time

import pytest
import yaml

from conftest import S3_ACCESS_KEY, S3_SECRET_KEY
from faults import FlakyStore, ledger_counts, ledger_experiment, open_gate
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


class _Clock:
    """The retry loop's clock: time passes only when it sleeps, so what is measured is the
    waiting the loop chose, not how busy the machine was."""

    def __init__(self) -> None:
        self.now, self.slept = 0.0, []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_retries_give_up_at_the_deadline(tmp_path, monkeypatch):
    from kfp_tune.stores import retry

    clock = _Clock()
    monkeypatch.setattr(retry, "time", clock)
    monkeypatch.setattr(retry, "random", random.Random(3))  # the jitter
    always = FlakyStore(LocalStore(tmp_path), rate=1.0)
    with pytest.raises(StoreError, match=r"injected fault: read of k, the store failing for 0.5 s \(the retry window, KFP_TUNE_STORE_RETRY_SECONDS=0.5\)"):
        RetryingStore(always, deadline=0.5, first_delay=0.05, sleep=clock.sleep).get("k")
    assert len(clock.slept) >= 3, "it retried before giving up"
    assert sum(clock.slept) == pytest.approx(0.5), "it waits out its deadline, and never past it: the last wait ends there"
    assert clock.slept[:-1] == sorted(clock.slept[:-1]), "backing off, never waiting less than the time before (but the cut last wait)"
    assert always.failures == len(clock.slept) + 1, "a last try at the deadline"


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


def test_a_damaged_experiment_record_stops_the_run_and_is_left_as_it_is(tmp_path, capsys):
    from kfp_tune.cli import main

    store = tmp_path / "store"
    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump(ledger_experiment(tmp_path / "ledger.txt", name="damaged", **{"spec.maxTrialCount": 2})))
    assert main(["run", str(path), "--engine", "inline", "--store", str(store)]) == 0
    head = store / "experiments" / "damaged" / "experiment.json"
    head.write_bytes(head.read_bytes()[:-40])
    damaged = head.read_bytes()
    capsys.readouterr()
    assert main(["run", str(path), "--engine", "inline", "--store", str(store)]) != 0
    assert "experiments/damaged/experiment.json is damaged" in capsys.readouterr().err
    assert head.read_bytes() == damaged, "a damaged record must not be replaced by a fresh experiment"
    assert sum(ledger_counts(tmp_path / "ledger.txt").values()) == 2


@pytest.mark.s3
def test_permanent_s3_errors_stop_at_once_with_a_clear_message(seaweed, s3_bucket, monkeypatch, caplog):
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", seaweed.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", seaweed.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-value-42")
    monkeypatch.setenv("KFP_TUNE_STORE_RETRY_SECONDS", "2")  # were they retried, the test would not wait minutes to say so
    caplog.set_level("WARNING", logger="kfp_tune.stores.retry")
    with pytest.raises(StoreError) as info:
        open_store(f"s3://{s3_bucket}/x").put("k", b"v")
    assert "wrong-secret-value-42" not in str(info.value) and not info.value.transient
    assert f"s3://{s3_bucket}/x/k" in str(info.value) and seaweed.endpoint in str(info.value), "the bucket and the endpoint named"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", seaweed.secret_key)
    with pytest.raises(StoreError, match="NoSuchBucket") as info:
        open_store("s3://no-such-bucket-kfptune/x").put("k", b"v")
    assert not info.value.transient
    assert "no-such-bucket-kfptune" in str(info.value) and seaweed.endpoint in str(info.value), "the bucket and the endpoint named"
    assert "retrying in" not in caplog.text, "permanent errors are not retried"


class _Seen(logging.Handler):
    """Sets ``event`` when a log record's message contains ``text``."""

    def __init__(self, text: str):
        super().__init__(logging.WARNING)
        self.text, self.event = text, threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.event.set()


@pytest.mark.s3
def test_a_run_survives_the_s3_server_restarting(tmp_path, monkeypatch):
    """A dedicated SeaweedFS is stopped in the middle of a run, and started again on the same
    data once kfp-tune's own retries have met the outage (minio's few quick retries are past).
    The run reaches it through a forwarding port this test holds throughout, so its endpoint
    never changes and no port is released and bound again. Trials are held at a gate until the
    server is down, so the outage falls in the middle of the run."""
    from minio import Minio

    from seaweed import Forwarder, start_seaweed

    (tmp_path / "weed").mkdir()
    server = start_seaweed(tmp_path / "weed", S3_ACCESS_KEY, S3_SECRET_KEY)
    front = Forwarder(server.endpoint)
    seen = _Seen("retrying in")
    retry_log = logging.getLogger("kfp_tune.stores.retry")
    retry_log.addHandler(seen)
    ledger, gate = tmp_path / "ledger.txt", tmp_path / "gate"
    thread: threading.Thread | None = None
    try:
        for key, value in {**server.env(), "KFP_TUNE_S3_ENDPOINT": front.endpoint}.items():
            monkeypatch.setenv(key, value)
        Minio(front.endpoint.split("://")[1], access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY, secure=False).make_bucket("restart")
        experiment = load_experiment(ledger_experiment(ledger, name="restart", gate=gate, **{"spec.maxTrialCount": 6, "spec.parallelTrialCount": 2}))
        store = open_store("s3://restart/tuning")
        outcome: dict = {}
        thread = threading.Thread(target=lambda: outcome.setdefault("decision", run_inline(store, experiment, LocalLauncher())))
        thread.start()
        _wait(lambda: sum(ledger_counts(ledger).values()) == 2, "two trials start")
        front.point_to(None)  # the server is unreachable from here on, as a stopped one is
        server.stop()
        open_gate(gate)  # the running trials end: the run must record them, with the server down
        assert seen.event.wait(DEADLINE), "kfp-tune's retries never met the outage"
        server = server.restart()
        front.point_to(server.endpoint)
        thread.join(DEADLINE)
        assert not thread.is_alive() and outcome["decision"].phase == "Succeeded"
        state = load_state(ExperimentRecords(store, "restart"))
        assert len(state.trials) == 6 and all(t.status == "Succeeded" for t in state.trials)
        assert max(ledger_counts(ledger).values()) == 1
    finally:
        open_gate(gate)
        retry_log.removeHandler(seen)
        if thread is not None and thread.is_alive():
            front.point_to(server.endpoint)  # let a failing run end rather than retry for minutes
            thread.join(DEADLINE)
        front.close()
        server.stop()


def test_a_store_outage_past_the_retries_gives_the_running_trials_back_not_failed(tmp_path, step_processes):
    """A store down for longer than the run's retries stops the run while two trials run: their
    ends cannot be recorded. They did not fail, so the next run gives them back (Killed,
    TrialStale) instead of failing them: with maxFailedTrialCount 1 the experiment failed for
    good before, though no trial had failed (Katib fails an experiment on trials whose job
    failed, status_util.go). Trials wait at a gate until the store is down."""
    ledger, gate = tmp_path / "ledger.txt", tmp_path / "gate"
    experiment = load_experiment(
        ledger_experiment(ledger, name="outage", gate=gate, **{"spec.maxTrialCount": 4, "spec.parallelTrialCount": 2, "spec.maxFailedTrialCount": 1})
    )
    flaky = FlakyStore(LocalStore(tmp_path / "store"), rate=0.0)
    store = RetryingStore(flaky, deadline=0.0, sleep=_no_sleep)  # no retries: the outage outlasts them at once
    outcome: dict = {}

    def first_run() -> None:
        try:
            run_inline(store, experiment, LocalLauncher())
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=first_run)
    thread.start()
    try:
        _wait(lambda: sum(ledger_counts(ledger).values()) == 2, "two trials start")
        held = sorted(ledger_counts(ledger))
        flaky.rate = 1.0  # the store is gone: every operation fails
        open_gate(gate)
        thread.join(DEADLINE)
    finally:
        open_gate(gate)
        flaky.rate = 0.0
        thread.join(DEADLINE)
    assert isinstance(outcome.get("error"), StoreError), outcome
    step_processes.kill()  # the stopped run's process is gone, as a CLI that exited is
    before = load_state(ExperimentRecords(LocalStore(tmp_path / "store"), "outage"))
    assert all(before.trial(name).started is not None and before.trial(name).ended is None for name in held), "the outage lost their ends"

    decision = run_inline(store, experiment, LocalLauncher(), take_over=True)
    assert (decision.phase, decision.reason) == ("Succeeded", "ExperimentMaxTrialsReached"), decision
    state = load_state(ExperimentRecords(LocalStore(tmp_path / "store"), "outage"))
    for name in held:
        trial = state.trial(name)
        assert (trial.status, trial.result.reason, trial.given_back) == ("Killed", "TrialStale", True)
    assert state.budget_used == 4 and sum(t.status == "Succeeded" for t in state.trials) == 4
    assert not any(t.status == "Failed" for t in state.trials)
    assert max(ledger_counts(ledger).values()) == 1, "no trial ran twice"


DEADLINE = 300.0
"""Seconds to wait for what must happen; reached only when something is broken."""


def _wait(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {DEADLINE:.0f} s")
        time.sleep(0.05)
