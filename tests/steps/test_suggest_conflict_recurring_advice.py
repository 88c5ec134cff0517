"""A run's first step that meets an experiment its spec cannot resume (QA "schedule", session 37,
finding 7): in a recurring run that continues the experiment, its YAML changed and scheduled
again, every firing failed with advice for kfp-tune run (--name NEW) alone; it now says the
scheduling way out too, and that each firing fails the same way until the recurring run is
replaced."""

from __future__ import annotations

import json

import pytest

from conftest import quadratic_experiment
from kfp_tune.core.errors import ExperimentConflict
from kfp_tune.steps.entrypoints import decide_stop_step, launch_trials_step, suggest_step

SCHEDULING_WAY_OUT = (
    "--param experiment_name=NEW", "--fresh-experiment", "fresh_experiment=True",
    "every firing fails the same way until the recurring run is replaced",
    "disable_recurring_run",
)


def _first_run(store: str, doc: dict) -> None:
    spec = json.dumps(doc)
    suggest_step(store, "quad", "run1", 0, 1, experiment_spec=spec, trial_count=0)
    launch_trials_step(store, "quad", json.dumps({"kind": "local"}), "run1", 0, 1)
    decide_stop_step(store, "quad", "run1", 0, 1, final=True, releases_claim=True)


@pytest.mark.parametrize(
    "changed, said",
    [
        ({"spec.parameters.0.feasibleSpace.max": "5"}, "with another search space or objective"),
        ({"spec.maxTrialCount": 6}, "To run more trials, start a new experiment"),
    ],
    ids=["search-space", "budget-of-a-completed-experiment"],
)
def test_a_conflict_in_a_run_says_the_scheduling_way_out(tmp_path, changed, said):
    store = str(tmp_path / "store")
    _first_run(store, quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 2}))
    again = quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 2, **changed})
    with pytest.raises(ExperimentConflict) as raised:
        suggest_step(store, "quad", "run2", 0, 1, experiment_spec=json.dumps(again), trial_count=0)
    message = str(raised.value)
    assert said in message, message
    for what in SCHEDULING_WAY_OUT:
        assert what in message, (what, message)
    assert message.count("--fresh-experiment") == 1, message


def test_two_calls_of_one_run_on_one_experiment_get_no_recurring_run_advice(tmp_path):
    """Review D of session 37, finding 2: two calls of one pipeline run (a ParallelFor, two tuning
    steps) on one experiment is a wiring mistake inside the run, refused by the claim as before,
    without the advice about a changed spec and recurring runs."""
    from kfp_tune.core.claims import call_run_id

    store = str(tmp_path / "store")
    spec = json.dumps(quadratic_experiment())
    suggest_step(store, "quad", call_run_id("job1", "callaaaa"), 0, 1, experiment_spec=spec, trial_count=0)
    with pytest.raises(ExperimentConflict) as raised:
        suggest_step(store, "quad", call_run_id("job1", "callbbbb"), 0, 1, experiment_spec=spec, trial_count=0)
    message = str(raised.value)
    assert "already tuned by another call in this pipeline run" in message, message
    assert "Give each call its own experiment_name" in message, message
    for what in ("--param experiment_name=NEW", "--fresh-experiment", "every firing fails", "disable_recurring_run", "KFP run"):
        assert what not in message, (what, message)
