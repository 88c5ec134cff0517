"""An experiment read back with ``get_experiment``, a Katib SDK model put into one of its lists
(``exp.spec.parameters.append(V1beta1ParameterSpec(...))``, which no setter sees), and created
again: Katib's client sends the mixed object through ``sanitize_for_serialization``, so the
nested model goes as its JSON. It was refused "expected a mapping, got {...}", the model's
``to_str()`` reading as a mapping. A dict experiment holding Katib's models is taken the same way.
Katib's models are stood in for by tests/support/katib_models.py."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

import katib_models
import pytest

from conftest import quadratic_experiment
from kfp_tune.core.loading import read_experiment_source


def small_experiment(name: str) -> dict[str, Any]:
    return quadratic_experiment(**{"metadata.name": name, "spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 0})


def y_as_a_model(high: str) -> Any:
    return katib_models.V1beta1ParameterSpec(name="y", parameter_type="double", feasible_space=katib_models.V1beta1FeasibleSpace(min="0", max=high))


def test_a_katib_model_put_into_a_list_of_an_experiment_read_back_is_created(katib: Any) -> None:
    katib.create_experiment(small_experiment("base"))
    new = copy.deepcopy(katib.get_experiment("base"))
    new.metadata.name = "base-narrower-y"
    new.spec.parameters.pop()
    new.spec.parameters.append(y_as_a_model("0.25"))
    katib.create_experiment(new)
    created = katib.get_experiment("base-narrower-y")
    assert [(p.name, p.feasible_space.max) for p in created.spec.parameters] == [("x", "1"), ("y", "0.25")]
    assert created.status.trials_succeeded == 1
    assert 0 <= float(katib.list_trials("base-narrower-y")[0].spec.parameter_assignments[1].value) <= 0.25


def test_a_dict_experiment_holding_katib_models_is_read_as_their_json() -> None:
    document = small_experiment("mixed")
    document["spec"]["parameters"][1] = y_as_a_model("0.5")
    read = read_experiment_source(document)
    assert read["spec"]["parameters"][1] == {"name": "y", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "0.5"}}
    assert document["spec"]["parameters"][1].name == "y", "the caller's dict is not changed"
    plain = small_experiment("plain")
    assert read_experiment_source(plain) is plain, "a dict holding no model is taken as it is"


@pytest.mark.parametrize("shared", [True, False])
def test_a_model_held_twice_or_a_dict_holding_itself_is_read_once(shared: bool) -> None:
    document = small_experiment("twice")
    if shared:
        model = y_as_a_model("0.5")
        document["spec"]["parameters"][1] = model
        document["spec"]["x-kept"] = [model]
        read = read_experiment_source(document)
        assert isinstance(read["spec"]["parameters"][1], dict), "the model is read as its JSON"
        assert read["spec"]["x-kept"][0] is read["spec"]["parameters"][1]
    else:
        document["spec"]["parameters"][1] = y_as_a_model("0.5")
        document["spec"]["x-loop"] = document["spec"]
        read = read_experiment_source(document)
        assert read["spec"]["parameters"][1] == {"name": "y", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "0.5"}}
        assert read["spec"]["x-loop"] is document["spec"], "the container that holds itself is left as it is"


class _ReadOnlyMapping(Mapping[str, Any]):
    """A mapping that is no dict, as some configuration objects are."""

    def __init__(self, items: dict[str, Any]):
        self._items = items

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


def test_katib_models_in_a_tuple_or_another_mapping_are_read_as_in_a_list() -> None:
    """A tuple goes to JSON as a list, as Katib's sanitize_for_serialization sends it: the
    models in it are read as in a list, not refused 'expected a mapping, got a V1beta1ParameterSpec'."""
    document = small_experiment("tupled")
    x, _ = document["spec"]["parameters"]
    document["spec"]["parameters"] = (x, y_as_a_model("0.5"))
    read = read_experiment_source(document)
    assert read["spec"]["parameters"] == [x, {"name": "y", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "0.5"}}]
    assert isinstance(document["spec"]["parameters"], tuple), "the caller's dict is not changed"
    held = small_experiment("held")
    held["spec"]["objective"] = _ReadOnlyMapping({**held["spec"]["objective"], "x-model": y_as_a_model("0.25")})
    assert read_experiment_source(held)["spec"]["objective"]["x-model"]["feasibleSpace"] == {"min": "0", "max": "0.25"}
    plain = small_experiment("plain-tuple")
    plain["spec"]["parameters"] = tuple(plain["spec"]["parameters"])
    assert read_experiment_source(plain) is plain, "a tuple holding no model is taken as it is"


def test_a_tuple_of_katib_models_creates_the_experiment(katib: Any) -> None:
    document = small_experiment("tuple-of-models")
    document["spec"]["parameters"] = (document["spec"]["parameters"][0], y_as_a_model("0.5"))
    katib.create_experiment(document)
    created = katib.get_experiment("tuple-of-models")
    assert [(p.name, p.feasible_space.max) for p in created.spec.parameters] == [("x", "1"), ("y", "0.5")]
