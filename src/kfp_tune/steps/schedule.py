"""How a run is cut into rounds: used by the pipeline builder (rounds compiled into the graph)
and the inline runner alike, and by suggest (how many trials a round gets)."""

from __future__ import annotations

import datetime as _dt
import math
import os

from kfp_tune.core.spec import Experiment

DEFAULT_MAX_ROUNDS = 10
"""Rounds compiled into one pipeline run (the compiled YAML grows about quadratically with it)."""
ALGORITHM_MAX_ROUNDS = 20
"""The most rounds an algorithm's own needs (hyperband's rungs) may raise that to."""


def plan_rounds(experiment: Experiment, max_rounds: int = DEFAULT_MAX_ROUNDS) -> int:
    """Rounds for one run: one per parallelTrialCount trials, at most ``max_rounds``; more when
    the algorithm needs them to finish (one per hyperband rung), up to ALGORITHM_MAX_ROUNDS."""
    from kfp_tune.algorithms import registry
    from kfp_tune.steps.designer import problem_of

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


def round_size(experiment: Experiment, trials_so_far: int, rounds_left: int) -> int:
    """How many trials a round gets: the budget left spread over the rounds left, and never
    fewer than parallelTrialCount (so the parallel slots stay busy)."""
    spec = experiment.spec
    parallel = spec.parallel_trial_count or 1
    if spec.max_trial_count is None:
        return parallel
    remaining = max(0, spec.max_trial_count - trials_so_far)
    if remaining == 0:
        return 0
    share = math.ceil(remaining / max(1, rounds_left))
    return min(remaining, max(parallel, share))
