"""A file of several YAML documents (the trial-template ConfigMap and the Experiment, as
``kubectl apply -f`` takes them) is refused naming each document's kind and name and what to
do: one Experiment per file, the ConfigMap in its own file for --trial-templates (QA report
s35 examples, finding 4)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.core.errors import SpecError
from kfp_tune.core.loading import load_experiment

CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "trial-templates", "namespace": "kubeflow"}, "data": {"t.yaml": "x"}}


def refusal(text: str) -> str:
    with pytest.raises(SpecError) as info:
        load_experiment(text)
    assert len(info.value.errors) == 1
    return str(info.value.errors[0])


def test_a_config_map_and_an_experiment_are_named_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "both.yaml"
    path.write_text(yaml.safe_dump_all([CONFIG_MAP, quadratic_experiment()]))
    assert refusal(str(path)) == (
        "(file): expected exactly one YAML document (one Experiment per file), found 2: ConfigMap 'trial-templates', Experiment 'quad'; "
        "put each Experiment in a file of its own, and a trial-template ConfigMap in its own file, given with --trial-templates"
    )


def test_two_experiments_and_a_nameless_list_are_told_apart() -> None:
    other = quadratic_experiment(**{"metadata.name": "other"})
    message = refusal(yaml.safe_dump_all([quadratic_experiment(), other, ["a"], {"pipelineInfo": {"name": "p"}}, {"kind": "ConfigMap"}]))
    assert message.startswith(
        "(file): expected exactly one YAML document (one Experiment per text), found 5: Experiment 'quad', Experiment 'other', a list, "
        "a mapping without a kind, ConfigMap without a name; pass one Experiment per YAML text"
    )
    assert "given with --trial-templates" not in message  # text from Python: no file to split


def test_a_file_of_many_documents_names_the_first_five_and_counts_the_rest(tmp_path: Path) -> None:
    """A 630 KB file of empty mappings gave a 2.3 MB line, one 'a mapping without a kind' each."""
    path = tmp_path / "many.yaml"
    path.write_text("---\n{}\n" * 900)
    message = refusal(str(path))
    assert message.startswith("(file): expected exactly one YAML document (one Experiment per file), found 900: " + ", ".join(["a mapping without a kind"] * 5) + " and 895 more; ")
    assert len(message) < 400, len(message)


def test_an_empty_file_still_says_it_holds_no_document() -> None:
    assert refusal("---\n") == "(file): expected exactly one YAML document, found 0"
