"""The launch-trial step: run one trial to its end, at most once, and record how it ended."""

from __future__ import annotations

import functools
import logging
import math
import os
import threading
import time
from collections.abc import Callable

from kfp_tune.collectors.running import EarlyStoppingRuleError
from kfp_tune.core import claims
from kfp_tune.core.claims import this_process
from kfp_tune.core.decision import decide
from kfp_tune.core.errors import KfpTuneError, RunInterrupted, StoreError, TrialMachineryFailed, TrialNotCreated
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialHandedOver
from kfp_tune.core.records import DamagedRecord, ExperimentRecords, PlaceRecord, TrialEnded, TrialStarted, utc_now
from kfp_tune.core.state import TRIAL_NOT_CREATED, TRIAL_STALE, ExperimentView, TrialState, read_experiment_record
from kfp_tune.core.trials import trial_namespace, trial_run
from kfp_tune.core.vocabulary import LaunchPhase, RecordKind
from kfp_tune.progress import assignment_text
from kfp_tune.steps.collect_metrics import collect_metrics
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
    the same lock, then finds every trial it must close): RunInterrupted is raised instead. Once
    the run was interrupted, a trial it has let go (recorded Killed, or the experiment deleted,
    or deleted and made again, since) has nothing more written when its launcher returns,
    neither its outcome nor its heartbeat (a function trial's call, which cannot be stopped, runs
    on after its run has ended): RunInterrupted is raised then too."""
    claim = claims.check(records, run_id) if run_id is not None else None
    view = view or ExperimentView(records)
    state = view.state
    trial = state.trial(trial_name)
    if trial.ended is not None:
        return trial.ended.phase
    namespace = trial_namespace(state.experiment, namespace or launcher.namespace)  # for ${trialSpec.Namespace}
    run = trial_run(state.experiment, trial, namespace, early_stopping_monitor(state, records, trial.name), handover)
    closed = functools.partial(_closed_for_interrupt, view, trial.name, interrupted)  # then its heartbeat falls silent
    if trial.started is not None:
        ended = claims.wait_for_attempt(records, trial.name, trial.started)
        if ended is not None:  # the attempt that started it finished it
            return _learnt(view, ended).phase
        try:
            outcome = _follow(records, claim, trial.name, os.urandom(8).hex(), lambda: launcher.reattach(run), closed)
        except TrialMachineryFailed as exc:  # as for a trial started here (below)
            _close_for_machinery(view, trial.name, exc, interrupted)
            raise
        if outcome is _HANDED_OVER:
            return None
        if outcome is None:  # nobody can say how it ended: given back, not counted as failed
            give_back_stale(view, trial)
            return LaunchPhase.FAILED
        return _record_unless_let_go(view, trial.name, outcome, interrupted).phase
    attempt = os.urandom(8).hex()
    with view.lock:  # the interrupt's check and the start, one step for the slots' other threads
        cause = interrupted() if interrupted is not None else ""
        if cause:
            raise RunInterrupted(cause)
        started = view.record_trial(
            trial.name,
            TrialStarted(trial=trial.name, time=utc_now(), at=time.time(), run=run_id or "", attempt=attempt, owner=this_process(),
                         early_stopping_rules=early_stopping_rules(state),  # what its monitor (above) judges by
                         cluster_namespace=launcher.namespace),  # "": nothing of it on a cluster for cleanup to delete
        )
    if started.attempt != attempt:  # another attempt won the race to start it: wait for that one
        ended = claims.wait_for_attempt(records, trial.name, started)
        if ended is None:
            raise KfpTuneError(f"trial {trial.name!r} was started by another launch-trial at {started.time}, which died; it is not started twice")
        return _learnt(view, ended).phase
    log.info("trial %s: %s", trial.name, assignment_text(state.in_spec_order(trial)))  # Katib: the Trial's spec.parameterAssignments
    try:
        outcome = _follow(records, claim, trial.name, attempt, lambda: launcher.run(run), closed)
    except TrialNotCreated as exc:  # nothing ran: the trial gives its budget back, and the error stops the run
        give_back_trial(view, trial.name, exc)
        raise
    except TrialMachineryFailed as exc:  # it ran, and the machine failed it: given back, and the error stops the run
        _close_for_machinery(view, trial.name, exc, interrupted)
        raise
    except RunInterrupted as exc:  # stopped for the user's interrupt: its output so far is kept (in the experiment it ran for), then it is recorded Killed
        if exc.logs and not _experiment_replaced(view):
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
    return _record_unless_let_go(view, trial.name, outcome, interrupted).phase


PLACE_POLL_SECONDS = 5.0
"""How often a one-trial launch-trial waiting for a place reads the store again."""


def wait_for_place(
    view: ExperimentView, trial_name: str, run_id: str | None = None, sleep: Callable[[float], None] | None = None, poll_seconds: float = PLACE_POLL_SECONDS
) -> bool:
    """One-trial mode's share of ``parallelTrialCount`` (Katib runs no more trials at once): take
    one of the experiment's places before the trial starts, waiting while none is free. True:
    start the trial (it holds a place, or started already: a retry never waits); False: it must
    not start, it is closed (an experiment already finished gives back its unstarted trials, as
    Katib creates no trial once an experiment has completed).

    A place is ``places/<i>/<generation>.json``, i below ``parallelTrialCount``, taken with the
    store's write-once create (of two iterations racing for it, exactly one gets it); its latest
    generation names its holder. It is free when its holder is terminal, when the holder's
    attempt stopped beating for the trial TTL (its launch-trial died: ``claims.attempt_follows``),
    or when the holder has not started within that TTL (its pod died before starting it), so
    trials that never run hold no place for long, whichever order Kubernetes starts the pods in,
    and whichever round or run made them. Every trial that still runs counts against the count:
    the holder of a place at or beyond it (taken before ``parallelTrialCount`` was lowered), and
    one that holds no place (started by an older kfp-tune, or by slots mode) while its attempt
    beats or a slots checkpoint handed it over; a place is taken only while fewer run. Only the
    lowest free place is tried, so that iterations racing for the last free one race for one key."""
    records = view.records
    ttl = claims.trial_ttl_from_env()
    seen: dict[str, PlaceRecord] = {}  # place records are written once: each read once
    said = False
    refused = ""  # the place key whose create was refused on the last pass
    while True:
        with view.lock:
            state = view.state
            trial = state.trial(trial_name)
            if trial.is_terminal:
                return False
            if trial.started is not None:
                return True
            decision = decide(state, rounds_left=1)
            places = state.experiment.spec.parallel_trial_count or 1
            running = [t for t in state.trials if t.started is not None and not t.is_terminal and t.ended is None]
        if decision.finished:
            message = (f"not started: experiment {state.name!r} had already ended {decision.phase} ({decision.reason}); Katib creates no trial "
                       "once an experiment has completed, and its budget is given back")
            give_back(view, trial_name, TRIAL_NOT_CREATED, message, ended_reason="Killed")
            log.info("trial %s %s", trial_name, message)
            return False
        if run_id is not None:
            claims.check(records, run_id)
        holders = _place_holders(records, seen)
        if any(place.trial == trial_name for _, place in holders.values()):
            return True  # a retry of an iteration that took its place
        held = {place.trial for _, place in holders.values()}
        elsewhere = [t.name for t in running if t.name not in held and _still_runs(records, t, ttl)]
        now = time.time()
        busy = {i: place for i, (_, place) in holders.items() if not _place_free(view, place, now, ttl)}  # at or beyond the count too
        if places - len(busy) - len(elsewhere) > 0:
            index = min(i for i in range(places) if i not in busy)  # there is one: fewer than `places` are busy
            generation = holders[index][0] + 1 if index in holders else 1
            place, key = PlaceRecord(trial=trial_name, at=now, run=run_id or "", owner=this_process(), time=claims.utc_text(now)), records.place_key(index, generation)
            if records.create(key, place) and _is_latest(records, index, generation):
                log.debug("trial %s takes place %d (generation %d)", trial_name, index, generation)
                return True
            if key != refused:  # another iteration took it first: read the places again at once
                refused = key
                view.refresh()
                continue
            # refused the same key twice: a holder the listing does not show; wait a poll, never spin
        elif not said:
            holding = [place.trial for _, place in sorted(busy.items())] + elsewhere
            log.info("trial %s waits for a place: parallelTrialCount is %d, and %s hold them", trial_name, places, ", ".join(holding) or "other trials")
            said = True
        (sleep or time.sleep)(poll_seconds)
        view.refresh()


_NO_HOLDER = PlaceRecord(trial="", at=0.0)
"""What a damaged place record holds its place for: no one."""


def _place_holders(records: ExperimentRecords, seen: dict[str, PlaceRecord]) -> dict[int, tuple[int, PlaceRecord]]:
    """Each place's latest generation and its record, beyond parallelTrialCount too (it may have
    been lowered): one listing, and a read of each generation not read before (``seen``). A
    damaged record holds its place for no one."""
    latest: dict[int, tuple[int, str]] = {}
    for key in records.store.list(records.places_prefix()):
        found = records.place_of(key)
        if found is not None and found[1] > latest.get(found[0], (0, ""))[0]:
            latest[found[0]] = (found[1], key)
    holders = {}
    for index, (generation, key) in latest.items():
        if key not in seen:
            try:
                seen[key] = records.read_typed(key, PlaceRecord) or _NO_HOLDER
            except DamagedRecord:
                seen[key] = _NO_HOLDER
        holders[index] = (generation, seen[key])
    return holders


def _is_latest(records: ExperimentRecords, index: int, generation: int) -> bool:
    """Whether the generation just created is the place's latest. One that read an older,
    deleted one as the latest (it paused while two trials took the place) creates it again:
    this listing finds the later ones, and it holds nothing. The latest prunes the place
    (:func:`_prune_generations`) from the same listing."""
    generations = {found[1]: key for key in records.store.list(records.place_prefix(index)) if (found := records.place_of(key)) is not None}
    if any(later > generation for later in generations):
        return False
    _prune_generations(records, index, generation, generations)
    return True


def _prune_generations(records: ExperimentRecords, index: int, generation: int, generations: dict[int, str]) -> None:
    """Delete the place's generations (``generations``: their keys, as listed) two and more
    below ``generation`` (best effort), so that a place keeps two records, not one per trial.
    The one below is kept: an iteration that read it as the latest tries to create this one and
    is refused."""
    old = [key for earlier, key in sorted(generations.items()) if earlier <= generation - 2]
    if old:
        try:
            records.store.delete(old)
        except StoreError as exc:  # the next taker deletes them
            log.debug("place %d: generations below %d not deleted: %s", index, generation - 1, exc)


def _still_runs(records: ExperimentRecords, trial: TrialState, ttl: float) -> bool:
    """Whether a started trial with no ``ended`` record still runs: its attempt beats, or a slots
    checkpoint handed it over (its resource goes on running until the next step re-attaches to it
    and records its end, or gives it back)."""
    assert trial.started is not None
    beat = claims.trial_beat(records, trial.name)  # one read per poll, for both questions
    return (beat is not None and bool(beat.get("handedOver"))) or claims.beat_follows(beat, trial.started, ttl)


def _place_free(view: ExperimentView, place: PlaceRecord, now: float, ttl: float) -> bool:
    """Whether the place's holder no longer holds it: it is terminal, it stopped running
    (:func:`_still_runs`), or it has not started within the trial TTL of taking the place. A
    place's time no clock could have written (:func:`claims.seen_time`: far ahead) is none: the
    place frees as one taken long ago, not a TTL after that time."""
    with view.lock:  # the slots' other threads refresh the view
        holder = view.state.by_name.get(place.trial)
    if holder is not None and holder.is_terminal:
        return True
    if holder is not None and holder.started is not None:
        return holder.ended is not None or not _still_runs(view.records, holder, ttl)
    taken = claims.seen_time(place.at, now)
    return taken is None or not now - taken < ttl


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
    records: ExperimentRecords, claim: claims.Claim | None, trial_name: str, attempt: str, follow: Callable[[], LaunchOutcome | None],
    closed: Callable[[], bool],
) -> LaunchOutcome | None:
    """Follow the trial with this attempt's heartbeat, silent once ``closed``; ``_HANDED_OVER``
    when the launcher handed it over (its ``handedOver`` beat written, so the next attempt
    re-attaches at once)."""
    try:
        with _TrialHeartbeat(records, claim, trial_name, attempt, closed):
            return follow()
    except TrialHandedOver:
        claims.hand_over_trial(records, trial_name, attempt)
        return _HANDED_OVER


class _TrialHeartbeat(claims.Heartbeat):
    """A trial's heartbeat (and its run's) that falls silent for good once ``closed()``: the run
    has recorded the trial's end for an interrupt while the launcher still follows it. A call
    that cannot be stopped (a function trial's thread) runs on after its run has ended, and
    must not beat into the experiment, nor into one deleted, or made again under its name,
    since."""

    def __init__(self, records: ExperimentRecords, current: claims.Claim | None, trial: str, attempt: str, closed: Callable[[], bool]):
        super().__init__(records, current, trial, attempt)
        self.closed = closed

    def _beat(self) -> None:
        if self.closed():
            self._stop.set()  # its loop ends
            return
        super()._beat()


def _closed_for_interrupt(view: ExperimentView, trial_name: str, interrupted: Callable[[], str] | None) -> bool:
    """Whether the run was interrupted and has recorded the trial's end (Killed) meanwhile, as
    this process's view holds it (no store read: the heartbeat asks at every beat)."""
    if interrupted is None or not interrupted():
        return False
    with view.lock:
        trial = view.state.by_name.get(trial_name)
        return trial is None or trial.is_terminal or trial.ended is not None


def _let_go(view: ExperimentView, trial_name: str, interrupted: Callable[[], str] | None) -> bool:
    """Whether an interrupted run has let the trial go, so that nothing more of it may be
    written: it recorded the trial's end (Killed) itself, or the experiment is no longer the one
    it drove (:func:`_experiment_replaced`). A call that cannot be stopped (a function trial in
    a thread) returns after that, into an experiment that may be gone, or another of its name."""
    if interrupted is None or not interrupted():
        return False
    return _closed_for_interrupt(view, trial_name, interrupted) or _experiment_replaced(view)


def _experiment_replaced(view: ExperimentView) -> bool:
    """Whether the experiment in the store is no longer the one the view holds: deleted (or
    being deleted), or deleted and made again under its name (another uid); or it cannot be
    read, so that nothing can be trusted to land where it belongs. One read."""
    try:
        head = read_experiment_record(view.records)
    except StoreError:
        return True
    with view.lock:
        return head is None or head.get("uid") != view.state.uid


def _record_unless_let_go(view: ExperimentView, trial_name: str, outcome: LaunchOutcome, interrupted: Callable[[], str] | None) -> TrialEnded:
    """Record how the trial ended (:func:`_record_outcome`); after an interrupt, only if the run
    has not let the trial go (:func:`_let_go`), checked and recorded under the view's lock,
    which the interrupt's end takes to record the trial Killed: one of the two ends the trial.
    Else nothing is written: its outcome is discarded, and RunInterrupted raised (the slot then
    finds the trial recorded as the run left it)."""
    cause = interrupted() if interrupted is not None else ""
    if not cause:
        return _record_outcome(view, trial_name, outcome)
    with view.lock:
        if _let_go(view, trial_name, interrupted):
            log.info("trial %s ended %s after its run had let it go (%s): its outcome is discarded", trial_name, outcome.phase, cause)
            raise RunInterrupted(cause)
        return _record_outcome(view, trial_name, outcome)


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


def _close_for_machinery(view: ExperimentView, name: str, error: TrialMachineryFailed, interrupted: Callable[[], str] | None) -> None:
    """Before the error stops the run: a trial that had ended when the early-stopping rule
    judging it raised keeps its end (its launcher hands it up on
    :class:`~kfp_tune.collectors.running.EarlyStoppingRuleError`: :func:`_keep_ended_outcome`);
    any other is given back with what it printed (:func:`give_back_machinery`)."""
    ended_before = error.outcome if isinstance(error, EarlyStoppingRuleError) else None
    if ended_before is not None:
        _keep_ended_outcome(view, name, ended_before, error, interrupted)
        return
    if error.logs and not _experiment_replaced(view):  # as an interrupt keeps a stopped trial's: in the experiment it ran for
        _keep_logs(view.records, name, error.logs)
    give_back_machinery(view, name, error)


def _keep_ended_outcome(view: ExperimentView, name: str, outcome: LaunchOutcome, error: TrialMachineryFailed, interrupted: Callable[[], str] | None) -> None:
    """Record a trial that had ended when the early-stopping rule judging it raised as its end
    says (Succeeded with its metrics, Failed, MetricsUnavailable), collected at once, as if no
    rule had been asked: the run stops on the rule's error, but the trial ran to its end and is
    not given back to be trained again (under grid, the same point twice). After an interrupt,
    only if the run has not let the trial go (:func:`_record_unless_let_go`: the interrupt's
    Killed stands, nothing more is written). Best effort, as :func:`give_back_trial`: the rule's
    error that stops the run is what matters."""
    try:
        ended = _record_unless_let_go(view, name, outcome, interrupted)
        result = collect_metrics(view.records, name, view=view)
        log.info("trial %s had ended %s when the early-stopping rule raised judging it: it is recorded %s", name, ended.phase, result.status)
    except RunInterrupted:  # the interrupt let it go first and recorded it Killed: that end stands
        return
    except Exception as exc:  # the store may be failing too
        log.warning("trial %s: how it ended could not be recorded after %s: %s", name, type(error).__name__, exc)


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
