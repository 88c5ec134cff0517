"""Suggestion algorithms and early-stopping rules, as plug-ins under Katib's names.

- :mod:`.base`: the contract (``Problem``, ``FinishedTrial``, ``Suggestions``, ``Algorithm``).
- :mod:`kfp_tune.core.catalogue`: Katib's algorithm names and settings, validated whether implemented or not.
- :mod:`.registry`: which names this version implements; ``create(name, settings)``.
- :mod:`.builtin`: the shipped algorithms, registered (imported here).
- :mod:`.testing`: the contract test suite every algorithm must pass (ship it, run it on yours).
"""

from kfp_tune.algorithms import builtin as _builtin  # noqa: F401  (registers the shipped algorithms)
from kfp_tune.algorithms.base import Algorithm, FinishedTrial, Problem, Suggestions
from kfp_tune.algorithms.registry import create, implemented, register

__all__ = ["Algorithm", "FinishedTrial", "Problem", "Suggestions", "create", "implemented", "register"]
