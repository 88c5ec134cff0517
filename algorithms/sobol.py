"""Sobol: a scrambled Sobol low-discrepancy sequence (scipy.stats.qmc), mapped to the space.

Rebuilt on every call: the sequence is a function of the seed, and the next points are the ones
after as many as the experiment already has, so no state is kept.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy.stats import qmc

from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions
from kfp_tune.algorithms.random_search import RandomSearch
from kfp_tune.algorithms.registry import register
from kfp_tune.algorithms.space_tools import last_points, used_keys
from kfp_tune.algorithms.unit_cube import decode
from kfp_tune.core.space import Value

MAX_EXTRA_DRAWS = 1000


class SobolSearch:
    name = "sobol"

    def __init__(self, settings: dict[str, Any]):
        self.settings = settings

    def suggest(
        self,
        problem: Problem,
        history: Sequence[FinishedTrial],
        pending: Sequence[dict[str, Value]],
        n: int,
        rng: np.random.Generator,
    ) -> Suggestions:
        space = problem.space
        used = used_keys(space, history, pending)
        last = last_points(space, used, n, rng)
        if last is not None:
            return last
        sequence = qmc.Sobol(d=len(space), scramble=True, seed=problem.seed)
        skip = len(history) + len(pending)
        if skip:
            sequence.fast_forward(skip)
        out: list[dict[str, Value]] = []
        draws = 0
        while len(out) < n:
            # A coarse space maps several Sobol points to one assignment: skip repeats, and
            # fall back to random draws if the sequence keeps repeating.
            if draws < n + MAX_EXTRA_DRAWS:
                candidate = decode(space, sequence.random(1)[0])
            else:
                candidate = RandomSearch(self.settings).suggest(problem, history, [*pending, *out], 1, rng).assignments[0]
            draws += 1
            key = space.key(candidate)
            if key not in used:
                used.add(key)
                out.append(candidate)
        return Suggestions(out)


register("sobol", SobolSearch)
