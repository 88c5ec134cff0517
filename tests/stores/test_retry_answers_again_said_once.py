"""A store that stops answering and comes back is two warnings, "stopped answering" and "answers
again", however many threads were retrying through it (a run's progress loop, its trials'
heartbeats): "the store answers other requests ... but its writes still fail" is said only once
a write has failed again after the store answered. Before, whichever operation succeeded first
said at once that the others' kinds still failed, before they had tried again: a false third
warning after an ordinary outage or a single 503 on a write (review D of the store fixes,
finding 3).

Two threads, run in a fixed order by events: the writer waits between its attempts until the
main thread's listing has succeeded; no wall time is measured.
"""

from __future__ import annotations

import logging
import random
import threading
from pathlib import Path

import pytest

from kfp_tune.core.errors import StoreError
from kfp_tune.stores import retry
from kfp_tune.stores.local import LocalStore
from kfp_tune.stores.retry import RetryingStore
from pass_through_store import PassThroughStore


class Flaky(PassThroughStore):
    """A local store behind a server that is down while ``down`` is set, and that fails the
    next ``writes_failing`` writes with a 503 whether down or not."""

    def __init__(self, root: Path, down: bool, writes_failing: int) -> None:
        super().__init__(LocalStore(root), uri="memory://flaky")
        self.down, self.writes_failing = down, writes_failing
        self.writes = 0

    def before(self, operation: str, subject: str) -> None:
        if operation == "put":
            self.writes += 1
            if self.writes_failing > 0:
                self.writes_failing -= 1
                raise StoreError(f"S3 write of {subject} failed: ServiceUnavailable (transient)", transient=True)
        if self.down:
            raise StoreError("connection refused (transient)", transient=True)


@pytest.mark.parametrize(("down", "writes_failing"), [(True, 0), (False, 1)], ids=["outage", "one-503-on-a-write"])
def test_a_store_that_answers_again_is_two_warnings_with_a_second_thread_retrying(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, down: bool, writes_failing: int
) -> None:
    monkeypatch.setattr(retry, "random", random.Random(3))
    inner = Flaky(tmp_path, down=down, writes_failing=writes_failing)
    writer_waits, listed = threading.Event(), threading.Event()

    def sleep(seconds: float) -> None:
        if threading.current_thread() is writer:
            writer_waits.set()
            assert listed.wait(30), "the listing never succeeded"
        else:
            inner.down = False  # the store comes back while the listing waits

    store = RetryingStore(inner, deadline=300.0, sleep=sleep)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            store.put("exp/t/beat.json", b"{}")
        except BaseException as exc:  # handed to the test's thread
            errors.append(exc)

    writer = threading.Thread(target=write)
    with caplog.at_level(logging.WARNING, logger=retry.__name__):
        writer.start()
        assert writer_waits.wait(30), "the write never failed"
        store.list("exp/")
        listed.set()
        writer.join(30)
    assert not errors and not writer.is_alive()
    assert inner.writes == 2, "the write landed on its second attempt"
    said = [r.getMessage() for r in caplog.records if r.name == retry.__name__ and r.levelno == logging.WARNING]
    assert len(said) == 2, said
    assert said[0].startswith("the store stopped answering: write of exp/t/beat.json failed: "), said
    assert said[1].startswith("the store answers again after ") and said[1].endswith("(write of exp/t/beat.json succeeded)"), said
