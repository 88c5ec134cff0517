"""Mapping between a search space and the unit cube, for algorithms that work in [0, 1]^d, and
the one definition of Katib's ``normal`` / ``logNormal`` distributions every algorithm uses.

Each parameter is one coordinate. A double or int has a *model coordinate* x: its value, or the
value's log for logUniform and logNormal, over :func:`model_bounds` (ints widened by half a step
on each side, so that every integer gets an equal share). uniform and logUniform map x to the
cube linearly; normal and logNormal through the truncated normal's CDF (:class:`TruncatedNormal`),
so that uniform coordinates decode to draws from the distribution and an observed value encodes
back to the coordinate it came from. Discrete and categorical parameters take equal-width bins
over their list. Decoding snaps to the step and type, so a decoded point is always feasible.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr, ndtri

from kfp_tune.core.space import Parameter, SearchSpace, Value


def model_bounds(parameter: Parameter) -> tuple[float, float]:
    """The range of a numeric parameter's model coordinate (log space for log distributions)."""
    assert parameter.low is not None and parameter.high is not None
    low, high = parameter.low, parameter.high
    if parameter.type == "int":
        low, high = low - 0.5, high + 0.5  # every integer gets an equal share of [0, 1]
    if parameter.is_log:
        return math.log(max(low, 1e-300) if parameter.type != "int" else max(low, 0.5)), math.log(high)
    return low, high


def to_model(parameter: Parameter, value: Value) -> float:
    """A numeric value's model coordinate: the value, or its log for log distributions."""
    return math.log(float(value)) if parameter.is_log else float(value)


def from_model(parameter: Parameter, x: float) -> Value:
    """The feasible value nearest a model coordinate (exp for log distributions, then snapped)."""
    return parameter.snap(math.exp(x) if parameter.is_log else x)


class TruncatedNormal:
    """A normal distribution of the model coordinate, truncated to [low, high].

    ``cdf`` and ``ppf`` are inverses of each other on the interval; each works from the nearer
    tail, so values near either bound keep their precision."""

    def __init__(self, mean: float, sd: float, low: float, high: float):
        self.mean, self.sd, self.low, self.high = mean, sd, low, high
        a, b = (low - mean) / sd, (high - mean) / sd
        self.below = float(ndtr(a))  # the untruncated mass left of low
        self.above = float(ndtr(-b))  # and right of high
        self.mass = float(ndtr(b) - ndtr(a))  # of [low, high]

    def cdf(self, x: float) -> float:
        """The truncated distribution's CDF at x, in [0, 1]."""
        z = (min(max(x, self.low), self.high) - self.mean) / self.sd
        if z <= 0:
            u = (float(ndtr(z)) - self.below) / self.mass
        else:
            u = 1.0 - (float(ndtr(-z)) - self.above) / self.mass
        return min(max(u, 0.0), 1.0)

    def ppf(self, u: float) -> float:
        """The x whose CDF is u (the inverse of :meth:`cdf`), in [low, high]."""
        u = min(max(float(u), 0.0), 1.0)
        left = self.below + u * self.mass
        z = float(ndtri(left)) if left <= 0.5 else -float(ndtri(self.above + (1.0 - u) * self.mass))
        return min(max(self.mean + self.sd * z, self.low), self.high)


def normal_prior(parameter: Parameter) -> TruncatedNormal | None:
    """A normal or logNormal parameter's distribution of its model coordinate; None for the others.

    Katib's convention (pkg/suggestion/v1beta1/hyperopt/base_service.py): the mean is the middle of
    [min, max] and the standard deviation a sixth of max - min (99.7 % of the mass within the
    bounds), both in log space for logNormal. Katib leaves the distribution unbounded; here it
    is truncated to :func:`model_bounds`, so every draw is feasible and an int's end values keep
    the mass that rounds to them."""
    if parameter.distribution not in ("normal", "logNormal") or parameter.type not in ("double", "int"):
        return None
    assert parameter.low is not None and parameter.high is not None
    low, high = parameter.low, parameter.high
    if parameter.is_log:
        low, high = math.log(low), math.log(high)
    sd = (high - low) / 6.0
    if not sd > 0:
        return None
    bound_low, bound_high = model_bounds(parameter)
    return TruncatedNormal(mean=(low + high) / 2.0, sd=sd, low=bound_low, high=bound_high)


def decode_value(parameter: Parameter, u: float, warp: bool = True) -> Value:
    """The value at unit coordinate u. ``warp=False`` maps normal and logNormal parameters
    linearly, as uniform ones, for an algorithm whose own Gaussian carries the prior (cmaes)."""
    u = min(max(float(u), 0.0), 1.0)
    if parameter.type in ("discrete", "categorical"):
        index = min(int(u * len(parameter.choices)), len(parameter.choices) - 1)
        return parameter.choices[index]
    prior = normal_prior(parameter) if warp else None
    if prior is not None:
        return from_model(parameter, prior.ppf(u))
    low, high = model_bounds(parameter)
    x = low + u * (high - low)
    if parameter.is_log:
        x = math.exp(x)
    return parameter.snap(x)


def encode_value(parameter: Parameter, value: Value, warp: bool = True) -> float:
    """The unit coordinate of a value: the inverse of :func:`decode_value` (up to snapping)."""
    if parameter.type in ("discrete", "categorical"):
        return (parameter.choices.index(str(value)) + 0.5) / len(parameter.choices)
    prior = normal_prior(parameter) if warp else None
    if prior is not None:
        return prior.cdf(to_model(parameter, value))
    low, high = model_bounds(parameter)
    x = math.log(float(value)) if parameter.is_log else float(value)
    return min(max((x - low) / (high - low), 0.0), 1.0) if high > low else 0.5


def decode(space: SearchSpace, point: np.ndarray) -> dict[str, Value]:
    return {p.name: decode_value(p, u) for p, u in zip(space, point, strict=True)}


def encode(space: SearchSpace, assignment: dict[str, Value]) -> np.ndarray:
    return np.array([encode_value(p, assignment[p.name]) for p in space], dtype=float)
