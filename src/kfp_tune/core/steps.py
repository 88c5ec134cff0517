"""The four steps of the tuning loop, as plain functions over a store (and a launcher).

The KFP components, the inline engine and ``kfp_tune.tune`` all call these, so every way of
running an experiment writes the same records. Each step may be re-run with no harm: identity
comes before side effects, and write-once records make a retry return what the first try wrote.
"""

from __future__ import annotations

import copy
import datetime as _dt
import logging
import math
import os
import time
from typing import Any, Callable

import numpy as np

from kfp_tune.algorithms import early_stopping, registry
from kfp_tune.algorithms.base import FinishedTrial, Problem
from kfp_tune.algorithms.catalogue import ALGORITHMS, EARLY_STOPPING, parse_settings
from kfp_tune.core.decision import Decision, decide, status_document
from kfp_tune.core import runs
from kfp_tune.core.errors import ExperimentConflict, FieldError, KfpTuneError, StoreError
from kfp_tune.core.interfaces import LaunchOutcome, Launcher, TrialRun
from kfp_tune.core.naming import short_hash, trial_name
from kfp_tune.core.observation import MetricLog, Observation
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.space import SearchSpace, search_space_of
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import ExperimentState, TrialState, load_state, read_experiment_record
from kfp_tune.core.template import is_meta_reference, resolve_meta_reference, substitute
from kfp_tune.core.trial_resources import labels_for

log = logging.getLogger(__name__)

SUPPORTED_COLLECTORS = ("StdOut", "Push", "File", "TensorFlowEvent")
EARLY_STOPPING_COLLECTORS = ("StdOut",)  # the ones that can be read while a trial runs


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- what this version can run --------------------------------------------------------------


def runnable_problems(experiment: Experiment) -> list[FieldError]:
    """Valid Katib that this version cannot run yet, reported before anything runs."""
    spec = experiment.spec
    problems: list[FieldError] = []
    assert spec.algorithm is not None
    if not registry.is_implemented(spec.algorithm.algorithm_name):
        problems.append(
            FieldError(
                "spec.algorithm.algorithmName",
                f"{spec.algorithm.algorithm_name!r} is a Katib algorithm this version does not implement yet "
                f"(implemented: {', '.join(registry.implemented())})",
            )
        )
    kind = spec.collector_kind
    if spec.early_stopping is not None:
        if spec.early_stopping.algorithm_name not in early_stopping.RULES:
            problems.append(
                FieldError("spec.earlyStopping.algorithmName", f"early stopping {spec.early_stopping.algorithm_name!r} is not implemented in this version yet")
            )
        elif kind not in EARLY_STOPPING_COLLECTORS:
            problems.append(
                FieldError("spec.earlyStopping", f"early stopping needs metrics it can read while a trial runs: the StdOut collector, not {kind}")
            )
    if kind not in SUPPORTED_COLLECTORS:
        problems.append(
            FieldError(
                "spec.metricsCollectorSpec.collector.kind",
                f"the {kind} collector is not implemented in this version yet (implemented: {', '.join(SUPPORTED_COLLECTORS)})",
            )
        )
    template = spec.trial_template
    if template is not None and template.config_map is not None:
        problems.append(FieldError("spec.trialTemplate.configMap", "configMap templates are not supported yet; give the template inline as trialSpec"))
    return problems


# --- experiment ----------------------------------------------------------------------------


