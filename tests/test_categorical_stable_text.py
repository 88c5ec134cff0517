"""A search.categorical of functions, classes or other objects is stored as text that is the same
in a fresh kernel, so that the same tune() call resumes its experiment or returns its result, and
``kfp-tune trials`` reads well: a function or class as ``module.qualname``; an object whose text
holds a memory address is refused at the helper, saying what to pass instead (review B of the QA
notebook fixes, finding 1: ``categorical([relu, tanh])`` stored ``<function relu at 0x7f...>``,
and the re-run after the cell was run again was refused as another experiment). Values that
compare equal (1, 1.0, True) are one value to the function, so one list may not hold two of them
(finding 7: grid ran one point twice)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from kfp_tune import Client, search, tune


def _tune(store: Path, space: dict) -> object:
    return tune(lambda p: 1.0 if p["act"].__name__ == "relu" else 2.0, space, max_trial_count=2, algorithm="grid",
                store=str(store), name="fn")


def test_a_rerun_with_the_functions_defined_again_returns_the_experiment_with_the_new_objects(tmp_path: Path) -> None:
    def relu(x: float) -> float:
        return x

    def tanh(x: float) -> float:
        return x

    first = _tune(tmp_path, {"act": search.categorical([relu, tanh])})
    assert {t.parameters["act"] for t in first.trials} == {relu, tanh}
    stored = {t.spec.parameter_assignments[0]["value"] for t in Client(str(tmp_path)).list_trials("fn")}
    here = f"{__name__}.test_a_rerun_with_the_functions_defined_again_returns_the_experiment_with_the_new_objects.<locals>"
    assert stored == {f"{here}.relu", f"{here}.tanh"}

    def relu(x: float) -> float:  # type: ignore[no-redef]  # the cell run again, or a new kernel
        return x

    def tanh(x: float) -> float:  # type: ignore[no-redef]
        return x

    with pytest.warns(UserWarning, match="has already completed"):
        again = _tune(tmp_path, {"act": search.categorical([relu, tanh])})
    assert again.best_trial.parameters["act"] is relu  # the object given in this call


class Adam:
    pass


class Sgd:
    pass


def test_classes_and_builtins_are_stored_by_their_module_qualified_names() -> None:
    assert search.categorical([Adam, Sgd, max]).feasible_space.list == [f"{__name__}.Adam", f"{__name__}.Sgd", "builtins.max"]


def test_a_lambda_is_named_as_a_function_is() -> None:
    assert search.categorical([lambda x: x, "x"]).feasible_space.list == [f"{__name__}.test_a_lambda_is_named_as_a_function_is.<locals>.<lambda>", "x"]


class WithMethod:
    def step(self) -> None:
        pass


@pytest.mark.parametrize("value", [Adam(), object(), WithMethod().step, functools.partial(_tune)], ids=["instance", "object", "method", "partial"])
def test_an_object_whose_text_holds_a_memory_address_is_refused_saying_what_to_pass(value: object) -> None:
    assert " at 0x" in str(value)
    with pytest.raises(ValueError, match=r"search\.categorical: value 2 of the list, .* at 0x.*differs in every kernel.*"
                                         r"give its name \('adam'\) and map the name to the object inside the function"):
        search.categorical(["sgd", value])


@pytest.mark.parametrize("values", [[1, 1.0, 2], [True, 1], [0, False], [2.0, 2]])
def test_values_that_compare_equal_are_one_value_to_the_function(values: list) -> None:
    with pytest.raises(ValueError, match=r"search\.categorical: .* and .* are one value to the function \(they compare equal\)"):
        search.categorical(values)
