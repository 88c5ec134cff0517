"""An ended run whose store stops answering after the claim read: what the exit handler of a
run its user interrupted (or one another run drives) meets when the store goes down at its end."""

from __future__ import annotations

from pathlib import Path

from conftest import quadratic_experiment
from kfp_tune.core import claims
from kfp_tune.core.errors import StoreError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher
from kfp_tune.steps.decide_stop import DRIVEN_BY_ANOTHER_RUN
from kfp_tune.stores import LocalStore


class DownButClaims(LocalStore):
    """A store that, once ``down``, fails every operation but those on the runs' claims (read
    just before, as the exit handler does): it stopped answering after the claim read."""

    down = False
    transient = False
    failed: list[str]

    def _reach(self, key: str) -> None:
        if self.down and "/runs/" not in key:
            self.failed.append(key)
            raise StoreError(f"connection refused reading {key}", transient=self.transient)

    def get(self, key: str) -> bytes | None:
        self._reach(key)
        return super().get(key)

    def list(self, prefix: str) -> list[str]:
        self._reach(prefix)
        return super().list(prefix)

    def put(self, key: str, data: bytes) -> None:
        self._reach(key)
        super().put(key, data)

    def create(self, key: str, data: bytes) -> bool:
        self._reach(key)
        return super().create(key, data)


def ended_run(tmp_path: Path, ending: str) -> DownButClaims:
    """An experiment with three trials whose run ``run-1`` ended as ``ending`` says: interrupted by
    its user, or refused because ``run-2`` drives the experiment."""
    store = DownButClaims(tmp_path / "store")
    store.failed = []
    run_inline(store, load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 3})), LocalLauncher())
    records = ExperimentRecords(store, "quad")
    claims.claim(records, "run-1")
    claims.release(records, "run-1", claims.INTERRUPTED)
    if ending == DRIVEN_BY_ANOTHER_RUN:
        claims.claim(records, "run-2")
    return store
