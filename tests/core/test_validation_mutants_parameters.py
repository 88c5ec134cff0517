"""The checks of one search-space parameter as a user meets them: a name that a
``${trialParameters.x}`` substitution could not carry, a type or distribution that is not
Katib's (quoted back as written), and the empty strings Katib's CRD leaves in unused fields.
Written for the mutants of ``validation._check_parameter`` that every other test let pass."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import quadratic_experiment, validation_errors
from kfp_tune.core.spec import _format_loc

PARAMETER = "spec.parameters[0]"


def with_parameter(**fields: Any) -> dict[str, Any]:
    """The quadratic experiment with its first parameter (``x``) replaced by fields."""
    doc = quadratic_experiment()
    doc["spec"]["parameters"][0] = {"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}, **fields}
    return doc


@pytest.mark.parametrize("name", ["x{", "}x", "a{b}"])
def test_a_parameter_name_with_a_brace_is_refused_at_the_name_and_quoted_back(name: str) -> None:
    """Either brace alone is enough: a name with one cannot be written inside ``${...}``."""
    doc = with_parameter(name=name)
    doc["spec"]["trialTemplate"]["trialParameters"][0]["reference"] = name
    errors = [e for e in validation_errors(doc) if e.path == f"{PARAMETER}.name"]
    assert [e.message for e in errors] == [f"must not contain '{{' or '}}', got {name!r}"]


def test_a_name_without_braces_is_not_refused_for_them() -> None:
    doc = with_parameter(name="learning_rate-2.x")
    doc["spec"]["trialTemplate"]["trialParameters"][0]["reference"] = "learning_rate-2.x"
    assert validation_errors(doc) == []


def test_an_unknown_parameter_type_is_quoted_back() -> None:
    [error] = [e for e in validation_errors(with_parameter(parameterType="float")) if e.path == f"{PARAMETER}.parameterType"]
    assert error.message.endswith("got 'float'")
    assert "'double'" in error.message and "'categorical'" in error.message


def test_an_unknown_distribution_is_quoted_back() -> None:
    doc = with_parameter(feasibleSpace={"min": "0", "max": "1", "distribution": "gaussian"})
    [error] = [e for e in validation_errors(doc) if e.path == f"{PARAMETER}.feasibleSpace.distribution"]
    assert error.message.endswith("got 'gaussian'")
    assert "'uniform'" in error.message and "'logUniform'" in error.message


def test_a_categorical_parameter_may_carry_the_empty_min_max_and_step_katib_leaves() -> None:
    """An Experiment read back from a cluster has ``min: ""`` in a list parameter's space."""
    doc = with_parameter(parameterType="categorical", feasibleSpace={"list": ["0.1", "0.5"], "min": "", "max": "", "step": ""})
    assert validation_errors(doc) == []


def test_a_categorical_parameter_with_a_real_min_is_told_to_use_the_list() -> None:
    doc = with_parameter(parameterType="categorical", feasibleSpace={"list": ["0.1", "0.5"], "min": "0"})
    [error] = [e for e in validation_errors(doc) if e.path == f"{PARAMETER}.feasibleSpace.min"]
    assert "use feasibleSpace.list" in error.message


def test_an_error_with_no_location_is_placed_at_the_root() -> None:
    """pydantic gives an empty location for the document as a whole."""
    assert _format_loc(()) == "(root)"
    assert _format_loc(("spec", "parameters", 0, "name")) == "spec.parameters[0].name"


def space_errors(parameter_type: str, **space: str) -> dict[str, list[str]]:
    """The messages at each field of x's feasibleSpace, keyed by the field (min, max, step, list[1])."""
    doc = with_parameter(parameterType=parameter_type, feasibleSpace=space)
    prefix = f"{PARAMETER}.feasibleSpace."
    found: dict[str, list[str]] = {}
    for error in validation_errors(doc):
        if error.path.startswith(prefix):
            found.setdefault(error.path.removeprefix(prefix), []).append(error.message)
    return found


def test_a_list_value_given_twice_is_pointed_at_and_called_a_value() -> None:
    assert space_errors("categorical", list=["a", "b", "a"]) == {"list[2]": ["value 'a' is given more than once"]}


def test_a_discrete_value_that_is_no_number_is_quoted_back() -> None:
    assert space_errors("discrete", list=["1", "two"]) == {"list[1]": ["discrete values must be numbers, got 'two'"]}


def test_an_empty_min_is_missing_not_malformed() -> None:
    assert space_errors("double", min="", max="1") == {"min": ["required for parameterType double"]}


@pytest.mark.parametrize(
    ("parameter_type", "space", "expected"),
    [
        ("double", {"max": "abc"}, {"min": ["required for parameterType double"], "max": ["expected a finite number, got 'abc'"]}),
        (
            "double",
            {"min": "abc", "max": "inf"},
            {"min": ["expected a finite number, got 'abc'"], "max": ["expected a finite number, got 'inf'"]},
        ),
        (
            "int",
            {"min": "1.5", "max": "2.5"},
            {"min": ["expected an integer for parameterType int, got '1.5'"], "max": ["expected an integer for parameterType int, got '2.5'"]},
        ),
        (
            "int",
            {"min": str(-(2**53) - 2), "max": str(2**53 + 2)},
            {
                "min": [f"expected an integer from -2**53 to 2**53 ({2**53}), got '{-(2**53) - 2}'"],
                "max": [f"expected an integer from -2**53 to 2**53 ({2**53}), got '{2**53 + 2}'"],
            },
        ),
    ],
)
def test_every_bound_is_checked_past_a_bad_one_and_quoted_back(parameter_type: str, space: dict[str, str], expected: dict[str, list[str]]) -> None:
    assert space_errors(parameter_type, **space) == expected


def test_a_range_too_wide_for_a_float_is_refused_at_max() -> None:
    found = space_errors("double", min="-1e308", max="1e308")
    assert list(found) == ["max"]
    [message] = found["max"]
    assert "max - min overflows a float" in message and "min -1e+308, max 1e+308" in message


def test_a_step_of_exactly_width_over_2_to_the_53_is_the_smallest_accepted() -> None:
    """The limit is on (max - min) / step, not on (max + min) / step: a range away from 0 with the
    smallest step is as valid as one from 0."""
    assert space_errors("double", min="0", max="1", step=repr(2.0**-53)) == {}
    assert space_errors("double", min="1", max="2", step=repr(2.0**-53)) == {}
    found = space_errors("double", min="1", max="2", step="1e-20")
    assert found == {"step": [f"expected a step of at least (max - min) / 2**53 ({2.0**-53:g}), got 1e-20"]}


def test_a_step_wider_than_the_range_is_refused_with_the_range_width() -> None:
    assert space_errors("double", min="1", max="2", step="5") == {"step": ["expected a step no larger than max - min (1), got 5"]}
    assert space_errors("double", min="0", max="0.25", step="0.5") == {"step": ["expected a step no larger than max - min (0.25), got 0.5"]}


def test_hyperbands_resource_may_be_one_value_with_a_step() -> None:
    """Katib's hyperband example fixes the resource's range (min == max, set by r_l); its step
    is then not 'larger than the range'."""
    doc = with_parameter(name="epochs", parameterType="int", feasibleSpace={"min": "9", "max": "9", "step": "1"})
    doc["spec"]["trialTemplate"]["trialParameters"][0]["reference"] = "epochs"
    doc["spec"]["algorithm"] = {
        "algorithmName": "hyperband",
        "algorithmSettings": [{"name": "resource_name", "value": "epochs"}, {"name": "r_l", "value": "9"}],
    }
    assert validation_errors(doc) == []
