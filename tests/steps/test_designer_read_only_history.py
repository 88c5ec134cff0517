"""The suggest step hands an algorithm the experiment's history and pending trials read-only (as
tuples): the history is the engine's memo, kept across calls in one process (the inline engine),
and a plug-in that appended to it (a batch "constant liar") made every later call see its fake
trials, in that engine only."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

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
from kfp_tune.steps.designer import AlgorithmError, history_of, next_suggestions, problem_of
from kfp_tune.stores import LocalStore

CALLS: list[tuple[type, type, list[str]]] = []
"""(type of history, type of pending, the history's trial names) of each call to Spy."""


class Spy(RandomSearch):
    """Random search that notes what it was handed."""

    def suggest(self, problem: Problem, history: Sequence[FinishedTrial], pending: Sequence[dict[str, Value]], n: int, rng: np.random.Generator) -> Suggestions:
        CALLS.append((type(history), type(pending), [t.name for t in history]))
        return super().suggest(problem, history, pending, n, rng)


class ConstantLiar(RandomSearch):
    """The QA's plug-in: a fake finished trial for each pending point, appended to the history
    it was given."""

    def suggest(self, problem: Problem, history: Any, pending: Sequence[dict[str, Value]], n: int, rng: np.random.Generator) -> Suggestions:
        history.extend(FinishedTrial(f"lie-{i}", dict(p), TrialStatus.SUCCEEDED, 0.0) for i, p in enumerate(pending))
        return super().suggest(problem, history, pending, n, rng)


class Succeeds(Launcher):
    def run(self, trial: TrialRun) -> LaunchOutcome:
        return LaunchOutcome(LaunchPhase.SUCCEEDED, exit_code=0, logs={"main": "loss=0.5\naccuracy=0.5\n"})


@pytest.fixture
def finished_run(tmp_path: Path, clean_plugin_registries: None) -> tuple[Path, str]:
    """An experiment of the algorithm "spy" run to its 6 trials, 2 at a time, in this process."""
    register("spy", Spy, settings=())
    CALLS.clear()
    experiment = load_experiment(quadratic_experiment(**{"spec.algorithm": {"algorithmName": "spy"}}))
    run_inline(LocalStore(tmp_path / "store"), experiment, Succeeds())
    return tmp_path / "store", experiment.name


def test_an_algorithm_is_handed_tuples_holding_the_true_history(finished_run: tuple[Path, str]) -> None:
    store, name = finished_run
    state = load_state(ExperimentRecords(LocalStore(store), name))
    assert len(state.trials) == 6 and len(CALLS) >= 3
    assert {(history, pending) for history, pending, _ in CALLS} == {(tuple, tuple)}
    assert all(set(names) <= {t.name for t in state.trials} for _, _, names in CALLS)
    assert max(len(names) for _, _, names in CALLS) <= 5  # the last call is made with one trial left to create


def test_an_algorithm_that_appends_to_its_history_is_named_and_the_history_stays_true(finished_run: tuple[Path, str]) -> None:
    """Asked twice in one process, as the inline engine asks: the first call's lies were in the
    second call's history, and in the memo for good."""
    store, name = finished_run
    register("spy", ConstantLiar, settings=())  # the experiment's algorithm, now the liar
    state = load_state(ExperimentRecords(LocalStore(store), name))
    problem = problem_of(state.experiment, state.uid)
    true_names = [t.name for t in history_of(state, problem.space)[0]]
    assert len(true_names) == 6
    with pytest.raises(AlgorithmError, match=r"raised AttributeError: 'tuple' object has no attribute 'extend' .*history and pending are read-only"):
        next_suggestions(state, problem, 2, call_seq=99)
    assert [t.name for t in history_of(state, problem.space)[0]] == true_names
