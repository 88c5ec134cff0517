"""Which metrics collectors validation takes for a trial whose pods another controller makes at
run time (Argo Workflow, Tekton PipelineRun and TaskRun; a user's kind whose template shows no
container of the primary name).

Katib adds its collector to such a pod with a pod webhook as the pod is created
(pkg/webhook/v1beta1/pod/inject_webhook.go, Mutate); kfp-tune has none, and adds what a collector
needs to the pod templates of the trial's resource, which these kinds do not have. So only what
works from outside the pod is taken: StdOut (the primary container's log) and Push (the trial
reports itself, with the env kfp-tune gives the template entry its container is made from).
File, TensorFlowEvent, PrometheusMetric and Custom are refused before anything runs, at
``spec.metricsCollectorSpec.collector.kind``, saying what works instead."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from collector_sources import SOURCES, collector
from conftest import load_katib_example, merge, validation_errors
from katib_run_time_kinds import argo_from_a_workflow_template, tekton_pipeline_run

KIND_PATH = "spec.metricsCollectorSpec.collector.kind"
TRIAL_SPEC = "spec.trialTemplate.trialSpec"
IN_THE_POD = ("File", "TensorFlowEvent", "PrometheusMetric", "Custom")
def tekton_task_run() -> dict[str, Any]:
    doc = tekton_pipeline_run()
    template = doc["spec"]["trialTemplate"]
    template["trialSpec"] = {
        "apiVersion": "tekton.dev/v1",
        "kind": "TaskRun",
        "spec": {"taskSpec": {"steps": [{"name": "train", "image": "python:3.11", "command": ["python3", "-c", "print('loss=${trialParameters.learningRate}')"]}]}},
    }
    template["primaryContainerName"] = "step-train"
    template.pop("primaryPodLabels", None)
    return doc


def users_kind() -> dict[str, Any]:
    """A kind kfp-tune does not know, whose template names no container 'trainer': its controller
    makes the pod, and kfp-tune prepares it as a kind built at run time."""
    doc = load_katib_example("argo_argo-workflow.yaml")
    template = doc["spec"]["trialTemplate"]
    template["trialSpec"] = {
        "apiVersion": "example.com/v1",
        "kind": "Trainer",
        "spec": {"image": "python:3.11", "args": ["--lr=${trialParameters.learningRate}"]},
    }
    template["primaryContainerName"] = "trainer"
    return doc


TRIALS = {
    "Argo Workflow": lambda: load_katib_example("argo_argo-workflow.yaml"),
    "Tekton PipelineRun": tekton_pipeline_run,
    "Tekton TaskRun": tekton_task_run,
}


def kind_messages(doc: dict[str, Any]) -> list[str]:
    return [e.message for e in validation_errors(doc) if e.path == KIND_PATH]


@pytest.mark.parametrize("trial", sorted(TRIALS))
@pytest.mark.parametrize("kind", IN_THE_POD)
def test_a_collector_that_runs_in_the_pod_is_refused_at_its_kind_saying_what_works(trial: str, kind: str) -> None:
    [message] = kind_messages(merge(TRIALS[trial](), collector(kind)))
    assert message.startswith(f"{kind} cannot collect the metrics of a trial of kind {trial.split()[-1]}"), message
    assert "at run time" in message and "pod webhook" in message  # why: Katib's way is one kfp-tune has no counterpart of
    assert message.endswith("the primary container's output (read from its pod's log) and the trial's own reports (kfp_tune.report_metrics) reach kfp-tune without it: use StdOut or Push"), message


@pytest.mark.parametrize("trial", sorted(TRIALS))
@pytest.mark.parametrize("kind", ["StdOut", "Push"])
def test_stdout_and_push_are_taken(trial: str, kind: str) -> None:
    assert kind_messages(merge(TRIALS[trial](), collector(kind))) == []


def test_the_argo_example_with_either_collector_that_works_is_valid() -> None:
    for kind in ("StdOut", "Push"):
        assert validation_errors(merge(load_katib_example("argo_argo-workflow.yaml"), collector(kind))) == []


def test_the_refusal_names_what_kfp_tune_would_have_added_to_the_pod() -> None:
    [message] = kind_messages(merge(load_katib_example("argo_argo-workflow.yaml"), collector("Custom")))
    assert "kfp-tune adds the customCollector container to the pod templates" in message, message
    [message] = kind_messages(merge(load_katib_example("argo_argo-workflow.yaml"), collector("PrometheusMetric")))
    assert "kfp-tune adds its own collector container (which scrapes the trial's endpoint)" in message, message


@pytest.mark.parametrize("kind", IN_THE_POD)
def test_a_users_kind_whose_template_shows_no_primary_container_is_refused_too(kind: str) -> None:
    [message] = kind_messages(merge(users_kind(), collector(kind)))
    assert message.startswith(f"{kind} cannot collect the metrics of a trial of kind Trainer"), message
    assert "shows no container named 'trainer'" in message, message


def test_a_users_kind_whose_template_shows_the_primary_container_takes_every_collector() -> None:
    doc = users_kind()
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"] = {
        "template": {"spec": {"containers": [{"name": "trainer", "image": "python:3.11", "args": ["--lr=${trialParameters.learningRate}"]}]}},
    }
    for kind in SOURCES:
        assert kind_messages(merge(doc, collector(kind))) == [], kind


def tekton_from_a_task() -> dict[str, Any]:
    """The Tekton example with its training task referenced (a Task on the cluster)."""
    doc = tekton_pipeline_run()
    task = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["pipelineSpec"]["tasks"][1]
    del task["taskSpec"]
    task["taskRef"] = {"name": "training"}
    return doc


@pytest.mark.parametrize("referenced", [argo_from_a_workflow_template, tekton_from_a_task])
def test_push_is_refused_where_the_primary_container_comes_from_a_referenced_template(referenced: Any) -> None:
    """kfp-tune gives the trial's place in the store to the template entry its primary container
    is made from; in a template that is referenced, not written, it cannot: the trial could not
    report. StdOut, read from the pod's log, still works (validation warns, not refuses)."""
    doc = referenced()
    [message] = kind_messages(merge(doc, collector("Push")))
    assert message.startswith("Push needs the trial's place in the store"), message
    assert "written inline" in message and message.endswith("or use StdOut"), message
    assert kind_messages(merge(doc, collector("StdOut"))) == []


def test_push_is_refused_for_a_users_kind_whose_template_shows_no_primary_container() -> None:
    [message] = kind_messages(merge(users_kind(), collector("Push")))
    assert message.startswith("Push needs the trial's place in the store"), message
    assert "shows no container named 'trainer'" in message, message
    assert kind_messages(merge(users_kind(), collector("StdOut"))) == []


def test_the_command_line_refuses_it_before_anything_runs(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from kfp_tune.cli import main

    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(merge(load_katib_example("argo_argo-workflow.yaml"), collector("Custom"))))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{KIND_PATH}: Custom cannot collect the metrics of a trial of kind Workflow" in err, err
    assert "Traceback" not in err
