"""One operation the store keeps failing with a 5xx while it takes others of the same kind (a
MinIO erasure set without write quorum, 503 XMinioWriteQuorum for the objects it holds; a
SeaweedFS volume gone read-only) is given up about ``deadline`` seconds after its own first
failure, whatever the other operations do. Before, each success of the same kind (a write of
another key, a create) restarted the kind's window, and the failing write was retried for ever
(review D of the store fixes, finding 2).

Attempts are counted, never wall time: the retry module's clock is replaced (time passes only
when the store sleeps), its random source seeded; "another thread" writes or reads another key
at each sleep.
"""

from __future__ import annotations

import itertools
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

BAD = "exp/t/bad.json"
NUMBERS = itertools.count()


class OneKeyRefused(PassThroughStore):
    """A local store behind a server that fails every request about ``BAD`` with a transient
    5xx and takes every other request."""

    def __init__(self, root: Path) -> None:
        super().__init__(LocalStore(root), uri="memory://one-key")

    def before(self, operation: str, subject: str) -> None:
        if subject == BAD:
            raise StoreError(f"S3 {operation} of {subject} failed: XMinioWriteQuorum (transient)", transient=True)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = FakeClock()
    monkeypatch.setattr(retry, "time", clock)
    monkeypatch.setattr(retry, "random", random.Random(7))
    return clock


def others_succeeding(clock: FakeClock, holder: list[RetryingStore], other: Callable[[RetryingStore], object]) -> Callable[[float], None]:
    """A sleep during which another thread's operation succeeds every half second. Fails the
    test once the operation has been retried for ten minutes (the old code retried for ever)."""
    started = clock.now

    def sleep(seconds: float) -> None:
        if clock.now - started > 600:
            raise AssertionError(f"still retrying after {clock.now - started:.0f} s")
        left = seconds
        while left > 0:
            clock.sleep(min(0.5, left))
            left -= 0.5
            other(holder[0])

    return sleep


CASES: list[tuple[str, Callable[[RetryingStore], object], Callable[[RetryingStore], object]]] = [
    ("write", lambda store: store.put(BAD, b"{}"), lambda store: store.put("exp/t/good.json", b"{}")),
    ("write", lambda store: store.put(BAD, b"{}"), lambda store: store.create(f"exp/t/{next(NUMBERS)}.json", b"{}")),
    ("read", lambda store: store.get(BAD), lambda store: store.get("exp/t/good.json")),
]


@pytest.mark.parametrize(("kind", "failing", "other"), CASES, ids=["puts", "creates", "reads"])
def test_one_operation_failing_while_others_of_its_kind_succeed_gives_up_with_the_window(
    tmp_path: Path, clock: FakeClock, kind: str, failing: Callable[[RetryingStore], object], other: Callable[[RetryingStore], object]
) -> None:
    holder: list[RetryingStore] = []
    store = RetryingStore(OneKeyRefused(tmp_path), deadline=40.0, first_delay=0.1, max_delay=2.0, sleep=others_succeeding(clock, holder, other))
    holder.append(store)
    started = clock.now
    with pytest.raises(StoreError) as raised:
        failing(store)
    assert clock.now - started == pytest.approx(40.0, abs=0.5), "given up with its own window"
    message = str(raised.value)
    assert f"the {kind} of {BAD} failing for 40 s" in message, message
    assert "run the same command again" in message, message
    store.put("exp/t/good.json", b"{}")
    assert store.outage_left() is None, "the others still succeed: no outage left over"
