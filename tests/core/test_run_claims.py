"""One run at a time (kfp_tune.core.claims), on a clock of its own: a live run keeps others
out and says who it is; a retried step is not a second run; a run that ended, went silent for
its TTL, or whose process is gone frees the experiment; take-over stops the old run at its
next step. The claims module's ``time`` is replaced, so every lapse is exact and nothing sleeps.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from clock import START
from kfp_tune.core import claims
from kfp_tune.core.claims import (
    Heartbeat,
    check,
    claim,
    hand_over_trial,
    latest_claim,
    refuse_if_busy,
    release,
    release_held_by,
    wait_for_attempt,
)
from kfp_tune.core.errors import ExperimentBusy, ExperimentConflict, InputError
from kfp_tune.core.records import ExperimentRecords, TrialEnded, TrialStarted
from kfp_tune.core.vocabulary import LaunchPhase


def test_a_live_run_keeps_others_out_and_says_who_it_is(clock, records):
    claim(records, "run-a", ttl=600)
    clock.advance(30)
    with pytest.raises(ExperimentBusy) as info:
        claim(records, "run-b", ttl=600)
    message = str(info.value)
    assert "experiment 'exp' is being run by run 'run-a' (claimed 2027-01-15T08:00:00Z, last seen 30 s ago)" in message
    assert "until 2027-01-15T08:10:00Z, when kfp-tune takes a run not heard from for 600 s as gone" in message and "--take-over" in message
    with pytest.raises(ExperimentBusy):
        refuse_if_busy(records)


def test_a_retried_step_of_the_same_run_is_not_a_second_run(clock, records):
    first = claim(records, "run-a", ttl=600)
    clock.advance(5)
    again = claim(records, "run-a", ttl=600)
    assert (again.seq, again.run) == (first.seq, "run-a") == (1, "run-a")
    assert records.store.list("experiments/exp/runs/") == ["experiments/exp/runs/000001.json"]


def test_a_run_that_ended_frees_the_experiment_at_once(clock, records):
    claim(records, "run-a", ttl=600)
    release(records, "run-a", "Succeeded")
    refuse_if_busy(records)
    assert latest_claim(records).ended  # type: ignore[union-attr]
    second = claim(records, "run-b", ttl=600)
    assert (second.seq, second.run) == (2, "run-b")
    release(records, "run-b", "Succeeded")
    with pytest.raises(ExperimentBusy, match="run 'run-b' of experiment 'exp' has already ended"):
        check(records, "run-b")


def test_a_claim_lapses_exactly_a_ttl_after_the_last_sign_of_life(clock, records):
    current = claim(records, "run-a", ttl=600)
    clock.advance(500)
    claims.beat(records, current)  # a step of run-a shows it is alive
    clock.advance(599)
    with pytest.raises(ExperimentBusy):
        claim(records, "run-b", ttl=600)
    clock.advance(1)  # 600 s since the beat
    assert claim(records, "run-b", ttl=600).seq == 2


def test_the_ttl_is_the_claiming_runs_own(clock, records, monkeypatch):
    monkeypatch.setenv("KFP_TUNE_RUN_TTL_SECONDS", "60")
    assert claim(records, "run-a").ttl == 60.0
    monkeypatch.setenv("KFP_TUNE_RUN_TTL_SECONDS", "6000")  # another run's setting does not stretch run-a's claim
    clock.advance(60)
    assert claim(records, "run-b").seq == 2


def test_a_run_whose_process_is_gone_frees_the_experiment_before_its_ttl(clock, records, monkeypatch):
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    monkeypatch.setenv(claims.OWNER_VARIABLE, claims.process_identity(int(done.stdout)))
    claim(records, "run-a", ttl=600)
    assert latest_claim(records).owner == claims.process_identity(int(done.stdout))  # type: ignore[union-attr]
    monkeypatch.setenv(claims.OWNER_VARIABLE, "another-host/1")
    assert claim(records, "run-b", ttl=600).seq == 2, "its process ended: it will never beat again"


def test_a_live_process_on_this_machine_keeps_its_claim(clock, records, monkeypatch):
    monkeypatch.setenv(claims.OWNER_VARIABLE, claims.this_process())
    claim(records, "run-a", ttl=600)
    with pytest.raises(ExperimentBusy):
        claim(records, "run-b", ttl=600)


def test_take_over_stops_the_old_run_at_its_next_step(clock, records):
    claim(records, "run-a", ttl=600)
    check(records, "run-a")
    taken = claim(records, "run-b", take_over=True, ttl=600)
    assert taken.seq == 2
    with pytest.raises(ExperimentBusy, match="now driven by run 'run-b', not by run 'run-a'") as info:
        check(records, "run-a")
    assert str(info.value) == "experiment 'exp' is now driven by run 'run-b', not by run 'run-a'; this run stops"
    assert info.value.reason == "experiment 'exp' is now driven by run 'run-b', not by run 'run-a'" and info.value.stops  # what a caller builds on
    assert check(records, "run-b").run == "run-b"


def test_a_run_taken_over_from_another_process_stops_within_a_second(clock, records):
    claim(records, "run-a", ttl=600)
    check(records, "run-a")
    # another process's claim: written to the store, unseen by this process's cache
    records.write_once("experiments/exp/runs/000002.json", "RunClaim", {"run": "run-b", "at": clock.now, "ttl": 600.0, "holder": "another-host/2"})
    clock.advance(0.5)
    assert check(records, "run-a").run == "run-a", "a check within a second is not re-read"
    clock.advance(0.5)
    with pytest.raises(ExperimentBusy, match="now driven by run 'run-b'"):
        check(records, "run-a")


def test_a_check_is_a_sign_of_life(clock, records):
    claim(records, "run-a", ttl=600)
    clock.advance(590)
    check(records, "run-a")
    clock.advance(590)
    with pytest.raises(ExperimentBusy):
        claim(records, "run-b", ttl=600)


def test_a_check_with_no_run_at_all_stops(clock, records):
    """No experiment at all (a mistyped name): said so, not 'driven by no run'; an experiment no
    run claimed: said so, and how a run claims it."""
    from kfp_tune.core.errors import ExperimentNotFound

    with pytest.raises(ExperimentNotFound, match=r"no experiment 'exp' in .*: a run's first step creates it"):
        check(records, "run-a")
    records.store.put(records.experiment_key(), b"{}")  # there, and no run claims it
    with pytest.raises(ExperimentBusy, match="run 'run-a' holds no claim of experiment 'exp', and no run has claimed it yet; a run claims it in"):
        check(records, "run-a")


def test_an_experiment_gone_during_its_run_is_said_to_be_gone_not_mistyped(clock, records):
    """Its store folder moved away while the run drove it: a runtime failure saying so, not the
    "no experiment ... is the name or the store mistyped?" a user's input error gets (exit 2)."""
    from kfp_tune.core.errors import ExperimentNotFound, StoreError

    records.store.put(records.experiment_key(), b"{}")
    claim(records, "run-a", ttl=600)
    check(records, "run-a")
    records.store.delete(records.store.list(records.root + "/"))
    clock.advance(1.0)
    with pytest.raises(StoreError, match=r"experiment 'exp' is gone from .* while run 'run-a' drove it") as info:
        check(records, "run-a")
    assert not isinstance(info.value, ExperimentNotFound)


