"""An experiment given as a model is checked as its document is: a model built or edited in
Python gets the dict path's errors, naming the field (Katib refuses such an object when it
decodes it into its Go types), and a valid model loads equal to itself."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from conftest import KATIB_EXAMPLES, load_katib_example
from kfp_tune.core.errors import SpecError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.spec import ObjectMeta

EXAMPLE = "hp-tuning_random.yaml"


def _errors(source: Any) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_experiment(source)
    return [str(error) for error in info.value.errors]


def _set(tree: Any, path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        tree = tree[key] if isinstance(tree, dict) else getattr(tree, key)
    if isinstance(tree, dict):
        tree[path[-1]] = value
    else:
        setattr(tree, path[-1], value)


# (the model's attribute path, the document's field path, a value Katib's Go types refuse)
EDITS = [
    (("spec", "max_trial_count"), ("spec", "maxTrialCount"), "3"),
    (("spec", "max_trial_count"), ("spec", "maxTrialCount"), 2.5),
    (("spec", "parallel_trial_count"), ("spec", "parallelTrialCount"), True),
    (("spec", "max_failed_trial_count"), ("spec", "maxFailedTrialCount"), "1"),
    (("spec", "objective", "goal"), ("spec", "objective", "goal"), "0.1"),
    (("spec", "trial_template", "retain"), ("spec", "trialTemplate", "retain"), "yes"),
    (("spec", "resume_policy"), ("spec", "resumePolicy"), 5),
]


@pytest.mark.parametrize(("attributes", "fields", "value"), EDITS)
def test_a_model_edited_in_python_gets_the_dict_paths_error(attributes: tuple[str, ...], fields: tuple[str, ...], value: Any) -> None:
    """It was taken as it was: a bare TypeError ('>' not supported), or 2.5 and True compiled
    into a pipeline that then refused them on the cluster."""
    document = load_katib_example(EXAMPLE)
    model = load_experiment(copy.deepcopy(document))
    _set(model, attributes, value)
    _set(document, fields, value)
    expected = _errors(document)
    assert expected and expected[0].startswith(".".join(fields) + ":")
    assert _errors(model) == expected


def test_an_unknown_metadata_field_given_to_the_model_is_reported_as_in_a_dict() -> None:
    """``ObjectMeta(namespacex=...)`` was dropped without a word."""
    document = load_katib_example(EXAMPLE)
    model = load_experiment(copy.deepcopy(document))
    document["metadata"]["namespacex"] = "team-a"
    expected = _errors(document)
    assert any(error.startswith("metadata.namespacex:") and "'namespace'" in error for error in expected)
    edited = model.model_copy(update={"metadata": ObjectMeta(name=model.name, namespacex="team-a")})
    assert _errors(edited) == expected


def test_kubernetes_metadata_fields_are_still_taken_and_dropped() -> None:
    """``kubectl get -o yaml`` writes uid, resourceVersion ...: Kubernetes' own fields, read and left out."""
    meta = ObjectMeta(name="a", uid="1", resourceVersion="7")
    assert meta.model_dump(by_alias=True, exclude_none=True) == {"name": "a"}


def test_a_model_with_fields_of_the_wrong_type_names_every_one() -> None:
    model = load_experiment(load_katib_example(EXAMPLE))
    model.spec.max_trial_count = "3"  # type: ignore[assignment]
    model.spec.trial_template.retain = "yes"  # type: ignore[union-attr]
    assert sorted(error.split(":")[0] for error in _errors(model)) == ["spec.maxTrialCount", "spec.trialTemplate.retain"]


@pytest.mark.parametrize("path", KATIB_EXAMPLES, ids=lambda p: p.name)
def test_a_valid_model_loads_equal_to_itself(path: Path) -> None:
    try:
        loaded = load_experiment(path)
    except SpecError:
        pytest.skip("an example kfp-tune refuses")
    assert load_experiment(loaded) == loaded
    with_status = loaded.model_copy(update={"status": {"conditions": [{"type": "Created", "status": "True"}]}})
    assert load_experiment(with_status).status == with_status.status


def test_compile_pipeline_checks_an_edited_model() -> None:
    """compile_pipeline reads its experiment through load_experiment: 2.5 went into the pipeline."""
    from kfp_tune.pipelines.builder import as_experiment

    model = load_experiment(load_katib_example(EXAMPLE))
    model.spec.max_trial_count = 2.5  # type: ignore[assignment]
    with pytest.raises(SpecError, match=r"spec\.maxTrialCount: expected an integer, got 2\.5"):
        as_experiment(model)
