"""The launch-trial step: run one trial to its end, at most once, and record how it ended."""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable

from kfp_tune.core import claims
from kfp_tune.core.claims import this_process
from kfp_tune.core.errors import KfpTuneError, RunInterrupted, StoreError, TrialMachineryFailed, TrialNotCreated
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialHandedOver
from kfp_tune.core.records import ExperimentRecords, TrialEnded, TrialStarted, utc_now
from kfp_tune.core.state import TRIAL_NOT_CREATED, TRIAL_STALE, ExperimentView, TrialState
from kfp_tune.core.trials import trial_namespace, trial_run
from kfp_tune.core.vocabulary import LaunchPhase, RecordKind
from kfp_tune.progress import assignment_text
from kfp_tune.steps.decide_stop import give_back
from kfp_tune.steps.early_stopping import early_stopping_monitor, early_stopping_rules

log = logging.getLogger(__name__)


def launch_trial(
    records: ExperimentRecords,
    launcher: Launcher,
    trial_name: str,
    namespace: str = "",
    run_id: str | None = None,
    view: ExperimentView | None = None,
    handover: threading.Event | None = None,
    interrupted: Callable[[], str] | None = None,
) -> LaunchPhase | None:
    """Run one trial to its end and record how it ended; returns the phase (Succeeded, Failed, or
    EarlyStopped when the experiment's early stopping rule stopped it).

    A trial is started at most once. A retry finds the trial's ``started`` record: if the
    attempt that started it is alive (it beats while the trial runs), the retry waits for its
    end; if that attempt died, the launcher re-attaches to the trial when it can
    (:meth:`Launcher.reattach`), and otherwise the trial ends Killed (TrialStale), its budget
    given back, as is one the launcher could not create (TrialNotCreated, whose error is then
    raised). ``view``: the
    experiment as this process holds it (a run's slots share one), else read from the store.
    ``handover``: when set, a launcher that hands over stops following the trial, which goes
    on running; None is returned and the next attempt re-attaches at once. ``interrupted``: the
    run's interrupt (its cause, "" while none), asked under the view's lock together with the
    ``started`` record, so that no trial starts once the run was stopped (the run's end, under
    the same lock, then finds every trial it must close): RunInterrupted is raised instead."""
    claim = claims.check(records, run_id) if run_id is not None else None
    view = view or ExperimentView(records)
    state = view.state
    trial = state.trial(trial_name)
    if trial.ended is not None:
        return trial.ended.phase
    namespace = trial_namespace(state.experiment, namespace or launcher.namespace)  # for ${trialSpec.Namespace}
    run = trial_run(state.experiment, trial, namespace, early_stopping_monitor(state, records, trial.name), handover)
    if trial.started is not None:
        ended = claims.wait_for_attempt(records, trial.name, trial.started)
        if ended is not None:  # the attempt that started it finished it
            return _learnt(view, ended).phase
        outcome = _follow(records, claim, trial.name, os.urandom(8).hex(), lambda: launcher.reattach(run))
        if outcome is _HANDED_OVER:
            return None
        if outcome is None:  # nobody can say how it ended: given back, not counted as failed
            give_back_stale(view, trial)
            return LaunchPhase.FAILED
        return _record_outcome(view, trial.name, outcome).phase
    attempt = os.urandom(8).hex()
    with view.lock:  # the interrupt's check and the start, one step for the slots' other threads
        cause = interrupted() if interrupted is not None else ""
        if cause:
            raise RunInterrupted(cause)
        started = view.record_trial(
            trial.name,
            TrialStarted(trial=trial.name, time=utc_now(), at=time.time(), run=run_id or "", attempt=attempt, owner=this_process(),
                         early_stopping_rules=early_stopping_rules(state)),  # what its monitor (above) judges by
        )
    if started.attempt != attempt:  # another attempt won the race to start it: wait for that one
        ended = claims.wait_for_attempt(records, trial.name, started)
        if ended is None:
            raise KfpTuneError(f"trial {trial.name!r} was started by another launch-trial at {started.time}, which died; it is not started twice")
        return _learnt(view, ended).phase
    log.info("trial %s: %s", trial.name, assignment_text(state.in_spec_order(trial)))  # Katib: the Trial's spec.parameterAssignments
    try:
        outcome = _follow(records, claim, trial.name, attempt, lambda: launcher.run(run))
    except TrialNotCreated as exc:  # nothing ran: the trial gives its budget back, and the error stops the run
        give_back_trial(view, trial.name, exc)
        raise
    except TrialMachineryFailed as exc:  # it ran, and the machine failed it: given back, and the error stops the run
        _keep_logs(records, trial.name, exc.logs)
        give_back_machinery(view, trial.name, exc)
        raise
    except RunInterrupted as exc:  # stopped for the user's interrupt: its output so far is kept, then it is recorded Killed
        _keep_logs(records, trial.name, exc.logs)
        raise
    if outcome is _HANDED_OVER:
        return None
    if outcome is None:  # a plug-in's defect: say whose, not a bare assertion
        kind = type(launcher)
        raise KfpTuneError(
            f"launcher {kind.__module__}.{kind.__qualname__}.run() returned None for trial {trial.name!r}: a launcher's run() must return a "
            "LaunchOutcome saying how the trial ended, or raise TrialNotCreated when it could not create it (kfp_tune.core.interfaces.Launcher)"
        )
    return _record_outcome(view, trial.name, outcome).phase


