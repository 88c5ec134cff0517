"""What validation says about a trialParameters reference that names nothing the trial will get:
the reference quoted back, and what it could have named instead — the experiment's parameters,
or, with spec.nasConfig, the values its architecture search gives each trial (enas and
regularized-evolution: architecture, nn_config; darts: algorithm-settings, search-space,
num-layers, as Katib's enas and darts services name them)."""

from __future__ import annotations

import re
from typing import Any

from conftest import DELETE, load_katib_example, merge, quadratic_experiment, validation_errors

REFERENCE = "spec.trialTemplate.trialParameters[0].reference"
ENAS_VALUES = ["architecture", "nn_config"]
DARTS_VALUES = ["algorithm-settings", "search-space", "num-layers"]


def reference_message(doc: dict[str, Any]) -> str:
    [message] = [e.message for e in validation_errors(doc) if e.path == REFERENCE]
    return message


def with_reference(doc: dict[str, Any], reference: str) -> dict[str, Any]:
    return merge(doc, {"spec.trialTemplate.trialParameters.0.reference": reference})


def test_a_reference_to_no_parameter_quotes_it_and_lists_the_parameters() -> None:
    message = reference_message(with_reference(quadratic_experiment(), "z"))
    assert message.startswith("'z' ")
    assert "spec.parameters (['x', 'y'])" in message and "${trialSpec.*}" in message


def test_an_architecture_value_in_a_parameters_experiment_names_who_gives_it_and_the_parameters() -> None:
    """'architecture' is what enas and regularized-evolution give their trials; this experiment
    has spec.parameters, so its references must be among x and y."""
    message = reference_message(with_reference(quadratic_experiment(), "architecture"))
    assert message.startswith("'architecture' ")
    assert "enas and regularized-evolution give their trials" in message and "spec.nasConfig" in message
    assert "(['x', 'y'])" in message


def test_a_value_of_two_other_searches_names_both_and_what_this_one_gives() -> None:
    """darts does not give 'architecture'; both algorithms that do are named, joined by 'and'."""
    message = reference_message(with_reference(load_katib_example("nas_darts-gpu.yaml"), "architecture"))
    assert message.startswith("'architecture' ")
    assert "enas and regularized-evolution give their trials" in message and "not 'darts'" in message
    assert f"expected one of {DARTS_VALUES}" in message


def test_a_parameter_name_in_a_nas_experiment_names_its_algorithm_and_what_it_gives() -> None:
    message = reference_message(with_reference(load_katib_example("nas_enas-cpu.yaml"), "lr"))
    assert message.startswith("'lr' ")
    assert f"'enas': {ENAS_VALUES}" in message
    assert message.endswith("spec.nasConfig has no spec.parameters")  # why 'lr' cannot be one


def test_without_an_algorithm_the_reference_is_still_explained_naming_no_algorithm() -> None:
    """A missing algorithm is its own error; the reference's message lists every search's values
    and quotes nothing the user did not write or could not use."""
    doc = with_reference(merge(load_katib_example("nas_enas-cpu.yaml"), {"spec.algorithm": DELETE}), "lr")
    errors = validation_errors(doc)
    assert "spec.algorithm" in [e.path for e in errors]
    message = reference_message(doc)
    assert message.startswith("'lr' ")
    for value in [*ENAS_VALUES, *DARTS_VALUES]:
        assert repr(value) in message
    quoted = re.findall(r"'([^']*)'", message)
    assert set(quoted) <= {"lr", *ENAS_VALUES, *DARTS_VALUES}, quoted
    assert "(no algorithm: [" in message  # in place of the algorithm's name, as written
    values = quoted[1:]  # each value once, though two searches give the same ones
    assert len(values) == len(set(values)), values
