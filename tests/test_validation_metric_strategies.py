"""A metric strategy naming neither the objective metric nor an additional metric: Katib's
webhook admits it (pkg/webhook/v1beta1/experiment/validator/validator.go reads no strategy
names) and runs the experiment, the strategy simply never applied. kfp-tune refused the YAML
(exit 2); it takes it as is now, telling it as a validate note, and runs it."""

from __future__ import annotations

from pathlib import Path

import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main

STRATEGIES = [{"name": "loss", "value": "min"}, {"name": "f1", "value": "max"}]


def _written(tmp_path: Path) -> str:
    doc = quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1, "spec.objective.metricStrategies": STRATEGIES})
    path = tmp_path / "quad.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_validate_takes_a_strategy_for_no_metric_with_a_note(tmp_path, capsys):
    assert main(["validate", _written(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "valid experiment 'quad'" in captured.out
    assert (
        "note: spec.objective.metricStrategies[1].name: 'f1' is neither the objective metric nor an additional metric: "
        "the strategy is never applied (Katib runs it so too)"
    ) in captured.err


def test_an_experiment_with_a_strategy_for_no_metric_runs_to_its_end(tmp_path, capsys):
    from kfp_tune.katib_client import KatibClient

    store = str(tmp_path / "store")
    assert main(["run", _written(tmp_path), "--engine", "inline", "--store", store]) == 0
    trials = KatibClient(store=store).list_trials("quad")
    assert len(trials) == 2
    for trial in trials:
        assert trial.status.conditions[-1].type == "Succeeded"
        assert {m.name for m in trial.status.observation.metrics} == {"loss", "accuracy"}
    assert main(["status", "quad", "--store", store]) == 0
    assert "best trial:" in capsys.readouterr().out