def init_experiment(records: ExperimentRecords, experiment: Experiment) -> dict[str, Any]:
    """Create the experiment in the store, or check that it may resume with this spec.

    Resuming with another search space or objective is refused; the budgets (maxTrialCount,
    maxFailedTrialCount, parallelTrialCount), goal, algorithm and trial template may change, but
    maxTrialCount may not drop below the trials already created."""
    if experiment.name != records.experiment:
        raise KfpTuneError(f"spec is for experiment {experiment.name!r}, records are for {records.experiment!r}")
    head = read_experiment_record(records)
    spec_dict = experiment.to_dict()
    space_hash = experiment.search_space_hash()
    if head is None:
        created = utc_now()
        uid = short_hash(f"{experiment.name}/{created}/{os.urandom(8).hex()}", 12)
        return records.write_once(
            records.experiment_key(),
            "Experiment",
            {"name": experiment.name, "uid": uid, "created": created, "searchSpaceHash": space_hash, "spec": spec_dict},
        )
    if head["searchSpaceHash"] != space_hash:
        raise ExperimentConflict(
            f"experiment {experiment.name!r} already exists in {records.store.uri} with another search space "
            f"or objective (spec.parameters / spec.objective changed); use a new experiment name to start over"
        )
    if head["spec"] != spec_dict:
        state = load_state(records)
        new_max = experiment.spec.max_trial_count
        if new_max is not None and new_max < len(state.trials):
            raise ExperimentConflict(
                f"spec.maxTrialCount {new_max} is smaller than the {len(state.trials)} trials experiment "
                f"{experiment.name!r} already has"
            )
        head = records.write(records.experiment_key(), "Experiment", {**_payload(head), "spec": spec_dict})
    return head


def _payload(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("kind", "version")}


def problem_of(experiment: Experiment, uid: str = "") -> Problem:
    spec = experiment.spec
    assert spec.objective is not None and spec.algorithm is not None
    entry = ALGORITHMS[spec.algorithm.algorithm_name]
    settings, _ = parse_settings(entry, [(s.name, s.value) for s in spec.algorithm.algorithm_settings], "")
    return Problem(
        space=registry.problem_space(spec.algorithm.algorithm_name, search_space_of(spec.parameters), settings),
        objective_type=spec.objective.type,  # type: ignore[arg-type]
        objective_metric=spec.objective.objective_metric_name,
        settings=settings,
        max_trial_count=spec.max_trial_count,
        seed=experiment_seed(settings, uid),
    )


def experiment_seed(settings: dict[str, Any], uid: str) -> int:
    """``random_state`` when given, else a number derived from the experiment's uid."""
    seed = settings.get("random_state")
    return int(seed) if seed is not None else int(uid or "0", 36) % (2**31)


def history_of(state: ExperimentState, space: SearchSpace) -> tuple[list[FinishedTrial], list[dict[str, Any]]]:
    """(finished trials, assignments still pending) in the algorithms' terms."""
    finished: list[FinishedTrial] = []
    pending: list[dict[str, Any]] = []
    for trial in state.trials:
        assignment = space.parse(trial.assignment)
        if trial.is_terminal:
            objective = state.objective_value(trial) if trial.status in ("Succeeded", "EarlyStopped") else None
            finished.append(FinishedTrial(trial.name, assignment, trial.status, objective, trial.metrics))  # type: ignore[arg-type]
        else:
            pending.append(assignment)
    return finished, pending


def round_size(experiment: Experiment, trials_so_far: int, rounds_left: int) -> int:
    """How many trials a round gets: the budget left spread over the rounds left, and never
    fewer than parallelTrialCount (so the parallel slots stay busy)."""
    spec = experiment.spec
    parallel = spec.parallel_trial_count or 1
    if spec.max_trial_count is None:
        return parallel
    remaining = max(0, spec.max_trial_count - trials_so_far)
    if remaining == 0:
        return 0
    share = math.ceil(remaining / max(1, rounds_left))
    return min(remaining, max(parallel, share))


# --- suggest --------------------------------------------------------------------------------


