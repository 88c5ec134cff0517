"""KFP_TUNE_STORE_RETRY_SECONDS is how long a store may fail before it is given up on, not how
long each operation waits: once a store has failed for the whole window, a later operation
tries once, until one succeeds again. Without that, a run facing a store that is down waited a
window for every operation of its shutdown (74 s for a window of 15 s).

Attempts are counted, never wall time: the retry module's clock is replaced (time passes only
when the store sleeps), its random source is seeded, and the S3 test counts the connections a
loopback server accepts.
"""

from __future__ import annotations

import random
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from clock import FakeClock
from kfp_tune.core.errors import StoreError
from kfp_tune.stores import retry
from kfp_tune.stores.local import LocalStore
from kfp_tune.stores.retry import RetryingStore
from kfp_tune.stores.s3 import S3Settings, S3Store
from pass_through_store import PassThroughStore


class Outage(PassThroughStore):
    """A local store behind a server that is down while ``down`` is set: every operation then
    fails with a transient error. Counts the attempts that reach it."""

    def __init__(self, root: Path) -> None:
        super().__init__(LocalStore(root), uri="memory://outage")
        self.down = True
        self.attempts = 0

    def before(self, operation: str, subject: str) -> None:
        self.attempts += 1
        if self.down:
            raise StoreError(f"connection refused (attempt {self.attempts})", transient=True)


OPERATIONS: list[Callable[[RetryingStore], object]] = [
    lambda store: store.get("exp/a.json"),
    lambda store: store.put("exp/a.json", b"{}"),
    lambda store: store.list("exp/"),
    lambda store: store.create("exp/b.json", b"{}"),
    lambda store: store.delete(["exp/a.json"]),
]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = FakeClock()
    monkeypatch.setattr(retry, "time", clock)
    monkeypatch.setattr(retry, "random", random.Random(11))
    return clock


def given_up(store: RetryingStore, inner: Outage) -> int:
    """Fail one operation for the whole window; the attempts it made."""
    before = inner.attempts
    with pytest.raises(StoreError, match="connection refused"):
        store.get("exp/first.json")
    return inner.attempts - before


@pytest.mark.parametrize("operation", OPERATIONS, ids=["get", "put", "list", "create", "delete"])
def test_after_a_store_failed_for_the_whole_window_a_later_operation_tries_once(tmp_path, clock, operation):
    inner = Outage(tmp_path)
    store = RetryingStore(inner, deadline=60.0, first_delay=1.0, max_delay=8.0, sleep=clock.sleep)
    started = clock.now
    assert given_up(store, inner) > 3, "the first operation retried through the window"
    waited = clock.now
    assert waited - started == pytest.approx(60.0), "the whole window"
    for _ in range(3):
        attempts = inner.attempts
        with pytest.raises(StoreError, match="connection refused"):
            operation(store)
        assert inner.attempts == attempts + 1, "one attempt, no second window"
    assert clock.now == waited, "and no wait"


def test_an_operation_that_succeeds_ends_the_outage_and_the_next_gets_the_whole_window(tmp_path, clock):
    inner = Outage(tmp_path)
    store = RetryingStore(inner, deadline=60.0, first_delay=1.0, max_delay=8.0, sleep=clock.sleep)
    first = given_up(store, inner)
    inner.down = False
    attempts = inner.attempts
    store.put("exp/a.json", b"{}")
    assert inner.attempts == attempts + 1
    inner.down = True
    started = clock.now
    assert given_up(store, inner) >= first - 1, "retried through a new window (the jitter differs)"
    assert clock.now - started == pytest.approx(60.0)


def test_an_outage_is_told_once_however_many_attempts_fail_in_it(tmp_path, clock):
    """Mutation QA (T01): ``on_outage`` (a run's stop notice that the store stopped answering)
    is told when an outage begins, not at each failed attempt of it (57bf911): one call for
    the whole window's retries, one more for the next outage."""
    inner = Outage(tmp_path)
    store = RetryingStore(inner, deadline=60.0, first_delay=1.0, max_delay=8.0, sleep=clock.sleep)
    told: list[float] = []
    store.on_outage = told.append
    assert given_up(store, inner) > 3
    assert told == [pytest.approx(60.0)], told
    inner.down = False
    store.put("exp/a.json", b"{}")
    inner.down = True
    assert given_up(store, inner) > 3
    assert len(told) == 2, told


