"""Every registered algorithm keeps the contract; random and grid do what Katib's do."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from kfp_tune.algorithms import registry
from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions
from kfp_tune.algorithms.random_search import sample_value
from kfp_tune.algorithms.testing import AlgorithmContract, mixed_space
from kfp_tune.core.errors import NotImplementedAlgorithm
from kfp_tune.core.space import Parameter, SearchSpace
from kfp_tune.core.vocabulary import ObjectiveType

OWN_CONTRACT_TESTS = {"pbt", "enas", "darts", "regularized-evolution"}
"""Algorithms that run the contract in their own test files: pbt the whole of it, with the
settings it needs (its population, its deliberate repeats); enas, darts and
regularized-evolution, which search a nasConfig instead of spec.parameters, its part on trials
given back (GivenBackContract)."""

VARIANTS = [(name, {}) for name in registry.implemented() if name != "hyperband" and name not in OWN_CONTRACT_TESTS] + [
    ("hyperband", {"resource_name": "layers", "r_l": 3, "eta": 3}),
    ("bayesianoptimization", {"base_estimator": "RF", "n_initial_points": 5}),
    ("bayesianoptimization", {"base_estimator": "ET", "n_initial_points": 5}),
    ("bayesianoptimization", {"base_estimator": "GBRT", "n_initial_points": 5}),
    ("bayesianoptimization", {"acq_func": "LCB", "acq_optimizer": "sampling", "n_initial_points": 5}),
    ("cmaes", {"restart_strategy": "bipop", "sigma": 0.3}),
    ("tpe", {"n_startup_trials": 3, "gamma": 0.5}),
]


NOT_ADAPTIVE = {"random", "grid", "sobol"}
"""Algorithms whose suggestions ignore the objective values (the contract checks that they do)."""

QUICK_DIRECTION = {"RF", "GBRT"}
"""bayesianoptimization's scikit-optimize models whose direction check runs 12 trials instead of
24: each suggestion refits a forest (about half a second on two cores), and with
n_initial_points 5, 12 trials still hold two batches of four from a fitted model. Their lean
stays clear (mean position 0.42 against 0.61 for RF, 0.36 against 0.59 for GBRT); ET's is 0.48
against 0.54 at 12 trials and 0.43 against 0.60 at 24, so it keeps 24."""


ONE_DIRECTION = {"ET", "GBRT"}
"""bayesianoptimization's scikit-optimize models checked maximizing only: the adapter reads every
model's losses through one ``problem.loss`` (skopt_adapter.py), which RF checks both ways, and
each forest refits on every suggestion (together a minute of the suite for a second direction
that runs no code of its own)."""

CASES = [
    pytest.param(((name, given), direction), id=name + "".join(f"-{k}={x}" for k, x in given.items()) + f"-{direction}")
    for name, given in VARIANTS
    for direction in ("minimize", "maximize")
    if not (given.get("base_estimator") in ONE_DIRECTION and direction == "minimize")
]


@pytest.fixture(params=CASES)
def contract(request) -> AlgorithmContract:
    (name, given), direction = request.param

    class Contract(AlgorithmContract):
        algorithm_name = name
        settings = given
        objective_type = direction
        stepped_doubles = name == "grid"
        adaptive = name not in NOT_ADAPTIVE
        waits_for_results = name == "hyperband"
        # covers_finite_space and ends_on_its_own: from each one's register(..., ends=...); grid
        # declares "after-its-schedule", its schedule being every point of its (finite) grid
        if name == "grid":
            covers_finite_space, ends_on_its_own = True, False
        if given.get("base_estimator") in QUICK_DIRECTION:
            direction_trials = 12

    return Contract()


CONTRACT_TESTS = [name for name in dir(AlgorithmContract) if name.startswith("test_")]
"""Every check of the shipped contract, test_same_suggestions_in_a_fresh_interpreter among them (one
fresh interpreter per algorithm and settings of VARIANTS, with another PYTHONHASHSEED)."""


@pytest.mark.parametrize("check", CONTRACT_TESTS)
def test_algorithm_contract(contract: AlgorithmContract, check: str):
    getattr(contract, check)()


class _NothingLeft:
    """A broken plug-in: suggests nothing and says the space is exhausted, whatever it is asked."""

    name = "random"

    def suggest(self, problem, history, pending, n, rng) -> Suggestions:
        return Suggestions([], exhausted=True)


def test_the_contract_refuses_an_algorithm_that_makes_no_progress(monkeypatch):
    monkeypatch.setitem(registry._FACTORIES, "random", lambda settings: _NothingLeft())

    class Contract(AlgorithmContract):
        algorithm_name = "random"
        adaptive = False

    with pytest.raises(AssertionError, match="exhausted before anything was tried"):
        Contract().test_makes_progress_from_an_empty_history()
    with pytest.raises(AssertionError, match="asked for 6 points"):
        Contract().test_returns_exactly_n_feasible_new_points()


def test_the_contract_refuses_an_algorithm_that_ignores_the_direction(monkeypatch):
    """TPE handed every problem as a minimization: it passes for minimize, and the contract's
    direction check fails it for maximize."""
    real = registry._FACTORIES["tpe"]

    class AlwaysMinimizes:
        name = "tpe"

        def __init__(self, settings):
            self.inner = real(settings)

        def suggest(self, problem, history, pending, n, rng) -> Suggestions:
            return self.inner.suggest(dataclasses.replace(problem, objective_type=ObjectiveType.MINIMIZE), history, pending, n, rng)

    monkeypatch.setitem(registry._FACTORIES, "tpe", AlwaysMinimizes)

    class Contract(AlgorithmContract):
        algorithm_name = "tpe"

    Contract().test_respects_the_objective_direction()

    class Maximizing(Contract):
        objective_type = "maximize"

    with pytest.raises(AssertionError, match="does not follow the objective's direction"):
        Maximizing().test_respects_the_objective_direction()


def test_the_contract_checks_a_declared_non_adaptive_algorithm():
    class Contract(AlgorithmContract):
        algorithm_name = "tpe"
        adaptive = False

    with pytest.raises(AssertionError, match="declared not adaptive"):
        Contract().test_respects_the_objective_direction()


def test_katibs_algorithms_are_implemented_and_others_say_so(monkeypatch):
    katibs = {"random", "grid", "sobol", "tpe", "multivariate-tpe", "cmaes", "bayesianoptimization", "hyperband", "pbt", "enas", "darts"}
    assert katibs <= set(registry.implemented())
    monkeypatch.delitem(registry._FACTORIES, "pbt")  # a build that lacks one says so
    with pytest.raises(NotImplementedAlgorithm, match="does not implement it yet"):
        registry.create("pbt", {})


def _random(space: SearchSpace, n: int, seed: int):
    problem = Problem(space, "minimize", "loss", {"random_state": seed})
    return registry.create("random", problem.settings).suggest(problem, [], [], n, np.random.default_rng(seed))


def test_random_log_uniform_is_uniform_in_log_space():
    rng = np.random.default_rng(0)
    parameter = Parameter("lr", "double", 1e-5, 1e-1, distribution="logUniform")
    samples = np.array([sample_value(parameter, rng) for _ in range(4000)])
    assert samples.min() >= 1e-5 and samples.max() <= 1e-1
    # median of a log-uniform draw is the geometric mean of the bounds (1e-3)
    assert abs(math.log10(np.median(samples)) - (-3)) < 0.1
    # a quarter of the draws fall in each decade
    assert abs(np.mean(samples < 1e-4) - 0.25) < 0.03


def test_random_normal_stays_in_bounds_and_centres():
    rng = np.random.default_rng(1)
    parameter = Parameter("m", "double", 0.0, 6.0, distribution="normal")
    samples = np.array([sample_value(parameter, rng) for _ in range(3000)])
    assert samples.min() >= 0 and samples.max() <= 6
    assert abs(samples.mean() - 3.0) < 0.1 and abs(samples.std() - 1.0) < 0.1


def test_random_int_hits_both_ends_evenly():
    rng = np.random.default_rng(2)
    parameter = Parameter("k", "int", 2, 5)
    samples = [sample_value(parameter, rng) for _ in range(4000)]
    counts = np.bincount(samples)[2:]
    assert len(counts) == 4 and counts.min() > 850


def _grid_run(space: SearchSpace, seed: int, batch: int) -> list[dict[str, str]]:
    """Every suggestion of a grid experiment run to its end, ``batch`` at a time."""
    problem = Problem(space, "minimize", "loss", {}, seed=seed)
    grid = registry.create("grid", {})
    history: list[FinishedTrial] = []
    seen = []
    for call in range(1000):
        result = grid.suggest(problem, history, [], batch, np.random.default_rng([seed, call]))
        seen += [space.format(a) for a in result.assignments]
        history += [FinishedTrial(f"t{len(history)}", a, "Succeeded", 0.0) for a in result.assignments]
        if result.exhausted:
            break
    return seen


KATIB_GRID_EXAMPLE = SearchSpace(
    (
        Parameter("lr", "double", 0.01, 0.05, step=0.005, decimals=3),
        Parameter("momentum", "double", 0.5, 0.9, step=0.1, decimals=1),
    )
)


def test_grid_runs_every_point_of_katibs_grid_example_once_then_ends():
    seen = _grid_run(KATIB_GRID_EXAMPLE, seed=0, batch=7)
    expected = {(lr, m) for lr in KATIB_GRID_EXAMPLE["lr"].grid() for m in KATIB_GRID_EXAMPLE["momentum"].grid()}
    assert len(seen) == len(expected) == 9 * 5
    assert {(float(s["lr"]), float(s["momentum"])) for s in seen} == expected


def test_grid_order_is_the_seeds():
    """Same seed and history, same points; another seed, another order (Katib's GridSampler is
    seeded by random_state)."""
    assert _grid_run(KATIB_GRID_EXAMPLE, seed=3, batch=4) == _grid_run(KATIB_GRID_EXAMPLE, seed=3, batch=4)
    assert _grid_run(KATIB_GRID_EXAMPLE, seed=3, batch=4) != _grid_run(KATIB_GRID_EXAMPLE, seed=4, batch=4)


def test_grid_budget_smaller_than_the_grid_spreads_over_it():
    """grid5.yaml (QA): lr 0.1..0.5 x batch 16..80, maxTrialCount 5 ran lr 0.1 five times, as the
    grid went in lexicographic order; Katib's GridSampler draws each point among those left."""
    space = SearchSpace((Parameter("lr", "double", 0.1, 0.5, step=0.1, decimals=1), Parameter("batch", "int", 16, 80, step=16)))
    for seed in range(5):
        five = registry.create("grid", {}).suggest(Problem(space, "minimize", "loss", {}), [], [], 5, np.random.default_rng(seed))
        assert len(five.assignments) == 5 and not five.exhausted
        assert len({a["lr"] for a in five.assignments}) > 1 and len({space.key(a) for a in five.assignments}) == 5


