"""An interrupt that found no trial running but N made and not started recorded those N Killed
(kfp-tune run's closing line says so), while the saved status said "no trial was running, so
none was stopped or recorded Killed" (review A of session 38, finding 1, of 9fd0614):
interrupt_run gave ``interrupted()`` the running count only. The status now counts both, by the
one wording rule (core.decision.trials_killed_by_interrupt)."""

from __future__ import annotations

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core import claims
from kfp_tune.core.decision import trials_killed_by_interrupt
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords, TrialStarted
from kfp_tune.core.state import ExperimentView, load_state
from kfp_tune.steps.decide_stop import interrupt_run

SPACE = {
    "spec.algorithm": {"algorithmName": "grid"},
    "spec.maxTrialCount": 4,
    "spec.parallelTrialCount": 3,
    "spec.parameters": [{"name": "x", "parameterType": "categorical", "feasibleSpace": {"list": ["a", "b", "c", "d"]}}],
    "spec.trialTemplate.trialParameters": [{"name": "x", "reference": "x"}],
    "spec.trialTemplate.trialSpec.spec.template.spec.containers.0.args": ["x=${trialParameters.x}"],
}


def _interrupted_with(local_store, started: int, made: int) -> tuple[str, int]:
    """A run ``run-a`` that made ``made`` trials, started ``started`` of them, then was
    interrupted: the saved status message and interrupt_run's count of running ones killed."""
    experiment = load_experiment(quadratic_experiment(**SPACE))
    records = ExperimentRecords(local_store, experiment.name)
    names = steps.suggest(records, "run-a-r0", 1, experiment, n=made)
    claims.claim(records, "run-a", take_over=True)
    view = ExperimentView(records)
    for name in names[:started]:
        view.record_trial(name, TrialStarted(trial=name, time="", at=0.0, run="run-a", attempt=f"a-{name}"))
    killed = interrupt_run(view, "run-a", "SIGINT", set())
    assert load_state(records).given_back == made
    status = records.read(records.status_key(), "ExperimentStatus")["status"]
    return status["message"], killed


def test_no_trial_running_and_two_unstarted_says_two_recorded_killed(local_store):
    message, killed = _interrupted_with(local_store, started=0, made=2)
    assert killed == 0
    assert trials_killed_by_interrupt(0, 2) in message
    assert "none was stopped or recorded Killed" not in message


def test_one_running_and_two_unstarted_counts_all_three(local_store):
    message, killed = _interrupted_with(local_store, started=1, made=3)
    assert killed == 1
    assert "3 trial(s) recorded Killed, their budget given back: 1 stopped while running, 2 made but not started" in message
