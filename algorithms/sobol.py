"""Sobol: a scrambled Sobol low-discrepancy sequence (scipy.stats.qmc), mapped to the space.

Rebuilt on every call: the sequence is a function of the seed, and the next points are the ones
after as many as the experiment already has, so no state is kept. The points go through
:mod:`.unit_cube`, so normal and logNormal parameters take each coordinate through their
distribution's inverse CDF: the low-discrepancy points follow the distribution.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import qmc

from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions
from kfp_tune.algorithms.random_search import new_random_point
from kfp_tune.algorithms.space_tools import BuiltinAlgorithm, Used
from kfp_tune.algorithms.unit_cube import decode
from kfp_tune.core.space import Value

MAX_EXTRA_DRAWS = 1000


class SobolSearch(BuiltinAlgorithm):
    name = "sobol"

    def propose(
        self,
        problem: Problem,
        history: Sequence[FinishedTrial],
        pending: Sequence[dict[str, Value]],
        n: int,
        rng: np.random.Generator,
        used: Used,
    ) -> Suggestions:
        space = problem.space
        sequence = qmc.Sobol(d=len(space), scramble=True, seed=problem.seed)
        skip = len(history) + len(pending)
        if skip:
            sequence.fast_forward(skip)
        out: list[dict[str, Value]] = []
        draws = 0
        while len(out) < n:
            # A coarse space maps several Sobol points to one assignment: skip repeats, and
            # fall back to random draws if the sequence keeps repeating.
            if draws >= n + MAX_EXTRA_DRAWS:
                out.append(new_random_point(space, used, rng))
                continue
            candidate = decode(space, sequence.random(1)[0])
            draws += 1
            key = space.key(candidate)
            if key not in used:
                used.add(key)
                out.append(candidate)
        return Suggestions(out)
