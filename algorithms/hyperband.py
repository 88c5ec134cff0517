"""Hyperband (Li et al., 2018): brackets of successive halving over a resource parameter.

Settings, as Katib's: ``resource_name`` (the parameter that carries the budget, e.g. epochs),
``r_l`` (the largest resource a trial gets) and ``eta`` (the halving rate). The arithmetic is
Katib's service's (``pkg/suggestion/v1beta1/hyperband/service.py``: ``HyperBandParam.convert``,
``_new_hbParameters``, ``_make_master_bracket``, ``_make_child_bracket``), float rounding
included: ``s_max = int(log(r_l) / log(eta))`` (r_l 1000, eta 10 gives 2); bracket s (from s_max
down to 0) starts ``n = ceil((s_max + 1) * (eta**s / (s + 1)))`` random configurations at the
resource ``r = int(r_l * eta**-s)``; rung i + 1 takes the best ``ceil(ceil(n * eta**-i) / eta)``
of rung i (r_l 9, eta 3: 2 of the middle bracket's 5) at the resource ``int(r * eta**(i + 1))``.
Resources are whole numbers, a double resource parameter's too, printed as Katib prints them
("3"). One difference: where float rounding leaves a resource a hair below a whole number (r_l
49, eta 7: 0.9999999999999999) it counts as that number, where Katib's truncation gives 0.

Katib's service also replaces ``n`` with the number of trials its controller asks for in that
call (the free slots), for a bracket's new configurations and in the promotion count, and its
controller refuses an answer of another length; so there the brackets follow the batching.
kfp-tune uses each bracket's own ``n``, the one Katib computes before it is replaced.

Rebuilt from the history on every call: the schedule is a fixed sequence of rungs, and the
trials, in the order they were suggested, are placed in them, so the state (which bracket, which
rung, who was promoted) is replayed, never stored. A promotion rung's members are the trials of
its promoted points, found by point; a first rung's, the first trials no rung has taken. So a
trial given back (its run interrupted) while trials suggested after it finished leaves its own
place empty, and that place's point is suggested again. A bracket's new configurations are drawn as ``random`` draws them, so
each parameter's distribution applies (normal and logNormal included); the resource parameter
is set by the schedule and its distribution ignored. Katib's hyperband draws every parameter
uniformly between its bounds, whatever its distribution. Each is a configuration no trial has at
that resource while one is left; after that one is repeated (marked ``repeats``), as Katib, whose
draws are with replacement, runs a space smaller than its brackets. A rung waits for the one before it: when the next slots need results
that are not in yet, fewer suggestions come back with ``waiting=True``, and a free slot waits
for a running trial to end. After the last bracket the algorithm says the space is exhausted, and the experiment ends.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions, marked_repeats, spent
from kfp_tune.algorithms.random_search import sample_value
from kfp_tune.algorithms.space_tools import random_point_left
from kfp_tune.core.catalogue import HYPERBAND_DEFAULT_ETA, hyperband_bracket_resources, hyperband_rung_sizes
from kfp_tune.core.space import Parameter, SearchSpace, Value

MAX_DRAWS = 200

Slot = tuple[dict[str, Value], float | None, bool]
"""A trial as hyperband places it: its assignment, its loss (None while pending or when it
failed), and whether it has finished."""


@dataclass(frozen=True)
class Rung:
    bracket: int
    level: int
    size: int
    resource: int


def schedule(r_l: float, eta: float) -> list[list[Rung]]:
    """The brackets, each a list of rungs at their nominal sizes (promotions can shrink later
    rungs when trials fail), with Katib's sizes and resources (see the module docstring)."""
    if not r_l >= 1:
        raise ValueError(f"hyperband needs r_l of at least 1 (its largest resource), got {r_l}")
    return [
        [Rung(len(resources) - 1, i, size, resource) for i, (size, resource) in enumerate(zip(sizes, resources, strict=True))]
        for resources, sizes in zip(hyperband_bracket_resources(r_l, eta), hyperband_rung_sizes(r_l, eta), strict=True)  # brackets s_max down to 0
    ]


def resource_parameter(parameter: Parameter, r_l: float, eta: float) -> Parameter:
    """The resource parameter with the range hyperband gives it (its feasibleSpace is ignored,
    as in Katib): from the smallest rung's resource to r_l, whole numbers (a double's printed
    without decimals, as Katib prints them). A discrete or categorical one becomes an int: Katib's
    service sets it to ``str(r)`` whatever its type, so its list does not bound it either."""
    smallest = min(r.resource for b in schedule(r_l, eta) for r in b)
    if parameter.type in ("discrete", "categorical"):
        return Parameter(parameter.name, "int", low=float(smallest), high=float(math.ceil(r_l)))
    if parameter.type == "int":
        return replace(parameter, low=float(smallest), high=float(math.ceil(r_l)), step=None, distribution="uniform")
    return replace(parameter, low=float(smallest), high=r_l, step=None, distribution="uniform", decimals=0)


def largest_resource(r_l: float | None, resource: Parameter) -> float:
    """``r_l``, or when the spec leaves it out the resource parameter's ``max``. Katib has no
    such default: its service refuses a spec without r_l (``hyperband/service.py``,
    ``ValidateAlgorithmSettings``), so ``validate`` notes it (``core.portability``)."""
    return r_l if r_l is not None else float(resource.high or 1.0)


