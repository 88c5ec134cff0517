"""The decide-stop step: apply the stop rules, write the experiment's status, end the run's
claim when the run ends; and how a run that ends early closes its trials (interrupted by its
user, or stopped by an error)."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from kfp_tune.core import claims
from kfp_tune.core.decision import RUN_INTERRUPTED, RUN_STEP_FAILED, Decision, best_trial, decide, interrupted, status_document
from kfp_tune.core.errors import ExperimentBusy, ExperimentNotFound, KfpTuneError, StoreError
from kfp_tune.core.interfaces import Store
from kfp_tune.core.records import DamagedRecord, ExperimentRecords, TrialEnded, TrialResult, UnreadableRecord, outcome_label, utc_now
from kfp_tune.core.state import TRIAL_INTERRUPTED, TRIAL_STALE, ExperimentState, ExperimentView, is_outcome
from kfp_tune.core.vocabulary import ExperimentPhase, LaunchPhase, RecordKind, TrialStatus
from kfp_tune.progress import assignment_text, one_line, value_text
from kfp_tune.steps.schedule import made_by_run
from kfp_tune.stores.retry import RetryingStore

log = logging.getLogger(__name__)


def decide_stop(records: ExperimentRecords, round_id: str, rounds_left: int, run_id: str | None = None, view: ExperimentView | None = None) -> Decision:
    """Decide whether the experiment goes on after this round (a checkpoint), and write its status.

    ``rounds_left`` counts the rounds after this one in the current run; when the run ends
    here, its claim on the experiment is released."""
    if run_id is not None:
        claims.check(records, run_id)
    state = (view or ExperimentView(records)).state
    decision = decide(state, rounds_left)
    now = utc_now()
    write_status(records, state, decision, now)
    records.write_once(
        records.decision_key(round_id),
        RecordKind.DECISION,
        {"round": round_id, "phase": decision.phase, "reason": decision.reason, "message": decision.message, "time": now},
    )
    if run_id is not None and (decision.phase != ExperimentPhase.RUNNING or rounds_left <= 0):
        claims.release(records, run_id, decision.reason)
    log.info("%s", decision_text(state, decision))
    return decision


def decision_text(state: ExperimentState, decision: Decision) -> str:
    """A decision as its step's log says it: the experiment's phase and why, then the best trial
    with its objective value and parameters, what Katib's ``status.currentOptimalTrial`` holds
    (pkg/controller.v1beta1/experiment/util/status_util.go, ``updateTrialsSummary``)."""
    text = f"experiment {decision.phase} ({one_line(f'{decision.reason}: {decision.message}')})"
    best = decision.best_trial
    objective = state.experiment.spec.objective
    if best is None or objective is None:
        return f"{text}; no trial has reported the objective yet"
    value = best.metrics.get(objective.objective_metric_name, best.text_metrics.get(objective.objective_metric_name))
    shown = "?" if value is None else value_text(value)
    return f"{text}; best trial {best.name}: {objective.objective_metric_name}={shown} ({assignment_text(state.in_spec_order(best))})"


def write_status(records: ExperimentRecords, state: ExperimentState, decision: Decision, now: str) -> Decision:
    """``status.json``: the experiment's status in Katib's shape (rewritten; derived). A finished
    decision is recorded as the experiment's outcome first (:func:`record_outcome`); returns
    the decision written."""
    decision = record_outcome(records, state, decision, now)
    document = status_document(state, decision, now, previous_status(records))
    records.write(records.status_key(), RecordKind.EXPERIMENT_STATUS, {"experiment": state.name, "status": document})
    return decision


def previous_status(records: ExperimentRecords) -> dict[str, Any] | None:
    """The status document written before, whose Running condition's times carry on; None when
    there is none, or it cannot be read (it is derived: rewritten from the records)."""
    try:
        saved = records.read(records.status_key(), RecordKind.EXPERIMENT_STATUS)
    except UnreadableRecord:
        return None
    status = saved.get("status") if saved is not None else None
    return status if isinstance(status, dict) else None


def record_outcome(records: ExperimentRecords, state: ExperimentState, decision: Decision, now: str) -> Decision:
    """Keep the first finished decision under the current maxTrialCount as the experiment's
    outcome (write once: of two steps that decide at the same time, the first one stored wins),
    and return the stored one. Every later decision reads it back (``core.decision.decide``),
    as Katib sets an experiment's Succeeded or Failed condition once: a trial still running when
    maxFailedTrialCount is reached may meet the goal afterwards, and the experiment stays Failed."""
    if not decision.finished or decision.recorded:
        return decision
    max_trial_count = state.experiment.spec.max_trial_count
    key = records.outcome_key(max_trial_count)
    try:
        stored = records.write_once(
            key, RecordKind.OUTCOME, {"uid": state.uid, "phase": decision.phase, "reason": decision.reason, "message": decision.message, "time": now},
        )
    except DamagedRecord as exc:  # a newer kfp-tune's (NewerRecord) still stops the run: upgrade, never remove it
        return _damaged_outcome(key, exc.problem, decision)
    if not is_outcome(stored):
        return _damaged_outcome(key, "it is not an outcome (phase, reason, message, time)", decision)
    if stored.get("uid") != state.uid:  # left by an experiment of the same name deleted in part: not this one's
        log.warning("outcome record %s belongs to another experiment (uid %s); not used", key, stored.get("uid"))
        return decision
    state.outcomes[outcome_label(max_trial_count)] = stored
    return Decision(ExperimentPhase(stored["phase"]), stored["reason"], stored["message"], decision.best_trial, decision.counts, recorded=True)


def _damaged_outcome(key: str, problem: str, decision: Decision) -> Decision:
    """An outcome record that the state reader leaves out (``core.state.is_outcome``) is absent
    here too: the decision made from the trials' records stands. The record is left as it is:
    outcomes are written once, and the store has no compare-and-replace, so two steps replacing
    it at the same time could each keep a different outcome. Katib likewise derives a completed
    experiment's condition from its trials (pkg/controller.v1beta1/experiment/util/status_util.go,
    ``UpdateExperimentStatusCondition``) and keeps it once set (experiment_controller.go,
    ``Reconcile``: a completed experiment is not reconciled again)."""
    log.warning(
        "outcome record %s is damaged (%s): the outcome is decided from the trials' records instead; the record is left as it is "
        "(an outcome is written once): remove it for the next decision to record the outcome again",
        key, problem,
    )
    return decision


def close_run(
    records: ExperimentRecords, run_id: str, releases_claim: bool = False, view: ExperimentView | None = None,
    made_elsewhere: Callable[[], bool] | None = None,
) -> Decision:
    """The run's exit handler: it runs however the run ended. Writes the status and, if the
    run still holds its claim (a step failed, or the run was stopped), gives it back with
    reason ``RunEnded``, so the next run starts at once instead of after the claim's TTL. A run
    its user interrupted keeps the status that says so; one whose records cannot be read still
    gives its claim back; one refused because another run drives the experiment writes nothing. A run that still held its claim with budget left did not end at its
    last checkpoint (which releases it): its status says a step ended early
    (``RUN_STEP_FAILED``), not that its rounds were used up. ``releases_claim``: this exit
    handler is where the run's claim ends normally (component trials), so a held one says nothing.
    ``view``: the one to read the state through, as :func:`decide_stop`'s (decide-stop's metrics
    output takes the decision's best trial from it, reading nothing more). ``made_elsewhere``:
    asked only when the experiment is missing, whether the run made it under another name (an exit
    handler wired with another ``fresh_experiment`` than its suggest): its ExperimentNotFound is
    then raised, for the step to say so, not taken for a run that ended before it made one."""
    try:
        decision, state = _closing(records, run_id, releases_claim, view or ExperimentView(records), made_elsewhere)
    finally:
        claims.release(records, run_id, "RunEnded")
    if state is None:
        log.info("the run ends; experiment %s (%s)", decision.phase, one_line(f"{decision.reason}: {decision.message}"))
    else:  # a pipeline's last checkpoint decided the outcome, then its exit handler comes here: it confirms
        log.info("the run ends; %s%s", "confirms the outcome decided before: " if decision.recorded else "", decision_text(state, decision))
    return decision


def _closing(
    records: ExperimentRecords, run_id: str, releases_claim: bool, view: ExperimentView, made_elsewhere: Callable[[], bool] | None
) -> tuple[Decision, ExperimentState | None]:
    """:func:`close_run`'s decision, written, and the state it was made from (None when none was read)."""
    current = claims.latest_claim(records, own_run=run_id)
    if current is not None and current.run == run_id and current.reason == claims.INTERRUPTED:
        return _unwritten(records, view, RUN_INTERRUPTED, "the run was interrupted by its user; its status says what it stopped")
    if current is not None and current.run != run_id and current.live(time.time()):  # refused: the status is the other run's to write
        return _unwritten(records, view, DRIVEN_BY_ANOTHER_RUN, f"run {current.run!r} drives the experiment; this run never did")
    held = current is not None and current.run == run_id and not current.ended
    try:
        state = view.state
    except StoreError as exc:  # the read says which: a missing experiment, or records unreadable (a second read would fail as it did)
        if isinstance(exc, ExperimentNotFound):
            if made_elsewhere is not None and made_elsewhere():
                raise
            return Decision(ExperimentPhase.CREATED, "ExperimentNotCreated", "the run ended before the experiment was created"), None
        return Decision(ExperimentPhase.RUNNING, EXPERIMENT_UNREADABLE, str(exc)), None
    decision = decide(state, rounds_left=0)
    if held and not releases_claim and not decision.finished:
        decision = Decision(ExperimentPhase.RUNNING, RUN_STEP_FAILED, STEP_FAILED_MESSAGE, decision.best_trial, decision.counts)
    write_status(records, state, decision, utc_now())
    return decision, state