PLACE_POLL_SECONDS = 5.0
"""How often a one-trial launch-trial waiting for a place reads the store again."""


def wait_for_place(
    view: ExperimentView, trial_name: str, run_id: str | None = None, sleep: Callable[[float], None] | None = None, poll_seconds: float = PLACE_POLL_SECONDS
) -> None:
    """One-trial mode's share of ``parallelTrialCount`` (Katib runs no more trials at once): wait
    until fewer trials than that hold a place ahead of this one. Ahead are the experiment's
    running trials and the trials of this trial's round before it not started yet: a
    ``dsl.ParallelFor`` without ``parallelism=`` starts every iteration at once, and each one,
    reading the store at the same moment, still counts the ones before it, so no two take the
    same place (no store lock needed); iterations start in suggest's order, so the ones ahead
    run. A trial already started (a retry) never waits for itself, nor does one already closed."""
    if run_id is not None:
        claims.check(view.records, run_id)
    said = False
    while True:
        with view.lock:
            state = view.state
            trial = state.trial(trial_name)
            if trial.started is not None or trial.is_terminal:
                return
            places = state.experiment.spec.parallel_trial_count or 1
            before = [t for t in state.trials if t.round == trial.round and t.index < trial.index and t.started is None and not t.is_terminal]
            ahead = [name for name in state.running_trials() if name != trial_name] + [t.name for t in before]
        if len(ahead) < places:
            return
        if not said:
            log.info("trial %s waits for a place: parallelTrialCount is %d, and %s hold them", trial_name, places, ", ".join(ahead))
            said = True
        (sleep or time.sleep)(poll_seconds)
        if run_id is not None:
            claims.check(view.records, run_id)
        view.refresh()


def _keep_logs(records: ExperimentRecords, trial_name: str, logs: dict[str, str]) -> None:
    """Store what a trial stopped by an interrupt printed (best effort: the interrupt goes on
    whatever the store says; the store may be what is failing)."""
    for log_name, text in logs.items():
        try:
            records.write_text(records.log_key(trial_name, log_name), text)
        except StoreError as exc:
            log.warning("trial %s: its log %s could not be kept: %s", trial_name, log_name, exc)


def _learnt(view: ExperimentView, ended: TrialEnded) -> TrialEnded:
    """An ``ended`` record another attempt wrote (a run that was taken over while it followed
    the trial), folded into this process's view: collect-metrics reads the view, and would
    otherwise find the trial not ended and fail it."""
    view.refresh()
    return ended


_HANDED_OVER = LaunchOutcome(LaunchPhase.FAILED, reason="HandedOver")
"""Marks a trial left running for the next step (never recorded)."""


