"""bayesianoptimization's suggestion runs with one BLAS thread (``base.one_blas_thread``): its
matrices are too small for a second thread to pay, and OpenBLAS's spinning threads fought the
inline engine's slot threads for a busy machine's cores (300 trials on 2 busy cores: 6:52 with
two threads, 0:38 with one). The limit holds during the suggestion only: the caller's is back after,
OpenMP is left alone, and a count someone else set meanwhile (the process's, as OpenBLAS's is) is theirs."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from kfp_tune.algorithms import base, bayesopt, registry
from kfp_tune.algorithms.base import FinishedTrial, Problem, one_blas_thread
from kfp_tune.core.space import Parameter, SearchSpace
from kfp_tune.core.vocabulary import ObjectiveType, TrialStatus

OUTSIDE = 2  # the caller's limit: more than one, whatever the machine's default


def blas_threads() -> list[int]:
    """num_threads of every loaded BLAS library (numpy's and scipy's OpenBLAS, say)."""
    return [library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"]


def openmp_threads() -> list[int]:
    return [library["num_threads"] for library in threadpool_info() if library["user_api"] == "openmp"]


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


def test_openmp_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    import sklearn.ensemble  # noqa: F401  (loads scikit-learn's OpenMP library)

    seen: list[list[int]] = []
    fit_model = bayesopt.fit_model

    def recording_fit(*args: Any, **kwargs: Any) -> Any:
        seen.append(openmp_threads())
        return fit_model(*args, **kwargs)

    monkeypatch.setattr(bayesopt, "fit_model", recording_fit)
    spec, history = problem("GP")
    with threadpool_limits(limits=OUTSIDE, user_api="openmp"):
        assert set(openmp_threads()) == {OUTSIDE}
        registry.create("bayesianoptimization", spec.settings).suggest(spec, history, [], 1, np.random.default_rng(3))
    assert seen and all(threads and set(threads) == {OUTSIDE} for threads in seen), seen


class CountedLibrary:
    """A BLAS library's thread count as threadpoolctl's controller shows it, one count for the
    process (OpenBLAS's pthreads build). Real threads do not serve these tests: OpenBLAS 0.3.31
    ignores a count set from one thread while the thread that set the last one lives."""

    def __init__(self, num_threads: int) -> None:
        self.num_threads = num_threads

    def set_num_threads(self, num_threads: int) -> None:
        self.num_threads = num_threads


@pytest.fixture
def library(monkeypatch: pytest.MonkeyPatch) -> CountedLibrary:
    counted = CountedLibrary(OUTSIDE)

    class Controller:
        lib_controllers: ClassVar[list[CountedLibrary]] = [counted]

        def select(self, user_api: str) -> Controller:
            assert user_api == "blas"
            return self

    monkeypatch.setattr(base, "ThreadpoolController", Controller)
    return counted


def test_a_count_an_objective_sets_during_a_suggestion_stays_when_the_suggestion_ends(library: CountedLibrary) -> None:
    base._limit_blas_to_one_thread()
    assert library.num_threads == 1
    library.set_num_threads(OUTSIDE + 1)  # the objective's own threadpool_limits, on its slot thread
    base._put_blas_threads_back()
    assert library.num_threads == OUTSIDE + 1


def test_a_limit_an_objective_leaves_during_a_suggestion_is_not_put_back_after_it(library: CountedLibrary) -> None:
    library.set_num_threads(OUTSIDE + 1)  # the objective enters its limit
    base._limit_blas_to_one_thread()
    library.set_num_threads(OUTSIDE)  # and leaves it during the suggestion
    base._put_blas_threads_back()
    assert library.num_threads == OUTSIDE


def test_overlapping_suggestions_leave_the_process_at_its_count_not_at_one(library: CountedLibrary) -> None:
    """Two experiments' engines in one process: the first suggestion ends while the second runs."""
    base._limit_blas_to_one_thread()
    base._limit_blas_to_one_thread()
    base._put_blas_threads_back()
    assert library.num_threads == 1
    base._put_blas_threads_back()
    assert library.num_threads == OUTSIDE


def test_the_count_is_put_back_when_the_suggestion_raises(library: CountedLibrary) -> None:
    @one_blas_thread()
    def failing() -> None:
        raise RuntimeError("no model")

    with pytest.raises(RuntimeError):
        failing()
    assert library.num_threads == OUTSIDE
