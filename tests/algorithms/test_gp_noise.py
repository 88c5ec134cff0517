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


SLOPE_SPACE = SearchSpace((Parameter("a", "double", 0.0, 1.0), Parameter("b", "double", 0.0, 1.0)))
CORNER = (0.0, 0.0)


def slope(assignment: dict) -> float:
    """A plane whose minimum is the corner (0, 0), as BBOB's linear slope (f5): the search ends
    up pressing against the bounds, where the acquisition's optimiser lands exactly on them."""
    return float(assignment["a"]) + float(assignment["b"])


def search_the_slope(seed: int, sd: float, trials: int = 30) -> tuple[list[FinishedTrial], list[bool]]:
    """bayesianoptimization on ``slope`` observed with noise of sd ``sd``, one suggestion at a
    time as the suggest step asks; the trials and each answer's ``repeats`` flag."""
    problem = Problem(SLOPE_SPACE, ObjectiveType.MINIMIZE, "loss", {"random_state": seed}, seed=seed)
    noise = np.random.default_rng([seed, 4])
    history: list[FinishedTrial] = []
    flags: list[bool] = []
    for index in range(trials):
        result = registry.create("bayesianoptimization", problem.settings).suggest(problem, history, [], 1, np.random.default_rng([seed, index]))
        flags.append(result.repeats)
        for assignment in result.assignments:
            value = slope(assignment) + sd * float(noise.standard_normal())
            history.append(FinishedTrial(f"t{index}", assignment, TrialStatus.SUCCEEDED, value))
    return history, flags


def corner_runs(history: list[FinishedTrial]) -> int:
    return sum(1 for t in history if SLOPE_SPACE.key(t.assignment) == CORNER)


@pytest.mark.parametrize("seed", range(3))
def test_with_noise_the_best_point_is_measured_again(seed: int) -> None:
    """With noisy losses the point the model believes best may be run again (as Ax and Optuna's
    GPSampler allow): the corner is measured several times, no other point twice, each answer
    that repeats a point says so (``repeats``, which the suggest step's no-repeat check needs),
    and the others do not."""
    history, flags = search_the_slope(seed, sd=0.02)
    keys = [SLOPE_SPACE.key(t.assignment) for t in history]
    assert corner_runs(history) >= 3
    assert {key for index, key in enumerate(keys) if key in keys[:index]} == {CORNER}  # only the best point comes again
    for index, flag in enumerate(flags):
        assert flag == (keys[index] in keys[:index])


@pytest.mark.parametrize("seed", range(3))
def test_a_deterministic_objective_never_gets_a_point_twice(seed: int) -> None:
    history, flags = search_the_slope(seed, sd=0.0)
    keys = [SLOPE_SPACE.key(t.assignment) for t in history]
    assert len(set(keys)) == len(keys) and not any(flags)
    assert corner_runs(history) == 1  # the search does reach the corner


def noisy_history_beside_the_corner(seed: int, corner_status: TrialStatus) -> list[FinishedTrial]:
    """24 noisy trials, half of them near the corner, and one at the corner itself that ended as
    given."""
    rng = np.random.default_rng([seed, 5])
    history = []
    for index in range(24):
        reach = 1.0 if index % 2 else 0.1
        assignment = {"a": float(rng.random() * reach), "b": float(rng.random() * reach)}
        history.append(FinishedTrial(f"t{index}", assignment, TrialStatus.SUCCEEDED, slope(assignment) + 0.02 * float(rng.standard_normal())))
    value = None if corner_status == TrialStatus.FAILED else -0.05
    history.append(FinishedTrial("corner", {"a": 0.0, "b": 0.0}, corner_status, value))
    return history


