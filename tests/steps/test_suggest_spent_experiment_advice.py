"""What a run of an experiment that had already ended is told to do, by why it ended (review C,
finding 9): the advice said "schedule" for a one-off submit too, and for a search space spent it
said "To tune on, it will not run again (only maxTrialCount can be raised ...)", which does not
read, after the user had just raised maxTrialCount."""

from __future__ import annotations

import json
import logging

import pytest
from mode_trials import modes_experiment

from kfp_tune.steps.entrypoints import decide_stop_step, launch_trials_step, suggest_step


def _said_to_a_later_run(tmp_path, caplog, doc: dict) -> str:
    spec, store = json.dumps(doc), str(tmp_path / "store")
    suggest_step(store, "quad", "run1", 0, 1, experiment_spec=spec, trial_count=0)
    launch_trials_step(store, "quad", json.dumps({"kind": "local"}), "run1", 0, 1)
    decide_stop_step(store, "quad", "run1", 0, 1, final=True, releases_claim=True)
    caplog.clear()  # the first run's own lines, recorded where an earlier test left INFO on
    with caplog.at_level(logging.INFO, logger="kfp_tune.suggest"):
        assert suggest_step(store, "quad", "run2", 0, 1, experiment_spec=spec, trial_count=0) == []
    (said,) = [r.getMessage() for r in caplog.records if r.name == "kfp_tune.suggest"]
    return said


COMMON = ("this run has nothing to do", "submit or schedule", "--fresh-experiment", "fresh_experiment=True", "delete the recurring run")


@pytest.mark.parametrize(
    "overrides, ended, advice, not_said",
    [
        ({}, "Succeeded (ExperimentMaxTrialsReached)", "raise maxTrialCount in its YAML", "search space"),
        ({"spec.maxTrialCount": 10}, "Succeeded (ExperimentSuggestionEndReached)",
         "Its search space is spent: every point of it was tried, so a larger maxTrialCount adds nothing", "raise maxTrialCount"),
        ({"spec.objective.goal": 1e9}, "Succeeded (ExperimentGoalReached)",
         "Its objective goal was reached, which ends it for good. To tune a new experiment, ", "raise maxTrialCount"),
        ({"spec.maxFailedTrialCount": 1}, "Failed (ExperimentFailed)", "Too many of its trials failed (maxFailedTrialCount)", "raise maxTrialCount"),
    ],
    ids=["max-trials", "search-space-spent", "goal", "failed"],
)
def test_the_advice_follows_why_the_experiment_ended(tmp_path, caplog, overrides, ended, advice, not_said):
    said = _said_to_a_later_run(tmp_path, caplog, modes_experiment(**overrides))
    assert said.startswith(f"experiment quad already ended {ended}: "), said
    assert advice in said, said
    assert not_said not in said and "To tune on, it will not run again" not in said, said
    for what in COMMON:
        assert what in said, (what, said)


def test_the_recurring_run_is_told_to_be_disabled_before_it_is_deleted(tmp_path, caplog):
    """Deleting a recurring run deletes the Workflow of its run still running (KFP sends no
    propagation policy; read from KFP's source): the advice says to disable it first."""
    said = _said_to_a_later_run(tmp_path, caplog, modes_experiment())
    assert "disable it (the KFP UI's Disable, or kfp.Client(host=...).disable_recurring_run(ID))" in said, said
    assert said.index("disable_recurring_run") < said.index("delete the recurring run once"), said
    assert "deletes the Workflow of a run still running" in said, said
