"""CMA-ES through the ``cmaes`` library (the one Optuna uses), rebuilt from the history.

Numeric parameters live in the unit cube; the trials, in index order, are replayed into a fresh
optimizer one generation (``population_size`` trials) at a time, asking before each tell as the
first run did, so the replay reaches the same state a long-lived optimizer would have. Trials of
the unfinished generation and pending trials advance the sampler too, so the next asks are new
points. Failed trials count as worse than the worst seen. Categorical and discrete parameters
are drawn at random, as Optuna's CMA-ES sampler does. ``restart_strategy`` ipop doubles the
population at each restart; bipop alternates large and small populations (Hansen, 2009).

A run that the ``cmaes`` library's ``should_stop`` says has converged or diverged starts again,
also under ``restart_strategy`` none (the default), there at the first run's population, from a
new mean. goptuna in Katib and Optuna keep a stopped run under none; replayed from the history
here, it would shrink until its points repeat, the random points that then replace them
(``MAX_RESAMPLES``) would blow its step size up when replayed, and from then on each replayed ask
would resample 100 times (a 2-D sphere: 0.25 s of CPU a suggestion at trial 1,300, and growing,
against 0.06 s). The
library's floating-point warnings (``overflow encountered in exp``) are silenced with
``numpy.errstate``, in the calling thread only: ``warnings.catch_warnings`` would change the
whole process's filters, also for a ``tune()`` objective running on another thread.

The cube is linear in each parameter's value (its log for log distributions), also for normal
and logNormal parameters: CMA-ES's own Gaussian carries their distribution instead, starting at
its mean with its standard deviation (see ``_Start``; the ``sigma`` setting is the start of the
others), and a restart's mean is drawn from it. Warping them through their CDF as well, as the
other unit-cube algorithms do, would count the prior twice.

``sigma`` is in the parameters' own units, as in Katib (its goptuna service hands it to
goptuna's CMA-ES sampler, ``cmaes.SamplerOptionInitialSigma``): the same step in every uniform
and logUniform parameter, divided here by each one's width in the cube (an int's range plus one,
each integer getting an equal share), so the search stays in the unit cube. A logUniform
parameter's own units here are those of its natural log, and it starts at the geometric middle
of its range: a log scale is what the distribution asks for. Katib's goptuna service never reads
the distribution (goptuna/converter.go, toGoptunaSearchSpace) and searches the raw value from
the middle of the raw range, so there a ``sigma`` is in raw units; ``kfp-tune validate`` notes
the difference (core/portability.py). Unset, each starts at a sixth of its own range; goptuna's
default is the smallest of those sixths, in every dimension.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from cmaes import CMA

from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions
from kfp_tune.algorithms.random_search import new_random_point, sample_value
from kfp_tune.algorithms.space_tools import BuiltinAlgorithm, Used
from kfp_tune.algorithms.unit_cube import decode_value, encode_value, model_bounds, normal_prior
from kfp_tune.core.catalogue import setting_default
from kfp_tune.core.space import Parameter, Value

MAX_RESAMPLES = 100
DEFAULT_SIGMA = 1.0 / 6.0
"""The start's standard deviation in the unit cube without a ``sigma`` setting: a sixth of each range."""


@contextmanager
def _quiet_numerics() -> Iterator[None]:
    """The ``cmaes`` library's floating-point warnings silenced for this thread only: a run whose
    step size overflows is restarted, not a user's concern (numpy's error state is per thread,
    the warnings module's filters are the whole process's)."""
    with np.errstate(all="ignore"):
        yield


class _Start:
    """Where each run of the optimizer starts, per numeric parameter in the (linear) unit cube:
    uniform and logUniform parameters at the centre with a standard deviation of ``sigma`` (in
    the parameter's own units, log units for logUniform) over the parameter's width, or a sixth
    of the cube unless it is set; normal and logNormal ones at their distribution's mean with its
    standard deviation (:func:`.unit_cube.normal_prior`). CMA-ES's one step size is the largest of
    the uniform ones (a sixth unless set), the rest a diagonal covariance relative to it."""

    def __init__(self, parameters: Sequence[Parameter], sigma: float | None):
        self.parameters = list(parameters)
        self.mean = np.full(len(self.parameters), 0.5)
        sds = np.full(len(self.parameters), DEFAULT_SIGMA)
        governed = []  # the parameters the sigma setting starts
        for index, parameter in enumerate(self.parameters):
            low, high = model_bounds(parameter)
            prior = normal_prior(parameter)
            if prior is not None:
                self.mean[index] = (prior.mean - low) / (high - low)
                sds[index] = prior.sd / (high - low)
            else:
                governed.append(index)
                if sigma is not None and high > low:
                    sds[index] = sigma / (high - low)
        self.sigma = float(max(sds[governed])) if governed and sigma is not None else DEFAULT_SIGMA
        scales = sds / self.sigma
        # identity (None) when every parameter has the default: exactly the optimizer as before
        self.cov = None if np.allclose(scales, 1.0, rtol=1e-12, atol=0.0) else np.diag(scales**2)

    def restart_mean(self, u: np.ndarray) -> np.ndarray:
        """A restart's mean from uniform numbers: uniform over the cube for uniform parameters,
        drawn from the distribution (its inverse CDF) for normal ones."""
        mean = np.array(u, dtype=float)
        for index, parameter in enumerate(self.parameters):
            if normal_prior(parameter) is not None:
                mean[index] = encode_value(parameter, decode_value(parameter, float(u[index])), warp=False)
        return mean


