"""The architecture search algorithms' settings and nasConfig checks, as ``kfp-tune validate``
shows them for Katib's enas and darts examples:

* settings bounds as Katib's suggestion services check them: enas's floats lie in (low, high]
  (pkg/suggestion/v1beta1/nas/enas/service.py), darts's rates and decays are ">= 0", and
  "None" is accepted only where Katib accepts it (enas's ``enableNoneSettingsList``, darts's
  ``batch_size``);
* enas's count of candidate operations: each operation expands into every combination of its
  parameters' values as Katib's ``Operation.py`` does it (a categorical's list, an int's
  ``range(min, max + 1, step)``, a double's ``min, min + step, ... max``; a discrete one, on
  which Katib's service fails, refused), summed over the operations, with a limit; and a limit
  on the layers;
* every problem reported at once, each naming its field and what was expected.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from conftest import DELETE, load_katib_example, merge, validation_errors
from kfp_tune.core.catalogue import ALGORITHMS, DARTS_PARAMETERLESS, MAX_ENAS_LAYERS, MAX_ENAS_OPERATIONS, parse_settings

SETTINGS = "spec.algorithm.algorithmSettings"
OPERATIONS = "spec.nasConfig.operations"


def _problems(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, message) of every problem validation finds; [] when the experiment loads."""
    return [(e.path, e.message) for e in validation_errors(doc)]


def _enas(settings: dict[str, str] | None = None, operations: list[dict[str, Any]] | None = None, **overrides: Any) -> dict[str, Any]:
    """Katib's enas-cpu example with these algorithmSettings and, when given, these operations."""
    changes: dict[str, Any] = dict(overrides)
    if settings is not None:
        changes["spec.algorithm.algorithmSettings"] = [{"name": k, "value": v} for k, v in settings.items()]
    if operations is not None:
        changes["spec.nasConfig.operations"] = operations
    return merge(load_katib_example("nas_enas-cpu.yaml"), changes)