def suggest(
    records: ExperimentRecords,
    round_id: str,
    rounds_left: int,
    experiment: Experiment | None = None,
    run_id: str | None = None,
    take_over: bool = False,
) -> list[str]:
    """Create this round's trials and return their names; a retry returns the same names.

    ``rounds_left`` counts this round. With ``experiment`` given (the first round of a run), the
    run claims the experiment (``run_id``, see :mod:`.runs`), and the experiment is created or
    its resume checked; the trials a dead run left unfinished join this round."""
    if run_id is not None and experiment is not None:
        runs.claim(records, run_id, take_over)
        try:
            init_experiment(records, experiment)
        except KfpTuneError:
            runs.release(records, run_id, "refused")
            raise
    elif experiment is not None:
        init_experiment(records, experiment)
    if run_id is not None:
        runs.check(records, run_id)
    saved = records.read(records.round_key(round_id), "Round")
    if saved is not None:
        return list(saved.get("adopted", [])) + [t["name"] for t in saved["trials"]]
    first_round_of_run = run_id is not None and experiment is not None
    state = load_state(records)
    experiment = state.experiment
    before = decide(state, rounds_left=1)
    adopted = adopt_orphans(state) if first_round_of_run and not before.finished else []
    n = 0 if before.finished else max(0, round_size(experiment, len(state.trials), rounds_left) - len(adopted))
    problem = problem_of(experiment, state.uid)
    assignments: list[dict[str, str]] = []
    exhausted = False
    if n > 0:
        history, pending = history_of(state, problem.space)
        algorithm = registry.create(experiment.spec.algorithm.algorithm_name, problem.settings)  # type: ignore[union-attr]
        rng = np.random.default_rng([problem.seed, len(state.rounds)])
        result = algorithm.suggest(problem, history, pending, n, rng)
        _check_suggestions(problem, result.assignments, result.exhausted or result.waiting, n, history, pending)
        assignments = [problem.space.format(a) for a in result.assignments]
        exhausted = result.exhausted
    first = 1 + max((t.index for t in state.trials), default=-1)
    entries = [
        {"name": trial_name(experiment.name, state.uid, first + i), "index": first + i, "assignment": a}
        for i, a in enumerate(assignments)
    ]
    record = records.write_once(
        records.round_key(round_id),
        "Round",
        {
            "round": round_id, "seq": len(state.rounds), "created": utc_now(), "requested": n, "exhausted": exhausted,
            "trials": entries, "adopted": adopted,
        },
    )
    return list(record.get("adopted", [])) + [t["name"] for t in record["trials"]]


def adopt_orphans(state: ExperimentState) -> list[str]:
    """The unfinished trials of runs that are gone (the caller holds the experiment's claim):
    each is finished by this run's launch-trial and collect-metrics. One that never started
    starts now; one that was running is waited for, re-attached or ends Failed (TrialStale) as
    launch-trial decides, never run twice; one that ended without a result gets it."""
    return [trial.name for trial in state.trials if not trial.is_terminal]


def _check_suggestions(problem: Problem, out: list[dict[str, Any]], explained: bool, n: int, history: list[FinishedTrial], pending: list[dict[str, Any]]) -> None:
    """Hold every algorithm to its contract, so a plug-in bug cannot corrupt the experiment."""
    space = problem.space
    if len(out) > n or (len(out) < n and not explained):
        raise KfpTuneError(f"algorithm returned {len(out)} suggestions for {n} asked and said neither exhausted nor waiting")
    seen = {space.key(t.assignment) for t in history} | {space.key(a) for a in pending}
    for assignment in out:
        if not space.contains(assignment):
            raise KfpTuneError(f"algorithm suggested an infeasible point {assignment!r}")
        key = space.key(assignment)
        if key in seen:
            raise KfpTuneError(f"algorithm suggested a point twice: {dict(zip(space.names, key))}")
        seen.add(key)


# --- launch-trial ---------------------------------------------------------------------------


def render_trial(experiment: Experiment, trial: TrialState, namespace: str = "") -> dict[str, Any]:
    """The trial's manifest: trialSpec with its name, labels and parameters filled in.

    Substitution walks the parsed tree; nothing is spliced into YAML text."""
    template = experiment.spec.trial_template
    assert template is not None and template.trial_spec is not None
    manifest = copy.deepcopy(template.trial_spec)
    metadata = manifest.setdefault("metadata", {})
    metadata["name"] = trial.name
    if namespace:
        metadata["namespace"] = namespace
    metadata.setdefault("labels", {}).update(labels_for(experiment.name, trial.name, trial.round))
    values: dict[str, str] = {}
    for tp in template.trial_parameters or []:
        if is_meta_reference(tp.reference):
            values[tp.name] = resolve_meta_reference(tp.reference, manifest)
        else:
            values[tp.name] = trial.assignment[tp.reference]
    return substitute(manifest, values)


