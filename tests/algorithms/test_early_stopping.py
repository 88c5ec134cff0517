"""Early stopping (medianstop): the rule, and trials stopped while they run."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import quadratic_experiment
from kfp_tune.algorithms.early_stopping import MedianStop
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import load_state
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher


def test_median_rule():
    rule = MedianStop({"min_trials_required": 2, "start_step": 2})
    completed = [[4.0, 2.0, 1.0], [6.0, 4.0, 2.0], [10.0, 8.0, 7.0]]
    # running averages over 2 reports: 3, 5, 9 -> median 5
    assert rule.should_stop("minimize", completed, [9.0, 5.5])
    assert not rule.should_stop("minimize", completed, [9.0, 4.5])
    assert not rule.should_stop("minimize", completed, [9.0])  # before start_step
    assert not rule.should_stop("minimize", completed[:1], [99.0, 99.0])  # too few completed
    assert rule.should_stop("maximize", completed, [1.0, 4.0]) and not rule.should_stop("maximize", completed, [1.0, 6.0])


def test_median_is_robust_to_one_wild_trial():
    rule = MedianStop({"min_trials_required": 3, "start_step": 1})
    completed = [[1.0], [1.2], [1000.0]]
    assert rule.should_stop("minimize", completed, [5.0])  # a mean (334) would let it run


def test_medianstop_stops_bad_trials_while_they_run(local_store):
    doc = quadratic_experiment(
        **{
            "spec.earlyStopping": {"algorithmName": "medianstop", "algorithmSettings": [{"name": "min_trials_required", "value": "2"}, {"name": "start_step", "value": "2"}]},
            "spec.parallelTrialCount": 1,
            "spec.maxTrialCount": 6,
            "spec.trialTemplate.trialSpec.spec.template.spec.containers.0.args": ["x=${trialParameters.x}", "y=${trialParameters.y}", "mode=curve"],
        }
    )
    experiment = load_experiment(doc)
    decision = run_inline(local_store, experiment, LocalLauncher())
    state = load_state(ExperimentRecords(local_store, "quad"))
    statuses = [t.status for t in state.trials]
    assert statuses[:2] == ["Succeeded", "Succeeded"]  # nothing to compare with before min_trials_required
    stopped = [t for t in state.trials if t.status == "EarlyStopped"]
    assert stopped, statuses
    rule = MedianStop({"min_trials_required": 2, "start_step": 2})
    for trial in stopped:
        curve = list(trial.result.curve)
        assert 2 <= len(curve) < 10
        earlier = [list(t.result.curve) for t in state.trials if t.index < trial.index and t.status == "Succeeded"]
        assert any(rule.should_stop("minimize", earlier, curve[:k]) for k in range(2, len(curve) + 1))
        assert trial.result.reason == "EarlyStopped" and "loss" in trial.metrics
    for trial in state.trials:
        if trial.status == "Succeeded":
            assert len(list(trial.result.curve)) == 10
    assert decision.reason == "ExperimentMaxTrialsReached" and decision.counts["failed"] == 0
    keys = [tuple(t.assignment.values()) for t in state.trials]
    assert len(set(keys)) == len(keys)
    assert np.isfinite([t.metrics["loss"] for t in state.trials]).all()


# Each case's objective, report by report; every series is non-monotone, so min, max and latest
# differ. "bad" then hangs: only early stopping ends it before the minute is up.
EARLY = {
    "minimize": {"good1": [0.3, 0.1, 0.2], "good2": [0.4, 0.2, 0.3], "bad": [5.0, 3.0, 4.0]},
    "maximize": {"good1": [0.7, 0.9, 0.8], "good2": [0.6, 0.8, 0.7], "bad": [0.05, 0.2, 0.1]},
}
HANGING_TRIAL = """
import sys, time
for value in SERIES[sys.argv[1]]:
    print(f"loss={value}", flush=True)
if sys.argv[1] == "bad":
    time.sleep(60)
"""


@pytest.mark.parametrize("objective_type,stopped_value", [("minimize", 3.0), ("maximize", 0.2)])
def test_an_early_stopped_trial_keeps_its_series_and_its_strategys_value(local_store, objective_type, stopped_value):
    """After two completed trials, the third is stopped at its third report (its best so far is
    worse than the median of the others' averages) and its objective is the by-type default
    strategy's value of what it reported: the min (minimize) or max (maximize), not the latest."""
    series = EARLY[objective_type]
    doc = quadratic_experiment(
        **{
            "metadata.name": "stopped",
            "spec.objective": {"type": objective_type, "objectiveMetricName": "loss"},
            "spec.algorithm": {"algorithmName": "grid"},
            "spec.earlyStopping": {"algorithmName": "medianstop", "algorithmSettings": [{"name": "min_trials_required", "value": "2"}, {"name": "start_step", "value": "3"}]},
            "spec.parallelTrialCount": 1,
            "spec.maxTrialCount": 3,
            "spec.parameters": [{"name": "case", "parameterType": "categorical", "feasibleSpace": {"list": list(series)}}],
            "spec.trialTemplate.trialParameters": [{"name": "case", "reference": "case"}],
            "spec.trialTemplate.trialSpec.spec.template.spec.containers": [
                {"name": "main", "image": "python:3.11", "command": ["python3", "-c", HANGING_TRIAL.replace("SERIES", repr(series)), "${trialParameters.case}"]}
            ],
        }
    )
    decision = run_inline(local_store, load_experiment(doc), LocalLauncher())
    state = load_state(ExperimentRecords(local_store, "stopped"))
    by_case = {t.assignment["case"]: t for t in state.trials}
    assert [by_case[c].status for c in ("good1", "good2", "bad")] == ["Succeeded", "Succeeded", "EarlyStopped"]
    bad = by_case["bad"]
    assert tuple(bad.result.curve) == tuple(series["bad"])
    assert bad.metrics["loss"] == stopped_value
    assert decision.reason == "ExperimentMaxTrialsReached"
    assert decision.best_trial is not None and decision.best_trial.name == by_case["good1"].name
