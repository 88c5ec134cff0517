"""An algorithm that registered ``ends="never"`` and says ``exhausted`` on a search space with no
end (a continuous parameter) is held to its declaration: the run stops with AlgorithmError naming
it, before anything is stored, instead of ending the experiment "because suggestion service has
reached the end (the search space has no more points)", a claim about the space that is false
(QA plugin, session 37, finding 11). On a finite space the claim can be true, and is taken."""

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
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.inline_runner import run_inline
from kfp_tune.steps.designer import AlgorithmError
from kfp_tune.stores import LocalStore


class SaysExhausted(RandomSearch):
    """One point, then 'exhausted', whatever the space."""

    def suggest(self, problem: Problem, history: Sequence[FinishedTrial], pending: Sequence[dict[str, Value]], n: int, rng: np.random.Generator) -> Suggestions:
        result = super().suggest(problem, history, pending, n, rng)
        return Suggestions(result.assignments[:1], exhausted=True)


class Succeeds(Launcher):
    def run(self, trial: TrialRun) -> LaunchOutcome:
        return LaunchOutcome(LaunchPhase.SUCCEEDED, exit_code=0, logs={"main": "loss=0.5\naccuracy=0.5\n"})


@pytest.mark.usefixtures("clean_plugin_registries")
def test_exhausted_from_an_algorithm_that_never_ends_on_a_continuous_space_is_its_error(tmp_path: Path) -> None:
    register("says-exhausted", SaysExhausted, settings=(), ends="never")
    experiment = load_experiment(quadratic_experiment(**{"spec.algorithm": {"algorithmName": "says-exhausted"}}))
    store = LocalStore(tmp_path / "store")
    with pytest.raises(AlgorithmError) as caught:
        run_inline(store, experiment, Succeeds())
    message = str(caught.value)
    assert f"algorithm 'says-exhausted' ({__name__}.SaysExhausted) said exhausted" in message, message
    assert "registered ends='never'" in message and "parameter 'x' is continuous" in message, message
    assert load_state(ExperimentRecords(store, experiment.name)).trials == [], "nothing is stored"


@pytest.mark.usefixtures("clean_plugin_registries")
def test_exhausted_on_a_finite_space_is_taken(tmp_path: Path) -> None:
    register("says-exhausted", SaysExhausted, settings=(), ends="never")
    experiment = load_experiment(quadratic_experiment(**{
        "spec.algorithm": {"algorithmName": "says-exhausted"},
        "spec.parameters": [
            {"name": "x", "parameterType": "categorical", "feasibleSpace": {"list": ["0.1", "0.2"]}},
            {"name": "y", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "2"}},
        ],
    }))
    decision = run_inline(LocalStore(tmp_path / "store"), experiment, Succeeds())
    assert decision.finished, decision
