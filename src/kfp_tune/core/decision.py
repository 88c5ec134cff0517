"""When an experiment ends, in Katib's order, and its Katib-shaped status."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kfp_tune.core.observation import metric_text
from kfp_tune.core.spec import ObjectiveSpec
from kfp_tune.core.state import FINISHED_PHASES, ExperimentState, TrialState
from kfp_tune.core.vocabulary import FAILED_STATUSES, TERMINAL_STATUSES, ExperimentPhase, ObjectiveType, TrialStatus

# Katib's reasons (pkg/controller.v1beta1/experiment/util/status_util.go); the last four are ours.
GOAL_REACHED = "ExperimentGoalReached"
MAX_FAILED_REACHED = "ExperimentFailed"
MAX_TRIALS_REACHED = "ExperimentMaxTrialsReached"
SUGGESTION_END_REACHED = "ExperimentSuggestionEndReached"
RUNNING = "ExperimentRunning"
ROUNDS_USED_UP = "ExperimentRunRoundsUsedUp"
RUN_INTERRUPTED = "ExperimentRunInterrupted"
RUN_STEP_FAILED = "ExperimentRunStepFailed"
RESTARTING = "ExperimentRestarting"

UNAVAILABLE = "unavailable"
"""Katib's value of a metric's min or max that there is none of (consts.UnavailableMetricValue)."""
COUNTS_AS_FAILED = "countsAsFailed"
"""``count_trials``'s key for the trials counted against maxFailedTrialCount (Failed and
MetricsUnavailable); its ``Failed`` key counts the Failed ones only."""


@dataclass(frozen=True)
class Decision:
    """The experiment's phase after a round: Running (go on), Succeeded or Failed."""

    phase: ExperimentPhase
    reason: str
    message: str
    best_trial: TrialState | None = None
    counts: dict[str, int] = field(default_factory=dict)
    recorded: bool = False
    """Whether this is the experiment's recorded outcome (``ExperimentState.outcome``), read
    back rather than decided now."""

    @property
    def finished(self) -> bool:
        return self.phase in FINISHED_PHASES


