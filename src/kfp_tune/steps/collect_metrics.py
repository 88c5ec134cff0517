"""The collect-metrics step: read a trial's metrics, apply metricStrategies, record its status."""

from __future__ import annotations

import math

from kfp_tune.collectors import collector_for
from kfp_tune.core import claims
from kfp_tune.core.errors import StoreError
from kfp_tune.core.interfaces import Collector
from kfp_tune.core.observation import Observation, latest_texts
from kfp_tune.core.records import ExperimentRecords, TrialResult, utc_now
from kfp_tune.core.state import ExperimentView
from kfp_tune.core.vocabulary import LaunchPhase, TrialStatus


def collect_metrics(
    records: ExperimentRecords, trial_name: str, collect: Collector | None = None, run_id: str | None = None, view: ExperimentView | None = None
) -> TrialResult:
    """Read the trial's metrics, apply metricStrategies and record its final status.

    EarlyStopped when early stopping stopped it; Failed when the run failed; MetricsUnavailable
    when it succeeded without reporting the objective metric (it then counts as failed);
    Succeeded otherwise (a text objective, darts' genotype, counts as reported). The objective's
    values in report order are kept as its ``curve``."""
    if run_id is not None:
        claims.check(records, run_id)
    view = view or ExperimentView(records)
    state = view.state
    trial = state.trial(trial_name)
    if trial.result is not None:
        return trial.result
    if trial.ended is None:
        raise StoreError(f"trial {trial_name!r} has not ended; run launch-trial for it first")
    experiment = state.experiment
    objective = experiment.spec.objective
    assert objective is not None
    collect = collect or collector_for(experiment)
    logs = collect(records, experiment, trial)
    names = objective.metric_names
    observation = Observation.from_logs(logs, names)
    strategies = {s.name: s.value for s in objective.metric_strategies or []}
    metrics = observation.values(strategies)
    texts = latest_texts(logs, names)
    ended = trial.ended
    if ended.phase == LaunchPhase.EARLY_STOPPED:
        status, reason, message = TrialStatus.EARLY_STOPPED, "EarlyStopped", ended.message or "Trial was stopped early"
    elif ended.phase != LaunchPhase.SUCCEEDED:
        status, reason, message = TrialStatus.FAILED, ended.reason or "TrialFailed", ended.message or "Trial has failed"
    elif objective.objective_metric_name not in metrics and objective.objective_metric_name not in texts:
        status, reason = TrialStatus.METRICS_UNAVAILABLE, "MetricsUnavailable"
        message = f"the trial did not report the objective metric {objective.objective_metric_name!r}"
    else:
        status, reason, message = TrialStatus.SUCCEEDED, "TrialSucceeded", "Trial has succeeded"
    result = TrialResult(
        trial=trial.name,
        status=status,
        reason=reason,
        message=message,
        observation=observation.to_dict(),
        metrics=metrics,
        curve=tuple(m.value for m in logs if m.name == objective.objective_metric_name and math.isfinite(m.value)),
        time=utc_now(),
        text_metrics=texts,
    )
    return view.record_trial(trial.name, result)
