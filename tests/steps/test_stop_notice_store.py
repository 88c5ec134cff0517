"""A run stopped (SIGINT) while its store is not answering waits for the store's retry window,
not the 30 s its notice promised for the trials: the chaos run said "waiting up to 30 s ...;
send it again to stop at once" and then retried the store for 170 s. The notice now says the
store is not answering, how long recording the trials may take, and that a second signal gives
up; a store that stops answering while the run stops is told once, when it does. The retry
module's clock is a fake one; the outage ends at the store's first wait between attempts."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from clock import FakeClock
from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.errors import StoreError
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import ExperimentView
from kfp_tune.steps.slots import Checkpoint, _Schedule
from kfp_tune.stores import LocalStore, retry
from kfp_tune.stores.retry import RetryingStore

NOT_ANSWERING = "the store is not answering: recording the stopped trials may take up to 300 s more (the rest of its retry window, KFP_TUNE_STORE_RETRY_SECONDS)"


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = FakeClock()
    monkeypatch.setattr(retry, "time", clock)
    return clock


class Switchable:
    """A local store that fails every operation (transient) while ``down``."""

    def __init__(self, root: Path) -> None:
        self.inner, self.uri, self.down = LocalStore(root), "memory://switchable", False

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any) -> Any:
            if self.down:
                raise StoreError("connection refused", transient=True)
            return getattr(self.inner, name)(*args)

        return call


class Stoppable(Launcher):
    can_interrupt = True

    def run(self, trial: TrialRun) -> LaunchOutcome:
        raise AssertionError("no trial runs here")

    def interrupt(self, force: bool = False) -> None:
        pass


def _schedule(tmp_path: Path, between_attempts: Any) -> tuple[_Schedule, Switchable, RetryingStore]:
    inner = Switchable(tmp_path)
    store = RetryingStore(inner, deadline=300.0, sleep=between_attempts)  # type: ignore[arg-type]
    experiment = load_experiment(quadratic_experiment())
    records = ExperimentRecords(store, experiment.name)
    steps.prepare(records, experiment, "run-1")
    return _Schedule(ExperimentView(records), "run-1", Checkpoint(), adopt=False, hands_over=False), inner, store


def _notices(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "kfp_tune.steps.slots"]


def test_a_first_signal_while_the_store_is_down_says_the_store_sets_the_wait(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    def signal_then_store_back(seconds: float) -> None:  # the signal comes while the store is retried
        schedule.interrupt("SIGINT", Stoppable())
        inner.down = False

    schedule, inner, store = _schedule(tmp_path, signal_then_store_back)
    inner.down = True
    with caplog.at_level(logging.WARNING):
        store.get("anything")
    assert _notices(caplog) == [
        f"SIGINT: stopping the run's running trials, waiting up to 30 s for them to end; {NOT_ANSWERING}; send it again to give up"
    ]


def test_a_store_that_stops_answering_while_the_run_stops_is_told_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    def store_back(seconds: float) -> None:
        inner.down = False

    schedule, inner, store = _schedule(tmp_path, store_back)
    with caplog.at_level(logging.WARNING):
        schedule.interrupt("SIGTERM", Stoppable())
        for _ in range(2):  # two outages: the second is not told again
            inner.down = True
            store.get("anything")
    assert _notices(caplog) == [
        "SIGTERM: stopping the run's running trials, waiting up to 30 s for them to end; send it again to stop at once",
        f"{NOT_ANSWERING}; send SIGTERM again to give up",
    ]


def test_after_a_second_signal_a_store_outage_is_not_told_to_give_up_again(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    def store_back(seconds: float) -> None:
        inner.down = False

    schedule, inner, store = _schedule(tmp_path, store_back)
    with caplog.at_level(logging.WARNING):
        schedule.interrupt("SIGINT", Stoppable())
        schedule.interrupt("SIGINT", Stoppable())
        inner.down = True
        store.get("anything")
    assert not any("not answering" in notice for notice in _notices(caplog))
