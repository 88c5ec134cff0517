"""Sobol: a scrambled Sobol low-discrepancy sequence (scipy.stats.qmc), mapped to the space.

Rebuilt on every call: the sequence is a function of the seed, and the next points are the ones
after the places the experiment's trials already hold, so no state is kept. The points go
through :mod:`.unit_cube`, so normal and logNormal parameters take each coordinate through their
distribution's inverse CDF: the low-discrepancy points follow the distribution.

A trial given back (its run interrupted) keeps its place in the sequence: its point is offered
again before the sequence goes on, so a resumed run tries the points an uninterrupted one would.
Katib's sobol (goptuna's ``sobol.Sampler``, behind ``pkg/suggestion/v1beta1/goptuna/service.go``)
draws the next point of an engine held in the service's memory on each request: a Killed trial's
point is never drawn again there, and a restarted service starts its engine from the first point.
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
    given_back: tuple[dict[str, Value], ...] = ()
    """The points of the trials given back in this call's history (:meth:`propose` sees only the
    trials that used budget)."""

    def suggest(
        self,
        problem: Problem,
        history: Sequence[FinishedTrial],
        pending: Sequence[dict[str, Value]],
        n: int,
        rng: np.random.Generator,
    ) -> Suggestions:
        self.given_back = tuple(t.assignment for t in history if t.given_back)
        return super().suggest(problem, history, pending, n, rng)

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
        # Places given back and not yet taken again: each holds a point no trial tries or runs now.
        vacant = {space.key(a): a for a in self.given_back if space.key(a) not in used and space.contains(a)}
        out: list[dict[str, Value]] = []
        for key, assignment in list(vacant.items())[:n]:
            used.add(key)
            out.append(dict(assignment))
        sequence = qmc.Sobol(d=len(space), scramble=True, seed=problem.seed)
        skip = len(history) + len(pending) + len(vacant)
        if skip:
            sequence.fast_forward(skip)
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
