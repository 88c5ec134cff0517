"""A store that answers reads and listings but refuses every write with a 5xx (a full disk:
MinIO's 507 XMinioStorageFull, SeaweedFS's 500 "No writable volumes") is an outage of its
writes: the retry window ends the run about ``deadline`` seconds after the writes began
failing, however many reads succeed meanwhile. Before, every success ended the outage, so a
run whose progress loop listed once a second retried a heartbeat write for ever, warning "the
store answers again after 0 s" each second (QA s3, session 36, finding 1).

Attempts are counted, never wall time: the retry module's clock is replaced (time passes only
when the store sleeps), its random source seeded; "another thread" lists at each sleep.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest

from clock import FakeClock
from kfp_tune.core.errors import StoreError
from kfp_tune.stores import retry
from kfp_tune.stores.local import LocalStore
from kfp_tune.stores.retry import RetryingStore
from pass_through_store import PassThroughStore


class WritesRefused(PassThroughStore):
    """A local store behind a server whose disk is full while ``full`` is set: writes and
    creates fail with a transient 5xx, reads, listings and deletes succeed."""

    def __init__(self, root: Path) -> None:
        super().__init__(LocalStore(root), uri="memory://full")
        self.full = True
        self.write_attempts = 0

    def before(self, operation: str, subject: str) -> None:
        if operation in ("put", "create"):
            self.write_attempts += 1
            if self.full:
                raise StoreError(f"S3 write of {subject} failed: InternalError (transient)", transient=True)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = FakeClock()
    monkeypatch.setattr(retry, "time", clock)
    monkeypatch.setattr(retry, "random", random.Random(5))
    return clock


def listing_between_attempts(clock: FakeClock, store: list[RetryingStore]) -> object:
    """A sleep during which the run's progress loop lists the store once a second, as another
    thread does. Fails the test once the store has been retried for ten minutes (the old
    code retried for ever)."""
    started = clock.now

    def sleep(seconds: float) -> None:
        if clock.now - started > 600:
            raise AssertionError(f"still retrying after {clock.now - started:.0f} s")
        left = seconds
        while left > 0:
            clock.sleep(min(1.0, left))
            left -= 1.0
            store[0].list("exp/")

    return sleep


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == retry.__name__ and r.levelno == logging.WARNING]


def test_writes_refused_while_listings_succeed_give_up_with_the_window(tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    inner = WritesRefused(tmp_path)
    holder: list[RetryingStore] = []
    store = RetryingStore(inner, deadline=40.0, first_delay=0.1, max_delay=2.0, sleep=listing_between_attempts(clock, holder))  # type: ignore[arg-type]
    holder.append(store)
    started = clock.now
    with caplog.at_level(logging.WARNING, logger=retry.__name__):
        with pytest.raises(StoreError) as raised:
            store.put("exp/t/beat.json", b"{}")
        assert clock.now - started == pytest.approx(40.0), "given up with the window, not retried for ever"
        message = str(raised.value)
        assert message.startswith("S3 write of exp/t/beat.json failed: InternalError, the store failing for 40 s"), message
        assert "run the same command again" in message, message
        assert "listing of exp/ succeeded" in message and "refuses writes" in message, message
        attempts = inner.write_attempts
        with pytest.raises(StoreError, match="the store failing for"):
            store.put("exp/t/result.json", b"{}")  # the shutdown's next write: one try, no second window
        assert inner.write_attempts == attempts + 1
        assert clock.now - started == pytest.approx(40.0)
    said = warnings_of(caplog)
    assert not [line for line in said if "answers again" in line], said
    assert said[0].startswith("the store stopped answering: write of exp/t/beat.json failed: "), said
    assert len(said) == 2, said
    assert said[1].startswith("the store answers other requests (listing of exp/ succeeded) but its writes still fail"), said


def test_a_write_that_succeeds_again_ends_the_outage_once(tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    inner = WritesRefused(tmp_path)
    holder: list[RetryingStore] = []
    sleep = listing_between_attempts(clock, holder)

    def sleep_then_free(seconds: float) -> None:
        sleep(seconds)  # type: ignore[operator]
        if clock.now >= START_FREED:
            inner.full = False

    store = RetryingStore(inner, deadline=300.0, first_delay=0.1, max_delay=2.0, sleep=sleep_then_free)
    holder.append(store)
    START_FREED = clock.now + 20.0
    with caplog.at_level(logging.WARNING, logger=retry.__name__):
        store.put("exp/t/beat.json", b"{}")
        store.put("exp/t/beat.json", b"{}")
    said = warnings_of(caplog)
    assert len(said) == 3, said
    assert said[0].startswith("the store stopped answering: write of exp/t/beat.json"), said
    assert said[1].startswith("the store answers other requests (listing of exp/ succeeded)"), said
    assert said[2].startswith("the store answers again after 2"), said
    assert said[2].endswith("(write of exp/t/beat.json succeeded)"), said


def test_refused_writes_not_tried_again_for_a_window_are_ended_by_later_successes(tmp_path: Path, clock: FakeClock) -> None:
    """Refused writes given up are not a failing kind for ever: once no write is tried for a
    whole window while the store answers others, the outage ends and the next write gets the
    whole window again."""
    inner = WritesRefused(tmp_path)
    holder: list[RetryingStore] = []
    store = RetryingStore(inner, deadline=40.0, first_delay=0.1, max_delay=2.0, sleep=listing_between_attempts(clock, holder))  # type: ignore[arg-type]
    holder.append(store)
    with pytest.raises(StoreError):
        store.put("exp/a.json", b"{}")
    store.list("exp/")
    assert store.outage_left() == 0.0, "the writes' outage goes on, given up"
    clock.advance(41.0)
    store.list("exp/")
    assert store.outage_left() is None, "ended: no write tried for a window, listings succeed"
    started = clock.now
    with pytest.raises(StoreError):
        store.put("exp/a.json", b"{}")
    assert clock.now - started == pytest.approx(40.0), "a whole new window"


def test_a_refused_create_is_said_as_a_refused_write(tmp_path: Path, clock: FakeClock) -> None:
    """A record written once (a create) is a write to the user, as the S3 store names it: a real
    full disk under a run gave up a create as "it refuses creates" beside "S3 write of ..."."""
    inner = WritesRefused(tmp_path)
    holder: list[RetryingStore] = []
    store = RetryingStore(inner, deadline=40.0, first_delay=0.1, max_delay=2.0, sleep=listing_between_attempts(clock, holder))  # type: ignore[arg-type]
    holder.append(store)
    with pytest.raises(StoreError) as raised:
        store.create("exp/t/result.json", b"{}")
    assert "it refuses writes (a full disk? a read-only volume?)" in str(raised.value), str(raised.value)
    attempts = inner.write_attempts
    with pytest.raises(StoreError, match="the store failing for"):
        store.put("exp/t/beat.json", b"{}")  # the same refusal: one try
    assert inner.write_attempts == attempts + 1
