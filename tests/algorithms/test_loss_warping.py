"""bayesianoptimization models its losses warped (far outliers capped, then a fitted power
transform) unless they are noisy: the order of the trials is kept, well-behaved losses are left
nearly as they were, the good end is never packed tighter, and one diverged trial no longer
flattens the model around the good ones."""

from __future__ import annotations

import numpy as np
import pytest

from kfp_tune.algorithms import registry
from kfp_tune.algorithms.base import FinishedTrial, Problem
from kfp_tune.algorithms.bayesopt import (
    WARP_EXPONENTS,
    WARP_NOISE_LIMIT,
    cap_outliers,
    fit_model,
    fitted_exponent,
    warp_losses,
    yeo_johnson,
)
from kfp_tune.core.space import Parameter, SearchSpace
from kfp_tune.core.vocabulary import ObjectiveType, TrialStatus


def standardised(y: np.ndarray) -> np.ndarray:
    return (y - y.mean()) / y.std()


@pytest.mark.parametrize("seed", range(3))
def test_no_two_trials_change_places_and_ties_stay_ties(seed: int) -> None:
    """Only trials beyond the outlier fence may become equal (all capped to it); the best trial
    stays the best, alone."""
    rng = np.random.default_rng(seed)
    y = np.concatenate([rng.lognormal(0.0, 3.0, 40), [5.0, 5.0]])
    warped = warp_losses(y)
    assert np.all(np.isfinite(warped))
    order = np.argsort(y)
    assert np.all(np.diff(warped[order]) >= 0)
    q1, q3 = np.percentile(y, [25, 75])
    inside = np.sort(y[y <= q3 + 5 * (q3 - q1)])
    assert np.all(np.diff(np.sort(warped)[: len(inside)])[np.diff(inside) > 0] > 0)
    assert warped[-1] == warped[-2]
    assert np.argmin(warped) == np.argmin(y) and np.sum(warped == warped.min()) == 1


@pytest.mark.parametrize(
    ("seed", "draw"),
    [(0, "lognormal"), (1, "heavy lognormal"), (2, "negative lognormal"), (3, "normal"), (4, "uniform"), (5, "exponential")],
)
def test_the_power_transform_is_scipys_with_the_exponent_held_in_range(seed: int, draw: str) -> None:
    """The hand-written transform (kept out of scipy.stats for its import time) and its fitted
    exponent agree with scipy.stats.yeojohnson, whose unbounded exponent is clipped to the range
    (the draws give exponents inside it, above it and below it)."""
    from scipy.stats import yeojohnson

    rng = np.random.default_rng(seed)
    y = {
        "lognormal": lambda: rng.lognormal(0.0, 1.5, 50),
        "heavy lognormal": lambda: rng.lognormal(0.0, 3.0, 50),  # unbounded exponent below -2
        "negative lognormal": lambda: -rng.lognormal(0.0, 1.5, 50),
        "normal": lambda: rng.normal(0.0, 1.0, 50),
        "uniform": lambda: rng.uniform(-1.0, 3.0, 50),
        "exponential": lambda: rng.exponential(1.0, 50),
    }[draw]()
    z = standardised(y)
    _, unbounded = yeojohnson(z)
    expected = float(np.clip(unbounded, *WARP_EXPONENTS))
    assert fitted_exponent(z) == pytest.approx(expected, abs=1e-5)
    for exponent in (-2.0, -0.5, 0.0, 0.5, 1.0, expected):
        assert np.allclose(yeo_johnson(z, exponent), yeojohnson(z, lmbda=exponent), rtol=1e-12, atol=1e-12)


def test_equal_losses_stay_equal_and_finite() -> None:
    assert np.array_equal(warp_losses(np.full(5, 0.25)), np.zeros(5))
    assert np.array_equal(warp_losses(np.array([1.0, 3.0])), np.array([-1.0, 1.0]))


def test_normally_spread_losses_are_left_nearly_standardised() -> None:
    y = np.random.default_rng(4).normal(10.0, 2.0, 300)
    assert float(np.max(np.abs(warp_losses(y) - standardised(y)))) < 0.1


