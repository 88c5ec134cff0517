"""Search-space helpers in the Katib SDK's style: ``search.double(0.01, 0.1)`` and friends.

Each returns Katib's ``feasibleSpace`` with its ``parameterType``; :func:`kfp_tune.tune` and
:func:`to_parameters` turn a ``{name: helper(...)}`` dict into ``spec.parameters``.
"""

from __future__ import annotations

import builtins
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

from kfp_tune.core.spec import FeasibleSpace, ParameterSpec


def _number(value: Any) -> str:
    """A number as Katib's feasibleSpace writes it: ``0.1`` for a float (numpy's included,
    whose repr is ``np.float64(0.1)``), ``3`` for an int; a string as given (Katib's own form)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)  # a string as given; anything else validation refuses, naming the field
    if isinstance(value, numbers.Integral):
        return str(builtins.int(value))
    return repr(float(value))


def _values(helper: str, values: Any) -> builtins.list[Any]:
    """The values of a categorical or discrete parameter: a list, tuple, array or other
    iterable, never a single string (whose letters would become the values)."""
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise TypeError(f"search.{helper}: expected a list of values, got {type(values).__name__} {values!r:.60}")
    return builtins.list(values)


def double(min: float, max: float, step: float | None = None, distribution: str = "uniform") -> ParameterSpec:
    """A real number in [min, max] (numpy numbers too); ``step`` makes it a grid of min, min +
    step, ... (for grid search); ``distribution`` uniform, logUniform, normal or logNormal (for
    the normal ones, as in Katib, min and max bound the values and their middle and width set
    the mean and spread)."""
    return ParameterSpec(
        parameter_type="double",
        feasible_space=FeasibleSpace(min=_number(min), max=_number(max), step=None if step is None else _number(step), distribution=distribution),
    )


def int(min: builtins.int, max: builtins.int, step: builtins.int | None = None, distribution: str = "uniform") -> ParameterSpec:  # shadows the builtin: the Katib SDK name
    """An integer in [min, max] (numpy integers too); ``step`` keeps every step-th from min;
    ``distribution`` as for :func:`double`."""
    return ParameterSpec(
        parameter_type="int",
        feasible_space=FeasibleSpace(min=_number(min), max=_number(max), step=None if step is None else _number(step), distribution=distribution),
    )


def categorical(values: Iterable[Any] | None = None, *, list: Iterable[Any] | None = None) -> ParameterSpec:
    """One of the given values, unordered. The trial gets each as a string (``True`` becomes
    ``"True"``, as a Katib trial's command line gets it). ``list=`` is the Katib SDK's keyword."""
    if (values is None) == (list is None):
        raise TypeError("search.categorical: give the values once: categorical(['a', 'b']) or, as Katib's SDK, categorical(list=['a', 'b'])")
    return ParameterSpec(parameter_type="categorical", feasible_space=FeasibleSpace(list=[str(v) for v in _values("categorical", values if list is None else list)]))


def discrete(values: Iterable[float]) -> ParameterSpec:
    """One of the given numbers, ordered (the trial gets the number)."""
    return ParameterSpec(parameter_type="discrete", feasible_space=FeasibleSpace(list=[_number(v) for v in _values("discrete", values)]))


def to_parameters(parameters: Mapping[str, ParameterSpec]) -> list[ParameterSpec]:
    """``spec.parameters`` from ``{name: helper(...)}``."""
    out = []
    for name, spec in parameters.items():
        if not isinstance(spec, ParameterSpec):
            raise TypeError(f"parameter {name!r}: expected kfp_tune.search.double/int/categorical/discrete(...), got {type(spec).__name__}")
        out.append(spec.model_copy(update={"name": name}, deep=True))
    return out


__all__ = ["categorical", "discrete", "double", "int", "to_parameters"]
