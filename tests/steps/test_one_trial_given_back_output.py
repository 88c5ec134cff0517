"""One-trial launch-trial of a trial it gives back (upgrade QA, session 31, finding 2): its
output said ``Failed`` for a trial the store records ``Killed`` (TrialStale, its budget given
back), and its log ``ended Failed; recorded Killed``: a pipeline branching on the output saw a
failure the experiment does not count."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.claims import process_identity
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords, TrialStarted, utc_now
from kfp_tune.core.state import ExperimentView, load_state
from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.steps.entrypoints import launch_trial_step

LOCAL = json.dumps({"kind": "local"})


def test_a_trial_given_back_is_output_as_killed_as_the_store_records_it(local_store, caplog):
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 2}))
    records = ExperimentRecords(local_store, experiment.name)
    first, second = steps.suggest(records, "run-1-r0", 1, experiment, run_id="run-1", n=2)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    owner = process_identity(int(gone.stdout))  # a launch-trial killed mid-trial: its process is gone from this machine
    ExperimentView(records).record_trial(first, TrialStarted(trial=first, time=utc_now(), at=time.time(), run="run-1", attempt="killed", owner=owner))
    with caplog.at_level("INFO", logger="kfp_tune.launch"):
        assert launch_trial_step(local_store.uri, "quad", first, LOCAL, "run-1") == "Killed"
        assert launch_trial_step(local_store.uri, "quad", first, LOCAL, "run-1") == "Killed"  # a retry: the same
    assert "ended Failed; recorded Killed" not in caplog.text
    assert f"trial {first} recorded Killed (TrialStale); given back: it counts towards neither maxTrialCount nor maxFailedTrialCount" in caplog.text
    state = load_state(records)
    assert state.trial(first).status == TrialStatus.KILLED and state.trial(first).result.reason == "TrialStale"
    assert launch_trial_step(local_store.uri, "quad", second, LOCAL, "run-1") == "Succeeded"  # a trial that ran: its phase, as before
