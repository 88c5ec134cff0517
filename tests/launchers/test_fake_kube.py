"""The fake API server (tests/support/fake_kube.py) answers as a real one where the Kubernetes
launcher depends on it; if it drifted back to the launcher's own assumptions, the launcher's
tests would stop catching what they claim. Through the real ``kubernetes`` client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from fake_kube import MPI_OPERATOR, TRAINER, TRAINING_OPERATOR, FakeKube, parse_selector, selector_matches, serve

NS = "team-a"


@pytest.fixture
def cluster() -> Iterator[FakeKube]:
    fake, server = serve(TRAINING_OPERATOR, TRAINER)
    yield fake
    server.shutdown()
    server.server_close()


def _status(call) -> tuple[int, str]:
    try:
        call()
    except ApiException as exc:
        return int(exc.status), str(exc.body)
    return 200, ""


def _job(name: str = "trial-1", **pod_meta) -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": {"metadata": pod_meta, "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "python:3.11-slim"}]}}}}


def _pytorch(name: str = "trial-1", workers: int = 2) -> dict:
    container = [{"name": "pytorch", "image": "trainer:1"}]
    return {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": {"name": name}, "spec": {"pytorchReplicaSpecs": {
        "Master": {"replicas": 1, "template": {"spec": {"containers": container}}},
        "Worker": {"replicas": workers, "template": {"spec": {"containers": container}}}}}}


def test_only_installed_resources_are_served(cluster):
    custom = client.CustomObjectsApi(cluster.api_client())
    assert _status(lambda: custom.list_namespaced_custom_object("kubeflow.org", "v1", NS, "mpijobs"))[0] == 200
    assert _status(lambda: custom.list_namespaced_custom_object("kubeflow.org", "v2beta1", NS, "mpijobs"))[0] == 404
    assert _status(lambda: custom.list_namespaced_custom_object("example.org", "v1", NS, "widgets"))[0] == 404
    cluster.install(*MPI_OPERATOR)  # mpi-operator's CRD replaces the Training Operator's mpijobs
    assert _status(lambda: custom.list_namespaced_custom_object("kubeflow.org", "v1", NS, "mpijobs")) == (404, _status_body("the server could not find the requested resource"))
    assert _status(lambda: custom.list_namespaced_custom_object("kubeflow.org", "v2beta1", NS, "mpijobs"))[0] == 200
    assert _status(lambda: custom.list_namespaced_custom_object("kubeflow.org", "v1", NS, "pytorchjobs"))[0] == 200


def _status_body(message: str) -> str:
    import json

    return json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": "NotFound", "code": 404})


@pytest.mark.parametrize("selector", ["a b", "=x", "k=v w", "k in (a", "-k=v", "k=" + "x" * 64, "k=v,,j=w", "example..org/k=v"])
def test_a_malformed_label_selector_answers_400(cluster, selector):
    core = client.CoreV1Api(cluster.api_client())
    assert _status(lambda: core.list_namespaced_pod(NS, label_selector=selector))[0] == 400


@pytest.mark.parametrize(("selector", "matches"), [
    ("", True), ("role=master", True), ("role==master", True), ("role!=master", False), ("role in (master,worker)", True),
    ("role notin (master)", False), ("role", True), ("!role", False), ("job-name=t,role=worker", False), ("absent!=x", True),
])
def test_label_selectors_match_as_the_api_server_does(selector, matches):
    assert selector_matches(parse_selector(selector), {"role": "master", "job-name": "t"}) is matches


def test_a_log_read_without_a_container_answers_400_when_the_pod_has_several(cluster):
    batch, core = client.BatchV1Api(cluster.api_client()), client.CoreV1Api(cluster.api_client())
    batch.create_namespaced_job(NS, _job("meshed"))
    batch.create_namespaced_job(NS, _job("alone", annotations={"sidecar.istio.io/inject": "false"}))
    meshed, alone = (core.list_namespaced_pod(NS, label_selector=f"job-name={n}").items[0] for n in ("meshed", "alone"))
    assert [c.name for c in meshed.spec.containers] == ["main", "istio-proxy"]
    status, body = _status(lambda: core.read_namespaced_pod_log(meshed.metadata.name, NS))
    assert status == 400 and f"a container name must be specified for pod {meshed.metadata.name}, choose one of: [main istio-proxy]" in body
    assert _status(lambda: core.read_namespaced_pod_log(meshed.metadata.name, NS, container="main"))[0] == 200
    assert _status(lambda: core.read_namespaced_pod_log(meshed.metadata.name, NS, container="nope"))[0] == 400
    assert _status(lambda: core.read_namespaced_pod_log(alone.metadata.name, NS))[0] == 200


def test_deleting_a_job_orphans_its_pods_unless_the_propagation_policy_says_otherwise(cluster):
    batch, core = client.BatchV1Api(cluster.api_client()), client.CoreV1Api(cluster.api_client())
    for name in ("orphaning", "background", "foreground"):
        batch.create_namespaced_job(NS, _job(name))
    batch.delete_namespaced_job("orphaning", NS)
    batch.delete_namespaced_job("background", NS, propagation_policy="Background")
    batch.delete_namespaced_job("foreground", NS, propagation_policy="Foreground")
    left = core.list_namespaced_pod(NS).items
    assert [p.metadata.labels["job-name"] for p in left] == ["orphaning"] and left[0].metadata.owner_references is None
    assert _status(lambda: batch.delete_namespaced_job("x", NS, propagation_policy="Sometimes"))[0] == 422


def test_deleting_an_operator_kind_takes_its_pods_by_default(cluster):
    custom, core = client.CustomObjectsApi(cluster.api_client()), client.CoreV1Api(cluster.api_client())
    custom.create_namespaced_custom_object("kubeflow.org", "v1", NS, "pytorchjobs", _pytorch())
    assert len(core.list_namespaced_pod(NS).items) == 3
    custom.delete_namespaced_custom_object("kubeflow.org", "v1", NS, "pytorchjobs", "trial-1")
    assert core.list_namespaced_pod(NS).items == []


def test_an_object_whose_owner_is_gone_is_collected(cluster):
    core = client.CoreV1Api(cluster.api_client())
    owner = {"apiVersion": "v1", "kind": "ConfigMap", "name": "anchor", "uid": "no-such-uid"}
    core.create_namespaced_config_map(NS, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dependent", "ownerReferences": [owner]}})
    assert core.list_namespaced_config_map(NS).items == []


@pytest.mark.parametrize(("change", "status", "says"), [
    (lambda m: m["metadata"].update(name="Trial_1"), 422, "metadata.name"),
    (lambda m: m["metadata"].update(name="1trial"), 422, "DNS-1035"),  # the Training Operator's webhook
    (lambda m: m["metadata"].update(labels={"tier": "not a value"}), 422, "label value"),
    (lambda m: m["metadata"].update(labels={"-tier": "x"}), 422, "name part"),
    (lambda m: m["metadata"].update(annotations={"a/b/c": "x"}), 422, "annotations"),
    (lambda m: m["metadata"].update(namespace="team-b"), 400, "does not match the namespace"),
    (lambda m: m.update(kind="TFJob"), 400, "do not match"),
    (lambda m: m["spec"]["pytorchReplicaSpecs"]["Master"].update(replicas="one"), 422, "replicas"),
    (lambda m: m["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"].update(contianers=[]), 422, "contianers"),
    (lambda m: m["spec"]["pytorchReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0].update(name="train"), 422, "container with name pytorch"),
    (lambda m: m["metadata"].update(ownerReferences=[{"apiVersion": "v1", "kind": "ConfigMap", "name": "a"}]), 422, "uid"),
])
def test_bodies_the_api_server_or_the_operator_refuses(cluster, change, status, says):
    custom = client.CustomObjectsApi(cluster.api_client())
    body = _pytorch()
    change(body)
    got, message = _status(lambda: custom.create_namespaced_custom_object("kubeflow.org", "v1", NS, "pytorchjobs", body))
    assert got == status and says in message
    assert cluster.stored("pytorchjobs") == []


def _pods(cluster: FakeKube) -> dict[str, dict[str, str]]:
    return {p["metadata"]["name"]: p["metadata"]["labels"] for p in cluster.stored("pods")}


def test_the_training_operator_makes_a_labelled_pod_per_replica(cluster):
    custom = client.CustomObjectsApi(cluster.api_client())
    custom.create_namespaced_custom_object("kubeflow.org", "v1", NS, "pytorchjobs", _pytorch("pt"))
    tf = {"apiVersion": "kubeflow.org/v1", "kind": "TFJob", "metadata": {"name": "tf"}, "spec": {"tfReplicaSpecs": {
        r: {"replicas": 1, "template": {"spec": {"containers": [{"name": "tensorflow", "image": "tf:1"}]}}} for r in ("PS", "Worker")}}}
    custom.create_namespaced_custom_object("kubeflow.org", "v1", NS, "tfjobs", tf)
    pods = _pods(cluster)
    assert sorted(pods) == ["pt-master-0", "pt-worker-0", "pt-worker-1", "tf-ps-0", "tf-worker-0"]
    assert pods["pt-master-0"] == {"training.kubeflow.org/operator-name": "pytorchjob-controller", "training.kubeflow.org/job-name": "pt",
                                   "training.kubeflow.org/replica-type": "master", "training.kubeflow.org/replica-index": "0", "training.kubeflow.org/job-role": "master"}
    assert "training.kubeflow.org/job-role" not in pods["pt-worker-1"] and pods["pt-worker-1"]["training.kubeflow.org/replica-index"] == "1"
    # no Chief or Master: the first Worker has the master role
    assert pods["tf-worker-0"]["training.kubeflow.org/job-role"] == "master" and "training.kubeflow.org/job-role" not in pods["tf-ps-0"]


def test_mpi_operator_v2_runs_its_launcher_as_a_job(cluster):
    cluster.install(*MPI_OPERATOR)
    replica = {"replicas": 1, "template": {"spec": {"containers": [{"name": "mpi", "image": "mpi:1"}]}}}
    body = {"apiVersion": "kubeflow.org/v2beta1", "kind": "MPIJob", "metadata": {"name": "mpi"}, "spec": {"mpiReplicaSpecs": {"Launcher": replica, "Worker": replica}}}
    client.CustomObjectsApi(cluster.api_client()).create_namespaced_custom_object("kubeflow.org", "v2beta1", NS, "mpijobs", body)
    (job,) = cluster.stored("jobs")
    assert job["metadata"]["name"] == "mpi-launcher" and job["metadata"]["ownerReferences"][0]["kind"] == "MPIJob"
    pods = _pods(cluster)
    (launcher,) = [n for n in pods if n.startswith("mpi-launcher-")]
    assert {"training.kubeflow.org/job-name": "mpi", "training.kubeflow.org/job-role": "launcher", "job-name": "mpi-launcher"}.items() <= pods[launcher].items()
    assert pods["mpi-worker-0"]["training.kubeflow.org/job-role"] == "worker"


def test_trainer_makes_a_jobset_of_indexed_jobs(cluster):
    body = {"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob", "metadata": {"name": "tj"},
            "spec": {"runtimeRef": {"name": "torch-distributed"}, "trainer": {"image": "t:1", "numNodes": 2}}}
    custom = client.CustomObjectsApi(cluster.api_client())
    custom.create_namespaced_custom_object("trainer.kubeflow.org", "v1alpha1", NS, "trainjobs", body)
    assert [j["metadata"]["name"] for j in cluster.stored("jobsets")] == ["tj"]
    pods = _pods(cluster)
    indexes = sorted(labels["batch.kubernetes.io/job-completion-index"] for labels in pods.values())
    assert indexes == ["0", "1"] and all(n.startswith("tj-node-0-") for n in pods)
    assert all(labels["jobset.sigs.k8s.io/jobset-name"] == "tj" and labels["jobset.sigs.k8s.io/replicatedjob-name"] == "node" for labels in pods.values())
    custom.delete_namespaced_custom_object("trainer.kubeflow.org", "v1alpha1", NS, "trainjobs", "tj")
    assert cluster.stored("pods") == [] and cluster.stored("jobs") == [] and cluster.stored("jobsets") == []
