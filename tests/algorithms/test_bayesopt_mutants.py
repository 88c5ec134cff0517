"""bayesianoptimization's behaviours that a change could break without any other test noticing
(surviving mutants of algorithms/gaussian_process.py, bayesopt.py, skopt_adapter.py and
unit_cube.py): a flat objective, the initial design's edges, the noisy model's values, the tree
models' pending trials, EIps and GBRT's spread, a unit coordinate of exactly 1; and a range
too wide for the tree models refused by validation."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from conftest import quadratic_experiment, validation_errors
from kfp_tune.algorithms import bayesopt, registry
from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions
from kfp_tune.algorithms.bayesopt import cap_outliers, fit_model
from kfp_tune.algorithms.skopt_adapter import _estimator
from kfp_tune.algorithms.unit_cube import decode_value
from kfp_tune.core.catalogue import experiment_space
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.space import Parameter, SearchSpace, Value
from kfp_tune.core.vocabulary import TrialStatus

SPACE = SearchSpace((Parameter("x", "double", -5.0, 5.0), Parameter("y", "double", -5.0, 5.0)))


def trials(count: int, loss: Any = None, seed: int = 0) -> list[FinishedTrial]:
    """``count`` succeeded trials at random points of SPACE, with loss ``loss`` (a number) or x + y."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(-5.0, 5.0, (count, 2))
    return [
        FinishedTrial(f"t{i}", {"x": float(a), "y": float(b)}, TrialStatus.SUCCEEDED, float(a + b) if loss is None else loss) for i, (a, b) in enumerate(points)
    ]


def suggest(settings: dict[str, Any], history: list[FinishedTrial], pending: list[dict[str, Value]], n: int, space: SearchSpace = SPACE) -> Suggestions:
    problem = Problem(space, "minimize", "loss", settings, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return registry.create("bayesianoptimization", settings).suggest(problem, history, pending, n, np.random.default_rng(1))


def test_a_flat_objective_gets_distinct_feasible_suggestions() -> None:
    """Twelve trials all at loss 1.0: the losses have no spread, and the model must not divide
    by it (a spread of 0 taken as is gave NaN probabilities)."""
    history = trials(12, loss=1.0)
    result = suggest({}, history, [], 3)
    keys = {SPACE.key(a) for a in result.assignments}
    assert len(keys) == 3 and not keys & {SPACE.key(t.assignment) for t in history}
    assert all(SPACE.contains(a) for a in result.assignments)


def model_fits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of trials each Gaussian process fitted in ``propose`` was given."""
    calls: list[int] = []
    fit = bayesopt.fit_model

    def counting(x: np.ndarray, losses: np.ndarray, rng: np.random.Generator) -> Any:
        calls.append(len(losses))
        return fit(x, losses, rng)

    monkeypatch.setattr(bayesopt, "fit_model", counting)
    return calls


@pytest.mark.parametrize(("scored", "modelled"), [(0, False), (1, False), (2, True)])
def test_n_initial_points_0_models_from_the_second_result_on(monkeypatch: pytest.MonkeyPatch, scored: int, modelled: bool) -> None:
    """0 is a value, not the default 10: the model from as soon as there is one (two results,
    the least a spread can be measured on); before it, random points (the first the centre)."""
    calls = model_fits(monkeypatch)
    result = suggest({"n_initial_points": 0}, trials(scored), [], 2)
    assert len({SPACE.key(a) for a in result.assignments}) == 2
    assert calls == ([scored] if modelled else [])
    if not scored:
        assert result.assignments[0] == {"x": 0.0, "y": 0.0}


def test_the_centre_of_a_range_is_the_number_as_written() -> None:
    """The midpoint of [0.1, 0.35] is 0.22499999999999998 in floating point; the first trial
    gets 0.225, as a person would write it."""
    space = SearchSpace((Parameter("x", "double", 0.1, 0.35),))
    assert suggest({}, [], [], 1, space).assignments == [{"x": 0.225}]


def test_the_noisy_model_is_built_on_the_capped_losses_unwarped() -> None:
    """Where the model finds the losses noisy it models them as they are (outliers capped),
    not warped: its values are the capped losses, standardised."""
    rng = np.random.default_rng(0)
    x = rng.random((30, 1))
    losses = np.exp(3.0 * x[:, 0]) + 0.5 * rng.standard_normal(30)
    y, model, noisy = fit_model(x, losses, np.random.default_rng(0))
    capped = cap_outliers(losses)
    assert noisy and np.array_equal(y, capped)
    np.testing.assert_allclose(model.y, (capped - capped.mean()) / capped.std())


def test_a_tree_model_is_told_a_pending_trial_at_its_prediction(monkeypatch: pytest.MonkeyPatch) -> None:
    """RF with a trial pending: the model is told the pending point (the Kriging Believer) before
    it is asked, and the suggestion is another point."""
    from skopt import Optimizer

    told: list[tuple[Any, Any]] = []
    tell = Optimizer.tell

    def recording_tell(self: Any, x: Any, y: Any, fit: bool = True) -> Any:
        told.append((x, y))
        return tell(self, x, y, fit)

    monkeypatch.setattr(Optimizer, "tell", recording_tell)
    settings = {"base_estimator": "RF", "n_initial_points": 3, "random_state": 0}
    history = trials(8)
    alone = suggest(settings, history, [], 1).assignments[0]
    told.clear()
    result = suggest(settings, history, [alone], 1).assignments
    assert [points for points, _ in told[1:]] == [[[alone["x"], alone["y"]]]]
    assert np.isfinite(told[1][1]).all()
    assert SPACE.key(result[0]) != SPACE.key(alone)


@pytest.mark.parametrize("acq_func", ["EIps", "PIps"])
def test_a_tree_model_with_a_per_second_acquisition_suggests_after_the_initial_points(acq_func: str) -> None:
    """Trials report no run time: EIps and PIps act as EI and PI (scikit-optimize's own would
    ask for one with every result)."""
    result = suggest({"base_estimator": "RF", "n_initial_points": 3, "acq_func": acq_func}, trials(5), [], 2)
    assert len({SPACE.key(a) for a in result.assignments}) == 2


def test_gbrt_spread_is_half_the_16_to_84_percent_quantile_range() -> None:
    """The standard deviation of a normal is half the distance between its 16 % and 84 %
    quantiles, the acquisition's sd for GBRT."""
    rng = np.random.default_rng(0)
    x = rng.random((40, 2))
    model = _estimator("GBRT", 0).fit(x, x.sum(1) + 0.1 * rng.standard_normal(40))
    grid = rng.random((10, 2))
    mean, sd = model.predict(grid, return_std=True)
    quantiles = model.predict(grid, return_quantiles=True)
    np.testing.assert_allclose(mean, quantiles[:, 1])
    np.testing.assert_allclose(sd, (quantiles[:, 2] - quantiles[:, 0]) / 2.0)
    assert (sd > 0).any()


def test_unit_coordinate_1_is_the_last_choice() -> None:
    parameter = Parameter("batch", "discrete", choices=("16", "32", "64"))
    assert decode_value(parameter, 1.0) == "64"
    assert decode_value(parameter, 0.0) == "16"


def wide_experiment(estimator: str, low: str, high: str, distribution: str | None = None) -> dict[str, Any]:
    space: dict[str, Any] = {"min": low, "max": high}
    if distribution:
        space["distribution"] = distribution
    settings = [{"name": "base_estimator", "value": estimator}, {"name": "n_initial_points", "value": "3"}]
    return quadratic_experiment(
        **{
            "spec.algorithm": {"algorithmName": "bayesianoptimization", "algorithmSettings": settings},
            "spec.parameters": [
                {"name": "x", "parameterType": "double", "feasibleSpace": space},
                {"name": "y", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}},
            ],
        }
    )