def test_release_held_by_ends_only_the_owners_live_run(clock, records, monkeypatch):
    monkeypatch.setenv(claims.OWNER_VARIABLE, "cli-host/42")
    claim(records, "run-a", ttl=600)
    assert release_held_by(records, "cli-host/43", "Interrupted") is None
    assert not latest_claim(records).ended  # type: ignore[union-attr]
    assert release_held_by(records, "cli-host/42", "Interrupted") == "run-a"
    ended = latest_claim(records)
    assert ended is not None and ended.ended and ended.reason == "Interrupted"
    assert release_held_by(records, "cli-host/42", "Interrupted") is None, "an ended run is not ended twice"


def test_releasing_another_runs_claim_does_nothing(clock, records):
    claim(records, "run-a", ttl=600)
    release(records, "run-b", "Succeeded")
    assert not latest_claim(records).ended  # type: ignore[union-attr]


def started(records: ExperimentRecords, owner: str = "another-host/7") -> TrialStarted:
    record = TrialStarted(trial="t1", time="", at=START, run="run-a", attempt="a1", owner=owner)
    return records.create_typed(records.trial_key("t1", "started"), record)


def test_waiting_for_another_attempt_returns_its_end(clock, records):
    first = started(records)
    records.create_typed(records.trial_key("t1", "ended"), TrialEnded(trial="t1", phase=LaunchPhase.SUCCEEDED))
    ended = wait_for_attempt(records, "t1", first)
    assert ended is not None and ended.phase == LaunchPhase.SUCCEEDED


