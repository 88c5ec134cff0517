"""What validation says of an Argo Workflow's or a Tekton run's lists (templates, a
containerSet's containers, a pipeline's tasks and finally, a task's steps and sidecars) and the
containers its pods will have: a list field that is not a list is a user's mistake, told at its
field ("expected a list"), never a crash; the containers written inline are the names a
primaryContainerName must take."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import load_katib_example, merge, validation_errors

PRIMARY = "spec.trialTemplate.primaryContainerName"
TRIAL_SPEC = "spec.trialTemplate.trialSpec"


def katib(example: str, **overrides: Any) -> dict[str, Any]:
    return merge(load_katib_example(example), overrides)


def messages(doc: dict[str, Any]) -> dict[str, str]:
    return {e.path: e.message for e in validation_errors(doc)}


@pytest.mark.parametrize(
    ("example", "field"),
    [
        ("argo_argo-workflow.yaml", "spec.templates"),
        ("argo_argo-workflow.yaml", "spec.templates.2.containerSet"),
        ("tekton_pipeline-run.yaml", "spec.pipelineSpec.tasks"),
        ("tekton_pipeline-run.yaml", "spec.pipelineSpec.finally"),
        ("tekton_pipeline-run.yaml", "spec.pipelineSpec.tasks.0.taskSpec.steps"),
        ("tekton_pipeline-run.yaml", "spec.pipelineSpec.tasks.0.taskSpec.sidecars"),
    ],
)
def test_a_run_time_list_that_is_a_number_is_told_at_its_field_not_a_crash(example: str, field: str) -> None:
    value: Any = {"containers": 5} if field.endswith("containerSet") else 5
    got = messages(katib(example, **{f"{TRIAL_SPEC}.{field}": value}))
    listed = field + ".containers" if field.endswith("containerSet") else field
    where = f"{TRIAL_SPEC}.{listed}".replace(".2.", "[2].").replace(".0.", "[0].")
    assert got.get(where) == "expected a list, got 5", got
    assert PRIMARY not in got  # the containers are not all known: not told 'expected one of []'


def test_a_task_runs_steps_that_are_a_string_are_told_at_their_field() -> None:
    doc = katib("tekton_pipeline-run.yaml", **{f"{TRIAL_SPEC}.kind": "TaskRun", f"{TRIAL_SPEC}.spec": {"taskSpec": {"steps": "train"}}})
    assert messages(doc).get(f"{TRIAL_SPEC}.spec.taskSpec.steps") == "expected a list, got 'train'"


def test_the_command_line_exits_2_naming_the_field(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    from kfp_tune.cli import main

    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(katib("argo_argo-workflow.yaml", **{f"{TRIAL_SPEC}.spec.templates": 5})))
    assert main(["validate", str(path)]) == 2
    out = capsys.readouterr()
    assert "spec.trialTemplate.trialSpec.spec.templates: expected a list, got 5" in out.out + out.err
    assert "unexpected" not in out.out + out.err


# --- the containers written inline ----------------------------------------------------------


def test_argo_a_container_sets_containers_keep_their_names_and_junk_is_passed_over() -> None:
    container_set = {"name": "model-training", "containerSet": {"containers": [{"name": "train", "image": "python:3.12"}, "junk"]}}
    templates = {f"{TRIAL_SPEC}.spec.templates": [container_set], f"{TRIAL_SPEC}.spec.entrypoint": "model-training"}
    assert PRIMARY not in messages(katib("argo_argo-workflow.yaml", **templates, **{PRIMARY: "train"}))
    message = messages(katib("argo_argo-workflow.yaml", **templates, **{PRIMARY: "main"}))[PRIMARY]
    assert "expected one of ['train']" in message and message.endswith("got 'main'")


def test_tekton_a_pipeline_run_with_a_pipeline_ref_is_not_refused() -> None:
    doc = katib("tekton_pipeline-run.yaml", **{f"{TRIAL_SPEC}.spec": {"pipelineRef": {"name": "training"}}, PRIMARY: "step-train"})
    got = messages(doc)
    assert PRIMARY not in got and not any(path.startswith(f"{TRIAL_SPEC}.spec.") for path in got), got


def test_tekton_a_task_run_names_its_inline_steps_step_name() -> None:
    doc = katib("tekton_pipeline-run.yaml", **{f"{TRIAL_SPEC}.kind": "TaskRun", f"{TRIAL_SPEC}.spec": {"taskSpec": {"steps": [{"name": "train", "image": "python:3.12"}]}}, PRIMARY: "main"})
    message = messages(doc)[PRIMARY]
    assert message.startswith("Tekton") and "expected one of ['step-train']" in message and message.endswith("got 'main'")
