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


class Int64Like:
    def __repr__(self) -> str:
        return "3"


Int64Like.__name__ = "int64"


@pytest.mark.parametrize(("value", "said"), [
    (LooksLikeADict(), "got a LooksLikeADict object: {'name': 'y', 'parameter_type': 'int'}"),  # a repr that passes for a dict's
    (["not", "a", "mapping"], "got ['not', 'a', 'mapping']"),  # a plain value is quoted as it is
    (Int64Like(), "got an int64 object: 3"),  # the class named with its article
], ids=["repr-of-a-dict", "plain-value", "article"])
def test_a_value_of_the_wrong_type_is_quoted_and_named_when_its_repr_would_mislead(value: object, said: str) -> None:
    doc = quadratic_experiment()
    doc["spec"]["parameters"].append(value)
    with pytest.raises(SpecError) as info:
        load_experiment(doc)
    assert f"spec.parameters[2]: expected a mapping, {said}" in str(info.value)
