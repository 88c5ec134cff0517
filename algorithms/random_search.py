"""Random search: independent draws from each parameter's distribution, never a repeat."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions
from kfp_tune.algorithms.space_tools import BuiltinAlgorithm, Used, random_point_left
from kfp_tune.algorithms.unit_cube import decode_value, normal_prior
from kfp_tune.core.space import Parameter, SearchSpace, Value

MAX_DRAWS_PER_SUGGESTION = 200


def sample_value(parameter: Parameter, rng: np.random.Generator) -> Value:
    """One draw from a parameter's distribution (Katib's uniform, logUniform, normal, logNormal).

    normal and logNormal follow :func:`.unit_cube.normal_prior` (Katib's: centred on the middle
    of [min, max], a standard deviation of a sixth of max - min, in log space for logNormal),
    truncated to the range: a uniform draw through its inverse CDF, as every unit-cube algorithm
    maps its coordinates."""
    if parameter.type in ("discrete", "categorical"):
        return parameter.choices[int(rng.integers(len(parameter.choices)))]
    assert parameter.low is not None and parameter.high is not None
    if parameter.distribution == "uniform" and (parameter.step or parameter.type == "int"):
        count = parameter.count()
        assert count is not None
        return parameter.value_at(int(rng.integers(count)))
    if normal_prior(parameter) is not None:
        return decode_value(parameter, float(rng.random()))
    low, high = parameter.low, parameter.high
    if parameter.type == "int":  # widen so the end points are as likely as the others
        low, high = low - 0.5 + 1e-9, high + 0.5 - 1e-9
    if parameter.is_log:
        low, high = math.log(max(low, 1e-300)), math.log(high)
    x = float(rng.uniform(low, high))
    if parameter.is_log:
        x = math.exp(x)
    return parameter.snap(x)


def sample_assignment(space: SearchSpace, rng: np.random.Generator) -> dict[str, Value]:
    return {p.name: sample_value(p, rng) for p in space}


def new_random_point(space: SearchSpace, used: Used, rng: np.random.Generator) -> dict[str, Value]:
    """A random point not in ``used`` (and now in it): the fallback of every algorithm whose own
    candidates are all taken. Drawn from the distributions; when ``MAX_DRAWS_PER_SUGGESTION``
    draws all miss (the points left are few or unlikely), one of the points left of a finite
    space, drawn from a list of them. :class:`.BuiltinAlgorithm` hands over a finite space's last
    points itself (marked exhausted), so a finite space always has one left here; only a space too
    big to list can give a repeat, which the designer refuses."""
    for _ in range(MAX_DRAWS_PER_SUGGESTION):
        candidate = sample_assignment(space, rng)
        if space.key(candidate) not in used:
            break
    else:
        left = random_point_left(space, used, rng)
        candidate = candidate if left is None else left
    used.add(space.key(candidate))
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
