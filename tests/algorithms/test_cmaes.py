"""cmaes's restarts (ipop, bipop) and where a run starts, beside the contract in test_algorithms.

A flat objective stops each CMA-ES run as soon as its history window fills (the cmaes library's
function-value tolerance: 18 generations at the 1-D population of 4), so a few hundred trials
hold two restarts; a 1-D sphere needs about 230 trials for the first.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy.stats import truncnorm

from kfp_tune.algorithms import cmaes
from kfp_tune.algorithms.base import FinishedTrial, Problem
from kfp_tune.algorithms.cmaes import CMAES, _Restarts, _Start
from kfp_tune.core.space import Parameter, SearchSpace, Value

BASE_POPULATION = 4
"""4 + floor(3 ln 1): the cmaes library's (and goptuna's) population for one dimension."""

NORMAL_ON_2_8 = Parameter("m", "double", 2.0, 8.0, distribution="normal")
"""Katib's normal on [2, 8]: mean 5, sd a sixth of the range, 1; in the cube mean 0.5, sd 1/6."""


def run(
    strategy: str, parameter: Parameter, trials: int, objective: Callable[[float], float], monkeypatch: pytest.MonkeyPatch
) -> tuple[list[dict[str, Value]], list[int]]:
    """The suggestions of a run of ``trials`` (one generation of 4 a call) and the population of
    each CMA-ES run that the last call's replay of the history went through."""
    populations: list[int] = []

    class RecordingCMA(cmaes.CMA):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            populations.append(self.population_size)

    monkeypatch.setattr(cmaes, "CMA", RecordingCMA)
    space = SearchSpace((parameter,))
    problem = Problem(space, "minimize", "loss", {"restart_strategy": strategy}, seed=3)
    algorithm = CMAES({"restart_strategy": strategy})
    history: list[FinishedTrial] = []
    while len(history) < trials:
        populations.clear()
        for a in algorithm.suggest(problem, history, [], BASE_POPULATION, np.random.default_rng(len(history))).assignments:
            history.append(FinishedTrial(f"t{len(history)}", a, "Succeeded", objective(float(a[parameter.name]))))
    return [t.assignment for t in history], populations


def test_ipop_restarts_with_twice_the_population_each_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """ipop (goptuna's SamplerOptionIPop(2), Katib's default): each restart doubles the
    population, 4, 8, 16; a restart's mean is drawn from the normal parameter's distribution
    and every point stays inside [2, 8]."""
    space = SearchSpace((NORMAL_ON_2_8,))
    points, populations = run("ipop", NORMAL_ON_2_8, 240, lambda x: 1.0, monkeypatch)
    assert populations == [4, 8, 16]
    assert all(space.contains(p) for p in points)
    assert len({p["m"] for p in points}) == len(points)


def test_ipop_restarts_on_a_converged_sphere(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a sphere the run converges, stops on its tolerances and starts again, doubled."""
    space = SearchSpace((Parameter("x", "double", -1.0, 1.0),))
    points, populations = run("ipop", space["x"], 260, lambda x: (x - 0.3) ** 2, monkeypatch)
    assert populations == [4, 8]
    assert all(space.contains(p) for p in points)
    assert abs(float(points[200]["x"]) - 0.3) < 1e-3  # converged before the restart


def test_bipop_first_restart_is_large_then_small_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """bipop (goptuna's SamplerOptionBIPop(2)): the first restart doubles the population, the
    next, with fewer evaluations spent on small populations than on large ones, is small."""
    space = SearchSpace((NORMAL_ON_2_8,))
    points, populations = run("bipop", NORMAL_ON_2_8, 280, lambda x: 1.0, monkeypatch)
    assert populations[:2] == [4, 8] and len(populations) > 2
    assert all(BASE_POPULATION <= population < 8 for population in populations[2:])
    assert all(space.contains(p) for p in points)


def test_bipop_alternates_while_balancing_the_budgets() -> None:
    """Many restarts, driven generation by generation as ``propose`` replays them: large
    populations double (8, 16, 32, ...); each small one is at least the default and below the
    latest large one (goptuna draws floor(4 * 2**(k * U**2)) after k large restarts, Hansen's
    BIPOP floor(4 * (large / 8)**(U**2))); a large restart comes only once the small runs
    have spent at least as many evaluations as the large ones."""
    state = _Restarts(_Start([NORMAL_ON_2_8], None), "bipop", seed=3)
    restarts: list[tuple[str, int, int, int]] = []  # regime, population, small and large budgets before it
    original = state.restart

    def recording() -> None:
        small, large = state.small_budget, state.large_budget
        original()
        restarts.append((state.regime, state.optimizer.population_size, small, large))

    state.restart = recording  # type: ignore[method-assign]
    evaluations = 0
    while evaluations < 3000:
        generation = [(state.optimizer.ask(), 1.0) for _ in range(state.optimizer.population_size)]
        evaluations += len(generation)
        state.tell(generation)
        assert all(0.0 <= x[0] <= 1.0 for x, _ in generation)
    assert restarts[0][:2] == ("large", 8)
    large_populations = [population for regime, population, _, _ in restarts if regime == "large"]
    assert large_populations == [8 * 2**k for k in range(len(large_populations))] and len(large_populations) >= 3
    latest_large = BASE_POPULATION
    smalls = 0
    for index, (regime, population, small, large) in enumerate(restarts):
        if regime == "large":
            latest_large = population
            assert index == 0 or small >= large
        else:
            smalls += 1
            assert BASE_POPULATION <= population < latest_large
            assert small < large
    assert smalls >= 5


def test_restart_mean_draws_a_normal_parameter_from_its_distribution() -> None:
    """A restart's mean, from uniform numbers u: u itself for a uniform parameter (an int's too,
    unsnapped), the truncated normal's quantile at u for a normal one, in the linear cube."""
    start = _Start([Parameter("x", "double", 2.0, 8.0), NORMAL_ON_2_8, Parameter("k", "int", 1, 5)], None)
    u = np.array([0.3, 0.975, 0.35])  # k: 0.35, not 0.3, the centre of 2 it falls on
    mean = start.restart_mean(u)
    expected_m = float(truncnorm.ppf(0.975, -3.0, 3.0, loc=5.0, scale=1.0))
    assert mean[0] == pytest.approx(0.3, abs=1e-12)
    assert mean[1] == pytest.approx((expected_m - 2.0) / 6.0, abs=1e-6)
    assert mean[2] == pytest.approx(0.35, abs=1e-12)
    draws = np.array([start.restart_mean(np.array([0.5, v, 0.5]))[1] for v in np.random.default_rng(0).random(2000)])
    assert float(np.mean(draws)) == pytest.approx(0.5, abs=0.01)
    assert float(np.std(draws)) == pytest.approx(1.0 / 6.0 * float(truncnorm.std(-3.0, 3.0)), rel=0.05)


def test_a_normal_parameter_off_zero_starts_with_its_own_sd() -> None:
    """normal on [2, 8]: the first generation has Katib's sd, a sixth of the range, 1 (the
    width is high - low, which a range starting at 0 does not tell from high + low)."""
    space = SearchSpace((NORMAL_ON_2_8,))
    problem = Problem(space, "minimize", "loss", {}, seed=1)
    first = CMAES({}).suggest(problem, [], [], 300, np.random.default_rng(0)).assignments
    values = np.array([float(a["m"]) for a in first])
    assert float(np.std(values)) == pytest.approx(1.0, rel=0.15)
    assert float(np.mean(values)) == pytest.approx(5.0, abs=0.2)
