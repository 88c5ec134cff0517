"""Katib's Push collector: the trial reports its metrics itself."""

from __future__ import annotations

from kfp_tune.core.observation import MetricLog
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState


def collect_pushed(records: ExperimentRecords, experiment: Experiment, trial: TrialState) -> list[MetricLog]:
    record = records.read(records.trial_key(trial.name, "pushed"), "PushedMetrics")
    if record is None:
        return []
    return [MetricLog(m["name"], float(m["value"]), m.get("step")) for m in record["metrics"]]
