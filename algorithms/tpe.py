"""Tree-structured Parzen Estimator (Bergstra et al., 2011), univariate and multivariate.

After ``n_startup_trials`` random trials (10 unless set, counted among the trials with an
objective), the n trials with an objective are split into the best ``ceil(gamma * n)`` ("below";
at least 1, at most 25) and the rest ("above", with pending trials added as a constant liar).
Katib's services split differently, and kfp-tune keeps its own benchmarked rule: hyperopt's
``tpe.suggest`` (``ap_split_trials``) keeps ``min(ceil(gamma * sqrt(n)), 25)`` and Katib's hyperopt
service (``pkg/suggestion/v1beta1/hyperopt/base_service.py``, ``getSuggestions``) passes each
request's size as its ``n_startup_jobs``; Optuna's ``TPESampler`` behind Katib's
multivariate-tpe takes no gamma and keeps ``min(ceil(0.1 * n), 25)`` (docs/guide.md, "Notes on
each").

Each group gets a Parzen estimator: a prior plus a truncated Gaussian (numeric) or smoothed
frequency (categorical) kernel per trial.
Candidates are drawn from the "below" estimator; the one with the largest ``l(x) / g(x)`` wins.
``tpe`` scores each parameter on its own (as hyperopt and Katib's default); ``multivariate-tpe``
keeps each candidate's parameters from one kernel and scores them jointly (Falkner et al., 2018;
Optuna's multivariate TPE).

Pending trials (and earlier picks of the same batch) go into the "above" group, with the
``gamma`` share taken over the finished trials only: what Optuna's
``TPESampler(constant_liar=True)`` does with running trials. Measured with 3 trials pending on
Levy 4-D (1,000 seeds, docs/benchmarks.md "The schedule") against leaving them out (Optuna's
default) and against counting them "below": the best of the three for ``tpe`` (1.20x the regret
of one suggestion per trial at 60 trials, where knowing three results fewer alone costs 1.11x);
for ``multivariate-tpe`` better than leaving them out at 30 trials and worse at 60; counting
them "below" is the worst for both.

normal and logNormal parameters: the start-up trials are drawn from the distribution (as
``random`` draws them) and the prior component of both estimators is the distribution itself
rather than nearly flat, so with few observations the candidates stay near its mean.

Written on numpy rather than rebuilt through Optuna: an Optuna study rebuilt from 1,000 trials
takes about 150 ms before the first ask here, against a target of 15 ms per suggestion.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtr, ndtri

from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions
from kfp_tune.algorithms.random_search import new_random_point
from kfp_tune.algorithms.space_tools import BuiltinAlgorithm, Used
from kfp_tune.algorithms.unit_cube import model_bounds, normal_prior
from kfp_tune.core.catalogue import TPE_EI_CANDIDATES, setting_default
from kfp_tune.core.space import Parameter, SearchSpace, Value

MAX_BELOW = 25
EPS = 1e-12


@dataclass
class _Numeric:
    """Transformed bounds of a numeric parameter (log space for log distributions)."""

    low: float
    high: float

    @classmethod
    def of(cls, parameter: Parameter) -> _Numeric:
        return cls(*model_bounds(parameter))

    def to_value(self, parameter: Parameter, x: float) -> Value:
        return parameter.snap(math.exp(x) if parameter.is_log else x)


class _Estimator:
    """A Parzen estimator over all parameters: one kernel per observation plus the prior.

    Numeric kernels are Gaussians truncated to the bounds; categorical kernels put most of their
    mass on the observed choice. The prior component is wide (centred, as wide as the range:
    nearly flat) for uniform and logUniform parameters, and the parameter's own truncated normal
    (:func:`.unit_cube.normal_prior`) for normal and logNormal ones, as hyperopt's TPE does. Component k uses kernel k in every dimension, so the joint
    (multivariate) density is a mixture over components; the univariate one multiplies the
    per-dimension mixtures."""

    def __init__(self, space: SearchSpace, points: list[list[float | int]], prior_weight: float, multivariate: bool):
        self.space = space
        n = len(points)
        self.weights = np.array([1.0] * n + [prior_weight], dtype=float)
        self.weights /= self.weights.sum()
        self.log_weights = np.log(self.weights)
        self.dims: list[dict[str, Any]] = []
        d = len(space)
        for j, parameter in enumerate(space):
            column = [p[j] for p in points]
            if parameter.type in ("discrete", "categorical"):
                k = len(parameter.choices)
                # each observed choice keeps most mass; the prior component is uniform
                table = np.full((n + 1, k), 1.0 / k)
                if n:
                    smooth = 1.0 / (n + 1)
                    table[:n] = smooth / k
                    table[np.arange(n), np.array(column, dtype=int)] += 1.0 - smooth
                self.dims.append({"kind": "categorical", "log_p": np.log(table)})
                continue
            bounds = _Numeric.of(parameter)
            width = bounds.high - bounds.low
            mus = np.array([*column, (bounds.low + bounds.high) / 2.0], dtype=float)
            if multivariate:
                sigma = np.full(n + 1, 0.2 * width * max(n, 1) ** (-1.0 / (d + 4)))
            else:
                sigma = _neighbour_bandwidths(np.array(column, dtype=float), bounds, n)
            sigma[-1] = width  # the prior is wide
            sigma = np.maximum(sigma, width / min(100.0, 1.0 + n))
            prior = normal_prior(parameter)
            if prior is not None:  # the prior is the parameter's own distribution, as hyperopt's
                mus[-1], sigma[-1] = prior.mean, prior.sd
            a, b = (bounds.low - mus) / sigma, (bounds.high - mus) / sigma
            mass = np.maximum(ndtr(b) - ndtr(a), EPS)
            self.dims.append({"kind": "numeric", "mu": mus, "sigma": sigma, "low": bounds.low, "high": bounds.high, "log_mass": np.log(mass)})

    def sample(self, rng: np.random.Generator, count: int, multivariate: bool) -> np.ndarray:
        """``count`` candidates, shape (count, d); categorical columns hold choice indexes."""
        out = np.empty((count, len(self.dims)))
        shared = rng.choice(len(self.weights), size=count, p=self.weights)
        for j, dim in enumerate(self.dims):
            component = shared if multivariate else rng.choice(len(self.weights), size=count, p=self.weights)
            if dim["kind"] == "categorical":
                p = np.exp(dim["log_p"][component])
                cumulative = np.cumsum(p, axis=1)
                u = rng.random(count)[:, None] * cumulative[:, -1:]
                out[:, j] = (u > cumulative).sum(axis=1)
            else:
                mu, sigma = dim["mu"][component], dim["sigma"][component]
                lo, hi = ndtr((dim["low"] - mu) / sigma), ndtr((dim["high"] - mu) / sigma)
                u = lo + rng.random(count) * (hi - lo)
                out[:, j] = np.clip(mu + sigma * ndtri(np.clip(u, EPS, 1 - EPS)), dim["low"], dim["high"])
        return out

    def component_log_density(self, x: np.ndarray) -> np.ndarray:
        """log kernel density of each candidate under each component, per dimension:
        shape (candidates, components, d)."""
        parts = []
        for j, dim in enumerate(self.dims):
            if dim["kind"] == "categorical":
                parts.append(dim["log_p"][:, x[:, j].astype(int)].T)
            else:
                z = (x[:, j][:, None] - dim["mu"][None, :]) / dim["sigma"][None, :]
                parts.append(-0.5 * z * z - np.log(dim["sigma"])[None, :] - 0.5 * math.log(2 * math.pi) - dim["log_mass"][None, :])
        return np.stack(parts, axis=2)

    def log_density(self, x: np.ndarray, multivariate: bool) -> np.ndarray:
        per = self.component_log_density(x)
        if multivariate:
            return logsumexp(self.log_weights[None, :] + per.sum(axis=2), axis=1)
        return logsumexp(self.log_weights[None, :, None] + per, axis=1).sum(axis=1)


def logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    """log(sum(exp(a))) along an axis, stable (scipy's has more overhead than this needs)."""
    top = a.max(axis=axis, keepdims=True)
    return np.log(np.exp(a - top).sum(axis=axis)) + np.squeeze(top, axis=axis)


def _neighbour_bandwidths(xs: np.ndarray, bounds: _Numeric, n: int) -> np.ndarray:
    """Each kernel's width: the larger gap to its sorted neighbours (bounds count as neighbours)."""
    sigma = np.empty(n + 1)
    if n == 0:
        return sigma
    order = np.argsort(xs)
    ordered = np.concatenate([[bounds.low], xs[order], [bounds.high]])
    gaps = np.maximum(ordered[1:-1] - ordered[:-2], ordered[2:] - ordered[1:-1])
    sigma[order] = gaps
    return sigma


class TPE(BuiltinAlgorithm):
    name = "tpe"
    multivariate = False

    def __init__(self, settings: dict[str, Any]):
        super().__init__(settings)
        self.gamma = float(settings.get("gamma") or setting_default("tpe", "gamma"))
        self.prior_weight = float(settings.get("prior_weight") or setting_default("tpe", "prior_weight"))
        # at most one of the two names is given: validation refuses both together, as neither is the last given
        self.candidates = int(settings.get("n_ei_candidates") or settings.get("n_EI_candidates") or TPE_EI_CANDIDATES)
        startup = settings.get("n_startup_trials")
        self.startup = int(setting_default("tpe", "n_startup_trials") if startup is None else startup)

    def propose(
        self,
        problem: Problem,
        history: Sequence[FinishedTrial],
        pending: Sequence[dict[str, Value]],
        n: int,
        rng: np.random.Generator,
        used: Used,
    ) -> Suggestions:
        space = problem.space
        scored = [(loss, t.assignment) for t in history if (loss := problem.loss(t)) is not None]
        if len(scored) < max(self.startup, 1):
            return Suggestions([new_random_point(space, used, rng) for _ in range(n)])
        scored.sort(key=lambda pair: pair[0])
        n_below = max(1, min(math.ceil(self.gamma * len(scored)), MAX_BELOW))
        below = _encode_all(space, [a for _, a in scored[:n_below]])
        above = _encode_all(space, [a for _, a in scored[n_below:]] + list(pending))
        good = _Estimator(space, below, self.prior_weight, self.multivariate)
        out: list[dict[str, Value]] = []
        for _ in range(n):
            bad = _Estimator(space, above, self.prior_weight, self.multivariate)
            candidates = good.sample(rng, self.candidates, self.multivariate)
            score = good.log_density(candidates, self.multivariate) - bad.log_density(candidates, self.multivariate)
            chosen = None
            for index in np.argsort(-score):
                assignment = _decode(space, candidates[index])
                if space.key(assignment) not in used:
                    chosen = assignment
                    used.add(space.key(chosen))
                    break
            if chosen is None:  # every candidate taken: a random new point instead
                chosen = new_random_point(space, used, rng)
            out.append(chosen)
            above.extend(_encode_all(space, [chosen]))  # constant liar: a pending point counts as bad (as Optuna's)
        return Suggestions(out)


class MultivariateTPE(TPE):
    name = "multivariate-tpe"
    multivariate = True


def _encode_all(space: SearchSpace, assignments: Sequence[dict[str, Value]]) -> list[list[float | int]]:
    """Rows of model coordinates (transformed numbers, choice indexes), a column at a time."""
    columns = []
    for parameter in space:
        values = [a[parameter.name] for a in assignments]
        if parameter.type in ("discrete", "categorical"):
            index = {choice: i for i, choice in enumerate(parameter.choices)}
            columns.append([index[str(v)] for v in values])
        else:
            array = np.asarray(values, dtype=float)
            columns.append((np.log(array) if parameter.is_log else array).tolist())
    return [list(row) for row in zip(*columns, strict=True)] if columns else [[] for _ in assignments]


def _decode(space: SearchSpace, row: np.ndarray) -> dict[str, Value]:
    out: dict[str, Value] = {}
    for parameter, x in zip(space, row, strict=True):
        if parameter.type in ("discrete", "categorical"):
            out[parameter.name] = parameter.choices[int(x)]
        else:
            out[parameter.name] = _Numeric.of(parameter).to_value(parameter, float(x))
    return out
