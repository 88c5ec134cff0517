"""Which pods of a distributed trial get what: the launcher's env (the store's place and
credentials) and ``gpus`` reach every replica that runs or does the training, not the first
replica type that names the primary container (a TFJob's parameter server got the env and the
GPU, the worker that reports got nothing)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import yaml

from conftest import REPO, quadratic_experiment
from fake_kube import TRAINING_OPERATOR, FakeKube, Script, validate
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher, render_manifest
from kfp_tune.launchers.kubernetes.kinds import pod_templates, trial_kind

EXAMPLES = REPO / "tests" / "data" / "katib-examples"
TRIAL = "dist-abcd1234"
TRAIN = {"image": "trainer:1", "command": ["python3", "/opt/train.py"], "args": ["--x=${trialParameters.x}"]}
PLACE = ("KFP_TUNE_STORE", "KFP_TUNE_EXPERIMENT", "KFP_TUNE_TRIAL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


def replicas(field: str, container: str, **counts: int) -> dict[str, Any]:
    return {field: {name: {"replicas": n, "restartPolicy": "Never", "template": {"spec": {"containers": [{"name": container, **TRAIN}]}}}
                    for name, n in counts.items()}}


def tfjob(**counts: int) -> dict[str, Any]:
    return {"apiVersion": "kubeflow.org/v1", "kind": "TFJob", "spec": replicas("tfReplicaSpecs", "tensorflow", **counts)}


def pytorchjob(**counts: int) -> dict[str, Any]:
    return {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "spec": replicas("pytorchReplicaSpecs", "pytorch", **counts)}


def mpijob(version: str, **spec: Any) -> dict[str, Any]:
    """Katib's MPIJob example's shape: the launcher runs mpirun in ``mpi-launcher``, the workers
    run ``mpi-worker``."""
    launcher = {"replicas": 1, "template": {"spec": {"containers": [{"name": "mpi-launcher", **TRAIN}]}}}
    worker = {"replicas": 2, "template": {"spec": {"containers": [{"name": "sidecar", "image": "s:1"}, {"name": "mpi-worker", "image": "w:1"}]}}}
    return {"apiVersion": f"kubeflow.org/{version}", "kind": "MPIJob", "spec": {**spec, "mpiReplicaSpecs": {"Launcher": launcher, "Worker": worker}}}


def experiment(trial_spec: dict[str, Any], container: str, pod_labels: dict[str, str] | None = None, collector: dict[str, Any] | None = None) -> Any:
    doc = quadratic_experiment()
    doc["spec"]["parameters"] = doc["spec"]["parameters"][:1]
    template = doc["spec"]["trialTemplate"]
    template["trialParameters"] = template["trialParameters"][:1]
    template["trialSpec"], template["primaryContainerName"] = trial_spec, container
    if pod_labels:
        template["primaryPodLabels"] = pod_labels
    if collector:
        doc["spec"]["metricsCollectorSpec"] = collector
    return load_experiment(doc)


def render(trial_spec: dict[str, Any], container: str, pod_labels: dict[str, str] | None = None, collector: dict[str, Any] | None = None,
           **config: Any) -> dict[str, Any]:
    return render_experiment(experiment(trial_spec, container, pod_labels, collector), {"x": "0.5"}, **config)


def render_experiment(loaded: Any, assignment: dict[str, str] | None = None, **config: Any) -> dict[str, Any]:
    settings = {"namespace": "team-a", "store_secret": "store-creds", **config}
    manifest = render_manifest(loaded, assignment, TRIAL, KubernetesConfig(**settings), env={"KFP_TUNE_STORE": "s3://bucket/tuning"})
    validate(manifest)  # the operator's CRD schema (or Kubernetes' Job) takes it
    return manifest


def example(name: str) -> Any:
    return load_experiment(yaml.safe_load((EXAMPLES / name).read_text()))


def template_of(manifest: dict[str, Any], replica: str) -> dict[str, Any]:
    kind = trial_kind(manifest)
    return dict(pod_templates(manifest))[f"spec.{kind.replica_specs}.{replica}.template"]


def container_of(manifest: dict[str, Any], replica: str, name: str) -> dict[str, Any]:
    return next(c for c in template_of(manifest, replica)["spec"]["containers"] if c["name"] == name)


def env_names(container: dict[str, Any]) -> list[str]:
    return [e["name"] for e in container.get("env") or []]


def gpus_of(container: dict[str, Any]) -> Any:
    return ((container.get("resources") or {}).get("limits") or {}).get("nvidia.com/gpu")


# --- the env: every pod's primary container, as Katib's webhook gives it (mutatePodEnv) -----------------------


def test_every_pod_that_runs_the_primary_container_gets_the_trials_place(clusters: Any) -> None:
    """A TFJob with a parameter server and two workers, reporting with Push: worker 0, the
    master role's pod (the primary pod), must get the trial's place in the store; the parameter
    server's pod (its template first) got it alone."""
    kube: FakeKube = clusters(TRAINING_OPERATOR)
    kube.script = lambda m: Script(run_seconds=0.05, log=[(0.0, "loss=0.25")])
    launcher = KubernetesLauncher(KubernetesConfig(namespace="team-a", poll_seconds=0.02, store_secret="store-creds"), api_client=kube.api_client(),
                                  env={"KFP_TUNE_STORE": "s3://bucket/tuning"})
    trial = trial_run(experiment(tfjob(PS=1, Worker=2), "tensorflow", collector={"collector": {"kind": "Push"}}),
                      TrialState(name=TRIAL, index=0, round="r0", assignment={"x": "0.5"}, created=""))
    assert launcher.run(dataclasses.replace(trial, retain=True)).phase == "Succeeded"
    pods = {p["metadata"]["name"]: p for p in kube.stored("pods")}
    assert sorted(pods) == [f"{TRIAL}-ps-0", f"{TRIAL}-worker-0", f"{TRIAL}-worker-1"]
    for pod in pods.values():
        env = {e["name"]: e for e in pod["spec"]["containers"][0]["env"]}
        assert set(PLACE) <= set(env), pod["metadata"]["name"]
        assert env["KFP_TUNE_TRIAL"]["value"] == TRIAL
        assert env["AWS_SECRET_ACCESS_KEY"] == {"name": "AWS_SECRET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {"name": "store-creds", "key": "secretkey"}}}
    assert pods[f"{TRIAL}-worker-0"]["metadata"]["labels"]["training.kubeflow.org/job-role"] == "master"


def test_a_container_of_another_name_gets_no_env() -> None:
    """As in Katib, the env goes to the container named primaryContainerName, in each pod that
    has one: an MPIJob's workers (``mpi-worker``) get none; mpirun passes what they need on."""
    manifest = render(mpijob("v1"), "mpi-launcher", collector={"collector": {"kind": "Push"}})
    assert set(PLACE) <= set(env_names(container_of(manifest, "Launcher", "mpi-launcher")))
    assert [env_names(c) for c in template_of(manifest, "Worker")["spec"]["containers"]] == [[], []]


# --- gpus: per pod that trains ---------------------------------------------------------------------------------


def test_gpus_go_to_every_replica_of_a_pytorchjob() -> None:
    """Katib's PyTorchJob example: the master and each worker train (DDP), each on its GPU."""
    manifest = render_experiment(example("kubeflow-training-operator_pytorchjob-mnist.yaml"), gpus=1)
    for replica in ("Master", "Worker"):
        assert gpus_of(container_of(manifest, replica, "pytorch")) == 1, replica


def test_a_tfjobs_parameter_servers_get_no_gpu() -> None:
    manifest = render(tfjob(PS=1, Chief=1, Worker=2), "tensorflow", gpus=2)
    assert gpus_of(container_of(manifest, "PS", "tensorflow")) is None
    assert [gpus_of(container_of(manifest, r, "tensorflow")) for r in ("Chief", "Worker")] == [2, 2]


@pytest.mark.parametrize("version", ["v1", "v2beta1"])
def test_an_mpijobs_gpus_go_to_its_workers_not_its_launcher(version: str) -> None:
    """Both MPI operators hide a launcher's GPUs (NVIDIA_VISIBLE_DEVICES empty) unless it also
    runs ranks; the Training Operator's would make a launcher with a GPU a host of the job. The
    workers' first container does the training, as both operators take it."""
    manifest = render(mpijob(version), "mpi-launcher", gpus=1)
    assert gpus_of(container_of(manifest, "Launcher", "mpi-launcher")) is None
    assert [gpus_of(c) for c in template_of(manifest, "Worker")["spec"]["containers"]] == [1, None]


def test_an_mpijobs_main_container_and_a_launcher_that_runs_ranks_get_gpus() -> None:
    v1 = render(mpijob("v1", mainContainer="mpi-worker"), "mpi-launcher", gpus=1)
    assert [gpus_of(c) for c in template_of(v1, "Worker")["spec"]["containers"]] == [None, 1]
    v2 = render(mpijob("v2beta1", runLauncherAsWorker=True), "mpi-launcher", gpus=1)
    assert gpus_of(container_of(v2, "Launcher", "mpi-launcher")) == 1


def test_a_replica_that_asks_for_gpus_itself_keeps_its_own() -> None:
    """A request alone counts as asking: Kubernetes takes a GPU request only equal to its limit."""
    spec = pytorchjob(Master=1, Worker=2)
    replicas_ = spec["spec"]["pytorchReplicaSpecs"]
    replicas_["Master"]["template"]["spec"]["containers"][0]["resources"] = {"requests": {"nvidia.com/gpu": 2}, "limits": {"nvidia.com/gpu": 2}}
    replicas_["Worker"]["template"]["spec"]["containers"][0]["resources"] = {"requests": {"nvidia.com/gpu": 4}}
    manifest = render(spec, "pytorch", gpus=1)
    assert container_of(manifest, "Master", "pytorch")["resources"] == {"requests": {"nvidia.com/gpu": 2}, "limits": {"nvidia.com/gpu": 2}}
    assert container_of(manifest, "Worker", "pytorch")["resources"] == {"requests": {"nvidia.com/gpu": 4}}
