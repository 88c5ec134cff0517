"""A clock for the claims' timing (run and trial TTLs, heartbeats, waits): wall and monotonic time
that move only when a test moves them or something sleeps. Patched in as ``claims.time``."""

from __future__ import annotations

import time as real_time

START = 1_800_000_000.0  # 2027-01-15T08:00:00Z


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
