"""An algorithm built from settings that leave a name out (``registry.create`` with a caller's
own dict, a direct construction) falls back on the catalogue's default for it: validation and
the algorithm share one number. Changing the catalogue's default changes the algorithm's."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from kfp_tune.algorithms.bayesopt import GPBayesianOptimization
from kfp_tune.algorithms.cmaes import CMAES
from kfp_tune.algorithms.hyperband import Hyperband
from kfp_tune.algorithms.pbt import PBT
from kfp_tune.algorithms.tpe import TPE, MultivariateTPE
from kfp_tune.core.catalogue import ALGORITHMS, HYPERBAND_DEFAULT_ETA, TPE_EI_CANDIDATES, parse_settings, setting_default

CASES = [
    (TPE, "tpe", "gamma", "gamma", 0.4),
    (TPE, "tpe", "prior_weight", "prior_weight", 2.5),
    (TPE, "tpe", "n_startup_trials", "startup", 7),
    (MultivariateTPE, "tpe", "n_startup_trials", "startup", 3),
    (GPBayesianOptimization, "bayesianoptimization", "n_initial_points", "n_initial", 4),
    (GPBayesianOptimization, "bayesianoptimization", "acq_func", "acq_func", "EI"),
    (GPBayesianOptimization, "bayesianoptimization", "acq_optimizer", "acq_optimizer", "sampling"),
    (GPBayesianOptimization, "bayesianoptimization", "kappa", "kappa", 2.5),
    (GPBayesianOptimization, "bayesianoptimization", "xi", "xi", 0.05),
    (PBT, "pbt", "n_population", "population", 12),
    (PBT, "pbt", "truncation_threshold", "truncation", 0.35),
    (CMAES, "cmaes", "restart_strategy", "strategy", "ipop"),
]


@pytest.mark.parametrize(("cls", "algorithm", "name", "attribute", "changed"), CASES, ids=[f"{c[1]}-{c[2]}-{c[0].__name__}" for c in CASES])
def test_a_setting_left_out_takes_the_catalogues_default(
    monkeypatch: pytest.MonkeyPatch, cls: type, algorithm: str, name: str, attribute: str, changed: Any
) -> None:
    entry = ALGORITHMS[algorithm]
    settings = tuple(dataclasses.replace(s, default=changed) if s.name == name else s for s in entry.settings)
    assert settings != entry.settings
    monkeypatch.setitem(ALGORITHMS, algorithm, dataclasses.replace(entry, settings=settings))
    assert getattr(cls({}), attribute) == changed


@pytest.mark.parametrize(("cls", "algorithm", "name", "attribute", "changed"), CASES, ids=[f"{c[1]}-{c[2]}-{c[0].__name__}" for c in CASES])
def test_left_out_or_filled_in_by_validation_the_algorithm_is_the_same(cls: type, algorithm: str, name: str, attribute: str, changed: Any) -> None:
    parsed, errors = parse_settings(ALGORITHMS[algorithm], [], "settings")
    assert not errors
    assert getattr(cls({}), attribute) == getattr(cls(parsed), attribute) == parsed[name]


def test_the_defaults_no_setting_holds_are_named_constants() -> None:
    assert TPE({}).candidates == TPE_EI_CANDIDATES == 24  # hyperopt's tpe.suggest default
    assert Hyperband({"resource_name": "epochs"}).eta == HYPERBAND_DEFAULT_ETA == 3.0  # Katib's hyperband service


def test_bayesianoptimization_keeps_skopts_numbers() -> None:
    """Katib's skopt service defaults (skopt/base_service.py): the benchmark runs reproduce only
    if these stay as they were."""
    gp = GPBayesianOptimization({})
    assert (gp.n_initial, gp.acq_func, gp.acq_optimizer, gp.kappa, gp.xi) == (10, "gp_hedge", "auto", 1.96, 0.01)


@pytest.mark.parametrize("algorithm", ["tpe", "multivariate-tpe"])
def test_tpe_starts_with_10_random_trials_as_optunas_sampler_does(algorithm: str) -> None:
    """Optuna's TPESampler default n_startup_trials (Katib's optuna service leaves it in place)."""
    assert setting_default(algorithm, "n_startup_trials") == 10
    assert TPE({}).startup == MultivariateTPE({}).startup == 10
