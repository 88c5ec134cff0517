"""Continuous slots: ``parallelTrialCount`` trials at a time, a free slot starting the next one
at once, as Katib does.

Each slot, when free, takes the next trial: an unfinished one a dead run left (adopted), else a
new suggestion made from every finished trial with the running ones pending; runs it
(:func:`~kfp_tune.steps.launch_trial.launch_trial`), collects it
(:func:`~kfp_tune.steps.collect_metrics.collect_metrics`) and applies the stop rules. No trial
starts once the experiment has ended or the checkpoint is due; the trials still running then
finish, as in Katib, or at a checkpoint are handed over to the next one when the launcher can
re-attach to them (Kubernetes resources), so no slot waits for the slowest trial. The inline runner's threads and the pipeline's launch-trial (slots mode)
both run this, so every engine has the same schedule. Before it stops, the run reads the store
once more and follows the trials of its own run that another process of it started (a KFP retry
of the step while the first pod still runs): no run ends while its trials still run unseen.

SIGINT, SIGTERM and SIGHUP (:data:`STOP_SIGNALS`; SIGHUP only in place of its default, :func:`takes_over`; with a launcher that can stop its trials, ``Launcher.can_interrupt``) end the
run cleanly: no trial starts, the running ones are stopped and recorded ``Killed`` with reason
``RunInterrupted`` (their budget given back: see ``core.state.TRIAL_INTERRUPTED``), the status
says the run was interrupted, the claim is released, and :class:`~kfp_tune.core.errors.RunInterrupted`
is raised. A second signal stops waiting for the trials at once, and gives a store that is
failing a few seconds more (:data:`STORE_SECONDS_AFTER_STOP_AT_ONCE`): if it is still down, the
run ends interrupted all the same, its error saying what could not be recorded (the next run
gives those trials back). Under kfp.local the same happens
when the process that runs the pipeline is gone (killed outright): see :data:`PIPELINE_PROCESS_VARIABLE`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any

from kfp_tune.core import claims
from kfp_tune.core.decision import Decision, decide
from kfp_tune.core.errors import ExperimentBusy, KfpTuneError, RunInterrupted, StoreError
from kfp_tune.core.interfaces import Launcher
from kfp_tune.core.records import ExperimentRecords, utc_now
from kfp_tune.core.state import ExperimentView, TrialState
from kfp_tune.core.vocabulary import STORE_RETRY_VARIABLE
from kfp_tune.progress import trial_outcome
from kfp_tune.steps.collect_metrics import collect_metrics
from kfp_tune.steps.decide_stop import fail_trial, interrupt_run, kill_trial, write_status
from kfp_tune.steps.launch_trial import launch_trial
from kfp_tune.steps.schedule import made_by_run, slot_round_id
from kfp_tune.steps.suggest import SuggestionAbandoned, abandoned_when, new_trials
from kfp_tune.stores.retry import RetryingStore

log = logging.getLogger(__name__)

LEAVE = ""
"""What :meth:`_Schedule.next_trial` gives a slot that is to stop because more slots run than
parallelTrialCount now allows (no trial is ever named so)."""
STATUS_EVERY_SECONDS = 1.0
"""``status.json`` is rewritten after a trial ends at most this often (and always at the end)."""
INTERRUPT_WAIT_SECONDS = 30.0
"""After SIGINT / SIGTERM, how long the run waits for its stopped trials to end (a local trial
gets SIGTERM, then SIGKILL after its grace period) before it records the rest Killed anyway."""
LOOK_AGAIN_SECONDS = 1.0
"""The longest the run's main thread waits on its slots before it looks again. A stop signal's
handler runs in that very thread: one that lands after it has looked and before it waits
notifies no one, and the wait would be the one it had chosen (the first signal's 30 s after a
quick second Ctrl-C, or until a slot ends after a first)."""
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""The signals that end a run cleanly (those :func:`takes_over` allows). SIGHUP: its terminal
closed (a dropped ssh), which would otherwise kill the run with no cleanup, its trials (each in
its own session) running on unseen."""
STORE_SECONDS_AFTER_STOP_AT_ONCE = 5.0
"""After a second signal, how much longer a failing store is retried (its window is cut to
this, :meth:`~kfp_tune.stores.retry.RetryingStore.cut_window`): "stopping at once" must not wait
out the rest of a five-minute window."""


