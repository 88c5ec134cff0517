"""Promises of reading an experiment's YAML and trial templates that no test held (a QA mutation
pass of loading.py and template.py found the mutants alive): a ConfigMap template's key that is
a whole placeholder, go-yaml's tags and special floats, render's field order, the empty source,
a model edited in Python under warnings-as-errors."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import config_map_experiment, load_katib_example, quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.errors import SpecError
from kfp_tune.core.loading import load_experiment, parse_yaml
from kfp_tune.core.template import kubernetes_yaml
from kfp_tune.core.template_source import resolve_trial_template
from kfp_tune.launchers.kubernetes import render_manifest


def _problem(text: str) -> str:
    with pytest.raises(SpecError) as info:
        parse_yaml(text)
    ((error),) = info.value.errors
    return error.message


def test_a_config_map_templates_key_that_is_a_whole_placeholder_becomes_the_value_as_text() -> None:
    """``labels: {${trialParameters.k}: v}``: the key is a whole unquoted placeholder, kept in its
    typed form, and filled in as the value's text (a key stays a string)."""
    template = yaml.safe_dump(quadratic_experiment()["spec"]["trialTemplate"]["trialSpec"])
    text = template.replace("spec:\n  template:", "spec:\n  template:\n    metadata:\n      labels: {${trialParameters.x}: v}", 1)
    experiment = resolve_trial_template(load_experiment(config_map_experiment()), lambda ns, name: {"t.yaml": text}, "in the test")
    assert experiment.spec.trial_template.trial_spec["spec"]["template"]["metadata"]["labels"] == {"${yaml:trialParameters.x}": "v"}
    rendered = render_manifest(experiment, {"x": "0.5"})["spec"]["template"]["metadata"]["labels"]
    assert rendered["0.5"] == "v" and "${yaml:trialParameters.x}" not in rendered


def test_an_int_tag_reads_an_int() -> None:
    value = parse_yaml("a: !!int 4")["a"]
    assert value == 4 and type(value) is int
    assert type(parse_yaml("a: !!float 4")["a"]) is float


SPECIAL_FLOATS = [".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN"]


@pytest.mark.parametrize("text", SPECIAL_FLOATS)
def test_every_spelling_of_an_infinity_or_nan_is_refused(text: str) -> None:
    assert _problem(f"a: {text}") == f"not valid YAML: line 1, column 4: {text!r} is not a number JSON can carry (kubectl refuses it too); quote it to mean the text"
    assert parse_yaml(f"a: '{text}'") == {"a": text}


def test_pairs_are_refused_and_a_timestamp_is_text() -> None:
    assert _problem("a: !!pairs [{b: 1}]") == "not valid YAML: line 1, column 4: the YAML type 'pairs' has no JSON form, so Kubernetes cannot read it"
    assert parse_yaml("a: !!timestamp 2020-01-01") == {"a": "2020-01-01"}
    assert parse_yaml("a: 2020-01-01") == {"a": "2020-01-01"}


def test_render_and_kubernetes_yaml_keep_apiversion_and_kind_first(tmp_path: Path, capsys: Any) -> None:
    assert kubernetes_yaml({"spec": {"b": 1, "a": 2}, "apiVersion": "v1", "kind": "Job"}).splitlines() == [
        "spec:", "  b: 1", "  a: 2", "apiVersion: v1", "kind: Job"]  # as given: no sorting
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment()))
    assert main(["render", str(path)]) == 0
    assert [line.split(":")[0] for line in capsys.readouterr().out.splitlines()[:3]] == ["apiVersion", "kind", "metadata"]


@pytest.mark.parametrize("source", ["", "\n", "---\n", "# nothing\n"])
def test_an_empty_source_is_said_to_hold_no_document(source: str) -> None:
    with pytest.raises(SpecError) as info:
        load_experiment(source)
    assert [str(error) for error in info.value.errors] == ["(file): expected exactly one YAML document, found 0"]


def test_a_model_edited_in_python_gives_only_the_spec_error_when_warnings_are_errors() -> None:
    """Its dump must not warn: under ``-W error`` pydantic's serializer warning would be raised
    in place of the SpecError naming the field."""
    model = load_experiment(load_katib_example("hp-tuning_random.yaml"))
    model.spec.max_trial_count = "3"  # type: ignore[assignment]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(SpecError) as info:
            load_experiment(model)
    assert [error.path for error in info.value.errors] == ["spec.maxTrialCount"]