def early_stopping_monitor(state: ExperimentState) -> Callable[[str], bool] | None:
    """The running trial's stop test: its objective so far against the completed trials'."""
    from kfp_tune.collectors.stdout import parse_output

    spec = state.experiment.spec
    if spec.early_stopping is None:
        return None
    assert spec.objective is not None
    settings, _ = parse_settings(
        EARLY_STOPPING[spec.early_stopping.algorithm_name],
        [(s.name, s.value) for s in spec.early_stopping.algorithm_settings],
        "",
    )
    rule = early_stopping.create(spec.early_stopping.algorithm_name, settings)
    completed = [list(t.result.get("curve") or []) for t in state.trials if t.status == "Succeeded" and t.result]
    metric, objective_type = spec.objective.objective_metric_name, spec.objective.type

    def should_stop(text: str) -> bool:
        current = [m.value for m in parse_output(state.experiment, text) if m.name == metric]
        return rule.should_stop(objective_type, completed, current)

    return should_stop


def trial_run(experiment: Experiment, trial: TrialState, namespace: str = "", should_stop: Callable[[str], bool] | None = None) -> TrialRun:
    template = experiment.spec.trial_template
    assert template is not None
    mc = experiment.spec.metrics_collector_spec
    path = mc.source.file_system_path if experiment.spec.collector_kind in ("File", "TensorFlowEvent") and mc and mc.source else None
    return TrialRun(
        experiment=experiment.name,
        trial=trial.name,
        manifest=render_trial(experiment, trial, namespace),
        assignment=dict(trial.assignment),
        primary_container=template.primary_container_name,
        success_condition=template.success_condition,
        failure_condition=template.failure_condition,
        primary_pod_labels=dict(template.primary_pod_labels or {}),
        retain=template.retain,
        should_stop=should_stop,
        metrics_path=(path.path or "") if path else "",
        metrics_path_kind=(path.kind or "") if path else "",
    )


def launch_trial(records: ExperimentRecords, launcher: Launcher, trial_name: str, namespace: str = "", run_id: str | None = None) -> str:
    """Run one trial to its end and record how it ended; returns the phase (Succeeded, Failed, or
    EarlyStopped when the experiment's early stopping rule stopped it).

    A trial is started at most once. A retry finds the trial's ``started`` record: if the
    attempt that started it is alive (it beats while the trial runs), the retry waits for its
    end; if that attempt died, the launcher re-attaches to the trial when it can
    (``launcher.reattach``), and otherwise the trial ends Failed (TrialStale)."""
    claim = runs.check(records, run_id) if run_id is not None else None
    state = load_state(records)
    trial = state.trial(trial_name)
    if trial.ended is not None:
        return str(trial.ended["phase"])
    namespace = namespace or str(getattr(launcher, "namespace", "") or "")  # for ${trialSpec.Namespace}
    run = trial_run(state.experiment, trial, namespace, early_stopping_monitor(state))
    if trial.started is not None:
        ended = runs.wait_for_attempt(records, trial.name, trial.started)
        if ended is not None:  # the attempt that started it finished it
            return str(ended["phase"])
        reattach = getattr(launcher, "reattach", None)
        outcome = reattach(run) if reattach is not None else None
        return str(_record_outcome(records, trial.name, outcome or _stale_outcome(trial))["phase"])
    attempt = os.urandom(8).hex()
    started = records.write_once(
        records.trial_key(trial.name, "started"),
        "TrialStarted",
        {"trial": trial.name, "time": utc_now(), "at": time.time(), "run": run_id or "", "attempt": attempt},
    )
    if started.get("attempt") != attempt:  # another attempt won the race to start it: wait for that one
        ended = runs.wait_for_attempt(records, trial.name, started)
        if ended is None:
            raise KfpTuneError(f"trial {trial.name!r} was started by another launch-trial at {started.get('time')}, which died; it is not started twice")
        return str(ended["phase"])
    with runs.Heartbeat(records, claim, trial.name, attempt):
        outcome = launcher.run(run)
    return str(_record_outcome(records, trial.name, outcome)["phase"])


def _stale_outcome(trial: TrialState) -> LaunchOutcome:
    started = trial.started or {}
    return LaunchOutcome(
        phase="Failed",
        reason="TrialStale",
        message=(
            f"launch-trial started this trial at {started.get('time', '?')} (run {started.get('run') or '?'}) and "
            "ended without recording how the trial ended; it is not run a second time"
        ),
    )


