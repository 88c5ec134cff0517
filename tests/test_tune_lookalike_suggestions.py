"""The look-alike warning (a fixed value that looks like a search space) suggests only a call
tune() accepts, and submit_function() gives it as tune(host=) does (review B of the QA notebook
fixes, findings 2 and 3: ``"shape": (224, 224)`` was told to use ``search.int(224, 224)`` and
``(64, 32)`` ``search.int(64, 32)``, both refused by tune(); submit_function never warned)."""

from __future__ import annotations

import ast
import re
import warnings
from pathlib import Path
from typing import Any

import pytest

import kfp_tune.remote
from kfp_tune import search, submit_function, tune


def _fixed_warnings(tmp_path: Path, value: Any) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = tune(lambda p: float(p["x"]), {"x": search.double(0, 1), "C": value}, algorithm="random",
                      algorithm_settings={"random_state": 4}, max_trial_count=1, store=str(tmp_path / "store"))
    assert result.status == "Succeeded"
    return [str(w.message) for w in caught if "parameters['C']" in str(w.message)]


def suggested(call: str) -> Any:
    """The search helper a warning suggests (``search.NAME(literal, ...)``), called: read with
    ``ast``, never evaluated, so only a helper of ``kfp_tune.search`` with literal arguments runs."""
    node = ast.parse(call, mode="eval").body
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute), call
    assert isinstance(node.func.value, ast.Name) and node.func.value.id == "search", call
    args = [ast.literal_eval(a) for a in node.args]
    kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg is not None}
    return getattr(search, node.func.attr)(*args, **kwargs)


@pytest.mark.parametrize("value", [(224, 224), (0.5, 0.5), range(3, 4), {"min": 5, "max": 5}, [], [64, 64, 32], [1, 1.0]])
def test_a_value_with_no_search_tune_accepts_stays_silent(tmp_path: Path, value: Any) -> None:
    assert _fixed_warnings(tmp_path, value) == []


@pytest.mark.parametrize(("value", "call"), [((64, 32), "search.categorical([64, 32])"), ((1.0, 0.1), "search.categorical([1.0, 0.1])")])
def test_a_decreasing_pair_is_said_to_be_one_tuple_and_searched_as_its_values(tmp_path: Path, value: Any, call: str) -> None:
    told = _fixed_warnings(tmp_path, value)
    assert told == [f"tune(): parameters['C'] is fixed to {value!r}, one tuple passed to every trial as it is; to search among its "
                    f"values, use {call}"]
    spec = suggested(call)  # the suggestion is one tune() accepts
    assert tune(lambda p: float(p["x"]), {"x": search.double(0, 1), "C": spec}, max_trial_count=1,
                store=str(tmp_path / "other")).status == "Succeeded"


@pytest.mark.parametrize("value", [(0.01, 10), (1, 10), ["rbf", "linear"], [0.1, 0.01], range(2, 11, 2), {"min": 1, "max": 5}])
def test_every_suggested_call_is_accepted_by_tune(tmp_path: Path, value: Any) -> None:
    told = _fixed_warnings(tmp_path, value)
    assert len(told) == 1
    call = re.search(r"use (search\..*)$", told[0])
    assert call is not None
    spec = suggested(call.group(1))
    assert tune(lambda p: float(p["x"]), {"x": search.double(0, 1), "C": spec}, max_trial_count=1,
                store=str(tmp_path / "other")).status == "Succeeded"


def test_submit_function_warns_as_tune_host_does(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[Any] = []
    monkeypatch.setattr(kfp_tune.remote, "submit_experiment", lambda experiment, **kwargs: sent.append(experiment) or "handle")

    def objective(p: dict[str, Any]) -> float:
        return float(p["x"])

    with pytest.warns(UserWarning, match=r"^submit_function\(\): parameters\['kernel'\] is fixed to \['rbf', 'linear'\], passed to every "
                                         r"trial as it is; to search it, use search\.categorical\(\['rbf', 'linear'\]\)$") as caught:
        handle = submit_function(objective, {"kernel": ["rbf", "linear"], "x": search.double(0, 1)}, host="http://127.0.0.1:9",
                                 store="s3://bucket/prefix")
    assert handle == "handle" and len(sent) == 1
    assert [w.filename for w in caught if "parameters['kernel']" in str(w.message)] == [__file__]  # the user's line
