"""Fault injection for tests: a store that fails now and then, a launcher that dies mid-launch,
and an experiment whose trials record every start in a ledger."""

from __future__ import annotations

import random
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from conftest import quadratic_experiment
from kfp_tune.core.errors import StoreError
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, Store, TrialRun


class FlakyStore:
    """Wraps a store; each operation fails with a transient StoreError with probability
    ``rate`` (seeded). A failing write may fail before or after it reached the store, as a
    dropped connection does."""

    def __init__(self, inner: Store, rate: float, seed: int = 0):
        self.inner, self.rate, self.uri = inner, rate, inner.uri
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.failures = 0

    def _roll(self) -> tuple[bool, bool]:
        with self.lock:
            fail = self.random.random() < self.rate
            after = self.random.random() < 0.5
            self.failures += fail
            return fail, after

    def _fail(self, what: str) -> StoreError:
        return StoreError(f"injected fault: {what} (transient)", transient=True)

    def get(self, key: str) -> bytes | None:
        fail, _ = self._roll()
        if fail:
            raise self._fail(f"read of {key}")
        return self.inner.get(key)

    def list(self, prefix: str) -> list[str]:
        fail, _ = self._roll()
        if fail:
            raise self._fail(f"listing of {prefix}")
        return self.inner.list(prefix)

    def put(self, key: str, data: bytes) -> None:
        fail, after = self._roll()
        if fail and not after:
            raise self._fail(f"write of {key}")
        self.inner.put(key, data)
        if fail:
            raise self._fail(f"write of {key} (after it landed)")

    def create(self, key: str, data: bytes) -> bool:
        fail, after = self._roll()
        if fail and not after:
            raise self._fail(f"create of {key}")
        created = self.inner.create(key, data)
        if fail:
            raise self._fail(f"create of {key} (after it landed)")
        return created


class StepKilled(BaseException):
    """Stands for the launch-trial process dying: not an Exception, so nothing handles it."""


class CountingLauncher(Launcher):
    """Counts the trials it starts; can die right after starting chosen trials, before the
    outcome is recorded (as a killed launch-trial pod would)."""

    def __init__(self, inner: Any, die_after_start: set[str] | None = None, die_rate: float = 0.0, seed: int = 0):
        self.inner = inner
        self.starts: Counter[str] = Counter()
        self.die_after_start = set(die_after_start or ())
        self.die_rate, self.random = die_rate, random.Random(seed)
        self.lock = threading.Lock()

    def run(self, trial: TrialRun) -> LaunchOutcome:
        with self.lock:
            self.starts[trial.trial] += 1
            die = trial.trial in self.die_after_start or self.random.random() < self.die_rate
            self.die_after_start.discard(trial.trial)
        if die:
            raise StepKilled(trial.trial)
        return self.inner.run(trial)


def ledger_experiment(ledger: Path, name: str = "ledger", sleep: float = 0.0, fail_below: float = -1.0, **overrides: Any) -> dict[str, Any]:
    """The quadratic experiment; each trial appends its name to ``ledger`` when it starts."""
    doc = quadratic_experiment(**{"metadata.name": name, **overrides})
    template = doc["spec"]["trialTemplate"]
    template["trialParameters"].append({"name": "trialName", "reference": "${trialSpec.Name}"})
    container = template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["args"] = [
        "x=${trialParameters.x}", "y=${trialParameters.y}", "trial=${trialParameters.trialName}",
        f"ledger={ledger}", f"sleep={sleep}", f"fail_below={fail_below}",
    ]
    return doc


def ledger_counts(ledger: Path) -> Counter[str]:
    return Counter(line for line in ledger.read_text().splitlines() if line) if ledger.exists() else Counter()
