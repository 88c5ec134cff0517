"""What the tasks of a component-trial pipeline do at run time (:mod:`kfp_tune.pipelines.component_trials`
builds the pipeline): claim-trial takes the next trial from the algorithm for one loop iteration,
record-trial records what the user's component reported, and the exit handler closes what never
reported. Each is a function of the store, so it is tested without KFP."""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kfp_tune.core.errors import InputError

log = logging.getLogger(__name__)

CLAIM_POLL_SECONDS = 2.0
"""How often claim-trial asks again while the algorithm waits for running trials (hyperband's
rungs)."""


def input_value(value: str, kind: str) -> Any:
    """A Katib assignment (always a string) as the type of the component's input (``float``,
    ``int``, ``bool`` or ``str``); ValueError saying why when it is not one. The pipeline
    builder checks every value a parameter can take with it before anything runs."""
    if kind in ("float", "int"):
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        if kind == "float":
            return number
        if not number.is_integer():
            raise ValueError(f"{value!r} is not a whole number")
        return int(number)
    if kind == "bool":
        if value.strip().lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"{value!r} is not a boolean (true, false, 1 or 0)")
        return value.strip().lower() in ("true", "1")
    return value


def _typed(value: str, kind: str, parameter: str, input_name: str) -> Any:
    """:func:`input_value`, refused naming the parameter and the input: the builder refuses a
    parameter whose values do not fit its input, so this is met only by a value outside them."""
    try:
        return input_value(value, kind)
    except ValueError as exc:
        raise InputError(f"parameter {parameter!r}: its value {exc}, and it is bound to the component's input {input_name!r} of type {kind}") from None


_EMPTY = {"float": 0.0, "int": 0, "bool": False, "str": ""}


def _start(view: Any, name: str, run_id: str) -> bool:
    """Mark the trial started by this task; False when another task started it first."""
    from kfp_tune.core.claims import this_process
    from kfp_tune.core.records import TrialStarted, utc_now
    from kfp_tune.steps.early_stopping import early_stopping_rules

    attempt = os.urandom(8).hex()
    rules = early_stopping_rules(view.state)  # fixed as it starts, as Katib fixes them when it creates the trial
    stored = view.record_trial(name, TrialStarted(trial=name, time=utc_now(), at=time.time(), run=run_id, attempt=attempt, owner=this_process(), early_stopping_rules=rules))
    return bool(stored.attempt == attempt)


def _reported_logs(records: Any, view: Any, trial_name: str, returned: Mapping[str, float] | None = None) -> list[Any]:
    """The trial's metrics: what it reported while it ran (``TrialReporter.report``, in the
    order reported), then what its task returned. A returned value equal to the last value
    reported of that metric is that report, not a new one (a component returns its final
    loss, which it also reported)."""
    from kfp_tune.collectors.push import collect_pushed
    from kfp_tune.core.observation import MetricLog

    state = view.state
    reported = collect_pushed(records, state.experiment, state.trial(trial_name))
    last = {m.name: m.value for m in reported}
    values = [
        MetricLog(name, float(value)) for name, value in sorted((returned or {}).items())
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    ]
    return [*reported, *(m for m in values if last.get(m.name) != m.value)]


def _close_unreported(view: Any, run_id: str, this_run: bool) -> list[str]:
    """End Failed the trials started and never reported: by this run when ``this_run`` (its
    component task failed, or the run was stopped), else by runs that are gone (this run holds
    the claim). A component task is never re-run behind KFP's back. A trial whose stop was
    requested (early stopping) ends EarlyStopped with what it reported, as if recorded."""
    from kfp_tune.core.records import TrialEnded, TrialResult, utc_now
    from kfp_tune.core.vocabulary import LaunchPhase, TrialStatus
    from kfp_tune.steps.collect_metrics import collect_metrics

    closed = []
    for trial in list(view.state.trials):
        started = trial.started
        if trial.is_terminal or started is None or (started.run == run_id) != this_run:
            continue
        if trial.ended is not None:
            if trial.ended.phase == LaunchPhase.EARLY_STOPPED:  # stopped early, then its task failed or its run was stopped
                logs = _reported_logs(view.records, view, trial.name)
                collect_metrics(view.records, trial.name, collect=lambda *_, logs=logs: logs, view=view)
                closed.append(trial.name)
            continue
        message = (
            f"the component task of this trial (run {started.run or '?'}) ended without recording its result: it failed, or its run was "
            "stopped; it is not run a second time"
        )
        view.record_trial(trial.name, TrialEnded.now(trial.name, LaunchPhase.FAILED, "ComponentTrialUnreported", message, None))
        view.record_trial(trial.name, TrialResult(trial=trial.name, status=TrialStatus.FAILED, reason="ComponentTrialUnreported", message=message, time=utc_now()))
        closed.append(trial.name)
    return closed


