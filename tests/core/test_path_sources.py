"""A str naming a file is read as that file whatever its suffix or case; one-line bare text
naming no file is a missing file, not a document with no mapping; YAML text stays YAML text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import load_katib_example
from kfp_tune.core.errors import SpecError
from kfp_tune.core.loading import load_experiment, read_experiment_source

EXAMPLE = "hp-tuning_random.yaml"


def _errors(source: Any) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_experiment(source)
    return [str(error) for error in info.value.errors]


@pytest.mark.parametrize("name", ["EXP.YAML", "experiment", "exp.yaml.bak", "exp.Json"])
def test_a_str_naming_an_existing_file_is_read_as_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """It was read as YAML text unless it ended in .yaml, .yml or .json: "(root): expected a mapping, got str"."""
    document = load_katib_example(EXAMPLE)
    (tmp_path / name).write_text(json.dumps(document))
    assert read_experiment_source(str(tmp_path / name)) == document
    monkeypatch.chdir(tmp_path)
    assert read_experiment_source(name) == document
    assert load_experiment(name).name == document["metadata"]["name"]


@pytest.mark.parametrize("name", ["exp.ymal", "missing.yaml", "experiment", "C:\\experiments\\exp.yaml"])
def test_a_one_line_str_naming_no_file_is_a_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.chdir(tmp_path)
    assert _errors(name) == [f"(file): no such experiment file: {name}"]
    absent = str(tmp_path / name)
    assert _errors(absent) == [f"(file): no such experiment file: {absent}"]


def test_a_missing_file_given_to_compile_pipeline_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kfp_tune.pipelines.builder import as_experiment

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError, match=r"no such experiment file: exp\.ymal"):
        as_experiment("exp.ymal")
    (tmp_path / "EXP.YAML").write_text(json.dumps(load_katib_example(EXAMPLE)))
    assert as_experiment("EXP.YAML").name == load_katib_example(EXAMPLE)["metadata"]["name"]


def test_yaml_text_stays_yaml_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    document = load_katib_example(EXAMPLE)
    flow = json.dumps(document)  # JSON is a one-line YAML flow mapping
    assert "\n" not in flow and read_experiment_source(flow) == document
    assert read_experiment_source("{apiVersion: kubeflow.org/v1beta1, kind: Experiment}") == {"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment"}
    assert read_experiment_source("kind: Experiment") == {"kind": "Experiment"}
    assert _errors("- a") == ["(root): expected a mapping (a Katib Experiment), got list"]


def test_a_str_naming_a_folder_is_not_read_as_yaml(tmp_path: Path) -> None:
    assert _errors(str(tmp_path)) == [f"(file): {tmp_path} is not a regular file"]


@pytest.mark.parametrize("written", ["", ":", ": ~", ": null"])
@pytest.mark.parametrize("key", ["apiVersion", "kind"])
def test_a_file_without_apiversion_or_kind_or_with_it_null_is_refused(tmp_path: Path, key: str, written: str) -> None:
    """``apiVersion: ~`` passed where a missing apiVersion was refused; kubectl refuses both."""
    lines = [line for line in _top_level_lines(load_katib_example(EXAMPLE)) if not line.startswith(f"{key}:")]
    path = tmp_path / "exp.yaml"
    path.write_text("\n".join(lines + ([f"{key}{written}"] if written else [])) + "\n")
    assert f"{key}: required (kubectl refuses a manifest without it)" in _errors(path)


def _top_level_lines(document: dict[str, Any]) -> list[str]:
    """The document as YAML lines, one top-level key a line (each value a JSON flow)."""
    return [f"{key}: {json.dumps(value)}" for key, value in document.items()]


@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_a_path_with_a_line_break_at_its_end_is_the_file_or_a_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, end: str) -> None:
    """``load_experiment("exp.yaml\\n")`` (a name read from a file, or ``$(...)``) said "(root):
    expected a mapping (a Katib Experiment), got str", naming neither the file nor the problem."""
    monkeypatch.chdir(tmp_path)
    assert _errors(f"exp.yaml{end}") == ["(file): no such experiment file: exp.yaml"]
    document = load_katib_example(EXAMPLE)
    (tmp_path / "exp.yaml").write_text(json.dumps(document))
    assert read_experiment_source(f"exp.yaml{end}") == document
    assert load_experiment(f"{tmp_path / 'exp.yaml'}{end}").name == document["metadata"]["name"]
    assert _errors("exp.yaml\n\n") == ["(root): expected a mapping (a Katib Experiment), got str"]  # more than one line: YAML text
