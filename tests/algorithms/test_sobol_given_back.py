"""sobol and trials given back: an interrupted run's trial keeps its place in the sequence.

Before, sobol skipped as many points as trials had used budget, so a given-back point came back
only when it was the last one: give back the first of two and finish the second, and the first
point was never tried again."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from kfp_tune.algorithms import registry
from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions, spent
from kfp_tune.algorithms.sobol import SobolSearch
from kfp_tune.algorithms.space_tools import BuiltinAlgorithm
from kfp_tune.algorithms.testing import AlgorithmContract
from kfp_tune.core.space import Parameter, SearchSpace, Value
from kfp_tune.core.vocabulary import ObjectiveType, TrialStatus

SPACE = SearchSpace((Parameter("x", "double", 0.0, 1.0), Parameter("y", "double", 0.0, 1.0)))
PROBLEM = Problem(SPACE, ObjectiveType.MINIMIZE, "loss", {}, seed=1)


def _run(trials: int, give_back: set[int]) -> list[dict[str, Value]]:
    """Batches of 2 (fewer at the end) until ``trials`` trials used budget; the trials at the indices in
    ``give_back`` (counted over every trial made) are given back, the others finish."""
    history: list[FinishedTrial] = []
    for round_index in range(20):
        if len(spent(history)) >= trials:
            break
        wanted = min(2, trials - len(spent(history)))
        result = registry.create("sobol", {}).suggest(PROBLEM, history, [], wanted, np.random.default_rng(round_index))
        again = {SPACE.key(t.assignment) for t in history if t.given_back}
        assert result.repeats or not any(SPACE.key(a) in again for a in result.assignments)
        for assignment in result.assignments:
            index = len(history)
            if index in give_back:
                history.append(FinishedTrial(f"t{index}", assignment, TrialStatus.KILLED, given_back=True))
            else:
                history.append(FinishedTrial(f"t{index}", assignment, TrialStatus.SUCCEEDED, float(assignment["x"])))
    return [t.assignment for t in spent(history)]


def test_a_point_given_back_before_a_finished_one_is_offered_again() -> None:
    first = registry.create("sobol", {}).suggest(PROBLEM, [], [], 3, np.random.default_rng(0)).assignments
    history = [FinishedTrial("t0", first[0], TrialStatus.KILLED, given_back=True), FinishedTrial("t1", first[1], TrialStatus.SUCCEEDED, 1.0)]
    result = registry.create("sobol", {}).suggest(PROBLEM, history, [], 2, np.random.default_rng(1))
    assert result.assignments == [first[0], first[2]] and result.repeats


def test_an_interrupted_run_tries_the_points_of_an_uninterrupted_one() -> None:
    whole = _run(8, set())
    interrupted = _run(8, {0, 3, 4})
    assert sorted(map(SPACE.key, interrupted)) == sorted(map(SPACE.key, whole))


class _CountsTrials(SobolSearch):
    """sobol as it was: it skips as many points as trials used budget and never looks at the
    trials given back."""

    def suggest(
        self, problem: Problem, history: Sequence[FinishedTrial], pending: Sequence[dict[str, Value]], n: int, rng: np.random.Generator
    ) -> Suggestions:
        return BuiltinAlgorithm.suggest(self, problem, history, pending, n, rng)


class _SobolContract(AlgorithmContract):
    algorithm_name = "sobol"
    adaptive = False


def test_the_shipped_contract_refuses_an_algorithm_that_skips_a_given_back_point(monkeypatch: pytest.MonkeyPatch) -> None:
    _SobolContract().test_a_point_given_back_amid_others_is_offered_again()
    monkeypatch.setitem(registry._FACTORIES, "sobol", _CountsTrials)
    with pytest.raises(AssertionError, match="was not offered again"):
        _SobolContract().test_a_point_given_back_amid_others_is_offered_again()
