"""Grid search: every point of the grid once, each drawn at random among those left, then a
clean end."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions, marked_repeats
from kfp_tune.algorithms.space_tools import used_keys
from kfp_tune.core.space import Parameter, SearchSpace, Value

Position = tuple[int, ...]
"""A grid point as the index of its value in each parameter's grid, in spec.parameters order."""


class GridSearch:
    """Each suggestion is a point of the grid drawn at random (with the round's seeded ``rng``)
    among those no trial has run or is running, as Katib's grid does: its Optuna service's
    ``GridSampler`` (pkg/suggestion/v1beta1/optuna/base_service.py, ``_create_sampler``; the
    sampler's ``_get_unvisited_grid_ids``), seeded by ``random_state``. So a ``maxTrialCount``
    smaller than the grid samples the whole grid, not its first rows. The points left are
    worked out from the history each call, so a resumed run goes on where it stopped.

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
        counts = grid_counts(space)
        # a point given back is not in used_keys: it is drawn again
        taken = {p for p in (position_of(space, key) for key in used_keys(space, history, pending)) if p is not None}
        left = math.prod(counts) - len(taken)
        out: list[dict[str, Value]] = []
        for _ in range(min(n, left)):
            position = draw_free(counts, taken, rng)
            taken.add(position)
            out.append({p.name: p.value_at(i) for p, i in zip(space, position, strict=True)})
        return marked_repeats(Suggestions(out, exhausted=left <= n), history, space.key)


def grid_counts(space: SearchSpace) -> list[int]:
    """How many values each parameter has on the grid; ValueError when one has no finite count."""
    counts = [p.count() for p in space]
    if None in counts:
        raise ValueError("grid needs a step for every double parameter")
    return [c or 0 for c in counts]


def position_of(space: SearchSpace, key: tuple[Value, ...]) -> Position | None:
    """The grid position of a point's key (``SearchSpace.key``); None when it is not a grid point."""
    position = []
    for parameter, value in zip(space, key, strict=True):
        index = value_index(parameter, value)
        if index is None:
            return None
        position.append(index)
    return tuple(position)


def value_index(parameter: Parameter, value: Value) -> int | None:
    """The index of a canonical value in the parameter's grid, when it is exactly a grid value."""
    if parameter.type in ("discrete", "categorical"):
        return parameter.choices.index(str(value)) if str(value) in parameter.choices else None
    if parameter.low is None or isinstance(value, str):
        return None
    index = round((float(value) - parameter.low) / (parameter.step or 1.0))
    count = parameter.count() or 0
    if not 0 <= index < count or parameter.canonical(parameter.value_at(index)) != value:
        return None
    return index


def draw_free(counts: list[int], taken: set[Position], rng: np.random.Generator) -> Position:
    """A position not in ``taken``, uniformly among the free ones (at least one is free).

    While at most half the grid is taken, a uniform draw over the whole grid, redrawn when taken
    (the grid may be far too big to list); after that the grid is at most twice the trials run,
    and the free positions are listed and one chosen."""
    if 2 * len(taken) <= math.prod(counts):
        while True:
            position = tuple(int(rng.integers(c)) for c in counts)
            if position not in taken:
                return position
    free = [p for p in itertools.product(*(range(c) for c in counts)) if p not in taken]
    return free[int(rng.integers(len(free)))]
