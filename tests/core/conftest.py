"""Fixtures the core tests share: an empty experiment's records, and the claims' clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from clock import OTHER_OWNER, FakeClock, on_claims_clock
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.stores.local import LocalStore


@pytest.fixture
def records(tmp_path: Path) -> ExperimentRecords:
    """Experiment ``exp``'s records in an empty folder store (nothing written yet)."""
    return ExperimentRecords(LocalStore(tmp_path / "store"), "exp")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """``core.claims`` on a clock that moves only when told; the TTLs at their defaults; the run
    owned by a process of another machine (only its silence frees its claim)."""
    return on_claims_clock(monkeypatch, FakeClock(), OTHER_OWNER)
