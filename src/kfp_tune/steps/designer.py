"""The adapter between an experiment's history and an algorithm (OSS Vizier's designer idea):
the algorithm is rebuilt from every finished trial on each call, with the running ones as
pending, and what it returns is checked against its contract before anything is stored."""

from __future__ import annotations

from typing import Any

import numpy as np

from kfp_tune.algorithms import registry
from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions
from kfp_tune.core.catalogue import ALGORITHMS, parse_settings
from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.space import SearchSpace, search_space_of
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import ExperimentState
from kfp_tune.core.vocabulary import ObjectiveType, TrialStatus


def problem_of(experiment: Experiment, uid: str = "") -> Problem:
    spec = experiment.spec
    assert spec.objective is not None and spec.algorithm is not None
    entry = ALGORITHMS[spec.algorithm.algorithm_name]
    settings, _ = parse_settings(entry, [(s.name, s.value) for s in spec.algorithm.algorithm_settings], "")
    return Problem(
        space=registry.problem_space(spec.algorithm.algorithm_name, search_space_of(spec.parameters), settings),
        objective_type=ObjectiveType(spec.objective.type),
        objective_metric=spec.objective.objective_metric_name,
        settings=settings,
        max_trial_count=spec.max_trial_count,
        seed=experiment_seed(settings, uid),
    )


def experiment_seed(settings: dict[str, Any], uid: str) -> int:
    """``random_state`` when given, else a number derived from the experiment's uid."""
    seed = settings.get("random_state")
    return int(seed) if seed is not None else int(uid or "0", 36) % (2**31)


def history_of(state: ExperimentState, space: SearchSpace) -> tuple[list[FinishedTrial], list[dict[str, Any]]]:
    """(finished trials, assignments still pending) in the algorithms' terms. A finished trial
    is converted once and kept in the state's memo, so this stays cheap as the history grows."""
    converted: dict[str, FinishedTrial] = state.memo.setdefault("history", {})  # one space per experiment (its hash is checked on resume)
    finished: list[FinishedTrial] = []
    pending: list[dict[str, Any]] = []
    for trial in state.trials:
        if trial.is_terminal:
            done = converted.get(trial.name)
            if done is None:
                objective = state.objective_value(trial) if trial.status in (TrialStatus.SUCCEEDED, TrialStatus.EARLY_STOPPED) else None
                done = converted[trial.name] = FinishedTrial(trial.name, space.parse(trial.assignment), trial.status, objective, trial.metrics)
            finished.append(done)
        else:
            pending.append(space.parse(trial.assignment))
    return finished, pending


def next_suggestions(state: ExperimentState, problem: Problem, n: int, call_seq: int) -> Suggestions:
    """``n`` new assignments for the experiment (fewer only when the algorithm says why), made
    from every finished trial with the unfinished ones pending, and checked. ``call_seq`` numbers
    the calls, so each gets its own random stream and a rerun gets the same one."""
    history, pending = history_of(state, problem.space)
    algorithm = registry.create(state.experiment.spec.algorithm.algorithm_name, problem.settings)  # type: ignore[union-attr]
    rng = np.random.default_rng([problem.seed, call_seq])
    result = algorithm.suggest(problem, history, pending, n, rng)
    named: dict[str, Any] = state.memo.setdefault("keys", {})  # trial name -> its point, computed once
    seen: set[Any] = state.memo.setdefault("key_set", set())
    for trial in state.trials if len(named) < len(state.trials) else ():
        if trial.name not in named:
            named[trial.name] = key = problem.space.key(problem.space.parse(trial.assignment))
            seen.add(key)
    check_suggestions(problem, result.assignments, result.exhausted or result.waiting, n, seen)
    return result


def check_suggestions(problem: Problem, out: list[dict[str, Any]], explained: bool, n: int, seen: set[Any]) -> None:
    """Hold every algorithm to its contract, so a plug-in bug cannot corrupt the experiment:
    at most ``n``, fewer only when explained, feasible, and none of the points already ``seen``
    (every trial's, finished or pending) nor twice."""
    space = problem.space
    if len(out) > n or (len(out) < n and not explained):
        raise KfpTuneError(f"algorithm returned {len(out)} suggestions for {n} asked and said neither exhausted nor waiting")
    seen = set(seen)
    for assignment in out:
        if not space.contains(assignment):
            raise KfpTuneError(f"algorithm suggested an infeasible point {assignment!r}")
        key = space.key(assignment)
        if key in seen:
            raise KfpTuneError(f"algorithm suggested a point twice: {dict(zip(space.names, key, strict=True))}")
        seen.add(key)
