"""The stop rules a trial is judged by (Katib's EarlyStoppingRule: name, value, comparison,
startStep), as medianstop fixes them for a trial and as Katib's metrics collector applies them
(file-metricscollector main.go, updateStopRules)."""

from __future__ import annotations

import numpy as np
import pytest

from kfp_tune.algorithms.early_stopping import FixedRules, KatibShapedRule, MedianStop, create, rule_reached, rules_reached
from kfp_tune.core.errors import NotImplementedAlgorithm
from kfp_tune.core.records import StopRule
from kfp_tune.core.vocabulary import Comparison


def test_medianstop_gives_katibs_rule_once_enough_trials_succeeded() -> None:
    rule = MedianStop({"min_trials_required": 2, "start_step": 2})
    completed = [[4.0, 2.0, 1.0], [6.0, 4.0, 2.0], [10.0, 8.0, 7.0]]  # averages 3, 5, 9: mean 17/3
    assert isinstance(rule, KatibShapedRule)
    assert rule.katib_rules("loss", "minimize", completed) == [StopRule("loss", str(17 / 3), Comparison.GREATER, 2)]
    assert rule.katib_rules("acc", "maximize", completed) == [StopRule("acc", "5.666666666666667", Comparison.LESS, 2)]  # Python's str, as Katib's service
    assert rule.katib_rules("loss", "minimize", completed[:1]) == []  # Katib's service gives no rule yet


def test_a_rule_is_applied_at_its_start_step_only_to_the_best_so_far() -> None:
    greater = StopRule("loss", "1.0", Comparison.GREATER, 2)
    assert not rule_reached(greater, "minimize", [5.0])  # before its start step
    assert rule_reached(greater, "minimize", [5.0, 2.0])
    assert not rule_reached(greater, "minimize", [0.5, 2.0])  # best so far 0.5, not the latest
    assert not rule_reached(greater, "minimize", [0.5, 2.0, 9.0, 9.0])  # decided at report 2, never again
    assert rule_reached(greater, "minimize", [5.0, 2.0, 0.1])
    less = StopRule("acc", "0.5", Comparison.LESS, 3)
    assert rule_reached(less, "maximize", [0.1, 0.2, 0.3]) and not rule_reached(less, "maximize", [0.6, 0.2, 0.3])
    # start_step 1 is the first report only (Katib counts it down to 0 there, and past it never
    # checks again), not every report as start_step 0
    first = StopRule("loss", "0.5", Comparison.LESS, 1)
    assert not rule_reached(first, "minimize", [1.0, 0.1]) and rule_reached(first, "minimize", [0.1, 1.0])


def test_a_rule_without_start_step_is_applied_at_every_report_and_equal_compares_exactly() -> None:
    every = StopRule("loss", "1.0", Comparison.LESS, 0)
    assert not rule_reached(every, "minimize", [])
    assert rule_reached(every, "minimize", [3.0, 2.0, 0.5])
    assert not rule_reached(every, "minimize", [3.0, 2.0, 1.0])
    assert rule_reached(StopRule("loss", "2.0", Comparison.EQUAL, 0), "minimize", [3.0, 2.0, 1.0])
    assert not rule_reached(StopRule("loss", "2.5", Comparison.EQUAL, 0), "minimize", [3.0, 2.0, 1.0])


def test_a_trial_stops_when_every_rule_is_reached_and_never_without_rules() -> None:
    reached, not_reached = StopRule("loss", "1.0", Comparison.GREATER, 1), StopRule("loss", "9.0", Comparison.GREATER, 1)
    assert rules_reached([reached], "minimize", [5.0])
    assert not rules_reached([reached, not_reached], "minimize", [5.0])
    assert not rules_reached([], "minimize", [5.0])
    assert FixedRules([reached]).should_stop("minimize", [], [5.0]) and not FixedRules([]).should_stop("minimize", [[1.0]], [5.0])


@pytest.mark.parametrize("objective_type", ["minimize", "maximize"])
def test_medianstop_decides_as_the_rule_it_gives(objective_type: str) -> None:
    """Judging a trial by the rule recorded for it (the text of the value included) decides as
    medianstop would with the same completed trials."""
    rng = np.random.default_rng(7)
    rule = MedianStop({"min_trials_required": 2, "start_step": 3})
    for _ in range(200):
        completed = [list(rng.normal(size=int(rng.integers(1, 6)))) for _ in range(int(rng.integers(0, 5)))]
        current = list(rng.normal(size=int(rng.integers(0, 6))))
        fixed = FixedRules(rule.katib_rules("loss", objective_type, completed))
        assert fixed.should_stop(objective_type, [], current) == rule.should_stop(objective_type, completed, current)


def test_an_unknown_early_stopping_name_is_not_implemented() -> None:
    """A name no rule is registered under is refused as not implemented, naming it (not a
    TypeError from calling nothing)."""
    with pytest.raises(NotImplementedAlgorithm, match="early stopping 'nope' is not implemented"):
        create("nope", {})
