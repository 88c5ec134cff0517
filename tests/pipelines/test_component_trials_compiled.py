"""What component trials (kfp_tune.pipelines.component_trials) compile, read from the compiled
pipeline: the steps kfp-tune generates, the user's inputs passed through to every trial (their
types and defaults), the trial template the experiment is recorded with, and the experiment
given as a loaded model."""

# No `from __future__ import annotations`: KFP reads the annotations of the component defined here.

import json
from pathlib import Path
from typing import Any

import yaml
from kfp import compiler, dsl
from kfp.dsl import Dataset, Input

from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.pipelines import component_trials
from kfp_tune.pipelines.component_trials import with_component_template


@dsl.component
def fit(data: Input[Dataset], tag: str, x: float, y: float, epochs: int = 5) -> float:
    """A trial: x and y from the experiment; data, tag and epochs passed through to every trial."""
    return x + y + epochs


def without_template() -> dict[str, Any]:
    doc = quadratic_experiment()
    del doc["spec"]["trialTemplate"]
    return doc


def compiled(pipeline: Any, path: Path) -> dict[str, Any]:
    compiler.Compiler().compile(pipeline, str(path))
    return next(yaml.safe_load_all(path.read_text()))


def test_the_generated_steps_install_no_kfp_of_their_own(tmp_path):
    """claim-trial, record-trial and begin-trials run kfp-tune's runtime image, which has kfp:
    compiled with ``install_kfp_package=True`` each would pip-install it first, in every one of
    up to thousands of tasks (and kfp.local runs steps that install packages one at a time)."""
    ir = compiled(component_trials(without_template(), fit), tmp_path / "p.yaml")
    executors = ir["deploymentSpec"]["executors"]
    generated = {name: executors[name] for name in ("exec-claim-trial", "exec-record-trial", "exec-begin-trials")}
    for name, executor in generated.items():
        command = " ".join(executor["container"]["command"] + executor["container"].get("args", []))
        assert "pip install" not in command and "ensurepip" not in command, name
    assert "pip install" in " ".join(executors["exec-fit"]["container"]["command"])  # the user's component, as compiled by KFP


def test_the_inputs_passed_to_every_trial_keep_their_types_and_defaults(tmp_path):
    """The component's inputs no parameter binds become the pipeline's: ``epochs: int = 5``
    keeps its default 5, ``tag: str`` stays required, ``data: Input[Dataset]`` stays a Dataset
    (not a plain Artifact, which a Dataset from upstream would not be taken as)."""
    ir = compiled(component_trials(without_template(), fit), tmp_path / "p.yaml")
    inputs = ir["root"]["inputDefinitions"]
    assert inputs["parameters"]["epochs"]["defaultValue"] == 5
    assert inputs["parameters"]["epochs"]["parameterType"] == "NUMBER_INTEGER"
    assert "defaultValue" not in inputs["parameters"]["tag"] and not inputs["parameters"]["tag"].get("isOptional", False)
    assert inputs["artifacts"]["data"]["artifactType"]["schemaTitle"] == "system.Dataset"


def test_an_experiment_without_a_trial_template_is_given_one_naming_every_parameter():
    """Katib requires a trialTemplate and kfp-tune's records keep it: the one made for the
    component passes each parameter, by name, as Katib's trialParameters do."""
    doc = with_component_template(without_template(), "fit")
    template = doc["spec"]["trialTemplate"]
    assert template["trialParameters"] == [{"name": "x", "reference": "x"}, {"name": "y", "reference": "y"}]
    (container,) = template["trialSpec"]["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["x=${trialParameters.x}", "y=${trialParameters.y}"]
    assert load_experiment(doc).spec.trial_template is not None


def test_a_loaded_experiment_compiles_as_its_document_does(tmp_path):
    """The experiment may be given as a model (kfp_tune.core.loading.load_experiment's), as a
    dict or YAML: each compiles the same pipeline."""
    from_doc = compiled(component_trials(quadratic_experiment(), fit), tmp_path / "doc.yaml")
    from_model = compiled(component_trials(load_experiment(quadratic_experiment()), fit), tmp_path / "model.yaml")
    assert json.dumps(from_model, sort_keys=True) == json.dumps(from_doc, sort_keys=True)
