"""A run of one's own pipeline under kfp.local, each step a process of its own, killed (kill -9,
or Ctrl-C, which skips its exit handler): its claim is freed as soon as its processes are gone
and a short hand-over grace after its last sign of life is past, not after the 15-minute TTL
(review C of the claim fixes, finding 1). A claim taken by such a step holds across the gap
between it and the run's next step, when no later step has beaten yet (finding 2). A killed
``kfp-tune run`` or ``tune()`` is still taken over at once, a pod's claim after its TTL."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from clock import START
from kfp_tune.core import claims
from kfp_tune.core.claims import HAND_OVER_SECONDS, check, claim, latest_claim
from kfp_tune.core.errors import ExperimentBusy


def _gone_process() -> str:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    return claims.process_identity(int(done.stdout))


def _claimed_by_a_gone_step(records, monkeypatch, run: str = "run-a") -> claims.Claim:
    """``run``'s suggest step under kfp.local (no KFP_TUNE_RUN_OWNER) claimed and beat, then ended."""
    gone = _gone_process()
    monkeypatch.delenv(claims.OWNER_VARIABLE, raising=False)
    monkeypatch.setattr(claims, "this_process", lambda: gone)
    with claims.one_step_of_a_run():
        current = claim(records, run, ttl=900)
    claims.beat(records, current)  # suggest's own claims.check
    monkeypatch.setenv(claims.OWNER_VARIABLE, "another-host/7")  # the next run's
    return current


def test_a_killed_own_pipelines_claim_is_free_once_its_steps_are_gone_and_the_grace_past(clock, records, monkeypatch):
    current = _claimed_by_a_gone_step(records, monkeypatch)
    clock.advance(20)
    monkeypatch.setenv(claims.OWNER_VARIABLE, _gone_process())  # launch-trial, a later step, beat; then the run was killed
    claims.beat(records, current)
    monkeypatch.setenv(claims.OWNER_VARIABLE, "another-host/7")
    clock.advance(HAND_OVER_SECONDS - 1)
    with pytest.raises(ExperimentBusy, match=r"is being run by run 'run-a'") as info:
        claim(records, "run-b")
    assert f"until {claims.utc_text(START + 20 + HAND_OVER_SECONDS)}" in str(info.value), "it lapses a grace after its last beat, not the TTL"
    clock.advance(1)
    taken = claim(records, "run-b")
    assert (taken.seq, taken.run) == (2, "run-b"), "taken over a grace after the last beat, not 15 minutes"


def test_a_gap_between_the_suggest_step_and_the_next_is_covered(clock, records, monkeypatch):
    _claimed_by_a_gone_step(records, monkeypatch)
    assert latest_claim(records).holder_is_one_step  # type: ignore[union-attr]
    clock.advance(3)  # the suggest step has ended; the next step has not beaten yet
    with pytest.raises(ExperimentBusy, match=r"is being run by run 'run-a'"):
        claim(records, "run-b")
    assert check(records, "run-a").run == "run-a", "run-a's next step goes on"


def test_the_gap_grace_ends_when_no_step_came(clock, records, monkeypatch):
    _claimed_by_a_gone_step(records, monkeypatch)
    clock.advance(HAND_OVER_SECONDS)
    assert claim(records, "run-b").seq == 2


def test_a_later_step_that_still_runs_keeps_the_claim_for_its_ttl(clock, records, monkeypatch):
    current = _claimed_by_a_gone_step(records, monkeypatch)
    monkeypatch.setenv(claims.OWNER_VARIABLE, claims.process_identity(os.getpid()))  # launch-trial, running
    claims.beat(records, current)
    monkeypatch.setenv(claims.OWNER_VARIABLE, "another-host/7")
    clock.advance(899)
    with pytest.raises(ExperimentBusy, match=r"is being run by run 'run-a'"):
        claim(records, "run-b")


def test_a_killed_kfp_tune_run_or_tune_is_taken_over_at_once(clock, records, monkeypatch):
    """No step context, or a step under KFP_TUNE_RUN_OWNER (kfp-tune run's kfp.local child): the holder is the whole run."""
    gone = _gone_process()
    monkeypatch.setenv(claims.OWNER_VARIABLE, gone)
    with claims.one_step_of_a_run():  # a kfp.local child of kfp-tune run
        claims.beat(records, claim(records, "run-a", ttl=900))
    assert not latest_claim(records).holder_is_one_step  # type: ignore[union-attr]
    monkeypatch.setenv(claims.OWNER_VARIABLE, "another-host/7")
    assert claim(records, "run-b").seq == 2


def test_a_pods_claim_lapses_after_its_ttl(clock, records, monkeypatch):
    monkeypatch.delenv(claims.OWNER_VARIABLE, raising=False)
    monkeypatch.setattr(claims, "this_process", lambda: "a-pod/1")
    with claims.one_step_of_a_run():
        claims.beat(records, claim(records, "run-a", ttl=900))
    monkeypatch.setenv(claims.OWNER_VARIABLE, "another-host/7")
    clock.advance(899)
    with pytest.raises(ExperimentBusy):
        claim(records, "run-b")
    clock.advance(1)
    assert claim(records, "run-b").seq == 2
