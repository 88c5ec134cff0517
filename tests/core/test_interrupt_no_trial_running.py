"""An interrupt that came before any trial started says that no trial was running, not
'0 running trial(s) stopped and recorded Killed, their budget given back' (QA of session 37):
one wording rule (core.decision.trials_killed_by_interrupt) for the status message, kfp-tune
run's closing line, tune()'s note and a kfp.local child killed outright."""

from __future__ import annotations

from conftest import quadratic_experiment
from kfp_tune.core.decision import interrupted, trials_killed_by_interrupt
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.state import ExperimentState


def _no_trials() -> ExperimentState:
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 4}))
    return ExperimentState(experiment=experiment, uid="uid-1", created="2026-11-30T10:00:00Z", trials=[], by_name={})


def test_an_interrupt_before_any_trial_says_none_was_running():
    assert trials_killed_by_interrupt(0, 0) == "no trial was running, so none was stopped or recorded Killed"


def test_the_running_ones_are_counted_as_before():
    assert trials_killed_by_interrupt(2, 0) == "2 running trial(s) stopped and recorded Killed, their budget given back"
    assert trials_killed_by_interrupt(1, 2) == (
        "3 trial(s) recorded Killed, their budget given back: 1 stopped while running, 2 made but not started")


def test_only_unstarted_ones_say_no_trial_was_running():
    assert trials_killed_by_interrupt(0, 2) == (
        "2 trial(s) recorded Killed, their budget given back: no trial was running, 2 made but not started")


def test_the_status_of_a_run_interrupted_before_any_trial_says_none_was_running():
    decision = interrupted(_no_trials(), "SIGTERM", 0)
    assert decision.message == (
        "The run was interrupted (SIGTERM): no trial was running, so none was stopped or recorded Killed. "
        "Run the same command (or pipeline) again to resume from the store")
    assert "0 running" not in decision.message