def stop_store_retries_soon(store: object) -> None:
    """Stopping at once: a store that is down (a :class:`RetryingStore`) gets
    :data:`STORE_SECONDS_AFTER_STOP_AT_ONCE` more, not the rest of its retry window."""
    if isinstance(store, RetryingStore):
        store.cut_window(STORE_SECONDS_AFTER_STOP_AT_ONCE)


NOTICE = "kfp_tune_notice"
"""A log record's attribute that marks it as a notice to the person running the command: the
CLI (which configures logging) shows it as a plain line, not as a log record."""


def stop_notice(signal_name: str, first: bool, store_left: float | None = None) -> str:
    """What a stop signal is answered with, by either engine (the inline run's slots, or the CLI
    that forwards it to its kfp.local child): one wording. ``store_left``: the store is not
    answering, and this much of its retry window is left, which recording the stopped trials
    may take: the wait is then the store's, not the trials'."""
    if first and store_left is not None:
        return (f"{signal_name}: stopping the run's running trials, waiting up to {INTERRUPT_WAIT_SECONDS:g} s for them to end; "
                + store_notice(signal_name, store_left, again="it"))
    if first:
        return (f"{signal_name}: stopping the run's running trials, waiting up to {INTERRUPT_WAIT_SECONDS:g} s for them to end; "
                "send it again to stop at once")
    return f"{signal_name}: stopping at once"


def store_notice(signal_name: str, seconds_left: float, again: str = "") -> str:
    """A run being stopped whose store is not answering (then, or from then on): the retry
    window, not the trials, decides how long stopping takes, and a second signal gives up."""
    return (f"the store is not answering: recording the stopped trials may take up to {seconds_left:.0f} s more "
            f"(the rest of its retry window, {STORE_RETRY_VARIABLE}); send {again or signal_name} again to give up")


PIPELINE_PROCESS_VARIABLE = "KFP_TUNE_PIPELINE_PROCESS"
"""The pid of the process that runs the pipeline on this machine (``pipelines.local_run``, under
kfp.local), set for its steps. kfp.local starts each step through ``sh``, which outlives it: a
step whose kfp.local was killed outright would run the rest of the budget unseen. A slots run
watches that process instead, and stops as on SIGTERM once it is gone."""
PIPELINE_GONE = "its kfp.local process ended"
"""What an interrupt for a gone pipeline process is called in the trials' and status's messages."""
PIPELINE_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Checkpoint:
    """When a slots run hands back before the experiment ends: after ``trials`` trials have
    ended in it, or ``seconds`` after it started, whichever comes first (None: no limit)."""

    trials: int | None = None
    seconds: float | None = None

    def described(self) -> str:
        """The limit as a log line says it: ``after 4 trial(s) or 600 s``."""
        limits = ([f"{self.trials} trial(s)"] if self.trials is not None else []) + ([f"{self.seconds:g} s"] if self.seconds is not None else [])
        return f"after {' or '.join(limits)}" if limits else "no limit"

    def due(self, ended: int, started_at: float) -> bool:
        if self.trials is not None and ended >= self.trials:
            return True
        return self.seconds is not None and time.monotonic() - started_at >= self.seconds


@dataclass(frozen=True)
class SlotsResult:
    """How a slots run ended: the decision after its last trial, and whether it stopped for
    its checkpoint (the experiment then goes on in the next one)."""

    decision: Decision
    checkpoint_due: bool
    trials_ended: int


