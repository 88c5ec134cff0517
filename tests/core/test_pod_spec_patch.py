"""An Argo ``podSpecPatch`` is refused wherever it is in a trialSpec (review B of session 31,
finding B1): Argo applies that text as a patch to every pod it makes, so a one-line
``{"hostNetwork": true, "containers": [{"name": "main", "securityContext": {"privileged": true}}]}``
gave a trial a privileged, host-network pod that no baseline check had read (the same settings
written as fields are refused). The patch may also be an Argo expression filled in at run time,
so it cannot be read before the run: it is refused at its field, saying why and what to write
instead. The other kinds' pod overrides (Tekton's ``podTemplate``, a TrainJob's
``runtimePatches``, a JobSet's or Training Operator job's pod templates) are structured fields,
and what the baseline forbids in them is refused where it is written."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import load_katib_example, merge, validation_errors
from kfp_tune.cli import main

TRIAL_SPEC = "spec.trialTemplate.trialSpec"
PATCH = json.dumps({"hostNetwork": True, "containers": [{"name": "main", "securityContext": {"privileged": True}}]})


def argo() -> dict[str, Any]:
    return load_katib_example("argo_argo-workflow.yaml")


def with_patch(where: str, patch: Any = PATCH) -> dict[str, Any]:
    """Katib's Argo example with ``podSpecPatch`` at ``where`` (a dotted path under trialSpec)."""
    return merge(argo(), {f"{TRIAL_SPEC}.{where}.podSpecPatch": patch})


def errors_of(doc: dict[str, Any]) -> dict[str, str]:
    return {e.path: e.message for e in validation_errors(doc)}


def test_katibs_argo_example_passes_as_it_is() -> None:
    assert errors_of(argo()) == {}


@pytest.mark.parametrize(
    "where",
    ["spec", "spec.templates.2", "spec.templateDefaults"],
    ids=["the Workflow's spec", "a template", "the templates' defaults"],
)
def test_a_pod_spec_patch_is_refused_at_its_field(where: str) -> None:
    got = errors_of(with_patch(where))
    field = f"{TRIAL_SPEC}.{where.replace('.2', '[2]')}.podSpecPatch"
    assert list(got) == [field], got
    message = got[field]
    assert message.startswith("podSpecPatch is refused: Argo applies it as a patch to every pod it makes"), message
    assert "kfp-tune cannot check" in message and "the Pod Security Standards' baseline" in message, message
    assert "write what it sets in the fields Argo reads" in message and "which are checked" in message, message


@pytest.mark.parametrize(
    "patch",
    ['{"containers":[{"name":"main","resources":{"limits":{"cpu":"2"}}}]}', "{{inputs.parameters.patch}}", "containers: [{name: main}]"],
    ids=["harmless JSON", "an Argo expression", "YAML"],
)
def test_every_patch_is_refused_whatever_it_says(patch: str) -> None:
    """Not only one that asks for the node: an expression is known only at run time, and no
    patch is read here, so none can be told safe."""
    assert f"{TRIAL_SPEC}.spec.podSpecPatch" in errors_of(with_patch("spec", patch))


def test_a_placeholder_patch_is_refused_too() -> None:
    doc = with_patch("spec", "${trialParameters.learningRate}")
    doc = merge(doc, {f"{TRIAL_SPEC}.spec.templates.2.container.args": ["--lr=0.1"]})
    assert f"{TRIAL_SPEC}.spec.podSpecPatch" in errors_of(doc)


@pytest.mark.parametrize("patch", ["", None], ids=["empty", "null"])
def test_an_empty_patch_patches_nothing_and_passes(patch: Any) -> None:
    assert errors_of(with_patch("spec", patch)) == {}


def test_the_same_settings_as_fields_are_refused_as_before() -> None:
    doc = merge(argo(), {f"{TRIAL_SPEC}.spec.hostNetwork": True, f"{TRIAL_SPEC}.spec.templates.2.container.securityContext": {"privileged": True}})
    got = errors_of(doc)
    assert f"{TRIAL_SPEC}.spec.hostNetwork" in got
    assert f"{TRIAL_SPEC}.spec.templates[2].container.securityContext.privileged" in got


def test_a_cron_workflow_of_yours_is_refused_the_same() -> None:
    """A kind kfp-tune does not know (Argo's CronWorkflow) holds Argo's Workflow spec: its
    podSpecPatch reaches every pod the same way."""
    workflow = argo()["spec"]["trialTemplate"]["trialSpec"]
    cron = {"apiVersion": "argoproj.io/v1alpha1", "kind": "CronWorkflow", "spec": {"schedule": "* * * * *", "workflowSpec": {**workflow["spec"], "podSpecPatch": PATCH}}}
    got = errors_of(merge(argo(), {TRIAL_SPEC: cron}))
    assert f"{TRIAL_SPEC}.spec.workflowSpec.podSpecPatch" in got, got


def test_validate_exits_2_naming_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "argo_patch.yaml"
    path.write_text(yaml.safe_dump(with_patch("spec")))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{TRIAL_SPEC}.spec.podSpecPatch: podSpecPatch is refused" in err, err
    assert "Traceback" not in err


def tekton_with_pod_template(pod_template: dict[str, Any]) -> dict[str, Any]:
    doc = load_katib_example("tekton_pipeline-run.yaml")
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["taskRunTemplate"] = {"podTemplate": pod_template}
    return doc


def trainjob_with_runtime_patch(pod_spec: dict[str, Any]) -> dict[str, Any]:
    doc = load_katib_example("kubeflow-trainer_trainjob-pytorch.yaml")
    patch = {"manager": "me", "trainingRuntimeSpec": {"template": {"spec": {"replicatedJobs": [{"name": "node", "template": {"spec": {"template": {"spec": pod_spec}}}}]}}}}
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["runtimePatches"] = [patch]
    return doc


def test_the_other_kinds_pod_overrides_are_fields_and_checked() -> None:
    """Tekton's podTemplate and a TrainJob's runtimePatches (Trainer v2.3's CRD, which has no
    podSpecOverrides or podTemplateOverrides any longer) are structured: what the baseline
    forbids in them is refused at its field, as in any pod template."""
    tekton = errors_of(tekton_with_pod_template({"hostNetwork": True}))
    assert f"{TRIAL_SPEC}.spec.taskRunTemplate.podTemplate.hostNetwork" in tekton, tekton
    privileged = {"containers": [{"name": "node", "securityContext": {"privileged": True}}], "volumes": [{"name": "n", "hostPath": {"path": "/"}}]}
    trainjob = errors_of(trainjob_with_runtime_patch(copy.deepcopy(privileged)))
    place = f"{TRIAL_SPEC}.spec.runtimePatches[0].trainingRuntimeSpec.template.spec.replicatedJobs[0].template.spec.template.spec"
    assert f"{place}.containers[0].securityContext.privileged" in trainjob, trainjob
    assert f"{place}.volumes[0].hostPath" in trainjob, trainjob
