"""The one place kfp-tune touches scikit-optimize (archived upstream; pinned in pyproject.toml).

Serves ``bayesianoptimization`` with ``base_estimator`` RF, ET or GBRT: an ``skopt.Optimizer``
is rebuilt from the history on every call (as Katib does), and its asks are mapped back onto the
space's steps and types. Pending trials, and earlier asks of the same batch, are told with the
model's own prediction there (the Kriging Believer, as the Gaussian process in :mod:`.bayesopt`
does) rather than with the best value seen (a constant liar, as before); while the optimizer
still has fewer finished trials than ``n_initial_points`` there is no model to believe, and its
asks are random, as the Gaussian process's are.

The tree models are fitted on at most ``MAX_MODEL_OBSERVATIONS`` trials (:mod:`.model_subset`: the best
half and a space-filling half of the rest); up to the cap every trial is told, as before.
``GBRT`` is built here: scikit-optimize's quantile regressor no longer passes scikit-learn's
``is_regressor`` (1.6 and later read estimator tags, which its base-class order hides), and its
``predict(return_std=True)`` calls ``np.in1d``, gone in numpy 2.4. scikit-optimize has no normal
prior: normal and logNormal parameters are given to it as their CDF coordinate (see ``_dimension``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions, one_blas_thread
from kfp_tune.algorithms.model_subset import model_rows, unit_coordinates
from kfp_tune.algorithms.random_search import new_random_point
from kfp_tune.algorithms.space_tools import BuiltinAlgorithm, Used
from kfp_tune.algorithms.unit_cube import decode_value, encode_value, normal_prior
from kfp_tune.core.catalogue import setting_default
from kfp_tune.core.space import Parameter, SearchSpace, Value

SKOPT_ACQ = {"EIps": "EI", "PIps": "PI"}  # trials report no run time
# The most trials a tree model is fitted on. It is fitted twice per call when trials are pending
# (history, then the liars), at about n log n per tree: RF took 3 s at 10,000 trials on 2 cores,
# about 1 s at 2,000. The benchmarks in docs/benchmarks.md (50 trials) are far below it.
MAX_MODEL_OBSERVATIONS = 2000


def _estimator(name: str, seed: int) -> Any:
    """What ``skopt.Optimizer`` gets as ``base_estimator``: the name, except for GBRT, built as
    scikit-optimize builds it, with the estimator type its tags lack."""
    if name != "GBRT":
        return name
    from sklearn.ensemble import GradientBoostingRegressor
    from skopt.learning import GradientBoostingQuantileRegressor

    class QuantileGBRT(GradientBoostingQuantileRegressor):
        def __sklearn_tags__(self) -> Any:
            tags = super().__sklearn_tags__()
            tags.estimator_type = "regressor"
            return tags

        def predict(self, X: Any, return_std: bool = False, return_quantiles: bool = False) -> Any:
            """scikit-optimize's, without ``np.in1d`` (gone in numpy 2.4): the median, and half
            the 16-84 % quantile range as the standard deviation."""
            if return_quantiles or not return_std:
                return super().predict(X, return_std=False, return_quantiles=return_quantiles)
            low, mean, high = (self.regressors_[self.quantiles.index(q)].predict(X) for q in (0.16, 0.5, 0.84))
            return mean, (high - low) / 2.0

    return QuantileGBRT(base_estimator=GradientBoostingRegressor(n_estimators=30, loss="quantile"), random_state=seed)


def _dimension(parameter: Parameter) -> Any:
    """scikit-optimize's dimension for a parameter. It has no normal prior: a normal or logNormal
    parameter is searched as its unit-cube coordinate (:mod:`.unit_cube`, through the CDF), over
    which the distribution is uniform, and mapped back by the inverse CDF."""
    from skopt.space import Categorical, Integer, Real

    prior = "log-uniform" if parameter.is_log else "uniform"
    if parameter.type in ("discrete", "categorical"):
        return Categorical(list(parameter.choices), name=parameter.name)
    if normal_prior(parameter) is not None:
        return Real(0.0, 1.0, name=parameter.name)
    assert parameter.low is not None and parameter.high is not None
    if parameter.type == "int":
        return Integer(int(parameter.low), int(parameter.high), prior=prior, name=parameter.name)
    return Real(parameter.low, parameter.high, prior=prior, name=parameter.name)


def _to_skopt(space: SearchSpace, assignment: dict[str, Value]) -> list[Any]:
    return [_to_skopt_value(p, assignment[p.name]) for p in space]


def _to_skopt_value(parameter: Parameter, value: Value) -> Any:
    if parameter.type in ("discrete", "categorical"):
        return value
    if normal_prior(parameter) is not None:
        return encode_value(parameter, value)
    return float(value) if parameter.type == "double" else int(value)


def _from_skopt(space: SearchSpace, point: Sequence[Any]) -> dict[str, Value]:
    return {p.name: _from_skopt_value(p, v) for p, v in zip(space, point, strict=True)}


def _from_skopt_value(parameter: Parameter, value: Any) -> Value:
    if parameter.type in ("discrete", "categorical"):
        return str(value)
    if normal_prior(parameter) is not None:
        return decode_value(parameter, float(value))
    return parameter.snap(float(value))


def believe(optimizer: Any, points: list[list[Any]]) -> None:
    """Tell ``points`` (being evaluated) to a fitted optimizer with its model's prediction there,
    the Kriging Believer; before the first model nothing is told (the asks are random)."""
    if not optimizer.models:
        return
    predicted = optimizer.models[-1].predict(optimizer.space.transform(points))
    optimizer.tell(points, [float(v) for v in predicted])


def _setting(settings: dict[str, Any], name: str) -> Any:
    """A setting, the catalogue's default only when it is not given: 0 is a value."""
    value = settings.get(name)
    return setting_default("bayesianoptimization", name) if value is None else value


