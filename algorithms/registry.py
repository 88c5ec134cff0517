"""Which Katib algorithm names this version implements, and how to build one. The shipped
algorithms register in :mod:`.builtin`, which the package imports; a plug-in registers the same way."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from kfp_tune.algorithms.base import Algorithm
from kfp_tune.core.catalogue import ALGORITHMS
from kfp_tune.core.errors import NotImplementedAlgorithm
from kfp_tune.core.space import SearchSpace

AlgorithmFactory = Callable[[dict[str, Any]], Algorithm]
SpaceAdjuster = Callable[[SearchSpace, dict[str, Any]], SearchSpace]

_FACTORIES: dict[str, AlgorithmFactory] = {}
_SPACE_ADJUSTERS: dict[str, SpaceAdjuster] = {}


def register(
    name: str,
    factory: AlgorithmFactory,
    adjust_space: SpaceAdjuster | None = None,
) -> None:
    """Make ``name`` (a Katib algorithm name from the catalogue) buildable from settings.

    ``adjust_space`` lets an algorithm own part of the space, as hyperband owns its resource
    parameter's range."""
    if name not in ALGORITHMS:
        raise ValueError(f"{name!r} is not a Katib algorithm name; add it to the catalogue first")
    _FACTORIES[name] = factory
    if adjust_space is not None:
        _SPACE_ADJUSTERS[name] = adjust_space


def imported_on_use(path: str) -> Callable[..., Any]:
    """``path`` ("package.module:name") called through a wrapper that imports its module on the
    first call. Registering a factory this way keeps its imports (scipy, cmaes: most of a KFP
    task's start-up) out of every task that never builds that algorithm."""
    module_name, _, name = path.partition(":")

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module_name), name)(*args, **kwargs)

    call.__qualname__ = call.__name__ = name
    return call


def problem_space(name: str, space: SearchSpace, settings: dict[str, Any]) -> SearchSpace:
    """The space the algorithm searches (the spec's, unless the algorithm adjusts it)."""
    adjust = _SPACE_ADJUSTERS.get(name)
    return adjust(space, settings) if adjust is not None else space


def implemented() -> list[str]:
    return sorted(_FACTORIES)


def is_implemented(name: str) -> bool:
    return name in _FACTORIES


def create(name: str, settings: dict[str, Any]) -> Algorithm:
    """An algorithm instance for parsed settings; NotImplementedAlgorithm for a Katib name we lack."""
    factory = _FACTORIES.get(name)
    if factory is None:
        raise NotImplementedAlgorithm(
            f"algorithm {name!r} is one of Katib's, but this version of kfp-tune does not implement it yet "
            f"(implemented: {', '.join(sorted(_FACTORIES))})"
        )
    return factory(settings)
