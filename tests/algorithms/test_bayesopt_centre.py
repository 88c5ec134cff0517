"""bayesianoptimization's first trial is the centre of the space, and only the first: the rest of
its initial design stays random, as Katib's ``n_initial_points`` has it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kfp_tune.algorithms import registry
from kfp_tune.algorithms.base import FinishedTrial, Problem
from kfp_tune.core.space import Parameter, SearchSpace, Value
from kfp_tune.core.vocabulary import TrialStatus

SPACE = SearchSpace(
    (
        Parameter("x", "double", -5.0, 5.0),
        Parameter("lr", "double", 1e-4, 1e-1, distribution="logUniform"),
        Parameter("momentum", "double", 0.5, 0.9, distribution="normal"),
        Parameter("layers", "int", 2, 6),
        Parameter("batch", "discrete", choices=("16", "32", "64")),
        Parameter("optimizer", "categorical", choices=("sgd", "adam", "ftrl")),
    )
)


def suggest(history: list[FinishedTrial], pending: list[dict[str, Value]], n: int, seed: int = 7) -> list[dict[str, Value]]:
    problem = Problem(SPACE, "minimize", "loss", {"random_state": seed}, seed=seed)
    return registry.create("bayesianoptimization", {}).suggest(problem, history, pending, n, np.random.default_rng(seed)).assignments


def is_centre(assignment: dict[str, Value]) -> bool:
    return (
        assignment["x"] == pytest.approx(0.0, abs=1e-12)
        and assignment["lr"] == pytest.approx(math.sqrt(1e-4 * 1e-1))  # the geometric midpoint
        and assignment["momentum"] == pytest.approx(0.7)  # the normal's mean
        and assignment["layers"] == 4
        and str(assignment["batch"]) == "32"
    )


@pytest.mark.parametrize("seed", range(3))
def test_the_first_trial_of_an_experiment_is_the_centre(seed: int) -> None:
    (first,) = suggest([], [], 1, seed)
    assert is_centre(first), first
    assert first["optimizer"] in ("sgd", "adam", "ftrl")  # no middle: a choice


def test_in_a_first_batch_only_one_trial_is_the_centre() -> None:
    batch = suggest([], [], 4)
    assert is_centre(batch[0])
    assert not any(is_centre(a) for a in batch[1:])
    assert len({SPACE.key(a) for a in batch}) == 4


def test_once_a_trial_exists_the_initial_points_are_random() -> None:
    """A finished trial (even a failed one, even elsewhere than the centre) or a pending one
    means the experiment has started: the centre is not proposed again."""
    elsewhere = {"x": 1.0, "lr": 0.01, "momentum": 0.6, "layers": 3, "batch": "16", "optimizer": "sgd"}
    for history, pending in (([FinishedTrial("t0", elsewhere, TrialStatus.FAILED)], []), ([], [elsewhere])):
        proposed = suggest(history, pending, 3)
        assert not any(is_centre(a) for a in proposed), proposed


def test_the_centre_is_the_value_a_person_would_write() -> None:
    """Where the arithmetic of the midpoint lands a hair off (-0.2 + 0.5 * 1.4 is
    0.49999999999999994; the geometric midpoint of 5e-4 and 5e-2 is 0.005000000000000002), the
    trial gets 0.5 and 0.005: those strings go into its command line and the report."""
    space = SearchSpace((Parameter("x", "double", -0.2, 1.2), Parameter("lr", "double", 5e-4, 5e-2, distribution="logUniform")))
    problem = Problem(space, "minimize", "loss", {}, seed=0)
    (first,) = registry.create("bayesianoptimization", {}).suggest(problem, [], [], 1, np.random.default_rng(0)).assignments
    assert (first["x"], first["lr"]) == (0.5, 0.005)
    assert [space.parameters[i].format(first[name]) for i, name in enumerate(("x", "lr"))] == ["0.5", "0.005"]
