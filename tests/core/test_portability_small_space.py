"""Random, tpe and Katib's other drawing algorithms on a finite space smaller than
maxTrialCount: Katib runs the whole budget (nothing de-duplicates its suggestions); kfp-tune
never repeats a point and ends early, which validate, run, submit and schedule now say in a note
(QA report s35 examples, finding 2; review C: run never said it)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
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
        f"Katib's {algorithm} ({service}) runs all 7 trials whatever the space's size (nothing there de-duplicates a suggestion); "
        "this search space has only 6 points, and kfp-tune never repeats one: it runs at most 6 trials and ends with ExperimentSuggestionEndReached"
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


def test_kfp_tune_run_says_it_before_the_first_trial(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """validate said it; a user who went straight to run learnt it only when the run ended."""
    space = [{"name": "x", "parameterType": "discrete", "feasibleSpace": {"list": ["0.2", "0.4"]}},
             {"name": "y", "parameterType": "discrete", "feasibleSpace": {"list": ["0.5"]}}]
    doc = quadratic_experiment(**{"spec.parameters": space, "spec.maxTrialCount": 3, "spec.parallelTrialCount": 1})
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["run", str(path), "--store", str(tmp_path / "store"), "--engine", "inline"]) == 0
    err = capsys.readouterr().err
    note = "note: spec.maxTrialCount: Katib's random (hyperopt) runs all 3 trials whatever the space's size"
    assert note in err and err.index(note) < err.index("ExperimentSuggestionEndReached"), err


def test_tune_warns_it_naming_its_own_argument(tmp_path: Path) -> None:
    """A notebook's tune() on a 2-value categorical with max_trial_count=5 ended after 2 trials
    without a word, where run, submit, schedule and validate say it."""
    import warnings

    from kfp_tune import search, tune

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = tune(lambda p: 1.0 if p["c"] == "a" else 0.5, {"c": search.categorical(["a", "b"])}, max_trial_count=5,
                      algorithm="random", algorithm_settings={"random_state": 1}, store=str(tmp_path), name="two")
    said = [str(w.message) for w in caught if "points" in str(w.message)]
    assert said == [
        "tune(): max_trial_count: Katib's random (hyperopt) runs all 5 trials whatever the space's size (nothing there de-duplicates a "
        "suggestion); this search space has only 2 points, and kfp-tune never repeats one: it runs at most 2 trials and ends with "
        "ExperimentSuggestionEndReached"
    ], said
    assert len(result.trials) == 2
