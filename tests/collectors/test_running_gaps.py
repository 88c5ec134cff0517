"""A running StdOut trial's metrics as early stopping reads them: only the objective's values
reach the rule, and a line cut in two pieces is read whole (Katib's collector reads the
output's whole lines, cmd/metricscollector/v1beta1/file-metricscollector/main.go)."""

from __future__ import annotations

from collections.abc import Sequence

from conftest import quadratic_experiment
from kfp_tune.collectors.running import RunningMetrics, StopTest
from kfp_tune.core.loading import load_experiment


class Seen:
    """A rule that never stops a trial and keeps what it was handed."""

    def __init__(self) -> None:
        self.current: list[list[float]] = []

    def should_stop(self, objective_type: str, completed: Sequence[Sequence[float]], current: Sequence[float]) -> bool:
        self.current.append(list(current))
        return False


def test_the_rule_is_handed_the_objectives_values_only_not_an_additional_metrics() -> None:
    """The experiment's objective is loss, accuracy an additional metric: the rule compares loss
    curves, so accuracy's values must not be mixed into the current trial's curve."""
    experiment = load_experiment(quadratic_experiment())
    assert experiment.spec.objective is not None and experiment.spec.objective.additional_metric_names == ["accuracy"]
    rule = Seen()
    StopTest(RunningMetrics(None, experiment, "t"), rule, [[0.1, 0.1]])("epoch 1 loss=0.5 accuracy=0.9\nepoch 2 loss=0.4 accuracy=0.95\n")
    assert rule.current == [[0.5, 0.4]]


def test_a_metric_line_cut_at_its_value_is_read_whole_from_the_next_piece() -> None:
    """``loss=0.`` ends one piece and ``5`` starts the next: the second line is loss 0.5, step 1,
    not lost nor read as another value (the piece's first character belongs to it)."""
    running = RunningMetrics(None, load_experiment(quadratic_experiment()), "t")
    assert [(m.name, m.value, m.step) for m in running.read_appended("loss=0.9\nloss=0.")] == [("loss", 0.9, 0)]
    assert [(m.name, m.value, m.step) for m in running.read_appended("5\n")] == [("loss", 0.9, 0), ("loss", 0.5, 1)]