def _unwritten(records: ExperimentRecords, view: ExperimentView, reason: str, message: str) -> tuple[Decision, ExperimentState | None]:
    """A closing decision that writes no status (the run was interrupted, another run drives the
    experiment), with the best trial so far, as best-trial shows it: decide-stop's metrics take
    it. That reads the state (the experiment's records, as a checkpoint reads them), which these
    paths did not before; records it cannot read leave the best trial out, with a warning naming
    the record, and the decision as it is. Best effort, so bounded: a store that stops answering
    here is retried for :data:`BEST_TRIAL_STORE_SECONDS`, not the rest of its window (300 s by
    default), and nothing else is read to say why (a second read would raise as the first did)."""
    cut = (
        records.store.window_cut(BEST_TRIAL_STORE_SECONDS, BEST_TRIAL_CUT)
        if isinstance(records.store, RetryingStore) else contextlib.nullcontext()
    )
    try:
        with cut:
            state = view.state
    except StoreError as exc:
        if not isinstance(exc, ExperimentNotFound):  # the run ended before the experiment was made: nothing to say
            log.warning("no best trial for this run's end: the experiment's records could not be read (%s)", exc)
        return Decision(ExperimentPhase.RUNNING, reason, message), None
    return Decision(ExperimentPhase.RUNNING, reason, message, best_trial(state)), state