class Hyperband:
    name = "hyperband"

    def __init__(self, settings: dict[str, Any]):
        self.resource_name = settings["resource_name"]
        self.eta = float(settings.get("eta") or HYPERBAND_DEFAULT_ETA)  # an eta <= 0 is Katib's default too (catalogue._eta_setting)
        self.r_l = float(settings["r_l"]) if settings.get("r_l") is not None else None

    def suggest(
        self,
        problem: Problem,
        history: Sequence[FinishedTrial],
        pending: Sequence[dict[str, Value]],
        n: int,
        rng: np.random.Generator,
    ) -> Suggestions:
        space = problem.space
        resource = space[self.resource_name]
        r_l = largest_resource(self.r_l, resource)
        # Every trial in the order it was suggested: finished ones (with a score, None if it
        # failed), then pending. A trial given back (its run interrupted) is not among them: its
        # place is filled again, and trials suggested after it may have finished meanwhile.
        slots: list[Slot] = [(t.assignment, problem.loss(t), True) for t in spent(history)] + [(a, None, False) for a in pending]
        keys = [space.key(a) for a, _, _ in slots]
        claimed = [False] * len(slots)
        used = set(keys)
        out: list[dict[str, Value]] = []
        repeats = False
        for rungs in schedule(r_l, self.eta):
            previous: list[Slot] = []
            for rung in rungs:
                if rung.level == 0:  # any configuration fills a place: the first trials no rung has taken
                    members = _claim_first(slots, claimed, rung.size)
                    wanted: list[dict[str, Value] | None] = [None] * (rung.size - len(members))
                else:
                    if any(not done for _, _, done in previous):
                        return marked_repeats(Suggestions(out, waiting=True, repeats=repeats), history, space.key)  # the rung below is still running
                    ranked = sorted((p for p in previous if p[1] is not None), key=lambda p: p[1])  # type: ignore[arg-type, return-value]
                    promoted = [{**a, self.resource_name: self._resource_value(resource, rung)} for a, _, _ in ranked[: rung.size]]
                    members, wanted = _claim_matching(slots, keys, claimed, promoted, space.key)  # each promoted point's own trial
                for point in wanted:
                    if len(out) == n:
                        return marked_repeats(Suggestions(out, repeats=repeats), history, space.key)
                    assignment = self._new_configuration(space, rung, rng, used) if point is None else point
                    repeats = repeats or space.key(assignment) in used  # a small space's configuration drawn again, or promoted twice
                    used.add(space.key(assignment))
                    out.append(assignment)
                    members.append((assignment, None, False))
                previous = members
        return marked_repeats(Suggestions(out, exhausted=True, repeats=repeats), history, space.key)

    def _resource_value(self, resource: Parameter, rung: Rung) -> Value:
        return rung.resource if resource.type == "int" else float(rung.resource)

    def _new_configuration(self, space: SearchSpace, rung: Rung, rng: np.random.Generator, used: set) -> dict[str, Value]:
        """A configuration no trial has at this resource: drawn, else (``MAX_DRAWS`` draws found
        none) one of those left when the other parameters are few enough to list, else, none
        left, the last draw again, a repeat: Katib's service draws with replacement and runs an
        experiment whose other parameters have fewer values than a bracket needs, and so does
        kfp-tune (``validate`` notes it)."""
        resource = space[self.resource_name]
        value = self._resource_value(resource, rung)
        for _ in range(MAX_DRAWS):
            assignment = {p.name: value if p.name == self.resource_name else sample_value(p, rng) for p in space}
            if space.key(assignment) not in used:
                return assignment
        left = random_point_left(space, used, rng, fixed={self.resource_name: value})
        return assignment if left is None else left


def _claim_first(slots: list[Slot], claimed: list[bool], size: int) -> list[Slot]:
    """The first ``size`` trials no rung has taken yet, in the order they were suggested, now taken."""
    members: list[Slot] = []
    for index, slot in enumerate(slots):
        if len(members) == size:
            break
        if not claimed[index]:
            claimed[index] = True
            members.append(slot)
    return members


def _claim_matching(
    slots: list[Slot], keys: list[tuple[Value, ...]], claimed: list[bool], promoted: list[dict[str, Value]], key: Callable[[dict[str, Value]], tuple[Value, ...]]
) -> tuple[list[Slot], list[dict[str, Value] | None]]:
    """The trials that ran (or run) the promoted points, each the first one not yet taken with
    that point, now taken; and the promoted points no trial has, to suggest. Matched by point,
    not by place: a promoted trial given back leaves a hole that later trials of its rung, or the
    next bracket's, have moved into, so the places no longer say which point is missing."""
    members: list[Slot] = []
    missing: list[dict[str, Value] | None] = []
    for point in promoted:
        wanted = key(point)
        index = next((i for i, k in enumerate(keys) if k == wanted and not claimed[i]), None)
        if index is None:
            missing.append(point)
        else:
            claimed[index] = True
            members.append(slots[index])
    return members, missing


def adjust_space(space: SearchSpace, settings: dict[str, Any]) -> SearchSpace:
    """The spec's space with the resource parameter's range set by r_l and eta."""
    name = settings["resource_name"]
    eta = float(settings.get("eta") or HYPERBAND_DEFAULT_ETA)
    r_l = largest_resource(float(settings["r_l"]) if settings.get("r_l") is not None else None, space[name])
    return SearchSpace(tuple(resource_parameter(p, r_l, eta) if p.name == name else p for p in space))
