"""Which Katib algorithm names this version implements, and how to build one."""

from __future__ import annotations

from typing import Any, Callable

from kfp_tune.algorithms.base import Algorithm
from kfp_tune.algorithms.catalogue import ALGORITHMS
from kfp_tune.core.errors import NotImplementedAlgorithm

AlgorithmFactory = Callable[[dict[str, Any]], Algorithm]

_FACTORIES: dict[str, AlgorithmFactory] = {}


def register(name: str, factory: AlgorithmFactory) -> None:
    """Make ``name`` (a Katib algorithm name from the catalogue) buildable from settings."""
    if name not in ALGORITHMS:
        raise ValueError(f"{name!r} is not a Katib algorithm name; add it to the catalogue first")
    _FACTORIES[name] = factory


def implemented() -> list[str]:
    _load_builtins()
    return sorted(_FACTORIES)


def is_implemented(name: str) -> bool:
    _load_builtins()
    return name in _FACTORIES


def create(name: str, settings: dict[str, Any]) -> Algorithm:
    """An algorithm instance for parsed settings; NotImplementedAlgorithm for a Katib name we lack."""
    _load_builtins()
    factory = _FACTORIES.get(name)
    if factory is None:
        raise NotImplementedAlgorithm(
            f"algorithm {name!r} is one of Katib's, but this version of kfp-tune does not implement it yet "
            f"(implemented: {', '.join(sorted(_FACTORIES))})"
        )
    return factory(settings)


def _load_builtins() -> None:
    # Imported for their register() calls; kept lazy so the catalogue loads without numpy work.
    from kfp_tune.algorithms import bayesopt, cmaes, grid, random_search, sobol, tpe  # noqa: F401