class _Schedule:
    """The shared part of the slots: which trials run, what comes next, when to stop."""

    def __init__(
        self, view: ExperimentView, run_id: str, checkpoint: Checkpoint, adopt: bool, hands_over: bool, slots: int | None = None, max_slots: int | None = None,
    ):
        self.view, self.run_id, self.checkpoint, self.hands_over = view, run_id, checkpoint, hands_over
        self.fixed_slots = slots
        """The slots the caller asked for; None: the spec's parallelTrialCount, followed as it changes."""
        self.max_slots = max_slots
        """The most slots this process keeps (None: no bound), whatever an edit asks."""
        self.capped_at: int | None = None
        """The count asked for last, when it was past ``max_slots`` (said once)."""
        self.handover = threading.Event()
        """Set at the checkpoint when the launcher hands running trials over (no waiting for them)."""
        self.running: set[str] = set()
        self.ended = 0
        self.started_at = time.monotonic()
        self.cond = threading.Condition(view.lock)
        self.final: Decision | None = None
        self.checkpoint_due = False
        self.error: BaseException | None = None
        self.orphans = [t.name for t in view.state.trials if not t.is_terminal] if adopt else []
        self.interrupted = ""
        """The signal's name once the user interrupted the run."""
        self.killed: set[str] = set()
        """Trials recorded Killed for the interrupt."""
        self.wait_until = 0.0
        self.slots_alive = 0
        self.slots_changed = threading.Event()
        """Set when a slot ends or the run is interrupted: what the main thread waits on
        (:meth:`wait_for_slots`), not :attr:`cond`, whose lock a slot holds while the algorithm
        computes (a Condition's wait takes its lock back without running signal handlers)."""
        self.nothing_left_under: tuple[int | None, int | None] | None = None
        """The budget (:meth:`budget`) under which a slot last found no trial left to run: no
        slot is started in its place while that budget holds (only an edit raising it makes
        more to run)."""

    def interrupt(self, signal_name: str, launcher: Launcher) -> None:
        """SIGINT / SIGTERM (from the signal handler): no trial starts, the launcher stops the
        running ones; a second signal stops waiting for them."""
        first = not self.interrupted
        store = self.view.records.store
        retrying = store if isinstance(store, RetryingStore) else None
        if first:
            self.interrupted = signal_name
            self.wait_until = time.monotonic() + INTERRUPT_WAIT_SECONDS
            store_left = retrying.outage_left() if retrying is not None else None
            log.warning("%s", stop_notice(signal_name, first=True, store_left=store_left), extra={NOTICE: True})
            if retrying is not None and store_left is None:  # one that stops answering while the run stops says so then
                retrying.on_outage = lambda seconds: self._store_stopped_answering(retrying, signal_name, seconds)
        else:
            self.wait_until = time.monotonic()
            log.warning("%s", stop_notice(signal_name, first=False), extra={NOTICE: True})
            if retrying is not None:
                retrying.on_outage = None
            stop_store_retries_soon(store)
        launcher.interrupt(force=not first)
        self.slots_changed.set()  # before the lock, which a slot computing a suggestion holds until it sees the interrupt
        with self.cond:
            self.cond.notify_all()

    @staticmethod
    def _store_stopped_answering(store: RetryingStore, signal_name: str, seconds_left: float) -> None:
        """The store's first failure while the run stops (once)."""
        store.on_outage = None
        log.warning("%s", store_notice(signal_name, seconds_left), extra={NOTICE: True})

    def next_trial(self) -> str | None:
        """The next trial for a free slot, or None when this slot is done. Waits while the
        algorithm needs running trials to finish first (hyperband's rungs).

        The last slot to stop (none running here) reads the store again first: another process
        of this run (a KFP retry of the step beside a pod that still runs) may follow trials this
        one never saw, and the run must neither end without them nor decide without counting
        them, so they are adopted (the launcher's get-or-create and ``launch_trial``'s wait for a
        live attempt make following a trial twice safe). One listing per stop, none per trial."""
        with self.cond:
            name = self._next_trial()
            if name is None and self._last_to_stop():
                self.view.refresh()
                again = self._next_trial()
                name = again if again == LEAVE else again or self._followed_elsewhere()
            if name is None:  # this slot ends: nothing is left to run under this budget, so none replaces it
                self.nothing_left_under = self.budget()
            return name

    def budget(self) -> tuple[int | None, int | None]:
        """What decides whether trials are left to run, as the view has it now: the spec's
        maxTrialCount and maxFailedTrialCount (an edit may raise them while the run goes on)."""
        spec = self.view.state.experiment.spec
        return spec.max_trial_count, spec.max_failed_trial_count

    def _last_to_stop(self) -> bool:
        """Whether this slot would end the run's trials here: nothing runs in this process, and
        it stops for no error, interrupt or checkpoint (whose trials are handed over or finished)."""
        return not self.running and self.error is None and not self.interrupted and not self.checkpoint_due

    def _followed_elsewhere(self) -> str | None:
        """An unfinished trial of this run that no slot here follows, taken for this slot: one
        another process of the same run started (``started.run``), or made and not started yet
        (its round, ``<run id>-...``, as ``decide_stop`` reads it)."""
        for trial in self.view.state.trials:
            own = trial.started.run == self.run_id if trial.started is not None else made_by_run(trial.round, self.run_id)
            if own and not trial.is_terminal and trial.name not in self.running:
                self.running.add(trial.name)
                return trial.name
        return None

    def _next_trial(self) -> str | None:
        with self.cond:
            while True:
                if self.error is not None or self.interrupted:
                    return None
                state = self.view.state
                decision = decide(state, rounds_left=1)
                if decision.finished:
                    self.final = self.final or decision
                    return None
                if self.checkpoint_due or self.checkpoint.due(self.ended, self.started_at):
                    self.time_up()
                    return None
                if self.leave_if_surplus():  # asked again after every wait: a slot waiting for a rung's end counts too
                    return LEAVE
                while self.orphans:
                    name = self.orphans.pop(0)
                    if not state.trial(name).is_terminal and name not in self.running:
                        self.running.add(name)
                        return name
                spec = state.experiment.spec
                if spec.max_trial_count is not None and state.budget_used >= spec.max_trial_count:
                    return None  # every trial the budget allows exists; the running ones finish it
                if state.exhausted:
                    return None
                index = 1 + max((t.index for t in state.trials[-1:]), default=-1)
                try:
                    with abandoned_when(lambda: self.interrupted):  # an interrupt does not wait for the algorithm
                        record = new_trials(self.view, slot_round_id(self.run_id, index), 1)
                except SuggestionAbandoned:
                    return None
                if record["trials"]:
                    name = str(record["trials"][0]["name"])
                    if name in self.running or state.trial(name).is_terminal:
                        raise KfpTuneError(f"round {record['round']!r} was already used by another run: trial {name!r}")
                    self.running.add(name)
                    return name
                if record.get("exhausted"):
                    return None
                if not self.running and (adopted := self._followed_elsewhere()) is not None:
                    return adopted  # the trials it waits for run in another process of this run
                if not self.running:
                    raise KfpTuneError(f"the algorithm is waiting for running trials, and none is running (round {record['round']!r})")
                self.cond.wait()  # a running trial's end may let the algorithm go on

    def current(self, decision: Decision) -> Decision:
        """``decision``, made now, as the status shows it: once the experiment has ended, its first
        final outcome with the trials as they are now. Katib keeps a completed condition but
        updates the counts, lists and currentOptimalTrial on every reconcile (status_util.go,
        ``updateTrialsSummary``), so a trial that ends after the outcome is counted."""
        if self.final is None or decision.recorded:  # a recorded outcome is the first final one, read back
            return decision
        return dataclasses.replace(self.final, best_trial=decision.best_trial, counts=decision.counts)

    def time_up(self) -> None:
        """The checkpoint is due: no new trial; running ones are handed over when the launcher
        can, else they finish first."""
        with self.cond:
            self.checkpoint_due = True
            if self.hands_over:
                self.handover.set()
            self.cond.notify_all()

    def trial_done(self, name: str, ended: bool = True) -> None:
        """The slot is free; ``ended``: False for a trial handed over at the checkpoint, which
        goes on running and is not counted as ended (the step's log said it ended)."""
        with self.cond:
            self.running.discard(name)
            self.ended += 1 if ended else 0
            self.cond.notify_all()

    def failed(self, exc: BaseException) -> None:
        """The first error a slot met, what the run raises; the slots' refusals by another run
        (ExperimentBusy) are joined whatever their order, so that the last line names every trial
        this process followed, also when a slot between trials was refused first."""
        with self.cond:
            self.error = joined_refusals(self.error, exc) or self.error or exc
            self.cond.notify_all()

    def slot_ended(self) -> None:
        with self.cond:
            self.slots_alive -= 1
            self.slots_changed.set()
            self.cond.notify_all()

    def slots_not_started(self, count: int) -> None:
        """Slots counted alive whose threads never started: taken off the count."""
        with self.cond:
            self.slots_alive -= count
            self.slots_changed.set()
            self.cond.notify_all()

    def slots_wanted(self) -> int:
        """How many slots the run keeps busy now: the spec's parallelTrialCount as the view has
        it (a run in one process follows an edit of it as each trial ends:
        ``inline_runner.BudgetFollowingView``), or the slots the caller fixed."""
        wanted = self.fixed_slots or self.view.state.experiment.spec.parallel_trial_count or 1
        if self.max_slots is None or wanted <= self.max_slots:
            return wanted
        if self.capped_at != wanted:  # once for each count asked for
            self.capped_at = wanted
            log.warning("parallelTrialCount %d: this run keeps at most %d trials at a time in this process (a thread or process each); "
                        "it runs %d", wanted, self.max_slots, self.max_slots)
        return self.max_slots

    def leave_if_surplus(self) -> bool:
        """Whether this slot stops (its count taken off at once, so that of several free slots
        only the surplus stops): more slots run than :meth:`slots_wanted`, after an edit lowered
        parallelTrialCount. Katib's controller deletes the newest running trials then
        (experiment_controller.go ``ReconcileTrials``); here they run to their end, and no trial
        starts until fewer run than the new count."""
        with self.cond:
            if self.slots_alive <= self.slots_wanted():
                return False
            self.slots_alive -= 1
            self.slots_changed.set()
            self.cond.notify_all()
            return True

    def slots_to_add(self) -> int:
        """How many slots to start now (counted as alive at once): fewer run than
        :meth:`slots_wanted`, after an edit raised parallelTrialCount; none once the run stops
        starting trials (an error, an interrupt, the checkpoint), nor once a slot found nothing
        left to run under the budget there is (:attr:`nothing_left_under`): each slot that leaves
        at the end would be started again, each new one listing the whole experiment, for good."""
        with self.cond:
            if self.error is not None or self.interrupted or self.checkpoint_due or self.nothing_left_under == self.budget():
                return 0
            missing = self.slots_wanted() - self.slots_alive
            if missing <= 0:
                return 0
            self.slots_alive += missing
            return missing

    def wait_for_slots(self) -> None:
        """Until every slot has stopped; after an interrupt, at most until ``wait_until``, looked
        at again at least every :data:`LOOK_AGAIN_SECONDS` (a signal's notify can be lost). Waits
        on :attr:`slots_changed`, never on the view's lock: a slot holds that while the algorithm
        computes a suggestion (minutes for enas), and the stop signal's handler runs in this
        thread, so it must not be stuck taking the lock back when the signal lands."""
        while True:
            self.slots_changed.clear()  # before looking: a change after the look ends the wait at once
            if self.slots_alive <= 0:
                return
            if self.interrupted:
                left = self.wait_until - time.monotonic()
                if left <= 0:
                    return
                self.slots_changed.wait(min(left, LOOK_AGAIN_SECONDS))
            else:
                self.slots_changed.wait(LOOK_AGAIN_SECONDS)