def best_first(value: object, minimize: bool) -> tuple[int, float]:
    """A sort key that puts trials best first by their ranked objective ``value`` (None for a
    trial whose value is not ranked), as Katib ranks its optimal trial (status_util.go,
    ``updateTrialsSummary``): the lowest for minimize, the highest for maximize; a trial without
    a numeric value (none, not ranked, a text objective, NaN) after them all. Python's stable
    sort keeps equals, and each group, in the order created."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return 1, 0.0
    return 0, value if minimize else -value


def best_trial(state: ExperimentState) -> TrialState | None:
    """The trial with the best objective (after its strategy) among trials that have one as
    Katib's observation (``ExperimentState.objective_value``: not a Failed one); the first of equals. A text objective (darts' genotype) cannot be compared: the latest trial
    that reported one is the best, as in Katib."""
    if state.tally is not None:
        return state.tally.best
    objective = state.experiment.spec.objective
    assert objective is not None
    best: TrialState | None = None
    best_value: float | None = None
    for trial in state.trials:
        value = state.objective_value(trial)  # None for a trial not ranked (a Failed one)
        if value is None:
            if best_value is None and state.better_text_trial(trial, best):
                best = trial
            continue
        if best_value is None or (value < best_value if objective.type == ObjectiveType.MINIMIZE else value > best_value):
            best, best_value = trial, value
    return best


def goal_reached(objective: ObjectiveSpec, value: float | None) -> bool:
    """Whether an objective value reaches the objective's goal, as Katib decides it (>= when
    maximizing, <= when minimizing); False without a goal or a value. One rule for ``decide`` and
    the report's "reached", so the page never says otherwise than the experiment's condition."""
    if objective.goal is None or value is None:
        return False
    return value <= objective.goal if objective.type == ObjectiveType.MINIMIZE else value >= objective.goal


def count_trials(state: ExperimentState) -> dict[str, int]:
    """Trials per status (Katib's names as keys: ``Failed`` counts the Failed ones only), and
    ``total``, ``completed`` (terminal, counted against maxTrialCount), ``countsAsFailed`` (Failed
    and MetricsUnavailable: counted against maxFailedTrialCount, ``TrialStatus.counts_as_failed``),
    ``active`` (created or running) and ``givenBack`` (Killed by an interrupted run: in ``Killed``
    and ``total``, but not ``completed``, as their budget was given back; see
    ``state.TRIAL_INTERRUPTED``)."""
    if state.tally is not None:
        counts = dict(state.tally.counts)
    else:
        counts = {str(status): 0 for status in TrialStatus}
        for trial in state.trials:
            counts[str(trial.status)] += 1
    counts["total"] = len(state.trials)
    counts["givenBack"] = state.given_back
    counts["completed"] = sum(counts[str(s)] for s in TERMINAL_STATUSES) - counts["givenBack"]
    counts[COUNTS_AS_FAILED] = sum(counts[str(s)] for s in FAILED_STATUSES)
    counts["active"] = counts[TrialStatus.CREATED.value] + counts[TrialStatus.RUNNING.value]
    return counts


def suggestion_end_message(algorithm: str | None) -> str:
    """Katib's message for ExperimentSuggestionEndReached, and what ended: hyperband's bracket
    schedule, whose end comes whatever the space (a continuous one too), else the search space."""
    ended = "hyperband's bracket schedule was run to its last bracket" if algorithm == "hyperband" else "the search space has no more points"
    return f"Experiment has succeeded because suggestion service has reached the end ({ended})"


def decide(state: ExperimentState, rounds_left: int) -> Decision:
    """Katib's termination order, conditions, reasons and messages: goal reached, then too many
    failed trials, then maxTrialCount, then suggestions exhausted (which Katib never reaches; a
    grid that has run every point ends here). ``rounds_left`` is how many rounds this run still
    has; at 0 with the experiment unfinished, it stays Running and a next run resumes it."""
    spec = state.experiment.spec
    objective = spec.objective
    assert objective is not None
    counts = count_trials(state)
    best = best_trial(state)
    value = state.objective_value(best) if best is not None else None
    recorded = state.outcome()
    if recorded is not None:  # Katib sets a completed condition once and never decides it again
        return Decision(ExperimentPhase(recorded["phase"]), recorded["reason"], recorded["message"], best, counts, recorded=True)

    if goal_reached(objective, value):
        return Decision(ExperimentPhase.SUCCEEDED, GOAL_REACHED, "Experiment has succeeded because Objective goal has reached", best, counts)
    # Katib: failed (Failed and MetricsUnavailable) >= maxFailedTrialCount, and at least one
    if spec.max_failed_trial_count is not None and counts[COUNTS_AS_FAILED] != 0 and counts[COUNTS_AS_FAILED] >= spec.max_failed_trial_count:
        return Decision(ExperimentPhase.FAILED, MAX_FAILED_REACHED, "Experiment has failed because max failed count has reached", best, counts)
    # Katib: completed = succeeded + failed + killed + early stopped + metrics unavailable; here
    # less the trials killed by an interrupted run, whose budget was given back
    if spec.max_trial_count is not None and counts["completed"] >= spec.max_trial_count:
        return Decision(ExperimentPhase.SUCCEEDED, MAX_TRIALS_REACHED, "Experiment has succeeded because max trial count has reached", best, counts)
    if state.exhausted and counts["active"] == 0:
        algorithm = spec.algorithm.algorithm_name if spec.algorithm is not None else None
        return Decision(ExperimentPhase.SUCCEEDED, SUGGESTION_END_REACHED, suggestion_end_message(algorithm), best, counts)
    if rounds_left <= 0:
        return Decision(
            ExperimentPhase.RUNNING, ROUNDS_USED_UP,
            "This run ended with budget left; run the same pipeline (or kfp-tune run) again to resume from the store",
            best, counts,
        )
    return Decision(ExperimentPhase.RUNNING, RUNNING, "Experiment is running", best, counts)


def trials_killed_by_interrupt(running: int, unstarted: int = 0) -> str:
    """The trials an interrupt recorded Killed, as every interrupt message counts them (the
    status, ``kfp-tune run``'s closing line, ``tune()``'s note, a kfp.local child killed): the
    resumed run's "interrupted trial(s) given back" counts both kinds, so this does too, and an
    interrupt before any trial started says no trial was running rather than "0 running"."""
    if not running and not unstarted:
        return "no trial was running, so none was stopped or recorded Killed"
    if not unstarted:
        return f"{running} running trial(s) stopped and recorded Killed, their budget given back"
    stopped = f"{running} stopped while running" if running else "no trial was running"
    return f"{running + unstarted} trial(s) recorded Killed, their budget given back: {stopped}, {unstarted} made but not started"


def interrupted(state: ExperimentState, signal_name: str, killed: int, unstarted: int = 0) -> Decision:
    """The decision of a run its user interrupted, ``killed`` of its trials stopped while running
    and ``unstarted`` made but not started, both recorded Killed: the experiment's own if it has
    ended anyway, else Running, saying so as the run's closing line does, for the next run to resume."""
    decision = decide(state, rounds_left=1)
    if decision.finished:
        return decision
    return Decision(
        ExperimentPhase.RUNNING, RUN_INTERRUPTED,
        f"The run was interrupted ({signal_name}): {trials_killed_by_interrupt(killed, unstarted)}. "
        "Run the same command (or pipeline) again to resume from the store",
        decision.best_trial, decision.counts,
    )


STATUS_COUNT_FIELDS = {
    TrialStatus.SUCCEEDED: "trialsSucceeded",
    TrialStatus.FAILED: "trialsFailed",
    TrialStatus.METRICS_UNAVAILABLE: "trialMetricsUnavailable",
    TrialStatus.EARLY_STOPPED: "trialsEarlyStopped",
    TrialStatus.KILLED: "trialsKilled",
    TrialStatus.RUNNING: "trialsRunning",
    TrialStatus.CREATED: "trialsPending",
}
"""The status document's count of each trial status, as Katib's ExperimentStatus names it
(pkg/apis/controller/experiments/v1beta1/experiment_types.go), in the order it is written."""
STATUS_LIST_FIELDS = {
    TrialStatus.SUCCEEDED: "succeededTrialList",
    TrialStatus.FAILED: "failedTrialList",
    TrialStatus.METRICS_UNAVAILABLE: "metricsUnavailableTrialList",
    TrialStatus.RUNNING: "runningTrialList",
    TrialStatus.CREATED: "pendingTrialList",
    TrialStatus.KILLED: "killedTrialList",
    TrialStatus.EARLY_STOPPED: "earlyStoppedTrialList",
}
"""The status document's list of the trials of each status (ExperimentStatus, as above)."""


def observation_metrics(trial: TrialState, metric_names: list[str]) -> list[dict[str, str]]:
    """A trial's ``status.observation.metrics`` in Katib's shape: ``{name, min, max, latest}``
    per metric, as strings; Katib's ``currentOptimalTrial`` copies the best trial's
    (pkg/controller.v1beta1/experiment/util/status_util.go, ``updateTrialsSummary``)."""
    return (
        [{"name": name, "min": metric_text(s.min), "max": metric_text(s.max), "latest": metric_text(s.latest)} for name, s in trial.observation.metrics.items()]
        # Katib's shape for a text value: no min nor max, the text as latest
        + [{"name": name, "min": UNAVAILABLE, "max": UNAVAILABLE, "latest": text} for name, text in trial.text_metrics.items()]
        # and for a metric the trial never reported: every metric Katib collects has an entry (getMetrics)
        + [{"name": name, "min": UNAVAILABLE, "max": UNAVAILABLE, "latest": UNAVAILABLE}
           for name in metric_names if name not in trial.observation.metrics and name not in trial.text_metrics]
    )


def running_condition_times(state: ExperimentState, reason: str, previous: Mapping[str, Any] | None, now: str) -> tuple[str, str]:
    """(lastUpdateTime, lastTransitionTime) of a True Running condition with ``reason``, as
    Katib's setCondition keeps them (pkg/apis/controller/experiments/v1beta1/util.go): the
    transition is when Running became True (the experiment's creation, or its last restart); the
    update is the previous document's while its reason is the same, else now (the reason changed).
    ``previous``: the status document written before, if any."""
    since = state.restarted or state.created
    conditions = previous.get("conditions") if isinstance(previous, Mapping) else None
    written = [c for c in conditions if isinstance(c, Mapping)] if isinstance(conditions, list) else []
    before = next((c for c in written if c.get("type") == ExperimentPhase.RUNNING.value), None)
    if before is not None and before.get("status") == "True" and before.get("lastTransitionTime") == since:  # the same time Running
        updated = before.get("lastUpdateTime")
        return (updated if before.get("reason") == reason and isinstance(updated, str) else now), since
    return (since if reason == RUNNING else now), since  # Katib's own reason is set as Running becomes True


def status_document(state: ExperimentState, decision: Decision, now: str, previous: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The experiment status in Katib's shape (conditions, currentOptimalTrial, trial lists).
    ``previous``: the status document written before (status.json's), whose Running condition's
    times carry on while it is unchanged (:func:`running_condition_times`)."""
    objective = state.experiment.spec.objective
    metric_names = objective.metric_names if objective is not None else []
    recorded = state.outcome() if decision.recorded else None
    completed = str(recorded["time"]) if recorded is not None else now  # Katib sets it once
    conditions = [
        {"type": ExperimentPhase.CREATED.value, "status": "True", "reason": "ExperimentCreated", "message": "Experiment is created",
         "lastUpdateTime": state.created, "lastTransitionTime": state.created},
    ]
    if state.restarted is not None:  # Katib keeps it once set (MarkExperimentStatusRunning leaves it)
        conditions.append({"type": ExperimentPhase.RESTARTING.value, "status": "True", "reason": RESTARTING, "message": "Experiment is restarted",
                           "lastUpdateTime": state.restarted, "lastTransitionTime": state.restarted})
    updated, since = running_condition_times(state, decision.reason, previous, now) if not decision.finished else (completed, completed)
    conditions += [
        {
            "type": ExperimentPhase.RUNNING.value,
            "status": "True" if decision.phase == ExperimentPhase.RUNNING else "False",
            "reason": decision.reason if decision.phase == ExperimentPhase.RUNNING else RUNNING,
            "message": decision.message if decision.phase == ExperimentPhase.RUNNING else "Experiment is running",
            "lastUpdateTime": updated,
            "lastTransitionTime": since,
        },
    ]
    if decision.finished:
        conditions.append(
            {"type": decision.phase, "status": "True", "reason": decision.reason, "message": decision.message,
             "lastUpdateTime": completed, "lastTransitionTime": completed}
        )
    by_status: dict[str, list[str]] = {}
    for trial in state.trials:
        by_status.setdefault(trial.status, []).append(trial.name)
    optimal: dict[str, Any] = {}
    if decision.best_trial is not None:
        best = decision.best_trial
        optimal = {
            "bestTrialName": best.name,
            "parameterAssignments": [{"name": k, "value": str(v)} for k, v in state.in_spec_order(best).items()],
            "observation": {"metrics": observation_metrics(best, metric_names)},
            "metrics": best.metrics,
        }
    counts = decision.counts
    return {
        "phase": decision.phase,
        "reason": decision.reason,
        "message": decision.message,
        "conditions": conditions,
        "currentOptimalTrial": optimal,
        "startTime": state.created,
        "completionTime": completed if decision.finished else None,
        "lastReconcileTime": now,
        "trials": counts.get("total", 0),
        **{name: counts.get(status.value, 0) for status, name in STATUS_COUNT_FIELDS.items()},
        **{name: by_status.get(status.value, []) for status, name in STATUS_LIST_FIELDS.items()},
    }


KATIB_STATUS_FIELDS = (
    "startTime", "completionTime", "lastReconcileTime", "conditions", "currentOptimalTrial",
    "runningTrialList", "pendingTrialList", "failedTrialList", "succeededTrialList", "killedTrialList",
    "earlyStoppedTrialList", "metricsUnavailableTrialList", "trials", "trialsSucceeded", "trialsFailed",
    "trialsKilled", "trialsPending", "trialsRunning", "trialsEarlyStopped", "trialMetricsUnavailable",
)
"""The fields of Katib's ``ExperimentStatus`` (``experiment_types.go``), in its order."""

_OPTIMAL_TRIAL_FIELDS = ("bestTrialName", "parameterAssignments", "observation")


def katib_status(document: dict[str, Any]) -> dict[str, Any]:
    """A :func:`status_document` as ``kubectl get experiment -o json`` shows ``.status``: only
    Katib's fields, and, as Katib's ``omitempty`` does, none that is empty or zero (the stored
    document also keeps ``phase``, ``reason``, ``message`` and the best trial's metrics, which
    kfp-tune's own readers use). ``currentOptimalTrial`` and its ``observation`` are Go structs,
    which ``omitempty`` never drops: before a trial ranks it is ``{"observation": {}}``, as
    Katib's, so that ``status.current_optimal_trial.best_trial_name`` reads None, not fails."""
    shown: dict[str, Any] = {}
    for name in KATIB_STATUS_FIELDS:
        value = document.get(name)
        if name == "currentOptimalTrial":
            given = value if isinstance(value, dict) else {}
            value = {k: given[k] for k in _OPTIMAL_TRIAL_FIELDS if given.get(k)}
            value["observation"] = value.get("observation") or {}
        if value in (None, "", 0, [], {}):
            continue
        shown[name] = value
    return shown