class _Restarts:
    """The optimizer and the restart bookkeeping of IPOP / BIPOP, replayed deterministically."""

    def __init__(self, start: _Start, strategy: str, seed: int):
        self.start = start
        dim, sigma = len(start.parameters), start.sigma
        self.dim, self.sigma0, self.strategy, self.seed = dim, sigma, strategy, seed
        self.base_popsize = 4 + math.floor(3 * math.log(dim))
        self.restarts = 0
        self.large_restarts = 0
        self.small_budget = 0
        self.large_budget = 0
        self.optimizer = self._new(self.base_popsize, sigma, regime="large")

    def _new(self, popsize: int, sigma: float, regime: str) -> CMA:
        self.regime = regime
        rng = np.random.default_rng([self.seed, self.restarts])
        mean = self.start.restart_mean(rng.random(self.dim)) if self.restarts else self.start.mean
        bounds = np.array([[0.0, 1.0]] * self.dim)
        with _quiet_numerics():
            return CMA(mean=mean, sigma=sigma, bounds=bounds, seed=int(rng.integers(2**31)), population_size=popsize, cov=self.start.cov)

    def tell(self, solutions: list[tuple[np.ndarray, float]]) -> None:
        with _quiet_numerics():
            self.optimizer.tell(solutions)
            stopped = self.optimizer.should_stop() or not np.all(np.isfinite(self.optimizer.mean))
        if self.regime == "large":
            self.large_budget += len(solutions)
        else:
            self.small_budget += len(solutions)
        if stopped:  # converged or diverged: a stopped run left going collapses, then overflows
            self.restart()

    def ask(self) -> np.ndarray:
        with _quiet_numerics():
            return self.optimizer.ask()

    def restart(self) -> None:
        self.restarts += 1
        if self.strategy == "none":  # the same run again, from a new mean: no population schedule
            self.optimizer = self._new(self.base_popsize, self.sigma0, "large")
            return
        if self.strategy == "ipop":
            self.optimizer = self._new(self.optimizer.population_size * 2, self.sigma0, "large")
            return
        # bipop: a large-population restart, or a small one while its budget is behind
        rng = np.random.default_rng([self.seed, self.restarts, 1])
        if self.restarts > 1 and self.small_budget < self.large_budget:
            large = self.base_popsize * 2 ** self.large_restarts
            u = float(rng.random())
            popsize = max(self.base_popsize, math.floor(self.base_popsize * (0.5 * large / self.base_popsize) ** (u * u)))
            self.optimizer = self._new(popsize, self.sigma0 * 10 ** (-2 * float(rng.random())), "small")
        else:
            self.large_restarts += 1
            self.optimizer = self._new(self.base_popsize * 2 ** self.large_restarts, self.sigma0, "large")


class CMAES(BuiltinAlgorithm):
    name = "cmaes"

    def __init__(self, settings: dict[str, Any]):
        super().__init__(settings)
        sigma = settings.get("sigma")
        self.sigma = None if sigma is None else float(sigma)
        self.strategy = settings.get("restart_strategy") or setting_default("cmaes", "restart_strategy")

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
        numeric = [p for p in space if p.type in ("double", "int")]
        state = _Restarts(_Start(numeric, self.sigma), self.strategy, problem.seed)
        values = [loss for t in history if (loss := problem.loss(t)) is not None]
        penalty = (max(values) + (max(values) - min(values)) + 1.0) if values else 0.0
        generation: list[tuple[np.ndarray, float]] = []
        for trial in history:
            x = np.array([encode_value(p, trial.assignment[p.name], warp=False) for p in numeric])
            loss = problem.loss(trial)
            value = penalty if loss is None else loss
            generation.append((x, value))
            if len(generation) == state.optimizer.population_size:
                for _ in generation:
                    state.ask()  # advance the sampler as the first run did
                state.tell(generation)
                generation = []
        for _ in range(len(generation) + len(pending)):
            state.ask()
        out: list[dict[str, Value]] = []
        for _ in range(n):
            for _ in range(MAX_RESAMPLES):
                x = state.ask()
                assignment: dict[str, Value] = {p.name: decode_value(p, u, warp=False) for p, u in zip(numeric, x, strict=True)}
                for parameter in space:
                    if parameter.name not in assignment:
                        assignment[parameter.name] = sample_value(parameter, rng)
                ordered = {p.name: assignment[p.name] for p in space}
                if space.key(ordered) not in used:
                    used.add(space.key(ordered))
                    break
            else:  # a collapsed distribution keeps repeating itself: take a random new point
                ordered = new_random_point(space, used, rng)
            out.append(ordered)
        return Suggestions(out)
