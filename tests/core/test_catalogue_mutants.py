"""The algorithms' own checks, as ``kfp-tune validate`` shows them: each names the field to fix
and says, in whole words, what the algorithm needs; hyperband's resource may be an int or a
double parameter; and every algorithmSettings entry is checked, also those after a duplicate."""

from __future__ import annotations

import re
from typing import Any

import pytest

from conftest import quadratic_experiment, validation_errors

SETTINGS = "spec.algorithm.algorithmSettings"


def problems(**overrides: Any) -> list[tuple[str, str]]:
    """(field, message) of every problem validation finds in the quadratic experiment so changed."""
    return [(e.path, e.message) for e in validation_errors(quadratic_experiment(**overrides))]


def says(message: str, *words: str) -> bool:
    """Whether each of ``words`` is in ``message`` as a word of its own (not glued to others)."""
    return all(re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", message) for word in words)


def hyperband(resource: str | None, resource_type: str = "int", space: dict[str, Any] | None = None) -> dict[str, Any]:
    """Overrides for a hyperband experiment (r_l 9, so 9 trials in parallel) whose parameter y is
    of ``resource_type`` and named by resource_name (none when ``resource`` is None)."""
    settings = [{"name": "r_l", "value": "9"}]
    if resource is not None:
        settings.append({"name": "resource_name", "value": resource})
    return {
        "spec.algorithm": {"algorithmName": "hyperband", "algorithmSettings": settings},
        "spec.parallelTrialCount": 9,
        "spec.maxTrialCount": 30,
        "spec.parameters.1": {"name": "y", "parameterType": resource_type, "feasibleSpace": space or {"min": "1", "max": "9"}},
    }


def test_hyperband_without_resource_name_names_the_settings_and_the_setting() -> None:
    [(field, message)] = problems(**hyperband(None))
    assert field == SETTINGS
    assert says(message, "hyperband", "resource_name"), message


@pytest.mark.parametrize("resource_type", ["int", "double"])
def test_hyperband_takes_an_int_or_a_double_resource(resource_type: str) -> None:
    assert problems(**hyperband("y", resource_type)) == []


def test_hyperband_takes_a_categorical_or_discrete_resource_as_katib_does() -> None:
    """Katib's ValidateAlgorithmSettings checks only the name; its service sets the parameter to str(r)."""
    assert problems(**hyperband("y", "categorical", {"list": ["1", "9"]})) == []
    assert problems(**hyperband("y", "discrete", {"list": ["1", "9"]})) == []


def test_cmaes_with_one_numeric_parameter_names_the_parameters() -> None:
    """Katib's goptuna service: CMA-ES needs two or more int or double parameters."""
    categorical = {"name": "y", "parameterType": "categorical", "feasibleSpace": {"list": ["a", "b"]}}
    [(field, message)] = problems(**{"spec.algorithm": {"algorithmName": "cmaes"}, "spec.parameters.1": categorical})
    assert field == "spec.parameters"
    assert says(message, "cmaes", "two", "double", "int"), message


def test_grid_names_each_double_parameter_without_a_step() -> None:
    found = problems(**{"spec.algorithm": {"algorithmName": "grid"}, "spec.parameters.0.feasibleSpace.step": "0.5"})
    [(field, message)] = found
    assert field == "spec.parameters[1].feasibleSpace.step"
    assert says(message, "grid", "step", "double"), message


def test_every_setting_is_checked_also_after_one_given_twice() -> None:
    """A name given twice takes its last value (as Katib's services read them), each checked."""
    settings = [
        {"name": "random_state", "value": "-1"},
        {"name": "random_state", "value": "2"},
        {"name": "no_such_setting", "value": "1"},
    ]
    found = problems(**{"spec.algorithm": {"algorithmName": "random", "algorithmSettings": settings}})
    assert [field for field, _ in found] == [f"{SETTINGS}[0].value", f"{SETTINGS}[2].name"]
    assert says(found[0][1], "random_state", ">= 0") and says(found[1][1], "'no_such_setting'")
    assert problems(**{"spec.algorithm": {"algorithmName": "random", "algorithmSettings": settings[1:2] * 2}}) == []
