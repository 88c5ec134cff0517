"""A step of a run whose suggest had ``fresh_experiment=True``, wired without it (QA pipeline,
session 36, finding 6): it said only "no experiment 'fresh' in ...", though the store holds the
run's own experiment, ``per_run_experiment_name('fresh', run_id)``. The message now names that
experiment and the fix: give this step fresh_experiment=True, as suggest had."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from conftest import quadratic_experiment
from kfp_tune.core.errors import ExperimentNotFound
from kfp_tune.core.naming import per_run_experiment_name
from kfp_tune.steps.entrypoints import (
    best_trial_step,
    collect_metrics_step,
    decide_stop_step,
    launch_trial_step,
    launch_trials_step,
    suggest_step,
)

LOCAL = json.dumps({"kind": "local"})
SPEC = json.dumps(quadratic_experiment(**{"spec.maxTrialCount": 2}))


@pytest.fixture
def fresh_run(local_store) -> tuple[str, str]:
    """A run 'r8' whose suggest tuned a fresh experiment, one trial of it run: (store URI, trial)."""
    (trial,) = suggest_step(local_store.uri, "fresh", "r8", 0, 2, experiment_spec=SPEC, trial_count=1, fresh_experiment=True)
    assert launch_trial_step(local_store.uri, "fresh", trial, LOCAL, "r8", fresh_experiment=True) == "Succeeded"
    return local_store.uri, trial


STEPS: dict[str, Callable[[str, str, str], object]] = {
    "suggest-round-1": lambda store, trial, run: suggest_step(store, "fresh", run, 1, 2),
    "launch-trial": lambda store, trial, run: launch_trial_step(store, "fresh", trial, LOCAL, run),
    "launch-trial-slots": lambda store, trial, run: launch_trials_step(store, "fresh", LOCAL, run, 0, 1),
    "collect-metrics": lambda store, trial, run: collect_metrics_step(store, "fresh", trial, run),
    "decide-stop": lambda store, trial, run: decide_stop_step(store, "fresh", run, 0, 2),
    "best-trial": lambda store, trial, run: best_trial_step(store, "fresh", run, "/nonexistent/model"),
}


@pytest.mark.parametrize("step", sorted(STEPS))
def test_a_step_without_fresh_experiment_names_the_runs_fresh_experiment(fresh_run, step):
    store, trial = fresh_run
    with pytest.raises(ExperimentNotFound) as missing:
        STEPS[step](store, trial, "r8")
    said = str(missing.value)
    assert said.startswith(f"no experiment 'fresh' in {store}"), said
    fresh = per_run_experiment_name("fresh", "r8")
    assert said.endswith(f"this run's fresh experiment {fresh!r} is in the store: give this step fresh_experiment=True, as its suggest had"), said


@pytest.mark.parametrize("step", ["collect-metrics", "best-trial"])
def test_another_runs_step_gets_no_such_hint(fresh_run, step):
    """Run 'r9' has no fresh experiment in the store: the name or the store is what is wrong."""
    store, trial = fresh_run
    with pytest.raises(ExperimentNotFound) as missing:
        STEPS[step](store, trial, "r9")
    assert "fresh_experiment" not in str(missing.value)
