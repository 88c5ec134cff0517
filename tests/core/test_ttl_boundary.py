"""One boundary for "silent too long", for a run's claim and for a trial's launch attempt.

A run's claim lapsed when its last sign of life was ``ttl`` seconds ago or more, while a retried
launch-trial went on waiting for an attempt silent for exactly its trial TTL. Both now count
"exactly the TTL" as lapsed (``Claim.live`` and ``wait_for_attempt`` say so). The claims
module's clock is replaced, so the boundary is hit exactly and nothing sleeps."""

from __future__ import annotations

import pytest

from clock import START, FakeClock, on_claims_clock
from kfp_tune.core.claims import Claim, claim, wait_for_attempt
from kfp_tune.core.errors import ExperimentBusy
from kfp_tune.core.records import ExperimentRecords, TrialStarted

ELSEWHERE = "another-host/7"
"""An owner on another machine: only silence can tell that it is gone."""


class StillWaiting(Exception):
    """Raised by the clock's sleep: wait_for_attempt judged the attempt alive and went to wait."""


class Clock(FakeClock):
    """Stops the test at the first wait, when ``stop_on_sleep`` is set."""

    stop_on_sleep = False

    def sleep(self, seconds: float) -> None:
        if self.stop_on_sleep:
            raise StillWaiting
        super().sleep(seconds)


@pytest.fixture
def stopping_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """conftest's ``clock``, able to stop a test at the first wait; the run owned ELSEWHERE."""
    return on_claims_clock(monkeypatch, Clock(), ELSEWHERE)


def started_at(records: ExperimentRecords, at: float) -> TrialStarted:
    record = TrialStarted(trial="t1", time="", at=at, run="run-a", attempt="a1", owner=ELSEWHERE)
    return records.create_typed(records.trial_key("t1", "started"), record)


def attempt_is_dead(records: ExperimentRecords, started: TrialStarted, clock: Clock) -> bool:
    """wait_for_attempt's verdict at the clock's present moment, without letting time pass."""
    clock.stop_on_sleep = True
    try:
        return wait_for_attempt(records, "t1", started) is None
    except StillWaiting:
        return False
    finally:
        clock.stop_on_sleep = False


@pytest.mark.parametrize("ttl", [40.0, 2.5, 900.0])
@pytest.mark.parametrize("silence", [-0.5, 0.0, 0.5])
def test_a_claim_and_a_trial_attempt_lapse_at_the_same_moment(
    stopping_clock: Clock, records: ExperimentRecords, monkeypatch: pytest.MonkeyPatch, ttl: float, silence: float
) -> None:
    """Silent for ttl + silence seconds: lapsed exactly when silence >= 0, for both."""
    monkeypatch.setenv("KFP_TUNE_TRIAL_TTL_SECONDS", str(ttl))
    started = started_at(records, START)
    run = Claim(1, "run-a", START, START, False, ttl, ELSEWHERE)
    stopping_clock.now = START + ttl + silence
    expected_lapsed = silence >= 0
    assert (not run.live(stopping_clock.now)) == expected_lapsed
    assert attempt_is_dead(records, started, stopping_clock) == expected_lapsed


def test_an_attempt_silent_for_exactly_its_ttl_is_given_up_at_that_poll(stopping_clock: Clock, records: ExperimentRecords, monkeypatch: pytest.MonkeyPatch) -> None:
    """Polled every quarter TTL, the fourth poll lands exactly on the TTL and gives up there,
    not a quarter TTL later."""
    monkeypatch.setenv("KFP_TUNE_TRIAL_TTL_SECONDS", "40")
    started = started_at(records, START)
    assert wait_for_attempt(records, "t1", started, poll=1000.0) is None
    assert stopping_clock.now == START + 40
    assert stopping_clock.sleeps == [10.0] * 4


def test_a_new_run_may_claim_exactly_a_ttl_after_the_last_sign_of_life(stopping_clock: Clock, records: ExperimentRecords) -> None:
    claim(records, "run-a", ttl=40)
    stopping_clock.now = START + 39.5
    with pytest.raises(ExperimentBusy):
        claim(records, "run-b", ttl=40)
    stopping_clock.now = START + 40
    assert claim(records, "run-b", ttl=40).run == "run-b"
