"""Numpy scalars in an algorithm's suggestions (``rng.integers`` gives ``np.int64``, the natural
call with the ``rng`` kfp-tune hands over) are taken as their Python values, checked and stored
as such, not refused as "an infeasible point ... parameter 'layers' is np.int64(4) (int64);
expected int from 1 to 5" with the value in range (QA plugin, session 37, finding 8)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from conftest import quadratic_experiment
from kfp_tune.algorithms import FinishedTrial, Problem, Suggestions, register
from kfp_tune.algorithms.random_search import RandomSearch
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.space import Value
from kfp_tune.core.state import load_state
from kfp_tune.core.vocabulary import LaunchPhase, TrialStatus
from kfp_tune.inline_runner import run_inline
from kfp_tune.stores import LocalStore


class NumpyValues(RandomSearch):
    """Random search whose values come back as numpy scalars: np.int64, np.float32, np.str_."""

    def suggest(self, problem: Problem, history: Sequence[FinishedTrial], pending: Sequence[dict[str, Value]], n: int, rng: np.random.Generator) -> Suggestions:
        result = super().suggest(problem, history, pending, n, rng)
        kinds = {p.name: p.type for p in problem.space}
        numpy = {"int": np.int64, "double": np.float32, "categorical": np.str_, "discrete": np.str_}
        return Suggestions([{k: numpy[kinds[k]](v) for k, v in a.items()} for a in result.assignments])


class Succeeds(Launcher):
    def run(self, trial: TrialRun) -> LaunchOutcome:
        return LaunchOutcome(LaunchPhase.SUCCEEDED, exit_code=0, logs={"main": "loss=0.5\n"})


@pytest.mark.usefixtures("clean_plugin_registries")
def test_numpy_scalars_are_taken_as_their_python_values(tmp_path: Path) -> None:
    register("numpy-values", NumpyValues, settings=(), ends="never")
    experiment = load_experiment(quadratic_experiment(**{
        "spec.objective": {"type": "minimize", "objectiveMetricName": "loss"},
        "spec.algorithm": {"algorithmName": "numpy-values"},
        "spec.maxTrialCount": 4,
        "spec.parameters": [
            {"name": "x", "parameterType": "double", "feasibleSpace": {"min": "-2", "max": "2"}},
            {"name": "y", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "5"}},
        ],
    }))
    store = LocalStore(tmp_path / "store")
    run_inline(store, experiment, Succeeds())
    trials = load_state(ExperimentRecords(store, experiment.name)).trials
    assert [t.status for t in trials] == [TrialStatus.SUCCEEDED] * 4, [(t.status, t.reason, t.message) for t in trials]
    for trial in trials:
        values = trial.assignment if isinstance(trial.assignment, dict) else dict(trial.assignment)
        assert set(values) == {"x", "y"}, values
        assert -2 <= float(values["x"]) <= 2 and 1 <= int(values["y"]) <= 5, values
