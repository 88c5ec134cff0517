"""A search.categorical of classes (or builtins) stored by a kfp-tune from before ecdf52b kept
each as its str(), ``<class 'mod.Adam'>``; the same tune() call now writes ``mod.Adam`` and was
refused as another experiment ("changed"). That old text is now taken as the same class on
resume, its trials' values given back as the class, and nothing else is (another class of the
name, the new text given as a string). A function was stored with its memory address, which
cannot be matched: still refused, saying the experiment was stored by an older kfp-tune and how
to go on. The old store is written as the old code wrote it: the values' text (str()) in the
spec and in each trial's assignment."""

from __future__ import annotations

import cmath
import enum
import math
from pathlib import Path
from typing import Any

import pytest

from kfp_tune import search, tune
from kfp_tune.core.errors import ExperimentConflict
from kfp_tune.core.spec import FeasibleSpace, ParameterSpec


class Adam:
    pass


class Sgd:
    pass


def _old_store(store: Path, texts: list[str], stop_at_second: bool) -> list[str]:
    """The experiment 'old' as the old code stored it for these values (their str(), in the
    parameter it made: search.categorical refuses an address now): two grid trials, the second
    stopped by a KeyboardInterrupt when ``stop_at_second`` (it resumes)."""
    seen: list[str] = []
    old_categorical = ParameterSpec(parameter_type="categorical", feasible_space=FeasibleSpace(list=texts))

    def objective(params: dict[str, Any]) -> float:
        seen.append(params["opt"])
        if stop_at_second and len(seen) == 2:
            raise KeyboardInterrupt
        return float(len(seen))

    if stop_at_second:
        with pytest.raises(KeyboardInterrupt):
            tune(objective, {"opt": old_categorical}, max_trial_count=2, algorithm="grid", parallel_trial_count=1, store=str(store), name="old")
    else:
        tune(objective, {"opt": old_categorical}, max_trial_count=2, algorithm="grid", parallel_trial_count=1, store=str(store), name="old")
    return seen


def test_an_old_class_text_resumes_as_the_same_class(tmp_path: Path) -> None:
    first = _old_store(tmp_path, [str(Adam), str(Sgd)], stop_at_second=True)
    assert first[0] in (str(Adam), str(Sgd))  # stored as the old code stored it
    given: list[Any] = []

    def objective(params: dict[str, Any]) -> float:
        given.append(params["opt"])
        return 0.5

    with pytest.warns(UserWarning, match="resum"):
        result = tune(objective, {"opt": search.categorical([Adam, Sgd])}, max_trial_count=2, algorithm="grid", parallel_trial_count=1,
                      store=str(tmp_path), name="old")
    assert given and all(value in (Adam, Sgd) for value in given), given  # the class, not its old text
    assert sorted(t.parameters["opt"].__name__ for t in result.trials if t.status == "Succeeded") == ["Adam", "Sgd"]


def test_an_old_class_text_of_a_completed_experiment_returns_its_result(tmp_path: Path) -> None:
    _old_store(tmp_path, [str(Adam), str(Sgd)], stop_at_second=False)
    with pytest.warns(UserWarning, match="has already completed"):
        result = tune(lambda p: 0.0, {"opt": search.categorical([Adam, Sgd])}, max_trial_count=2, algorithm="grid", parallel_trial_count=1,
                      store=str(tmp_path), name="old")
    assert result.best_trial is not None and result.best_trial.parameters["opt"] in (Adam, Sgd)


@pytest.mark.parametrize("other", [
    type("Adam", (), {"__module__": "elsewhere"}),  # another class of the name
    f"{__name__}.Adam",  # the new text, given as a string
], ids=["another-class", "a-string"])
def test_nothing_else_is_taken_for_the_old_text(tmp_path: Path, other: Any) -> None:
    _old_store(tmp_path, [str(Adam), str(Sgd)], stop_at_second=False)
    with pytest.raises(ExperimentConflict, match=r"parameters\['opt'\]"):
        tune(lambda p: 0.0, {"opt": search.categorical([other, Sgd])}, max_trial_count=2, algorithm="grid", parallel_trial_count=1,
             store=str(tmp_path), name="old")


def relu(x: float) -> float:
    return x


def tanh(x: float) -> float:
    return x


def test_an_old_function_text_with_its_address_is_refused_saying_what_to_do(tmp_path: Path) -> None:
    _old_store(tmp_path, ["<function relu at 0x7f42a1c3e8b0>", "<function tanh at 0x7f42a1c3e940>"], stop_at_second=False)
    with pytest.raises(ExperimentConflict) as refused:
        tune(lambda p: 0.0, {"opt": search.categorical([relu, tanh])}, max_trial_count=2, algorithm="grid", parallel_trial_count=1,
             store=str(tmp_path), name="old")
    said = str(refused.value)
    assert "parameters['opt']" in said, said
    assert "stored by an older kfp-tune" in said and "memory address" in said, said
    assert "pass another name=" in said and f"kfp_tune.Client('{tmp_path.as_uri()}').delete_experiment('old', confirm=True)" in said, said


class Color(enum.Enum):
    RED = 1


class Shade(enum.Enum):
    DARK = 1


@pytest.mark.parametrize("stored, given", [
    ([str(math.sqrt), str(math.exp)], [cmath.sqrt, cmath.exp]),  # another module's builtins of the names
    ([str(math.sqrt), str(math.exp)], [math.sqrt, math.exp]),  # the same ones: the text cannot tell them
    ([str(Color), str(Shade)], [Color, Shade]),  # an enum class's str() is "<enum 'Color'>"
], ids=["cmath-for-math", "math-for-math", "enum-classes"])
def test_an_old_text_without_its_module_is_refused_saying_what_to_do(tmp_path: Path, stored: list[str], given: list[Any]) -> None:
    """Review A of session 37, finding 6: '<built-in function sqrt>' was stored alike for
    math.sqrt and cmath.sqrt, so it names neither: matched, a store of math.sqrt's trials was
    resumed, or returned, as cmath.sqrt's."""
    _old_store(tmp_path, stored, stop_at_second=False)
    with pytest.raises(ExperimentConflict) as refused:
        tune(lambda p: 0.0, {"opt": search.categorical(given)}, max_trial_count=2, algorithm="grid", parallel_trial_count=1,
             store=str(tmp_path), name="old")
    said = str(refused.value)
    assert "parameters['opt']" in said and "stored by an older kfp-tune" in said, said
    assert "which names no module" in said and said.count("names no module") == 1 and "pass another name=" in said, said


def test_an_old_text_of_a_builtin_class_resumes_as_it(tmp_path: Path) -> None:
    """``<class 'int'>`` is builtins.int's str() alone (another module's class reads '<class 'mod.int'>')."""
    _old_store(tmp_path, [str(int), str(float)], stop_at_second=False)
    with pytest.warns(UserWarning, match="has already completed"):
        result = tune(lambda p: 0.0, {"opt": search.categorical([int, float])}, max_trial_count=2, algorithm="grid", parallel_trial_count=1,
                      store=str(tmp_path), name="old")
    assert sorted(t.parameters["opt"].__name__ for t in result.trials) == ["float", "int"]
