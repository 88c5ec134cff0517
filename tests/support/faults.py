"""Fault injection for tests: a store that fails now and then, a launcher that dies mid-launch
(and with it the process that stands for its step), and an experiment whose trials record every
start in a ledger and can be held at a gate until the test lets them finish."""

from __future__ import annotations

import random
import shlex
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conftest import QUADRATIC, quadratic_experiment
from kfp_tune.core import claims
from kfp_tune.core.errors import StoreError
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, Store, TrialRun
from kfp_tune.stores.local import LocalStore


class FailsFirst(LocalStore):
    """A local store whose next ``failures`` operations (of any kind) fail with a transient
    error, each saying how many more are to come: an outage that ends after a known number of
    attempts."""

    def __init__(self, root: Path, failures: int) -> None:
        super().__init__(root)
        self.failures = failures

    def _fail(self) -> None:
        if self.failures:
            self.failures -= 1
            raise StoreError(f"connection reset ({self.failures} more to come)", transient=True)

    def get(self, key: str) -> bytes | None:
        self._fail()
        return super().get(key)

    def put(self, key: str, data: bytes) -> None:
        self._fail()
        super().put(key, data)

    def list(self, prefix: str) -> list[str]:
        self._fail()
        return super().list(prefix)

    def create(self, key: str, data: bytes) -> bool:
        self._fail()
        return super().create(key, data)

    def delete(self, keys: list[str]) -> None:
        self._fail()
        super().delete(keys)


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

    def delete(self, keys: Sequence[str]) -> None:
        fail, after = self._roll()
        if fail and not after:
            raise self._fail(f"delete of {len(keys)} key(s)")
        self.inner.delete(keys)
        if fail:
            raise self._fail(f"delete of {len(keys)} key(s) (after it was done)")

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


class StepProcesses:
    """Who a launch-trial attempt's records name as its owner, in tests that run the steps as
    calls in this process. A real attempt is a process (a pod), and a retry sees at once that a
    killed one on this machine is gone, by its pid. Here the owner is a stand-in child process,
    killed when a :class:`CountingLauncher` dies, so that a killed step is recognised the same
    way, at once, instead of by a trial TTL racing the clock. Installed over
    ``claims.this_process`` by tests/reliability/conftest.py."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: subprocess.Popen[bytes] | None = None

    def owner(self) -> str:
        """The identity (claims.process_identity) of the live stand-in, started when there is none (after a kill)."""
        with self._lock:
            if self._current is None:
                self._current = subprocess.Popen([sys.executable, "-S", "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
            return claims.process_identity(self._current.pid)

    def kill(self) -> None:
        """The step process dies: its pid is gone from this machine once this returns."""
        with self._lock:
            if self._current is not None:
                self._current.kill()
                self._current.communicate()  # reaped, and its stdin pipe closed
                self._current = None

    def close(self) -> None:
        self.kill()


STEP_PROCESSES: StepProcesses | None = None
"""The stand-ins in use (set by tests/reliability/conftest.py), killed with a dying launcher."""


class CountingLauncher(Launcher):
    """Counts the trials it starts; can die right after starting chosen trials, before the
    outcome is recorded (as a killed launch-trial pod would): the step's stand-in process
    (:data:`STEP_PROCESSES`) dies with it."""

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
            if STEP_PROCESSES is not None:
                STEP_PROCESSES.kill()
            raise StepKilled(trial.trial)
        return self.inner.run(trial)


GATED_TRIAL = textwrap.dedent("""
    import os, runpy, sys, time
    args = dict(a.split("=", 1) for a in sys.argv[2:])
    with open(args["ledger"], "a") as ledger:
        ledger.write(args["trial"] + "\\n")
    deadline = time.monotonic() + 600  # reached only when a test forgot to open the gate
    while not any(os.path.exists(os.path.join(args["gate"], name)) for name in (args["trial"], "all")):
        if time.monotonic() > deadline:
            sys.exit("the gate never opened")
        time.sleep(0.05)
    sys.argv = [sys.argv[1]] + [a for a in sys.argv[2:] if a.split("=", 1)[0] not in ("ledger", "gate")]
    runpy.run_path(sys.argv[0], run_name="__main__")
""")
"""A trial that writes its ledger line, then waits at the gate, then runs quadratic.py."""


def ledger_experiment(
    ledger: Path, name: str = "ledger", sleep: float = 0.0, fail_below: float = -1.0, gate: Path | None = None, **overrides: Any
) -> dict[str, Any]:
    """The quadratic experiment; each trial appends its name to ``ledger`` when it starts. With
    ``gate``, each trial then waits until :func:`open_gate` lets it (or every trial) finish, so
    a test can hold trials running for as long as it needs, instead of guessing a sleep."""
    doc = quadratic_experiment(**{"metadata.name": name, **overrides})
    template = doc["spec"]["trialTemplate"]
    template["trialParameters"].append({"name": "trialName", "reference": "${trialSpec.Name}"})
    container = template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["args"] = [
        "x=${trialParameters.x}", "y=${trialParameters.y}", "trial=${trialParameters.trialName}",
        f"ledger={ledger}", f"sleep={sleep}", f"fail_below={fail_below}",
    ]
    if gate is not None:
        container["command"] = ["python3", "-c", shlex.quote(GATED_TRIAL), str(QUADRATIC)]  # one word of Katib's sh -c line
        container["args"].append(f"gate={gate}")
    return doc


def open_gate(gate: Path, trial: str = "all") -> None:
    """Let ``trial`` (or, by default, every trial, those to come too) past the gate."""
    gate.mkdir(parents=True, exist_ok=True)
    (gate / trial).touch()


def ledger_counts(ledger: Path) -> Counter[str]:
    return Counter(line for line in ledger.read_text().splitlines() if line) if ledger.exists() else Counter()
