"""Katib's pbt needs resumePolicy: FromVolume: pbt requires suggestion_trial_dir, for which
Katib's pod webhook mounts the suggestion's volume claim into every trial pod
(inject_webhook.go, mutateSuggestionVolume), and the suggestion controller makes that claim only
under FromVolume (suggestion_controller.go; Katib's own simple-pbt.yaml sets it). Without it
validate notes it; kfp-tune runs it either way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import load_katib_example, quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.portability import katib_notes

SETTINGS = [{"name": "suggestion_trial_dir", "value": "/var/log/katib/checkpoints/"}, {"name": "n_population", "value": "5"},
            {"name": "truncation_threshold", "value": "0.2"}]
STEPPED = [{"name": n, "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1", "step": "0.1"}} for n in ("x", "y")]


def _pbt(**overrides: Any) -> dict[str, Any]:
    doc = quadratic_experiment(**{"spec.algorithm": {"algorithmName": "pbt", "algorithmSettings": SETTINGS}, **overrides})
    doc["spec"]["parameters"] = STEPPED
    return doc


@pytest.mark.parametrize("policy", [None, "Never", "LongRunning"])
def test_pbt_without_from_volume_is_noted(policy: str | None) -> None:
    doc = _pbt(**({"spec.resumePolicy": policy} if policy else {}))
    notes = {n.path: n.message for n in katib_notes(load_experiment(doc), doc)}
    message = notes["spec.resumePolicy"]
    assert message.startswith(f"Katib runs pbt only under resumePolicy: FromVolume (this one is {policy or 'Never'})")
    assert "volume claim" in message and "kfp-tune keeps the checkpoints in its store" in message


def test_pbt_from_volume_and_other_algorithms_are_not_noted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _pbt(**{"spec.resumePolicy": "FromVolume"})
    assert "spec.resumePolicy" not in {n.path for n in katib_notes(load_experiment(doc), doc)}
    plain = quadratic_experiment()
    assert "spec.resumePolicy" not in {n.path for n in katib_notes(load_experiment(plain), plain)}
    katib = load_katib_example("hp-tuning_simple-pbt.yaml")
    katib["spec"]["maxFailedTrialCount"] = 2
    assert "spec.resumePolicy" not in {n.path for n in katib_notes(load_experiment(katib), katib)}
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(_pbt()))
    assert main(["validate", str(path)]) == 0
    assert "note: spec.resumePolicy: Katib runs pbt only under resumePolicy: FromVolume" in capsys.readouterr().err