def test_grid_resumes_from_history_alone():
    """A run stopped after some trials and resumed asks with the history it left: no point again."""
    first = _grid_run(KATIB_GRID_EXAMPLE, seed=1, batch=5)[:20]
    history = [FinishedTrial(f"t{i}", KATIB_GRID_EXAMPLE.parse(a), "Succeeded", 0.0) for i, a in enumerate(first)]
    rest = registry.create("grid", {}).suggest(Problem(KATIB_GRID_EXAMPLE, "minimize", "loss", {}), history, [], 100, np.random.default_rng(9))
    assert rest.exhausted and len(rest.assignments) == 45 - 20
    assert not {KATIB_GRID_EXAMPLE.key(a) for a in rest.assignments} & {KATIB_GRID_EXAMPLE.key(t.assignment) for t in history}


def test_grid_skips_pending_points():
    space = SearchSpace((Parameter("k", "int", 1, 4),))
    problem = Problem(space, "minimize", "loss", {})
    result = registry.create("grid", {}).suggest(problem, [], [{"k": 1}, {"k": 3}], 5, np.random.default_rng(0))
    assert sorted(a["k"] for a in result.assignments) == [2, 4] and result.exhausted


def test_grid_handles_a_huge_integer_range_lazily():
    space = SearchSpace((Parameter("k", "int", 0, 10**12), Parameter("j", "int", 0, 10**12)))
    result = registry.create("grid", {}).suggest(Problem(space, "minimize", "loss", {}), [], [], 3, np.random.default_rng(0))
    assert len({space.key(a) for a in result.assignments}) == 3 and space.contains(result.assignments[0]) and not result.exhausted