BEST_TRIAL_STORE_SECONDS = 5.0
"""How long the exit handler that writes no status retries a failing store for the best trial
(:func:`_unwritten`, through :meth:`~kfp_tune.stores.retry.RetryingStore.window_cut`): the run
has ended, and the decision stands without it. The cut holds for that read only: the claim's
release after it, and a later outage of the same store (a report the step writes, a caller's
next run), get the store's whole window."""
BEST_TRIAL_CUT = f"the {BEST_TRIAL_STORE_SECONDS:g} s a best-effort read of the best trial gets at the run's end"
"""What a give-up message calls the window :func:`_unwritten` cut."""
EXPERIMENT_UNREADABLE = "ExperimentUnreadable"
"""The exit handler's reason when the experiment's records cannot be read (a damaged record, one
a newer kfp-tune wrote): its message names the record; the status is left as it was."""
DRIVEN_BY_ANOTHER_RUN = "ExperimentDrivenByAnotherRun"
"""The exit handler's reason when another run, alive, drives the experiment (this one was refused)."""
STEP_FAILED_MESSAGE = (
    "A step of this run ended before the run finished (an error, or it was killed); trials it was running end TrialStale "
    "on the next run, which resumes the experiment: run the same pipeline (or kfp-tune run) again"
)


class ExperimentFailed(KfpTuneError):
    """The experiment a pipeline run tuned ended Failed (Katib's Failed condition, reason
    ``ExperimentFailed``): the run fails, as Katib marks the Experiment Failed, so the KFP UI and
    a recurring run's alerts show it. Raised in a step after decide-stop, whose status, trial
    table, report and metrics are then written (KFP publishes no output of a failed task)."""


