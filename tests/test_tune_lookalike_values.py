"""A ``parameters`` value that looks like a search space but is not one of the ``search`` helpers'
results is a fixed value, passed to every trial as it is (Katib's SDK does the same,
``utils.get_trial_substitutions_from_dict``), and stays allowed; but a two-number tuple, a list, a
``range``, a ``{"min", "max"}`` dict, a helper left uncalled or a scipy.stats distribution is almost
never meant as a constant, and was taken silently once another parameter was searched (QA notebook,
session 36, finding 3). Each now gets one UserWarning, before any trial runs, naming the parameter
and the helper call that searches it; plain fixed values stay silent."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from kfp_tune import search, tune


def _tune(tmp_path: Path, **fixed: Any) -> tuple[Any, list[dict[str, Any]]]:
    got: list[dict[str, Any]] = []

    def objective(p: dict[str, Any]) -> float:
        got.append(dict(p))
        return float(p["x"])

    result = tune(objective, {"x": search.double(0, 1), **fixed}, algorithm="random", algorithm_settings={"random_state": 4},
                  max_trial_count=2, store=str(tmp_path / "store"))
    return result, got


@pytest.mark.parametrize(("value", "helper"), [
    ((0.01, 10), "search.double(0.01, 10)"),
    ((1, 10), "search.int(1, 10)"),
    (["rbf", "linear"], "search.categorical(['rbf', 'linear'])"),
    ([0.1, 0.01], "search.discrete([0.1, 0.01])"),
    (range(1, 10), "search.int(1, 9)"),
    (range(2, 11, 2), "search.int(2, 10, step=2)"),
    ({"min": 0.001, "max": 0.1}, "search.double(0.001, 0.1)"),
    ({"min": 1, "max": 5}, "search.int(1, 5)"),
    (search.double, "search.double(min, max)"),
    (search.categorical, "search.categorical([...])"),
])
def test_a_lookalike_value_gets_one_warning_naming_the_parameter_and_the_helper(tmp_path: Path, value: Any, helper: str) -> None:
    with pytest.warns(UserWarning) as caught:
        result, got = _tune(tmp_path, C=value)
    mine = [str(w.message) for w in caught if "parameters['C']" in str(w.message)]
    assert len(mine) == 1, [str(w.message) for w in caught]
    assert mine[0].startswith("tune(): parameters['C'] is fixed to "), mine[0]
    assert f"to search it, use {helper}" in mine[0], mine[0]
    assert caught[0].filename == __file__  # the line that called tune(), not the library's
    assert result.status == "Succeeded" and all(p["C"] is value for p in got)  # still allowed, passed as given


def test_a_scipy_distribution_is_named_with_the_helper_for_its_range(tmp_path: Path) -> None:
    stats = pytest.importorskip("scipy.stats")
    with pytest.warns(UserWarning, match=r"parameters\['alpha'\] is fixed to .*to search it, use "
                                         r"search\.double\(0\.0001, 1\.0, distribution='logUniform'\)"):
        _tune(tmp_path, alpha=stats.loguniform(1e-4, 1))
    with pytest.warns(UserWarning, match=r"parameters\['n'\] .*use search\.int\(1, 9\)"):
        _tune(tmp_path, n=stats.randint(1, 10))
    with pytest.warns(UserWarning, match=r"parameters\['m'\] .*use search\.double\(min, max, distribution='normal'\)"):
        _tune(tmp_path, m=stats.norm(0, 1))


def test_an_uncalled_helper_is_named_as_the_helper(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match=r"^tune\(\): parameters\['gamma'\] is fixed to search\.double itself, not called, passed to every "
                                         r"trial as it is; to search it, use search\.double\(min, max\)$"):
        _tune(tmp_path, gamma=search.double)


def test_the_warning_comes_before_any_trial_runs(tmp_path: Path) -> None:
    calls: list[int] = []

    def objective(p: dict[str, Any]) -> float:
        calls.append(1)
        return 0.0

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match=r"parameters\['C'\]"):
            tune(objective, {"x": search.double(0, 1), "C": (0.01, 10)}, max_trial_count=2, store=str(tmp_path / "store"))
    assert calls == []


@pytest.mark.parametrize("value", [10, 0.5, "rbf", True, None, (1, 2, 3), ("a", "b"), {"depth": 3}, b"x"])
def test_plain_fixed_values_stay_silent(tmp_path: Path, value: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result, got = _tune(tmp_path, C=value)
    assert result.status == "Succeeded" and got[0]["C"] == value
