"""One-trial launch-trial of a trial whose job succeeded but reported no objective value (QA
pipeline, session 36, finding 4): its output said ``Succeeded`` for a trial the store records
``MetricsUnavailable``, as Katib marks it, and counts as failed. A pipeline gating a step on
``launch.output == "Succeeded"`` was told a failed trial succeeded; the output is now the trial's
status as the store records it, as collect-metrics returns it."""

from __future__ import annotations

import json

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import load_state
from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.steps.entrypoints import collect_metrics_step, launch_trial_step

LOCAL = json.dumps({"kind": "local"})


def test_a_trial_with_no_objective_value_is_output_as_metrics_unavailable(local_store, tmp_path, caplog):
    trial = tmp_path / "nan_trial.py"
    trial.write_text("print('loss=nan')\n")  # the job succeeds; its objective value is no number
    doc = quadratic_experiment(**{"spec.maxTrialCount": 2})
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["command"] = ["python3", str(trial)]
    experiment = load_experiment(doc)
    records = ExperimentRecords(local_store, experiment.name)
    (name,) = steps.suggest(records, "run-1-r0", 1, experiment, run_id="run-1", n=1)
    with caplog.at_level("INFO", logger="kfp_tune.launch"):
        output = launch_trial_step(local_store.uri, "quad", name, LOCAL, "run-1")
    assert load_state(records).trial(name).status == TrialStatus.METRICS_UNAVAILABLE
    assert output == "MetricsUnavailable" == collect_metrics_step(local_store.uri, "quad", name, "run-1")["status"]
    assert f"trial {name} ended Succeeded; recorded MetricsUnavailable" in caplog.text  # the job's phase is still in the log
    assert launch_trial_step(local_store.uri, "quad", name, LOCAL, "run-1") == "MetricsUnavailable"  # a retry: the same
