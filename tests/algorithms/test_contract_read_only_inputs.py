"""``AlgorithmContract`` hands ``history`` and ``pending`` as the suggest step does (tuples) and
checks they are left as they were: the QA's constant liar, which appended to its history, and an
algorithm that tidies the trials it was given in place passed every check before."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from kfp_tune.algorithms import FinishedTrial, Problem, Suggestions, register
from kfp_tune.algorithms.random_search import RandomSearch
from kfp_tune.algorithms.testing import AlgorithmContract
from kfp_tune.core.space import Value
from kfp_tune.core.vocabulary import TrialStatus


class ConstantLiar(RandomSearch):
    """A fake finished trial for each pending point, appended to the history it was given."""

    def suggest(self, problem: Problem, history: Sequence[FinishedTrial], pending: Sequence[dict[str, Value]], n: int, rng: np.random.Generator) -> Suggestions:
        lies = [FinishedTrial(f"lie-{i}", dict(p), TrialStatus.SUCCEEDED, 0.0) for i, p in enumerate(pending)]
        history.extend(lies)  # type: ignore[attr-defined]
        return super().suggest(problem, history, pending, n, rng)


class CopyingLiar(RandomSearch):
    """The same lies, added to a copy."""

    def suggest(self, problem: Problem, history: Sequence[FinishedTrial], pending: Sequence[dict[str, Value]], n: int, rng: np.random.Generator) -> Suggestions:
        lies = [FinishedTrial(f"lie-{i}", dict(p), TrialStatus.SUCCEEDED, 0.0) for i, p in enumerate(pending)]
        return super().suggest(problem, list(history) + lies, pending, n, rng)


class RoundsInPlace(RandomSearch):
    """Rounds the learning rate of the trials and pending points it was given, in place."""

    def suggest(self, problem: Problem, history: Sequence[FinishedTrial], pending: Sequence[dict[str, Value]], n: int, rng: np.random.Generator) -> Suggestions:
        for assignment in [*(t.assignment for t in history), *pending]:
            assignment["lr"] = round(float(assignment["lr"]), 2)
        return super().suggest(problem, history, pending, n, rng)


class LabelsInPlace(RandomSearch):
    """Labels each trial it was given, in place, with the size of the history it was in."""

    def suggest(self, problem: Problem, history: Sequence[FinishedTrial], pending: Sequence[dict[str, Value]], n: int, rng: np.random.Generator) -> Suggestions:
        for trial in history:
            trial.labels["seen-in"] = str(len(history))
        return super().suggest(problem, history, pending, n, rng)


def suite(name: str) -> AlgorithmContract:
    class Suite(AlgorithmContract):
        algorithm_name = name
        adaptive = False

    return Suite()


@pytest.mark.usefixtures("clean_plugin_registries")
def test_an_algorithm_that_appends_to_its_history_fails_the_contract_saying_why() -> None:
    register("constant-liar", ConstantLiar, settings=())
    with pytest.raises(AssertionError, match=r"suggest raised AttributeError: 'tuple' object has no attribute 'extend'; history and pending are read-only"):
        suite("constant-liar").test_returns_exactly_n_feasible_new_points()


@pytest.mark.parametrize(
    ("algorithm", "changed"),
    [
        (RoundsInPlace, r"history\[0\] \(t0\), .*history\[8\] \(t8\), pending\[0\], .*pending\[3\]"),
        (LabelsInPlace, r"history\[0\] \(t0\), .*history\[8\] \(t8\)"),
    ],
    ids=["assignments", "labels"],
)
@pytest.mark.usefixtures("clean_plugin_registries")
def test_an_algorithm_that_changes_what_it_was_given_fails_the_contract(algorithm: type, changed: str) -> None:
    register("changes-in-place", algorithm, settings=())
    with pytest.raises(AssertionError, match=rf"suggest changed {changed} in place: history and pending are read-only"):
        suite("changes-in-place").test_leaves_history_and_pending_as_they_were()


@pytest.mark.usefixtures("clean_plugin_registries")
def test_an_algorithm_that_adds_to_a_copy_keeps_the_contract() -> None:
    register("copying-liar", CopyingLiar, settings=())
    checked = suite("copying-liar")
    checked.test_leaves_history_and_pending_as_they_were()
    checked.test_returns_exactly_n_feasible_new_points()
