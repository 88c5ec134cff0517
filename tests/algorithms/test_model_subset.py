"""Which trials a surrogate model is built on when the history is long (algorithms/model_subset.py):
the best half of the cap by loss and a farthest-first half of the rest, the same on every call;
at or below the cap every trial, so shorter experiments are unchanged."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from kfp_tune.algorithms import registry
from kfp_tune.algorithms.base import FinishedTrial, Problem
from kfp_tune.algorithms.model_subset import model_rows, unit_coordinates
from kfp_tune.core.space import Parameter, SearchSpace
from kfp_tune.core.vocabulary import TrialStatus


def long_history(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """1000 rows in the unit square, losses rising away from the corner (0, 0); the last 100
    rows repeat the first 100 (a point run twice), with the same losses."""
    rng = np.random.default_rng(seed)
    x = rng.random((900, 2))
    x = np.vstack([x, x[:100]])
    return x, np.hypot(x[:, 0], x[:, 1])


def test_above_the_cap_the_model_gets_exactly_the_cap_in_history_order_the_same_on_every_call() -> None:
    x, losses = long_history()
    rows = model_rows(x, losses, 500)
    assert len(rows) == 500 and len(set(rows.tolist())) == 500
    assert np.array_equal(rows, np.sort(rows))
    assert np.array_equal(model_rows(x, losses, 500), rows)


def test_above_the_cap_the_best_half_is_kept_and_the_rest_covers_the_space() -> None:
    """The best 250 by loss (ties to the earlier trial), and 250 more spread over where the
    search has been, not the next best: some of the worst trials are kept."""
    x, losses = long_history()
    rows = set(model_rows(x, losses, 500).tolist())
    best = np.argsort(losses, kind="stable")
    assert set(best[:250].tolist()) <= rows
    assert rows & set(best[-100:].tolist())


def test_the_second_half_is_picked_farthest_first() -> None:
    """Worked by hand on a line, limit 4: the best two (losses 0 and 1, at 0.25 and 0.5); then
    the point farthest from them, 1.0; then the one farthest from all three, 0.0 (0.375 and
    0.875 lie 0.125 from a kept one), not the next best by loss (0.875) nor the next in order."""
    x = np.array([[0.0], [0.25], [0.375], [0.5], [0.875], [1.0]])
    losses = np.array([5.0, 0.0, 3.0, 1.0, 2.0, 4.0])
    assert model_rows(x, losses, 4).tolist() == [0, 1, 3, 5]


@pytest.mark.parametrize("n", [0, 1, 499, 500])
def test_at_or_below_the_cap_every_row_is_kept(n: int) -> None:
    rng = np.random.default_rng(n)
    assert model_rows(rng.random((n, 3)), rng.random(n), 500).tolist() == list(range(n))


def test_just_above_the_cap_rows_are_dropped() -> None:
    x, losses = long_history()
    assert len(model_rows(x[:600], losses[:600], 500)) == 500


def test_two_different_choices_are_as_far_apart_as_the_ends_of_a_numeric_range() -> None:
    space = SearchSpace((Parameter("x", "double", 0.0, 10.0), Parameter("c", "categorical", choices=("a", "b", "c"))))
    rows = unit_coordinates(space, [{"x": 0.0, "c": "a"}, {"x": 10.0, "c": "a"}, {"x": 0.0, "c": "c"}])
    assert np.linalg.norm(rows[1] - rows[0]) == pytest.approx(1.0)
    assert np.linalg.norm(rows[2] - rows[0]) == pytest.approx(1.0)


def test_the_tree_models_are_told_every_trial_up_to_their_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """RF with 30 finished trials is fitted on all 30 (the cap, MAX_MODEL_OBSERVATIONS, is far
    above the experiments people run)."""
    from skopt import Optimizer

    told: list[int] = []
    tell = Optimizer.tell

    def counting_tell(self: Any, x: Any, y: Any, fit: bool = True) -> Any:
        told.append(len(y) if isinstance(y, list) else 1)
        return tell(self, x, y, fit)

    monkeypatch.setattr(Optimizer, "tell", counting_tell)
    space = SearchSpace((Parameter("x", "double", 0.0, 1.0), Parameter("y", "double", 0.0, 1.0)))
    rng = np.random.default_rng(0)
    history = [FinishedTrial(f"t{i}", {"x": float(a), "y": float(b)}, TrialStatus.SUCCEEDED, float(a + b)) for i, (a, b) in enumerate(rng.random((30, 2)))]
    settings = {"base_estimator": "RF", "n_initial_points": 5, "random_state": 0}
    problem = Problem(space, "minimize", "loss", settings, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = registry.create("bayesianoptimization", settings).suggest(problem, history, [], 1, np.random.default_rng(0))
    assert told[0] == 30 and len(result.assignments) == 1
