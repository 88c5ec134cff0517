"""An experiment whose trials end each way a person reads about: quadratic.py over a grid of its
modes, one trial succeeding, one failing (exit 3), one reporting no objective (MetricsUnavailable)."""

from __future__ import annotations

from typing import Any

from conftest import quadratic_experiment

MODES = ["ok", "fail", "silent"]


def modes_experiment(**overrides: Any) -> dict[str, Any]:
    """The Katib Experiment (dict), one trial per mode, one at a time, none failing the experiment."""
    return quadratic_experiment(**{
        "spec.algorithm": {"algorithmName": "grid"},
        "spec.parameters": [
            {"name": "mode", "parameterType": "categorical", "feasibleSpace": {"list": MODES}},
            {"name": "x", "parameterType": "categorical", "feasibleSpace": {"list": ["0.25"]}},
        ],
        "spec.trialTemplate.trialParameters": [{"name": "mode", "reference": "mode"}, {"name": "x", "reference": "x"}],
        "spec.trialTemplate.trialSpec.spec.template.spec.containers.0.args": ["x=${trialParameters.x}", "mode=${trialParameters.mode}"],
        "spec.maxTrialCount": len(MODES), "spec.maxFailedTrialCount": len(MODES), "spec.parallelTrialCount": 1,
        **overrides,
    })
