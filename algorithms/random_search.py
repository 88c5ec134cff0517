"""Random search: independent draws from each parameter's distribution, never a repeat."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions
from kfp_tune.algorithms.space_tools import BuiltinAlgorithm, Used
from kfp_tune.core.space import Parameter, SearchSpace, Value

MAX_DRAWS_PER_SUGGESTION = 200


def sample_value(parameter: Parameter, rng: np.random.Generator) -> Value:
    """One draw from a parameter's distribution (Katib's uniform, logUniform, normal, logNormal).

    normal and logNormal are centred on the middle of [min, max] (in log space for logNormal)
    with a standard deviation of a sixth of the range, truncated to the range."""
    if parameter.type in ("discrete", "categorical"):
        return parameter.choices[int(rng.integers(len(parameter.choices)))]
    assert parameter.low is not None and parameter.high is not None
    if parameter.distribution == "uniform" and (parameter.step or parameter.type == "int"):
        count = parameter.count()
        assert count is not None
        return parameter.value_at(int(rng.integers(count)))
    low, high = parameter.low, parameter.high
    if parameter.type == "int":  # widen so the end points are as likely as the others
        low, high = low - 0.5 + 1e-9, high + 0.5 - 1e-9
    if parameter.is_log:
        low, high = math.log(max(low, 1e-300)), math.log(high)
    if parameter.distribution in ("normal", "logNormal"):
        mean, sd = (low + high) / 2.0, (high - low) / 6.0
        x = mean
        for _ in range(100):
            x = float(rng.normal(mean, sd))
            if low <= x <= high:
                break
        x = min(max(x, low), high)
    else:
        x = float(rng.uniform(low, high))
    if parameter.is_log:
        x = math.exp(x)
    return parameter.snap(x)


def sample_assignment(space: SearchSpace, rng: np.random.Generator) -> dict[str, Value]:
    return {p.name: sample_value(p, rng) for p in space}


def new_random_point(space: SearchSpace, used: Used, rng: np.random.Generator) -> dict[str, Value]:
    """A random point not in ``used`` (and now in it): the fallback of every algorithm whose own
    candidates are all taken."""
    for _ in range(MAX_DRAWS_PER_SUGGESTION):
        candidate = sample_assignment(space, rng)
        key = space.key(candidate)
        if key not in used:
            break
    used.add(key)
    return candidate


class RandomSearch(BuiltinAlgorithm):
    name = "random"

    def propose(
        self,
        problem: Problem,
        history: Sequence[FinishedTrial],
        pending: Sequence[dict[str, Value]],
        n: int,
        rng: np.random.Generator,
        used: Used,
    ) -> Suggestions:
        return Suggestions([new_random_point(problem.space, used, rng) for _ in range(n)])
