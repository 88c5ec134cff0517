"""A run of one's own pipeline under kfp.local is alive while the Python process that called the
pipeline runs on this machine (its steps are that process's children): a step of the user's own
between two kfp-tune steps may run past the hand-over grace, and the TTL, without a second run
taking the experiment over. Once that process is gone no step of the run comes: the claim is free
at once. A process that runs this call's own pipeline too (a notebook's kernel running it again)
says nothing of the other run, and a run with no such process to find keeps the grace (session
36's review C, left over). Processes are real (one that runs, one that has ended); the clock is
fake."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from pipeline_driver import PipelineDriver

from clock import START
from kfp_tune.core import claims
from kfp_tune.core.claims import DEFAULT_TTL, HAND_OVER_SECONDS, check, claim, latest_claim
from kfp_tune.core.errors import ExperimentBusy


def _gone_process() -> str:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    return claims.process_identity(int(done.stdout))


@pytest.fixture
def running() -> Iterator[PipelineDriver]:
    """A process of this machine that runs a step until the test ends it (the pipeline's Python)."""
    process = PipelineDriver()
    try:
        yield process
    finally:
        process.end()


def _claimed_by_a_step_of(records, monkeypatch, driver: str, run: str = "run-a") -> claims.Claim:
    """``run``'s suggest step under kfp.local (no KFP_TUNE_RUN_OWNER), its pipeline run by
    ``driver``, claimed and beat, then ended; the next call is made elsewhere (no pipeline)."""
    gone = _gone_process()
    monkeypatch.delenv(claims.OWNER_VARIABLE, raising=False)
    monkeypatch.setattr(claims, "this_process", lambda: gone)
    monkeypatch.setattr(claims, "pipeline_process", lambda: driver)
    with claims.one_step_of_a_run():
        current = claim(records, run, ttl=DEFAULT_TTL)
    claims.beat(records, current)  # suggest's own claims.check
    monkeypatch.setattr(claims, "pipeline_process", lambda: "")
    monkeypatch.setenv(claims.OWNER_VARIABLE, "another-host/7")  # the next run's
    return current


def test_a_run_is_held_while_its_pipelines_process_runs_past_the_grace_and_the_ttl(clock, records, monkeypatch, running):
    _claimed_by_a_step_of(records, monkeypatch, claims.process_identity(running.pid))
    stored = latest_claim(records)
    assert stored is not None and stored.driver == claims.process_identity(running.pid), "the claim names the pipeline's process"
    clock.advance(DEFAULT_TTL + HAND_OVER_SECONDS)  # a step of the user's own, longer than both
    with pytest.raises(ExperimentBusy) as info:
        claim(records, "run-b")
    said = str(info.value)
    assert said.startswith("experiment 'exp' is being run by run 'run-a' (claimed ")
    assert f"a pipeline that process {running.pid} on this machine runs with kfp.local" in said
    assert "(Ctrl-C where it runs) and run again" in said and "take_over=True" in said
    assert latest_claim(records).seq == 1  # type: ignore[union-attr]
    assert check(records, "run-a").run == "run-a", "run-a's next step goes on"


def test_once_its_pipelines_process_is_gone_the_run_is_taken_over_at_once(clock, records, monkeypatch, running):
    _claimed_by_a_step_of(records, monkeypatch, claims.process_identity(running.pid))
    running.end()
    clock.advance(1)  # well within the grace: no step of the run comes now
    with pytest.raises(ExperimentBusy) as info:
        check(records, "run-c")  # a step of a run that never claimed
    assert "the process that ran its pipeline with kfp.local on this machine has ended" in str(info.value)
    taken = claim(records, "run-b")
    assert (taken.seq, taken.run) == (2, "run-b")


def test_the_process_running_this_calls_own_pipeline_says_nothing_of_the_other_run(clock, records, monkeypatch, running):
    """A notebook's kernel runs the pipeline again after the first run failed in a step of the
    user's own: the step it runs is this call's (its own line), so the first run is held only for
    the grace."""
    driver = claims.process_identity(running.pid)
    _claimed_by_a_step_of(records, monkeypatch, driver)
    monkeypatch.setattr(claims, "pipeline_process", lambda: driver)  # run-b's suggest step: a child of the same process
    monkeypatch.setattr(claims, "this_steps_line", lambda: frozenset({running.step}))
    clock.advance(HAND_OVER_SECONDS - 1)
    with pytest.raises(ExperimentBusy, match=r"whose steps' processes on this machine have all ended"):
        claim(records, "run-b")
    clock.advance(1)
    assert claim(records, "run-b").seq == 2


def test_a_pipelines_process_not_of_this_machine_leaves_the_grace(clock, records, monkeypatch):
    _claimed_by_a_step_of(records, monkeypatch, "another-host/9")
    clock.advance(HAND_OVER_SECONDS - 1)
    with pytest.raises(ExperimentBusy, match=r"whose steps' processes on this machine have all ended"):
        claim(records, "run-b")
    clock.advance(1)
    assert claim(records, "run-b").seq == 2


def test_a_later_steps_heartbeat_names_the_process_too(clock, records, monkeypatch, running):
    current = _claimed_by_a_step_of(records, monkeypatch, "")
    assert latest_claim(records).driver == ""  # type: ignore[union-attr]
    monkeypatch.delenv(claims.OWNER_VARIABLE)
    monkeypatch.setattr(claims, "pipeline_process", lambda: claims.process_identity(running.pid))
    claims.beat(records, current)  # launch-trial, from the same pipeline
    monkeypatch.setattr(claims, "pipeline_process", lambda: "")
    monkeypatch.setenv(claims.OWNER_VARIABLE, "another-host/7")
    clock.advance(HAND_OVER_SECONDS * 2)
    with pytest.raises(ExperimentBusy, match=f"process {running.pid} on this machine"):
        claim(records, "run-b")


def test_kfp_tune_runs_steps_record_no_pipeline_process(clock, records, monkeypatch, running):
    """Under KFP_TUNE_RUN_OWNER the owner is the whole run already: killed, it is taken over at once."""
    monkeypatch.setenv(claims.OWNER_VARIABLE, _gone_process())
    monkeypatch.setattr(claims, "pipeline_process", lambda: claims.process_identity(running.pid))
    with claims.one_step_of_a_run():
        claims.beat(records, claim(records, "run-a", ttl=DEFAULT_TTL))
    assert latest_claim(records).driver == ""  # type: ignore[union-attr]
    monkeypatch.setenv(claims.OWNER_VARIABLE, "another-host/7")
    assert claim(records, "run-b").seq == 2


def test_a_ttl_of_0_still_lets_the_claim_lapse_at_once(clock, records, monkeypatch, running):
    monkeypatch.delenv(claims.OWNER_VARIABLE, raising=False)
    monkeypatch.setattr(claims, "this_process", _gone_process)
    monkeypatch.setattr(claims, "pipeline_process", lambda: claims.process_identity(running.pid))
    claim(records, "run-a", ttl=0)
    monkeypatch.setattr(claims, "pipeline_process", lambda: "")
    assert claim(records, "run-b").seq == 2
    assert clock.now == START, "no time passed"


SHOW = "from kfp_tune.core import claims; print(claims.pipeline_process())"


def _pipeline_process_of(command: list[str], **env: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60, env={**os.environ, **env})
    return done.stdout.strip()


def test_a_steps_pipeline_process_is_its_first_ancestor_outside_kfp_locals_wrappers():
    """As kfp.local starts a step: ``sh -ec '... python -m kfp.dsl.executor_main ...'`` from the
    Python that runs the pipeline (this test's process), every command line between naming the
    executor."""
    step = [sys.executable, "-c", SHOW, "kfp.dsl.executor_main"]
    wrapped = ["sh", "-ec", '"$@"\ntrue', "kfp.dsl.executor_main", *step]  # 'true' after: sh does not exec the step
    assert _pipeline_process_of(wrapped) == claims.process_identity(os.getpid())
    assert _pipeline_process_of(["sh", "-ec", '"$@"\ntrue', "sh", *step]) == claims.process_identity(os.getpid()), "one wrapper"


def test_no_pipeline_process_for_a_process_that_is_no_kfp_step_or_whose_ancestor_is_no_python():
    assert _pipeline_process_of([sys.executable, "-c", SHOW]) == "", "not a KFP step's executor"
    unnamed = ["sh", "-c", '"$PY" -c "$SHOW" "$MARK"\ntrue']  # the shell's own command line names no executor
    assert _pipeline_process_of(unnamed, PY=sys.executable, SHOW=SHOW, MARK="kfp.dsl.executor_main") == "", "a shell, not kfp.local's Python"
