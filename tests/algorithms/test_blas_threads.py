"""bayesianoptimization's suggestion runs with one BLAS thread (``base.one_blas_thread``): its
matrices are too small for a second thread to pay, and OpenBLAS's spinning threads fought the
inline engine's slot threads for a busy machine's cores (300 trials on 2 busy cores: 6:52 with
two threads, 0:38 with one). The limit holds during the suggestion only: the caller's is back after."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from kfp_tune.algorithms import bayesopt, registry
from kfp_tune.algorithms.base import FinishedTrial, Problem
from kfp_tune.core.space import Parameter, SearchSpace
from kfp_tune.core.vocabulary import ObjectiveType, TrialStatus

OUTSIDE = 2  # the caller's limit: more than one, whatever the machine's default


def blas_threads() -> list[int]:
    """num_threads of every loaded BLAS library (numpy's and scipy's OpenBLAS, say)."""
    return [library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"]


def problem(base_estimator: str) -> tuple[Problem, list[FinishedTrial]]:
    space = SearchSpace((Parameter("x", "double", -5.0, 5.0), Parameter("y", "double", -5.0, 5.0)))
    rng = np.random.default_rng(11)
    history = []
    for index in range(12):
        x, y = rng.uniform(-5.0, 5.0, 2)
        history.append(FinishedTrial(f"t{index}", {"x": float(x), "y": float(y)}, TrialStatus.SUCCEEDED, float(x**2 + y**2)))
    settings = {"base_estimator": base_estimator, "random_state": 7}
    return Problem(space, ObjectiveType.MINIMIZE, "loss", settings=settings, seed=7), history


def test_the_gaussian_process_is_fitted_with_one_blas_thread_and_the_callers_limit_is_back_after(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[int]] = []
    fit_model = bayesopt.fit_model

    def recording_fit(*args: Any, **kwargs: Any) -> Any:
        seen.append(blas_threads())
        return fit_model(*args, **kwargs)

    monkeypatch.setattr(bayesopt, "fit_model", recording_fit)
    spec, history = problem("GP")
    with threadpool_limits(limits=OUTSIDE, user_api="blas"):
        assert set(blas_threads()) == {OUTSIDE}
        result = registry.create("bayesianoptimization", spec.settings).suggest(spec, history, [], 2, np.random.default_rng(3))
        after = blas_threads()
    assert len(result.assignments) == 2
    assert seen and all(threads and set(threads) == {1} for threads in seen), seen
    assert set(after) == {OUTSIDE}


def test_scikit_optimizes_tree_model_asks_with_one_blas_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    from skopt import Optimizer

    seen: list[list[int]] = []
    ask = Optimizer.ask

    def recording_ask(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(blas_threads())
        return ask(self, *args, **kwargs)

    monkeypatch.setattr(Optimizer, "ask", recording_ask)
    spec, history = problem("RF")
    with threadpool_limits(limits=OUTSIDE, user_api="blas"):
        registry.create("bayesianoptimization", spec.settings).suggest(spec, history, [], 1, np.random.default_rng(3))
        after = blas_threads()
    assert seen and all(threads and set(threads) == {1} for threads in seen), seen
    assert set(after) == {OUTSIDE}
