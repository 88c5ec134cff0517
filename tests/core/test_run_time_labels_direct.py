"""The labels ``validation.run_time_containers`` gives each container of a kind built at run time
(read by ``validation._labels`` from a template's ``metadata``): what the launcher matches a
trial's ``primaryPodLabels`` against to find the primary container's template.

Argo puts ``spec.podMetadata.labels`` on every pod of a Workflow and a template's own
``metadata.labels`` on that template's pods; Tekton puts an embedded task's ``metadata.labels`` and
``tekton.dev/pipelineTask: <task>`` on the task's pod. Built on Katib's Argo and Tekton examples,
whose primaryPodLabels are exactly such labels."""

from __future__ import annotations

from typing import Any

from conftest import load_katib_example, merge
from kfp_tune.core.validation import run_time_containers


def _trial_spec(example: str, **overrides: Any) -> dict[str, Any]:
    doc = merge(load_katib_example(example), {f"spec.trialTemplate.trialSpec.{k}": v for k, v in overrides.items()})
    return doc["spec"]["trialTemplate"]["trialSpec"]


def _labels_by_entry(trial_spec: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """(name in the pod, the entry's image, its labels) for each container."""
    built = run_time_containers(trial_spec)
    assert built is not None
    entries, complete = built
    assert complete
    return [(name, str(entry.get("image")), labels) for name, entry, labels in entries]


def test_argo_a_templates_own_labels_are_on_its_container_only() -> None:
    """Katib's Argo example: the primaryPodLabels are model-training's template labels."""
    doc = load_katib_example("argo_argo-workflow.yaml")
    primary_labels = doc["spec"]["trialTemplate"]["primaryPodLabels"]
    got = _labels_by_entry(doc["spec"]["trialTemplate"]["trialSpec"])
    assert got == [
        ("main", "python:alpine3.6", {}),
        ("main", "ghcr.io/kubeflow/katib/pytorch-mnist-cpu:latest", primary_labels),
    ]


def test_argo_pod_metadata_labels_are_on_every_container_with_each_templates_own() -> None:
    shared = {"team": "vision", "katib.kubeflow.org/experiment": "argo"}
    got = _labels_by_entry(_trial_spec("argo_argo-workflow.yaml", **{"spec.podMetadata": {"labels": shared}}))
    assert [labels for _, _, labels in got] == [shared, {**shared, "katib.kubeflow.org/model-training": "true"}]


def test_argo_metadata_without_labels_gives_none() -> None:
    """A template with annotations only, and podMetadata without labels, label nothing."""
    spec = _trial_spec(
        "argo_argo-workflow.yaml",
        **{"spec.podMetadata": {"annotations": {"a": "b"}}, "spec.templates.1.metadata": {"annotations": {"note": "x"}}},
    )
    assert [labels for _, _, labels in _labels_by_entry(spec)] == [{}, {"katib.kubeflow.org/model-training": "true"}]


def test_argo_label_values_are_read_as_strings() -> None:
    """A label value written unquoted (``version: 2``) is compared as the string a
    primaryPodLabels value is (``"2"``)."""
    spec = _trial_spec("argo_argo-workflow.yaml", **{"spec.templates.2.metadata": {"labels": {"version": 2}}})
    assert _labels_by_entry(spec)[1][2] == {"version": "2"}


def test_tekton_a_tasks_labels_and_its_task_name_are_on_its_steps() -> None:
    """Katib's Tekton example: the primaryPodLabels are the task-name label Tekton adds."""
    doc = load_katib_example("tekton_pipeline-run.yaml")
    primary_labels = doc["spec"]["trialTemplate"]["primaryPodLabels"]
    spec = merge(doc["spec"]["trialTemplate"]["trialSpec"], {"spec.pipelineSpec.tasks.1.taskSpec.metadata": {"labels": {"stage": "train"}}})
    got = {name: labels for name, _, labels in _labels_by_entry(spec)}
    assert got == {
        "step-epochs-optimize": {"tekton.dev/pipelineTask": "data-preprocessing"},
        "step-model-training": {**primary_labels, "stage": "train"},
    }
