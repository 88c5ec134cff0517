"""Retries with backoff around a store, for failures that go away on their own.

A store says which failures are transient (``StoreError.transient``): a dropped connection, a
5xx, a slow-down. Those are retried with exponential backoff and jitter until ``deadline``
seconds have passed; anything else is raised at once, so a wrong credential or a missing
bucket stops the step with its own message instead of hanging.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from kfp_tune.core.errors import StoreError
from kfp_tune.core.interfaces import Store

T = TypeVar("T")
log = logging.getLogger(__name__)

DEFAULT_DEADLINE = 300.0
"""Seconds a store operation keeps being retried: long enough for an object store to restart."""


def deadline_from_env() -> float:
    raw = os.environ.get("KFP_TUNE_STORE_RETRY_SECONDS")
    return float(raw) if raw else DEFAULT_DEADLINE


class RetryingStore:
    """A store whose transient failures are retried: same interface, same URI."""

    def __init__(
        self,
        inner: Store,
        deadline: float | None = None,
        first_delay: float = 0.2,
        max_delay: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.inner = inner
        self.uri = inner.uri
        self.deadline = deadline_from_env() if deadline is None else deadline
        self.first_delay, self.max_delay, self._sleep = first_delay, max_delay, sleep

    def __repr__(self) -> str:
        return f"RetryingStore({self.inner!r})"

    def _retry(self, what: str, call: Callable[[], T]) -> T:
        started = time.monotonic()
        delay = self.first_delay
        attempt = 1
        while True:
            try:
                return call()
            except StoreError as exc:
                waited = time.monotonic() - started
                if not exc.transient or waited + delay > self.deadline:
                    raise
                log.warning("%s failed (attempt %d, %.0f s so far), retrying in %.1f s: %s", what, attempt, waited, delay, exc)
                self._sleep(delay * random.uniform(0.5, 1.0))
                delay = min(self.max_delay, delay * 2)
                attempt += 1

    def get(self, key: str) -> bytes | None:
        return self._retry(f"read of {key}", lambda: self.inner.get(key))

    def put(self, key: str, data: bytes) -> None:
        self._retry(f"write of {key}", lambda: self.inner.put(key, data))

    def list(self, prefix: str) -> list[str]:
        return self._retry(f"listing of {prefix}", lambda: self.inner.list(prefix))

    def delete(self, keys: Sequence[str]) -> None:
        self._retry(f"delete of {len(keys)} key(s)", lambda: self.inner.delete(keys))

    def create(self, key: str, data: bytes) -> bool:
        """A create whose first attempt failed may have written the object before the failure;
        a retry then finds the key taken. It is ours if it holds our bytes."""
        failed_once = False

        def attempt() -> bool:
            nonlocal failed_once
            try:
                created = self.inner.create(key, data)
            except StoreError as exc:
                failed_once = failed_once or exc.transient
                raise
            if not created and failed_once:
                return self.inner.get(key) == data
            return created

        return self._retry(f"create of {key}", attempt)