def run_slots(
    view: ExperimentView,
    launcher: Launcher,
    run_id: str,
    checkpoint: Checkpoint | None = None,
    slots: int | None = None,
    adopt: bool = False,
    on_trial_end: Callable[[TrialState, Decision], None] | None = None,
    max_slots: int | None = None,
) -> SlotsResult:
    """Keep the experiment's slots busy until it ends or the checkpoint is due, and write its
    status as trials end. The caller holds the run's claim (``run_id``). ``adopt``: also finish
    the unfinished trials a dead run left (a run's first slots run does). ``slots`` defaults to
    the spec's parallelTrialCount, followed as the view's spec changes (:meth:`_Schedule.slots_wanted`), at
    most ``max_slots`` (a run in one process: ``inline_runner.MAX_LOCAL_SLOTS``). Re-raises the first error a slot met, once every running
    trial has ended (the trial whose launch raised is closed Failed, never left Running, or
    given back when the launcher could not create it).
    Raises RunInterrupted after SIGINT / SIGTERM (see the module's doc)."""
    schedule = _Schedule(view, run_id, checkpoint or Checkpoint(), adopt, launcher.hands_over, slots, max_slots)
    work = _SlotWork(view, launcher, run_id, schedule, on_trial_end)
    timer = _checkpoint_timer((checkpoint or Checkpoint()).seconds, schedule)
    try:
        killed, unrecorded = _run_the_slots(work)
    finally:
        _after_the_slots(timer, view.records)
    if schedule.interrupted:
        raise RunInterrupted(schedule.interrupted, killed, unrecorded=unrecorded)
    if schedule.error is not None:
        raise schedule.error
    return _slots_result(view, schedule)