def _follow(
    records: ExperimentRecords, claim: claims.Claim | None, trial_name: str, attempt: str, follow: Callable[[], LaunchOutcome | None]
) -> LaunchOutcome | None:
    """Follow the trial with this attempt's heartbeat; ``_HANDED_OVER`` when the launcher
    handed it over (its ``handedOver`` beat written, so the next attempt re-attaches at once)."""
    try:
        with claims.Heartbeat(records, claim, trial_name, attempt):
            return follow()
    except TrialHandedOver:
        claims.hand_over_trial(records, trial_name, attempt)
        return _HANDED_OVER


def give_back_trial(view: ExperimentView, name: str, error: TrialNotCreated) -> None:
    """Record a trial the launcher could not create as ``Killed``, reason ``TrialNotCreated``:
    nothing ran, so its budget is given back and the next run makes a new trial in its place
    (the error, a configuration or permission to fix, stops this run). Best effort
    (the store may be what failed): the error that stops the run is what matters."""
    try:
        with view.lock:
            trial = view.state.trial(name)
            if trial.is_terminal or trial.ended is not None:
                return
        message = f"not created: {error}; nothing ran, and its budget is given back (it counts towards neither maxTrialCount nor maxFailedTrialCount)"
        give_back(view, name, TRIAL_NOT_CREATED, message, ended_reason=TRIAL_NOT_CREATED)
    except Exception as exc:  # the store may be what failed
        log.warning("trial %s could not be given back after %s: %s", name, type(error).__name__, exc)


def give_back_machinery(view: ExperimentView, name: str, error: TrialMachineryFailed) -> None:
    """Record a trial that the machine running it failed (:class:`~kfp_tune.core.errors.TrialMachineryFailed`)
    as ``Killed``, reason ``TrialStale``: the trial did not fail, so it counts towards neither
    budget nor maxFailedTrialCount. Best effort, as :func:`give_back_trial`."""
    try:
        message = f"ended failed while the machine running it failed: {error}; its budget is given back (it counts towards neither maxTrialCount nor maxFailedTrialCount)"
        give_back(view, name, TRIAL_STALE, message, ended_reason=TRIAL_STALE)
    except Exception as exc:  # the store may be failing too
        log.warning("trial %s could not be given back after %s: %s", name, type(error).__name__, exc)


def give_back_stale(view: ExperimentView, trial: TrialState) -> None:
    """Record a trial whose run stopped following it (a killed process or pod, a store that went
    away) and that the launcher cannot re-attach to as ``Killed``, reason ``TrialStale``: how it
    ended is not known, and a run's death or a store outage is not the trial's failure, so it
    counts towards neither budget nor maxFailedTrialCount (Katib fails only trials whose job
    failed: status_util.go counts TrialsFailed). It is not run again; the next suggestion takes
    its place."""
    started = trial.started
    message = (
        f"launch-trial started this trial at {started.time if started else '?'} (run {(started.run if started else '') or '?'}) and "
        "stopped without recording how the trial ended; it is not run a second time, and its budget is given back"
    )
    give_back(view, trial.name, TRIAL_STALE, message, ended_reason=TRIAL_STALE)


def _record_outcome(view: ExperimentView, trial_name: str, outcome: LaunchOutcome) -> TrialEnded:
    """Logs and pushed metrics first, the ``ended`` record last: once it exists, everything the
    run left is in the store."""
    records = view.records
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
            records.pushed_key(trial_name),
            RecordKind.PUSHED_METRICS,
            # with the time a printed line gave (a TEXT line's leading RFC 3339 time), as a collector keeps it
            {"metrics": [{"name": m.name, "value": m.value, "step": m.step, **({} if m.time_us is None else {"time_us": m.time_us})}
                         for m in outcome.pushed if math.isfinite(m.value)]},
        )
    ended = TrialEnded.now(trial_name, LaunchPhase(outcome.phase), outcome.reason, outcome.message, outcome.exit_code)
    return view.record_trial(trial_name, ended)
