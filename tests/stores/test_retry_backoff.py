"""RetryingStore's promises, on a clock of its own: exponential backoff with jitter, capped;
a last try at the deadline, then give up; a create that landed before its error is
still ours, and only then.

The retry module's clock and random source are replaced for each test (its ``time`` and
``random`` names), so waits are measured, not slept, and every draw is fixed.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from kfp_tune.core.errors import StoreError
from kfp_tune.stores import retry
from kfp_tune.stores.local import LocalStore
from kfp_tune.stores.retry import RetryingStore
from pass_through_store import PassThroughStore


class Clock:
    """Time that passes only when the store sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Jitter:
    """Stands for ``random``: always the ``pick`` end of the range the store asks for."""

    def __init__(self, pick: str) -> None:
        self.pick = pick

    def uniform(self, low: float, high: float) -> float:
        return low if self.pick == "low" else high


class Failing(PassThroughStore):
    """Fails each operation with the given errors, in order, then passes it to ``inner``."""

    def __init__(self, inner: LocalStore, errors: list[StoreError]) -> None:
        super().__init__(inner)
        self.errors = list(errors)
        self.calls: list[str] = []

    def before(self, operation: str, subject: str) -> None:
        self.calls.append(f"{operation} {subject}")
        if self.errors:
            raise self.errors.pop(0)


def transient(n: int) -> list[StoreError]:
    return [StoreError(f"dropped connection {i}", transient=True) for i in range(n)]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(retry, "time", SimpleNamespace(monotonic=clock.monotonic))
    return clock


def jitter(monkeypatch: pytest.MonkeyPatch, pick: str) -> Jitter:
    source = Jitter(pick)
    monkeypatch.setattr(retry, "random", source)
    return source


def test_waits_double_from_the_first_delay_up_to_the_cap(tmp_path, clock, monkeypatch):
    jitter(monkeypatch, "high")
    store = RetryingStore(Failing(LocalStore(tmp_path), transient(7)), deadline=1000.0, first_delay=0.5, max_delay=5.0, sleep=clock.sleep)
    store.put("k", b"v")
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0], "the longest jittered wait is the whole delay"
    assert store.get("k") == b"v", "the put landed on the eighth try"


def test_jitter_waits_between_half_and_all_of_the_delay(tmp_path, clock, monkeypatch):
    """Many clients retrying after one outage must not hit the server in step."""
    jitter(monkeypatch, "low")
    store = RetryingStore(Failing(LocalStore(tmp_path), transient(3)), deadline=1000.0, first_delay=2.0, max_delay=100.0, sleep=clock.sleep)
    assert store.list("") == []
    assert clock.sleeps == [1.0, 2.0, 4.0], "the shortest jittered wait is half the delay"


def test_a_retry_whose_wait_ends_by_the_deadline_still_happens(tmp_path, clock, monkeypatch):
    # waits of 1 then 2 s bring the third try to t = 3 s, exactly the deadline: it is made
    jitter(monkeypatch, "high")
    inner = Failing(LocalStore(tmp_path), transient(2))
    store = RetryingStore(inner, deadline=3.0, first_delay=1.0, max_delay=60.0, sleep=clock.sleep)
    assert store.get("missing") is None
    assert len(inner.calls) == 3 and clock.now == 3.0


def test_the_last_wait_ends_at_the_deadline_where_a_last_try_fails_with_its_error(tmp_path, clock, monkeypatch):
    """The store gets the whole window: a wait that would pass the deadline is cut to end there."""
    jitter(monkeypatch, "high")
    errors = transient(10)
    inner = Failing(LocalStore(tmp_path), errors)
    store = RetryingStore(inner, deadline=6.0, first_delay=1.0, max_delay=60.0, sleep=clock.sleep)
    with pytest.raises(StoreError, match="dropped connection 3"):
        store.get("k")
    # tries at t = 0, 1, 3; the next wait, 4 s, is cut to 3 s: a last try at t = 6, then no more
    assert clock.sleeps == [1.0, 2.0, 3.0] and len(inner.calls) == 4


