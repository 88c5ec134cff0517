"""A tune() function that returns a dict without the objective metric is told so at its first
trial, in the words of tune()'s own argument, not Katib's YAML field (QA notebook, session 36,
finding 4: 20 trials ran, each MetricsUnavailable, and only the end said, "is
spec.objective.objectiveMetricName misspelt?"). The run goes on with its whole budget, as Katib's does."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from kfp_tune import search, tune


def missing_objective_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "returned no 'objective' (objective_metric_name" in str(w.message) or "returned no 'accuracy' (objective_metric_name" in str(w.message)]


def test_the_first_trial_without_the_objective_is_told_once_and_the_budget_runs(tmp_path: Path) -> None:
    calls: list[int] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        def train(p: dict[str, Any]) -> dict[str, float]:
            calls.append(len(missing_objective_warnings(caught)))  # said before the second trial starts
            return {"loss": (p["x"] - 0.3) ** 2}

        result = tune(train, {"x": search.double(0, 1)}, max_trial_count=4, algorithm="random", algorithm_settings={"random_state": 7},
                      store=str(tmp_path))
    assert calls == [0, 1, 1, 1]
    (said,) = missing_objective_warnings(caught)
    assert "only {'loss': " in said and "pass objective_metric_name='loss'" in said
    assert "spec.objective" not in said
    assert [t.status for t in result.trials] == ["MetricsUnavailable"] * 4  # the whole budget, as Katib runs it
    # the end says it in the same words
    (end,) = [str(w.message) for w in caught if "none of the 4 trials succeeded" in str(w.message)]
    assert "pass objective_metric_name='loss'" in end and "spec.objective.objectiveMetricName" not in end


def test_several_returned_metrics_are_each_named(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tune(lambda p: {"acc": 0.5, "loss": 0.1}, {"x": search.double(0, 1)}, objective_metric_name="accuracy", max_trial_count=2,
             store=str(tmp_path))
    (said,) = missing_objective_warnings(caught)
    assert "objective_metric_name is 'accuracy'" in said and "'acc'" in said and "'loss'" in said
    assert "pass objective_metric_name='acc'" in said  # the closest


def test_a_function_that_returns_the_objective_is_not_warned(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tune(lambda p: {"objective": p["x"], "loss": 1.0}, {"x": search.double(0, 1)}, max_trial_count=2, store=str(tmp_path))
    assert missing_objective_warnings(caught) == []
