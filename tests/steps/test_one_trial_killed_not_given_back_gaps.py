"""launch-trial's log line for a trial the store records Killed: "given back" only for a trial
whose budget was given back, never for one Killed for another reason (a record Katib or another
writer left; mutation pass, session 31: ep-04)."""

from __future__ import annotations

import json

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords, TrialResult, utc_now
from kfp_tune.core.state import ExperimentView, load_state
from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.steps.entrypoints import launch_trial_step

LOCAL = json.dumps({"kind": "local"})


def test_a_trial_killed_but_not_given_back_is_logged_without_given_back(local_store, caplog):
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 2}))
    records = ExperimentRecords(local_store, experiment.name)
    first, _ = steps.suggest(records, "run-1-r0", 1, experiment, run_id="run-1", n=2)
    ExperimentView(records).record_trial(first, TrialResult(trial=first, status=TrialStatus.KILLED, reason="TrialKilled",
                                                            message="deleted by its user", time=utc_now()))
    state = load_state(records)
    assert state.trial(first).status == TrialStatus.KILLED and not state.trial(first).given_back
    with caplog.at_level("INFO", logger="kfp_tune.launch"):
        assert launch_trial_step(local_store.uri, "quad", first, LOCAL, "run-1") == "Killed"
    [line] = [r.getMessage() for r in caplog.records if r.name == "kfp_tune.launch" and "recorded Killed" in r.getMessage()]
    assert line == f"trial {first} recorded Killed (TrialKilled)"
