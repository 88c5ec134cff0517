"""``kfp-tune render`` of a neural architecture search experiment (Katib's enas and darts
examples): a trial gets values from the algorithm, not from the search space, so each must be
given with ``--assign``; one left out is named, and the rendered trial carries no run's round."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from conftest import load_katib_example
from kfp_tune.core.loading import load_experiment
from kfp_tune.launchers.kubernetes import render_manifest

EXAMPLES = ["nas_enas-cpu.yaml", "nas_darts-cpu.yaml"]


def _searched(doc: dict[str, Any]) -> list[str]:
    """What the trial template takes from the algorithm: its trialParameters' references that
    are not parameters of the search space (a NAS example has none)."""
    space = {p["name"] for p in doc["spec"].get("parameters") or []}
    return [p["reference"] for p in doc["spec"]["trialTemplate"]["trialParameters"] if p["reference"] not in space]


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_value_the_algorithm_gives_must_be_assigned_and_the_one_left_out_is_named(name: str) -> None:
    doc = load_katib_example(name)
    searched, algorithm = _searched(doc), doc["spec"]["algorithm"]["algorithmName"]
    experiment = load_experiment(doc)
    assert len(searched) >= 2
    for left_out in searched:
        given = {value: f"given-{value}" for value in searched if value != left_out}
        with pytest.raises(ValueError) as caught:
            render_manifest(experiment, given)
        message = str(caught.value)
        assert message.startswith(f"--assign {left_out}=...:")
        listed = re.search(rf"gets (.*) from the {algorithm} algorithm", message)
        assert listed is not None and sorted(listed.group(1).split(", ")) == sorted(searched)


@pytest.mark.parametrize("name", EXAMPLES)
def test_values_given_for_every_one_reach_the_trial_with_no_rounds_label(name: str) -> None:
    doc = load_katib_example(name)
    searched = _searched(doc)
    manifest = render_manifest(load_experiment(doc), {value: f"given-{value}" for value in searched})
    text = json.dumps(manifest)
    assert all(f"given-{value}" in text for value in searched)
    labels = manifest["metadata"]["labels"]
    assert labels and not [key for key in labels if key.endswith("/round")]  # rendered outside any run
