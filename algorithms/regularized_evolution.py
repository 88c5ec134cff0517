"""Regularized (aging) evolution (Real et al. 2019, "Regularized Evolution for Image Classifier
Architecture Search") over the architectures of a ``spec.nasConfig``, in Katib's ENAS encoding:
trials get the same ``architecture`` and ``nn_config`` as enas's, so the same trial image runs
under either. kfp-tune's own algorithm; Katib has none like it.

The population is the ``population_size`` most recent trials that have a result, in trial order:
a new trial joins it and the oldest leaves it (aging), whatever either scored. Until
``population_size`` trials have been started, each suggestion is an architecture drawn uniformly
(the initial population). After that, each one is a child: ``sample_size`` members are drawn
from the population (with replacement, as in the paper), and the best of them is mutated once:
one layer's operation changed to another, or one skip bit flipped, each kind half the time
(whichever exists). A child already tried or running is drawn again, and after that many tries
a new uniform architecture is taken.

Rebuilt from the history on every call: the population is read off the finished trials, so a
resumed run suggests what an uninterrupted one would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions, spent
from kfp_tune.algorithms.nas_space import (
    Architecture,
    NasSpace,
    last_architectures,
    marked_architecture_repeats,
    unused_architecture,
    used_architectures,
)
from kfp_tune.core.catalogue import ALGORITHMS
from kfp_tune.core.space import Value

_SETTINGS = ALGORITHMS["regularized-evolution"].settings_by_name


def population_of(space: NasSpace, problem: Problem, history: Sequence[FinishedTrial], size: int) -> list[tuple[Architecture, float]]:
    """(architecture, loss) of the ``size`` most recent finished trials with a result, oldest
    first: the loss is the objective made a value to minimise."""
    members: list[tuple[Architecture, float]] = []
    for trial in reversed(history):
        if len(members) == size:
            break
        loss = problem.loss(trial)
        architecture = space.architecture_of(trial.assignment)
        if loss is not None and architecture is not None:
            members.append((architecture, loss))
    return members[::-1]


def mutate(space: NasSpace, parent: Architecture, rng: np.random.Generator) -> Architecture:
    """The parent with one decision changed: one layer's operation (to another one) or one skip
    bit (flipped), each kind with probability one half when both exist."""
    kinds = [kind for kind, possible in (("op", space.num_operations > 1), ("skip", space.num_skips > 0)) if possible]
    if not kinds:
        return parent
    layers = [list(layer) for layer in parent]
    if kinds[int(rng.integers(len(kinds)))] == "op":
        layer = int(rng.integers(space.num_layers))
        other = int(rng.integers(space.num_operations - 1))
        layers[layer][0] = other if other < layers[layer][0] else other + 1
    else:
        bit = int(rng.integers(space.num_skips))
        layer = 1
        while bit >= layer:  # layer i holds i skip bits, after its operation
            bit -= layer
            layer += 1
        layers[layer][1 + bit] = 1 - layers[layer][1 + bit]
    return tuple(tuple(layer) for layer in layers)


def tournament(population: Sequence[tuple[Architecture, float]], sample_size: int, rng: np.random.Generator) -> Architecture:
    """The best (lowest loss; the first drawn of equals) of ``sample_size`` members drawn with
    replacement."""
    drawn = rng.integers(len(population), size=sample_size)
    best = min(drawn, key=lambda index: population[int(index)][1])
    return population[int(best)][0]


class RegularizedEvolution:
    """kfp-tune's ``regularized-evolution``."""

    name: ClassVar[str] = "regularized-evolution"

    def __init__(self, settings: dict[str, Any]):
        self.population_size = int(settings.get("population_size") or _SETTINGS["population_size"].default)
        self.sample_size = int(settings.get("sample_size") or _SETTINGS["sample_size"].default)

    def suggest(
        self,
        problem: Problem,
        history: Sequence[FinishedTrial],
        pending: Sequence[dict[str, Value]],
        n: int,
        rng: np.random.Generator,
    ) -> Suggestions:
        if n <= 0:
            return Suggestions([])
        space = NasSpace.from_config(problem.nas_config)
        kept = spent(history)  # a trial given back is as if never suggested
        used = used_architectures(space, kept, pending)
        last = last_architectures(space, used, n, rng)
        if last is not None:
            return marked_architecture_repeats(space, last, history)
        population = population_of(space, problem, kept, self.population_size)
        started = len(kept) + len(pending)
        out = []
        for index in range(n):
            if started + index < self.population_size or not population:
                architecture = unused_architecture(space, used, rng)
            else:
                architecture = unused_architecture(space, used, rng, lambda: mutate(space, tournament(population, self.sample_size, rng), rng))
            out.append(space.assignment(architecture))
        return marked_architecture_repeats(space, Suggestions(out), history)