@pytest.fixture
def closing_server() -> Iterator[tuple[int, list[int]]]:
    """A loopback port that accepts each connection and closes it at once, without an answer
    (a store going down under its clients); the list counts the connections."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    accepted: list[int] = []
    stopped = threading.Event()

    def serve() -> None:
        while not stopped.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(1)  # counted before the close the client waits for
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], accepted
    finally:
        stopped.set()
        thread.join()
        listener.close()


def test_an_s3_attempt_is_one_request_and_a_given_up_store_is_tried_once(closing_server, clock):
    """minio's own client retried a dropped connection five more times, with backoff (about 6 s),
    inside every attempt: a window the retry module could not count."""
    port, accepted = closing_server
    s3 = S3Store("bucket", "team", S3Settings(endpoint=f"127.0.0.1:{port}", secure=False, access_key="id", secret_key="secret"))
    with pytest.raises(StoreError) as info:
        s3.get("exp/a.json")
    assert info.value.transient and len(accepted) == 1, "one connection: no retry under the store's own"
    store = RetryingStore(s3, deadline=30.0, first_delay=1.0, max_delay=8.0, sleep=clock.sleep)
    with pytest.raises(StoreError):
        store.put("exp/a.json", b"{}")
    assert len(accepted) == 1 + len(clock.sleeps) + 1, "one connection for each attempt of the window"
    before = len(accepted)
    with pytest.raises(StoreError):
        store.list("exp/")
    assert len(accepted) == before + 1, "the store given up on: one attempt"


class CutAt(Outage):
    """An outage during which the run is told to stop at once: ``cut_window(seconds)`` is
    called as the ``at``-th attempt fails, as a second Ctrl-C's handler does."""

    def __init__(self, root: Path, at: int, seconds: float) -> None:
        super().__init__(root)
        self.store: RetryingStore | None = None
        self.at, self.seconds = at, seconds

    def before(self, operation: str, subject: str) -> None:
        try:
            super().before(operation, subject)
        finally:
            if self.attempts == self.at and self.store is not None:
                self.store.cut_window(self.seconds)


def test_a_cut_window_gives_up_a_few_seconds_after_the_cut_in_this_outage_and_the_next(tmp_path, clock):
    """A second Ctrl-C during an outage waited out the rest of the window (300 s by default)
    before the run could end; the cut leaves it a few seconds, for later outages too."""
    inner = CutAt(tmp_path, at=4, seconds=5.0)
    store = RetryingStore(inner, deadline=300.0, first_delay=1.0, max_delay=8.0, sleep=clock.sleep)
    inner.store = store
    started = clock.now
    given_up(store, inner)
    cut_at = started + sum(clock.sleeps[:3])  # the 4th attempt fails after three waits
    assert clock.now == pytest.approx(cut_at + 5.0), "given up 5 s after the cut, not 300 s after the outage began"
    inner.down = False
    store.put("exp/a.json", b"{}")  # the outage ends
    inner.down = True
    started = clock.now
    given_up(store, inner)
    assert clock.now - started == pytest.approx(5.0), "a later outage is given 5 s too"


def test_a_cut_window_wakes_an_operation_waiting_to_retry(tmp_path):
    """An operation asleep between attempts (up to 10 s each by default) tries again at the cut
    and gives up there, not when its sleep would have ended (an hour here)."""
    inner = Outage(tmp_path)
    store = RetryingStore(inner, deadline=7200.0, first_delay=3600.0, max_delay=3600.0)
    failed: list[BaseException] = []

    def operation() -> None:
        try:
            store.get("exp/a.json")
        except StoreError as exc:
            failed.append(exc)

    thread = threading.Thread(target=operation, daemon=True)
    thread.start()
    pause = threading.Event()
    while inner.attempts == 0:
        pause.wait(0.01)  # until its first attempt failed: it then sleeps (or is about to) for half an hour or more
    store.cut_window(0.0)
    thread.join(60.0)  # reached only when broken
    assert not thread.is_alive() and len(failed) == 1, "woken and given up"
    assert inner.attempts <= 2, "at most one attempt after the cut"


def test_giving_up_says_for_how_long_the_store_failed_and_that_running_again_resumes(tmp_path, clock):
    """A chaos run (a 10 s window, a 25 s outage) ended ``error: S3 listing of ... failed:
    MaxRetryError (transient)``: as if it had not been retried, with no word of what to do."""
    store = RetryingStore(Outage(tmp_path), deadline=60.0, first_delay=1.0, max_delay=8.0, sleep=clock.sleep)
    with pytest.raises(StoreError) as info:
        store.get("exp/first.json")
    assert str(info.value) == (
        "connection refused (attempt 14), the store failing for 60 s (the retry window, KFP_TUNE_STORE_RETRY_SECONDS=60): "
        "once it answers, run the same command again (a run resumes where it stopped)"
    )
    assert info.value.transient, "still the store's failure, not the user's"
    with pytest.raises(StoreError, match=r"connection refused \(attempt 15\), the store failing for 60 s \(the retry window"):
        store.list("exp/")  # a later operation of the outage: one try, the same words


def test_a_window_a_second_signal_cut_is_named_so(tmp_path, clock):
    store = RetryingStore(Outage(tmp_path), deadline=60.0, first_delay=1.0, max_delay=8.0, sleep=clock.sleep)
    store.cut_window(5.0)
    with pytest.raises(StoreError, match=r"the store failing for 5.0 s \(what a second signal left of the retry window\): once it answers"):
        store.get("exp/first.json")


def test_the_s3_store_s_transient_tag_gives_way_to_the_window_once_given_up(tmp_path):
    class Refused(Outage):
        def before(self, operation: str, subject: str) -> None:
            raise StoreError("S3 listing of s3://b/p/exp at http://127.0.0.1:9 failed: MaxRetryError (transient)", transient=True)

    with pytest.raises(StoreError) as info:
        RetryingStore(Refused(tmp_path), deadline=0.0).list("exp/")
    assert str(info.value).startswith("S3 listing of s3://b/p/exp at http://127.0.0.1:9 failed: MaxRetryError, the store failing for 0.0 s (the retry window, ")