def test_a_permanent_error_after_transient_ones_stops_the_retries(tmp_path, clock, monkeypatch):
    jitter(monkeypatch, "high")
    denied = StoreError("AccessDenied")
    inner = Failing(LocalStore(tmp_path), [*transient(2), denied, *transient(5)])
    store = RetryingStore(inner, deadline=1000.0, sleep=clock.sleep)
    with pytest.raises(StoreError) as info:
        store.put("k", b"v")
    assert info.value is denied and len(inner.calls) == 3
    assert LocalStore(tmp_path).get("k") is None


def test_every_operation_passes_its_arguments_and_result_through(tmp_path, clock, monkeypatch):
    jitter(monkeypatch, "high")
    inner = Failing(LocalStore(tmp_path), transient(4))
    store = RetryingStore(inner, deadline=1000.0, sleep=clock.sleep)
    store.put("a/b.json", b"payload")
    assert store.create("a/c.json", b"created") is True
    assert store.list("a/") == ["a/b.json", "a/c.json"]
    assert store.get("a/b.json") == b"payload"
    assert inner.calls == ["put a/b.json"] * 5 + ["create a/c.json", "list a/", "get a/b.json"]
    assert store.uri == inner.uri


class LandsThenFails(Failing):
    """The first create reaches the store, then its answer is lost (a dropped connection)."""

    def create(self, key: str, data: bytes) -> bool:
        self.calls.append(f"create {key}")
        created = self.inner.create(key, data)
        if len(self.calls) == 1:
            raise StoreError("connection reset after the write", transient=True)
        return created


def test_a_create_that_landed_before_its_error_is_ours(tmp_path, clock, monkeypatch):
    jitter(monkeypatch, "high")
    store = RetryingStore(LandsThenFails(LocalStore(tmp_path), []), deadline=1000.0, sleep=clock.sleep)
    assert store.create("claim", b"ours") is True


def test_after_a_failed_create_a_key_holding_other_bytes_is_not_ours(tmp_path, clock, monkeypatch):
    jitter(monkeypatch, "high")
    local = LocalStore(tmp_path)
    inner = Failing(local, transient(1))
    local.put("claim", b"another writer's")  # written while our first try failed
    store = RetryingStore(inner, deadline=1000.0, sleep=clock.sleep)
    assert store.create("claim", b"ours") is False
    assert local.get("claim") == b"another writer's"


def test_without_a_failure_an_existing_key_is_never_ours_even_with_the_same_bytes(tmp_path, clock, monkeypatch):
    jitter(monkeypatch, "high")
    local = LocalStore(tmp_path)
    local.put("claim", b"same")
    assert RetryingStore(local, deadline=1000.0, sleep=clock.sleep).create("claim", b"same") is False


def test_a_permanent_create_failure_does_not_make_a_later_match_ours(tmp_path, clock, monkeypatch):
    """Only a transient failure can hide a write that landed; a permanent one is raised as is."""
    jitter(monkeypatch, "high")
    local = LocalStore(tmp_path)
    denied = StoreError("AccessDenied")
    with pytest.raises(StoreError) as info:
        RetryingStore(Failing(local, [denied]), deadline=1000.0, sleep=clock.sleep).create("claim", b"x")
    assert info.value is denied and local.get("claim") is None


def test_the_deadline_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("KFP_TUNE_STORE_RETRY_SECONDS", "7.5")
    assert RetryingStore(LocalStore(tmp_path)).deadline == 7.5
    assert RetryingStore(LocalStore(tmp_path), deadline=2.0).deadline == 2.0, "an explicit deadline wins"
    monkeypatch.delenv("KFP_TUNE_STORE_RETRY_SECONDS")
    assert RetryingStore(LocalStore(tmp_path)).deadline == 300.0, "the documented default (docs/guarantees.md)"


def test_its_repr_names_the_store_it_retries(tmp_path):
    """Printed, it shows the wrapper and the store it retries."""
    assert repr(RetryingStore(LocalStore(tmp_path))) == f"RetryingStore(LocalStore({str(tmp_path)!r}))"
