"""What the built-in algorithms share: which points are taken, how big a finite space is, and
the base class that handles both before an algorithm proposes anything."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions, marked_repeats, spent
from kfp_tune.core.space import SearchSpace, Value

ENUMERATION_LIMIT = 100_000


def used_keys(
    space: SearchSpace, history: Sequence[FinishedTrial], pending: Sequence[dict[str, Value]]
) -> set[tuple[Value, ...]]:
    """Keys (``SearchSpace.key``) of every assignment already tried or running: never suggest
    them again. A trial given back is not one (:func:`~kfp_tune.algorithms.base.spent`). Built a
    column at a time, since histories can be long."""
    assignments = [t.assignment for t in spent(history)] + list(pending)
    columns = []
    for parameter in space:
        values = [a[parameter.name] for a in assignments]
        if parameter.type == "double" and parameter.decimals is None:
            columns.append(np.asarray(values, dtype=float).tolist())
        else:
            columns.append([parameter.canonical(v) for v in values])
    return set(zip(*columns, strict=True))


def finite_size(space: SearchSpace) -> int | None:
    """Number of distinct points when every parameter is finite, else None."""
    size = 1
    for parameter in space:
        count = parameter.count()
        if count is None:
            return None
        size *= count
        if size > ENUMERATION_LIMIT:
            return None
    return size


def last_points(space: SearchSpace, used: set[tuple[Value, ...]], n: int, rng: np.random.Generator) -> Suggestions | None:
    """When a finite space has at most n points left: all of them, in random order, marked
    exhausted. None while more are left (or the space is not finite)."""
    size = finite_size(space)
    if size is None or size - len(used) > n:
        return None
    left = remaining_points(space, used)
    order = rng.permutation(len(left))
    return Suggestions([left[i] for i in order[:n]], exhausted=len(left) <= n)


def remaining_points(space: SearchSpace, used: set[tuple[Value, ...]]) -> list[dict[str, Value]]:
    """Every point not in ``used``, for a finite space of at most ENUMERATION_LIMIT points."""
    return [a for a in grid_points(space) if space.key(a) not in used]


def random_point_left(
    space: SearchSpace, used: set[tuple[Value, ...]], rng: np.random.Generator, fixed: Mapping[str, Value] | None = None
) -> dict[str, Value] | None:
    """One point not in ``used``, drawn uniformly from those left, its ``fixed`` parameters set:
    where draws from the distributions keep missing (the few points left are unlikely ones, the
    tail of a normal int), listing them is the only sure way to reach them. None when none is
    left, or the other parameters are not finite or too many to list (ENUMERATION_LIMIT)."""
    fixed = fixed or {}
    free = SearchSpace(tuple(p for p in space if p.name not in fixed))
    if finite_size(free) is None:
        return None
    left = [point for point in ({**c, **fixed} for c in grid_points(free)) if space.key(point) not in used]
    if not left:
        return None
    chosen = left[int(rng.integers(len(left)))]
    return {name: chosen[name] for name in space.names}


def grid_points(space: SearchSpace) -> Iterator[dict[str, Value]]:
    """Every grid point, lazily (a parameter may have millions of values)."""
    total = space.grid_size()
    if total is None:
        raise ValueError("grid needs a step for every double parameter")
    counts = [p.count() or 0 for p in space]
    for flat in range(total):
        assignment: dict[str, Value] = {}
        for parameter, count in zip(reversed(space.parameters), reversed(counts), strict=True):
            flat, index = divmod(flat, count)
            assignment[parameter.name] = parameter.value_at(index)
        yield {name: assignment[name] for name in space.names}


Used = set[tuple[Value, ...]]


class BuiltinAlgorithm:
    """Base of the built-in algorithms: works out the points already taken, hands over the last
    points of a finite space (marked exhausted), and leaves the rest to :meth:`propose`, which
    sees only the trials that used their budget: a trial given back is as if never suggested (its
    point is free again, and no model learns from it; a point suggested again is marked
    ``repeats``)."""

    name: ClassVar[str] = ""

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
        kept = spent(history)
        used = used_keys(problem.space, kept, pending)
        last = last_points(problem.space, used, n, rng)
        result = last if last is not None else self.propose(problem, kept, pending, n, rng, used)
        return marked_repeats(result, history, problem.space.key)

    def propose(
        self,
        problem: Problem,
        history: Sequence[FinishedTrial],
        pending: Sequence[dict[str, Value]],
        n: int,
        rng: np.random.Generator,
        used: Used,
    ) -> Suggestions:
        """n new points not in ``used`` (add each one chosen to it)."""
        raise NotImplementedError
