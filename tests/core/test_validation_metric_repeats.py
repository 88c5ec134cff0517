"""Repeats in ``additionalMetricNames`` and ``metricStrategies``: Katib's webhook checks neither
(pkg/webhook/v1beta1/experiment/validator/validator.go validateObjective checks only that the
objective is not among the additional metrics) and runs both. kfp-tune refuses them, and its
message says what Katib does with them and why kfp-tune refuses, so a user porting a Katib YAML
that runs there is not left to think Katib refuses it too."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import quadratic_experiment, validation_errors
from kfp_tune.cli import main


def _messages(doc: dict) -> dict[str, str]:
    return {e.path: e.message for e in validation_errors(doc)}


def test_a_repeated_additional_metric_says_katib_reads_it_once() -> None:
    doc = quadratic_experiment(**{"spec.objective.additionalMetricNames": ["val_loss", "accuracy", "val_loss"]})
    assert _messages(doc) == {
        "spec.objective.additionalMetricNames[2]": (
            "metric name 'val_loss' is given more than once; Katib's webhook admits the repeat and reads the metric once, "
            "but kfp-tune refuses it, as a repeated name is most often another metric's name miswritten: remove it, or write the name meant"
        )
    }


def test_a_strategy_repeated_with_another_value_says_katib_applies_both() -> None:
    """Katib's experiment status takes the first strategy for the objective (status_util.go
    getObjectiveMetricValue: ``break`` at the first), while its suggestion client hands the
    algorithm the last (suggestionclient.go convertTrialObservation: a map, overwritten)."""
    doc = quadratic_experiment(**{"spec.objective.metricStrategies": [{"name": "loss", "value": "min"}, {"name": "loss", "value": "latest"}]})
    assert _messages(doc) == {
        "spec.objective.metricStrategies[1].name": (
            "strategy for 'loss' is given more than once ('min', then 'latest'); Katib's webhook admits it, then judges the best trial "
            "and the goal by the first and tells its algorithm each trial's value by the last, so the two disagree; kfp-tune refuses it "
            "rather than choose one: keep the one meant"
        )
    }


def test_a_strategy_of_an_additional_metric_repeated_with_another_value_says_katibs_algorithm_gets_the_last() -> None:
    doc = quadratic_experiment(**{"spec.objective.metricStrategies": [{"name": "accuracy", "value": "max"}, {"name": "accuracy", "value": "min"}]})
    assert _messages(doc) == {
        "spec.objective.metricStrategies[1].name": (
            "strategy for 'accuracy' is given more than once ('max', then 'min'); Katib's webhook admits it and tells its algorithm "
            "each trial's value by the last; kfp-tune refuses it rather than choose one: keep the one meant"
        )
    }


def test_a_strategy_repeated_with_the_same_value_says_katib_runs_it_as_given_once() -> None:
    doc = quadratic_experiment(**{"spec.objective.metricStrategies": [{"name": "loss", "value": "min"}, {"name": "loss", "value": "min"}]})
    assert _messages(doc) == {
        "spec.objective.metricStrategies[1].name": (
            "strategy for 'loss' is given more than once; Katib's webhook admits the repeat ('min' both times, which runs as given once), "
            "but kfp-tune takes one strategy per metric: remove it"
        )
    }


@pytest.mark.parametrize(
    "objective",
    [
        {"type": "minimize", "objectiveMetricName": "loss", "additionalMetricNames": ["val_loss", "val_loss"]},
        {"type": "minimize", "objectiveMetricName": "loss", "metricStrategies": [{"name": "loss", "value": "min"}, {"name": "loss", "value": "max"}]},
    ],
)
def test_validate_refuses_it_naming_the_field_and_katib(objective: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.objective": objective})))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "spec.objective." in err and "is given more than once" in err and "Katib's webhook admits" in err