class _SlotWork:
    """What each slot's thread does until the schedule gives it no more trials: run and collect
    one trial after another, and write the experiment's status as they end (at most every
    :data:`STATUS_EVERY_SECONDS`, and when the experiment is finished)."""

    def __init__(self, view: ExperimentView, launcher: Launcher, run_id: str, schedule: _Schedule,
                 on_trial_end: Callable[[TrialState, Decision], None] | None):
        self.view, self.launcher, self.run_id, self.schedule, self.on_trial_end = view, launcher, run_id, schedule, on_trial_end
        self.last_status = 0.0  # when this run last wrote the status (time.monotonic)
        self.started = 0  # slots' threads started so far (their names)
        self.objective = view.state.experiment.spec.objective.objective_metric_name if view.state.experiment.spec.objective else ""

    def start_slots(self, count: int) -> None:
        """``count`` more slots' threads, started; the schedule already counts them alive, and
        gets back those that did not start (a process out of threads) before the error goes
        on, so that no run waits for slots that never ran. Daemon threads: after an interrupt,
        a trial that cannot be stopped (a Python function) is left to end on its own, and does
        not keep the process alive."""
        for begun in range(count):
            with self.schedule.cond:
                self.started += 1
                name = f"slot-{self.started - 1}"
            try:
                threading.Thread(target=self.slot, name=name, daemon=True).start()
            except BaseException:
                self.schedule.slots_not_started(count - begun)
                raise

    def slot(self) -> None:
        schedule, left = self.schedule, False
        try:
            while True:
                self.start_slots(schedule.slots_to_add())  # parallelTrialCount raised since: more slots at once
                name = schedule.next_trial()
                if name == LEAVE:  # parallelTrialCount lowered since: fewer slots
                    left = True
                    break
                if name is None or not self.run_one(name):
                    break
        except BaseException as exc:
            schedule.failed(exc)
        finally:
            if not left:  # a slot that left was taken off the count as it left
                schedule.slot_ended()

    def run_one(self, name: str) -> bool:
        """Run and collect one trial; False when the run was interrupted under it."""
        view, schedule, launcher = self.view, self.schedule, self.launcher
        handed_over = False
        try:
            # no start once interrupted: checked under the lock the interrupt's end takes (a second signal does not wait for this slot)
            phase = launch_trial(view.records, launcher, name, run_id=self.run_id, view=view, handover=schedule.handover, interrupted=lambda: schedule.interrupted)
            handed_over = phase is None
            if phase is not None:  # None: handed over at the checkpoint, still running
                collect_ended(view, name, self.run_id)
        except RunInterrupted as exc:  # the launcher stopped it for the interrupt
            if not schedule.interrupted:  # the trial itself was interrupted (its function raised KeyboardInterrupt): the run stops as on Ctrl-C
                schedule.interrupt(exc.signal_name, launcher)
            if kill_trial(view, name, schedule.interrupted or "SIGINT"):
                schedule.killed.add(name)
            return False
        except Exception as exc:  # (a BaseException stands for this process dying: nothing is written)
            if not isinstance(exc, ExperimentBusy):  # a run that was taken over or ended elsewhere starts nothing, failing no trial
                fail_trial(view, name, exc)
            raise
        finally:
            schedule.trial_done(name, ended=not handed_over)
        if phase is not None:
            self.after_trial(name)
        return True

    def after_trial(self, name: str) -> None:
        view = self.view
        with view.lock:
            state = view.state
            decision = decide(state, rounds_left=1)
            if not self.schedule.interrupted and (time.monotonic() - self.last_status >= STATUS_EVERY_SECONDS or decision.finished):
                write_status(view.records, state, self.schedule.current(decision), utc_now())
                self.last_status = time.monotonic()
            trial = state.trial(name)
        log.info("trial %s %s", name, trial_outcome(trial, self.objective))  # why it failed too: the KFP Logs tab has no other place
        if self.on_trial_end is not None:
            self.on_trial_end(trial, decision)


