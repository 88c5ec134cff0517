"""sobol on a coarse space: a sequence that keeps giving points already taken gives way to
random new points after ``n + MAX_EXTRA_DRAWS`` draws, so the call ends with n new points."""

from __future__ import annotations

import types

import numpy as np
import pytest

from kfp_tune.algorithms import sobol
from kfp_tune.algorithms.base import Problem
from kfp_tune.core.space import Parameter, SearchSpace
from kfp_tune.core.vocabulary import ObjectiveType

SPACE = SearchSpace((Parameter("a", "categorical", choices=("x", "y", "z")), Parameter("b", "categorical", choices=("p", "q", "r"))))


class RepeatingSobol:
    """A sequence that gives one point for ever: on a coarse space, the many Sobol points that
    map to one assignment, drawn in a row."""

    def __init__(self, d: int, scramble: bool, seed: int | None):
        self.d = d
        self.draws = 0

    def fast_forward(self, n: int) -> None:
        pass

    def random(self, n: int) -> np.ndarray:
        self.draws += n
        return np.full((n, self.d), 0.1)


@pytest.mark.timeout(60)  # a hang guard only: a count of draws that never grows looped for ever here
def test_a_sequence_that_keeps_repeating_gives_way_to_random_new_points(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[RepeatingSobol] = []

    def repeating(d: int, scramble: bool, seed: int | None) -> RepeatingSobol:
        made.append(RepeatingSobol(d, scramble, seed))
        return made[-1]

    monkeypatch.setattr(sobol, "qmc", types.SimpleNamespace(Sobol=repeating))
    problem = Problem(SPACE, ObjectiveType.MINIMIZE, "loss", {}, seed=1)
    result = sobol.SobolSearch({}).suggest(problem, [], [], 4, np.random.default_rng(0))
    keys = [SPACE.key(a) for a in result.assignments]
    assert len(keys) == len(set(keys)) == 4 and all(SPACE.contains(a) for a in result.assignments)
    assert keys[0] == ("x", "p")  # the sequence's one point first
    assert made[0].draws == 4 + sobol.MAX_EXTRA_DRAWS  # then random points, the sequence left
