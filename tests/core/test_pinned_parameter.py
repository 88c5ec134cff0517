"""A parameter pinned with min == max stays refused (kfp-tune's rule beyond Katib's, in the
guide), but the refusal says that Katib admits it and how to pin a value in kfp-tune: a
one-value discrete list, which is accepted (QA report s35 examples, finding 3)."""

from __future__ import annotations

import pytest

from conftest import quadratic_experiment, validation_errors


def pinned(parameter_type: str, value: str) -> dict:
    doc = quadratic_experiment()
    doc["spec"]["parameters"][1] = {"name": "y", "parameterType": parameter_type, "feasibleSpace": {"min": value, "max": value}}
    return doc


@pytest.mark.parametrize(("parameter_type", "value", "shown"), [("double", "0.5", "0.5"), ("int", "2", "2")])
def test_min_equal_max_says_katib_admits_it_and_how_to_pin_the_value(parameter_type: str, value: str, shown: str) -> None:
    assert [str(e) for e in validation_errors(pinned(parameter_type, value))] == [
        f"spec.parameters[1].feasibleSpace.min: expected min < max, got min {shown} and max {shown}; Katib admits min = max "
        f"(its random, tpe and grid give every trial that value), kfp-tune refuses it as a likely slip: to pin 'y', write parameterType: discrete "
        f"with feasibleSpace: {{list: ['{value}']}}"
    ]


@pytest.mark.parametrize("parameter_type", ["discrete", "categorical"])
def test_the_one_value_list_it_suggests_is_valid(parameter_type: str) -> None:
    doc = quadratic_experiment()
    doc["spec"]["parameters"][1] = {"name": "y", "parameterType": parameter_type, "feasibleSpace": {"list": ["0.5"]}}
    assert validation_errors(doc) == []


def test_min_above_max_gets_no_pinning_hint() -> None:
    doc = pinned("double", "0.5")
    doc["spec"]["parameters"][1]["feasibleSpace"] = {"min": "0.6", "max": "0.5"}
    assert [str(e) for e in validation_errors(doc)] == ["spec.parameters[1].feasibleSpace.min: expected min < max, got min 0.6 and max 0.5"]


def test_under_cmaes_with_one_number_left_the_advice_is_to_write_the_value_in_the_template() -> None:
    """A one-value discrete list is no double or int: cmaes, which needs two, refused the
    experiment the advice made (review C of session 35)."""
    doc = pinned("int", "2")
    doc["spec"]["algorithm"] = {"algorithmName": "cmaes"}
    message = str(validation_errors(doc)[0])
    assert message.endswith(
        "(under cmaes, which searches at least two double or int parameters, 1 would be left: remove 'y' from spec.parameters and "
        "write its value in the trial template instead)"
    ), message
    doc["spec"]["parameters"].append({"name": "z", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}})
    assert str(validation_errors(doc)[0]).endswith("{list: ['2']}")  # two numbers left: the list does
