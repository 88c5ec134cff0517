"""Running a whole experiment in this process: the inline runner (``kfp-tune run --engine inline``,
``kfp_tune.tune``).

It claims the experiment, then keeps ``parallelTrialCount`` slots busy with threads
(:func:`kfp_tune.steps.slots.run_slots`), the same schedule and steps as the pipeline's
launch-trial in slots mode; ``kfp-tune run --engine kfp-local`` runs the compiled pipeline
instead (:mod:`kfp_tune.pipelines.local_run`). Both write the same records.

A budget edited while the run drives the experiment (``Client.edit_experiment_budget``) is
followed as Katib's experiment controller follows the Experiment it reconciles: the stored spec's
``maxTrialCount``, ``maxFailedTrialCount`` and ``parallelTrialCount`` are read again as each trial
ends, before the stop rules decide whether the next one starts: a raised ``parallelTrialCount``
starts more slots then, a lowered one stops slots as their trials end (Katib deletes the newest
running trials instead) and starts none until fewer run.
"""

from __future__ import annotations

from collections.abc import Callable

from kfp_tune.core import claims
from kfp_tune.core.decision import Decision, decide, interrupted
from kfp_tune.core.errors import RunInterrupted, SpecError, StoreError
from kfp_tune.core.interfaces import Launcher, Store
from kfp_tune.core.records import DamagedRecord, ExperimentRecords, R, TrialResult, utc_now
from kfp_tune.core.spec import EDITABLE_FIELDS, Experiment, ExperimentSpec, parse_experiment
from kfp_tune.core.state import ExperimentView, TrialState, read_experiment_record
from kfp_tune.steps.decide_stop import write_status
from kfp_tune.steps.prepare import prepare
from kfp_tune.steps.schedule import new_run_id
from kfp_tune.steps.slots import Checkpoint, handling_stop_signals, run_slots

MAX_LOCAL_SLOTS = 256
"""Trials at a time in this process (a thread each with ``tune``, a process each with
``kfp-tune run``): beyond this a machine runs out of threads or processes, not trials. ``run``
and ``tune()`` refuse more before anything runs; an edit of parallelTrialCount beyond it while
the run drives the experiment is followed up to it, with a warning."""


def run_inline(
    store: Store,
    experiment: Experiment,
    launcher: Launcher,
    run_id: str | None = None,
    take_over: bool = False,
    checkpoint: Checkpoint | None = None,
    on_trial_end: Callable[[TrialState, Decision], None] | None = None,
) -> Decision:
    """Run the experiment in this process until it ends (or ``checkpoint`` is due: the run then
    stops with the experiment Running, and the next run resumes it).

    The run claims the experiment (one run at a time, :mod:`kfp_tune.core.claims`) and releases
    it however it ends: an error, or SIGINT / SIGTERM / SIGHUP, which stop the running trials, record them
    Killed (their budget given back) and raise :class:`~kfp_tune.core.errors.RunInterrupted` (a
    KeyboardInterrupt). A run killed outright leaves a claim that the next run on this machine
    sees is dead."""
    records = ExperimentRecords(store, experiment.name)
    run_id = run_id or new_run_id()
    reason = "error"
    view = BudgetFollowingView(records)
    stopped: RunInterrupted | None = None
    with handling_stop_signals(_raise_interrupted):  # before and after the slots, which stop their trials first
        try:
            prepare(records, experiment, run_id, take_over)
            decision = _run_following_budget(view, launcher, run_id, checkpoint, on_trial_end)
            reason = decision.reason
        except RunInterrupted as exc:
            reason, stopped = claims.INTERRUPTED, exc
            _say_interrupted(records, run_id, exc)
            raise
        finally:
            try:
                claims.release(records, run_id, reason)
            except StoreError as exc:  # the store is down: an interrupted run stops all the same, saying so
                if stopped is None:
                    raise
                stopped.unrecorded = stopped.unrecorded or f"the store could not record the claim's release ({exc})"
    if view.follow_stored_budget():  # edited after the last look, before the release: its status says so
        decision = decide(view.state, rounds_left=0)
        write_status(records, view.state, decision, utc_now())
    return decision


