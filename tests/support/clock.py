"""A clock for the claims' timing (run and trial TTLs, heartbeats, waits): wall and monotonic time
that move only when a test moves them or something sleeps. Patched in as ``claims.time``."""

from __future__ import annotations

import time as real_time
from typing import TypeVar

import pytest

from kfp_tune.core.vocabulary import RUN_TTL_VARIABLE, TRIAL_TTL_VARIABLE

START = 1_800_000_000.0  # 2027-01-15T08:00:00Z
OTHER_OWNER = "another-host/1"
"""A run's owner on another machine: only its silence for the TTL frees its claim."""


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self.strftime, self.gmtime = real_time.strftime, real_time.gmtime

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


C = TypeVar("C", bound=FakeClock)


def on_claims_clock(monkeypatch: pytest.MonkeyPatch, clock: C, owner: str) -> C:
    """``clock`` patched in as ``core.claims``' time, the run and trial TTLs at their defaults,
    and ``owner`` as the ``host/pid`` that owns the runs claimed."""
    from kfp_tune.core import claims

    monkeypatch.setattr(claims, "time", clock)
    monkeypatch.delenv(RUN_TTL_VARIABLE, raising=False)
    monkeypatch.delenv(TRIAL_TTL_VARIABLE, raising=False)
    monkeypatch.setenv(claims.OWNER_VARIABLE, owner)
    return clock
