"""A NUL in a metric strategy's name is said once, where it was written: a strategy naming a
metric repeats that metric's name (Katib's defaulting writes one strategy per metric:
pkg/apis/controller/experiments/v1beta1/experiment_defaults.go, ``setDefaultObjective``),
so its NUL is reported at the metric; a strategy naming no metric is reported at the strategy
for its NUL (mutation-testing QA pass: swapping the two went unnoticed), and is otherwise only a
note, as Katib admits it."""

from __future__ import annotations

import pytest

from conftest import quadratic_experiment
from kfp_tune.core.errors import SpecError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.validation import NUL_PROBLEM

NUL = "\0"


def _errors(**overrides: object) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as info:
        load_experiment(quadratic_experiment(**overrides))
    return [(e.path, e.message) for e in info.value.errors]


def test_a_strategy_for_the_objective_whose_name_holds_a_nul_is_said_once_at_the_objective():
    name = f"lo{NUL}ss"
    errors = _errors(**{"spec.objective.objectiveMetricName": name, "spec.objective.metricStrategies": [{"name": name, "value": "min"}]})
    assert errors == [("spec.objective.objectiveMetricName", NUL_PROBLEM)]


def test_a_strategy_for_no_metric_whose_name_holds_a_nul_is_said_at_the_strategy():
    name = f"acc{NUL}"
    errors = _errors(**{"spec.objective.metricStrategies": [{"name": name, "value": "max"}]})
    assert errors == [("spec.objective.metricStrategies[0].name", NUL_PROBLEM)]