@pytest.mark.parametrize("seed", range(3))
def test_a_long_tail_of_good_losses_is_not_packed_tighter(seed: int) -> None:
    """Most trials poor and a few far better (Hartmann-6, a classifier's error): the fitted
    exponent would be above 1 and squeeze the best trials together, so they are left as they are."""
    y = -np.random.default_rng(seed).lognormal(0.0, 1.5, 60)
    assert np.allclose(warp_losses(y), standardised(y))


def test_a_long_tail_of_bad_losses_is_evened_out() -> None:
    """Rosenbrock-like: most trials poor, the worst far worse. The warp spreads the good end: the
    best tenth of the trials covers a larger part of the range than it did."""
    y = np.random.default_rng(6).lognormal(0.0, 1.5, 60)
    best_tenth = np.sort(y)[:6]
    share = lambda v: np.ptp(np.sort(v)[:6]) / np.ptp(v)  # noqa: E731
    assert share(warp_losses(y)) > 2 * share(standardised(y))
    assert np.ptp(best_tenth) > 0


def test_a_long_tail_of_bad_trials_no_longer_sets_the_scale() -> None:
    """Ten good trials and one a million times worse: standardised, the good ones are within
    1e-5 of each other; warped, they are spread over a visible part of the range."""
    good = np.linspace(0.1, 1.0, 10)
    y = np.append(good, 1e6)
    for values in (standardised(y), warp_losses(y)):
        assert values.argmax() == 10
    spread = lambda v: np.ptp(v[:10]) / np.ptp(v)  # noqa: E731
    assert spread(standardised(y)) < 1e-5
    assert spread(warp_losses(y)) > 0.02


def suggestion_after_a_diverged_trial(seed: int) -> float:
    """A 1-D bowl with its minimum at 0.3 (loss in [0, 0.5]) after 12 random trials, one of
    them diverged (loss 1e6 at x = 0.97): where bayesianoptimization looks next."""
    space = SearchSpace((Parameter("x", "double", 0.0, 1.0),))
    problem = Problem(space, ObjectiveType.MINIMIZE, "loss", {"random_state": seed}, seed=seed)
    xs = np.random.default_rng([seed, 5]).random(12)
    history = [FinishedTrial(f"t{i}", {"x": float(x)}, TrialStatus.SUCCEEDED, float((x - 0.3) ** 2)) for i, x in enumerate(xs)]
    history.append(FinishedTrial("diverged", {"x": 0.97}, TrialStatus.SUCCEEDED, 1e6))
    result = registry.create("bayesianoptimization", problem.settings).suggest(problem, history, [], 1, np.random.default_rng(seed))
    return float(result.assignments[0]["x"])


@pytest.mark.parametrize("seed", range(4))
def test_one_diverged_trial_does_not_pull_the_search_off_the_minimum(seed: int) -> None:
    assert abs(suggestion_after_a_diverged_trial(seed) - 0.3) < 0.05


def valley(x: np.ndarray) -> np.ndarray:
    """A steep-walled valley: most of the range is its walls, the minimum at 0.3."""
    return np.exp(8.0 * np.abs(x[:, 0] - 0.3))


@pytest.mark.parametrize("seed", range(3))
def test_deterministic_losses_are_modelled_warped(seed: int) -> None:
    x = np.random.default_rng(seed).random((30, 1))
    losses = valley(x)
    modelled, model, noisy = fit_model(x, losses, np.random.default_rng(seed))
    assert np.array_equal(modelled, warp_losses(losses)) and not noisy
    assert model.noise <= WARP_NOISE_LIMIT
    assert not np.allclose(modelled, (losses - losses.mean()) / losses.std())  # the warp did something


@pytest.mark.parametrize("seed", range(3))
def test_noisy_losses_are_modelled_as_they_are_with_outliers_capped(seed: int) -> None:
    """Noise of 5 % of the range: warping would stretch it at the good end, so the model is fitted
    to the losses themselves (a diverged trial still capped)."""
    rng = np.random.default_rng(seed)
    x = rng.random((30, 1))
    losses = valley(x) + 0.05 * np.ptp(valley(x)) * rng.standard_normal(30)
    losses[0] = 1e6
    modelled, model, noisy = fit_model(x, losses, np.random.default_rng(seed))
    assert np.array_equal(modelled, cap_outliers(losses)) and noisy
    assert modelled[0] < 1e6
    assert model.noise > WARP_NOISE_LIMIT  # the model kept learns the noise
