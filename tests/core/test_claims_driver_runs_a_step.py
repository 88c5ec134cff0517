"""The Python process that called a kfp.local pipeline proves its run alive only while it runs a
step of a pipeline (a child whose command line names ``kfp.dsl.executor_main``): a notebook's
kernel, or a script that goes on working, lives on after its run failed or was interrupted, and
held the run's claim with no end, past the grace and the TTL, so that ``run`` and ``delete`` from
elsewhere were refused for as long as it lived (review A of session 37, finding 1). Idle, it
falls back to the grace after the run's last sign of life, and to the TTL. A step of this call's
own line (its own wrappers) says nothing of another run; a second run's step of the same
process does (finding 5). Processes are real (a driver, its step child); the clock is fake."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from pipeline_driver import PipelineDriver

from kfp_tune.core import claims
from kfp_tune.core.claims import DEFAULT_TTL, HAND_OVER_SECONDS, STOP_FIRST, claim, latest_claim, refuse_if_busy
from kfp_tune.core.errors import ExperimentBusy


@pytest.fixture
def driver() -> Iterator[PipelineDriver]:
    made = PipelineDriver()
    try:
        yield made
    finally:
        made.end()


def _claimed_by_a_step_of(records, monkeypatch, driver: str) -> None:
    """Run-a's suggest step under kfp.local, its pipeline run by ``driver``, claimed and beat, then
    ended; the next call is made elsewhere (no pipeline)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    gone = claims.process_identity(int(done.stdout))
    monkeypatch.delenv(claims.OWNER_VARIABLE, raising=False)
    monkeypatch.setattr(claims, "this_process", lambda: gone)
    monkeypatch.setattr(claims, "pipeline_process", lambda: driver)
    with claims.one_step_of_a_run():
        claims.beat(records, claim(records, "run-a", ttl=DEFAULT_TTL))
    monkeypatch.setattr(claims, "pipeline_process", lambda: "")
    monkeypatch.setenv(claims.OWNER_VARIABLE, "another-host/7")


def test_a_driver_that_lives_on_idle_after_its_run_holds_the_claim_only_for_the_grace(clock, records, monkeypatch, driver):
    _claimed_by_a_step_of(records, monkeypatch, driver.identity)
    clock.advance(DEFAULT_TTL + HAND_OVER_SECONDS)  # a step of the user's own, past the grace and the TTL
    with pytest.raises(ExperimentBusy, match=f"process {driver.pid} on this machine"):
        claim(records, "run-b")
    driver.step_ends()  # the run failed there; the kernel lives on
    assert latest_claim(records).live(clock.now) is False  # type: ignore[union-attr]
    assert claim(records, "run-b").seq == 2


def test_an_idle_drivers_run_is_said_to_be_between_steps_or_over_with_no_ctrl_c_for_a_delete(clock, records, monkeypatch, driver):
    _claimed_by_a_step_of(records, monkeypatch, driver.identity)
    driver.step_ends()
    clock.advance(HAND_OVER_SECONDS - 1)
    with pytest.raises(ExperimentBusy) as refused:
        refuse_if_busy(records, STOP_FIRST)
    said = str(refused.value)
    assert f"process {driver.pid} on this machine" in said and "runs no step of it now" in said, said
    assert "between two steps, or it failed or was interrupted" in said, said
    assert "Ctrl-C" not in said and "wait for the run to end" not in said, said
    with pytest.raises(ExperimentBusy) as refused:
        claim(records, "run-b")
    said = str(refused.value)
    assert "Ctrl-C" not in said and "wait for the run to end" not in said and "take_over=True" in said, said
    clock.advance(1)
    assert claim(records, "run-b").seq == 2


def test_a_step_running_is_said_with_ctrl_c(clock, records, monkeypatch, driver):
    _claimed_by_a_step_of(records, monkeypatch, driver.identity)
    clock.advance(DEFAULT_TTL)
    with pytest.raises(ExperimentBusy) as refused:
        refuse_if_busy(records, STOP_FIRST)
    said = str(refused.value)
    assert "runs a step of a pipeline now" in said and "wait for the run to end, or stop it (Ctrl-C where it runs) and try again" in said, said
    assert said.count("Ctrl-C") == 1, said


def test_this_calls_own_step_says_nothing_but_another_step_of_the_same_process_does(clock, records, monkeypatch, driver):
    """A notebook's kernel runs the pipeline again: this step is its child, so its own line (the
    step and its wrappers) is no sign of the other run; a step of another run it runs at the same
    time (a pipeline in a thread) is (finding 5)."""
    _claimed_by_a_step_of(records, monkeypatch, driver.identity)
    monkeypatch.setattr(claims, "pipeline_process", lambda: driver.identity)  # run-b's suggest: a child of the same process
    clock.advance(DEFAULT_TTL)
    with pytest.raises(ExperimentBusy, match="runs a step of a pipeline now"):
        claim(records, "run-b")  # the driver's step is not this call's: another run of it goes on
    monkeypatch.setattr(claims, "this_steps_line", lambda: frozenset({driver.step}))  # now it is this call's own
    assert claim(records, "run-b").seq == 2
