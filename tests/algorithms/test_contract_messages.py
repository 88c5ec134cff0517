"""Every check of the shipped contract suites says what it expected and what it saw (QA plugin,
session 37, finding 6): pytest rewrites asserts only in test modules and conftest files, so a
bare ``assert`` in ``kfp_tune.algorithms.testing`` failed a plug-in author's suite with ``E
AssertionError`` and nothing else (a stateful algorithm, a repeated point on a finite space, a
numpy integer for an int parameter)."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from kfp_tune.algorithms import FinishedTrial, Problem, Suggestions, register, testing
from kfp_tune.algorithms.random_search import RandomSearch
from kfp_tune.core.space import Value


def test_every_assert_of_the_contract_suites_has_a_message() -> None:
    source = inspect.getsource(testing)
    bare = [node.lineno for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Assert) and node.msg is None]
    assert bare == [], f"asserts without a message in kfp_tune.algorithms.testing, at lines {bare}"


CALLS = {"n": 0}


class Stateful(RandomSearch):
    """Seeds itself from a call counter kept in the process (the QA's BAD_MODE=stateful)."""

    def suggest(self, problem: Problem, history: Sequence[FinishedTrial], pending: Sequence[dict[str, Value]], n: int, rng: np.random.Generator) -> Suggestions:
        CALLS["n"] += 1
        return super().suggest(problem, history, pending, n, np.random.default_rng(CALLS["n"]))


class NumpyInts(RandomSearch):
    """Gives int parameters as numpy integers (``rng.integers``)."""

    def suggest(self, problem: Problem, history: Sequence[FinishedTrial], pending: Sequence[dict[str, Value]], n: int, rng: np.random.Generator) -> Suggestions:
        result = super().suggest(problem, history, pending, n, rng)
        ints = [p.name for p in problem.space if p.type == "int"]
        return Suggestions([{k: (np.int64(v) if k in ints else v) for k, v in a.items()} for a in result.assignments], exhausted=result.exhausted)


class RepeatsOnAFiniteSpace(RandomSearch):
    """Never says exhausted, and gives a point already tried once the space is used up."""

    def suggest(self, problem: Problem, history: Sequence[FinishedTrial], pending: Sequence[dict[str, Value]], n: int, rng: np.random.Generator) -> Suggestions:
        result = super().suggest(problem, history, pending, n, rng)
        if result.exhausted and history:
            return Suggestions([dict(history[0].assignment), *result.assignments])
        return result


def failure(factory: type, check: str) -> str:
    register("msg-algo", factory, settings=(), ends="on-a-finite-space")

    class Suite(testing.AlgorithmContract):
        algorithm_name = "msg-algo"

    with pytest.raises(AssertionError) as caught:
        getattr(Suite(), check)()
    return str(caught.value)


@pytest.mark.usefixtures("clean_plugin_registries")
def test_a_stateful_algorithm_is_told_what_differed() -> None:
    message = failure(Stateful, "test_same_seed_same_suggestions")
    assert message.startswith("same seed, same suggestions: "), message
    assert "seed 42" in message and "first" in message and "then" in message, message


@pytest.mark.usefixtures("clean_plugin_registries")
def test_numpy_integers_are_named_with_their_type() -> None:
    message = failure(NumpyInts, "test_values_have_the_parameter_types")
    assert message.startswith("parameter types: "), message
    assert "'layers'" in message and "int64" in message and "expected a Python int" in message, message


@pytest.mark.usefixtures("clean_plugin_registries")
def test_a_point_repeated_on_a_finite_space_is_shown() -> None:
    message = failure(RepeatsOnAFiniteSpace, "test_finite_space_ends_cleanly")
    assert message.startswith("a finite space ends cleanly: "), message
    assert "twice" in message, message


def test_an_infeasible_point_says_why() -> None:
    space = testing.mixed_space()
    point: dict[str, Any] = {p.name: p.low if p.type in ("int", "double") else p.choices[0] for p in space}  # type: ignore[attr-defined]
    point["layers"] = 99
    assert "parameter 'layers' is 99" in testing.infeasible(space, point), testing.infeasible(space, point)
