"""Running a whole experiment on this machine: the inline engine, rounds, and summaries.

The inline engine runs the same four steps as the pipeline, in one process, with a thread per
parallel trial. ``kfp-tune run --engine kfp-local`` runs them through the compiled pipeline
instead (:mod:`kfp_tune.pipelines.local_run`); both write the same records.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from kfp_tune.core import runs, steps
from kfp_tune.core.decision import Decision, best_trial, count_trials
from kfp_tune.core.interfaces import Launcher, Store
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import load_state

DEFAULT_MAX_ROUNDS = 10
"""Rounds compiled into one pipeline run (the compiled YAML grows about quadratically with it)."""
ALGORITHM_MAX_ROUNDS = 20
"""The most rounds an algorithm's own needs (hyperband's rungs) may raise that to."""


def plan_rounds(experiment: Experiment, max_rounds: int = DEFAULT_MAX_ROUNDS) -> int:
    """Rounds for one run: one per parallelTrialCount trials, at most ``max_rounds``; more when
    the algorithm needs them to finish (one per hyperband rung), up to ALGORITHM_MAX_ROUNDS."""
    from kfp_tune.algorithms import registry
    from kfp_tune.core.steps import problem_of

    spec = experiment.spec
    if spec.max_trial_count is None:
        rounds = max_rounds
    else:
        rounds = max(1, min(max_rounds, math.ceil(spec.max_trial_count / (spec.parallel_trial_count or 1))))
    assert spec.algorithm is not None
    needed = registry.rounds_needed(spec.algorithm.algorithm_name, problem_of(experiment).settings)
    return max(rounds, min(needed, ALGORITHM_MAX_ROUNDS))


def new_run_id() -> str:
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"run-{stamp}-{os.urandom(3).hex()}"


def round_id(run_id: str, round_index: int) -> str:
    """The store key of a round: unique per run, so a new run never replays an old round."""
    return f"{run_id}-r{round_index:03d}"


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

    The run claims the experiment (one run at a time, :mod:`kfp_tune.core.runs`) and releases
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
                if decision.phase != "Running":
                    break
    except BaseException:
        if claimed:
            runs.release(records, run_id, "error")
        raise
    assert decision is not None
    return decision


def summarize(store: Store, experiment_name: str) -> dict[str, Any]:
    """What ``kfp-tune run --json`` and ``status --json`` print: status, counts and the best trial."""
    from kfp_tune.report import load_report

    report = load_report(store, experiment_name)
    state, phase, reason, message = report.state, report.phase, report.reason, report.message
    counts = count_trials(state)
    best = best_trial(state)
    return {
        "experiment": state.name,
        "status": phase,
        "reason": reason,
        "message": message,
        "trials": counts["total"],
        "succeeded": counts["Succeeded"],
        "failed": counts["failed"],
        "running": counts["active"],
        "best_trial": None
        if best is None
        else {"name": best.name, "parameters": dict(best.assignment), "metrics": best.metrics},
        "store": store.uri,
    }


def trial_rows(store: Store, experiment_name: str) -> list[dict[str, Any]]:
    """One row per trial: name, status, parameters, metrics (after strategies), reason."""
    state = load_state(ExperimentRecords(store, experiment_name))
    return [
        {
            "name": t.name,
            "index": t.index,
            "status": t.status,
            "parameters": dict(t.assignment),
            "metrics": t.metrics,
            "reason": (t.result or {}).get("reason", ""),
            "message": (t.result or {}).get("message", ""),
        }
        for t in state.trials
    ]


class ProgressWatcher:
    """Reads the store every so often and reports finished trials; drives a progress bar while an
    engine runs (in this process, or in a kfp.local subprocess)."""

    def __init__(self, store: Store, experiment: Experiment, update: Callable[[int, dict[str, Any]], None], interval: float = 0.5):
        self.store, self.experiment, self.update, self.interval = store, experiment, update, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="progress", daemon=True)

    def __enter__(self) -> "ProgressWatcher":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.poll()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()

    def poll(self) -> None:
        records = ExperimentRecords(self.store, self.experiment.name)
        try:
            state = load_state(records)
        except Exception:  # not created yet, or mid-write on a slow store: try again next tick
            return
        done = sum(1 for t in state.trials if t.is_terminal)
        best = best_trial(state)
        self.update(done, {"best": best.metrics if best else {}})
