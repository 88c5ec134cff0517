"""A setting given by another library's or an older name (scikit-optimize's ``n_random_starts``,
QA settings, session 38, finding 3) was answered "did you mean 'random_state'?", the seed, a
setting of another meaning: known names of other libraries map to kfp-tune's. A value or name
wrong only by its case (``gp``, ``ei``, ``IPOP``) says that case matters and gives the spelling."""

from __future__ import annotations

import pytest

from kfp_tune.core.catalogue import ALGORITHMS, parse_settings


def _errors(algorithm: str, name: str, value: str) -> list[tuple[str, str]]:
    _, errors = parse_settings(ALGORITHMS[algorithm], [(name, value)], "spec.algorithm.algorithmSettings")
    return errors


@pytest.mark.parametrize(
    ("algorithm", "given", "meant", "library"),
    [
        ("bayesianoptimization", "n_random_starts", "n_initial_points", "scikit-optimize"),
        ("tpe", "n_startup_jobs", "n_startup_trials", "hyperopt"),
        ("multivariate-tpe", "n_ei_candidate", "n_ei_candidates", ""),
        ("random", "seed", "random_state", ""),
    ],
)
def test_another_library_s_name_points_at_kfp_tune_s(algorithm: str, given: str, meant: str, library: str) -> None:
    [(path, message)] = _errors(algorithm, given, "3")
    assert path == "spec.algorithm.algorithmSettings[0].name"
    assert message.startswith(f"unknown setting {given!r} for {algorithm}; did you mean {meant!r}? "), message
    assert library in message
    assert "did you mean 'random_state'" not in message or meant == "random_state", message


def test_an_alias_whose_setting_the_algorithm_lacks_is_not_offered() -> None:
    [(_, message)] = _errors("random", "n_random_starts", "3")
    assert "n_initial_points" not in message, message


@pytest.mark.parametrize(
    ("algorithm", "name", "value", "right"),
    [("bayesianoptimization", "base_estimator", "gp", "GP"), ("bayesianoptimization", "acq_func", "ei", "EI"), ("cmaes", "restart_strategy", "IPOP", "ipop")],
)
def test_a_value_wrong_only_by_case_says_case_matters(algorithm: str, name: str, value: str, right: str) -> None:
    [(path, message)] = _errors(algorithm, name, value)
    assert path == "spec.algorithm.algorithmSettings[0].value"
    assert f"got {value!r}" in message and "case-sensitive" in message and f"{right!r}" in message.split("case-sensitive")[1], message
    settings, errors = parse_settings(ALGORITHMS[algorithm], [(name, right)], "x")
    assert errors == [] and settings[name] == right


def test_a_value_wrong_otherwise_says_nothing_of_case() -> None:
    [(_, message)] = _errors("bayesianoptimization", "acq_func", "xyz")
    assert "case" not in message, message


def test_a_name_wrong_only_by_case_says_case_matters() -> None:
    [(_, message)] = _errors("bayesianoptimization", "ACQ_FUNC", "EI")
    assert "case-sensitive" in message and "did you mean 'acq_func'?" in message, message
