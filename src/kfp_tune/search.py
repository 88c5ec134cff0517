"""Search-space helpers in the Katib SDK's style: ``search.double(0.01, 0.1)`` and friends.

Each returns Katib's ``feasibleSpace`` with its ``parameterType``; :func:`kfp_tune.tune` and
:func:`to_parameters` turn a ``{name: helper(...)}`` dict into ``spec.parameters``.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any

from kfp_tune.core.spec import FeasibleSpace, ParameterSpec


def _number(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def double(min: float, max: float, step: float | None = None, distribution: str = "uniform") -> ParameterSpec:
    """A real number in [min, max]; ``distribution`` uniform, logUniform, normal or logNormal."""
    return ParameterSpec(
        parameter_type="double",
        feasible_space=FeasibleSpace(min=_number(min), max=_number(max), step=None if step is None else _number(step), distribution=distribution),
    )


def int(min: builtins.int, max: builtins.int, step: builtins.int | None = None, distribution: str = "uniform") -> ParameterSpec:  # shadows the builtin: the Katib SDK name
    """An integer in [min, max]."""
    return ParameterSpec(
        parameter_type="int",
        feasible_space=FeasibleSpace(min=str(min), max=str(max), step=None if step is None else str(step), distribution=distribution),
    )


def categorical(values: Sequence[Any]) -> ParameterSpec:
    """One of the given values, unordered (passed to the trial as strings)."""
    return ParameterSpec(parameter_type="categorical", feasible_space=FeasibleSpace(list=[str(v) for v in values]))


def discrete(values: Sequence[float]) -> ParameterSpec:
    """One of the given numbers, ordered."""
    return ParameterSpec(parameter_type="discrete", feasible_space=FeasibleSpace(list=[_number(v) for v in values]))


def to_parameters(parameters: Mapping[str, ParameterSpec]) -> list[ParameterSpec]:
    """``spec.parameters`` from ``{name: helper(...)}``."""
    out = []
    for name, spec in parameters.items():
        if not isinstance(spec, ParameterSpec):
            raise TypeError(f"parameter {name!r}: expected kfp_tune.search.double/int/categorical/discrete(...), got {type(spec).__name__}")
        out.append(spec.model_copy(update={"name": name}, deep=True))
    return out


__all__ = ["categorical", "discrete", "double", "int", "to_parameters"]
