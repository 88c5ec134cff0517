"""A Tekton PipelineRun or TaskRun trialSpec with no spec, an empty one or a null one (review B
of session 31, finding B4): validation read the missing pipelineSpec / taskSpec as a reference
and said "'step-train' is not among those written in trialSpec ([]), and some tasks are
referenced, not written inline: not checked", and a Push experiment was refused because "a
task's taskRef is referenced", though nothing was referenced. Only a pipelineRef or taskRef that
is there makes the run referenced; otherwise it has no step at all, and validation says so at the
field that is missing, as it does for a Workflow with no templates."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from conftest import DELETE, load_katib_example, merge, validation_errors

TRIAL_SPEC = "spec.trialTemplate.trialSpec"
PRIMARY = "spec.trialTemplate.primaryContainerName"
KIND_FIELD = "spec.metricsCollectorSpec.collector.kind"
WITHOUT_SPEC = {"no spec": DELETE, "an empty spec": {}, "a null spec": None}
MISSING = {"PipelineRun": f"{TRIAL_SPEC}.spec.pipelineSpec", "TaskRun": f"{TRIAL_SPEC}.spec.taskSpec"}


def tekton(kind: str, spec: Any, collector: str = "StdOut") -> dict[str, Any]:
    return merge(load_katib_example("tekton_pipeline-run.yaml"), {
        f"{TRIAL_SPEC}.kind": kind, f"{TRIAL_SPEC}.spec": spec, "spec.metricsCollectorSpec": {"collector": {"kind": collector}},
    })


def errors_of(doc: dict[str, Any]) -> dict[str, str]:
    return {e.path: e.message for e in validation_errors(doc)}


@pytest.mark.parametrize("kind", sorted(MISSING))
@pytest.mark.parametrize("spec", sorted(WITHOUT_SPEC))
def test_no_spec_is_said_at_the_missing_field_not_called_referenced(kind: str, spec: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        got = errors_of(tekton(kind, WITHOUT_SPEC[spec]))
    message = got[MISSING[kind]]
    pods = "pod has" if kind == "TaskRun" else "pods have"
    assert f"so the {kind}'s {pods} no container at all" in message, message
    assert f"expected at least one, for {PRIMARY} 'step-model-training'" in message, message
    assert PRIMARY not in got
    assert "referenced" not in caplog.text and "[]" not in caplog.text, caplog.text


@pytest.mark.parametrize("kind", sorted(MISSING))
def test_a_push_experiment_is_not_told_of_a_task_ref_there_is_not(kind: str) -> None:
    got = errors_of(tekton(kind, {}, collector="Push"))
    assert MISSING[kind] in got, got
    assert "taskRef" not in got.get(KIND_FIELD, ""), got[KIND_FIELD]


@pytest.mark.parametrize(("kind", "reference"), [("PipelineRun", {"pipelineRef": {"name": "train"}}), ("TaskRun", {"taskRef": {"name": "train"}})])
def test_a_reference_that_is_there_is_still_not_checked(kind: str, reference: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        got = errors_of(tekton(kind, reference))
    assert not any(path.startswith(f"{TRIAL_SPEC}.spec") for path in got), got
    assert PRIMARY not in got
    assert "some tasks are referenced, not written inline: not checked" in caplog.text


def test_a_task_that_is_referenced_still_makes_push_unreachable() -> None:
    spec = {"pipelineSpec": {"tasks": [{"name": "train", "taskRef": {"name": "train"}}]}}
    message = errors_of(tekton("PipelineRun", spec, collector="Push"))[KIND_FIELD]
    assert "(a task's taskRef is referenced, not written" in message, message


def test_a_task_with_neither_spec_nor_ref_has_no_step() -> None:
    got = errors_of(tekton("PipelineRun", {"pipelineSpec": {"tasks": [{"name": "train"}]}}))
    assert "no task written inline has a step" in got[f"{TRIAL_SPEC}.spec.pipelineSpec.tasks"], got


@pytest.mark.parametrize(("kind", "spec", "field"), [
    ("PipelineRun", {"pipelineSpec": "train"}, f"{TRIAL_SPEC}.spec.pipelineSpec"),
    ("TaskRun", {"taskSpec": ["train"]}, f"{TRIAL_SPEC}.spec.taskSpec"),
    ("PipelineRun", {"pipelineSpec": {"tasks": [{"name": "train", "taskSpec": 5}]}}, f"{TRIAL_SPEC}.spec.pipelineSpec.tasks[0].taskSpec"),
])
def test_a_pipeline_or_task_that_is_no_mapping_is_refused_as_such(kind: str, spec: dict[str, Any], field: str) -> None:
    message = errors_of(tekton(kind, spec))[field]
    assert message.startswith("expected a mapping"), message
