"""A finite space whose points left are few or unlikely (the tail of a normal int, 2 of 1000
uniform ints): the sampling algorithms' random fallback draws from the points left once its
draws miss, so no point is suggested twice, every point is tried, and the search ends
exhausted (ExperimentSuggestionEndReached), as validate's note promises."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.algorithms import registry
from kfp_tune.algorithms.base import FinishedTrial, Problem
from kfp_tune.algorithms.random_search import new_random_point
from kfp_tune.algorithms.space_tools import used_keys
from kfp_tune.core.space import Parameter, SearchSpace
from kfp_tune.core.vocabulary import ObjectiveType, TrialStatus

NORMAL_INT = SearchSpace((Parameter("x", "int", low=0, high=100, distribution="normal"),))
"""101 points, the ends about 3 standard deviations out: random draws rarely reach them."""

SAMPLERS = ("random", "sobol", "tpe", "multivariate-tpe", "bayesianoptimization", "cmaes")


def _run_to_the_end(name: str, space: SearchSpace, batch: int) -> tuple[list[dict], bool]:
    """Suggestions asked ``batch`` at a time, each told back as finished, until the algorithm
    says exhausted (or gives nothing): every assignment given but those of a call marked
    ``repeats`` (bayesianoptimization measuring a noisy point again, which the designer allows),
    and whether it said exhausted."""
    problem = Problem(space, ObjectiveType.MINIMIZE, "loss", {}, max_trial_count=200, seed=1)
    rng = np.random.default_rng(0)
    history: list[FinishedTrial] = []
    given: list[dict] = []
    for _ in range(200):
        result = registry.create(name, {}).suggest(problem, tuple(history), (), batch, rng)
        tried = {space.key(t.assignment) for t in history}
        for assignment in result.assignments:
            loss = float((assignment["x"] - 37) ** 2)
            history.append(FinishedTrial(f"t{len(history)}", assignment, TrialStatus.SUCCEEDED, loss, {"loss": loss}))
            if not (result.repeats and space.key(assignment) in tried):
                given.append(assignment)
        if result.exhausted or not result.assignments:
            return given, result.exhausted
    return given, False


@pytest.mark.parametrize("name", SAMPLERS)
def test_every_point_of_a_normal_int_once_then_exhausted(name: str) -> None:
    given, exhausted = _run_to_the_end(name, NORMAL_INT, batch=3)
    values = [a["x"] for a in given]
    twice = sorted({v for v in values if values.count(v) > 1})
    assert not twice, f"{name}: suggested twice: {twice} ({len(values)} suggestions, {len(set(values))} distinct)"
    assert sorted(values) == list(range(101)), f"{name}: {len(set(values))} of the 101 points tried"
    assert exhausted, f"{name}: never said exhausted after all 101 points"


def test_cmaes_fallback_on_two_normal_ints() -> None:
    """cmaes searches two numeric parameters at least (validate refuses fewer): its collapsed
    distribution falls back to the same random draws."""
    space = SearchSpace(tuple(Parameter(n, "int", low=0, high=12, distribution="normal") for n in ("x", "y")))
    problem = Problem(space, ObjectiveType.MINIMIZE, "loss", {}, max_trial_count=200, seed=1)
    rng = np.random.default_rng(0)
    history: list[FinishedTrial] = []
    for _ in range(200):
        result = registry.create("cmaes", {}).suggest(problem, tuple(history), (), 4, rng)
        for a in result.assignments:
            loss = float((a["x"] - 6) ** 2 + (a["y"] - 6) ** 2)
            history.append(FinishedTrial(f"t{len(history)}", a, TrialStatus.SUCCEEDED, loss, {"loss": loss}))
        if result.exhausted or not result.assignments:
            break
    keys = [space.key(t.assignment) for t in history]
    assert len(keys) == len(set(keys)) == 169 and result.exhausted


@pytest.mark.parametrize("seed", range(5))
def test_the_fallback_finds_the_two_points_left_of_a_thousand(seed: int) -> None:
    space = SearchSpace((Parameter("x", "int", low=0, high=999),))
    history = [FinishedTrial(f"t{v}", {"x": v}, TrialStatus.SUCCEEDED, 0.0, {"loss": 0.0}) for v in range(1000) if v not in (17, 871)]
    used = used_keys(space, history, [])
    rng = np.random.default_rng(seed)
    first = new_random_point(space, used, rng)
    second = new_random_point(space, used, rng)
    assert sorted([first["x"], second["x"]]) == [17, 871]
    assert used == {(v,) for v in range(1000)}


def test_the_fallback_finds_the_far_tail_of_a_normal_int() -> None:
    history = [FinishedTrial(f"t{v}", {"x": v}, TrialStatus.SUCCEEDED, 0.0, {"loss": 0.0}) for v in range(1, 101)]
    used = used_keys(NORMAL_INT, history, [])
    assert new_random_point(NORMAL_INT, used, np.random.default_rng(0)) == {"x": 0}


def test_kfp_tune_run_inline_tries_all_101_points_and_ends_suggestion_end_reached(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """maxTrialCount above the space's 101 points, as validate's note says: every point once, then
    ExperimentSuggestionEndReached (at maxTrialCount 101 both ends meet, and Katib's
    ExperimentMaxTrialsReached is the one recorded)."""
    from kfp_tune.cli import main

    doc = quadratic_experiment(metadata={"name": "normal-int"})
    spec = doc["spec"]
    spec["maxTrialCount"], spec["parallelTrialCount"], spec["maxFailedTrialCount"] = 120, 3, 0
    spec["algorithm"] = {"algorithmName": "random", "algorithmSettings": [{"name": "random_state", "value": "1"}]}
    spec["parameters"] = [{"name": "x", "parameterType": "int", "feasibleSpace": {"min": "0", "max": "100", "distribution": "normal"}}]
    template = spec["trialTemplate"]
    template["trialParameters"] = [{"name": "x", "reference": "x"}]
    template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"] = ["x=${trialParameters.x}"]
    path = tmp_path / "normal-int.yaml"
    path.write_text(yaml.safe_dump(doc))
    store = str(tmp_path / "store")
    assert main(["run", str(path), "--engine", "inline", "--store", store, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["status"], out["reason"], out["trials"], out["succeeded"]) == ("Succeeded", "ExperimentSuggestionEndReached", 101, 101)
    assert main(["trials", "normal-int", "--store", store, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(int(row["parameters"]["x"]) for row in rows) == list(range(101))
