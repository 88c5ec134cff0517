"""Running a whole experiment in this process: the inline runner (``kfp-tune run --engine inline``,
``kfp_tune.tune``).

It claims the experiment, then keeps ``parallelTrialCount`` slots busy with threads
(:func:`kfp_tune.steps.slots.run_slots`), the same schedule and steps as the pipeline's
launch-trial in slots mode; ``kfp-tune run --engine kfp-local`` runs the compiled pipeline
instead (:mod:`kfp_tune.pipelines.local_run`). Both write the same records.
"""

from __future__ import annotations

from collections.abc import Callable

from kfp_tune.core import claims
from kfp_tune.core.decision import Decision, interrupted
from kfp_tune.core.errors import RunInterrupted, StoreError
from kfp_tune.core.interfaces import Launcher, Store
from kfp_tune.core.records import ExperimentRecords, utc_now
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import ExperimentView, TrialState
from kfp_tune.steps.decide_stop import write_status
from kfp_tune.steps.prepare import prepare
from kfp_tune.steps.schedule import new_run_id
from kfp_tune.steps.slots import Checkpoint, handling_stop_signals, run_slots


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
    it however it ends: an error, or SIGINT / SIGTERM, which stop the running trials, record them
    Killed (their budget given back) and raise :class:`~kfp_tune.core.errors.RunInterrupted` (a
    KeyboardInterrupt). A run killed outright leaves a claim that the next run on this machine
    sees is dead."""
    records = ExperimentRecords(store, experiment.name)
    run_id = run_id or new_run_id()
    reason = "error"
    with handling_stop_signals(_raise_interrupted):  # before and after the slots, which stop their trials first
        try:
            prepare(records, experiment, run_id, take_over)
            result = run_slots(ExperimentView(records), launcher, run_id, checkpoint=checkpoint, adopt=True, on_trial_end=on_trial_end)
            reason = result.decision.reason
            return result.decision
        except RunInterrupted as exc:
            reason = claims.INTERRUPTED
            _say_interrupted(records, run_id, exc)
            raise
        finally:
            claims.release(records, run_id, reason)


def _say_interrupted(records: ExperimentRecords, run_id: str, exc: RunInterrupted) -> None:
    """The status of a run interrupted outside its slots (while it prepared): it says so. Best
    effort: the experiment may not exist yet, and the interrupt is what the caller must see."""
    current = claims.latest_claim(records)
    if current is None or current.run != run_id or current.ended:
        return  # not claimed yet, or the slots have ended the run and said so
    try:
        state = ExperimentView(records).state
        write_status(records, state, interrupted(state, exc.signal_name, exc.killed), utc_now())
    except StoreError:
        pass


def _raise_interrupted(signal_name: str) -> None:
    """SIGINT and SIGTERM raise RunInterrupted (SIGTERM would otherwise end the process with no
    cleanup), so the claim is released whenever the run is stopped."""
    raise RunInterrupted(signal_name)