def _checkpoint_timer(seconds: float | None, schedule: _Schedule) -> threading.Timer | None:
    """The checkpoint's clock, started: it ends the run's slots on time even while every slot is
    busy. None without a checkpoint in seconds."""
    timer = threading.Timer(seconds, schedule.time_up) if seconds else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    return timer


def _run_the_slots(work: _SlotWork) -> tuple[int, str]:
    """The slots run under the run's heartbeat and stop-signal handler until each has ended;
    after an interrupt, (the trials it stopped, what the store left unrecorded)."""
    view, schedule = work.view, work.schedule
    records = view.records
    with claims.Heartbeat(records, claims.check(records, work.run_id)), _stopping_on_signals(schedule, work.launcher):
        work.start_slots(schedule.slots_to_add())
        schedule.wait_for_slots()
        if schedule.interrupted:  # still under the handler: another signal cannot cut this short
            return _end_interrupted_slots(view, work.run_id, schedule.interrupted, schedule.killed)
    return 0, ""


def _end_interrupted_slots(view: ExperimentView, run_id: str, signal_name: str, killed: set[str]) -> tuple[int, str]:
    """The interrupted run's end recorded: (the trials it stopped, ""), or with the store down
    (0, what could not be recorded): the run stops all the same."""
    try:
        return interrupt_run(view, run_id, signal_name, killed), ""
    except StoreError as exc:
        return 0, unrecorded_after_interrupt(view, exc)