def claim_trial(records: Any, run_id: str, inputs: Mapping[str, tuple[str, str]], poll_seconds: float = CLAIM_POLL_SECONDS) -> list[Any]:
    """The next trial of the run, for one loop iteration: ``[should_run, trial_name, value,
    ...]``, the values in the order of ``inputs`` (parameter name -> (input name, type:
    ``float``, ``int``, ``str`` or ``bool``)). ``should_run`` is False, with empty values, once
    the experiment has ended (goal, budget, failed trials, search space exhausted).

    A trial that was made but never started (its task lost a race, or a dead run left it) is
    taken first; one a dead run started and never reported ends Failed. Two iterations never
    get the same trial: the ``started`` record is write-once."""
    from kfp_tune.core import claims
    from kfp_tune.core.decision import decide
    from kfp_tune.core.errors import KfpTuneError
    from kfp_tune.core.records import utc_now
    from kfp_tune.core.state import ExperimentView
    from kfp_tune.steps.decide_stop import write_status
    from kfp_tune.steps.schedule import component_round_id
    from kfp_tune.steps.suggest import new_trials

    claims.check(records, run_id)
    skip = [False, "", *(_EMPTY[kind] for _, kind in inputs.values())]
    while True:
        view = ExperimentView(records)  # read afresh: the run's other iterations write beside this one
        closed = _close_unreported(view, run_id, this_run=False)
        if closed:
            log.info("trials a run that is gone left unreported, now closed (Failed, or EarlyStopped when stopped early): %s", closed)
        state = view.state
        decision = decide(state, rounds_left=1)
        if decision.finished:
            write_status(records, state, decision, utc_now())
            log.info("no trial: the experiment has ended (%s: %s)", decision.reason, decision.message)
            return skip
        name = next((t.name for t in state.trials if not t.is_terminal and t.started is None), None)
        if name is None:
            spec = state.experiment.spec
            if (spec.max_trial_count is not None and state.budget_used >= spec.max_trial_count) or state.exhausted:
                log.info("no trial: every trial the budget allows exists (%d of %s)", state.budget_used, spec.max_trial_count)
                return skip
            index = 1 + max((t.index for t in state.trials[-1:]), default=-1)
            record = new_trials(view, component_round_id(run_id, index), 1)
            if record["trials"]:
                name = str(record["trials"][0]["name"])
            elif record.get("exhausted"):
                return skip
            elif not any(not t.is_terminal for t in state.trials):
                raise KfpTuneError(f"the algorithm is waiting for running trials, and none is running (round {record['round']!r})")
            else:
                time.sleep(poll_seconds)  # a running trial's end lets the algorithm go on
                continue
        if not _start(view, name, run_id):
            continue  # another iteration took it: ask again
        assignment = view.state.trial(name).assignment
        log.info("trial %s: %s", name, assignment)
        return [True, name, *(_typed(str(assignment[parameter]), kind, parameter, input_name) for parameter, (input_name, kind) in inputs.items())]


def record_trial(records: Any, run_id: str, trial_name: str, values: Mapping[str, float], model_path: str = "") -> str:
    """Record what a component trial reported (``values``: metric name -> value), keep its
    model (a file or folder at ``model_path``) for the best-trial output, and apply the stop
    rules. The metrics are those the trial reported while it ran, then ``values``. Returns the
    trial's status (``Succeeded``; ``EarlyStopped`` when early stopping stopped it, or when
    what it reported reaches the rules it started with though it never asked;
    ``MetricsUnavailable`` when the objective is missing). A retry returns the recorded status."""
    from kfp_tune.core import claims
    from kfp_tune.core.decision import decide
    from kfp_tune.core.records import TrialEnded, utc_now
    from kfp_tune.core.state import ExperimentView
    from kfp_tune.core.vocabulary import EARLY_STOP_MESSAGE, EARLY_STOP_REASON, LaunchPhase
    from kfp_tune.steps.collect_metrics import collect_metrics
    from kfp_tune.steps.decide_stop import write_status
    from kfp_tune.steps.early_stopping import stops_after_end
    from kfp_tune.steps.trial_artifacts import ArtifactError, keep_model

    claims.check(records, run_id)
    view = ExperimentView(records)
    trial = view.state.trial(trial_name)
    if trial.result is not None:
        return str(trial.result.status)
    if model_path and Path(model_path).exists():
        try:
            keep_model(records, trial_name, model_path)
        except ArtifactError as exc:
            log.warning("trial %s: its model was not kept: %s", trial_name, exc)
    logs = _reported_logs(records, view, trial_name, values)
    if trial.ended is None:  # else its stop was requested (TrialReporter.should_stop): it ends EarlyStopped
        objective = view.state.experiment.spec.objective
        assert objective is not None
        curve = [m.value for m in logs if m.name == objective.objective_metric_name and math.isfinite(m.value)]  # collect-metrics' curve
        if stops_after_end(view.state, trial_name, curve):  # reported what stops it, and never asked (or asked before the last report)
            view.record_trial(trial_name, TrialEnded.now(trial_name, LaunchPhase.EARLY_STOPPED, EARLY_STOP_REASON, EARLY_STOP_MESSAGE, 0))
        else:
            # a KFP task gives no condition of its own: the trial's is Katib's plain TrialSucceeded
            view.record_trial(trial_name, TrialEnded.now(trial_name, LaunchPhase.SUCCEEDED, "", "", 0))
    result = collect_metrics(records, trial_name, collect=lambda *_: logs, view=view)
    state = view.refresh()
    write_status(records, state, decide(state, rounds_left=1), utc_now())
    log.info("trial %s %s %s", trial_name, result.status, result.metrics)
    return str(result.status)


def close_this_runs_unreported(records: Any, run_id: str) -> None:
    """The run's exit handler, first: this run's trials whose component task never reported end
    Failed (then the handler closes the run as decide-stop's does). Never raises: the experiment
    may not exist when the run failed first, and the claim must still go back."""
    from kfp_tune.core.state import ExperimentView

    try:
        closed = _close_unreported(ExperimentView(records), run_id, this_run=True)
        if closed:
            log.warning("trials whose component task did not report, now closed (Failed, or EarlyStopped when stopped early): %s", closed)
    except Exception as exc:
        log.warning("unreported trials not closed: %s: %s", type(exc).__name__, exc)
