"""regularized-evolution's nasConfig and settings check (``catalogue._check_regularized_evolution``),
as a user meets it: ``load_experiment`` of Katib's enas-cpu example run with regularized-evolution.

kfp-tune's own algorithm (not Katib's) gives its trials enas's values, so it needs of nasConfig
what enas needs, and says so; and each tournament draws at most ``population_size`` members."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import DELETE, load_katib_example, merge
from kfp_tune import SpecError, load_experiment
from kfp_tune.core.catalogue import ALGORITHMS

SETTINGS = "spec.algorithm.algorithmSettings"


def _evolution(overrides: dict[str, Any] | None = None, **settings: int) -> dict[str, Any]:
    """Katib's enas-cpu example, run with regularized-evolution and these settings."""
    algorithm = {"algorithmName": "regularized-evolution", "algorithmSettings": [{"name": k, "value": str(v)} for k, v in settings.items()]}
    return merge(load_katib_example("nas_enas-cpu.yaml"), {"spec.algorithm": algorithm, **(overrides or {})})


def _errors(doc: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as info:
        load_experiment(doc)
    return [(e.path, e.message) for e in info.value.errors]


def test_katibs_enas_example_loads_with_regularized_evolution() -> None:
    experiment = load_experiment(_evolution(population_size=8, sample_size=3))
    assert experiment.spec.algorithm is not None
    assert experiment.spec.algorithm.algorithm_name == "regularized-evolution"


@pytest.mark.parametrize("population", [1, 2, 8])
def test_a_tournament_as_large_as_the_population_is_accepted(population: int) -> None:
    """The limit itself: every member may be drawn (with replacement) for a tournament."""
    load_experiment(_evolution(population_size=population, sample_size=population))


@pytest.mark.parametrize(("population", "sample"), [(1, 2), (4, 5), (8, 30)])
def test_a_tournament_larger_than_the_population_is_refused(population: int, sample: int) -> None:
    errors = _errors(_evolution(population_size=population, sample_size=sample))
    assert len(errors) == 1, errors
    path, message = errors[0]
    assert path == SETTINGS
    assert f"sample_size {sample}" in message and f"population_size {population}" in message
    assert "expected at most population_size" in message


def test_the_default_population_bounds_a_given_sample() -> None:
    """Only sample_size given: it is checked against the population a trial would get by default."""
    default = ALGORITHMS["regularized-evolution"].settings_by_name["population_size"].default
    assert isinstance(default, int)
    load_experiment(_evolution(sample_size=default))
    ((path, message),) = _errors(_evolution(sample_size=default + 1))
    assert path == SETTINGS and f"population_size {default}" in message


def test_the_default_sample_must_fit_a_given_population() -> None:
    """Only population_size given: a population smaller than the default sample is refused."""
    default = ALGORITHMS["regularized-evolution"].settings_by_name["sample_size"].default
    assert isinstance(default, int) and default > 1
    load_experiment(_evolution(population_size=default))
    ((path, message),) = _errors(_evolution(population_size=default - 1))
    assert path == SETTINGS and f"sample_size {default}" in message


@pytest.mark.parametrize("key", ["inputSizes", "outputSizes"])
def test_nas_config_is_checked_as_for_enas_and_says_why(key: str) -> None:
    """A graph without sizes: enas's rule, at the field's path, naming regularized-evolution."""
    errors = _errors(_evolution({f"spec.nasConfig.graphConfig.{key}": DELETE}))
    assert len(errors) == 1, errors
    path, message = errors[0]
    assert path == f"spec.nasConfig.graphConfig.{key}"
    assert "required" in message and "regularized-evolution reads nasConfig as enas does" in message


def test_an_operation_without_parameters_is_refused_as_for_enas() -> None:
    errors = _errors(_evolution({"spec.nasConfig.operations.0.parameters": []}))
    assert [path for path, _ in errors] == ["spec.nasConfig.operations[0].parameters"]
    assert "regularized-evolution" in errors[0][1]


def test_nas_config_and_settings_problems_are_all_reported_at_once() -> None:
    errors = _errors(_evolution({"spec.nasConfig.graphConfig.outputSizes": DELETE}, population_size=2, sample_size=3))
    assert sorted(path for path, _ in errors) == [SETTINGS, "spec.nasConfig.graphConfig.outputSizes"]
