"""A hyperband eta from 1 to 2 is refused before anything runs, as Katib refuses it (QA
earlystop, finding 1): Katib's ValidateAlgorithmSettings reads eta as ``int(float(eta))``, 1
there, and fails dividing by ``log(1)``; kfp-tune ran such an eta, and ``int(r * eta**i)`` gave
a promoted rung the resource its members had just been trained with, so they ran again."""

from __future__ import annotations

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.errors import SpecError
from kfp_tune.core.loading import load_experiment
from kfp_tune.steps.designer import problem_of


def _hyperband(eta: str) -> dict[str, object]:
    doc = quadratic_experiment(**{"spec.algorithm": {"algorithmName": "hyperband", "algorithmSettings": [
        {"name": "resource_name", "value": "y"}, {"name": "r_l", "value": "4"}, {"name": "eta", "value": eta}]},
        "spec.parallelTrialCount": 4, "spec.maxTrialCount": 40})
    doc["spec"]["parameters"][1] = {"name": "y", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "4"}}  # type: ignore[index]
    return doc


@pytest.mark.parametrize("eta", ["1", "1.5", "1.99", "1e0"])
def test_an_eta_katib_reads_as_1_is_refused_naming_the_setting(eta: str) -> None:
    with pytest.raises(SpecError) as raised:
        load_experiment(_hyperband(eta))
    message = str(raised.value)
    assert "spec.algorithm.algorithmSettings[2].value" in message
    assert "eta: expected a number >= 2 (or <= 0 for Katib's default 3)" in message
    assert "log(1)" in message and "float division by zero" in message


@pytest.mark.parametrize("eta, runs", [("2", 2.0), ("2.5", 2.5), ("3", 3.0), ("0", 3.0)])
def test_an_eta_of_2_or_more_or_katibs_default_still_runs(eta: str, runs: float) -> None:
    assert problem_of(load_experiment(_hyperband(eta))).settings["eta"] == runs


def test_validate_refuses_it_with_exit_2_and_no_traceback(tmp_path, capsys) -> None:
    path = tmp_path / "hb.yaml"
    path.write_text(yaml.safe_dump(_hyperband("1.5")))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "algorithmSettings[2].value" in err and "eta: expected a number >= 2" in err
    assert "Traceback" not in err


def test_the_refusal_says_the_eta_as_given_and_the_reason_of_its_range() -> None:
    """eta 1.9999999 read 'got 2' ({value:g}); below 1 the 'promoted rung' reason, which is that
    of [1, 2) alone, was given too (review C of session 37, finding 6)."""
    with pytest.raises(SpecError) as raised:
        load_experiment(_hyperband("1.9999999"))
    assert "got 1.9999999:" in str(raised.value) and "promoted rung" in str(raised.value)
    with pytest.raises(SpecError) as raised:
        load_experiment(_hyperband("0.5"))
    message = str(raised.value)
    assert "got 0.5:" in message and "promoted rung" not in message and "log(1)" not in message
    assert "int(float(eta)), 0 here, as its default 3" in message