def _darts(settings: dict[str, str] | None = None, operations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if settings is not None:
        changes["spec.algorithm.algorithmSettings"] = [{"name": k, "value": v} for k, v in settings.items()]
    if operations is not None:
        changes["spec.nasConfig.operations"] = operations
    return merge(load_katib_example("nas_darts-cpu.yaml"), changes)


def _categorical(name: str, size: int) -> dict[str, Any]:
    return {"name": name, "parameterType": "categorical", "feasibleSpace": {"list": [str(i) for i in range(size)]}}


def _numeric(name: str, parameter_type: str, low: str, high: str, step: str | None = None) -> dict[str, Any]:
    space = {"min": low, "max": high} | ({"step": step} if step is not None else {})
    return {"name": name, "parameterType": parameter_type, "feasibleSpace": space}


def _op(operation_type: str, *parameters: dict[str, Any]) -> dict[str, Any]:
    return {"operationType": operation_type, "parameters": list(parameters)} if parameters else {"operationType": operation_type}


def _says(message: str, *phrases: str) -> bool:
    """Whether each phrase is in the message as whole words (not glued to other text)."""
    return all(re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", message) for phrase in phrases)


def _too_many(problems: list[tuple[str, str]]) -> bool:
    return any(path == OPERATIONS and "candidates" in message for path, message in problems)


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize("name", ["controller_temperature", "controller_tanh_const", "controller_entropy_weight", "controller_skip_weight"])
def test_enas_takes_none_for_the_settings_katib_lets_be_none(name: str) -> None:
    assert _problems(_enas({name: "None"})) == []
    assert _problems(_enas({name: "2.5"})) == [], "a number is still read as a number"


@pytest.mark.parametrize("name", ["controller_learning_rate", "controller_baseline_decay", "controller_skip_target"])
def test_enas_refuses_none_where_katib_wants_a_number(name: str) -> None:
    ((path, message),) = _problems(_enas({name: "None"}))
    assert path == f"{SETTINGS}[0].value" and name in message and "expected a number" in message


def test_the_settings_given_as_none_are_none_and_numbers_are_numbers() -> None:
    """What the algorithm gets: Katib's "None" is Python's None, a number its float."""
    given = [("controller_temperature", "None"), ("controller_tanh_const", "1.5")]
    values, errors = parse_settings(ALGORITHMS["enas"], given, SETTINGS)
    assert errors == [] and values["controller_temperature"] is None and values["controller_tanh_const"] == 1.5
    values, errors = parse_settings(ALGORITHMS["darts"], [("batch_size", "None"), ("num_workers", "2")], SETTINGS)
    assert errors == [] and values["batch_size"] is None and values["num_workers"] == 2
    values, errors = parse_settings(ALGORITHMS["darts"], [("batch_size", "64")], SETTINGS)
    assert errors == [] and values["batch_size"] == 64


@pytest.mark.parametrize("value", ["1", "0.5", "1e-9"])
def test_enas_takes_a_decay_up_to_one_inclusive(value: str) -> None:
    """Katib: a float setting of enas lies in (low, high]; the baseline decay's is (0, 1]."""
    assert _problems(_enas({"controller_baseline_decay": value})) == []


@pytest.mark.parametrize("value", ["1.0000001", "2"])
def test_enas_refuses_a_decay_above_one_saying_the_bound(value: str) -> None:
    ((path, message),) = _problems(_enas({"controller_baseline_decay": value}))
    assert path == f"{SETTINGS}[0].value"
    assert "controller_baseline_decay" in message and "<= 1" in message and str(float(value)) in message


@pytest.mark.parametrize("value", ["0", "0.025", "3"])
def test_darts_takes_a_learning_rate_of_zero_or_more(value: str) -> None:
    """Katib's darts service: ``float(w_lr) >= 0.0``."""
    assert _problems(_darts({"w_lr": value, "alpha_weight_decay": value})) == []


def test_darts_refuses_a_negative_learning_rate_saying_the_bound() -> None:
    ((path, message),) = _problems(_darts({"w_lr": "-0.01"}))
    assert path == f"{SETTINGS}[0].value" and "w_lr" in message and ">= 0" in message and "-0.01" in message


@pytest.mark.parametrize(("name", "value"), [("w_lr", "None"), ("num_epochs", "None"), ("num_workers", "None")])
def test_darts_refuses_none_but_for_batch_size(name: str, value: str) -> None:
    """Katib's darts service reads ``float(...)`` / ``int(...)`` of these: "None" fails there."""
    ((path, message),) = _problems(_darts({name: value}))
    assert path == f"{SETTINGS}[0].value" and name in message and "expected" in message
    assert _problems(_darts({"batch_size": "None"})) == []


# ---------------------------------------------------------------- enas's candidate operations


def test_enas_takes_as_many_candidates_as_its_limit_and_refuses_one_more() -> None:
    at_limit = [_op("convolution", _categorical("filter_size", MAX_ENAS_OPERATIONS))]
    assert _problems(_enas(operations=at_limit)) == []
    one_more = [*at_limit, _op("reduction", _categorical("reduction_type", 1))]
    ((path, message),) = _problems(_enas(operations=one_more))
    assert path == OPERATIONS
    assert _says(message, "expected at most", "fewer values or a larger step")


def test_enas_sums_the_candidates_of_every_operation() -> None:
    half = MAX_ENAS_OPERATIONS // 2 + 1
    operations = [_op("convolution", _categorical("filter_size", half)), _op("separable_convolution", _categorical("filter_size", half))]
    assert _too_many(_problems(_enas(operations=operations)))


@pytest.mark.parametrize("algorithm", ["enas", "regularized-evolution"])
def test_a_discrete_parameter_of_an_operation_is_refused_naming_its_type(algorithm: str) -> None:
    """Katib's Operation.py counts a discrete parameter but leaves it out of the combinations,
    and its enas service fails on the missing key; kfp-tune once took it and never searched it
    (nor put it in nn_config). It is refused where enas reads nasConfig (regularized-evolution
    gives enas's values), and counts as one value: no other problem comes with it."""
    discrete = {"name": "stride", "parameterType": "discrete", "feasibleSpace": {"list": ["1", "2"]}}
    operations = [_op("convolution", _categorical("filter_size", MAX_ENAS_OPERATIONS), discrete)]
    ((path, message),) = _problems(_enas(operations=operations, **{"spec.algorithm.algorithmName": algorithm}))
    assert path == f"{OPERATIONS}[0].parameters[1].parameterType"
    assert _says(message, "expected categorical, int or double", "'discrete'", "Katib's enas service fails on it")


def test_darts_takes_a_discrete_list_of_filter_sizes() -> None:
    """Katib's darts service reads the first parameter's feasibleSpace.list, whatever its type:
    a discrete one is searched there, not dropped."""
    discrete = {"name": "filter_size", "parameterType": "discrete", "feasibleSpace": {"list": ["3", "5"]}}
    assert _problems(_darts(operations=[_op("convolution", discrete), _op(DARTS_PARAMETERLESS)])) == []


def test_enas_takes_as_many_layers_as_its_limit_and_refuses_one_more() -> None:
    """Each pair of layers is a skip bit of the architecture a trial gets: a huge numLayers once
    passed validation, then exhausted memory at the first suggestion."""
    assert _problems(_enas(**{"spec.nasConfig.graphConfig.numLayers": MAX_ENAS_LAYERS})) == []
    ((path, message),) = _problems(_enas(**{"spec.nasConfig.graphConfig.numLayers": MAX_ENAS_LAYERS + 1}))
    assert path == "spec.nasConfig.graphConfig.numLayers"
    assert _says(message, f"expected at most {MAX_ENAS_LAYERS} layers", f"got {MAX_ENAS_LAYERS + 1}", "kfp-tune's own limit")


def test_a_stepped_double_counts_each_value_from_min_to_max() -> None:
    """0, 1e-4, ... 1: one more value than the limit when the limit is 10,000; scaled with it."""
    step = 1 / MAX_ENAS_OPERATIONS
    fine = [_op("dropout", _numeric("rate", "double", "0", "1", repr(step)))]
    assert _too_many(_problems(_enas(operations=fine)))
    coarse = [_op("dropout", _numeric("rate", "double", "0", "1", "0.5"))]
    assert _problems(_enas(operations=coarse)) == []


def test_an_int_with_min_equal_to_max_is_one_value_and_both_problems_are_reported() -> None:
    """Every problem at once: the refused range (Katib wants min < max) and the count, in
    which the parameter is its one value."""
    operations = [_op("convolution", _numeric("num_filter", "int", "3", "3", "1"), _categorical("filter_size", MAX_ENAS_OPERATIONS + 1))]
    problems = _problems(_enas(operations=operations))
    assert _too_many(problems)
    assert any(path == f"{OPERATIONS}[0].parameters[0].feasibleSpace.min" for path, _ in problems)


@pytest.mark.parametrize(
    ("low", "high", "step", "field"),
    [("0", "1e300", "1e-300", "step"), ("-1e308", "1e308", "1", "max")],
    ids=["step-too-small", "range-overflows"],
)
def test_a_range_too_wide_to_count_is_reported_on_its_field_not_as_a_crash(low: str, high: str, step: str, field: str) -> None:
    operations = [_op("dropout", _numeric("rate", "double", low, high, step))]
    problems = _problems(_enas(operations=operations))
    assert [path for path, _ in problems] == [f"{OPERATIONS}[0].parameters[0].feasibleSpace.{field}"]


# ---------------------------------------------------------------- enas's and darts's nasConfig


@pytest.mark.parametrize("key", ["inputSizes", "outputSizes"])
def test_enas_needs_the_sizes_at_both_ends(key: str) -> None:
    problems = _problems(_enas(**{f"spec.nasConfig.graphConfig.{key}": DELETE}))
    messages = [message for path, message in problems if path == f"spec.nasConfig.graphConfig.{key}"]
    assert len(messages) == 1 and _says(messages[0], "required for enas", "non-empty list", "nn_config")


def test_enas_reports_every_operation_that_lacks_what_it_needs() -> None:
    """An operation without parameters does not hide the next one's int without a step."""
    operations = [_op("convolution"), _op("reduction", _numeric("pool_size", "int", "2", "3"))]
    problems = dict(_problems(_enas(operations=operations)))
    assert _says(problems[f"{OPERATIONS}[0].parameters"], "required for enas", "candidate operation")
    step = problems[f"{OPERATIONS}[1].parameters[0].feasibleSpace.step"]
    assert _says(step, "required for an int parameter", "min + step", "max")


def test_darts_checks_the_operations_after_a_skip_connection() -> None:
    """skip_connection needs no parameter; the operations after it are still checked."""
    operations = [_op("skip_connection"), _op("separable_convolution")]
    problems = _problems(_darts(operations=operations))
    assert [path for path, _ in problems] == [f"{OPERATIONS}[1].parameters"]


def test_darts_reads_filter_sizes_from_a_discrete_parameter_too() -> None:
    sizes = {"name": "filter_size", "parameterType": "discrete", "feasibleSpace": {"list": ["3", "5"]}}
    assert _problems(_darts(operations=[_op("separable_convolution", sizes), _op("skip_connection")])) == []
