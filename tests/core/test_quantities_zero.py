"""A resource amount of 0 is one: Kubernetes takes ``nvidia.com/gpu: 0`` in a container's
limits (apimachinery's resource.Quantity reads 0; only a negative amount is refused), and so
does Katib's webhook, which reads the trial's Job as Kubernetes does
(pkg/webhook/v1beta1/experiment/validator/validator.go, ``validateTrialJob``). A mutant that
refused 0 as if it were negative went unnoticed (mutation-testing QA pass)."""

from __future__ import annotations

from fractions import Fraction

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.quantities import quantity_value, trial_resource_amounts

LIMITS = "spec.trialTemplate.trialSpec.spec.template.spec.containers.0.resources"


@pytest.mark.parametrize("amount", ["0", 0, 0.0, "0m", "0Gi", "0e3"])
def test_zero_is_an_amount(amount):
    assert quantity_value(amount) == 0


@pytest.mark.parametrize("amount", ["-1", -1, "-0.5", "-500m"])
def test_a_negative_amount_is_refused_saying_what_was_expected(amount):
    with pytest.raises(ValueError, match=r"expected an amount of 0 or more, got"):
        quantity_value(amount)


@pytest.mark.parametrize("amount", [0, "0"])
def test_a_trial_that_asks_for_no_gpu_validates(tmp_path, capsys, amount):
    doc = quadratic_experiment(**{LIMITS: {"limits": {"nvidia.com/gpu": amount, "cpu": "1"}}})
    assert trial_resource_amounts(load_experiment(doc)) == {"nvidia.com/gpu": Fraction(0), "cpu": Fraction(1)}
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(doc))
    capsys.readouterr()
    assert main(["validate", str(path)]) == 0
    assert "nvidia.com/gpu" not in capsys.readouterr().err
