"""An int parameter's bound written as an unquoted number (``min: 1e1``): validate's note says
which string Katib's webhook expects, and for an int that is integer text ("10"), which Katib's
int parsers (goptuna's strconv.Atoi, optuna's and its grid's int()) take, not "10.0"."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main

HINT = 'Katib\'s webhook refuses a number here (a string is expected: "{}")'


def test_an_int_bound_in_exponent_form_is_hinted_as_integer_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = quadratic_experiment(**{
        "spec.parameters": [
            {"name": "x", "parameterType": "int", "feasibleSpace": {"min": "MIN", "max": "MAX", "step": "STEP"}},
            {"name": "y", "parameterType": "discrete", "feasibleSpace": {"list": ["LISTED", "3"]}},
        ],
    })
    text = yaml.safe_dump(doc)
    for mark, number in (("MIN", "1e1"), ("MAX", "1e3"), ("STEP", "2.0"), ("LISTED", "1.5e3")):
        text = text.replace(f": {mark}\n", f": {number}\n").replace(f"- {mark}\n", f"- {number}\n")
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    assert main(["validate", str(path)]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "webhook refuses a number" in line]
    assert notes == [
        f"note: spec.parameters[0].feasibleSpace.min: {HINT.format('10')}",
        f"note: spec.parameters[0].feasibleSpace.max: {HINT.format('1000')}",
        f"note: spec.parameters[0].feasibleSpace.step: {HINT.format('2')}",
        f"note: spec.parameters[1].feasibleSpace.list[0]: {HINT.format('1500.0')}",  # a discrete value keeps its text
    ]
