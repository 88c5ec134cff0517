"""One rule for whether the goal was reached, asked by ``decide`` and by the report's header
(review A of the s35 report fixes, finding 8: the report repeated decide's comparison, so a
change to one, a tie rule say, would have made the page say otherwise than the condition)."""

from __future__ import annotations

import pytest

from conftest import quadratic_experiment
from kfp_tune import reports
from kfp_tune.core import decision
from kfp_tune.core.decision import GOAL_REACHED, decide
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import TrialResult
from kfp_tune.core.spec import ObjectiveSpec
from kfp_tune.core.state import ExperimentState, TrialState
from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.reports import ExperimentReport


@pytest.mark.parametrize(
    ("kind", "goal", "value", "reached"),
    [
        ("maximize", 0.99, 0.99, True), ("maximize", 0.99, 0.98999, False), ("maximize", 0.99, 1.0, True),
        ("minimize", 0.5, 0.5, True), ("minimize", 0.5, 0.50001, False), ("minimize", 0.5, 0.1, True),
        ("maximize", None, 1.0, False), ("maximize", 0.99, None, False),
    ],
)
def test_goal_reached_is_katibs_rule(kind, goal, value, reached) -> None:
    assert decision.goal_reached(ObjectiveSpec(type=kind, goal=goal, objective_metric_name="m"), value) is reached


def _state(loss: float) -> ExperimentState:
    """The quadratic experiment, minimizing loss with a goal of 0.5, and one trial that reported ``loss``."""
    experiment = load_experiment(quadratic_experiment(spec__objective__goal=0.5))
    observation = {"loss": {"min": loss, "max": loss, "latest": loss, "count": 1}}
    result = TrialResult(trial="t-1", status=TrialStatus.SUCCEEDED, observation=observation, metrics={"loss": loss})
    trial = TrialState(name="t-1", index=0, round="r1", assignment={"x": "0.1", "y": "0.5"}, created="2026-11-30T10:00:00Z", result=result)
    return ExperimentState(experiment=experiment, uid="uid-1", created="2026-11-30T10:00:00Z", trials=[trial], by_name={trial.name: trial})


def test_decide_and_the_report_ask_the_same_rule(monkeypatch) -> None:
    """The rule turned around (a goal read as a floor) turns both around: neither repeats it."""
    assert reports.goal_reached is decision.goal_reached
    state = _state(0.9)
    assert decide(state, rounds_left=1).reason != GOAL_REACHED
    assert ExperimentReport(state, "Succeeded", "ExperimentMaxTrialsReached", "").goal_shown() == ("0.5", "not reached")
    turned = lambda objective, value: value is not None and value >= objective.goal  # noqa: E731
    monkeypatch.setattr(decision, "goal_reached", turned)
    monkeypatch.setattr(reports, "goal_reached", turned)
    assert decide(state, rounds_left=1).reason == GOAL_REACHED
    assert ExperimentReport(state, "Succeeded", "ExperimentMaxTrialsReached", "").goal_shown() == ("0.5", "reached")


def test_a_running_experiment_has_not_reached_its_goal_yet() -> None:
    """"not reached" on a report taken during a run read as final (review A, finding 9)."""
    state = _state(0.9)
    assert ExperimentReport(state, "Running", "ExperimentRunning", "").goal_shown() == ("0.5", "not reached yet")
    assert ExperimentReport(state, "Succeeded", "ExperimentMaxTrialsReached", "").goal_shown() == ("0.5", "not reached")
    assert ExperimentReport(state, "Failed", "ExperimentFailed", "").goal_shown() == ("0.5", "not reached")
    assert ExperimentReport(_state(0.1), "Running", "ExperimentRunning", "").goal_shown() == ("0.5", "reached")