def test_an_attempt_silent_for_the_trial_ttl_is_given_up(clock, records, monkeypatch):
    monkeypatch.setenv("KFP_TUNE_TRIAL_TTL_SECONDS", "40")
    first = started(records)
    assert wait_for_attempt(records, "t1", first, poll=3.0) is None
    assert START + 40 < clock.now <= START + 43, "given up at the first poll past the TTL"


def test_a_beating_attempt_is_waited_for(clock, records, monkeypatch):
    monkeypatch.setenv("KFP_TUNE_TRIAL_TTL_SECONDS", "40")
    first = started(records)

    def beat_then_end(seconds: float) -> None:
        clock.advance(seconds)
        if clock.now < START + 100:
            claims.beat_trial(records, "t1", "a1")  # the other attempt is alive
        else:
            records.create_typed(records.trial_key("t1", "ended"), TrialEnded(trial="t1", phase=LaunchPhase.FAILED))

    clock.sleep = beat_then_end  # type: ignore[method-assign]
    ended = wait_for_attempt(records, "t1", first, poll=5.0)
    assert ended is not None and ended.phase == LaunchPhase.FAILED
    assert clock.now >= START + 100, "it waited past the TTL because the attempt kept beating"


def test_a_handed_over_trial_is_reattached_without_waiting(clock, records):
    first = started(records)
    hand_over_trial(records, "t1", "a1")
    assert wait_for_attempt(records, "t1", first) is None
    assert clock.now == START


def test_a_heartbeat_beats_for_the_run_and_the_trial_when_entered(clock, records):
    current = claim(records, "run-a", ttl=600)
    clock.advance(300)
    with Heartbeat(records, current, trial="t1", attempt="a1") as heartbeat:
        assert latest_claim(records).last_seen == START + 300  # type: ignore[union-attr]
        beat = records.read(records.trial_key("t1", "beat"), "TrialHeartbeat")
        assert beat is not None and (beat["trial"], beat["attempt"], beat["at"]) == ("t1", "a1", START + 300)
        assert beat["owner"] == claims.this_process()
    assert heartbeat.interval == 30.0, "a quarter of the shorter TTL: the trial's 120 s"


# --- calls: a tuning step called more than once in one pipeline run ------------------------------


