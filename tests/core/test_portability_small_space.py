"""Random, tpe and Katib's other drawing algorithms on a finite space smaller than
maxTrialCount: Katib draws with replacement and runs the whole budget, repeats included;
kfp-tune never repeats a point and ends early, which validate / run now say in a note beside
the grid's (QA report s35 examples, finding 2)."""

from __future__ import annotations

import pytest

from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.portability import katib_notes

SPACE = [
    {"name": "x", "parameterType": "categorical", "feasibleSpace": {"list": ["a", "b"]}},
    {"name": "y", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "3"}},
]


def notes(algorithm: str, max_trial_count: int | None, space: list | None = None) -> dict[str, str]:
    doc = quadratic_experiment(**{"spec.algorithm": {"algorithmName": algorithm}, "spec.parameters": space or SPACE})
    doc["spec"]["maxTrialCount"] = max_trial_count
    if max_trial_count is None:
        del doc["spec"]["maxTrialCount"]
        doc["spec"]["objective"]["goal"] = 0.0
    return {note.path: note.message for note in katib_notes(load_experiment(doc))}


@pytest.mark.parametrize(("algorithm", "service"), [("random", "hyperopt"), ("tpe", "hyperopt"), ("multivariate-tpe", "optuna"),
                                                     ("sobol", "goptuna"), ("bayesianoptimization", "skopt")])
def test_a_space_smaller_than_max_trial_count_is_noted(algorithm: str, service: str) -> None:
    assert notes(algorithm, 7)["spec.maxTrialCount"] == (
        f"Katib's {algorithm} ({service}) draws with replacement and runs all 7 trials, repeats included; this search space has "
        "only 6 points, and kfp-tune never repeats one: it runs at most 6 trials and ends with ExperimentSuggestionEndReached"
    )


@pytest.mark.parametrize("max_trial_count", [6, None])
def test_a_budget_the_space_can_fill_gets_no_note(max_trial_count: int | None) -> None:
    assert "spec.maxTrialCount" not in notes("random", max_trial_count)


def test_an_unstepped_double_is_no_finite_space() -> None:
    space = [SPACE[0], {"name": "y", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}]
    assert "spec.maxTrialCount" not in notes("tpe", 100, space)


def test_a_stepped_double_counts_its_points() -> None:
    space = [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "0.5", "step": "0.1"}},
             {"name": "y", "parameterType": "discrete", "feasibleSpace": {"list": ["1"]}}]
    assert "only 5 points" in notes("random", 6, space)["spec.maxTrialCount"]
