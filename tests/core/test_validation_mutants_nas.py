"""What validation accepts and refuses in spec.nasConfig, whichever algorithm searches it, and
what it says: numLayers and every input and output size are int32 in Katib's API
(experiment_types.go: ``NumLayers *int32``, ``InputSizes []int32``, ``OutputSizes []int32``)
and must be at least 1; an operation needs its operationType, once per list (Katib keys the list
by it), and its parameters need distinct names. Built on Katib's enas-cpu and darts-gpu examples."""

from __future__ import annotations

import copy

import pytest

from conftest import DELETE, load_katib_example, merge, validation_errors
from kfp_tune.core.catalogue import MAX_ENAS_LAYERS
from kfp_tune.core.errors import FieldError

GRAPH = "spec.nasConfig.graphConfig"
OPERATIONS = "spec.nasConfig.operations"
INT32_LARGEST = 2**31 - 1  # Go's math.MaxInt32
EXAMPLES = ["nas_enas-cpu.yaml", "nas_darts-gpu.yaml"]


def at(errors: list[FieldError], prefix: str) -> dict[str, str]:
    """path -> message for the errors under prefix."""
    return {e.path: e.message for e in errors if e.path.startswith(prefix)}


@pytest.mark.parametrize("example", EXAMPLES)
def test_num_layers_accepts_1_and_the_largest_int32_and_refuses_one_past_each(example: str) -> None:
    """darts takes any int32 number of layers, as Katib; enas at most MAX_ENAS_LAYERS (kfp-tune's
    own bound, b64285b), past which the refusal says so."""
    largest = INT32_LARGEST if "darts" in example else MAX_ENAS_LAYERS
    for accepted in (1, largest):
        assert at(validation_errors(merge(load_katib_example(example), {f"{GRAPH}.numLayers": accepted})), GRAPH) == {}
    for refused in (0, INT32_LARGEST + 1):
        got = at(validation_errors(merge(load_katib_example(example), {f"{GRAPH}.numLayers": refused})), GRAPH)
        assert list(got) == [f"{GRAPH}.numLayers"] and got[f"{GRAPH}.numLayers"].endswith(f"got {refused}")
    if largest == MAX_ENAS_LAYERS:
        got = at(validation_errors(merge(load_katib_example(example), {f"{GRAPH}.numLayers": MAX_ENAS_LAYERS + 1})), GRAPH)
        assert got[f"{GRAPH}.numLayers"].startswith(f"expected at most {MAX_ENAS_LAYERS} layers for enas, got 101 (kfp-tune's own limit")


def test_a_missing_num_layers_is_required() -> None:
    got = at(validation_errors(merge(load_katib_example("nas_enas-cpu.yaml"), {f"{GRAPH}.numLayers": DELETE})), GRAPH)
    assert list(got) == [f"{GRAPH}.numLayers"]
    assert got[f"{GRAPH}.numLayers"].startswith("required")


@pytest.mark.parametrize("example", EXAMPLES)
@pytest.mark.parametrize("key", ["inputSizes", "outputSizes"])
def test_each_size_accepts_1_and_the_largest_int32_and_refuses_one_past_each(example: str, key: str) -> None:
    """A size of 1 (one output class, one channel) is a size; 0 and 2**31 are not int32 sizes.
    The refused one is named by its own list and index."""
    doc = merge(load_katib_example(example), {f"{GRAPH}.{key}": [1, INT32_LARGEST, 0, INT32_LARGEST + 1]})
    got = at(validation_errors(doc), GRAPH)
    assert sorted(got) == [f"{GRAPH}.{key}[2]", f"{GRAPH}.{key}[3]"]
    assert got[f"{GRAPH}.{key}[2]"].endswith("got 0")
    assert got[f"{GRAPH}.{key}[3]"].endswith(f"got {INT32_LARGEST + 1}")


def test_no_operation_at_all_is_required() -> None:
    got = at(validation_errors(merge(load_katib_example("nas_enas-cpu.yaml"), {OPERATIONS: []})), OPERATIONS)
    assert list(got) == [OPERATIONS] and got[OPERATIONS].startswith("required")


def test_an_operation_without_its_type_is_required_at_its_index() -> None:
    got = at(validation_errors(merge(load_katib_example("nas_enas-cpu.yaml"), {f"{OPERATIONS}.1.operationType": ""})), OPERATIONS)
    assert list(got) == [f"{OPERATIONS}[1].operationType"]
    assert got[f"{OPERATIONS}[1].operationType"].startswith("required")


def test_an_operation_parameter_named_twice_is_named_as_a_parameter_name() -> None:
    doc = load_katib_example("nas_enas-cpu.yaml")
    parameters = doc["spec"]["nasConfig"]["operations"][0]["parameters"]
    parameters.append(copy.deepcopy(parameters[0]))
    where = f"{OPERATIONS}[0].parameters[{len(parameters) - 1}].name"
    got = at(validation_errors(doc), OPERATIONS)
    assert list(got) == [where]
    assert got[where].startswith(f"parameter name {parameters[0]['name']!r}") and "more than once" in got[where]


def test_an_operation_type_given_twice_is_quoted_at_the_second() -> None:
    doc = load_katib_example("nas_enas-cpu.yaml")
    operations = doc["spec"]["nasConfig"]["operations"]
    operations.append(copy.deepcopy(operations[0]))
    where = f"{OPERATIONS}[{len(operations) - 1}].operationType"
    got = at(validation_errors(doc), OPERATIONS)
    assert list(got) == [where]
    assert repr(operations[0]["operationType"]) in got[where] and "more than once" in got[where]