def test_each_call_of_a_pipeline_run_is_a_run_of_its_own_and_only_one_call_tunes_an_experiment(clock, records):
    """QA pipe2.py: two calls of one tuning step in one pipeline run (two steps, or a
    ParallelFor) shared the run's claim; the second handed on the first one's best. Each call's
    run id now holds its call id, and a second call on the experiment is refused, however the
    calls are ordered and whatever take_over says; a retry of the first is not refused."""
    first, second = claims.call_run_id("job-7", "101"), claims.call_run_id("job-7", "202")
    assert first != second and claims.job_and_call(first) == ("job-7", "101") and claims.job_and_call("job-7") == ("job-7", "")
    assert claims.call_run_id("job-7", "") == "job-7"
    claim(records, first, ttl=600)
    release(records, first, "Succeeded")  # the first call has ended (kfp.local runs the calls one after the other)
    for take_over in (False, True):
        with pytest.raises(ExperimentConflict) as refused:
            claim(records, second, take_over=take_over, ttl=600)
        message = str(refused.value)
        assert message.startswith("experiment 'exp' is already tuned by another call in this pipeline run ('job-7', call '101'; this is call '202')")
        assert message.endswith("Give each call its own experiment_name, or fresh_experiment=True (an experiment of its own for each call of each run)")
    assert claim(records, first, ttl=600).run == first  # a retry of the first call's run
    assert claim(records, claims.call_run_id("job-8", "303"), take_over=True, ttl=600).run == "job-8.call-303"  # a later pipeline run resumes
    with pytest.raises(InputError, match="call_id: expected letters, digits and '-'"):
        claims.call_run_id("job-7", "a/b")


def test_a_second_run_in_the_same_process_is_told_to_wait_not_to_kill_itself(tmp_path):
    """A notebook that calls tune() again while its first call runs in a thread: the run that
    holds the experiment is this very process, so the message says so and offers no kill."""
    import threading

    from kfp_tune import search, tune
    from kfp_tune.core.errors import ExperimentBusy

    release, started = threading.Event(), threading.Event()

    def objective(params: dict) -> float:
        started.set()
        assert release.wait(120)
        return 0.5

    def first() -> None:
        tune(objective, {"x": search.double(0, 1)}, max_trial_count=1, store=str(tmp_path), name="held")

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert started.wait(120)
        try:
            tune(lambda p: 0.5, {"x": search.double(0, 1)}, max_trial_count=1, store=str(tmp_path), name="held")
        except ExperimentBusy as exc:
            message = str(exc)
        else:
            raise AssertionError("the second call ran")
        assert message.startswith("experiment 'held' is being run by run '") and message.endswith(", this process: wait for it to end")
    finally:
        release.set()
        thread.join(120)


@pytest.mark.parametrize(("instead", "again"), [(claims.TAKE_OVER, "run again"), (claims.STOP_FIRST, "try again")])
def test_a_busy_experiment_held_by_another_process_here_names_it_for_a_run_and_a_delete(local_store, instead, again):
    """A run or a delete refused over a live run of this machine names its process and how to stop
    it; the delete said to wait out the TTL or terminate a KFP run (a review)."""
    import time

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        now = time.time()
        holder = claims.Claim(seq=1, run="run-x", created=now, last_seen=now, ended=False, ttl=900.0, owner=claims.process_identity(child.pid))
        message = str(claims.busy(ExperimentRecords(local_store, "exp"), holder, now, instead))
        assert message.endswith(f", process {child.pid} on this machine: wait for it to end, or stop it (Ctrl-C where it runs, "
                                f"or kill {child.pid}: its running trials are given back) and {again}")
        child.kill()
        child.wait(30)
        gone = str(claims.busy(ExperimentRecords(local_store, "exp"), holder, now, instead))
        assert "on this machine" not in gone and instead in gone  # a gone owner: the usual advice
    finally:
        child.kill()


def test_a_claim_is_this_process_s_run_s_when_made_since_it_began(clock, records, monkeypatch):
    """kfp-tune run's read of whether its run claimed the experiment (a store refusal mid-run):
    this process's newest claim, made since the run began, a second's slack for this clock."""
    assert not claims.held_by_this_process(records, START)
    claim(records, "run-a", ttl=600)
    assert claims.held_by_this_process(records, START) and claims.held_by_this_process(records, START + claims.OWN_CLAIM_SLACK_SECONDS)
    assert not claims.held_by_this_process(records, START + claims.OWN_CLAIM_SLACK_SECONDS + 0.5)  # an earlier run of this process claimed it
    monkeypatch.setattr(claims, "run_owner", lambda: "another-host/2")
    assert not claims.held_by_this_process(records, START)
