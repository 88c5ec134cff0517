"""A value of the wrong type is quoted with its class when its repr would pass for a plain
value's: ``expected a mapping, got {...}`` of an object whose repr is a dict's (a Katib SDK
model's ``to_str``) read as a contradiction."""

from __future__ import annotations

import pytest

from conftest import quadratic_experiment
from kfp_tune.core.errors import SpecError
from kfp_tune.core.loading import load_experiment


class LooksLikeADict:
    def __repr__(self) -> str:
        return "{'name': 'y', 'parameter_type': 'int'}"


def test_an_object_whose_repr_is_a_dicts_is_named_with_its_class() -> None:
    doc = quadratic_experiment()
    doc["spec"]["parameters"].append(LooksLikeADict())
    with pytest.raises(SpecError) as info:
        load_experiment(doc)
    assert "spec.parameters[2]: expected a mapping, got a LooksLikeADict object: {'name': 'y', 'parameter_type': 'int'}" in str(info.value)


def test_a_plain_value_of_the_wrong_type_is_quoted_as_it_is() -> None:
    doc = quadratic_experiment()
    doc["spec"]["parameters"].append(["not", "a", "mapping"])
    with pytest.raises(SpecError) as info:
        load_experiment(doc)
    assert "spec.parameters[2]: expected a mapping, got ['not', 'a', 'mapping']" in str(info.value)


class Int64Like:
    def __repr__(self) -> str:
        return "3"


Int64Like.__name__ = "int64"


def test_the_class_is_named_with_its_article() -> None:
    doc = quadratic_experiment()
    doc["spec"]["parameters"].append(Int64Like())
    with pytest.raises(SpecError) as info:
        load_experiment(doc)
    assert "spec.parameters[2]: expected a mapping, got an int64 object: 3" in str(info.value)
