"""A container that claims its devices through Dynamic Resource Allocation (its
``resources.claims``, naming one of the pod's ``resourceClaims``) already asks for its
accelerator: the launcher config's ``gpus`` adds no ``nvidia.com/gpu`` beside the claim (review
B, finding 4). With one added, a DRA-only cluster (NVIDIA's DRA driver, no device plugin) kept the
pod Pending on "Insufficient nvidia.com/gpu", and elsewhere the trial held two GPUs.

Pure: manifests are prepared with no cluster (``prepare_manifest``, what ``kfp-tune render``
prints through); one ``kfp-tune render`` of the QA's experiment shows the same end to end."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from kfp_tune.launchers.kubernetes.manifests import ClusterSettings, prepare_manifest

SETTINGS = ClusterSettings(namespace="team-a", gpus=1)

DRA_JOB: dict[str, Any] = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": "t-1"},
    "spec": {"template": {"spec": {
        "restartPolicy": "Never",
        "resourceClaims": [{"name": "gpu", "resourceClaimTemplateName": "single-gpu"}],
        "containers": [{"name": "training", "image": "nvcr.io/nvidia/pytorch:24.01-py3", "command": ["python3", "/opt/train.py"],
                        "resources": {"claims": [{"name": "gpu", "request": "gpu"}]}}],
    }}},
}


def containers_of(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return list(manifest["spec"]["template"]["spec"]["containers"])


def test_a_container_claiming_its_gpu_through_dra_gets_no_nvidia_gpu_beside_it():
    out = prepare_manifest(copy.deepcopy(DRA_JOB), "training", SETTINGS, {})
    assert containers_of(out)[0]["resources"] == {"claims": [{"name": "gpu", "request": "gpu"}]}
    assert out["spec"]["template"]["spec"]["resourceClaims"] == DRA_JOB["spec"]["template"]["spec"]["resourceClaims"]


def test_a_container_with_limits_beside_its_claim_keeps_them_as_they_are():
    job = copy.deepcopy(DRA_JOB)
    containers_of(job)[0]["resources"]["limits"] = {"cpu": "2", "memory": "8Gi"}
    out = prepare_manifest(job, "training", SETTINGS, {})
    assert containers_of(out)[0]["resources"] == {"claims": [{"name": "gpu", "request": "gpu"}], "limits": {"cpu": "2", "memory": "8Gi"}}


def test_an_empty_claims_list_is_no_claim():
    """``claims: []`` claims nothing: the container still gets the config's GPUs."""
    job = copy.deepcopy(DRA_JOB)
    containers_of(job)[0]["resources"] = {"claims": []}
    out = prepare_manifest(job, "training", SETTINGS, {})
    assert containers_of(out)[0]["resources"] == {"claims": [], "limits": {"nvidia.com/gpu": 1}}


def test_kfp_tune_render_of_the_qas_dra_job_with_gpus_adds_no_device_plugin_gpu(tmp_path: Path):
    experiment = {
        "apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "metadata": {"name": "job-dra"},
        "spec": {
            "parallelTrialCount": 1, "maxTrialCount": 1,
            "objective": {"type": "minimize", "objectiveMetricName": "loss"},
            "algorithm": {"algorithmName": "random"},
            "parameters": [{"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "0.05"}}],
            "trialTemplate": {
                "primaryContainerName": "training",
                "trialParameters": [{"name": "learningRate", "reference": "lr"}],
                "trialSpec": copy.deepcopy(DRA_JOB) | {"metadata": {}},
            },
        },
    }
    containers_of(experiment["spec"]["trialTemplate"]["trialSpec"])[0]["command"] = ["python3", "/opt/train.py", "--lr=${trialParameters.learningRate}"]
    path = tmp_path / "job-dra.yaml"
    path.write_text(yaml.safe_dump(experiment))
    done = subprocess.run(
        [sys.executable, "-m", "kfp_tune.cli", "render", str(path), "--launcher-config", json.dumps({"kind": "kubernetes", "gpus": 1})],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    rendered = [document for document in yaml.safe_load_all(done.stdout) if document and document.get("kind") == "Job"]
    assert len(rendered) == 1, done.stdout
    assert containers_of(rendered[0])[0]["resources"] == {"claims": [{"name": "gpu", "request": "gpu"}]}, done.stdout
