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
from kfp_tune.core.decision import Decision
from kfp_tune.core.interfaces import Launcher, Store
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import ExperimentView, TrialState
from kfp_tune.steps.prepare import prepare
from kfp_tune.steps.schedule import new_run_id
from kfp_tune.steps.slots import Checkpoint, run_slots


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
    it when it ends, also on an error or Ctrl-C; a run killed outright leaves a claim that the
    next run on this machine sees is dead."""
    records = ExperimentRecords(store, experiment.name)
    run_id = run_id or new_run_id()
    prepare(records, experiment, run_id, take_over)
    reason = "error"
    try:
        result = run_slots(ExperimentView(records), launcher, run_id, checkpoint=checkpoint, adopt=True, on_trial_end=on_trial_end)
        reason = result.decision.reason
        return result.decision
    finally:
        claims.release(records, run_id, reason)
