"""tune()'s early warning that the objective metric is missing covers a function that prints
its metrics (``print(f"loss={loss}")``, Katib's StdOut form) or reports them with
kfp_tune.report_metrics, as it covers one that returns a dict (review B of the QA notebook fixes,
finding 4: those spent the whole budget with no word until the end)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from kfp_tune import report_metrics, search, tune


def _told(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "no 'objective' (objective_metric_name is 'objective')" in str(w.message)]


@pytest.mark.parametrize(("form", "how"), [("printed", "printed"), ("reported", "reported with kfp_tune.report_metrics")])
def test_the_first_trial_without_the_objective_is_told_once_and_the_budget_runs(tmp_path: Path, form: str, how: str) -> None:
    calls: list[int] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        def train(p: dict[str, Any]) -> None:
            calls.append(len(_told(caught)))  # said before the second trial starts
            loss = round((p["x"] - 0.3) ** 2, 4)
            if form == "printed":
                print(f"step 1: loss={loss}")
            else:
                report_metrics({"loss": loss})

        result = tune(train, {"x": search.double(0, 1)}, max_trial_count=3, algorithm="random", algorithm_settings={"random_state": 7},
                      store=str(tmp_path))
    assert calls == [0, 1, 1]
    (said,) = _told(caught)
    assert said.startswith(f"tune(): trial {result.trials[0].name} {how} no 'objective' (objective_metric_name is 'objective'), only {{"), said
    assert "'loss': " in said and "pass objective_metric_name='loss'" in said
    assert [t.status for t in result.trials] == ["MetricsUnavailable"] * 3  # the whole budget, as Katib runs it


def test_a_function_that_prints_the_objective_is_not_warned(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tune(lambda p: print(f"objective={p['x']} loss=1.0"), {"x": search.double(0, 1)}, max_trial_count=2, store=str(tmp_path))
    assert [str(w.message) for w in caught if "objective_metric_name is" in str(w.message)] == []
