"""A user's own kind named TrainJob (``example.com/v1``, its pod template showing the container
that trains) is any other kind to the launcher, as it is to validation since 1687c8c: ``kfp-tune
render`` and a run on the cluster refused a File or Custom collector on it with "a TrainJob's pods
come from its training runtime" after validate had passed it, the launcher deciding by the kind's
name alone where validation asks for Trainer's group too; and the TrainJob pod labels Katib's
webhook defaults by kind name selected none of its pods. Only Kubeflow Trainer's TrainJob
(``trainer.kubeflow.org``, :func:`kfp_tune.core.template.is_train_job`) is refused them."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from collector_sources import collector as collector_override
from conftest import merge, quadratic_experiment
from fake_kube import FakeKube, Resource
from kfp_tune.cli import main
from kfp_tune.collectors.sidecar import CONTAINER_NAME
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher
from pod_polls import after_polls

NAMESPACE = "team-a"
OWN_TRAIN_JOB = Resource("example.com", "v1", "ownjobs", "TrainJob")
"""The user's CRD (a plural of its own: the fake API server plays Trainer's controller for any
``trainjobs``)."""
TRAINER = {"name": "trainer", "image": "trainer:1", "command": ["python3", "/opt/train.py"], "args": ["--x=${trialParameters.x}", "--y=${trialParameters.y}"]}
METRICS_FILE = "/var/log/metrics.log"


def own_train_job_experiment(collector: str) -> dict[str, Any]:
    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["trialSpec"] = {
        "apiVersion": OWN_TRAIN_JOB.api_version,
        "kind": "TrainJob",
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [dict(TRAINER)]}}},
    }
    doc["spec"]["trialTemplate"]["primaryContainerName"] = "trainer"
    return merge(doc, collector_override(collector))


@pytest.mark.parametrize("collector", ["File", "Custom"])
def test_render_prepares_a_collector_in_the_pod_of_a_users_trainjob(collector: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(own_train_job_experiment(collector)))
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["render", str(path), "--namespace", NAMESPACE]) == 0, capsys.readouterr().err
    manifest = yaml.safe_load(capsys.readouterr().out)
    assert (manifest["apiVersion"], manifest["kind"]) == ("example.com/v1", "TrainJob")
    pod = manifest["spec"]["template"]["spec"]
    names = [c["name"] for c in pod.get("initContainers", []) + pod["containers"]]
    assert (CONTAINER_NAME if collector == "File" else "reporter") in names and "trainer" in names


def test_a_users_trainjob_runs_on_the_cluster_with_a_file_collector(clusters: Callable[..., FakeKube], tmp_path: Path) -> None:
    """The user's operator makes a Job and its pod from the template (no Trainer label on it);
    the trial's metrics file lands on the shared metrics volume; the resource ends Complete, the
    condition Katib's webhook defaults for a kind named TrainJob."""
    kube = clusters((OWN_TRAIN_JOB,))
    shared = tmp_path / "pvc"

    def control(namespace: str, run: dict[str, Any]) -> None:
        template = copy.deepcopy(run["spec"]["template"])
        (mount,) = [m for m in template["spec"]["containers"][0]["volumeMounts"] if m["name"] == "kfp-tune-metrics"]
        (shared / mount["subPath"]).mkdir(parents=True)
        (shared / mount["subPath"] / "metrics.log").write_text("loss=0.25\n")
        name = run["metadata"]["name"]
        job = kube.put({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": f"{name}-job", "ownerReferences": [
            {"apiVersion": run["apiVersion"], "kind": run["kind"], "name": name, "uid": run["metadata"]["uid"], "controller": True}]},
            "spec": {"template": template}}, namespace)
        kube.run_pod(namespace, job, f"{name}-0", template, {"example.com/job": name}, log=("training",), printer="trainer")

    kube.controllers[OWN_TRAIN_JOB.plural] = control
    complete = {"conditions": [{"type": "Complete", "status": "True"}]}
    launcher = KubernetesLauncher(
        KubernetesConfig(namespace=NAMESPACE, poll_seconds=0.0, api_retry_seconds=5.0, metrics_claim="tuning-metrics", metrics_mount=str(shared)),
        api_client=kube.api_client(), env={"KFP_TUNE_STORE": "s3://bucket/tuning"},
        sleep=after_polls(lambda: kube.set_status(OWN_TRAIN_JOB.plural, NAMESPACE, "own-trial-1", complete)),
    )
    experiment = load_experiment(own_train_job_experiment("File"))
    assert experiment.spec.trial_template is not None and not experiment.spec.trial_template.primary_pod_labels  # not Trainer's
    trial = TrialState(name="own-trial-1", index=0, round="run-1-r000", assignment={"x": "0.1", "y": "0.2"}, created="")
    outcome = launcher.run(trial_run(experiment, trial, NAMESPACE))
    assert (outcome.phase, outcome.files) == ("Succeeded", {"metrics.log": b"loss=0.25\n"}), outcome.message
    (created,) = [c.body for c in kube.calls_to("POST", OWN_TRAIN_JOB.plural)]
    assert {"name": "kfp-tune-metrics", "persistentVolumeClaim": {"claimName": "tuning-metrics"}} in created["spec"]["template"]["spec"]["volumes"]
