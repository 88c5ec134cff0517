"""Which pods of a distributed trial get what: the launcher's env (the store's place and
credentials) and ``gpus`` reach every replica that runs or does the training, not the first
replica type that names the primary container (a TFJob's parameter server got the env and the
GPU, the worker that reports got nothing); the Custom collector and kfp-tune's own collector go
only into the template of the primary pod (the one ``primaryPodLabels`` selects), as Katib's
pod webhook injects its collector there only; the Training Operator's MPIJob launcher keeps the
service account and token its operator gives it."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest
import yaml

from conftest import REPO, quadratic_experiment
from fake_kube import MPI_OPERATOR, TRAINING_OPERATOR, FakeKube, Script, validate
from kfp_tune.collectors.sidecar import CONTAINER_NAME
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


# --- collectors: in the primary pod's template only ---------------------------------------------------------


def custom_collector() -> dict[str, Any]:
    return {"collector": {"kind": "Custom", "customCollector": {"name": "my-collector", "image": "me/collector:1", "command": ["python3", "/collect.py"]}},
            "source": {"fileSystemPath": {"path": "/katib/mnist.log", "kind": "File"}}}


def init_names(manifest: dict[str, Any], replica: str) -> list[str]:
    return [c["name"] for c in template_of(manifest, replica)["spec"].get("initContainers") or []]


@pytest.mark.parametrize(("spec", "container", "pod_labels", "primary"), [
    (pytorchjob(Master=1, Worker=2), "pytorch", None, {"Master"}),  # the default job-role: master
    (pytorchjob(Worker=3), "pytorch", None, {"Worker"}),  # no Master: worker 0 is the master role
    (tfjob(PS=1, Worker=2), "tensorflow", None, {"Worker"}),
    (tfjob(Chief=1, Worker=2), "tensorflow", {"training.kubeflow.org/replica-type": "worker"}, {"Worker"}),  # Katib's TFJob example
    (mpijob("v2beta1"), "mpi-launcher", None, {"Launcher"}),
])
def test_the_custom_collector_runs_in_the_primary_pods_template_only(spec: dict[str, Any], container: str, pod_labels: dict[str, str] | None,
                                                                      primary: set[str]) -> None:
    """The user's container cannot tell a worker's pod from the primary one: beside every worker
    it reported each worker's metrics as the trial's. The trial's container in the other pods
    still gets the trial's env, and no shared folder."""
    manifest = render(spec, container, pod_labels, custom_collector())
    for replica in spec["spec"][trial_kind(spec).replica_specs]:
        pod = template_of(manifest, replica)["spec"]
        assert ("my-collector" in init_names(manifest, replica)) == (replica in primary), replica
        assert ("shareProcessNamespace" in pod) == (replica in primary), replica
        for trains in (c for c in pod["containers"] if c["name"] == container):
            assert ("volumeMounts" in trains) == (replica in primary), replica
            assert set(PLACE) <= set(env_names(trains)), replica


