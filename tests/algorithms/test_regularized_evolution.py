"""regularized-evolution: aging evolution (Real et al. 2019) over enas's architectures, rebuilt from
the history on every call: a random initial population, then children of the best of a random
sample, one decision changed, with the oldest member leaving as each new one joins."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import pytest

from conftest import load_katib_example, merge
from kfp_tune import SpecError, load_experiment
from kfp_tune.algorithms import registry
from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions
from kfp_tune.algorithms.nas_space import Architecture, NasSpace
from kfp_tune.algorithms.regularized_evolution import RegularizedEvolution
from kfp_tune.algorithms.testing import GivenBackContract
from kfp_tune.core.catalogue import ALGORITHMS, parse_settings
from kfp_tune.core.space import Parameter, SearchSpace, Value
from kfp_tune.core.vocabulary import ObjectiveType
from kfp_tune.steps.designer import problem_of as designer_problem

TEXT_SPACE = SearchSpace((Parameter("architecture", "text"), Parameter("nn_config", "text")))


def small_config(num_layers: int, operations: int) -> dict[str, Any]:
    """``operations`` candidates: one convolution with that many filter sizes."""
    sizes = [str(k) for k in range(operations)]
    return {
        "graphConfig": {"numLayers": num_layers, "inputSizes": [8, 8, 1], "outputSizes": [10]},
        "operations": [{"operationType": "convolution", "parameters": [{"name": "filter_size", "parameterType": "categorical", "feasibleSpace": {"list": sizes}}]}],
    }


CONFIG = small_config(3, 8)
SPACE = NasSpace.from_config(CONFIG)
# five architectures at least 3 decisions apart (decisions: op, op, skip, op, skip, skip), so a
# child one decision away from one of them is one decision away from no other
A: Architecture = ((0,), (0, 0), (0, 0, 0))
B: Architecture = ((1,), (1, 1), (1, 1, 1))
C: Architecture = ((2,), (2, 0), (2, 1, 1))
D: Architecture = ((3,), (3, 1), (3, 0, 0))
E: Architecture = ((4,), (4, 0), (4, 1, 0))


def problem(direction: str = "maximize", config: dict[str, Any] = CONFIG, seed: int = 0, **given: Any) -> Problem:
    parsed, errors = parse_settings(ALGORITHMS["regularized-evolution"], [(k, str(v)) for k, v in given.items()], "settings")
    assert not errors, errors
    return Problem(TEXT_SPACE, ObjectiveType(direction), "Validation-Accuracy", parsed, nas_config=config, seed=seed)


def trial(name: str, architecture: Architecture, objective: float | None, status: str = "Succeeded") -> FinishedTrial:
    return FinishedTrial(name, SPACE.assignment(architecture), status, objective)


def suggest(p: Problem, history: Sequence[FinishedTrial], n: int, seed: int, pending: Sequence[dict[str, Value]] = ()) -> Suggestions:
    return registry.create("regularized-evolution", p.settings).suggest(p, history, list(pending), n, np.random.default_rng(seed))


def parent_of(child: dict[str, Value], members: Sequence[Architecture]) -> Architecture | None:
    """The member the child is one decision away from (at most one, as they are far apart)."""
    decisions = SPACE.decisions(SPACE.parse(str(child["architecture"])))
    near = [m for m in members if sum(a != b for a, b in zip(SPACE.decisions(m), decisions, strict=True)) == 1]
    assert len(near) <= 1
    return near[0] if near else None


def test_the_first_population_size_trials_are_random_whatever_they_score():
    """Started trials (finished or pending) count towards the initial population: with 4 of
    population_size 5 started, one more is random (the same whatever the four scored), and
    the next is a child."""
    p = problem(population_size=5, sample_size=2)
    scores_one = [trial("a", A, 0.1), trial("b", B, 0.9), trial("c", C, 0.5)]
    scores_two = [trial("a", A, 0.9), trial("b", B, 0.1), trial("c", C, 0.2)]
    pending = [SPACE.assignment(D)]
    first = suggest(p, scores_one, 1, seed=7, pending=pending).assignments
    assert first == suggest(p, scores_two, 1, seed=7, pending=pending).assignments
    assert parent_of(first[0], [A, B, C, D]) is None  # a uniform draw from 8**3 * 2**3 is no one's neighbour here
    two = suggest(p, scores_one, 2, seed=7, pending=pending).assignments
    assert two[0] == first[0] and parent_of(two[1], [A, B, C]) is not None


def test_children_change_one_decision_of_a_member_of_the_population():
    p = problem(population_size=5, sample_size=2)
    history = [trial(str(i), arch, score) for i, (arch, score) in enumerate(zip((A, B, C, D, E), (0.5, 0.4, 0.3, 0.2, 0.1), strict=True))]
    children = suggest(p, history, 30, seed=1).assignments
    assert len({c["architecture"] for c in children}) == 30
    assert all(parent_of(child, [A, B, C, D, E]) is not None for child in children)


def test_the_oldest_leave_the_population_however_good():
    """population_size 3: of A (the best by far), B, C, D, only the last three are parents."""
    p = problem(population_size=3, sample_size=3)
    history = [trial("0", A, 0.99), trial("1", B, 0.1), trial("2", C, 0.2), trial("3", D, 0.3)]
    parents = [parent_of(child, [A, B, C, D]) for child in suggest(p, history, 30, seed=2).assignments]
    assert A not in parents and None not in parents
    assert {B, C, D} >= set(parents) and D in parents  # D, the best left, is the most common parent
    assert parents.count(D) > parents.count(B)


def child_shares(sample_size: int, direction: str = "maximize") -> dict[Architecture | None, float]:
    """How often each member is the parent, over 400 single suggestions with their own seeds."""
    sign = 1.0 if direction == "maximize" else -1.0
    p = problem(direction, population_size=4, sample_size=sample_size)
    history = [trial("0", A, sign * 0.9), trial("1", B, sign * 0.1), trial("2", C, sign * 0.2), trial("3", D, sign * 0.3)]
    parents = [parent_of(suggest(p, history, 1, seed=s).assignments[0], [A, B, C, D]) for s in range(400)]
    return {m: parents.count(m) / len(parents) for m in (A, B, C, D, None)}


def test_the_best_of_the_sample_is_the_parent():
    """A, the best of four, is the parent when a tournament draws it: 1 - (3/4)**4 = 68% of the
    time with sample_size 4, 25% with sample_size 1 (a uniform parent); B, the worst, only when
    all draws are B: (1/4)**4 with 4."""
    four, one = child_shares(4), child_shares(1)
    assert four[A] > 0.55 and 0.15 < one[A] < 0.35
    assert four[B] < 0.03 and one[B] > 0.15
    assert four[None] == one[None] == 0.0
    assert child_shares(4, "minimize")[A] == four[A]  # the objective's sign read through its direction


def test_minimize_is_maximize_of_the_negated_objective():
    history = [trial(str(i), SPACE.random(np.random.default_rng(i)), float(i % 7) / 7) for i in range(12)]
    negated = [replace(t, objective=-t.objective) for t in history]  # type: ignore[operator]
    maximize, minimize = problem("maximize", population_size=6), problem("minimize", population_size=6)
    assert suggest(maximize, history, 5, seed=3).assignments == suggest(minimize, negated, 5, seed=3).assignments
    assert suggest(maximize, history, 5, seed=3).assignments != suggest(minimize, history, 5, seed=3).assignments


def test_failed_trials_are_not_members():
    p = problem(population_size=3, sample_size=3)
    history = [trial("0", A, None, "Failed"), trial("1", B, 0.1), trial("2", C, 0.2)]
    parents = {parent_of(child, [A, B, C]) for child in suggest(p, history, 20, seed=4).assignments}
    assert parents <= {B, C} and parents
    all_failed = [trial(str(i), arch, None, "Failed") for i, arch in enumerate((A, B, C, D))]
    result = suggest(p, all_failed, 4, seed=5)  # nothing to evolve from: random ones
    assert len(result.assignments) == 4 and not {a["architecture"] for a in result.assignments} & {t.assignment["architecture"] for t in all_failed}


def test_suggestions_depend_only_on_the_history_and_the_seed():
    p = problem(population_size=4, sample_size=2)
    history = [trial(str(i), SPACE.random(np.random.default_rng(i)), float(i) / 10) for i in range(10)]
    algorithm = RegularizedEvolution(p.settings)
    for cut in (0, 3, 6):
        algorithm.suggest(p, history[:cut], [], 2, np.random.default_rng(cut))
    assert algorithm.suggest(p, history, [], 4, np.random.default_rng(9)).assignments == RegularizedEvolution(p.settings).suggest(p, history, [], 4, np.random.default_rng(9)).assignments


def test_a_tiny_space_is_covered_then_exhausted_without_repeats():
    config = small_config(2, 2)  # 8 architectures
    p = problem(config=config, population_size=2, sample_size=1)
    history: list[FinishedTrial] = []
    pending = [NasSpace.from_config(config).assignment(((1,), (0, 1)))]
    for round_index in range(10):
        result = suggest(p, history, 3, seed=round_index, pending=pending)
        assert not {a["architecture"] for a in result.assignments} & {pending[0]["architecture"]}
        history += [FinishedTrial(f"t{len(history)}", a, "Succeeded", float(len(history))) for a in result.assignments]
        if result.exhausted:
            break
    texts = [t.assignment["architecture"] for t in history]
    assert len(texts) == len(set(texts)) == 7 and result.exhausted
    assert suggest(p, history, 2, seed=11, pending=pending).assignments == []


def test_zero_asked_zero_given():
    assert suggest(problem(), [], 0, seed=0).assignments == []


# ------------------------------------------------------------------------ it searches


def best_found(population_size: int, seed: int, trials: int = 100) -> int:
    """How many of 21 decisions (6 operations of 4, 15 skip bits) the best of ``trials`` gets
    right on a synthetic child scored by its agreement with a hidden target architecture;
    population_size >= trials is uniform random search without repeats."""
    config = small_config(6, 4)  # 4**6 * 2**15 = 134,217,728 architectures
    space = NasSpace.from_config(config)
    target = space.decisions(space.random(np.random.default_rng([seed, 12345])))  # not a stream the suggestions use
    p = problem(config=config, seed=seed, population_size=population_size, sample_size=min(3, population_size))
    history: list[FinishedTrial] = []
    for round_index in range(trials // 2):
        for assignment in suggest(p, history, 2, seed=seed * 1000 + round_index).assignments:
            decisions = space.decisions(space.parse(str(assignment["architecture"])))
            score = sum(a == b for a, b in zip(decisions, target, strict=True))
            history.append(FinishedTrial(f"t{len(history)}", assignment, "Succeeded", float(score)))
    return int(max(float(t.objective) for t in history))  # type: ignore[arg-type]


def test_evolution_finds_better_architectures_than_random_search_at_equal_trials():
    """Median over 7 seeds of the best of 100 trials: population 5, tournaments of 3, against
    uniform draws (random search would need many times the trials to gain two decisions)."""
    evolved = [best_found(5, seed) for seed in range(7)]
    uniform = [best_found(1000, seed) for seed in range(7)]
    assert np.median(evolved) >= np.median(uniform) + 2, (evolved, uniform)


# ------------------------------------------------------------------------ the experiment


def evolution_experiment(**settings: str) -> dict[str, Any]:
    """Katib's enas-cpu example run with regularized-evolution."""
    algorithm = {"algorithmName": "regularized-evolution", "algorithmSettings": [{"name": k, "value": v} for k, v in settings.items()]}
    return merge(load_katib_example("nas_enas-cpu.yaml"), {"spec.algorithm": algorithm})