def _run_following_budget(
    view: BudgetFollowingView, launcher: Launcher, run_id: str, checkpoint: Checkpoint | None, on_trial_end: Callable[[TrialState, Decision], None] | None,
) -> Decision:
    """The slots, run again while a budget edited after the last trial ended gives the
    experiment more trials; the status is then the stop rules' verdict under that budget,
    never one decided under the old one."""
    adopt = True
    while True:
        result = run_slots(view, launcher, run_id, checkpoint=checkpoint, adopt=adopt, on_trial_end=on_trial_end, max_slots=MAX_LOCAL_SLOTS)
        adopt = False
        if result.checkpoint_due or not view.follow_stored_budget():
            return result.decision
        decision = decide(view.state, rounds_left=1)
        if decision.finished:
            return write_status(view.records, view.state, decision, utc_now())


BUDGET_ATTRIBUTES = tuple(name for name, info in ExperimentSpec.model_fields.items() if info.alias in EDITABLE_FIELDS)
"""The spec's budgets (``core.spec.EDITABLE_FIELDS``) by their attribute names."""


class BudgetFollowingView(ExperimentView):
    """The run's view of the experiment, following the budget stored in the experiment record:
    Katib's controller reads ``maxTrialCount`` and ``parallelTrialCount`` from the Experiment on
    every reconcile (``pkg/controller.v1beta1/experiment/experiment_controller.go``,
    ``ReconcileTrials``), so a budget raised while the experiment runs is used at once. A
    trial's result is where the stop rules are applied next, so the stored budget is read then:
    one small read per trial."""

    def __init__(self, records: ExperimentRecords):
        super().__init__(records)
        self._seen: dict[str, object] | None = None

    def record_trial(self, trial_name: str, typed: R) -> R:
        stored = super().record_trial(trial_name, typed)
        if isinstance(typed, TrialResult):
            self.follow_stored_budget()
        return stored

    def follow_stored_budget(self) -> bool:
        """Take the budget of the stored spec when it differs from the one the run follows
        (an edit since); True if it changed."""
        key = self.records.experiment_key()
        head = read_experiment_record(self.records)
        document = head.get("spec") if head is not None else None
        if not isinstance(document, dict):
            return False  # gone or damaged: the run's next step says so
        raw = {name: (document.get("spec") or {}).get(name) for name in EDITABLE_FIELDS}
        if raw == self._seen:
            return False
        try:
            stored = parse_experiment(document).spec
        except SpecError as exc:
            raise DamagedRecord(key, f"its spec cannot be read ({exc})") from None
        budget = {name: getattr(stored, name) for name in BUDGET_ATTRIBUTES}
        with self.lock:
            self._seen = raw
            state = self.state
            spec = state.experiment.spec
            if all(getattr(spec, name) == value for name, value in budget.items()):
                return False
            state.experiment = state.experiment.model_copy(update={"spec": spec.model_copy(update=budget)})
        return True


def _say_interrupted(records: ExperimentRecords, run_id: str, exc: RunInterrupted) -> None:
    """The status of a run interrupted outside its slots (while it prepared): it says so. Best
    effort: the experiment may not exist yet, and the interrupt is what the caller must see."""
    if exc.unrecorded:
        return  # the store is down: the slots tried, and the error says what is left undone
    try:
        current = claims.latest_claim(records, own_run=run_id)
        if current is None or current.run != run_id or current.ended:
            return  # not claimed yet, or the slots have ended the run and said so
        state = ExperimentView(records).state
        write_status(records, state, interrupted(state, exc.signal_name, exc.killed), utc_now())
    except StoreError:
        pass


def _raise_interrupted(signal_name: str) -> None:
    """SIGINT, SIGTERM and SIGHUP raise RunInterrupted (SIGTERM and SIGHUP would otherwise end the process with no
    cleanup), so the claim is released whenever the run is stopped."""
    raise RunInterrupted(signal_name)
