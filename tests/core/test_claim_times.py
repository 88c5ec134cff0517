"""A run's claim and a trial's attempt against stored times no clock could have written: NaN,
Infinity, 1e300, or more than CLOCK_SKEW_SECONDS ahead of this machine's clock (one set wrong
where they were written, or damage). Taken as written, such a time kept a gone run's claim alive
until then (for ever at 1e300, where run and delete then failed with an OverflowError), and a NaN
kept a retry waiting for a dead attempt for ever. A time less far ahead is a clock that differs
(another node's, one stepped back), whatever the TTL: taken as written; and a run reading its own
claim never takes it for damage."""

from __future__ import annotations

import pytest

from clock import START, FakeClock
from kfp_tune.core import claims
from kfp_tune.core.claims import CLOCK_SKEW_SECONDS, DEFAULT_TTL, attempt_follows, check, claim, latest_claim, refuse_if_busy, release
from kfp_tune.core.errors import ExperimentBusy
from kfp_tune.core.records import DamagedRecord, ExperimentRecords, TrialStarted

FAR_AHEAD = START + 100 * 365 * 86400.0  # a clock a century ahead


def put_raw(records: ExperimentRecords, name: str, kind: str, fields: str) -> str:
    """A runs/ record written as JSON text, so that NaN and 1e300 are stored as Python reads them."""
    key = f"{records.root}/runs/{name}.json"
    records.store.put(key, f'{{"kind": "{kind}", "version": 1, {fields}}}'.encode())
    return key


@pytest.mark.parametrize("at", ["1e300", "NaN", "Infinity", repr(FAR_AHEAD), "1" + "0" * 400])
def test_a_heartbeat_no_clock_could_have_written_is_no_sign_of_life(clock: FakeClock, records: ExperimentRecords, at: str) -> None:
    """As a damaged heartbeat, it counts as none: the claim lapses its TTL after its own time,
    and a run that finds it busy before then is told when, without an error."""
    put_raw(records, "000001", "RunClaim", f'"run": "run-gone", "at": {START}, "ttl": 60, "holder": "another-host/1"')
    put_raw(records, "000001.beat", "RunHeartbeat", f'"run": "run-gone", "at": {at}')
    current = latest_claim(records)
    assert current is not None and current.last_seen == START
    clock.now = START + 30
    with pytest.raises(ExperimentBusy, match="until 2027-01-15T08:01:00Z"):
        refuse_if_busy(records)
    clock.now = START + 60
    assert claim(records, "run-next").run == "run-next"


@pytest.mark.parametrize("at", ["NaN", "Infinity", "1" + "0" * 400])
def test_a_claim_whose_time_is_no_number_is_damaged(clock: FakeClock, records: ExperimentRecords, at: str) -> None:
    key = put_raw(records, "000001", "RunClaim", f'"run": "run-a", "at": {at}, "ttl": 60')
    with pytest.raises(DamagedRecord) as info:
        latest_claim(records)
    assert info.value.key == key and "expected a run name, a time and a TTL" in info.value.problem


def test_a_claim_from_far_ahead_of_this_clock_is_damaged_until_its_run_ended(clock: FakeClock, records: ExperimentRecords) -> None:
    """Which run drives the experiment is then unknown: nothing may run (a live run on a clock
    set wrong is not taken over), and the message names the record and what was expected; an
    end record still says the run ended, whatever its times."""
    key = put_raw(records, "000001", "RunClaim", f'"run": "run-a", "at": 1e300, "ttl": {DEFAULT_TTL}')
    with pytest.raises(DamagedRecord) as info:
        claim(records, "run-b")
    assert info.value.key == key and "more than 3600 s ahead of this machine's clock" in info.value.problem
    assert "no run may claim the experiment until it is repaired" in info.value.problem
    put_raw(records, "000001.end", "RunEnded", '"run": "run-a", "at": 1e300, "reason": "Finished"')
    assert claim(records, "run-b").seq == 2


@pytest.mark.parametrize("ttl", [0, 5, 60])
def test_a_claim_less_than_an_hour_ahead_is_a_clock_that_differs_whatever_the_ttl(clock: FakeClock, records: ExperimentRecords, ttl: int) -> None:
    """Claimed from a node whose clock is 10 minutes ahead (or read on one stepped back), a live
    run's claim was damage once the TTL was under 10 minutes (any step back at TTL 0): the run
    itself and every other stopped on it. It is taken as written: busy until it lapses."""
    put_raw(records, "000001", "RunClaim", f'"run": "run-a", "at": {START + 600}, "ttl": {ttl}, "holder": "another-host/1"')
    current = latest_claim(records)
    assert current is not None and current.created == START + 600
    with pytest.raises(ExperimentBusy, match="run 'run-a'"):
        claim(records, "run-b")
    clock.now = START + 600 + ttl
    assert claim(records, "run-b").seq == 2


