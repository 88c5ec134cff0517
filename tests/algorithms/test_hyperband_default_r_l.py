"""Hyperband without ``r_l``: kfp-tune takes the resource parameter's ``max`` (Katib's service
refuses the spec: pkg/suggestion/v1beta1/hyperband/service.py, ValidateAlgorithmSettings, and
``validate`` notes it). The run must be the one with that ``r_l`` written out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kfp_tune import search, tune
from kfp_tune.algorithms.hyperband import adjust_space, schedule
from kfp_tune.core.space import Parameter, SearchSpace

RESOURCE_MAX = 9
ETA = 3


def _resources(settings: dict[str, Any], store: Path, resource_max: int = RESOURCE_MAX) -> tuple[str, list[int]]:
    """Each trial's epochs, in the order the trials were created (hyperband fills its schedule's
    slots in that order, so the list does not depend on which parallel trial ends first)."""
    with pytest.warns(UserWarning, match="hyperband's schedule with r_l"):  # its 23 trials, fewer than 40: said before it runs
        result = tune(
            lambda p: (p["x"] - 0.3) ** 2 + 1.0 / p["epochs"],
            {"x": search.double(0, 1), "epochs": search.int(1, resource_max)},
            algorithm="hyperband",
            algorithm_settings={"resource_name": "epochs", "eta": ETA, **settings},
            max_trial_count=40,
            parallel_trial_count=3,
            store=str(store),
        )
    return result.reason, [t.parameters["epochs"] for t in result.trials]


def test_left_out_r_l_runs_the_whole_schedule_of_the_resource_max(tmp_path: Path) -> None:
    """Before a test held it, a run without r_l could end after one trial at epochs 1 and still
    say Succeeded (a fallback that read the max as 1)."""
    expected = [rung.resource for bracket in schedule(RESOURCE_MAX, ETA) for rung in bracket for _ in range(rung.size)]
    written = _resources({"r_l": RESOURCE_MAX}, tmp_path / "written")
    left_out = _resources({}, tmp_path / "left-out")
    assert written == ("ExperimentSuggestionEndReached", expected)
    assert left_out == written, f"without r_l: {left_out}; with r_l {RESOURCE_MAX}: {written}"


def test_a_fractional_r_l_is_its_whole_part_whatever_the_resource_max(tmp_path: Path) -> None:
    """r_l 9.5 with epochs up to 20 runs the r_l 9 schedule (Katib's service takes int(r_l)),
    not the one of the resource's max, 20, that a left-out r_l gives."""
    written = _resources({"r_l": 9}, tmp_path / "nine", resource_max=20)
    assert _resources({"r_l": 9.5}, tmp_path / "nine-and-a-half", resource_max=20) == written
    assert max(written[1]) == 9


def test_left_out_r_l_gives_the_resource_the_range_of_the_max() -> None:
    space = SearchSpace((Parameter("x", "double", 0.0, 1.0), Parameter("epochs", "int", 1, RESOURCE_MAX)))
    left_out = adjust_space(space, {"resource_name": "epochs", "eta": ETA})
    assert left_out == adjust_space(space, {"resource_name": "epochs", "eta": ETA, "r_l": float(RESOURCE_MAX)})
    assert (left_out["epochs"].low, left_out["epochs"].high) == (1.0, float(RESOURCE_MAX))
