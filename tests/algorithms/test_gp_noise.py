"""The Gaussian process learns the observation noise from the data (it neither assumes it away
nor invents it), and bayesianoptimization's search holds up when the objective is noisy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kfp_tune.algorithms import registry
from kfp_tune.algorithms.base import FinishedTrial, Problem
from kfp_tune.algorithms.gaussian_process import GaussianProcess
from kfp_tune.core.space import Parameter, SearchSpace
from kfp_tune.core.vocabulary import ObjectiveType, TrialStatus


def wiggle(x: np.ndarray) -> np.ndarray:
    return np.sin(6.0 * x[:, 0]) + x[:, 0]


def fitted_noise_variance(model: GaussianProcess) -> float:
    """The model's noise variance in the objective's own units (it fits standardised values)."""
    return model.noise * model.y_std**2


@pytest.mark.parametrize("sd", [0.05, 0.2])
@pytest.mark.parametrize("seed", range(4))
def test_the_fitted_noise_variance_is_near_the_true_one(sd: float, seed: int) -> None:
    rng = np.random.default_rng([seed, 1])
    x = rng.random((40, 1))
    y = wiggle(x) + sd * rng.standard_normal(40)
    model = GaussianProcess(x, y, np.random.default_rng(seed))
    assert sd**2 / 3 < fitted_noise_variance(model) < sd**2 * 3


@pytest.mark.parametrize("seed", range(4))
def test_a_deterministic_objective_keeps_a_tiny_noise_and_is_interpolated(seed: int) -> None:
    """Resolving a deterministic optimum to 1e-5 of the range needs the model to pass through
    the observed values, not to smooth them away as noise."""
    rng = np.random.default_rng([seed, 2])
    x = rng.random((40, 1))
    y = wiggle(x)
    model = GaussianProcess(x, y, np.random.default_rng(seed))
    assert fitted_noise_variance(model) < 1e-6 * y.var()
    mean, _ = model.predict(x)
    assert np.max(np.abs(mean - y)) < 1e-4 * np.ptp(y)


def test_noisy_observations_are_smoothed_not_interpolated() -> None:
    """With noise, the posterior mean at the observed points is closer to the noiseless
    function than the observations are: the model averages the noise out."""
    rng = np.random.default_rng(3)
    x = rng.random((60, 1))
    truth = wiggle(x)
    y = truth + 0.2 * rng.standard_normal(60)
    mean, _ = GaussianProcess(x, y, np.random.default_rng(3)).predict(x)
    assert np.sqrt(np.mean((mean - truth) ** 2)) < 0.5 * np.sqrt(np.mean((y - truth) ** 2))


def run_noisy_search(seed: int, trials: int, sd: float) -> list[dict[str, float]]:
    """bayesianoptimization on a 2-D bowl (minimum 0 at (0.3, 0.7)) observed with Gaussian
    noise, called as the suggest step calls it."""
    space = SearchSpace((Parameter("a", "double", 0.0, 1.0), Parameter("b", "double", 0.0, 1.0)))
    problem = Problem(space, ObjectiveType.MINIMIZE, "loss", {"random_state": seed}, seed=seed)
    noise = np.random.default_rng([seed, 3])
    history: list[FinishedTrial] = []
    for index in range(trials):
        result = registry.create("bayesianoptimization", problem.settings).suggest(problem, history, [], 1, np.random.default_rng([seed, index]))
        for assignment in result.assignments:
            value = 4 * (float(assignment["a"]) - 0.3) ** 2 + 4 * (float(assignment["b"]) - 0.7) ** 2 + sd * float(noise.standard_normal())
            history.append(FinishedTrial(f"t{index}", assignment, TrialStatus.SUCCEEDED, value))
    return [{k: float(v) for k, v in t.assignment.items()} for t in history]


@pytest.mark.parametrize("seed", range(3))
def test_a_noisy_objective_does_not_derail_the_search(seed: int) -> None:
    """Noise of sd 0.1 (the bowl's value at distance 0.16 from the minimum): the model-based
    trials still close in on the minimum, to well within the random start's spread."""
    points = run_noisy_search(seed, 35, 0.1)
    distances = [math.hypot(p["a"] - 0.3, p["b"] - 0.7) for p in points]
    random_part, model_part = distances[:10], distances[-15:]
    assert float(np.median(model_part)) < 0.15
    assert float(np.median(model_part)) < 0.5 * float(np.median(random_part))
