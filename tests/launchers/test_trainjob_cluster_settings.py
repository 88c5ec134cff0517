"""What the Kubernetes launcher config gives a TrainJob trial's pods (QA gpu, finding 3): a TrainJob
has no pod template of its own, so its ``nodeSelector``, ``tolerations``, service account and pod
labels were dropped while ``gpus`` reached ``trainer.resourcesPerNode``, and the pods asked for a
GPU without tolerating the GPU nodes' taint. They now go in a ``runtimePatches`` entry of
kfp-tune's own (Trainer v2.3's field: its CRD schema, tests/data/schemas, has no
podTemplateOverrides), for the replicated job ``node`` (the trainer's, in every runtime Trainer
ships) and every replicated job the template's own patches name, and what those patches set
wins, as a pod template's own settings do.

Pure: manifests are rendered with no cluster and checked against Trainer v2.3.0's CRD schema."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from conftest import load_katib_example
from fake_kube import schema_errors
from kfp_tune.core.loading import load_experiment
from kfp_tune.launchers.kubernetes import KubernetesConfig, render_manifest
from kfp_tune.launchers.kubernetes.manifests import RUNTIME_PATCH_MANAGER

GPU_TAINT = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
CONFIG = {"namespace": "team-a", "gpus": 1, "nodeSelector": {"pool": "gpu"}, "tolerations": [GPU_TAINT], "serviceAccounts": ["trainer", "builder"]}
TRIAL_LABEL = "kfp-tune.kubeflow.org/trial"


def trainjob_experiment(*patches: dict[str, Any]) -> dict[str, Any]:
    doc = load_katib_example("kubeflow-trainer_trainjob-pytorch.yaml")
    doc["metadata"]["labels"] = {"team": "ml"}
    if patches:
        doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["runtimePatches"] = [copy.deepcopy(p) for p in patches]
    return doc


def user_patch(job: str, pod_spec: dict[str, Any] | None = None, manager: str = "example.com/me") -> dict[str, Any]:
    template: dict[str, Any] = {"spec": pod_spec} if pod_spec is not None else {}
    return {"manager": manager, "trainingRuntimeSpec": {"template": {"spec": {"replicatedJobs": [{"name": job, "template": {"spec": {"template": template}}}]}}}}


def render(doc: dict[str, Any], **config: Any) -> dict[str, Any]:
    return render_manifest(load_experiment(doc), config=KubernetesConfig.from_dict({**CONFIG, **config}))


def kfp_tune_patch(manifest: dict[str, Any]) -> dict[str, Any]:
    """The replicated jobs of kfp-tune's own runtime patch, by name."""
    ours = [p for p in manifest["spec"].get("runtimePatches") or [] if p["manager"] == RUNTIME_PATCH_MANAGER]
    assert len(ours) == 1, manifest["spec"].get("runtimePatches")
    jobs = ours[0]["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"]
    return {job["name"]: job["template"]["spec"]["template"] for job in jobs}


def test_the_trainer_pods_get_the_node_selector_tolerations_account_and_labels_gpus_gets():
    manifest = render(trainjob_experiment())
    assert manifest["spec"]["trainer"]["resourcesPerNode"] == {"limits": {"nvidia.com/gpu": 1}}
    node = kfp_tune_patch(manifest)["node"]
    assert node["spec"] == {"serviceAccountName": "trainer", "nodeSelector": {"pool": "gpu"}, "tolerations": [GPU_TAINT]}
    labels = node["metadata"]["labels"]
    assert labels["team"] == "ml" and labels[TRIAL_LABEL] == manifest["metadata"]["labels"][TRIAL_LABEL]
    assert schema_errors(manifest) == []


def test_the_patch_is_sent_whatever_the_config_sets():
    """The first allowed account and the labels go to every TrainJob, as to every pod template."""
    manifest = render(trainjob_experiment(), gpus=0, nodeSelector=None, tolerations=None, serviceAccounts=None)
    node = kfp_tune_patch(manifest)["node"]
    assert node["spec"] == {"serviceAccountName": "default"}
    assert TRIAL_LABEL in node["metadata"]["labels"]
    assert schema_errors(manifest) == []


def test_the_templates_own_patch_wins_and_keeps_its_place_before_kfp_tunes():
    own = user_patch("node", {"nodeSelector": {"zone": "a"}, "tolerations": [{"key": "spot", "operator": "Exists"}], "serviceAccountName": "builder"})
    manifest = render(trainjob_experiment(own))
    patches = manifest["spec"]["runtimePatches"]
    assert patches[0] == own and patches[-1]["manager"] == RUNTIME_PATCH_MANAGER
    node = kfp_tune_patch(manifest)["node"]
    assert "spec" not in node  # the template set all three: kfp-tune's patch adds only the labels
    assert TRIAL_LABEL in node["metadata"]["labels"]
    assert schema_errors(manifest) == []


def test_a_replicated_job_the_templates_patches_name_gets_the_settings_too():
    """An MPI runtime's launcher (DeepSpeed, MLX) asks for the trainer's GPUs too: a patch naming
    it, even an empty one, shows it is in the runtime (Trainer refuses a patch of a job it lacks)."""
    manifest = render(trainjob_experiment(user_patch("launcher")))
    jobs = kfp_tune_patch(manifest)
    assert list(jobs) == ["node", "launcher"]
    assert jobs["launcher"]["spec"]["tolerations"] == [GPU_TAINT]
    assert schema_errors(manifest) == []


def test_a_service_account_not_allowed_in_the_templates_patch_is_refused_at_its_field():
    doc = trainjob_experiment(user_patch("node", {"serviceAccountName": "admin"}))
    with pytest.raises(ValueError) as refused:
        render(doc)
    place = "spec.runtimePatches[0].trainingRuntimeSpec.template.spec.replicatedJobs[0].template.spec.template.spec.serviceAccountName"
    assert place in str(refused.value) and "'admin'" in str(refused.value) and "trainer" in str(refused.value)


def test_a_templates_patch_under_kfp_tunes_manager_is_refused():
    doc = trainjob_experiment(user_patch("node", {"nodeSelector": {"zone": "a"}}, manager=RUNTIME_PATCH_MANAGER))
    with pytest.raises(ValueError, match=r"spec\.runtimePatches\[0\]\.manager"):
        render(doc)


def test_a_template_with_trainers_limit_of_patches_is_refused_naming_it():
    doc = trainjob_experiment(*(user_patch("node", manager=f"example.com/m{i}") for i in range(16)))
    with pytest.raises(ValueError, match=r"spec\.runtimePatches: .*16"):
        render(doc)
