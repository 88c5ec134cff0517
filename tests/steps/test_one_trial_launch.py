"""launch-trial in one-trial mode (a ``dsl.ParallelFor`` over suggest's output, wired by hand)."""

from __future__ import annotations

import json

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import load_state
from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.steps.entrypoints import best_trial_step, decide_stop_step, launch_trial_step

LOCAL = json.dumps({"kind": "local"})


def _suggested(store, n=3, **overrides):
    """An experiment (parallelTrialCount 2) with ``n`` trials suggested in one round of run-1."""
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": n, **overrides}))
    records = ExperimentRecords(store, experiment.name)
    return records, steps.suggest(records, "run-1-r0", 1, experiment, run_id="run-1", n=n)


def test_a_one_trial_launch_records_the_result_so_decide_stop_and_best_trial_see_it(local_store, tmp_path):
    """suggest -> ParallelFor[launch-trial] -> decide-stop -> best-trial, with no collect-metrics:
    every trial is Succeeded with its metrics, the experiment ends, and best-trial has a result
    (before, each trial stayed Running, and best-trial failed "3 Running" run after run)."""
    records, names = _suggested(local_store)
    for name in names:
        assert launch_trial_step(local_store.uri, "quad", name, LOCAL, "run-1") == "Succeeded"
    state = load_state(records)
    assert [state.trial(n).status for n in names] == [TrialStatus.SUCCEEDED] * 3
    assert all("loss" in state.trial(n).metrics for n in names)
    assert steps.collect_metrics(records, names[0], run_id="run-1") == state.trial(names[0]).result  # a collect-metrics after it: the same result
    assert decide_stop_step(local_store.uri, "quad", "run-1", 0, 1) is False
    assert load_state(records).trial(names[0]).status == TrialStatus.SUCCEEDED
    _, _, best, _ = best_trial_step(local_store.uri, "quad", "run-1", str(tmp_path / "model"))
    assert best in names
