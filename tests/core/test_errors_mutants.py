"""What kfp-tune's errors promise their handlers: a store error is permanent unless its store says
it is transient, so the retrying store raises it at once (a wrong credential stops the step with
its own message instead of being retried for minutes); and a RunInterrupted raised without
arguments, as a launcher raises it when its trial was stopped, reads as Ctrl-C with no trial
recorded Killed."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from kfp_tune.core.errors import RunInterrupted, StoreError
from kfp_tune.stores import LocalStore
from kfp_tune.stores.retry import RetryingStore


class RefusesFirstRead:
    """A real local store whose first read fails with a StoreError given only its message, as a
    store reports access denied or a damaged record."""

    def __init__(self, inner: LocalStore):
        self.inner, self.uri = inner, inner.uri
        self.reads = 0

    def get(self, key: str) -> bytes | None:
        self.reads += 1
        if self.reads == 1:
            raise StoreError(f"access denied reading {key}")
        return self.inner.get(key)


def test_a_store_error_is_not_retried_unless_marked_transient(tmp_path: Path) -> None:
    inner = LocalStore(tmp_path / "store")
    inner.put("a/record.json", b"{}")
    flaky = RefusesFirstRead(inner)
    sleeps: list[float] = []
    store = RetryingStore(flaky, deadline=60.0, sleep=sleeps.append)
    with pytest.raises(StoreError, match="access denied"):
        store.get("a/record.json")
    assert flaky.reads == 1 and sleeps == [], "a permanent error is raised at once, never waited on"


def test_a_bare_run_interrupted_reads_as_ctrl_c_with_nothing_killed() -> None:
    exc = RunInterrupted()
    assert issubclass(RunInterrupted, KeyboardInterrupt), "code that handles Ctrl-C handles it"
    assert getattr(signal, exc.signal_name) == signal.SIGINT, exc.signal_name
    assert str(exc) == signal.SIGINT.name, "printed as the signal's name"
    assert exc.killed == 0


def test_run_interrupted_keeps_the_signal_and_the_trials_it_stopped() -> None:
    exc = RunInterrupted(signal.SIGTERM.name, 3)
    assert (exc.signal_name, exc.killed, str(exc)) == ("SIGTERM", 3, "SIGTERM")