class SkoptBayesianOptimization(BuiltinAlgorithm):
    name = "bayesianoptimization"

    @one_blas_thread("skopt")
    def propose(
        self,
        problem: Problem,
        history: Sequence[FinishedTrial],
        pending: Sequence[dict[str, Value]],
        n: int,
        rng: np.random.Generator,
        used: Used,
    ) -> Suggestions:
        from skopt import Optimizer

        space = problem.space
        if n == 0:
            return Suggestions([])
        scored = [(t, loss) for t in history if (loss := problem.loss(t)) is not None]
        if len(scored) > MAX_MODEL_OBSERVATIONS:
            x = unit_coordinates(space, [t.assignment for t, _ in scored])
            scored = [scored[i] for i in model_rows(x, np.array([loss for _, loss in scored]), MAX_MODEL_OBSERVATIONS)]
        acq = self.settings.get("acq_func") or setting_default("bayesianoptimization", "acq_func")
        seed = int(rng.integers(2**31))
        # 0 is a value, as in Katib's skopt service (int(value) to skopt.Optimizer): the model
        # from the first result on. With no result yet scikit-optimize has nothing to fit and
        # raises, where Katib's first suggestion fails: one random start here.
        n_initial = _setting(self.settings, "n_initial_points")
        optimizer = Optimizer(
            [_dimension(p) for p in space],
            base_estimator=_estimator(self.settings.get("base_estimator") or "RF", seed + 1),
            n_initial_points=int(n_initial if scored else max(n_initial, 1)),
            acq_func=SKOPT_ACQ.get(acq, acq),
            acq_optimizer="sampling",  # the tree models have no gradient
            acq_optimizer_kwargs={"n_points": 2000},
            acq_func_kwargs={"kappa": float(_setting(self.settings, "kappa")), "xi": float(_setting(self.settings, "xi"))},
            random_state=seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "point already evaluated" and friends: we check ourselves
            if scored:
                optimizer.tell([_to_skopt(space, t.assignment) for t, _ in scored], [float(loss) for _, loss in scored])
            if pending:
                believe(optimizer, [_to_skopt(space, a) for a in pending])
            asked: list[list[Any]] = []
            for index in range(n):
                asked.append(optimizer.ask())
                if index + 1 < n:
                    believe(optimizer, asked[-1:])
        out: list[dict[str, Value]] = []
        for point in asked:
            assignment = _from_skopt(space, point)
            if space.key(assignment) in used:
                assignment = new_random_point(space, used, rng)
            else:
                used.add(space.key(assignment))
            out.append(assignment)
        return Suggestions(out)