def test_mixed_space_fixture_is_valid():
    assert len(mixed_space()) == 6


def _run_rounds(name: str, space: SearchSpace, rounds: list[int], seed: int = 3) -> list[dict]:
    problem = Problem(space, "minimize", "loss", {}, seed=seed)
    algorithm = registry.create(name, {})
    history: list[FinishedTrial] = []
    for index, n in enumerate(rounds):
        result = algorithm.suggest(problem, history, [], n, np.random.default_rng([seed, index]))
        history += [FinishedTrial(f"t{len(history)}", a, "Succeeded", 0.0) for a in result.assignments]
    return [t.assignment for t in history]


def test_sobol_covers_the_space_better_than_random():
    from scipy.stats import qmc

    from kfp_tune.algorithms.unit_cube import encode

    space = SearchSpace((Parameter("a", "double", 0.0, 1.0), Parameter("b", "double", -5.0, 5.0)))
    sobol = np.array([encode(space, a) for a in _run_rounds("sobol", space, [16] * 4)])
    uniform = np.array([encode(space, a) for a in _run_rounds("random", space, [16] * 4)])
    assert qmc.discrepancy(sobol) < 0.5 * qmc.discrepancy(uniform)


def test_sobol_continues_its_sequence_across_rounds():
    space = SearchSpace((Parameter("a", "double", 0.0, 1.0), Parameter("b", "double", 0.0, 1.0)))
    assert _run_rounds("sobol", space, [8, 8, 16]) == _run_rounds("sobol", space, [32])


def branin(a: dict) -> float:
    x, y = a["x1"], a["x2"]
    b, c, r, s, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 6, 10, 1 / (8 * math.pi)
    return (y - b * x * x + c * x - r) ** 2 + s * (1 - t) * math.cos(x) + s


BRANIN_SPACE = SearchSpace((Parameter("x1", "double", -5.0, 10.0), Parameter("x2", "double", 0.0, 15.0)))


