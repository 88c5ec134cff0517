"""The exit handler of a run that writes no status (its user interrupted it, or another run drives
the experiment) reads the state for decide-stop's best trial only: best effort. A store that
stops answering after the claim was read leaves the best trial out, with a warning, and the
decision stands; it is retried for a few seconds, not the rest of its retry window (300 s).

Time is a fake clock (the retry module's; it moves only when the store sleeps), the retries'
random source is seeded."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest

from clock import FakeClock
from down_store import ended_run
from kfp_tune.core import claims
from kfp_tune.core.decision import RUN_INTERRUPTED
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import ExperimentView
from kfp_tune.core.vocabulary import ExperimentPhase
from kfp_tune.steps.decide_stop import BEST_TRIAL_STORE_SECONDS, DRIVEN_BY_ANOTHER_RUN, EXPERIMENT_UNREADABLE, close_run
from kfp_tune.stores import retry
from kfp_tune.stores.retry import RetryingStore

FIRST_READ = "experiments/quad/"
"""The state's first request after the claim read: its listing (an experiment view lists, then
reads the experiment record, so a delete under way is not read as a state: aaa2676)."""


@pytest.mark.parametrize("ending", [RUN_INTERRUPTED, DRIVEN_BY_ANOTHER_RUN])
def test_a_store_failing_after_the_claim_read_leaves_the_best_trial_out_and_the_decision_as_it_is(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, ending: str
) -> None:
    """Review of 2c6bb9e: the interrupted run's exit handler raised ``StoreError: connection
    refused reading experiments/quad/experiment.json``, from a second read made to say why the
    first failed, where it had returned its decision."""
    store = ended_run(tmp_path, ending)
    store.down = True
    records = ExperimentRecords(store, "quad")
    with caplog.at_level(logging.WARNING, logger="kfp_tune.steps.decide_stop"):
        decision = close_run(records, "run-1", view=ExperimentView(records))
    assert (decision.phase, decision.reason, decision.best_trial) == (ExperimentPhase.RUNNING, ending, None)
    assert store.failed == [FIRST_READ], "one read failed; none made after it"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"no best trial for this run's end: the experiment's records could not be read (connection refused reading {FIRST_READ})"]


def test_the_best_trial_read_waits_a_few_seconds_for_a_store_that_stopped_answering_not_its_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Before 2c6bb9e these paths read no state; since, a store down after the claim read held
    the exit handler for the store's whole retry window (300 s by default) before it ended."""
    clock = FakeClock()
    monkeypatch.setattr(retry, "time", clock)
    monkeypatch.setattr(retry, "random", random.Random(5))
    inner = ended_run(tmp_path, RUN_INTERRUPTED)
    inner.down, inner.transient = True, True
    store = RetryingStore(inner, deadline=300.0, first_delay=0.2, max_delay=10.0, sleep=clock.sleep)
    records = ExperimentRecords(store, "quad")
    started = clock.now
    with caplog.at_level(logging.WARNING):
        decision = close_run(records, "run-1", view=ExperimentView(records))
    assert (decision.reason, decision.best_trial) == (RUN_INTERRUPTED, None)
    assert clock.now - started == pytest.approx(BEST_TRIAL_STORE_SECONDS), "given up when the cut window ends, not after 300 s"
    assert BEST_TRIAL_STORE_SECONDS < 300.0


def test_a_run_holding_its_claim_whose_store_fails_after_the_claim_read_ends_as_unreadable(tmp_path: Path) -> None:
    """The exit handler of a run that still holds its claim (a step failed) and writes the
    status: a store that stops answering after the claim read ends it with ExperimentUnreadable
    naming the failure, and the claim given back. It raised ``StoreError`` from a second read of
    the experiment record made inside the except to tell a missing experiment from a failing
    store (the first read already says which: ExperimentNotFound), which with a retrying store
    also waited out a second retry window."""
    store = ended_run(tmp_path, RUN_INTERRUPTED)
    records = ExperimentRecords(store, "quad")
    claims.claim(records, "run-2")
    store.down = True
    decision = close_run(records, "run-2", view=ExperimentView(records))
    assert (decision.phase, decision.reason) == (ExperimentPhase.RUNNING, EXPERIMENT_UNREADABLE)
    assert f"connection refused reading {FIRST_READ}" in decision.message
    assert store.failed == [FIRST_READ], "one read failed; none made after it"
    latest = claims.latest_claim(records, own_run="run-2")
    assert latest is not None and latest.run == "run-2" and latest.ended
