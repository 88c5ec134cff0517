"""A recurring run that continues one experiment, after the budget is spent: every later run
ended Succeeded at once, and its suggest step logged "prepared; its trials are suggested ... as
places free up", as if it would tune (QA "schedule", session 32, finding 7). It now says the
experiment already ended, why, that this run has nothing to do and what to do."""

from __future__ import annotations

import json
import logging

import pytest
from mode_trials import modes_experiment

from kfp_tune.steps.entrypoints import decide_stop_step, launch_trials_step, suggest_step


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "kfp_tune.suggest"]


@pytest.mark.parametrize("trial_count", [0, -1], ids=["slots", "rounds"])
def test_a_later_run_of_a_spent_experiment_says_it_has_nothing_to_do(tmp_path, caplog, trial_count):
    doc = modes_experiment()
    spec, store = json.dumps(doc), str(tmp_path / "store")
    suggest_step(store, "quad", "run1", 0, 1, experiment_spec=spec, trial_count=0)
    launch_trials_step(store, "quad", json.dumps({"kind": "local"}), "run1", 0, 1)
    assert decide_stop_step(store, "quad", "run1", 0, 1, final=True, releases_claim=True) is False
    caplog.clear()  # the first run's own lines, recorded where an earlier test left INFO on
    with caplog.at_level(logging.INFO, logger="kfp_tune.suggest"):
        assert suggest_step(store, "quad", "run2", 0, 1, experiment_spec=spec, trial_count=trial_count) == []
    (said,) = _messages(caplog)
    assert said.startswith("experiment quad already ended Succeeded (ExperimentMaxTrialsReached): this run has nothing to do"), said
    for what in ("maxTrialCount", "LongRunning", "--fresh-experiment", "delete the recurring run"):
        assert what in said, said
    assert "prepared" not in said and "suggested" not in said


def test_the_first_run_still_says_it_prepared_the_experiment(tmp_path, caplog):
    doc = modes_experiment()
    with caplog.at_level(logging.INFO, logger="kfp_tune.suggest"):
        suggest_step(str(tmp_path / "store"), "quad", "run1", 0, 1, experiment_spec=json.dumps(doc), trial_count=0)
    assert _messages(caplog) == ["experiment quad prepared; its trials are suggested one at a time, as places free up (parallelTrialCount 1)"]