def test_a_busy_message_says_a_claim_from_a_clock_ahead_was_last_seen_at_its_time(clock: FakeClock, records: ExperimentRecords) -> None:
    """It said "last seen -1800 s ago"."""
    put_raw(records, "000001", "RunClaim", f'"run": "run-a", "at": {START + 1800}, "ttl": {DEFAULT_TTL}, "holder": "another-host/1"')
    with pytest.raises(ExperimentBusy) as info:
        refuse_if_busy(records)
    assert "run 'run-a' (claimed 2027-01-15T08:30:00Z, last seen at 2027-01-15T08:30:00Z (ahead of this machine's clock))" in str(info.value)
    clock.now = START + 1830
    with pytest.raises(ExperimentBusy, match=r"last seen 30 s ago\)"):
        refuse_if_busy(records)


def test_a_heartbeat_less_than_an_hour_ahead_is_a_sign_of_life_whatever_the_ttl(clock: FakeClock, records: ExperimentRecords) -> None:
    put_raw(records, "000001", "RunClaim", f'"run": "run-a", "at": {START}, "ttl": 5, "holder": "another-host/1"')
    put_raw(records, "000001.beat", "RunHeartbeat", f'"run": "run-a", "at": {START + CLOCK_SKEW_SECONDS}')
    clock.now = START + 30
    with pytest.raises(ExperimentBusy):
        refuse_if_busy(records)
    put_raw(records, "000001.beat", "RunHeartbeat", f'"run": "run-a", "at": {START + CLOCK_SKEW_SECONDS + 31}')  # just over: none
    refuse_if_busy(records)


@pytest.mark.parametrize("at", [START + 2 * CLOCK_SKEW_SECONDS, "1e300", "NaN"])
def test_a_run_never_takes_its_own_claim_for_damage(clock: FakeClock, records: ExperimentRecords, at: object) -> None:
    """Its steps check the claim every second: a time of its own claim no clock here could have
    written stopped the live run mid-trial (DamagedRecord), its trials left running. It reads as
    its own (check, a retried claim, release); another run is still refused it as damage."""
    put_raw(records, "000001", "RunClaim", f'"run": "run-a", "at": {at}, "ttl": 5, "holder": "another-host/1"')
    assert check(records, "run-a").run == "run-a"
    clock.advance(60)
    assert check(records, "run-a").seq == 1 and claim(records, "run-a").seq == 1
    with pytest.raises(DamagedRecord):
        claim(records, "run-b")
    release(records, "run-a", "Finished")
    assert claim(records, "run-b").seq == 2


@pytest.mark.parametrize("ttl", [0, 120])
def test_an_attempt_started_less_than_an_hour_ahead_is_followed(clock: FakeClock, records: ExperimentRecords, ttl: int) -> None:
    """Started on a node whose clock is 10 minutes ahead: a retry gave it up at once as dead."""
    started = TrialStarted(trial="t1", time="", at=START + 600, run="run-a", attempt="a1", owner="another-host/7")
    assert attempt_follows(records, "t1", started, ttl=ttl)


@pytest.mark.parametrize("at", [float("nan"), float("inf"), FAR_AHEAD])
def test_an_attempt_started_at_no_time_a_clock_gives_is_given_up(clock: FakeClock, records: ExperimentRecords, at: float) -> None:
    """A retried launch-trial waited for it for ever; it is as silent as an attempt that never beat."""
    started = TrialStarted(trial="t1", time="", at=at, run="run-a", attempt="a1", owner="another-host/7")
    assert not attempt_follows(records, "t1", started, ttl=120)
    alive = TrialStarted(trial="t1", time="", at=START, run="run-a", attempt="a1", owner="another-host/7")
    assert attempt_follows(records, "t1", alive, ttl=120)


@pytest.mark.parametrize("epoch", [1e300, float("nan"), float("inf"), -1e300])
def test_a_time_shown_to_people_never_fails(epoch: float) -> None:
    assert str(epoch) in claims.utc_text(epoch)


def test_a_claim_with_a_ttl_beyond_a_year_is_damaged(clock: FakeClock, records: ExperimentRecords) -> None:
    """Written by a kfp-tune that took KFP_TUNE_RUN_TTL_SECONDS=1e20: live for ever, were it read."""
    key = put_raw(records, "000001", "RunClaim", f'"run": "run-a", "at": {START}, "ttl": 1e20')
    with pytest.raises(DamagedRecord) as info:
        latest_claim(records)
    assert info.value.key == key and "a TTL (0 to 31536000 s)" in info.value.problem
