"""The search space at its edges (``kfp_tune.core.space``): what a Katib ParameterSpec becomes,
how values print and compare, and the grid an algorithm walks.

Katib hands every value to the trial as a string, so two values are the same trial exactly when
they print the same; each test here states that from the user's side (what the trial would see),
not from the implementation's numbers."""

from __future__ import annotations

import itertools

import pytest

from kfp_tune.core.space import Parameter, SearchSpace, build_parameter, parse_number
from kfp_tune.core.spec import FeasibleSpace

KATIB_DISTRIBUTIONS = ("uniform", "logUniform", "normal", "logNormal")
"""Katib's v1beta1 distributions (experiment_types.go); uniform is its default."""


def _parameter(parameter_type: str, **feasible: object) -> Parameter:
    return build_parameter("p", parameter_type, FeasibleSpace.model_validate(feasible))


# --- build_parameter: what a ParameterSpec becomes ---------------------------------------------


@pytest.mark.parametrize(
    ("parameter_type", "feasible"),
    [
        ("double", {"min": "0.5", "max": "2"}),
        ("int", {"min": "1", "max": "5"}),
        ("discrete", {"list": ["1", "2", "4"]}),
        ("categorical", {"list": ["adam", "sgd"]}),
    ],
)
def test_a_parameter_without_a_distribution_is_uniform_and_a_given_one_is_kept(parameter_type: str, feasible: dict[str, object]) -> None:
    """Katib defaults every parameter's distribution to uniform and accepts any of its four on
    any type; an algorithm reads the distribution off the Parameter."""
    assert _parameter(parameter_type, **feasible).distribution == "uniform"
    for distribution in KATIB_DISTRIBUTIONS:
        assert _parameter(parameter_type, **feasible, distribution=distribution).distribution == distribution


@pytest.mark.parametrize("parameter_type", ["discrete", "categorical"])
def test_a_list_parameter_holds_its_list_in_order(parameter_type: str) -> None:
    p = _parameter(parameter_type, list=["8", "2", "4"])
    assert p.type == parameter_type
    assert p.choices == ("8", "2", "4")
    assert p.grid() == ["8", "2", "4"]


def test_an_empty_step_is_no_step() -> None:
    """``step: ""`` is what Katib's string field holds when the step is left out: the double has
    no grid (grid search refuses it) rather than failing to parse an empty number."""
    p = _parameter("double", min="0", max="1", step="")
    assert p.step is None and p.count() is None
    with pytest.raises(ValueError, match="step"):
        p.grid()


# --- format / canonical: two values are one trial exactly when they print the same -------------


def _same_trial_agrees_with_printing(p: Parameter, values: list[float | int | str]) -> None:
    for a, b in itertools.combinations(values, 2):
        same_text = p.format(a) == p.format(b)
        assert (p.canonical(a) == p.canonical(b)) == same_text, (p.type, a, b, p.format(a), p.format(b))


def test_a_stepped_double_treats_float_noise_as_the_same_value() -> None:
    p = _parameter("double", min="0", max="1", step="0.1")
    values: list[float | int | str] = [0.1 + 0.2, 0.3, 0.1 * 3, 0.4, 0.7, 0.1 * 7]
    assert p.format(0.1 + 0.2) == "0.3" and p.format(0.1 * 7) == "0.7"
    _same_trial_agrees_with_printing(p, values)
    assert len({p.canonical(v) for v in values}) == 3


def test_an_int_parameter_prints_and_compares_whole_numbers() -> None:
    """An optimizer may hand an int parameter a float; the trial gets the integer's string."""
    p = _parameter("int", min="0", max="10")
    assert p.format(4.0) == "4"
    assert p.format(7) == "7"
    _same_trial_agrees_with_printing(p, [2, 2.0, 2.4, 2.7, 3, 3.0])
    assert len({p.canonical(v) for v in (2, 2.0, 2.7, 3)}) == 2


def test_list_values_compare_as_their_strings() -> None:
    p = _parameter("categorical", list=["adam", "sgd"])
    _same_trial_agrees_with_printing(p, ["adam", "sgd"])
    assert p.canonical("adam") == "adam"


def test_a_double_stepped_in_whole_numbers_prints_whole_numbers_that_parse_back() -> None:
    p = _parameter("double", min="0", max="100", step="10")
    grid = p.grid()
    assert [p.format(v) for v in grid] == [str(10 * k) for k in range(11)]
    assert [p.parse(p.format(v)) for v in grid] == grid


# --- the grid ----------------------------------------------------------------------------------


def test_an_int_without_a_step_walks_every_integer() -> None:
    """Katib's step for an int left without one is 1."""
    assert _parameter("int", min="1", max="5").grid() == [1, 2, 3, 4, 5]
    assert _parameter("int", min="1", max="5").value_at(1) == 2


def test_value_at_of_a_list_parameter_is_that_list_item() -> None:
    p = _parameter("discrete", list=["0.5", "1", "2"])
    assert [p.value_at(k) for k in range(3)] == ["0.5", "1", "2"]


def test_a_double_without_a_step_has_no_grid_and_the_error_says_which_and_why() -> None:
    p = build_parameter("learning_rate", "double", FeasibleSpace(min="0.01", max="0.1"))
    with pytest.raises(ValueError) as info:
        p.grid()
    assert "learning_rate" in str(info.value)
    assert "step" in str(info.value)


@pytest.mark.parametrize("value", [1.0, 0.95, 0.91, 5.0, -1.0, 0.3, 0.61])
def test_snap_never_leaves_the_range_when_max_is_off_the_step_grid(value: float) -> None:
    """min 0, max 1, step 0.6: the feasible values are 0 and 0.6; 1.0 is nearer 1.2, which is
    past max, so it snaps to 0.6."""
    p = _parameter("double", min="0", max="1", step="0.6")
    snapped = p.snap(value)
    assert p.contains(snapped), snapped
    assert snapped in (0.0, 0.6)


# --- parse_number ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["inf", "-inf", "nan", "1e400"])
def test_a_number_that_is_not_finite_is_refused_naming_it(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_number(text)
    assert text in str(info.value)
    assert "finite" in str(info.value)


# --- SearchSpace -------------------------------------------------------------------------------


def _space() -> SearchSpace:
    return SearchSpace((_parameter("double", min="0", max="1"), build_parameter("k", "int", FeasibleSpace(min="1", max="3"))))


def test_a_space_is_indexed_by_parameter_name() -> None:
    space = _space()
    assert space["k"].type == "int"
    assert space["p"].type == "double"
    with pytest.raises(KeyError) as info:
        space["missing"]
    assert info.value.args == ("missing",)


def test_a_space_holds_an_assignment_only_with_every_name_and_every_value_feasible() -> None:
    space = _space()
    assert space.contains({"p": 0.5, "k": 2})
    assert not space.contains({"p": 0.5, "k": 9})  # right names, k out of range
    assert not space.contains({"p": 0.5})  # a name missing
    assert not space.contains({"p": 0.5, "k": 2, "extra": 1})  # a name too many
