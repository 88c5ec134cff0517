"""Algorithm settings Katib's suggestion services accept, read as they read them: kfp-tune
takes each where its algorithm can run with it (with a note where the value is not used as
written), and where it refuses one, the message says the real bound."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import quadratic_experiment, validation_errors

SETTINGS = "spec.algorithm.algorithmSettings"


def _hyperband(*settings: tuple[str, str], resource: dict[str, Any] | None = None) -> dict[str, Any]:
    doc = quadratic_experiment(**{"spec.algorithm": {"algorithmName": "hyperband", "algorithmSettings": [
        {"name": "resource_name", "value": "y"}, *({"name": k, "value": v} for k, v in settings)]}, "spec.parallelTrialCount": 9, "spec.maxTrialCount": 40})
    doc["spec"]["parameters"][1] = resource or {"name": "y", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "9"}}
    return doc


@pytest.mark.parametrize("r_l", ["0", "-1", "0.5"])
def test_hyperband_r_l_below_1_is_refused_saying_at_least_1(r_l: str) -> None:
    """r_l 0 was refused as "expected a number > 0.0", and 0.5 then as "at least 1": one bound, said once."""
    errors = validation_errors(_hyperband(("r_l", r_l)))
    assert [(e.path, e.message) for e in errors] == [
        (f"{SETTINGS}[1].value", f"hyperband needs r_l of at least 1 (its largest resource: a smaller one leaves no bracket), got {float(r_l):g}")]