def test_kfp_tunes_collector_and_the_metrics_claim_go_to_the_primary_pods_template() -> None:
    """The File collector on the metrics claim: the claim is where the primary pod writes (it
    was mounted in the first replica type's container, a parameter server's), and the collector
    beside it."""
    collector = {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/logs/metrics.log", "kind": "File"}}}
    manifest = render(tfjob(PS=1, Worker=2), "tensorflow", collector=collector, metrics_claim="kfp-tune-metrics", metrics_mount="/mnt/metrics")
    assert init_names(manifest, "PS") == [] and init_names(manifest, "Worker") == [CONTAINER_NAME]
    assert "volumeMounts" not in container_of(manifest, "PS", "tensorflow")
    (mount,) = container_of(manifest, "Worker", "tensorflow")["volumeMounts"]
    assert mount == {"name": "kfp-tune-metrics", "mountPath": "/logs", "subPath": f"quad/{TRIAL}"}
    assert [v["name"] for v in template_of(manifest, "PS")["spec"].get("volumes") or []] == []


def test_a_label_only_the_cluster_knows_keeps_every_template() -> None:
    """primaryPodLabels that neither the operator nor a template sets (a mutating webhook's, or
    Katib's MPIJob example's mpi-job-role) cannot rule a template out here."""
    manifest = render(pytorchjob(Master=1, Worker=1), "pytorch", {"team.example.com/reporter": "yes"}, custom_collector())
    assert init_names(manifest, "Master") == init_names(manifest, "Worker") == ["my-collector"]


@pytest.mark.parametrize(("operators", "spec", "container"), [
    ((TRAINING_OPERATOR,), tfjob(PS=2, Worker=3), "tensorflow"),
    ((TRAINING_OPERATOR,), tfjob(Chief=1, PS=1, Worker=2), "tensorflow"),
    ((TRAINING_OPERATOR,), pytorchjob(Master=1, Worker=2), "pytorch"),
    ((TRAINING_OPERATOR,), pytorchjob(Worker=2), "pytorch"),
    ((TRAINING_OPERATOR,), {"apiVersion": "kubeflow.org/v1", "kind": "XGBoostJob", "spec": replicas("xgbReplicaSpecs", "xgboost", Master=1, Worker=2)}, "xgboost"),
    ((TRAINING_OPERATOR,), mpijob("v1"), "mpi-launcher"),
    ((TRAINING_OPERATOR, MPI_OPERATOR), mpijob("v2beta1"), "mpi-launcher"),
])
def test_the_predicted_pod_labels_are_those_the_operators_give(clusters: Any, operators: tuple[Any, ...], spec: dict[str, Any], container: str) -> None:
    """Each pod the (fake) operator makes carries, on every label the prediction knows the
    value of, that value; and a template is predicted to make the primary pod exactly when one
    of its pods carries the kind's default primaryPodLabels."""
    from kfp_tune.launchers.kubernetes.kinds import pod_labelling, primary_pod_templates

    kube: FakeKube = clusters(*operators)
    kube.script = lambda m: Script(run_seconds=30.0)
    manifest = copy.deepcopy(spec)
    manifest["metadata"] = {"name": TRIAL}
    kind = trial_kind(manifest)
    status, answer, _ = kube.handle("POST", f"/apis/kubeflow.org/{kind.version}/namespaces/team-a/{kind.plural}", manifest)
    assert status == 201, answer
    labelling = pod_labelling(manifest)
    assert labelling is not None
    pods = kube.stored("pods")
    assert pods
    default = experiment(spec, container).spec.trial_template.primary_pod_labels  # type: ignore[union-attr]
    made_primary = set()
    for pod in pods:
        labels = pod["metadata"]["labels"]
        fitting = [path for path, predicted in labelling.pods.items()
                   if any(all(labels.get(k) == v for k, v in p.items() if v is not None) and all(k in labels for k in p) for p in predicted)]
        assert len(fitting) == 1, (pod["metadata"]["name"], labels)
        assert all(key in labelling.keys or key in labels for key in labels if key.startswith("training.kubeflow.org/"))
        if all(labels.get(k) == v for k, v in default.items()):
            made_primary.add(fitting[0])
    assert primary_pod_templates(manifest, default) == made_primary and made_primary


# --- the Training Operator's MPIJob launcher: its operator's service account ------------------------------------


def test_katibs_mpijob_example_keeps_the_launchers_service_account_and_token() -> None:
    """The Training Operator's MPIJob launcher runs kubectl exec into the workers (and its
    kubectl-delivery init container waits for them) as the account the operator makes for it,
    ``<job>-launcher``; naming ``default`` made the operator bind its exec Role to the
    namespace's default account, and no token left the launcher unable to authenticate."""
    manifest = render_experiment(example("kubeflow-training-operator_mpijob-horovod.yaml"), service_accounts=("trainer",))
    launcher = template_of(manifest, "Launcher")["spec"]
    assert "serviceAccountName" not in launcher and "automountServiceAccountToken" not in launcher
    worker = template_of(manifest, "Worker")["spec"]
    assert (worker["serviceAccountName"], worker["automountServiceAccountToken"]) == ("trainer", False)


def test_a_launcher_that_names_an_account_must_name_an_allowed_one() -> None:
    spec = mpijob("v1")
    spec["spec"]["mpiReplicaSpecs"]["Launcher"]["template"]["spec"]["serviceAccountName"] = "mpi-launcher-sa"
    with pytest.raises(ValueError, match=r"spec\.mpiReplicaSpecs\.Launcher\.template\.spec\.serviceAccountName: 'mpi-launcher-sa' is not in the launcher's allowed"):
        render(spec, "mpi-launcher")
    manifest = render(spec, "mpi-launcher", service_accounts=("default", "mpi-launcher-sa"))
    assert template_of(manifest, "Launcher")["spec"]["serviceAccountName"] == "mpi-launcher-sa"
    assert "automountServiceAccountToken" not in template_of(manifest, "Launcher")["spec"]


def test_mpi_operator_v2s_launcher_gets_no_token() -> None:
    """mpi-operator v2 reaches its workers over SSH: its launcher needs no API token."""
    manifest = render(mpijob("v2beta1"), "mpi-launcher")
    for replica in ("Launcher", "Worker"):
        pod = template_of(manifest, replica)["spec"]
        assert (pod["serviceAccountName"], pod["automountServiceAccountToken"]) == ("default", False), replica
