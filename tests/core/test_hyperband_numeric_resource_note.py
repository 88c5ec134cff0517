"""hyperband gives its resource parameter the schedule's values (1, 3, 9, 27 for r_l 27) whatever
the parameter's range, as Katib's service does (``str(r)``); ``validate`` noted the values a
discrete or categorical list lacks, but not those outside an int or double's min..max (QA
settings, session 38, finding 4: ``a`` in -5..5 got 1, 3, 9, 27). Now it notes them too."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.portability import katib_notes


def _hyperband(r_l: str, resource: dict[str, Any]) -> Any:
    doc = quadratic_experiment(**{"spec.algorithm": {"algorithmName": "hyperband", "algorithmSettings": [
        {"name": "resource_name", "value": "y"}, {"name": "r_l", "value": r_l}, {"name": "eta", "value": "3"}]},
        "spec.parallelTrialCount": 9, "spec.maxTrialCount": 100})
    doc["spec"]["parameters"][1] = resource
    return load_experiment(doc)


def _resource_notes(experiment: Any) -> list[tuple[str, str]]:
    return [(n.path, n.message) for n in katib_notes(experiment) if n.message.startswith("hyperband gives its resource")]


@pytest.mark.parametrize("parameter_type", ["int", "double"])
def test_scheduled_resources_outside_the_range_are_noted(parameter_type: str) -> None:
    experiment = _hyperband("27", {"name": "y", "parameterType": parameter_type, "feasibleSpace": {"min": "-5", "max": "5"}})
    assert _resource_notes(experiment) == [(
        "spec.parameters[1].feasibleSpace",
        "hyperband gives its resource 'y' the schedule's values 1, 3, 9, 27 whatever its range, as Katib's hyperband service does (str(r)); "
        "9, 27 are outside min -5 .. max 5 and trials get them all the same",
    )]


def test_scheduled_resources_inside_the_range_are_not_noted() -> None:
    assert _resource_notes(_hyperband("27", {"name": "y", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "27"}})) == []
    assert _resource_notes(_hyperband("9", {"name": "y", "parameterType": "double", "feasibleSpace": {"min": "0.5", "max": "9"}})) == []
