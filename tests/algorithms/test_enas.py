"""enas: Katib's ENAS controller in numpy (its policy's formulas, its REINFORCE step with a moving
baseline and TensorFlow's Adam, a hand-written gradient checked against finite differences),
rebuilt from the history on every call, and the architectures it gives trials."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from conftest import load_katib_example
from kfp_tune.algorithms import registry
from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions
from kfp_tune.algorithms.enas import ENAS, Controller, ControllerSettings, replay
from kfp_tune.algorithms.nas_space import NasSpace
from kfp_tune.algorithms.testing import GivenBackContract
from kfp_tune.core.catalogue import ALGORITHMS, parse_settings
from kfp_tune.core.space import Parameter, SearchSpace, Value
from kfp_tune.core.spec import parse_experiment
from kfp_tune.core.vocabulary import ObjectiveType

TEXT_SPACE = SearchSpace((Parameter("architecture", "text"), Parameter("nn_config", "text")))
"""What an enas experiment's trials are assigned (catalogue.experiment_space)."""


def enas_cpu_config() -> dict[str, Any]:
    """Katib's enas-cpu example's nasConfig, as Problem.nas_config holds it."""
    config = parse_experiment(load_katib_example("nas_enas-cpu.yaml")).spec.nas_config
    assert config is not None
    return config.to_dict()


def small_config(num_layers: int, operations: int) -> dict[str, Any]:
    """``operations`` candidates: one convolution with that many filter sizes."""
    sizes = [str(k) for k in range(operations)]
    return {
        "graphConfig": {"numLayers": num_layers, "inputSizes": [8, 8, 1], "outputSizes": [10]},
        "operations": [{"operationType": "convolution", "parameters": [{"name": "filter_size", "parameterType": "categorical", "feasibleSpace": {"list": sizes}}]}],
    }


def settings_of(**given: Any) -> dict[str, Any]:
    """Parsed as an experiment's algorithmSettings are: Katib's defaults for the rest."""
    parsed, errors = parse_settings(ALGORITHMS["enas"], [(k, str(v)) for k, v in given.items()], "settings")
    assert not errors, errors
    return parsed


def problem_of(config: dict[str, Any], direction: str = "maximize", seed: int = 0, **given: Any) -> Problem:
    return Problem(TEXT_SPACE, ObjectiveType(direction), "Validation-Accuracy", settings_of(**given), nas_config=config, seed=seed)


def suggest(problem: Problem, history: Sequence[FinishedTrial], n: int, seed: int, pending: Sequence[dict[str, Value]] = ()) -> Suggestions:
    return registry.create("enas", problem.settings).suggest(problem, history, list(pending), n, np.random.default_rng(seed))


