"""A plug-in algorithm's ``random_state`` (QA plugin, session 37, finding 5): the suggest step
seeds ``Problem.seed`` and the ``rng`` with it, so a value it cannot use (text, a negative or
fractional number: a plug-in that declared it with ``str_setting`` or ``float_setting`` or an
``int_setting`` without ``minimum=0``) is refused naming the setting, before the algorithm is
built, instead of "unexpected ValueError ... (a defect in kfp-tune)" or a numpy error blamed on
the algorithm."""

from __future__ import annotations

import pytest

from conftest import quadratic_experiment
from kfp_tune.algorithms import register
from kfp_tune.algorithms.random_search import RandomSearch
from kfp_tune.core.catalogue import float_setting, int_setting, str_setting
from kfp_tune.core.errors import SpecError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.spec import Experiment
from kfp_tune.steps.designer import call_rng, problem_of


def seeded(declared: str, value: str) -> Experiment:
    """An experiment of plug-in algorithm 'seed-algo', whose ``random_state`` is declared with
    ``declared`` (a catalogue helper's name), given ``value``."""
    helper = {"str": str_setting("random_state", None), "int": int_setting("random_state", None), "float": float_setting("random_state", None)}[declared]
    register("seed-algo", RandomSearch, settings=[helper], ends="never")
    return load_experiment(quadratic_experiment(**{
        "spec.algorithm": {"algorithmName": "seed-algo", "algorithmSettings": [{"name": "random_state", "value": value}]},
    }))


@pytest.mark.usefixtures("clean_plugin_registries")
@pytest.mark.parametrize(("declared", "value"), [("str", "abc"), ("int", "-5"), ("float", "7.5"), ("float", "-1")])
def test_a_random_state_the_seed_cannot_be_is_refused_naming_the_setting(declared: str, value: str) -> None:
    with pytest.raises(SpecError) as caught:
        problem_of(seeded(declared, value), "uid1")
    (error,) = caught.value.errors
    assert error.path == "spec.algorithm.algorithmSettings[0].value", error
    assert error.message.startswith("random_state: expected an integer >= 0 (the experiment's seed"), error
    assert repr(value) in error.message or value in error.message, error


@pytest.mark.usefixtures("clean_plugin_registries")
@pytest.mark.parametrize(("declared", "value", "seed"), [("str", "7", 7), ("int", "7", 7), ("float", "7", 7), ("int", "0", 0)])
def test_a_usable_random_state_is_the_seed(declared: str, value: str, seed: int) -> None:
    problem = problem_of(seeded(declared, value), "uid1")
    assert problem.seed == seed and isinstance(problem.seed, int), problem.seed
    assert call_rng(problem, 0).integers(1 << 30) == call_rng(problem_of(seeded(declared, value), "other"), 0).integers(1 << 30)
