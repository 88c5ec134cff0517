"""Early stopping (medianstop): the rule, and trials stopped while they run."""

from __future__ import annotations

import numpy as np

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
