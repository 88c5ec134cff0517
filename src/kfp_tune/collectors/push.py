"""Katib's Push collector: the trial reports its metrics itself."""

from __future__ import annotations

from kfp_tune.core.observation import MetricLog
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState


def collect_pushed(records: ExperimentRecords, experiment: Experiment, trial: TrialState) -> list[MetricLog]:
    """What an in-process trial returned (``pushed``), then every ``report_metrics`` call the
    trial made, in the order made."""
    found = [records.read(records.trial_key(trial.name, "pushed"), "PushedMetrics")]
    found += [records.read(key, "ReportedMetrics") for key in records.store.list(records.reports_prefix(trial.name))]
    return [MetricLog(m["name"], float(m["value"]), m.get("step")) for record in found if record is not None for m in record["metrics"]]