def _after_the_slots(timer: threading.Timer | None, records: ExperimentRecords) -> None:
    """The checkpoint's clock stopped; the run's stop is over, so an outage no longer calls it."""
    if timer is not None:
        timer.cancel()
    if isinstance(records.store, RetryingStore):
        records.store.on_outage = None


def _slots_result(view: ExperimentView, schedule: _Schedule) -> SlotsResult:
    """The status written once the slots ended, and what they leave to the next step."""
    state = view.state
    decision = write_status(view.records, state, schedule.current(decide(state, rounds_left=1)), utc_now())
    return SlotsResult(decision, schedule.checkpoint_due and not decision.finished, schedule.ended)


def collect_ended(view: ExperimentView, name: str, run_id: str) -> None:
    """Collect a trial that ended, as the run ``run_id`` that followed it. When that run was
    ended meanwhile (by another process of the same run: a KFP retry of the step beside a pod
    that still ran) or taken over, the trial's end is recorded all the same, not dropped (the
    next run would find it unfinished and run it again), and ExperimentBusy then says so and
    stops this process. The result is write-once: if another process recorded it first, theirs
    is kept and read back, nothing is lost or doubled."""
    try:
        collect_metrics(view.records, name, run_id=run_id, view=view)
    except ExperimentBusy as busy:
        result = collect_metrics(view.records, name, view=view)
        raise FollowedTrialsEnded(busy.reason, {name: str(result.status)}) from None


def joined_refusals(first: BaseException | None, then: BaseException) -> ExperimentBusy | None:
    """Two slots' ExperimentBusy as one, under the first's reason: the trials each followed
    (:class:`FollowedTrialsEnded`), where either followed any; None when not both are refusals."""
    if not isinstance(first, ExperimentBusy) or not isinstance(then, ExperimentBusy):
        return None
    if not isinstance(then, FollowedTrialsEnded):
        return first
    if isinstance(first, FollowedTrialsEnded):
        return first.joined(then)
    return FollowedTrialsEnded(first.reason, then.ended)


class FollowedTrialsEnded(ExperimentBusy):
    """The run was ended elsewhere or taken over while this process followed trials, whose ends
    it recorded all the same (:func:`collect_ended`). Each slot raises its own; the schedule
    joins them (:meth:`joined`), so that the run's last line names every trial it followed, not
    only the first slot's (as if it had followed one)."""

    def __init__(self, reason: str, ended: dict[str, str]):
        self.ended = dict(ended)
        """Trial name -> the status it is recorded with."""
        self.ended_reason = reason
        names = sorted(ended)
        statuses = {ended[name] for name in names}
        if len(names) == 1:
            said = f"trial {names[0]!r}, which this process followed, ended meanwhile and is recorded {ended[names[0]]}"
        else:
            listed = [f"{name!r}" if len(statuses) == 1 else f"{name!r} ({ended[name]})" for name in names]
            recorded = f"recorded {statuses.pop()}" if len(statuses) == 1 else "recorded so"
            said = f"trials {', '.join(listed[:-1])} and {listed[-1]}, which this process followed, ended meanwhile and are {recorded}"
        super().__init__(f"{reason}; {said}; this process stops")  # the process, not the run: the run goes on elsewhere

    def joined(self, other: FollowedTrialsEnded) -> FollowedTrialsEnded:
        """One error for the trials of both, under this one's reason (the first said)."""
        return FollowedTrialsEnded(self.ended_reason, {**self.ended, **other.ended})


