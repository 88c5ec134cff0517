"""A plain (unquoted) scalar in a Katib or Kubernetes document means what it means to kubectl,
whose go-yaml v2 resolves it (core.template.go_yaml_scalar), not what it means to PyYAML's YAML
1.1: an experiment Katib runs as written, kfp-tune runs as written too (core.loading)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.loading import load_experiment, parse_template_documents, parse_yaml
from kfp_tune.core.template import go_yaml_scalar


@pytest.mark.parametrize(("written", "read"), [
    ("1e-3", 0.001),  # PyYAML: the text "1e-3" (its floats need a dot)
    ("1e2", 100.0),
    ("1:20", "1:20"),  # PyYAML: 80 (base 60)
    ("2024-01-01", "2024-01-01"),  # PyYAML: a datetime.date
    ("0o17", 15),  # PyYAML: the text "0o17"
    ("017", 15),
    ("0b101", 5),
    ("0x1F", 31),
    ("+1", 1),
    ("1_000", 1000),
    (".5", 0.5),
    ("y", True),  # PyYAML: the text "y"
    ("n", False),
    ("on", True),
    ("=", "="),  # PyYAML: a tag it has no constructor for
    ("", None),
    ("'1e-3'", "1e-3"),  # quoted, or tagged: as written
    ('"y"', "y"),
    ("!!str 1e3", "1e3"),
    ("!!float 1e3", 1000.0),
    ("|\n  1e3", "1e3\n"),
])
def test_plain_scalars_are_read_as_kubectl_reads_them(written: str, read: Any) -> None:
    value = parse_yaml(f"v: {written}\n")["v"]
    assert value == read and type(value) is type(read)
    if written[:1] not in "'\"!|":
        assert value == go_yaml_scalar(written)
    assert parse_template_documents(f"v: {written}\n") == [{"v": read}]  # a ConfigMap's template, as Katib decodes it


def test_merge_keys_still_merge() -> None:
    assert parse_yaml("base: &b {lr: 1e-3}\nmerged: {<<: *b, k: 2}\n")["merged"] == {"lr": 0.001, "k": 2}


def _experiment_file(tmp_path: Path, **replacements: str) -> Path:
    doc = quadratic_experiment(**{
        "spec.objective.goal": "GOAL", "spec.maxTrialCount": "COUNT", "metadata.labels": {"day": "DAY"},
        "spec.parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}},
                            {"name": "y", "parameterType": "categorical", "feasibleSpace": {"list": ["TIME", "0"]}}],
    })
    text = yaml.safe_dump(doc)
    for placeholder, written in replacements.items():
        assert f" {placeholder}\n" in text
        text = text.replace(f" {placeholder}\n", f" {written}\n")
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    return path


def test_an_experiment_katib_runs_is_validated_and_loaded_as_katib_reads_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``goal: 1e-3`` and ``maxTrialCount: 1e1`` are numbers to kubectl, so Katib runs the
    experiment; kfp-tune refused it ("expected a number, got '1e-3'"). A categorical ``1:20``
    stays "1:20" (PyYAML's 80) and a date stays text, as both are to go-yaml."""
    path = _experiment_file(tmp_path, GOAL="1e-3", COUNT="1e1", TIME="1:20", DAY="2024-01-01")
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().err == ""  # nothing to note: Katib takes it as it is
    experiment = load_experiment(path)
    assert experiment.spec.objective.goal == 0.001 and experiment.spec.max_trial_count == 10
    assert experiment.spec.parameters[1].feasible_space.list == ["1:20", "0"]
    assert experiment.metadata.labels == {"day": "2024-01-01"}


def test_an_experiment_with_goal_1e_3_runs(tmp_path: Path) -> None:
    path = _experiment_file(tmp_path, GOAL="1e-3", COUNT="2e0", TIME="a", DAY="today")
    assert main(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "store")]) == 0


@pytest.mark.parametrize(("written", "read"), [
    ("!!bool y", True),  # PyYAML's own constructor: KeyError 'y', a traceback
    ("!!bool off", False),
    ("!!int 0o17", 15),
    ("!!float 1", 1.0),
    ("!!null ~", None),
])
def test_a_tagged_scalar_is_resolved_as_kubectl_resolves_it(written: str, read: Any) -> None:
    """go-yaml v2 resolves an explicitly tagged scalar as a plain one, then holds it to the tag."""
    assert parse_yaml(f"v: {written}\n")["v"] == read
    assert parse_template_documents(f"v: {written}\n") == [{"v": read}]


@pytest.mark.parametrize("written", ["!!int 4e0", "!!int abc", "!!int 08", "!!float x", "!!bool", "!!bool 1"])
def test_a_tagged_scalar_that_is_not_of_its_tag_is_refused_naming_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], written: str) -> None:
    """kubectl refuses ``!!int 4e0`` ("cannot decode"); kfp-tune crashed on it (exit 1, 'unexpected
    ValueError ... a defect in kfp-tune'), and on ``!!bool y`` too (KeyError)."""
    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment()).replace("  maxTrialCount: 6\n", f"  maxTrialCount: {written}\n"))
    assert f"maxTrialCount: {written}\n" in path.read_text()
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{path}: not valid YAML: line ") and f"is no {written[2:].split()[0]} to kubectl" in err and "defect" not in err


@pytest.mark.parametrize(("written", "named"), [
    ("9" * 5000, "spec.maxTrialCount: expected an integer"),
    ("-" + "9" * 5000, "spec.maxTrialCount: expected an integer"),
    ("!!int " + "9" * 5000, "not valid YAML: line "),
])
def test_an_integer_of_5000_digits_is_a_spec_error_naming_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str], written: str, named: str) -> None:
    """Past Python's 4,300 digits ``int()`` raises ValueError: validate crashed ('unexpected
    ValueError: Exceeds the limit (4300 digits) ... a defect'). go-yaml v2's ParseInt, ParseUint
    and ParseFloat all fail on it, so it is text, which no count field takes."""
    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment()).replace("  maxTrialCount: 6\n", f"  maxTrialCount: {written}\n"))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "defect" not in err and named in err
    assert go_yaml_scalar(written.removeprefix("!!int ")) == written.removeprefix("!!int ")


def test_a_tagged_value_substituted_into_a_configmap_template_is_read_as_katib_reads_it() -> None:
    """A trial parameter's value ``!!bool y`` put in a ConfigMap template crashed the run (KeyError
    'y', the trial left Created); ``!!timestamp x`` too (AttributeError)."""
    from kfp_tune.core.template import yaml_value

    assert (yaml_value("!!bool y"), yaml_value("!!int 7"), yaml_value("!!timestamp 2024-01-01")) == (True, 7, "2024-01-01")
    assert (yaml_value("!!int 4e0"), yaml_value("!!timestamp x")) == ("!!int 4e0", "x")  # kubectl cannot read them: the text
