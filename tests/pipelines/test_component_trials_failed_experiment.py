"""component_trials' pipeline had no fail-if-experiment-failed task, which the tuning step got in
36d7cf6 (the failrun fixer's leftovers): its experiment Failed (maxFailedTrialCount reached),
best-trial handed a Failed experiment's best trial to the steps after it, a green run. It now
fails as the tuning step does (failed_before_fails=True: whenever its experiment is Failed, in
this call or before), after the trials' loop and before best-trial, so no step after it runs."""

# No `from __future__ import annotations`: KFP reads the test components' annotations.
import json
import re
from typing import Any

import pytest
import yaml
from kfp import compiler, dsl

from conftest import quadratic_experiment
from kfp_tune.pipelines import component_trials
from kfp_tune.pipelines.builder import PIPELINE_BUDGET_BYTES
from kfp_tune.pipelines.component_trials import with_component_template
from kfp_tune.reports import summarize
from kfp_tune.steps.entrypoints import claim_trial_step, end_component_trials_step, suggest_step
from kfp_tune.stores import LocalStore


@dsl.component
def square(x: float) -> float:
    return x * x


def failing_doc() -> dict[str, Any]:
    """Two unreported trials end it Failed (maxFailedTrialCount 2)."""
    doc = quadratic_experiment(**{"spec.maxTrialCount": 4, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 2})
    doc["metadata"]["name"] = "sq"
    doc["spec"]["parameters"] = [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}]
    del doc["spec"]["trialTemplate"]
    return doc


def _fail_tasks(ir: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    dags = [ir["root"]["dag"], *(c["dag"] for c in ir["components"].values() if "dag" in c)]
    return [(name, t) for dag in dags for name, t in dag["tasks"].items() if t["componentRef"]["name"].startswith("comp-fail-if-experiment-failed")]


def test_the_fail_task_follows_the_trials_and_best_trial_waits_for_it(tmp_path):
    path = tmp_path / "p.yaml"
    compiler.Compiler().compile(component_trials(failing_doc(), square), str(path))
    assert path.stat().st_size < PIPELINE_BUDGET_BYTES
    ir = next(yaml.safe_load_all(path.read_text()))
    ((name, task),) = _fail_tasks(ir)
    root = ir["root"]["dag"]["tasks"]
    assert name in root, sorted(root)
    loop = next(n for n, t in root.items() if t["componentRef"]["name"].startswith("comp-kfp-tune-trials-"))
    assert loop in task["dependentTasks"], task["dependentTasks"]
    assert task["inputs"]["parameters"]["failed_before_fails"]["runtimeValue"]["constant"] is True
    best = next(t for t in root.values() if t["componentRef"]["name"].startswith("comp-best-trial"))
    assert name in best["dependentTasks"], best["dependentTasks"]


@pytest.mark.kfp_local
def test_a_call_whose_experiment_is_failed_fails_and_the_step_after_it_does_not_run(tmp_path, capfd):
    from kfp import local

    store = tmp_path / "store"
    doc = failing_doc()
    spec = json.dumps(with_component_template(json.loads(json.dumps(doc)), "square"))
    suggest_step(str(store), "sq", "dead-run", 0, 1, spec, trial_count=0)
    inputs = {"x": ("x", "float")}
    claim_trial_step(str(store), "sq", "dead-run", inputs)
    claim_trial_step(str(store), "sq", "dead-run", inputs)
    end_component_trials_step(str(store), "sq", "dead-run", "", False, str(tmp_path / "t.md"), str(tmp_path / "r.html"))
    assert summarize(LocalStore(store), "sq")["status"] == "Failed"

    tuning = component_trials(doc, square)

    @dsl.component
    def train(parameters: dict) -> str:
        return str(parameters)

    @dsl.pipeline
    def mine(store_uri: str) -> str:
        return train(parameters=tuning(store_uri=store_uri).outputs["best_parameters"]).output

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "root"), raise_on_error=True)
    with pytest.raises(RuntimeError, match="fail-if-experiment-failed"):
        mine(store_uri=str(store))
    output = re.sub(r"\x1b\[[0-9;]*m", "", capfd.readouterr().out)
    assert "ExperimentFailed: experiment sq had already ended Failed before this run" in output, output[-3000:]
    assert "Executing task 'train'" not in output and "Executing task 'best-trial'" not in output


def test_its_component_yaml_is_exported_for_users_who_load_components_one_by_one():
    """components/export.py wrote no component.yaml of it (36d7cf6 added it to decide-stop's folder
    as a second component): it now has a folder of its own, as every component.yaml has."""
    from kfp import components

    from conftest import REPO
    from kfp_tune.components.decide_stop import fail_if_experiment_failed
    from kfp_tune.components.export import COMPONENTS
    from kfp_tune.launchers.runtime_image import DEFAULT_RUNTIME_IMAGE

    assert COMPONENTS["fail_if_experiment_failed"] is fail_if_experiment_failed
    folder = REPO / "components" / "fail_if_experiment_failed"
    loaded = components.load_component_from_file(str(folder / "component.yaml"))
    assert loaded.name == "fail-if-experiment-failed"
    assert set(loaded.component_spec.inputs) == set(fail_if_experiment_failed.component_spec.inputs)
    assert loaded.component_spec.implementation.container.image == DEFAULT_RUNTIME_IMAGE
    readme = " ".join((folder / "README.md").read_text().split())
    assert f"`component.yaml` names `{DEFAULT_RUNTIME_IMAGE}`" in readme and "publishes no image" in readme