def unrecorded_after_interrupt(view: ExperimentView, error: StoreError) -> str:
    """What an interrupted run could not record with its store down (RunInterrupted's
    ``unrecorded``): the stopped trials the store still shows running (as ``view`` last read
    them), and why. Also ``kfp-tune run --engine kfp-local``'s, from its progress view."""
    with view.lock:
        running = view.state.running_trials()
    left = f": {len(running)} stopped trial(s) still show Running there ({', '.join(running)})" if running else ""
    return f"the store could not record the interrupt ({error}){left}"


def takes_over(signum: int) -> bool:
    """Whether a run answers stop signal ``signum`` itself. A signal the process was started to
    ignore stays ignored. SIGHUP only in place of its default, which would kill the run with no
    cleanup: a program's own handler (a service that reloads its config on SIGHUP and calls
    ``tune()``) stays, as does one set outside Python; the run's own (:class:`_StopHandler`:
    the inline runner's, around the slots' own) is the run's to replace."""
    current = signal.getsignal(signum)
    if signum == signal.SIGHUP:
        return current == signal.SIG_DFL or isinstance(current, _StopHandler)
    return current != signal.SIG_IGN


class _StopHandler:
    """The signal handler :func:`handling_stop_signals` installs: ``handler(signal name)``."""

    def __init__(self, handler: Callable[[str], None]):
        self.handler = handler

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.handler(signal.Signals(signum).name)


@contextlib.contextmanager
def handling_stop_signals(handler: Callable[[str], None]) -> Iterator[None]:
    """``handler(signal name)`` on each of :data:`STOP_SIGNALS` the run :func:`takes_over` while
    inside, the previous handlers after. Main thread only (only it may set signal handlers;
    elsewhere nothing is installed)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    on_signal = _StopHandler(handler)
    previous: dict[int, Any] = {}
    try:
        for signum in STOP_SIGNALS:
            if takes_over(signum):
                previous[signum] = signal.signal(signum, on_signal)
        yield
    finally:
        for restored, old in previous.items():
            signal.signal(restored, old if old is not None else signal.SIG_DFL)


@contextlib.contextmanager
def _stopping_on_signals(schedule: _Schedule, launcher: Launcher) -> Iterator[None]:
    """The stop signals interrupt the run while its slots run (only with a launcher that can
    stop its trials)."""
    if not launcher.can_interrupt:
        yield
        return
    with handling_stop_signals(lambda name: schedule.interrupt(_cause(name), launcher)), _stopping_when_pipeline_gone(schedule, launcher):
        yield


RUN_OWNER_GONE = "the kfp-tune command that drove the run was gone"
"""The interruption's cause when the signal came after the run's owner died: kfp.local's runner,
orphaned by a CLI killed outright, sends its steps SIGTERM (pipelines/local_run.py); the user sent
no signal, so none is named."""


def _cause(signal_name: str) -> str:
    """What the status says interrupted the run: the signal, unless the process that owns the
    run (``claims.OWNER_VARIABLE``, the CLI) is gone from this machine."""
    owner = os.environ.get(claims.OWNER_VARIABLE, "")
    return RUN_OWNER_GONE if owner and claims.owner_is_gone(owner) else signal_name


@contextlib.contextmanager
def _stopping_when_pipeline_gone(schedule: _Schedule, launcher: Launcher) -> Iterator[None]:
    """While inside, with :data:`PIPELINE_PROCESS_VARIABLE` set: once that process is gone, the
    run is interrupted (unless a signal did it first: a second interrupt would stop waiting for
    the trials), and this process's output, a pipe nobody reads any more, goes to /dev/null."""
    pid = os.environ.get(PIPELINE_PROCESS_VARIABLE, "")
    if not pid.isdigit():
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while not done.wait(PIPELINE_POLL_SECONDS):
            if claims.process_alive(int(pid)):
                continue
            with contextlib.suppress(OSError):  # a write to the dead reader's pipe would fail
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
            if not schedule.interrupted:
                log.warning("the process that runs this pipeline (pid %s) is gone: stopping the run", pid)
                schedule.interrupt(PIPELINE_GONE, launcher)
            return

    watcher = threading.Thread(target=watch, name="pipeline-watch", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()

