"""The collect-metrics step: read a trial's metrics, apply metricStrategies, record its status."""

from __future__ import annotations

import difflib
import math
import os

from kfp_tune.collectors import collector_for
from kfp_tune.collectors.observe import collector_source
from kfp_tune.collectors.stdout import DEFAULT_FORMAT_NAME, NAME_RULE, missing_metric_hints
from kfp_tune.core import claims
from kfp_tune.core.errors import StoreError
from kfp_tune.core.interfaces import Collector
from kfp_tune.core.observation import Observation, latest_texts
from kfp_tune.core.records import ExperimentRecords, TrialResult, utc_now
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import ExperimentView, TrialState
from kfp_tune.core.validation import trial_log_names
from kfp_tune.core.vocabulary import (
    EARLY_STOP_MESSAGE,
    EARLY_STOP_REASON,
    FUNCTION_TRIAL_KIND,
    METRICS_UNAVAILABLE_REASON,
    OBJECTIVE_OR_NOTHING,
    TRIAL_FAILED_MESSAGE,
    TRIAL_FAILED_REASON,
    TRIAL_SUCCEEDED_MESSAGE,
    TRIAL_SUCCEEDED_REASON,
    CollectorKind,
    LaunchPhase,
    TrialStatus,
    with_job_condition,
)
from kfp_tune.launchers.local import unnamed_metrics_folder
from kfp_tune.launchers.replicas import local_container


def collect_metrics(
    records: ExperimentRecords, trial_name: str, collect: Collector | None = None, run_id: str | None = None, view: ExperimentView | None = None
) -> TrialResult:
    """Read the trial's metrics, apply metricStrategies and record its final status.

    EarlyStopped when early stopping stopped it; Failed when the run failed; MetricsUnavailable
    when it succeeded without reporting the objective metric (it then counts as failed);
    Succeeded otherwise (a text objective, darts' genotype, counts as reported). The objective's
    values in report order are kept as its ``curve``. A result already recorded (one-trial
    launch-trial records it) is returned as it is, without ``run_id``'s claim: reading needs
    none, and the run may have ended or been taken over since."""
    view = view or ExperimentView(records)
    state = view.state
    trial = state.trial(trial_name)
    if trial.result is not None:
        return trial.result
    if run_id is not None:
        claims.check(records, run_id)
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
        status, reason, message = TrialStatus.EARLY_STOPPED, EARLY_STOP_REASON, EARLY_STOP_MESSAGE
    elif ended.phase != LaunchPhase.SUCCEEDED:
        status = TrialStatus.FAILED
        reason, message = with_job_condition(TRIAL_FAILED_REASON, TRIAL_FAILED_MESSAGE, ended.reason, ended.message)
    elif objective.objective_metric_name not in metrics and objective.objective_metric_name not in texts:
        status = TrialStatus.METRICS_UNAVAILABLE
        reported = {m.name for m in logs} | set(texts)
        missing = missing_objective(experiment, reported, _output_hints(records, experiment, trial.name, reported), _no_metrics_file(records, experiment, trial))
        reason, message = with_job_condition(METRICS_UNAVAILABLE_REASON, missing, ended.reason, ended.message)
        if experiment.spec.collector_kind in OBJECTIVE_OR_NOTHING:  # Katib's collector then reports the objective unavailable alone
            logs, observation, metrics, texts = [], Observation.from_logs([], names), {}, {}
    else:
        status = TrialStatus.SUCCEEDED
        reason, message = with_job_condition(TRIAL_SUCCEEDED_REASON, TRIAL_SUCCEEDED_MESSAGE, ended.reason, ended.message)
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


def _output_hints(records: ExperimentRecords, experiment: Experiment, trial: str, reported: set[str]) -> str:
    """For a StdOut trial (or a function's) without its objective: what its output has instead (values of it that
    are not numbers, close names not among the ``reported`` metrics the message lists already),
    read once more from its log; "" when there is nothing to say."""
    template = experiment.spec.trial_template
    if template is None or template.trial_spec is None:
        return ""
    function = template.trial_spec.get("kind") == FUNCTION_TRIAL_KIND  # its log lists what it returned: every name says something
    if experiment.spec.collector_kind != CollectorKind.STDOUT and not function:
        return ""
    assert experiment.spec.objective is not None
    name = experiment.spec.objective.objective_metric_name
    logs = (records.read_text(records.log_key(trial, log_name)) for log_name in trial_log_names(template.trial_spec, template.primary_container_name))
    text = next((kept for kept in logs if kept is not None), "")  # a TrainJob's under node, or as kept before
    not_numbers, close = missing_metric_hints(name, text, every_name=function)
    readable = DEFAULT_FORMAT_NAME.fullmatch(name) is not None  # a printed val.acc=0.5 reads as acc=: the function's message says why
    close = [c for c in close if c not in reported] if readable else []  # an unreadable name's message says why
    hints = []
    if not_numbers:
        hints.append(f"its {name} values were not numbers ({', '.join(repr(v) for v in not_numbers)}), which are left out")
    if close:
        if function:  # a tune() user wrote objective_metric_name, or left it out; never Katib's YAML
            closest = (difflib.get_close_matches(name, close, n=1, cutoff=0.0) or close)[0]
            hints.append(f"its output has {', '.join(repr(c) for c in close)}: pass objective_metric_name={closest!r} to optimize {closest!r}")
        else:
            hints.append(f"its output has {', '.join(repr(c) for c in close)}: is spec.objective.objectiveMetricName misspelt?")
    return "; ".join(hints)


