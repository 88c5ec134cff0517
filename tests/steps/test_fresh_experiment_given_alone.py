"""A step given ``fresh_experiment=True`` in a run whose suggest had not (review C of the QA
pipeline fixes, finding 8; the reverse of finding 6's wiring mistake): it said only "no
experiment 'plain-2ppqkl' in ...", a hashed name the author never wrote, with no hint, though the
store holds the run's experiment under its plain name. The message now says so and to give the
step the fresh_experiment its suggest had."""

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
def plain_run(local_store) -> tuple[str, str]:
    """A run 'r8' whose suggest tuned experiment 'plain' (no fresh_experiment), one trial of it
    run: (store URI, trial)."""
    (trial,) = suggest_step(local_store.uri, "plain", "r8", 0, 2, experiment_spec=SPEC, trial_count=1)
    assert launch_trial_step(local_store.uri, "plain", trial, LOCAL, "r8") == "Succeeded"
    return local_store.uri, trial


STEPS: dict[str, Callable[[str, str, str], object]] = {
    "suggest-round-1": lambda store, trial, run: suggest_step(store, "plain", run, 1, 2, fresh_experiment=True),
    "launch-trial": lambda store, trial, run: launch_trial_step(store, "plain", trial, LOCAL, run, fresh_experiment=True),
    "launch-trial-slots": lambda store, trial, run: launch_trials_step(store, "plain", LOCAL, run, 0, 1, fresh_experiment=True),
    "collect-metrics": lambda store, trial, run: collect_metrics_step(store, "plain", trial, run, fresh_experiment=True),
    "decide-stop": lambda store, trial, run: decide_stop_step(store, "plain", run, 0, 2, fresh_experiment=True),
    "best-trial": lambda store, trial, run: best_trial_step(store, "plain", run, "/nonexistent/model", fresh_experiment=True),
}


@pytest.mark.parametrize("step", sorted(STEPS))
def test_a_step_given_fresh_experiment_alone_names_the_plain_experiment(plain_run, step):
    store, trial = plain_run
    with pytest.raises(ExperimentNotFound) as missing:
        STEPS[step](store, trial, "r8")
    said = str(missing.value)
    assert said.startswith(f"no experiment {per_run_experiment_name('plain', 'r8')!r} in {store}"), said
    assert said.endswith(
        "experiment 'plain' is in the store, not this run's fresh one: give this step fresh_experiment=False, as its suggest had"
    ), said


def test_no_hint_where_the_plain_experiment_is_missing_too(local_store):
    """Neither experiment is there: the name or the store is what is wrong."""
    with pytest.raises(ExperimentNotFound) as missing:
        collect_metrics_step(local_store.uri, "plain", "plain-abc", "r8", fresh_experiment=True)
    assert "fresh_experiment" not in str(missing.value)