def run_trials(problem: Problem, score: Callable[[dict[str, Value]], float], trials: int, batch: int = 2) -> list[FinishedTrial]:
    """A sequential experiment: each round asks for ``batch`` and finishes them with ``score``."""
    history: list[FinishedTrial] = []
    for round_index in range(trials // batch):
        for assignment in suggest(problem, history, batch, seed=round_index).assignments:
            history.append(FinishedTrial(f"t{len(history)}", assignment, "Succeeded", score(assignment)))
    return history


# ------------------------------------------------------------------------ the controller's maths


@pytest.mark.parametrize(
    "settings",
    [
        ControllerSettings(hidden_size=6),  # Katib's defaults but a small LSTM
        ControllerSettings(hidden_size=5, temperature=None, tanh_const=None, skip_weight=None),  # Katib's "None"s
        ControllerSettings(hidden_size=4, temperature=0.7, tanh_const=None, skip_target=0.2, skip_weight=3.0),
    ],
)
@pytest.mark.parametrize("layers", [1, 4])
def test_the_gradient_matches_finite_differences(settings: ControllerSettings, layers: int):
    """Backpropagation through the LSTM, the softmax, the skip attention and the KL penalty, for
    loss = -log p(architecture) * advantage + skip_weight * penalty, against central
    differences of that loss in float64 with weights large enough that nothing is linear."""
    controller = Controller(layers, 5, settings, seed=1, dtype=np.float64)
    controller.theta[:] = np.random.default_rng(2).normal(0.0, 0.5, controller.theta.size)
    decisions = controller.sample(np.random.default_rng(3))
    advantage = 0.7
    analytic = controller.gradient(controller.run(decisions)[1], advantage)
    numeric = np.empty_like(analytic)
    step = 1e-6
    for k in range(controller.theta.size):
        kept = controller.theta[k]
        controller.theta[k] = kept + step
        above = controller.loss(controller.run(decisions)[1], advantage)
        controller.theta[k] = kept - step
        below = controller.loss(controller.run(decisions)[1], advantage)
        controller.theta[k] = kept
        numeric[k] = (above - below) / (2 * step)
    assert np.linalg.norm(numeric) > 0.1  # a real signal to compare
    assert np.linalg.norm(analytic - numeric) <= 1e-6 * np.linalg.norm(numeric)


def test_katibs_formulas_at_zero_weights():
    """With every weight 0 the LSTM's h stays 0, so each operation has probability 1/K and each
    skip bit 1/2: Katib's sample_log_probs is L log K + (skip bits) log 2, its sample_entropy the
    sum of -log p * p over decisions, and its skip penalty the mean over layers 1.. of
    sum_bits [sigmoid(0) log(sigmoid(0) / (1 - target)) + sigmoid(0) log(sigmoid(0) / target)]."""
    layers, operations, target = 3, 7, 0.4
    controller = Controller(layers, operations, ControllerSettings(hidden_size=8, skip_target=target), seed=0, dtype=np.float64)
    controller.theta[:] = 0.0
    forward = controller.run([3, 1, 0, 6, 1, 1])[1]
    skip_bits = 1 + 2
    assert forward.neg_log_prob == pytest.approx(layers * math.log(operations) + skip_bits * math.log(2))
    assert forward.entropy == pytest.approx(layers * math.log(operations) / operations + skip_bits * math.log(2) / 2)
    per_bit = 0.5 * math.log(0.5 / (1 - target)) + 0.5 * math.log(0.5 / target)
    assert forward.skip_penalty == pytest.approx((1 * per_bit + 2 * per_bit) / 2)
    assert forward.skip_count == 2  # layer 1's bit is 0, layer 2's are 1, 1


def test_one_train_step_moves_the_baseline_and_each_weight_by_the_learning_rate():
    """Katib's step: the baseline moves (1 - decay) of the way to reward + entropy_weight *
    entropy; TensorFlow's Adam moves every weight by about the learning rate on its first step
    (m / sqrt(v) is the gradient's sign, after the bias corrections)."""
    settings = ControllerSettings(hidden_size=8, learning_rate=1e-3, baseline_decay=0.9, entropy_weight=0.5)
    controller = Controller(2, 4, settings, seed=5)
    controller.theta[:] = np.random.default_rng(6).normal(0.0, 0.5, controller.theta.size)  # gradients far above Adam's epsilon
    before = controller.theta.copy()
    decisions = [2, 1, 1]
    forward = controller.run(decisions)[1]
    reward = 0.8 + 0.5 * forward.entropy
    baseline = (1 - 0.9) * reward
    gradient = controller.gradient(forward, reward - baseline)
    controller.train(decisions, 0.8)
    assert controller.baseline == pytest.approx(baseline)
    moved = np.abs(controller.theta - before)
    assert moved.max() <= 1e-3 * 1.001
    # lr * |g| sqrt(1 - beta2) / (|g| sqrt(1 - beta2) + 1e-8): within 3e-4 of lr where |g| > 1e-3
    clear = np.abs(gradient) > 1e-3
    assert clear.sum() > controller.theta.size // 2
    assert np.allclose(moved[clear], 1e-3, rtol=1e-3)
    assert np.all(np.sign(controller.theta - before)[clear] == -np.sign(gradient[clear]))


# ------------------------------------------------------------------------ rebuilt from the history


def finished(space: NasSpace, rng: np.random.Generator, count: int, status: str = "Succeeded") -> list[FinishedTrial]:
    out = []
    for index in range(count):
        architecture = space.random(rng)
        objective = float(rng.random()) if status in ("Succeeded", "EarlyStopped") else None
        out.append(FinishedTrial(f"{status}{index}", space.assignment(architecture), status, objective))
    return out


def test_replay_trains_the_steps_after_each_succeeded_trial_in_trial_order():
    """controller_train_steps steps per Succeeded trial (Katib reads only Succeeded ones); a
    failed or early-stopped trial changes nothing; and the controller rebuilt from 10 trials,
    trained on the next 10, is the one rebuilt from all 20: a resumed run and an uninterrupted
    one hold the same controller."""
    config = small_config(3, 4)
    space = NasSpace.from_config(config)
    problem = problem_of(config, controller_train_steps=3, controller_hidden_size=8, controller_learning_rate=0.01)
    rng = np.random.default_rng(11)
    trials = finished(space, rng, 20)
    others = finished(space, rng, 2, "Failed") + finished(space, rng, 2, "EarlyStopped") + finished(space, rng, 1, "MetricsUnavailable")
    mixed = trials[:5] + others[:3] + trials[5:] + others[3:]

    whole = replay(space, problem, trials)
    assert whole.train_step_count == 3 * 20
    assert np.array_equal(replay(space, problem, mixed).theta, whole.theta)

    resumed = replay(space, problem, trials[:10])
    for trial in trials[10:]:
        for _ in range(3):
            resumed.train(space.decisions(space.parse(str(trial.assignment["architecture"]))), float(trial.objective))  # type: ignore[arg-type]
    assert np.array_equal(resumed.theta, whole.theta) and resumed.baseline == whole.baseline
    assert not np.array_equal(replay(space, problem, trials[::-1]).theta, whole.theta)  # the order is part of it


def test_suggestions_depend_only_on_the_history_and_the_seed():
    """One instance asked again and again, or a fresh one asked once: the same architectures."""
    config = small_config(3, 5)
    space = NasSpace.from_config(config)
    problem = problem_of(config, controller_train_steps=2, controller_hidden_size=8)
    history = finished(space, np.random.default_rng(4), 12)
    algorithm = ENAS(problem.settings)
    for cut in (0, 4, 8):
        algorithm.suggest(problem, history[:cut], [], 3, np.random.default_rng(cut))
    again = algorithm.suggest(problem, history, [], 3, np.random.default_rng(99))
    fresh = ENAS(problem.settings).suggest(problem, history, [], 3, np.random.default_rng(99))
    assert again.assignments == fresh.assignments
    space_of = NasSpace.from_config(config)
    assert not np.array_equal(replay(space_of, replace(problem, seed=1), history).theta, replay(space_of, problem, history).theta)  # problem.seed draws the weights


def test_minimize_is_maximize_of_the_negated_objective():
    """Katib negates the objective for minimize: reporting -f to minimize and f to maximize
    gives the same controller and the same suggestions."""
    config = small_config(2, 6)
    space = NasSpace.from_config(config)
    trials = finished(space, np.random.default_rng(8), 10)
    negated = [replace(t, objective=-t.objective) for t in trials]  # type: ignore[operator]
    settings = {"controller_train_steps": 4, "controller_hidden_size": 8, "controller_learning_rate": 0.02}
    maximize, minimize = problem_of(config, "maximize", **settings), problem_of(config, "minimize", **settings)
    assert np.array_equal(replay(space, maximize, trials).theta, replay(space, minimize, negated).theta)
    assert suggest(maximize, trials, 4, seed=3).assignments == suggest(minimize, negated, 4, seed=3).assignments
    assert not np.array_equal(replay(space, maximize, trials).theta, replay(space, minimize, trials).theta)


# ------------------------------------------------------------------------ it learns


def ops_score(space: NasSpace, good: int) -> Callable[[dict[str, Value]], float]:
    """A synthetic child: the share of layers that use operation ``good``."""

    def score(assignment: dict[str, Value]) -> float:
        architecture = space.parse(str(assignment["architecture"]))
        return sum(layer[0] == good for layer in architecture) / space.num_layers

    return score


@pytest.mark.parametrize("direction", ["maximize", "minimize"])
def test_the_controller_learns_which_operation_is_good(direction: str):
    """With a faster learning rate than Katib's default (5e-5 needs thousands of steps), the
    share of the good operation in the controller's later suggestions is far above the 1/6 of
    a uniform choice and above its own first suggestions; minimizing 1 - score is the same task."""
    config = small_config(3, 6)
    space = NasSpace.from_config(config)
    score = ops_score(space, good=4)
    reported = score if direction == "maximize" else (lambda a: 1.0 - score(a))
    problem = problem_of(config, direction, seed=3, controller_learning_rate=0.005, controller_train_steps=5, controller_hidden_size=16, controller_baseline_decay=0.9)
    history = run_trials(problem, reported, trials=40)
    scores = [score(t.assignment) for t in history]
    first, last = float(np.mean(scores[:10])), float(np.mean(scores[-10:]))
    assert last >= 3 * (1 / 6), f"later suggestions score {last:.2f}; uniform choice scores 1/6"
    assert last > first + 0.2, f"first ten {first:.2f}, last ten {last:.2f}"
    trained = replay(space, problem, history)
    probability = math.exp(-trained.run([4, 4, 0, 4, 0, 0])[1].neg_log_prob)  # all good operations, no skips
    untrained = math.exp(-replay(space, problem, []).run([4, 4, 0, 4, 0, 0])[1].neg_log_prob)
    assert probability > 10 * untrained


# ------------------------------------------------------------------------ what trials get


def test_the_enas_cpu_example_gets_katibs_strings():
    """Katib's enas-cpu example (one layer of 106 candidates): each suggestion is one layer,
    and its nn_config describes exactly the operation chosen, as the space writes it."""
    config = enas_cpu_config()
    space = NasSpace.from_config(config)
    result = suggest(problem_of(config), [], 5, seed=0)
    assert len(result.assignments) == 5 and not result.exhausted
    for assignment in result.assignments:
        (operation,) = space.parse(str(assignment["architecture"]))[0]
        assert assignment["architecture"] == f"[[{operation}]]"
        assert assignment["nn_config"] == space.nn_config_text(((operation,),))
        assert f"'embedding': {{'{operation}': {{'opt_id': {operation}, " in str(assignment["nn_config"])


def test_no_architecture_twice_even_from_a_collapsed_controller():
    """A controller trained hard on one architecture would sample it again and again: the
    suggestions are still new, and none is tried or pending."""
    config = small_config(2, 3)  # 3 * 3 * 2 = 18 architectures
    space = NasSpace.from_config(config)
    favourite = ((1,), (2, 1))
    history = [FinishedTrial("t0", space.assignment(favourite), "Succeeded", 1.0)]
    problem = problem_of(config, controller_learning_rate=0.05, controller_train_steps=100, controller_hidden_size=8)
    assert math.exp(-replay(space, problem, history).run(space.decisions(favourite))[1].neg_log_prob) > 0.6
    pending = [space.assignment(space.at(10))]
    result = suggest(problem, history, 6, seed=1, pending=pending)
    texts = [a["architecture"] for a in result.assignments]
    taken = {t.assignment["architecture"] for t in history} | {pending[0]["architecture"]}
    assert len(texts) == len(set(texts)) == 6 and not taken & set(texts)


def test_a_tiny_space_is_covered_then_exhausted():
    config = small_config(2, 2)  # 2 * 2 * 2 = 8 architectures
    problem = problem_of(config, controller_hidden_size=4, controller_train_steps=1)
    history: list[FinishedTrial] = []
    for round_index in range(10):
        result = suggest(problem, history, 3, seed=round_index)
        history += [FinishedTrial(f"t{len(history)}", a, "Succeeded", 0.5) for a in result.assignments]
        if result.exhausted:
            break
    texts = [t.assignment["architecture"] for t in history]
    assert len(texts) == len(set(texts)) == 8 and result.exhausted
    again = suggest(problem, history, 2, seed=50)
    assert again.assignments == [] and again.exhausted


def test_only_failures_are_like_no_history():
    """Katib's service trains on Succeeded trials only; with none, the controller is the one
    it started with."""
    config = small_config(3, 4)
    space = NasSpace.from_config(config)
    failed = finished(space, np.random.default_rng(2), 3, "Failed")
    problem = problem_of(config, controller_hidden_size=8)
    with_failures = suggest(problem, failed, 4, seed=6)
    assert len(with_failures.assignments) == 4
    assert np.array_equal(replay(space, problem, failed).theta, replay(space, problem, []).theta)


def test_zero_asked_zero_given():
    assert suggest(problem_of(small_config(2, 3)), [], 0, seed=0).assignments == []


def test_katibs_none_settings_run():
    """"None" turns off the temperature, the tanh constant, the entropy bonus and the skip penalty."""
    config = small_config(3, 4)
    space = NasSpace.from_config(config)
    given = {name: "None" for name in ("controller_temperature", "controller_tanh_const", "controller_entropy_weight", "controller_skip_weight")}
    problem = problem_of(config, controller_hidden_size=8, controller_train_steps=2, **given)
    assert all(problem.settings[name] is None for name in given)
    result = suggest(problem, finished(space, np.random.default_rng(1), 4), 3, seed=0)
    assert len(result.assignments) == 3 and all(space.architecture_of(a) is not None for a in result.assignments)


class TestENASGivesBackTrialsAsTheContractSays(GivenBackContract):
    """The contract on trials given back, over nasConfigs: Katib's enas-cpu example (more
    architectures than any batch) and two layers of two operations (8 architectures)."""

    algorithm_name = "enas"

    def given_back_problem(self, finite: bool) -> Problem:
        return problem_of(small_config(2, 2) if finite else enas_cpu_config(), controller_hidden_size=4, controller_train_steps=1)


def test_the_last_architecture_given_back_is_given_again():
    """1 layer of 2 operations (a QA run with enas-cpu's trial): both given out in one round and
    both given back (the run interrupted): both are given again, marked as repeats, and the
    search is exhausted only after that."""
    config = small_config(1, 2)
    problem = problem_of(config, controller_hidden_size=4)
    first = suggest(problem, [], 2, seed=0)
    assert len(first.assignments) == 2 and first.exhausted
    killed = [FinishedTrial(f"k{i}", a, "Killed", given_back=True) for i, a in enumerate(first.assignments)]
    again = suggest(problem, killed, 2, seed=1)
    assert sorted(a["architecture"] for a in again.assignments) == sorted(a["architecture"] for a in first.assignments)
    assert again.exhausted and again.repeats


def test_controller_settings_default_to_the_catalogues_defaults():
    """ControllerSettings() (what a replay without settings builds) holds Katib's defaults as the
    catalogue gives them to validate and the guide: a changed default (skip_target 0.6,
    log_every_steps 11) would otherwise go unseen."""
    assert ControllerSettings() == ControllerSettings.from_settings(settings_of())