@pytest.mark.parametrize("estimator", ["RF", "ET", "GBRT"])
def test_a_tree_model_refuses_a_uniform_range_beyond_float32(estimator: str) -> None:
    """scikit-learn's trees read values as float32: with x in [-1e300, 1e300] every suggestion
    after the random start failed with "Input X contains infinity or a value too large for
    dtype('float32')". Validation refuses it, naming the end and what is expected."""
    errors = [(e.path, e.message) for e in validation_errors(wide_experiment(estimator, "-1e300", "1e300"))]
    assert [path for path, _ in errors] == ["spec.parameters[0].feasibleSpace.min", "spec.parameters[0].feasibleSpace.max"]
    assert f"base_estimator {estimator}" in errors[0][1] and "between -3.4e38 and 3.4e38, got -1e300" in errors[0][1]
    assert "base_estimator GP" in errors[0][1]


@pytest.mark.parametrize(
    ("estimator", "low", "high", "distribution"),
    [("GP", "-1e300", "1e300", None), ("RF", "1e-300", "1e300", "logUniform"), ("RF", "-1e300", "1e300", "normal"), ("RF", "0", "3e38", None)],
)
def test_a_wide_range_the_model_can_take_is_accepted_and_suggested_on(estimator: str, low: str, high: str, distribution: str | None) -> None:
    """The Gaussian process works in the unit cube; the trees get a logUniform parameter as its
    log and a normal one as its unit-cube coordinate; a range within float32 as it is."""
    assert validation_errors(wide_experiment(estimator, low, high, distribution)) == []
    space = experiment_space(load_experiment(wide_experiment(estimator, low, high, distribution)).spec)
    settings = {"base_estimator": estimator, "n_initial_points": 3}
    rng = np.random.default_rng(0)
    history = [
        FinishedTrial(f"t{i}", a, TrialStatus.SUCCEEDED, float(i % 3))
        for i, a in enumerate(registry.create("random", {}).suggest(Problem(space, "minimize", "loss", {}, seed=0), [], [], 5, rng).assignments)
    ]
    result = suggest(settings, history, [], 2, space)
    assert len({space.key(a) for a in result.assignments}) == 2 and all(space.contains(a) for a in result.assignments)
