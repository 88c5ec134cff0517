"""A faulty plug-in is named as the one at fault: an algorithm that raises or breaks its contract,
and a launcher whose run() returns nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.algorithms import registry
from kfp_tune.algorithms.base import Problem, Suggestions
from kfp_tune.cli import main
from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.space import Parameter, SearchSpace
from kfp_tune.core.vocabulary import ObjectiveType
from kfp_tune.inline_runner import run_inline
from kfp_tune.steps.designer import AlgorithmError, check_labels, check_suggestions
from kfp_tune.stores import LocalStore


class DividesByZero:
    name = "random"

    def __init__(self, settings):
        pass

    def suggest(self, problem, history, pending, n, rng):
        return 1 / 0


def test_an_exception_in_an_algorithm_names_the_algorithm_not_kfp_tune(tmp_path: Path, capsys, clean_plugin_registries):
    registry.register("random", DividesByZero)
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment()))
    assert main(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "store")]) == 1
    err = capsys.readouterr().err
    assert "defect in kfp-tune" not in err
    assert re.search(
        r"error: algorithm 'random' \((test_plugin_errors|tests\.steps\.test_plugin_errors)\.DividesByZero\) raised ZeroDivisionError: division by zero "
        r"\(at .*test_plugin_errors\.py:\d+, in suggest\): the error is in that algorithm, not in kfp-tune",
        err,
    ), err


def _problem() -> Problem:
    space = SearchSpace((Parameter("x", "double", 0.0, 1.0), Parameter("k", "int", 1, 4, step=1)))
    return Problem(space=space, objective_type=ObjectiveType.MINIMIZE, objective_metric="loss")


@pytest.mark.parametrize(
    ("out", "explained", "message"),
    [
        ([{"x": 0.5, "k": 1}, {"x": 0.6, "k": 2}], True, "algorithm 'mine' returned 2 suggestions for 1 asked: more than asked is never allowed"),
        ([], False, "algorithm 'mine' returned 0 suggestions for 1 asked and said neither exhausted (the space has no more) nor waiting (for results)"),
        ([{"x": 1.5, "k": 1}], False, "algorithm 'mine' suggested an infeasible point {'x': 1.5, 'k': 1}: parameter 'x' is 1.5 (float); expected double from 0.0 to 1.0"),
        ([{"x": 0.5, "k": 7}], False, "parameter 'k' is 7 (int); expected int from 1 to 4 in steps of 1 from 1"),
        ([{"x": 0.5, "k": "2"}], False, "parameter 'k' is '2' (str); expected int from 1 to 4"),
        ([{"x": 0.5}], False, "parameter 'k' is missing"),
        ([{"x": 0.5, "k": 1, "z": 3}], False, "'z' is not a parameter of the search space (x, k)"),
        ([["x", 0.5]], False, "expected a dict of parameter name to value, got list"),
    ],
    ids=["more-than-asked", "fewer-unexplained", "double-out-of-range", "int-out-of-range", "wrong-type", "missing", "unknown", "not-a-dict"],
)
def test_an_answer_that_breaks_the_contract_is_refused_saying_what_is_wrong(out, explained, message):
    with pytest.raises(AlgorithmError) as caught:
        check_suggestions(_problem(), out, explained, 1, set(), who="algorithm 'mine'")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("point", "message"),
    [
        ({"seed": 4294967296, "k": 0}, "parameter 'seed' is 4294967296 (int); expected int from 0 to 4294967295"),
        ({"seed": 4294967299, "k": 0}, "parameter 'seed' is 4294967299 (int)"),
        ({"seed": -1, "k": 0}, "parameter 'seed' is -1 (int)"),
        ({"seed": 0, "k": 10**7 + 1}, "parameter 'k' is 10000001 (int); expected int from -3000000000 to 3000000000 in steps of 10000000"),
    ],
    ids=["one-past-max", "four-past-max", "below-min", "off-step"],
)
def test_a_plug_in_int_outside_a_large_range_or_off_its_step_breaks_the_contract(point, message):
    """Ints compare exactly: the rounding allowance a double gets (1e-9 of the range) is 4 on a
    0..2**32-1 seed, and one off a step of 1e7 is a millionth of a step, so these points ran."""
    seed = Parameter("seed", "int", 0, 4294967295)
    stepped = Parameter("k", "int", -3 * 10**9, 3 * 10**9, step=10**7)
    problem = Problem(space=SearchSpace((seed, stepped)), objective_type=ObjectiveType.MINIMIZE, objective_metric="loss")
    check_suggestions(problem, [{"seed": 4294967295, "k": 3 * 10**9}], False, 1, set())  # each one's max is feasible
    with pytest.raises(AlgorithmError) as caught:
        check_suggestions(problem, [point], False, 1, set(), who="algorithm 'mine'")
    assert f"algorithm 'mine' suggested an infeasible point {point!r}: {message}" in str(caught.value)


def test_labels_that_break_the_contract_name_the_algorithm():
    with pytest.raises(AlgorithmError, match=r"^algorithm 'mine' returned labels for 2 suggestions and 1 suggestions$"):
        check_labels(Suggestions([{"x": 0.5}], labels=[{}, {}]), "algorithm 'mine'")


class ReturnsAList:
    name = "random"

    def __init__(self, settings):
        pass

    def suggest(self, problem, history, pending, n, rng):
        return [{"x": 0.5, "y": 0.5}]


def test_an_algorithm_that_returns_no_suggestions_object_is_named(tmp_path: Path, clean_plugin_registries):
    registry.register("random", ReturnsAList)
    with pytest.raises(AlgorithmError, match=r"algorithm 'random' \(.*ReturnsAList\) returned list; expected kfp_tune\.algorithms\.Suggestions"):
        run_inline(LocalStore(tmp_path / "store"), load_experiment(quadratic_experiment()), _Unused())


class _Unused(Launcher):
    def run(self, trial: TrialRun) -> LaunchOutcome:
        raise AssertionError("no trial should start")


class ForgetsToReturn(Launcher):
    def run(self, trial: TrialRun) -> LaunchOutcome:
        return None  # type: ignore[return-value]


def test_a_launcher_whose_run_returns_none_is_named(tmp_path: Path):
    with pytest.raises(KfpTuneError, match=r"launcher (test_plugin_errors|tests\.steps\.test_plugin_errors)\.ForgetsToReturn\.run\(\) returned None for trial '[a-z0-9-]+': "
                       r"a launcher's run\(\) must return a LaunchOutcome .* or raise TrialNotCreated"):
        run_inline(LocalStore(tmp_path / "store"), load_experiment(quadratic_experiment()), ForgetsToReturn())
