"""What an algorithm does at the end of its space is declared once, where it registers
(``register(..., ends=...)``, a6091d0): AlgorithmContract's ``covers_finite_space`` and
``ends_on_its_own`` now default to what that declaration says, so a plug-in that ends after a
schedule of its own passes the contract without saying so a second time in its suite (before,
both flags were constants a suite had to set again). A suite's own setting still wins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pytest

from kfp_tune.algorithms import registry
from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions, Value
from kfp_tune.algorithms.random_search import RandomSearch
from kfp_tune.algorithms.registry import SearchEnd
from kfp_tune.algorithms.testing import AlgorithmContract

SCHEDULE = 10
"""The trials :class:`TenTrials` runs before it says it is done, whatever the space."""


class TenTrials:
    """A plug-in with a schedule of its own: random points until ten trials, then ``exhausted``
    (on the contract's 12-point finite space too, so it does not cover it)."""

    name: ClassVar[str] = "ten-trials"

    def __init__(self, settings: dict[str, Any]) -> None:
        self.sampler = RandomSearch(settings)

    def suggest(self, problem: Problem, history: Sequence[FinishedTrial], pending: Sequence[dict[str, Value]], n: int, rng: np.random.Generator) -> Suggestions:
        left = SCHEDULE - len(history) - len(pending)
        if left <= 0:
            return Suggestions([], exhausted=True)
        return self.sampler.suggest(problem, history, pending, min(n, left), rng)


def _contract(name: str, **flags: bool) -> AlgorithmContract:
    suite = type("Suite", (AlgorithmContract,), {"algorithm_name": name, **flags})
    return suite()


@pytest.mark.parametrize(
    ("ends", "covers_finite_space", "ends_on_its_own"),
    [("after-its-schedule", False, True), ("on-a-finite-space", True, False), ("never", False, False), (None, True, False)],
)
def test_the_flags_default_to_the_registrations_declaration(clean_plugin_registries: None, ends: SearchEnd | None, covers_finite_space: bool,
                                                             ends_on_its_own: bool) -> None:
    registry.register("my-sampler", RandomSearch, settings=(), ends=ends)
    contract = _contract("my-sampler")
    assert (contract.covers_finite_space, contract.ends_on_its_own) == (covers_finite_space, ends_on_its_own)


def test_a_suites_own_setting_wins_over_the_declaration(clean_plugin_registries: None) -> None:
    registry.register("my-sampler", RandomSearch, settings=(), ends="after-its-schedule")
    contract = _contract("my-sampler", covers_finite_space=True, ends_on_its_own=False)
    assert (contract.covers_finite_space, contract.ends_on_its_own) == (True, False)


@pytest.mark.parametrize("name", ["bayesianoptimization", "cmaes", "hyperband", "multivariate-tpe", "random", "sobol", "tpe"])
def test_the_builtins_the_contract_runs_on_get_the_flags_their_suite_set_before(name: str) -> None:
    """tests/algorithms/test_algorithms.py set covers_finite_space = name != "hyperband" and
    ends_on_its_own = name == "hyperband" (grid, which declares a schedule, sets its own)."""
    contract = _contract(name)
    assert (contract.covers_finite_space, contract.ends_on_its_own) == (name != "hyperband", name == "hyperband")


@pytest.mark.parametrize("check", ["test_makes_progress_from_an_empty_history", "test_returns_exactly_n_feasible_new_points", "test_finite_space_ends_cleanly"])
def test_a_plugin_declaring_a_schedule_of_its_own_passes_with_no_flag_set(clean_plugin_registries: None, check: str) -> None:
    registry.register("ten-trials", TenTrials, settings=(), ends="after-its-schedule")
    getattr(_contract("ten-trials"), check)()


@pytest.mark.parametrize("check", ["test_makes_progress_from_an_empty_history", "test_returns_exactly_n_feasible_new_points"])
def test_the_same_plugin_declaring_nothing_is_held_to_the_strict_defaults(clean_plugin_registries: None, check: str) -> None:
    registry.register("ten-trials", TenTrials, settings=())
    with pytest.raises(AssertionError):
        getattr(_contract("ten-trials"), check)()
