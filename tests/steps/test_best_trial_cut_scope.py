"""The exit handler that writes no status cuts its store's retry window for the best trial's read
only (review of 473f1fe): the cut used to hold for good, so the step's later reads and a Python
caller's next outage on the same store gave up after 5 s, with a message blaming a second signal.

Time is a fake clock (the retry module's; it moves only when the store sleeps), the retries'
random source is seeded."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest

from clock import FakeClock
from down_store import ended_run
from kfp_tune.core.decision import RUN_INTERRUPTED
from kfp_tune.core.errors import StoreError
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import ExperimentView
from kfp_tune.steps.decide_stop import BEST_TRIAL_CUT, BEST_TRIAL_STORE_SECONDS, close_run
from kfp_tune.stores import retry
from kfp_tune.stores.retry import SECOND_SIGNAL_CUT, RetryingStore

WINDOW = 300.0


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = FakeClock()
    monkeypatch.setattr(retry, "time", clock)
    monkeypatch.setattr(retry, "random", random.Random(5))
    return clock


def test_an_outage_after_an_interrupted_run_s_exit_handler_gets_the_whole_window(tmp_path: Path, clock: FakeClock) -> None:
    inner = ended_run(tmp_path, RUN_INTERRUPTED)
    store = RetryingStore(inner, deadline=WINDOW, sleep=clock.sleep)
    records = ExperimentRecords(store, "quad")
    decision = close_run(records, "run-1", view=ExperimentView(records))  # the store answers throughout
    assert decision.reason == RUN_INTERRUPTED and decision.best_trial is not None
    clock.sleep(3600)
    inner.down, inner.transient = True, True
    started = clock.now
    with pytest.raises(StoreError) as info:
        store.get("experiments/quad/experiment.json")
    assert clock.now - started == pytest.approx(WINDOW), "given up when the whole window ends, not 5 s into it"
    assert f"(the retry window, KFP_TUNE_STORE_RETRY_SECONDS={WINDOW:g})" in str(info.value)


def test_the_best_trial_read_s_give_up_names_its_cut_not_a_second_signal(tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    inner = ended_run(tmp_path, RUN_INTERRUPTED)
    inner.down, inner.transient = True, True
    store = RetryingStore(inner, deadline=WINDOW, sleep=clock.sleep)
    records = ExperimentRecords(store, "quad")
    with caplog.at_level(logging.WARNING, logger="kfp_tune.steps.decide_stop"):
        close_run(records, "run-1", view=ExperimentView(records))
    warnings = [r.getMessage() for r in caplog.records if r.name == "kfp_tune.steps.decide_stop"]
    assert len(warnings) == 1 and f"the store failing for {BEST_TRIAL_STORE_SECONDS:.1f} s ({BEST_TRIAL_CUT})" in warnings[0], warnings
    assert "second signal" not in warnings[0]


def test_a_second_signal_s_cut_made_during_a_scoped_cut_holds_after_it(tmp_path: Path, clock: FakeClock) -> None:
    inner = ended_run(tmp_path, RUN_INTERRUPTED)
    store = RetryingStore(inner, deadline=WINDOW, sleep=clock.sleep)
    with store.window_cut(1.0, "a scoped cut"):
        store.cut_window(5.0)
    inner.down, inner.transient = True, True
    started = clock.now
    with pytest.raises(StoreError, match=f"\\({SECOND_SIGNAL_CUT}\\)"):
        store.get("experiments/quad/experiment.json")
    assert clock.now - started == pytest.approx(5.0)
