"""The "history and pending are read-only" hint is added to an algorithm's exception only when
the exception is what changing the tuple it was handed raises: a plug-in's own bug that merely
mentions a tuple (calling one, adding an int to one) is said as it is, without the hint."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

from kfp_tune.algorithms import FinishedTrial, Problem, Suggestions, register
from kfp_tune.algorithms.base import changes_read_only_inputs
from kfp_tune.algorithms.random_search import RandomSearch
from kfp_tune.algorithms.testing import AlgorithmContract
from kfp_tune.core.space import Value


def raised(change: Callable[[Any], object]) -> BaseException:
    """What ``change`` raises, given a tuple of two trials' names."""
    try:
        change(("t0", "t1"))
    except (AttributeError, TypeError) as exc:
        return exc
    raise AssertionError("it raised nothing")


def _delete_first(handed: Any) -> None:
    del handed[0]


def _delete_a_slice(handed: Any) -> None:
    del handed[0:1]


def _assign_first(handed: Any) -> None:
    handed[0] = "t9"


def _assign_a_slice(handed: Any) -> None:
    handed[0:1] = ["t9"]


def _add_in_place(handed: Any) -> None:
    handed += ["t9"]


MUTATIONS: dict[str, Callable[[Any], object]] = {
    **{method: (lambda handed, method=method: getattr(handed, method)()) for method in ("append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "copy")},
    "item assignment": _assign_first,
    "slice assignment": _assign_a_slice,
    "item deletion": _delete_first,
    "slice deletion": _delete_a_slice,
    "tuple + list": lambda handed: handed + ["t9"],  # noqa: RUF005  (the concatenation is the case)
    "tuple += list": _add_in_place,
    "list + tuple": lambda handed: ["t9"] + handed,  # noqa: RUF005
}
"""Each way an algorithm written for lists fails on the tuples the suggest step hands it (``copy``:
a list's way to add to a copy, which a tuple has not)."""

OWN_BUGS: dict[str, Callable[[Any], object]] = {
    "calling a tuple": lambda handed: handed(),
    "int + tuple": lambda handed: 1 + handed,
    "tuple + int": lambda handed: handed + 1,
    "a missing attribute": lambda handed: handed.items(),
    "a tuple as an index": lambda handed: ["a"][handed],
    "unpacking a tuple": lambda handed: int(handed),
}
"""Bugs of an algorithm's own whose messages name a tuple without any attempt to change one."""


@pytest.mark.parametrize("change", MUTATIONS.values(), ids=MUTATIONS.keys())
def test_changing_a_handed_tuple_is_recognised(change: Callable[[Any], object]) -> None:
    exc = raised(change)
    assert changes_read_only_inputs(exc), f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize("bug", OWN_BUGS.values(), ids=OWN_BUGS.keys())
def test_an_algorithms_own_bug_mentioning_a_tuple_gets_no_hint(bug: Callable[[Any], object]) -> None:
    exc = raised(bug)
    assert "tuple" in str(exc), "the case says nothing: its message does not mention a tuple"
    assert not changes_read_only_inputs(exc), f"{type(exc).__name__}: {exc}"


class CallsItsOwnTuple(RandomSearch):
    """A plug-in's own bug: it calls a tuple of its own."""

    def suggest(self, problem: Problem, history: Sequence[FinishedTrial], pending: Sequence[dict[str, Value]], n: int, rng: np.random.Generator) -> Suggestions:
        weights = (0.5, 0.5)
        weights()  # type: ignore[operator]
        return super().suggest(problem, history, pending, n, rng)


@pytest.mark.usefixtures("clean_plugin_registries")
def test_the_contract_raises_an_algorithms_own_bug_as_it_is() -> None:
    """Not an AssertionError blaming the read-only inputs: the plug-in's TypeError itself."""
    register("calls-its-own-tuple", CallsItsOwnTuple, settings=())

    class Suite(AlgorithmContract):
        algorithm_name = "calls-its-own-tuple"
        adaptive = False

    with pytest.raises(TypeError, match=r"^'tuple' object is not callable$"):
        Suite().test_returns_exactly_n_feasible_new_points()
