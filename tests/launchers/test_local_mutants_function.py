"""FunctionLauncher: a trial that returned None and printed no metric line keeps what it did
print as its log (the user reads it to see why no metric came)."""

from __future__ import annotations

from typing import Any

from kfp_tune.core.interfaces import TrialRun
from kfp_tune.core.space import Parameter, SearchSpace
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.launchers.function import FunctionLauncher

SPACE = SearchSpace((Parameter("x", "double", low=0.0, high=1.0),))


def run(objective: Any) -> Any:
    trial = TrialRun(experiment="exp", trial="exp-t1", manifest={}, assignment={"x": "0.25"}, primary_container="main")
    return FunctionLauncher(objective, SPACE, "loss").run(trial)


def test_a_trial_that_returned_nothing_and_printed_no_metric_keeps_its_prints_as_the_log() -> None:
    outcome = run(lambda params: print("epoch 1: lost=0.5"))
    assert (outcome.phase, outcome.pushed) == (LaunchPhase.SUCCEEDED, [])  # collect-metrics: MetricsUnavailable
    assert outcome.logs == {"main": "epoch 1: lost=0.5\n"}
    assert run(lambda params: None).logs == {}, "nothing printed: no log"
