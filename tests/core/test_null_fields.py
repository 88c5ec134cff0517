"""Fields written ``null`` and values of the wrong type, as Katib reads them.

Katib's Experiment CRD keeps the object as written (``x-kubernetes-preserve-unknown-fields`` at
its root: manifests/v1beta1/components/crd/experiment.yaml) and its controller decodes it into Go
types, where a field given ``null`` stays unset and the mutating webhook defaults it. A
Helm-rendered ``goal:`` or ``resumePolicy:`` left empty is such a field."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from kfp_tune.core.errors import SpecError
from kfp_tune.core.loading import load_experiment

EXAMPLE = Path(__file__).parents[1] / "data" / "katib-examples" / "hp-tuning_random.yaml"


def _example() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE.read_text())


def _with(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(doc)
    *parents, last = path.split(".")
    node = changed
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[last] = value
    return changed


NULLABLE = ["spec.resumePolicy", "spec.objective.goal", "spec.maxFailedTrialCount", "spec.parallelTrialCount",
            "spec.algorithm.algorithmSettings", "spec.parameters.0.feasibleSpace.step", "spec.metricsCollectorSpec",
            "metadata.namespace", "spec.objective.additionalMetricNames"]


@pytest.mark.parametrize("path", NULLABLE)
def test_a_field_written_null_reads_as_the_field_left_out(path: str) -> None:
    """``resumePolicy: null`` was refused ('Input should be a valid string (got None)'), where
    Katib takes it as unset and defaults it (Never)."""
    doc = _example()
    left_out = copy.deepcopy(doc)
    *parents, last = path.split(".")
    node: Any = left_out
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node.pop(last, None)
    assert load_experiment(_with(doc, path, None)) == load_experiment(left_out)


def test_resume_policy_written_null_is_defaulted_to_never() -> None:
    assert load_experiment(_with(_example(), "spec.resumePolicy", None)).spec.resume_policy == "Never"


def test_a_required_field_written_null_is_refused_as_missing() -> None:
    with pytest.raises(SpecError) as refused:
        load_experiment(_with(_example(), "spec.objective", None))
    assert [e.path for e in refused.value.errors] == ["spec.objective"]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("spec.resumePolicy", 5, "expected a string, got 5"),
        ("spec.algorithm.algorithmName", True, "expected a string, got True (kubectl reads y, yes, on, n, no and off unquoted as booleans, "
                                               "as kfp-tune does: quote the text)"),
        ("spec.objective", [1], "expected a mapping, got [1]"),
        ("spec.parameters.0.feasibleSpace", "x", "expected a mapping, got 'x'"),
        ("spec.parameters", {"name": "lr"}, "expected a list, got {'name': 'lr'}"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_in_kfp_tunes_words_not_pydantics(path: str, value: Any, expected: str) -> None:
    """The fallback said pydantic's 'Input should be a valid string (got 5)'."""
    with pytest.raises(SpecError) as refused:
        load_experiment(_with(_example(), path, value))
    messages = {e.path: e.message for e in refused.value.errors}
    assert messages.get(path.replace(".0.", "[0].")) == expected, messages
    assert not any("Input should" in m for m in messages.values())


def test_a_null_inside_a_list_item_of_the_trial_spec_is_a_field_left_out() -> None:
    """``env: [{name: A, value: null}]``: the API server drops the null in each list item as
    anywhere else (a Helm-rendered value left empty), so the trial gets ``{name: A}``."""
    doc = _example()
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "A", "value": None}, {"name": "B", "value": "b"}]
    loaded = load_experiment(doc).spec.trial_template
    assert loaded is not None and loaded.trial_spec is not None
    env = loaded.trial_spec["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "A"}, {"name": "B", "value": "b"}]
