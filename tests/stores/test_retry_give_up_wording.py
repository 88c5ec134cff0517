"""What a kind given up says, and to whom (review D of the store fixes, finding 7): reads the
store refuses while it takes writes were said as "a full disk? a read-only volume?", hints that
fit refused writes only; and once writes had been given up on a full disk, a read failing once
was given up at once, "it refuses reads", as if the whole store were given up.

Attempts are counted, never wall time: the retry module's clock is replaced (time passes only
when the store sleeps), its random source seeded; "another thread" writes or lists at each sleep.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from clock import FakeClock
from kfp_tune.core.errors import StoreError
from kfp_tune.stores import retry
from kfp_tune.stores.local import LocalStore
from kfp_tune.stores.retry import RetryingStore
from pass_through_store import PassThroughStore


class Refusing(PassThroughStore):
    """A local store behind a server that fails the operations in ``refused`` with a transient
    5xx, and the next ``blips`` reads once each; counts the reads."""

    def __init__(self, root: Path, refused: set[str]) -> None:
        super().__init__(LocalStore(root), uri="memory://refusing")
        self.refused, self.blips, self.reads = refused, 0, 0

    def before(self, operation: str, subject: str) -> None:
        if operation == "get":
            self.reads += 1
            if self.blips:
                self.blips -= 1
                raise StoreError(f"S3 read of {subject} failed: ServiceUnavailable (transient)", transient=True)
        if operation in self.refused:
            raise StoreError(f"S3 {operation} of {subject} failed: InternalError (transient)", transient=True)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = FakeClock()
    monkeypatch.setattr(retry, "time", clock)
    monkeypatch.setattr(retry, "random", random.Random(9))
    return clock


def meanwhile(clock: FakeClock, holder: list[RetryingStore], other: Callable[[RetryingStore], object]) -> Callable[[float], None]:
    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        other(holder[0])

    return sleep


def test_reads_refused_while_writes_succeed_get_no_full_disk_hint(tmp_path: Path, clock: FakeClock) -> None:
    holder: list[RetryingStore] = []
    store = RetryingStore(Refusing(tmp_path, {"get"}), deadline=40.0, first_delay=0.1, max_delay=2.0,
                          sleep=meanwhile(clock, holder, lambda s: s.put(f"exp/beat-{clock.now}.json", b"{}")))
    holder.append(store)
    with pytest.raises(StoreError) as raised:
        store.get("exp/a.json")
    message = str(raised.value)
    assert "it refuses reads" in message and "full disk" not in message, message


def test_a_read_failing_once_after_writes_were_given_up_is_retried_and_lands(tmp_path: Path, clock: FakeClock) -> None:
    inner = Refusing(tmp_path, {"put"})
    holder: list[RetryingStore] = []
    store = RetryingStore(inner, deadline=40.0, first_delay=0.1, max_delay=2.0, sleep=meanwhile(clock, holder, lambda s: s.list("exp/")))
    holder.append(store)
    with pytest.raises(StoreError, match="it refuses writes"):
        store.put("exp/beat.json", b"{}")
    inner.blips, reads = 1, inner.reads
    assert store.get("exp/a.json") is None, "retried once the 503 passed"
    assert inner.reads == reads + 2
    with pytest.raises(StoreError, match="the store failing for"):
        store.put("exp/beat.json", b"{}")  # the writes are still given up: one try