def _no_metrics_file(records: ExperimentRecords, experiment: Experiment, trial: TrialState) -> str:
    """Where a File or TensorFlowEvent trial run as a local process left no file at the
    collector's path, what the message says instead of "found none in the file": no file was
    there, and, where the trial's command names no folder of the path (:func:`~kfp_tune.launchers.
    local.unnamed_metrics_folder`), that a trial writing the path itself wrote this
    machine's file (said so where that file changed while it ran) and what to do. "" otherwise:
    on a cluster the sidecar may have read a file that held no values, and stored nothing."""
    spec = experiment.spec
    template = spec.trial_template
    started = trial.started
    if spec.collector_kind not in (CollectorKind.FILE, CollectorKind.TENSORFLOW_EVENT) or started is None or started.cluster_namespace != "":
        return ""
    if template is None or (template.trial_spec or {}).get("kind") == FUNCTION_TRIAL_KIND:
        return ""
    source = collector_source(experiment)
    if not source.path or next(iter(records.store.list(records.metrics_files_prefix(trial.name))), None) is not None:
        return ""
    directory = source.path_kind_or_default == "Directory"
    found = f"the {spec.collector_kind} collector found no file {'under' if directory else 'at'} {source.path}, the trial's metrics path"
    folder = unnamed_metrics_folder(local_container(experiment) or {}, source.path, source.path_kind_or_default)
    if not folder:
        return found + " (a local run gives each trial its own, named by $KFP_TUNE_METRICS_PATH too)"
    written = f" (this machine's {source.path} was written while the trial ran)" if _changed_since(source.path, started.at) else ""
    return (
        f"{found}: a local run gives each trial its own folder at {folder} only where its command, args or env name that folder or a "
        f"path in it (Katib mounts a volume there), and they name none, so a trial that writes {source.path} itself writes this "
        f"machine's, which is not read{written}; have the trial write the path $KFP_TUNE_METRICS_PATH names, or pass {source.path} in its command or args"
    )


def _changed_since(path: str, since: float) -> bool:
    """Whether this machine's ``path`` exists and was written at or after ``since`` (epoch seconds)."""
    try:
        return os.stat(path).st_mtime >= since
    except (OSError, ValueError):
        return False


def missing_objective(experiment: Experiment, reported: set[str], hints: str = "", no_file: str = "") -> str:
    """A MetricsUnavailable trial's message: the objective it lacks, and what it reported or
    where the collector looked, so the usual causes (``Accuracy: 0.9`` printed where Katib's
    filter reads ``accuracy=0.9``, a file written elsewhere, ``loss=nan``, a misspelt name) show
    without reading the log. ``hints``: what the output has instead (:func:`_output_hints`);
    ``no_file``: that the collector's path held no file, and why (:func:`_no_metrics_file`)."""
    message = _missing_objective(experiment, reported, no_file)
    return f"{message}; {hints}" if hints else message


def _missing_objective(experiment: Experiment, reported: set[str], no_file: str) -> str:
    spec = experiment.spec
    assert spec.objective is not None
    name = spec.objective.objective_metric_name
    message = f"the trial did not report the objective metric {name!r}"
    others = f" (it reported {', '.join(repr(n) for n in sorted(reported))})" if reported else ""
    template = spec.trial_template.trial_spec if spec.trial_template is not None else None
    if (template or {}).get("kind") == FUNCTION_TRIAL_KIND:  # a NaN or inf it returned was left out
        ways = f"returned, reported (kfp_tune.report_metrics) nor printed as {name}=<number>"
        if DEFAULT_FORMAT_NAME.fullmatch(name) is None:  # a name Katib's format cannot carry is never read from prints
            ways = "returned nor reported (kfp_tune.report_metrics)"
        return message + f": the function gave no finite value for it, neither {ways}" + others
    if reported:
        return message + others
    if no_file:
        return f"{message}: {no_file}"
    source = collector_source(experiment)
    kind = spec.collector_kind
    if kind == CollectorKind.STDOUT or (kind == CollectorKind.FILE and source.file_format == "TEXT"):
        where = "the trial's output" if kind == CollectorKind.STDOUT else f"the file {source.path}"
        if not source.formats and DEFAULT_FORMAT_NAME.fullmatch(name) is None:  # what it printed is no such line
            return message + (
                f": the {kind} collector found none in {where}; its default metricsFormat (Katib's default filter) takes names of "
                f"{NAME_RULE}, and cannot read {name!r} (nor can Katib): rename it, or give metricsCollectorSpec.source.filter.metricsFormat"
            )
        shape = "lines its metricsFormat filter matches" if source.formats else f"lines of the form {name}=<number> (Katib's default filter)"
        return message + f": the {kind} collector found none in {where}; it reads {shape}"
    if source.path:
        return message + f": the {kind} collector found none at {source.path}"
    return message + f": the {kind} collector found none"
