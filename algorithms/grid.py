"""Grid search: every point of the grid once, in a fixed order, then a clean end."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions, marked_repeats
from kfp_tune.algorithms.space_tools import grid_points, used_keys
from kfp_tune.core.space import Value


class GridSearch:
    """Points in lexicographic order of spec.parameters (the last parameter varies fastest).

    Doubles need ``feasibleSpace.step``; ints step by 1 unless given one. The grid enumerates
    the feasible set, so a parameter's ``distribution`` does not apply (normal and logNormal give
    the same points as uniform, logUniform too): Katib's grid does the same
    (``HyperParameterSearchSpace.convert_to_combinations`` ignores the distribution)."""

    name = "grid"

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
        used = used_keys(space, history, pending)  # a point given back is tried again
        out: list[dict[str, Value]] = []
        exhausted = True
        for assignment in grid_points(space):
            if space.key(assignment) in used:
                continue
            if len(out) == n:
                exhausted = False  # another point is left
                break
            out.append(assignment)
        return marked_repeats(Suggestions(out, exhausted=exhausted), history, space.key)