def _median_best(name: str, settings: dict, trials: int, batch: int = 1, seeds: int = 3, direction: str = "minimize") -> float:
    """The median over seeds of the lowest Branin value found; maximize runs see -Branin."""
    sign = 1.0 if direction == "minimize" else -1.0
    best = []
    for seed in range(seeds):
        problem = Problem(BRANIN_SPACE, ObjectiveType(direction), "loss", dict(registry_settings(name, settings)), seed=seed)
        algorithm = registry.create(name, problem.settings)
        history: list[FinishedTrial] = []
        for index in range(trials // batch):
            for a in algorithm.suggest(problem, history, [], batch, np.random.default_rng([seed, index])).assignments:
                history.append(FinishedTrial(f"t{len(history)}", a, "Succeeded", sign * branin(a)))
        best.append(min(branin(t.assignment) for t in history))
    return float(np.median(best))


def registry_settings(name: str, given: dict) -> dict:
    from kfp_tune.core.catalogue import ALGORITHMS, parse_settings

    parsed, errors = parse_settings(ALGORITHMS[name], [(k, str(v)) for k, v in given.items()], "s")
    assert not errors
    return parsed


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
@pytest.mark.parametrize("name", ["tpe", "multivariate-tpe", "bayesianoptimization"])
def test_model_based_algorithms_beat_random_on_branin(name, direction):
    """Seeded and deterministic: with 30 trials each, the median best value is lower than random's,
    also when the experiment maximizes -Branin (random's points are the same either way).
    (CMA-ES needs more trials than that on a multimodal function; see the generation test.)"""
    assert _median_best(name, {}, 30, direction=direction) < _median_best("random", {}, 30)


def test_tpe_models_at_most_25_trials_as_the_good_group(monkeypatch):
    """Katib's hyperopt caps the "below" group at 25 trials (its linear forgetting), however
    many have finished: 200 trials with gamma 0.25 would otherwise put 50 in it. The estimators
    built are recorded to read the group's size (a mutant raising the cap to 26 lived)."""
    from kfp_tune.algorithms import tpe

    sizes: list[int] = []
    real = tpe._Estimator

    def recorded(space, points, *args, **kwargs):
        sizes.append(len(points))
        return real(space, points, *args, **kwargs)

    monkeypatch.setattr(tpe, "_Estimator", recorded)
    space = SearchSpace([Parameter(name="x", type="double", low=0.0, high=1.0)])
    values = np.random.default_rng(0).random(200)
    history = [FinishedTrial(f"t{i}", {"x": float(v)}, "Succeeded", float(v)) for i, v in enumerate(values)]
    settings = registry_settings("tpe", {"gamma": 0.25})
    problem = Problem(space, "minimize", "loss", settings, seed=0)
    registry.create("tpe", settings).suggest(problem, history, [], 1, np.random.default_rng(0))
    assert sizes[0] == 25  # the good group's estimator is built first, then the rest's
    assert sizes[1] == 200 - 25


class _RecordedOptimizers:
    """scikit-optimize's Optimizer, each one built kept, to read what it was given."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        import skopt

        self.built: list = []
        original = skopt.Optimizer
        built = self.built

        class Recorded(original):  # type: ignore[misc, valid-type]
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                built.append(self)

        monkeypatch.setattr(skopt, "Optimizer", Recorded)


@pytest.mark.parametrize("estimator", ["RF", "ET"])
def test_tree_bayesian_optimization_takes_zero_as_a_value(monkeypatch, estimator):
    """Katib's skopt service passes int(n_initial_points) to skopt.Optimizer, 0 included: the
    model from the first result on (one random start before it, where scikit-optimize has
    nothing to fit). xi 0 and kappa 0 are values too, not the defaults."""
    recorded = _RecordedOptimizers(monkeypatch)
    settings = {"base_estimator": estimator, "n_initial_points": 0, "xi": 0.0, "kappa": 0.0}
    problem = Problem(BRANIN_SPACE, "minimize", "loss", settings, seed=0)
    algorithm = registry.create("bayesianoptimization", settings)
    start = algorithm.suggest(problem, [], [], 2, np.random.default_rng(0)).assignments
    assert len(start) == 2
    history = [FinishedTrial(f"t{i}", a, "Succeeded", branin(a)) for i, a in enumerate(start)]
    assert len(algorithm.suggest(problem, history, [], 1, np.random.default_rng(1)).assignments) == 1
    optimizer = recorded.built[-1]
    assert optimizer.n_initial_points_ == 0 and optimizer.models  # fitted on the two results
    assert optimizer.acq_func_kwargs["xi"] == 0.0 and optimizer.acq_func_kwargs["kappa"] == 0.0


def test_gaussian_process_takes_kappa_zero_as_a_value():
    from kfp_tune.algorithms.bayesopt import GPBayesianOptimization

    assert GPBayesianOptimization({"kappa": 0.0}).kappa == 0.0
    assert GPBayesianOptimization({}).kappa == 1.96


def test_bayesian_optimization_batch_spreads_out():
    problem = Problem(BRANIN_SPACE, "minimize", "loss", registry_settings("bayesianoptimization", {}), seed=0)
    algorithm = registry.create("bayesianoptimization", problem.settings)
    rng = np.random.default_rng(0)
    history = [FinishedTrial(f"t{i}", a, "Succeeded", branin(a)) for i, a in enumerate(registry.create("random", {}).suggest(problem, [], [], 12, rng).assignments)]
    batch = algorithm.suggest(problem, history, [], 4, np.random.default_rng(1)).assignments
    points = np.array([[a["x1"] / 15, a["x2"] / 15] for a in batch])
    distances = [np.linalg.norm(points[i] - points[j]) for i in range(4) for j in range(i + 1, 4)]
    assert min(distances) > 0.01, "a constant liar should keep a batch from piling onto one point"


def test_bayesian_optimization_uses_log_scale_only_for_log_parameters():
    from kfp_tune.algorithms.bayesopt import _Encoding

    space = SearchSpace((Parameter("lr", "double", 1e-4, 1.0, distribution="logUniform"), Parameter("m", "double", 0.0, 1.0)))
    encoding = _Encoding(space)
    assert encoding.encode({"lr": 1e-2, "m": 0.5}).tolist() == pytest.approx([0.5, 0.5])
    assert encoding.decode(np.array([0.25, 0.25])) == pytest.approx({"lr": 1e-3, "m": 0.25})


def test_log_expected_improvement_is_exact_and_finite_in_both_tails():
    from scipy.stats import norm

    from kfp_tune.algorithms.bayesopt import log_expected_improvement

    z = np.array([-8.0, -2.0, -1.0, -0.3, 0.0, 0.7, 4.0, 30.0])
    sd = np.full_like(z, 0.5)
    expected = np.log(0.5 * (norm.pdf(z) + z * norm.cdf(z)))
    assert log_expected_improvement(z, sd) == pytest.approx(expected, rel=1e-9)
    extreme = np.array([-1e3, -60.0, -40.0, 1e6, 1e200])
    with np.errstate(all="raise"):
        values = log_expected_improvement(extreme, np.ones_like(extreme))
    assert np.isfinite(values).all() and (np.diff(values) > 0).all(), "ordered and finite where EI itself under- or overflows"


def test_gaussian_process_interpolates_a_deterministic_function():
    """The noise floor is low enough that the posterior passes through noise-free observations
    to 1e-6 of the function's range (a floor of 1e-6 of the variance left 3e-5, and Branin's
    regret stuck at 4e-4)."""
    from kfp_tune.algorithms.gaussian_process import GaussianProcess

    rng = np.random.default_rng(0)
    points = rng.random((40, 2))
    values = np.array([branin({"x1": 15 * a - 5, "x2": 15 * b}) for a, b in points])
    mean, _ = GaussianProcess(points, values, rng).predict(points)
    assert np.abs(mean - values).max() < 1e-6 * np.ptp(values)


def test_cmaes_improves_generation_by_generation():
    space = SearchSpace(tuple(Parameter(f"x{i}", "double", -3.0, 3.0) for i in range(3)))
    problem = Problem(space, "minimize", "loss", registry_settings("cmaes", {}), seed=1)
    algorithm = registry.create("cmaes", problem.settings)
    history: list[FinishedTrial] = []
    for index in range(12):  # popsize for 3 dimensions is 7
        for a in algorithm.suggest(problem, history, [], 7, np.random.default_rng([1, index])).assignments:
            history.append(FinishedTrial(f"t{len(history)}", a, "Succeeded", sum(v * v for v in a.values())))
    first = np.mean([t.objective for t in history[:7]])
    last = np.mean([t.objective for t in history[-7:]])
    assert last < first / 10


def test_cmaes_sigma_is_in_each_parameters_own_units():
    """Katib's goptuna service hands ``sigma`` to goptuna's CMA-ES, which searches the raw
    values (the natural log of a logUniform one): sigma 1 starts every parameter with a
    standard deviation of 1 in its own units around its centre, whatever its range."""
    space = SearchSpace(
        (
            Parameter("x", "double", 0.0, 100.0),
            Parameter("lr", "double", 1e-4, 1.0, distribution="logUniform"),
            Parameter("k", "int", 1, 1000),
        )
    )
    problem = Problem(space, "minimize", "loss", registry_settings("cmaes", {"sigma": 1}), seed=1)
    first = registry.create("cmaes", problem.settings).suggest(problem, [], [], 300, np.random.default_rng(0)).assignments
    columns = {
        "x": (np.array([a["x"] for a in first]), 50.0),
        "lr": (np.log([a["lr"] for a in first]), math.log(1e-2)),
        "k": (np.array([a["k"] for a in first], dtype=float), 500.5),
    }
    for name, (values, centre) in columns.items():
        assert abs(float(np.mean(values)) - centre) < 0.3, name
        assert float(np.std(values)) == pytest.approx(1.0, rel=0.15), name  # k's rounding adds 1/12 to the variance


def test_cmaes_without_sigma_starts_at_a_sixth_of_each_range():
    """Unset, each parameter starts at a sixth of its own range (not goptuna's smallest sixth)."""
    space = SearchSpace((Parameter("x", "double", 0.0, 600.0), Parameter("y", "double", 0.0, 6.0)))
    problem = Problem(space, "minimize", "loss", registry_settings("cmaes", {}), seed=1)
    first = registry.create("cmaes", problem.settings).suggest(problem, [], [], 300, np.random.default_rng(0)).assignments
    assert float(np.std([a["x"] for a in first])) == pytest.approx(100.0, rel=0.15)
    assert float(np.std([a["y"] for a in first])) == pytest.approx(1.0, rel=0.15)


def test_hyperband_schedule_is_katibs():
    """Katib's hyperband service (HyperBandParam.convert, _new_hbParameters,
    _make_child_bracket): s_max = int(log(r_l) / log(eta)); bracket s starts
    n = ceil((s_max + 1) * eta**s / (s + 1)) at int(r_l * eta**-s); rung i + 1 keeps
    ceil(ceil(n * eta**-i) / eta) at int(int(r_l * eta**-s) * eta**(i + 1))."""
    from kfp_tune.algorithms.hyperband import schedule

    def table(r_l: float, eta: float) -> list[list[tuple[int, int]]]:
        return [[(r.size, r.resource) for r in b] for b in schedule(r_l, eta)]

    assert table(9, 3) == [
        [(9, 1), (3, 3), (1, 9)],
        [(5, 3), (2, 9)],  # ceil(5 / 3): Katib promotes 2 where the paper's floor keeps 1
        [(3, 9)],
    ]
    # 20 / 9 = 2.2 and 20 / 3 = 6.7 truncated, and the top rungs 2 * 9 and 6 * 3: 18, not 20
    assert [[r for _, r in b] for b in table(20, 3)] == [[2, 6, 18], [6, 18], [20]]
    # log(1000) / log(10) is 2.9999999999999996 in floats: three brackets, as in Katib
    assert [[r for _, r in b] for b in table(1000, 10)] == [[10, 100, 1000], [100, 1000], [1000]]
    # 49 * 7**-2 is 0.9999999999999999: a resource of 1 (Katib's truncation gives 0)
    assert table(49, 7)[0][0] == (49, 1)


def test_hyperband_gives_a_double_resource_katibs_whole_numbers():
    """Katib prints every resource as str(int(r)): "1", "3", "9", then r_l's "10"."""
    from kfp_tune.algorithms.hyperband import Hyperband, adjust_space

    settings = {"resource_name": "ep", "r_l": 10.0, "eta": 3.0}
    space = adjust_space(SearchSpace((Parameter("x", "double", 0.0, 1.0), Parameter("ep", "double", 1.0, 100.0))), settings)
    problem = Problem(space, "minimize", "loss", settings)
    hyperband = Hyperband(settings)
    history: list[FinishedTrial] = []
    for index in range(40):
        result = hyperband.suggest(problem, history, [], 9, np.random.default_rng(index))
        history += [FinishedTrial(f"t{len(history)}", a, "Succeeded", a["x"]) for a in result.assignments]
        if result.exhausted:
            break
    printed = [space.format(t.assignment)["ep"] for t in history]
    assert printed == ["1"] * 9 + ["3"] * 3 + ["9"] + ["3"] * 5 + ["9"] * 2 + ["10"] * 3


def test_hyperband_end_to_end_promotes_the_best_and_ends(tmp_path):
    """Through tune(): rungs across rounds, promotions of the best, a clean end."""
    from kfp_tune import search, tune

    def objective(p):
        return (p["x"] - 0.3) ** 2 + 1.0 / p["epochs"]

    with pytest.warns(UserWarning, match="hyperband's schedule with r_l 9"):  # 23 trials, fewer than 40: said before it runs
        result = tune(
            objective,
            {"x": search.double(0, 1), "epochs": search.int(1, 1)},
            algorithm="hyperband",
            algorithm_settings={"resource_name": "epochs", "r_l": 9, "eta": 3},  # the rungs and promotions hold whatever x is drawn
            max_trial_count=40,
            parallel_trial_count=3,
            store=str(tmp_path),
        )
    assert (result.status, result.reason) == ("Succeeded", "ExperimentSuggestionEndReached")
    epochs = [t.parameters["epochs"] for t in result.trials]
    assert epochs == [1] * 9 + [3] * 3 + [9] + [3] * 5 + [9] * 2 + [9] * 3  # Katib's ceil: 2 of the 5
    first_rung = sorted(result.trials[:9], key=lambda t: t.metrics["objective"])
    promoted = result.trials[9:12]
    assert [t.parameters["x"] for t in promoted] == [t.parameters["x"] for t in first_rung[:3]]
    best_of_second = min(promoted, key=lambda t: t.metrics["objective"])
    assert result.trials[12].parameters["x"] == best_of_second.parameters["x"]


def test_hyperband_runs_a_rung_member_an_interrupt_gave_back_again():
    """A Ctrl-C during bracket 1's second rung gives its trials back. That rung was lost: the
    next bracket started, and the rung's best never reached the top resource."""
    from kfp_tune.algorithms.hyperband import Hyperband

    space = SearchSpace((Parameter("x", "double", 0.0, 1.0), Parameter("epochs", "int", 1, 9)))
    problem = Problem(space, "minimize", "loss", {})
    hyperband = Hyperband({"resource_name": "epochs", "r_l": 9, "eta": 3})
    first = hyperband.suggest(problem, [], [], 9, np.random.default_rng(0)).assignments
    history = [FinishedTrial(f"t{i}", a, "Succeeded", a["x"]) for i, a in enumerate(first)]
    promoted = hyperband.suggest(problem, history, [], 3, np.random.default_rng(1)).assignments
    assert [a["x"] for a in promoted] == sorted(a["x"] for a in first)[:3] and {a["epochs"] for a in promoted} == {3}
    killed = [FinishedTrial(f"k{i}", a, "Killed", None, given_back=True) for i, a in enumerate(promoted)]
    again = hyperband.suggest(problem, history + killed, [], 3, np.random.default_rng(2))
    assert again.assignments == promoted and again.repeats  # the same rung, run in their place
    done = [FinishedTrial(f"r{i}", a, "Succeeded", a["x"]) for i, a in enumerate(promoted)]
    top = hyperband.suggest(problem, history + killed + done, [], 1, np.random.default_rng(3)).assignments
    assert top == [{"x": min(a["x"] for a in promoted), "epochs": 9}] and not hyperband.suggest(problem, history + killed + done, [], 1, np.random.default_rng(3)).repeats


def test_hyperband_runs_the_missing_promotion_when_trials_after_it_finished():
    """A promoted trial given back while trials suggested after it finished: the best of rung 1
    interrupted and the next two done; the top rung's trial interrupted and the next bracket's
    first rung done. The missing point is run again (a repeat of the point given back), not the
    third best twice nor a new configuration in its place."""
    from kfp_tune.algorithms.hyperband import Hyperband

    space = SearchSpace((Parameter("x", "double", 0.0, 1.0), Parameter("epochs", "int", 1, 9)))
    problem = Problem(space, "minimize", "loss", {})
    hyperband = Hyperband({"resource_name": "epochs", "r_l": 9, "eta": 3})

    def ran(assignments: list, name: str) -> list[FinishedTrial]:
        return [FinishedTrial(f"{name}{i}", a, "Succeeded", a["x"]) for i, a in enumerate(assignments)]

    history = ran(hyperband.suggest(problem, [], [], 9, np.random.default_rng(0)).assignments, "t")
    best, second, third = hyperband.suggest(problem, history, [], 3, np.random.default_rng(1)).assignments
    history += [FinishedTrial("k0", best, "Killed", None, given_back=True), *ran([second, third], "r")]
    again = hyperband.suggest(problem, history, [], 1, np.random.default_rng(2))
    assert (again.assignments, again.repeats) == ([best], True)
    history += ran([best], "b")
    top = hyperband.suggest(problem, history, [], 1, np.random.default_rng(3)).assignments
    assert top == [{"x": best["x"], "epochs": 9}]
    next_bracket = hyperband.suggest(problem, history + ran(top, "p"), [], 5, np.random.default_rng(4)).assignments
    assert {a["epochs"] for a in next_bracket} == {3}
    history += [FinishedTrial("k1", top[0], "Killed", None, given_back=True), *ran(next_bracket, "n")]
    again = hyperband.suggest(problem, history, [], 1, np.random.default_rng(5))
    assert (again.assignments, again.repeats) == (top, True)
    history += ran(top, "q")
    promoted = hyperband.suggest(problem, history, [], 2, np.random.default_rng(6)).assignments
    assert promoted == [{"x": x, "epochs": 9} for x in sorted(a["x"] for a in next_bracket)[:2]]


def test_hyperband_repeats_configurations_where_the_other_parameters_have_too_few(tmp_path, monkeypatch):
    """Two values of opt and a first bracket of 9: the run failed after its first trials ('the
    search space is too small for its brackets', called a defect in the algorithm). Katib's
    service draws with replacement and runs it; so does kfp-tune, the repeats marked as such."""
    import kfp_tune
    from kfp_tune import search
    from kfp_tune.algorithms.hyperband import Hyperband

    with pytest.warns(UserWarning, match="hyperband's schedule with r_l 9"):  # 23 trials, fewer than 30
        result = kfp_tune.tune(
            lambda p: {"objective": (1.0 if p["opt"] == "a" else 2.0) / p["epochs"]},
            {"opt": search.categorical(["a", "b"]), "epochs": search.int(1, 9)},
            algorithm="hyperband",
            algorithm_settings={"resource_name": "epochs", "r_l": 9, "eta": 3},
            max_trial_count=30,
            parallel_trial_count=1,
            store=str(tmp_path),
        )
    assert (result.status, result.reason) == ("Succeeded", "ExperimentSuggestionEndReached")
    assert [t.parameters["epochs"] for t in result.trials] == [1] * 9 + [3] * 3 + [9] + [3] * 5 + [9] * 2 + [9] * 3
    assert {t.parameters["opt"] for t in result.trials[:9]} == {"a", "b"}
    assert result.trials[12].parameters["opt"] == "a"  # the best went up to r_l
    space = SearchSpace((Parameter("opt", "categorical", choices=("a", "b")), Parameter("epochs", "int", 1, 9)))
    first = Hyperband({"resource_name": "epochs", "r_l": 9, "eta": 3}).suggest(Problem(space, "minimize", "loss", {}), [], [], 9, np.random.default_rng(0))
    assert len(first.assignments) == 9 and first.repeats
    monkeypatch.setattr("kfp_tune.algorithms.hyperband.MAX_DRAWS", 1)  # draws that miss the values left: those are listed
    space = SearchSpace((Parameter("x", "int", 1, 81), Parameter("epochs", "int", 1, 81)))
    first = Hyperband({"resource_name": "epochs", "r_l": 81, "eta": 3}).suggest(Problem(space, "minimize", "loss", {}), [], [], 81, np.random.default_rng(0))
    assert (len({a["x"] for a in first.assignments}), first.repeats) == (81, False)  # no repeat while a configuration is left


def test_validate_notes_that_hyperband_repeats_configurations_where_the_other_parameters_have_too_few(tmp_path, capsys):
    import yaml

    from conftest import quadratic_experiment
    from kfp_tune.cli import main
    from kfp_tune.core.catalogue import hyperband_repeat_note

    def validate(x: dict) -> list[str]:
        doc = quadratic_experiment(**{"spec.parallelTrialCount": 9, "spec.maxTrialCount": 30})
        doc["spec"]["algorithm"] = {"algorithmName": "hyperband", "algorithmSettings": [{"name": n, "value": v} for n, v in (("resource_name", "y"), ("r_l", "9"), ("eta", "3"))]}
        doc["spec"]["parameters"] = [{"name": "x", **x}, {"name": "y", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "9"}}]
        (tmp_path / "exp.yaml").write_text(yaml.safe_dump(doc))
        assert main(["validate", str(tmp_path / "exp.yaml")]) == 0
        return [line for line in capsys.readouterr().err.splitlines() if "repeat" in line]

    assert validate({"parameterType": "discrete", "feasibleSpace": {"list": ["0", "0.5"]}}) == [
        "note: spec.parameters: hyperband's schedule runs 9 configurations at y 1 and the parameters other than 'y' have only 2, so some repeat: "
        "a configuration runs again at the same resource (Katib's hyperband service draws with replacement and repeats them too)"
    ]
    assert validate({"parameterType": "double", "feasibleSpace": {"min": "0", "max": "1", "step": "0.125"}}) == []  # 9 values
    assert validate({"parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}) == []
    # r_l 16, eta 2: no bracket starts more than 16, but at epochs 2 a bracket's 10 new ones meet 8 promoted
    # from the bracket below, 18 in all: 16 values repeat there (the note compared the largest bracket only)
    space = SearchSpace((Parameter("opt", "categorical", choices=tuple("abcdefghijklmnop")), Parameter("epochs", "int", 1, 16)))
    assert (hyperband_repeat_note(space, {"resource_name": "epochs", "r_l": 16, "eta": 2}) or "").startswith(
        "hyperband's schedule runs 18 configurations at epochs 2 and the parameters other than 'epochs' have only 16, so some repeat")


def test_grid_tries_a_point_an_interrupt_gave_back_again():
    space = SearchSpace((Parameter("k", "int", 1, 3),))
    problem = Problem(space, "minimize", "loss", {})
    history = [FinishedTrial("t0", {"k": 1}, "Succeeded", 1.0), FinishedTrial("t1", {"k": 2}, "Killed", None, given_back=True)]
    result = registry.create("grid", {}).suggest(problem, history, [], 5, np.random.default_rng(0))
    assert (sorted(a["k"] for a in result.assignments), result.exhausted, result.repeats) == ([2, 3], True, True)


def test_grid_ignores_a_trial_off_its_grid():
    """A trial from before the experiment was edited (k 7, off the grid now) takes no grid point:
    all 6 are still suggested."""
    space = SearchSpace((Parameter("k", "int", 1, 3), Parameter("c", "categorical", choices=("a", "b"))))
    history = [FinishedTrial("old", {"k": 7, "c": "a"}, "Succeeded", 1.0)]
    result = registry.create("grid", {}).suggest(Problem(space, "minimize", "loss", {}), history, [], 10, np.random.default_rng(0))
    assert (len({tuple(a.items()) for a in result.assignments}), result.exhausted) == (6, True)


def test_hyperband_makes_a_discrete_resource_an_int_up_to_r_l():
    """Katib's service sets the resource to str(r) whatever its type: a discrete list's values do
    not bound it, r_l does (rounded up)."""
    from kfp_tune.algorithms.hyperband import Hyperband, adjust_space

    space = SearchSpace((Parameter("x", "double", 0.0, 1.0), Parameter("epochs", "discrete", choices=("1", "3", "9"))))
    assert adjust_space(space, {"resource_name": "epochs", "r_l": 8.5, "eta": 3})["epochs"] == Parameter("epochs", "int", low=2.0, high=9.0)  # int(8.5 / 3) to ceil(8.5)
    settings = {"resource_name": "epochs", "r_l": 9, "eta": 3}
    adjusted = adjust_space(space, settings)
    result = Hyperband(settings).suggest(Problem(adjusted, "minimize", "loss", settings), [], [], 9, np.random.default_rng(0))
    assert all(adjusted.contains(a) for a in result.assignments) and {adjusted.format(a)["epochs"] for a in result.assignments} == {"1"}


def test_a_problem_made_with_three_arguments_has_no_settings():
    """A plug-in author's test builds Problem(space, objective type, metric): its settings are an
    empty dict of its own."""
    space = SearchSpace((Parameter("x", "double", 0.0, 1.0),))
    first, second = Problem(space, ObjectiveType.MINIMIZE, "loss"), Problem(space, ObjectiveType.MINIMIZE, "loss")
    assert first.settings == {} and first.settings is not second.settings


def test_hyperband_katib_example_runs_its_budget(tmp_path):
    import yaml

    from conftest import DATA, QUADRATIC
    from kfp_tune.core.loading import load_experiment
    from kfp_tune.inline_runner import run_inline
    from kfp_tune.launchers import LocalLauncher
    from kfp_tune.stores import LocalStore

    doc = yaml.safe_load((DATA / "katib-examples" / "hp-tuning_hyperband.yaml").read_text())
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["command"] = ["python3", str(QUADRATIC), "x=${trialParameters.learningRate}", "y=${trialParameters.momentum}", "e=${trialParameters.numberEpochs}"]
    experiment = load_experiment(doc)
    decision = run_inline(LocalStore(tmp_path), experiment, LocalLauncher())
    assert (decision.phase, decision.reason, decision.counts["total"]) == ("Succeeded", "ExperimentMaxTrialsReached", 2)
