"""Running a whole experiment in this process: the inline runner (``kfp-tune run --engine inline``,
``kfp_tune.tune``).

It runs the same four steps as the pipeline, in one process, with a thread per
parallel trial. ``kfp-tune run --engine kfp-local`` runs them through the compiled pipeline
instead (:mod:`kfp_tune.pipelines.local_run`); both write the same records.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from kfp_tune import steps
from kfp_tune.core import claims
from kfp_tune.core.decision import Decision
from kfp_tune.core.interfaces import Launcher, Store
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.vocabulary import ExperimentPhase
from kfp_tune.steps.schedule import new_run_id, plan_rounds, round_id


def run_inline(
    store: Store,
    experiment: Experiment,
    launcher: Launcher,
    rounds: int | None = None,
    run_id: str | None = None,
    on_round: Callable[[Decision], None] | None = None,
    take_over: bool = False,
) -> Decision:
    """Run the experiment's rounds in this process until it ends or the rounds run out.

    The run claims the experiment (one run at a time, :mod:`kfp_tune.core.claims`) and releases
    it when it ends, also on an error; a run killed outright leaves a claim that lapses."""
    records = ExperimentRecords(store, experiment.name)
    total = rounds or plan_rounds(experiment)
    run_id = run_id or new_run_id()
    parallel = experiment.spec.parallel_trial_count or 1

    def run_trial(name: str) -> None:
        steps.launch_trial(records, launcher, name, run_id=run_id)
        steps.collect_metrics(records, name, run_id=run_id)

    decision: Decision | None = None
    claimed = False
    try:
        with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="trial") as pool:
            for index in range(total):
                rid = round_id(run_id, index)
                names = steps.suggest(records, rid, total - index, experiment if index == 0 else None, run_id=run_id, take_over=take_over)
                claimed = True
                list(pool.map(run_trial, names))  # re-raises the first error
                decision = steps.decide_stop(records, rid, total - index - 1, run_id=run_id)
                if on_round is not None:
                    on_round(decision)
                if decision.phase != ExperimentPhase.RUNNING:
                    break
    except BaseException:
        if claimed:
            claims.release(records, run_id, "error")
        raise
    assert decision is not None
    return decision
