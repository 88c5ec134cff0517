"""A trial template's resource amounts, checked as Kubernetes' pod validation checks them
(pkg/apis/core/validation: ``ValidateResourceRequirements``, ``ValidateResourceQuantityValue``;
pkg/api/pod/warnings.go): a part of a byte is only warned about, a part of an extended resource
(``nvidia.com/gpu``) refused (validation QA pass)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.quantities import trial_resource_amounts

RESOURCES = "spec.trialTemplate.trialSpec.spec.template.spec.containers.0.resources"
PRIMARY = "spec.trialTemplate.trialSpec (container 'main') resources"


def _validate(tmp_path, capsys, doc: dict[str, Any]) -> tuple[int, str]:
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(doc))
    capsys.readouterr()
    code = main(["validate", str(path)])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("amount", ["0.5", "1500m"])
def test_a_part_of_a_byte_of_ephemeral_storage_is_taken_as_of_memory(tmp_path, capsys, amount):
    """Kubernetes creates the pod (a warning only, for memory and ephemeral-storage alike)."""
    doc = quadratic_experiment(**{RESOURCES: {"limits": {"ephemeral-storage": amount, "memory": amount}}})
    assert trial_resource_amounts(load_experiment(doc))["ephemeral-storage"] == Fraction(amount.rstrip("m")) / (1000 if amount.endswith("m") else 1)
    assert _validate(tmp_path, capsys, doc) == (0, "")