def _record_end(records: ExperimentRecords, trial_name: str, outcome: LaunchOutcome) -> dict[str, Any]:
    return records.write_once(
        records.trial_key(trial_name, "ended"),
        "TrialEnded",
        {
            "trial": trial_name,
            "phase": outcome.phase,
            "reason": outcome.reason,
            "message": outcome.message,
            "exitCode": outcome.exit_code,
            "time": utc_now(),
        },
    )


def _record_outcome(records: ExperimentRecords, trial_name: str, outcome: LaunchOutcome) -> dict[str, Any]:
    """Logs and pushed metrics first, the ``ended`` record last: once it exists, everything the
    run left is in the store."""
    for log_name, text in outcome.logs.items():
        records.write_text(records.log_key(trial_name, log_name), text)
    for relative_path, data in sorted(outcome.files.items()):
        try:
            key = records.metrics_file_key(trial_name, relative_path)
        except StoreError:
            log.warning("trial %s: metrics file %r has a name the store does not keep; skipped", trial_name, relative_path)
            continue
        records.store.put(key, data)
    if outcome.pushed:
        records.write(
            records.trial_key(trial_name, "pushed"),
            "PushedMetrics",
            {"metrics": [{"name": m.name, "value": m.value, "step": m.step} for m in outcome.pushed if math.isfinite(m.value)]},
        )
    return _record_end(records, trial_name, outcome)


# --- collect-metrics ------------------------------------------------------------------------

Collect = Callable[[ExperimentRecords, Experiment, TrialState], list[MetricLog]]


def collect_metrics(records: ExperimentRecords, trial_name: str, collect: Collect | None = None, run_id: str | None = None) -> dict[str, Any]:
    """Read the trial's metrics, apply metricStrategies and record its final status.

    EarlyStopped when early stopping stopped it; Failed when the run failed; MetricsUnavailable
    when it succeeded without reporting the objective metric (it then counts as failed);
    Succeeded otherwise. The objective's values in report order are kept as its ``curve``."""
    from kfp_tune.collectors import collector_for

    if run_id is not None:
        runs.check(records, run_id)
    state = load_state(records)
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
    if trial.ended["phase"] == "EarlyStopped":
        status, reason, message = "EarlyStopped", "EarlyStopped", trial.ended.get("message") or "Trial was stopped early"
    elif trial.ended["phase"] != "Succeeded":
        status, reason, message = "Failed", trial.ended.get("reason") or "TrialFailed", trial.ended.get("message") or "Trial has failed"
    elif objective.objective_metric_name not in metrics:
        status, reason = "MetricsUnavailable", "MetricsUnavailable"
        message = f"the trial did not report the objective metric {objective.objective_metric_name!r}"
    else:
        status, reason, message = "Succeeded", "TrialSucceeded", "Trial has succeeded"
    return records.write_once(
        records.trial_key(trial.name, "result"),
        "TrialResult",
        {
            "trial": trial.name,
            "status": status,
            "reason": reason,
            "message": message,
            "observation": observation.to_dict(),
            "metrics": metrics,
            "curve": [m.value for m in logs if m.name == objective.objective_metric_name and math.isfinite(m.value)],
            "time": utc_now(),
        },
    )


# --- decide-stop ----------------------------------------------------------------------------


def decide_stop(records: ExperimentRecords, round_id: str, rounds_left: int, run_id: str | None = None) -> Decision:
    """Decide whether the experiment goes on after this round, and write its status.

    ``rounds_left`` counts the rounds after this one in the current run; when the run ends
    here, its claim on the experiment is released."""
    if run_id is not None:
        runs.check(records, run_id)
    state = load_state(records)
    decision = decide(state, rounds_left)
    now = utc_now()
    document = status_document(state, decision, now)
    records.write(records.status_key(), "ExperimentStatus", {"experiment": state.name, "status": document})
    records.write_once(
        records.decision_key(round_id),
        "Decision",
        {"round": round_id, "phase": decision.phase, "reason": decision.reason, "message": decision.message, "time": now},
    )
    if run_id is not None and (decision.phase != "Running" or rounds_left <= 0):
        runs.release(records, run_id, decision.reason)
    return decision