def experiment_failed_error(records: ExperimentRecords, run_id: str, failed_before_fails: bool = False) -> ExperimentFailed | None:
    """The error that fails pipeline run ``run_id`` because its experiment is Failed; None when it
    is not Failed. Reads the records, writes nothing. A run that started none of the experiment's
    trials found it already ended (suggest logs "this run has nothing to do"): it ends green, as a
    recurring run's later firings do, so only the run in which the experiment failed is red;
    ``failed_before_fails``: it fails too, as a tuning step does, whose best trial would
    otherwise flow to the steps after it."""
    state = ExperimentView(records).state
    decision = decide(state, rounds_left=0)
    if decision.phase != ExperimentPhase.FAILED:
        return None
    failed_here = any(t.started is not None and t.started.run == run_id for t in state.trials)
    if not failed_here and not failed_before_fails:
        return None
    name = records.experiment
    when = "ended Failed in this run" if failed_here else "had already ended Failed before this run, which started no trial of it"
    return ExperimentFailed(
        f"experiment {name} {when} ({one_line(f'{decision.reason}: {decision.message}')}), so the run fails, as Katib marks the "
        f"Experiment Failed{'' if failed_here else ', and hands no best trial on'}; its status is written, and decide-stop's trial "
        f"table, report and metrics show it. See its trials: kfp-tune trials {name} --store {records.store.uri}"
    )


def kill_trial(view: ExperimentView, name: str, signal_name: str) -> bool:
    """Record a trial that an interrupt stopped (or left running) as Katib's ``Killed``, reason
    ``RunInterrupted``: its budget is given back. The result first (the trial is final from
    then on), then its ``ended`` record. A trial that never started is left for the next run to
    start; one that ended on its own keeps its outcome. True if it is now given back."""
    with view.lock:
        trial = view.state.trial(name)
        if trial.is_terminal or trial.started is None or trial.ended is not None:
            return trial.given_back
    message = f"stopped when the run was interrupted ({signal_name}); its budget is given back (it counts towards neither maxTrialCount nor maxFailedTrialCount)"
    stored = give_back(view, name, TRIAL_INTERRUPTED, message, ended_reason="Killed")
    return stored.status == TrialStatus.KILLED and stored.reason == TRIAL_INTERRUPTED


def give_back_unstarted(view: ExperimentView, name: str, signal_name: str) -> bool:
    """Record a trial the interrupted run made but did not start as ``Killed``, reason
    ``RunInterrupted``: nothing ran, its budget is given back, and no slot starts it after the
    run has ended (launch-trial checks the interrupt under the view's lock before its ``started`` record).
    True if it is now given back for this interrupt (not another writer's outcome)."""
    message = f"not started: the run was interrupted ({signal_name}) first; its budget is given back (it counts towards neither maxTrialCount nor maxFailedTrialCount)"
    stored = give_back(view, name, TRIAL_INTERRUPTED, message, ended_reason="Killed")
    return stored.status == TrialStatus.KILLED and stored.reason == TRIAL_INTERRUPTED


def give_back(view: ExperimentView, name: str, reason: str, message: str, ended_reason: str) -> TrialResult:
    """Record a trial as Katib's ``Killed`` with a reason that gives its budget back
    (``core.state.GIVEN_BACK_REASONS``): the result first (the trial is final from then on),
    then its ``ended`` record. Returns the stored result (another writer's, if it was first)."""
    stored = view.record_trial(name, TrialResult(trial=name, status=TrialStatus.KILLED, reason=reason, message=message, time=utc_now()))
    view.record_trial(name, TrialEnded.now(name, LaunchPhase.FAILED, ended_reason, message, None))
    return stored


def fail_trial(view: ExperimentView, name: str, error: BaseException) -> None:
    """A trial whose launch or collection raised: if it started and has no ``ended`` record, it
    ends Failed (reason ``LaunchError``, the error as its message) instead of staying Running
    for the next run to find stale; when the store is what failed (the trial's end could not be
    recorded), it is given back as a stale trial is, since the trial did not fail. Best effort:
    the error that stops the run is what matters."""
    try:
        with view.lock:
            trial = view.state.trial(name)
            if trial.is_terminal or trial.started is None or trial.ended is not None:
                return
        message = f"the run stopped on an error while this trial ran: {type(error).__name__}: {error}"
        if isinstance(error, StoreError):
            give_back(view, name, TRIAL_STALE, f"{message}; how it ended was not recorded, and its budget is given back", ended_reason=TRIAL_STALE)
            return
        view.record_trial(name, TrialEnded.now(name, LaunchPhase.FAILED, "LaunchError", message, None))
        view.record_trial(name, TrialResult(trial=name, status=TrialStatus.FAILED, reason="LaunchError", message=message, time=utc_now()))
    except Exception as exc:  # the store may be what failed
        log.warning("trial %s could not be closed after %s: %s", name, type(error).__name__, exc)