@pytest.mark.parametrize("status", [TrialStatus.FAILED, TrialStatus.EARLY_STOPPED])
def test_a_failed_or_early_stopped_point_is_not_run_again(status: TrialStatus) -> None:
    """Only a succeeded trial's point may be measured again: a failed trial would likely fail
    again, and an early-stopped one was judged worse than the others (its point is never
    suggested again, as medianstop promises)."""
    for seed in range(3):
        problem = Problem(SLOPE_SPACE, ObjectiveType.MINIMIZE, "loss", {"random_state": seed}, seed=seed)
        history = noisy_history_beside_the_corner(seed, status)
        result = registry.create("bayesianoptimization", problem.settings).suggest(problem, history, [], 4, np.random.default_rng(seed))
        assert CORNER not in {SLOPE_SPACE.key(a) for a in result.assignments}


def test_the_corner_succeeded_is_run_again_and_a_pending_one_is_not() -> None:
    """The control for the test above: the same history with the corner succeeded gets the
    corner again; with the corner also pending (its second run going on in another slot) it
    does not, nor is any point repeated."""
    problem = Problem(SLOPE_SPACE, ObjectiveType.MINIMIZE, "loss", {"random_state": 0}, seed=0)
    history = noisy_history_beside_the_corner(0, TrialStatus.SUCCEEDED)
    result = registry.create("bayesianoptimization", problem.settings).suggest(problem, history, [], 1, np.random.default_rng(0))
    assert [SLOPE_SPACE.key(a) for a in result.assignments] == [CORNER] and result.repeats
    pending = registry.create("bayesianoptimization", problem.settings).suggest(problem, history, [{"a": 0.0, "b": 0.0}], 4, np.random.default_rng(0))
    assert CORNER not in {SLOPE_SPACE.key(a) for a in pending.assignments} and not pending.repeats


def test_a_point_that_gave_the_same_loss_twice_stops_the_repeats() -> None:
    """A rugged deterministic objective can look noisy to the model: once a point run twice
    gives the same loss to the last digit, no point is run again."""
    problem = Problem(SLOPE_SPACE, ObjectiveType.MINIMIZE, "loss", {"random_state": 0}, seed=0)
    history = noisy_history_beside_the_corner(0, TrialStatus.SUCCEEDED)
    history.append(FinishedTrial("again", {"a": 0.0, "b": 0.0}, TrialStatus.SUCCEEDED, -0.05))
    result = registry.create("bayesianoptimization", problem.settings).suggest(problem, history, [], 4, np.random.default_rng(0))
    taken = {SLOPE_SPACE.key(t.assignment) for t in history}
    assert not taken & {SLOPE_SPACE.key(a) for a in result.assignments} and not result.repeats


def test_no_point_is_run_again_where_the_model_finds_mostly_noise() -> None:
    """A function too rugged for 50 trials to resolve (as BBOB's Katsuura, f23) looks like noise
    to the model, most of the losses' variance: its best-looking point, a corner measured ten
    times, only looked best, and measuring it again and again would spend the experiment on it
    (one BBOB run spent 35 of 100 trials so). Every suggestion is a new point."""
    problem = Problem(SLOPE_SPACE, ObjectiveType.MINIMIZE, "loss", {"random_state": 0}, seed=0)
    rng = np.random.default_rng(6)
    points = rng.random((40, 2))
    history = [
        FinishedTrial(f"t{i}", {"a": float(a), "b": float(b)}, TrialStatus.SUCCEEDED, float(np.sin(40 * a) * np.cos(40 * b) + 0.3 * rng.standard_normal()))
        for i, (a, b) in enumerate(points)
    ]
    history += [FinishedTrial(f"c{i}", {"a": 0.0, "b": 0.0}, TrialStatus.SUCCEEDED, -0.5 + 0.3 * float(rng.standard_normal())) for i in range(10)]
    taken = {SLOPE_SPACE.key(t.assignment) for t in history}
    for seed in range(3):
        result = registry.create("bayesianoptimization", problem.settings).suggest(problem, history, [], 2, np.random.default_rng(seed))
        assert not taken & {SLOPE_SPACE.key(a) for a in result.assignments} and not result.repeats
