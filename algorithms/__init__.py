"""Suggestion algorithms and early-stopping rules, as plug-ins under Katib's names.

- :mod:`.base`: the contract (``Problem``, ``FinishedTrial``, ``Suggestions``, ``Algorithm``).
- :mod:`kfp_tune.core.catalogue`: Katib's algorithm names and settings, validated whether implemented or not.
- :mod:`.registry`: which names this version implements; ``create(name, settings)``.
- :mod:`.builtin`: the shipped algorithms, registered (imported here).
- :mod:`.early_stopping`: the early-stopping rules, a plug-in family beside the algorithms; its
  ``register`` is offered here as ``register_early_stopping``, beside the algorithms' ``register``.
- :mod:`.testing`: the contract test suites every algorithm and rule must pass (ship them, run
  them on yours).
"""

from kfp_tune.algorithms import builtin as _builtin  # noqa: F401  (registers the shipped algorithms)
from kfp_tune.algorithms.base import Algorithm, FinishedTrial, Problem, Suggestions
from kfp_tune.algorithms.early_stopping import register as register_early_stopping
from kfp_tune.algorithms.registry import create, implemented, register

__all__ = ["Algorithm", "FinishedTrial", "Problem", "Suggestions", "create", "implemented", "register", "register_early_stopping"]