def test_katibs_enas_example_runs_with_regularized_evolution():
    experiment = load_experiment(evolution_experiment(population_size="6", random_state="3"))
    p = designer_problem(experiment)
    assert list(p.space.names) == ["architecture", "nn_config"] and p.seed == 3
    assert (p.settings["population_size"], p.settings["sample_size"]) == (6, ALGORITHMS["regularized-evolution"].settings_by_name["sample_size"].default)
    space = NasSpace.from_config(p.nas_config)
    for assignment in suggest(p, [], 3, seed=0).assignments:
        architecture = space.parse(str(assignment["architecture"]))
        assert assignment == space.assignment(architecture)


def test_a_sample_larger_than_the_population_is_refused():
    with pytest.raises(SpecError) as info:
        load_experiment(evolution_experiment(population_size="4", sample_size="5"))
    assert [(e.path, e.message) for e in info.value.errors] == [
        ("spec.algorithm.algorithmSettings", "sample_size 5 is larger than population_size 4: expected at most population_size")
    ]


class TestRegularizedEvolutionGivesBackTrialsAsTheContractSays(GivenBackContract):
    """The contract on trials given back, over nasConfigs: 3 layers of 8 operations (2,048
    architectures) and 2 layers of 2 (8), with a population of 3 so the small one is evolved."""

    algorithm_name = "regularized-evolution"
    settings: ClassVar[dict[str, Any]] = {"population_size": 3, "sample_size": 2}

    def given_back_problem(self, finite: bool) -> Problem:
        return problem(config=small_config(2, 2) if finite else CONFIG, population_size=3, sample_size=2)


def test_a_given_back_trial_is_not_a_member_nor_counted_as_started():
    """The initial population is the first population_size trials that used budget: a trial
    given back leaves a place in it, taken by a random architecture, not a child."""
    p = problem(population_size=3, sample_size=2)
    members = [trial("a", A, 1.0), trial("b", B, 0.5)]
    killed = FinishedTrial("k", SPACE.assignment(C), "Killed", given_back=True)
    with_killed = suggest(p, [*members, killed], 1, seed=4)
    without = suggest(p, members, 1, seed=4)
    assert with_killed.assignments == without.assignments  # the same draw: a random third member
