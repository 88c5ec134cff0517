"""The baseline check of a trial's manifest and the collector the Kubernetes launcher reads for
a trial, where the tests before left a changed line unnoticed (mutation pass, session 31: tpl-02,
tpl-04, tpl-06, tpl-09, lau-03, lau-04): a selector's matchLabels are text, as labels are; what
is not text in a label map is still read; an empty ``podSpecPatch:`` (YAML null) in a ConfigMap
template, which no validation strips, patches nothing; a podSpecPatch that is a mapping is
refused as text is; and a trial with a metrics path but no collector kind named is a File
trial to the launcher too."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from conftest import load_katib_example, merge, validation_errors
from kfp_tune.core.interfaces import TrialRun
from kfp_tune.core.template import unsafe_settings
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher
from kfp_tune.launchers.kubernetes import launcher as launcher_module
from kfp_tune.launchers.kubernetes.manifests import ClusterSettings, prepare_manifest

CONTAINER = {"image": "python:3.11-slim", "command": ["python3", "/opt/train.py"], "args": ["--lr=0.1"]}
KIND_FIELD = "spec.metricsCollectorSpec.collector.kind"


def workflow() -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {},
        "spec": {"entrypoint": "fit", "templates": [{"name": "fit", "container": copy.deepcopy(CONTAINER)}]},
    }


def job() -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "t-1"},
            "spec": {"template": {"spec": {"containers": [{"name": "main", **copy.deepcopy(CONTAINER)}], "restartPolicy": "Never"}}}}


def prepare(manifest: dict[str, Any], **trial: Any) -> dict[str, Any]:
    run = TrialRun("exp", "trial-1", manifest, {}, "main", **{"metrics_collector": {"collector": {"kind": "StdOut"}}, **trial})
    config = KubernetesConfig(namespace="team-a", service_accounts=("trainer",))
    return KubernetesLauncher(config, env={"KFP_TUNE_STORE": "s3://bucket/tuning"}).prepare(run)


# --- text maps -------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["hostPort", "privileged", "hostPath", "procMount"])
def test_match_labels_named_like_a_setting_refuse_nothing(key: str) -> None:
    """A selector's matchLabels are text matched against labels, as a label map is: a key named
    after a setting sets nothing."""
    manifest = job()
    manifest["spec"]["manualSelector"] = True
    manifest["spec"]["selector"] = {"matchLabels": {key: "8080"}}
    manifest["spec"]["template"]["metadata"] = {"labels": {key: "8080"}}
    assert unsafe_settings(manifest) == []
    out = prepare_manifest(manifest, "main", ClusterSettings(namespace="team-a"), {})
    assert out["spec"]["selector"]["matchLabels"] == {key: "8080"}


@pytest.mark.parametrize("text_map", ["labels", "matchLabels", "nodeSelector"])
def test_what_is_not_text_in_a_label_map_is_still_read(text_map: str) -> None:
    """A label map holding a mapping (a malformed manifest, or one crafted to slip past the
    check) is read as any other field: a hostPath in it is refused, and the text beside it is not."""
    problems = unsafe_settings({"metadata": {text_map: {"hostPort": "8080", "x": {"hostPath": {"path": "/"}}}}})
    assert [p.path for p in problems] == [f"metadata.{text_map}.x.hostPath"]


# --- podSpecPatch ----------------------------------------------------------------------------


def test_an_empty_pod_spec_patch_in_a_config_map_template_patches_nothing_and_is_taken() -> None:
    """``podSpecPatch:`` with nothing after it, as a ConfigMap-held template may have it, reaches
    the launcher as None (no validation strips the nulls there): it patches nothing."""
    assert unsafe_settings({"spec": {"podSpecPatch": None}}) == []
    manifest = workflow()
    manifest["spec"]["podSpecPatch"] = None
    manifest["spec"]["templates"][0]["podSpecPatch"] = ""
    out = prepare(manifest)
    assert out["metadata"]["namespace"] == "team-a"


def test_a_pod_spec_patch_that_is_a_mapping_is_refused_as_text_is() -> None:
    """A patch written as a mapping (kept by Argo's CRDs, which keep unknown fields) is refused
    at its field whatever it holds: no check here reads a patch."""
    patch = {"containers": [{"name": "main"}]}
    doc = merge(load_katib_example("argo_argo-workflow.yaml"), {"spec.trialTemplate.trialSpec.spec.podSpecPatch": patch})
    errors = {e.path: e.message for e in validation_errors(doc)}
    assert errors["spec.trialTemplate.trialSpec.spec.podSpecPatch"].startswith("podSpecPatch is refused"), errors
    manifest = workflow()
    manifest["spec"]["podSpecPatch"] = patch
    with pytest.raises(ValueError, match=r"^spec\.podSpecPatch: podSpecPatch is refused"):
        prepare(manifest)


# --- the collector of a trial with a metrics path and no kind named --------------------------


def file_trial(manifest: dict[str, Any]) -> TrialRun:
    """A trial whose metricsCollectorSpec names no kind but whose metrics path is a file: File, by the one rule."""
    return TrialRun("exp", "trial-1", manifest, {}, "main", metrics_collector={}, metrics_path="/m/out.txt", metrics_path_kind="File")


def test_a_run_time_kind_with_a_metrics_path_and_no_kind_named_is_refused_as_file() -> None:
    config = KubernetesConfig(namespace="team-a", service_accounts=("trainer",))
    with pytest.raises(ValueError) as info:
        KubernetesLauncher(config, env={"KFP_TUNE_STORE": "s3://bucket/tuning"}).prepare(file_trial(workflow()))
    assert str(info.value).startswith(f"{KIND_FIELD}: File cannot collect the metrics of a trial of kind Workflow"), info.value


def test_the_log_of_a_file_trial_is_not_followed_as_its_metrics() -> None:
    """A File trial's metrics come from its file; its pod log is not read as metrics (a StdOut
    trial's is)."""
    assert launcher_module._FollowedLog(file_trial(job())).follows is False
    stdout = TrialRun("exp", "trial-1", job(), {}, "main", metrics_collector={})
    assert launcher_module._FollowedLog(stdout).follows is True