def interrupt_run(view: ExperimentView, run_id: str, signal_name: str, killed: set[str]) -> int:
    """End a run its user interrupted, once its slots have stopped (or stopped being waited for):
    every trial still running is recorded Killed (:func:`kill_trial`), the status says the run
    was interrupted, and the claim is released. ``killed``: the trials already recorded so;
    returns how many running ones this run killed in all. A trial this run made that never started
    (its slot was about to start it) is given back too (:func:`give_back_unstarted`), not left
    ``Created``, and the status counts it as the run's closing line does."""
    with view.lock:
        running = view.state.running_trials()
        unstarted = [t.name for t in view.state.trials if not t.is_terminal and t.started is None and made_by_run(t.round, run_id)]
    killed.update(name for name in running if kill_trial(view, name, signal_name))
    given_back = sum(give_back_unstarted(view, name, signal_name) for name in unstarted)
    with view.lock:
        state = view.state
        write_status(view.records, state, interrupted(state, signal_name, len(killed), given_back), utc_now())
    claims.release(view.records, run_id, claims.INTERRUPTED)
    return len(killed)


def end_interrupted_run(records: ExperimentRecords, owner: str, signal_name: str) -> int:
    """``kfp-tune run --engine kfp-local`` after an interrupt, once its kfp.local child has ended:
    finish what the child could not. If the newest run was this process's (its claim names
    ``owner``), every trial still running is recorded Killed, the status says the run was
    interrupted and the claim is released. Returns how many of this run's trials (started under
    its claim) its interrupt stopped: not those a run before it left, which that run's own
    kfp.local tasks may still be stopping while this one starts."""
    current = claims.latest_claim(records)
    if current is None or current.owner != owner:
        return 0  # interrupted before the run claimed the experiment: nothing ran
    view = ExperimentView(records)
    with view.lock:
        running = view.state.running_trials()
    for name in running:
        kill_trial(view, name, signal_name)
    with view.lock:
        state = view.state
        killed = sum(
            1 for t in state.trials
            if t.started is not None and t.started.run == current.run and t.result is not None and t.result.reason == TRIAL_INTERRUPTED
        )
        write_status(records, state, interrupted(state, signal_name, killed), utc_now())
    claims.release(records, current.run, claims.INTERRUPTED)
    return killed


def only_reported(store: Store, experiment_name: str, say: Callable[[str], None], take_over: bool = False) -> bool:
    """Whether the experiment has completed and its outcome is recorded: a run of it then has
    nothing to run, so it only reports it, as ``kfp-tune status`` does: Katib leaves a completed
    Experiment applied again as it is, and a key that may only read the store (an analyst's)
    reads it. The status such a run would write is compared with the saved one (but for when it
    was written): the same, nothing is written; another (one an older kfp-tune wrote wrong, which
    ``kfp-tune list`` shows as saved), it is rewritten from the trials under a claim, as a run
    would, since this run was its only repair; a store that refuses the write (a read-only key)
    leaves it, and the report, computed from the trials, goes on: the key's holder asked for a
    report, which needs no write. Either is said through ``say``. One whose end was never
    recorded (its last run killed after its last trial) is run, which records it."""

    records = ExperimentRecords(store, experiment_name)
    try:
        state = ExperimentView(records).state
        decision = decide(state, rounds_left=1)
        saved = records.read(records.status_key(), RecordKind.EXPERIMENT_STATUS) if decision.finished and decision.recorded else None
    except (DamagedRecord, ExperimentNotFound):  # the run refuses the one, saying which, and starts the other anew
        return False
    status = saved.get("status") if saved is not None else None
    if not isinstance(status, dict) or (status.get("phase"), status.get("reason")) != (decision.phase, decision.reason):
        return False
    stale = _status_differences(status_document(state, decision, utc_now(), status), status)
    if stale:
        return _rewrite_stale_status(records, stale, say, take_over)
    return True


_WRITTEN_WHEN = ("lastReconcileTime", "completionTime")
"""A status's times: when a run wrote it, not what it says of the trials."""


