"""What validate's notes say about where Katib's default suggestion services put a parameter's
values, where test_portability_katib_values.py left a changed line unnoticed (mutation pass,
session 31: po-07, po-10, po-11, po-17, po-18): a range end on Katib's side is named below min or
past max only when it is, an unbounded stepped parameter on Katib's multiples gets no note, and
the cmaes note says where kfp-tune starts an int log parameter and what its sigma means."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.portability import katib_notes

PLAIN = ("double", {"min": "0", "max": "1"})
STEP = "spec.parameters[1].feasibleSpace.step"
DISTRIBUTION = "spec.parameters[1].feasibleSpace.distribution"


def _notes(algorithm: str, space: tuple[str, dict[str, str]], settings: list[dict[str, str]] | None = None) -> dict[str, str]:
    """The notes of the quadratic experiment under ``algorithm``, its parameter y of this (type, feasibleSpace)."""
    doc: dict[str, Any] = quadratic_experiment(**{"spec.algorithm": {"algorithmName": algorithm, "algorithmSettings": settings or []}})
    for index, (parameter_type, feasible) in enumerate((PLAIN, space)):
        doc["spec"]["parameters"][index] = {"name": "xy"[index], "parameterType": parameter_type, "feasibleSpace": feasible}
    return {note.path: note.message for note in katib_notes(load_experiment(doc))}


def test_a_range_that_starts_at_min_and_passes_max_names_only_the_end_past_max() -> None:
    """int 0..7 by 4: hyperopt takes 0, 4, 8; 0 is min itself, not below it."""
    message = _notes("random", ("int", {"min": "0", "max": "7", "step": "4"}))[STEP]
    assert "so it takes 0 to 8 in steps of 4 there, 8 past max; kfp-tune takes" in message, message
    assert "below min" not in message


def test_a_range_that_ends_at_max_is_not_said_to_pass_it() -> None:
    """int 3..12 by 4 (commit 1f0a908's example): hyperopt takes 4, 8, 12; 12 is max itself."""
    message = _notes("tpe", ("int", {"min": "3", "max": "12", "step": "4"}))[STEP]
    assert "so it takes 4 to 12 in steps of 4 there; kfp-tune takes" in message, message
    assert "past max" not in message and "below min" not in message


@pytest.mark.parametrize("distribution", ["normal", "logNormal"])
def test_an_unbounded_stepped_parameter_whose_min_is_a_multiple_of_step_has_no_note(distribution: str) -> None:
    """hyperopt's qnormal and qlognormal have no bounds: with min a multiple of step, Katib takes
    the multiples kfp-tune takes, whatever max is."""
    assert _notes("random", ("int", {"min": "4", "max": "11", "step": "4", "distribution": distribution})) == {}
    assert _notes("random", ("int", {"min": "0", "max": "7", "step": "4", "distribution": "normal"})) == {}


def test_cmaes_says_an_int_log_parameter_starts_at_the_middle_of_its_log_range() -> None:
    message = _notes("cmaes", ("int", {"min": "1", "max": "100", "distribution": "logUniform"}))[DISTRIBUTION]
    assert "kfp-tune searches it on its natural log: it starts at the middle of its log range," in message, message
    assert "geometric middle" not in message


def test_cmaes_says_a_double_log_parameter_starts_at_its_geometric_middle() -> None:
    message = _notes("cmaes", ("double", {"min": "1e-5", "max": "0.1", "distribution": "logUniform"}))[DISTRIBUTION]
    assert "it starts at its geometric middle, 0.001," in message, message


def test_cmaes_says_what_sigma_means_for_a_log_uniform_parameter_and_that_it_sets_nothing_for_a_log_normal_one() -> None:
    uniform = _notes("cmaes", ("double", {"min": "1e-5", "max": "0.1", "distribution": "logUniform"}))[DISTRIBUTION]
    assert "takes sigma in natural-log units (sigma 0.1 is about ±10 %), so a sigma tuned on Katib needs restating" in uniform, uniform
    normal = _notes("cmaes", ("double", {"min": "1e-5", "max": "0.1", "distribution": "logNormal"}))[DISTRIBUTION]
    assert "with a standard deviation of a sixth of its range in natural-log units, which sigma does not set" in normal, normal
    assert "takes sigma in natural-log units" not in normal
