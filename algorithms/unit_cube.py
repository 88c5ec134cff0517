"""Mapping between a search space and the unit cube, for algorithms that work in [0, 1]^d.

Each parameter is one coordinate: doubles and ints linearly (in log space for log
distributions), discrete and categorical by equal-width bins over their list. Decoding snaps
to the step and type, so a decoded point is always feasible.
"""

from __future__ import annotations

import math

import numpy as np

from kfp_tune.core.space import Parameter, SearchSpace, Value


def _bounds(parameter: Parameter) -> tuple[float, float]:
    assert parameter.low is not None and parameter.high is not None
    low, high = parameter.low, parameter.high
    if parameter.type == "int":
        low, high = low - 0.5, high + 0.5  # every integer gets an equal share of [0, 1]
    if parameter.is_log:
        return math.log(max(low, 1e-300) if parameter.type != "int" else max(low, 0.5)), math.log(high)
    return low, high


def decode_value(parameter: Parameter, u: float) -> Value:
    u = min(max(float(u), 0.0), 1.0)
    if parameter.type in ("discrete", "categorical"):
        index = min(int(u * len(parameter.choices)), len(parameter.choices) - 1)
        return parameter.choices[index]
    low, high = _bounds(parameter)
    x = low + u * (high - low)
    if parameter.is_log:
        x = math.exp(x)
    return parameter.snap(x)


def encode_value(parameter: Parameter, value: Value) -> float:
    if parameter.type in ("discrete", "categorical"):
        return (parameter.choices.index(str(value)) + 0.5) / len(parameter.choices)
    low, high = _bounds(parameter)
    x = math.log(float(value)) if parameter.is_log else float(value)
    return min(max((x - low) / (high - low), 0.0), 1.0) if high > low else 0.5


def decode(space: SearchSpace, point: np.ndarray) -> dict[str, Value]:
    return {p.name: decode_value(p, u) for p, u in zip(space, point, strict=True)}


def encode(space: SearchSpace, assignment: dict[str, Value]) -> np.ndarray:
    return np.array([encode_value(p, assignment[p.name]) for p in space], dtype=float)