def _status_differences(written: dict[str, Any], saved: dict[str, Any]) -> list[str]:
    """The fields of the status ``written`` (a run's, now) that tell a reader otherwise than the
    ``saved`` one (:func:`_said`): not when each was written, nor order, how a number is
    written or a condition's message, which two kfp-tune versions (09a1bf8 put the assignments
    in the spec's order) write differently for the same facts."""
    now, before = _said(written), _said(saved)
    return [name for name in sorted(set(now) | set(before)) if now.get(name) != before.get(name)]


def _said(status: dict[str, Any]) -> dict[str, Any]:
    """What a status tells its reader, by field: counts as numbers, trial lists as sets, the
    best trial as its name, assignments (name to value) and metric values (as floats),
    conditions as type, status and reason; any other field as its JSON. Its times are left out
    (``_WRITTEN_WHEN``, the conditions'). An empty field (omitted, as Katib omits it, or zero)
    is none."""
    shown: dict[str, Any] = {}
    for name, value in status.items():
        if name in _WRITTEN_WHEN or value in (None, 0, "", [], {}):
            continue
        if name.endswith("TrialList") and isinstance(value, list):
            shown[name] = sorted({json.dumps(v, sort_keys=True, default=str) for v in value})
        elif name == "conditions" and isinstance(value, list):
            shown[name] = sorted({json.dumps([c.get(k) for k in ("type", "status", "reason")], default=str) if isinstance(c, dict) else
                                  json.dumps(c, default=str) for c in value})
        elif name == "currentOptimalTrial" and isinstance(value, dict):
            shown[name] = _best_said(value)
        else:
            shown[name] = _number(value) if isinstance(value, (int, float, str)) else json.dumps(value, sort_keys=True, default=str)
    return shown


def _best_said(best: dict[str, Any]) -> Any:
    """The best trial as a reader takes it: its name, its assignments by name and its observed
    metrics' values by name, in any order and however a number is written."""
    assignments = best.get("parameterAssignments")
    observation = best.get("observation")
    metrics = observation.get("metrics") if isinstance(observation, dict) else None
    if not isinstance(assignments, list) or not isinstance(metrics, list) or not all(isinstance(x, dict) for x in [*assignments, *metrics]):
        return json.dumps(best, sort_keys=True, default=str)  # not a shape kfp-tune writes: compared as it is
    return (best.get("bestTrialName"),
            sorted((str(a.get("name")), _number(a.get("value"))) for a in assignments),
            sorted((str(m.get("name")), *(_number(m.get(k)) for k in ("min", "max", "latest"))) for m in metrics))


def _number(value: Any) -> Any:
    """A value as a number where it is written as one ('0.0879190' and 0.087919 alike), else
    its text."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def _rewrite_stale_status(records: ExperimentRecords, stale: list[str], say: Callable[[str], None], take_over: bool) -> bool:
    """Rewrite a completed experiment's stale saved status from its trials, under a claim as a run
    writes it (a run of it started meanwhile is not overwritten: it is refused as busy). True when
    the experiment is still completed once claimed (only reported), else False: a run runs it."""
    from kfp_tune.steps.schedule import new_run_id


    what = (f"experiment {records.experiment}: its saved status (status.json) is stale, as an older kfp-tune could leave it "
            f"({', '.join(stale)} {'differs' if len(stale) == 1 else 'differ'} from what its trials say)")
    run_id = new_run_id()
    try:
        claims.claim(records, run_id, take_over)
    except StoreError as exc:  # a key that may only read: the report needs none
        say(f"{what}; this run could not rewrite it ({exc}): kfp-tune list shows it as saved until a run of it with a key that may write "
            "the store rewrites it; this report is read from the trials")
        return True
    except ExperimentBusy as exc:  # another run holds it (a second re-run at the same moment): the report needs no write either
        say(f"{what}; another run holds the experiment ({exc.reason}), so this run did not rewrite it: a run of it after that one "
            "rewrites it; this report is read from the trials")
        return True
    reason = "refused"
    try:
        state = ExperimentView(records).state
        decision = decide(state, rounds_left=1)
        reason = decision.reason
        if not (decision.finished and decision.recorded):  # restarted meanwhile: the run runs it
            return False
        write_status(records, state, decision, utc_now())
    finally:
        claims.release(records, run_id, reason)
    say(f"{what}; rewritten from its trials")
    return True
