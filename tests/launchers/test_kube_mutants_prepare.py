"""What the Kubernetes launcher puts in the resource it creates, in cases the other manifest tests
leave open: a run-time kind's template with no metadata or its own service account, every refused
setting reported at once, a user's kind that shares a Tekton kind's name, the collector sidecar's
folder from ``source.fileSystemPath`` alone, its and the checkpoint copier's safety settings,
a Custom collector's name clash, and refusals for a TrainJob that name what is refused.

Pure: manifests are prepared with no cluster (``KubernetesLauncher.prepare`` and
``prepare_manifest``, the function ``kfp-tune render`` prints through). Expected paths and fields
are those of the Kubernetes, Argo and Katib APIs, written out here."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kfp_tune.core.interfaces import TrialRun
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher
from kfp_tune.launchers.kubernetes.manifests import CheckpointMount, ClusterSettings, prepare_manifest

NAMESPACE = "team-a"
TRIAL_LABEL = "kfp-tune.kubeflow.org/trial"
IMAGE = "registry.example.com/kfp-tune:1.2.3"
TRAIN = {"name": "main", "image": "python:3.11-slim", "command": ["python3", "/opt/train.py"], "args": ["--lr=0.1"]}


def job(*containers: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "t-1"},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [copy.deepcopy(c) for c in containers or (TRAIN,)]}}}}


def pytorch_job() -> dict[str, Any]:
    """A PyTorchJob: both replica types run the primary container (named ``pytorch``)."""
    replica = {"replicas": 1, "template": {"spec": {"containers": [{**TRAIN, "name": "pytorch"}]}}}
    return {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": {"name": "t-1"},
            "spec": {"pytorchReplicaSpecs": {"Master": copy.deepcopy(replica), "Worker": copy.deepcopy(replica)}}}


def train_job() -> dict[str, Any]:
    return {"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob", "metadata": {"name": "t-1"},
            "spec": {"runtimeRef": {"name": "torch-distributed"}, "trainer": {"image": "python:3.11-slim", "command": ["python3", "/opt/train.py"]}}}


def settings(**changes: Any) -> ClusterSettings:
    return ClusterSettings(**{"namespace": NAMESPACE, "service_accounts": ("trainer",), **changes})


def run(manifest: dict[str, Any], primary: str = "main", collector: dict[str, Any] | None = None, **fields: Any) -> TrialRun:
    return TrialRun("exp", "t-1", manifest, {}, primary, metrics_collector=collector or {"collector": {"kind": "StdOut"}}, **fields)


def prepare(trial: TrialRun, **config: Any) -> dict[str, Any]:
    config = {"namespace": NAMESPACE, "service_accounts": ("trainer", "builder"), **config}
    return KubernetesLauncher(KubernetesConfig(**config), env={"KFP_TUNE_STORE": "s3://bucket/tuning"}).prepare(trial)


def pod_spec(manifest: dict[str, Any]) -> dict[str, Any]:
    return dict(manifest["spec"]["template"]["spec"])


def by_name(entries: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (found,) = [e for e in entries if e.get("name") == name]
    return found


# --- kinds whose pods are made at run time ---------------------------------------------------------


def workflow(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "spec": {"entrypoint": "fit", "templates": [{"name": "fit", "container": {k: v for k, v in TRAIN.items() if k != "name"}}], **spec}}


def test_a_workflow_written_without_metadata_gets_the_namespace_and_only_object_meta_fields() -> None:
    """A template need not write ``metadata``: the launcher makes it, with the namespace, and
    nothing the API server's ObjectMeta does not have (a strict server refuses such a field)."""
    out = prepare(run(workflow()))
    assert out["metadata"]["namespace"] == NAMESPACE
    assert set(out["metadata"]) <= {"name", "namespace", "labels", "annotations", "ownerReferences"}, out["metadata"]


def test_a_workflows_own_allowed_service_account_is_kept() -> None:
    """The first allowed account is the default, never a replacement for one the template chose."""
    out = prepare(run(workflow(serviceAccountName="builder")))
    assert out["spec"]["serviceAccountName"] == "builder"


def test_a_workflows_own_node_selector_and_tolerations_are_kept() -> None:
    """The launcher's are defaults for a template that sets none."""
    own = {"nodeSelector": {"pool": "cpu"}, "tolerations": [{"key": "spot", "operator": "Exists"}]}
    out = prepare(run(workflow(**own)), node_selector={"pool": "gpu"}, tolerations=({"key": "nvidia.com/gpu", "operator": "Exists"},))
    assert {key: out["spec"][key] for key in own} == own


def test_every_refused_setting_is_reported_in_one_message() -> None:
    """A user fixes all of them in one go: each is named, as its own item."""
    manifest = workflow(hostNetwork=True, volumes=[{"name": "node", "hostPath": {"path": "/"}}])
    with pytest.raises(ValueError) as info:
        prepare(run(manifest))
    items = str(info.value).split("; ")
    assert [item.split(": ")[0] for item in items] == ["spec.hostNetwork", "spec.volumes[0].hostPath"], info.value


def test_file_collectors_on_a_run_time_kind_are_refused_with_what_to_use_instead() -> None:
    with pytest.raises(ValueError) as info:
        prepare(run(workflow(), metrics_path="/var/log/metrics.log", metrics_path_kind="File", collector={"collector": {"kind": "File"}}))
    assert "Workflow" in str(info.value) and str(info.value).endswith("use StdOut or Push"), info.value


def test_a_bad_label_is_reported_where_it_was_written() -> None:
    """A user's kind whose template does not show the primary container: the resource's own labels
    stay on it (its pod templates get kfp-tune's only); a value the API server refuses is named
    where it was written, the resource's or a pod template's."""
    manifest = {"apiVersion": "example.com/v1", "kind": "TrainingRun", "metadata": {"labels": {"team": "a b"}},
                "spec": {"template": {"metadata": {"labels": {"tier": "c d"}}, "spec": {"containers": [{"name": "launcher", "image": "launcher:1"}]}}}}
    with pytest.raises(ValueError) as info:
        prepare(run(manifest))
    items = str(info.value).split("; ")
    assert [item.split(": ")[0] for item in items] == ["metadata.labels.team", "spec.template.metadata.labels.tier"], info.value


@pytest.mark.parametrize("kind", ["TaskRun", "PipelineRun"])
def test_a_users_kind_named_as_a_tekton_kind_gets_no_tekton_fields(kind: str) -> None:
    """Only tekton.dev's kinds take ``podTemplate`` / ``taskRunTemplate``; a user's CRD of the same
    name would refuse (or drop) them."""
    manifest = {"apiVersion": "example.com/v1", "kind": kind, "metadata": {}, "spec": {"steps": [{"name": "fit", "image": "python:3.11-slim"}]}}
    out = prepare(run(manifest), node_selector={"pool": "gpu"})
    assert set(out["spec"]) == {"steps"}, out["spec"]


# --- the collector sidecar ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "source", "folder"),
    [
        ("File", {"path": "/var/log/katib/metrics.log", "kind": "File"}, "/var/log/katib"),
        ("File", {"path": "/var/log/katib/metrics.log"}, "/var/log/katib"),
        ("TensorFlowEvent", {"path": "/var/log/katib/tfevent", "kind": "Directory"}, "/var/log/katib/tfevent"),
        ("TensorFlowEvent", {"path": "/var/log/katib/tfevent"}, "/var/log/katib/tfevent"),
    ],
)
def test_the_metrics_folder_follows_the_collectors_file_system_path(kind: str, source: dict[str, str], folder: str) -> None:
    """With only the experiment's ``metricsCollectorSpec`` (no metrics tuple), its
    ``source.fileSystemPath`` names the folder shared by the trial and the collector; a path with
    no kind is a File for File, a Directory for TensorFlowEvent (Katib's defaults)."""
    collector = {"collector": {"kind": kind}, "source": {"fileSystemPath": source}}
    out = prepare_manifest(job(), "main", settings(collector_image=IMAGE), {TRIAL_LABEL: "t-1"}, collector=collector)
    pod = pod_spec(out)
    assert by_name(pod["volumes"], "kfp-tune-metrics") == {"name": "kfp-tune-metrics", "emptyDir": {}}
    assert {"name": "kfp-tune-metrics", "mountPath": folder} in by_name(pod["containers"], "main")["volumeMounts"]
    (sidecar,) = pod["initContainers"]
    assert {"name": "kfp-tune-metrics", "mountPath": folder} in sidecar["volumeMounts"]


def test_a_file_collector_with_no_path_is_refused() -> None:
    with pytest.raises(ValueError, match=r"needs source\.fileSystemPath\.path"):
        prepare_manifest(job(), "main", settings(), {}, collector={"collector": {"kind": "File"}, "source": {"fileSystemPath": {"kind": "File"}}})


def test_the_sidecar_reads_the_pods_labels_read_only_and_runs_without_privileges() -> None:
    """It decides from the labels (downward API, file ``labels``) whether its pod is the primary
    one; it can neither change them nor escalate."""
    out = prepare_manifest(job(), "main", settings(collector_image=IMAGE), {}, collector={"collector": {"kind": "PrometheusMetric"}})
    pod = pod_spec(out)
    (sidecar,) = pod["initContainers"]
    info = [m for m in sidecar["volumeMounts"] if m["name"] == "kfp-tune-pod-info"]
    assert len(info) == 1 and info[0]["readOnly"] is True
    volume = by_name(pod["volumes"], "kfp-tune-pod-info")
    assert volume["downwardAPI"]["items"] == [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}, {"path": "uid", "fieldRef": {"fieldPath": "metadata.uid"}}]
    assert sidecar["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


def test_editing_one_prepared_manifest_leaves_the_next_alone() -> None:
    """A caller may edit what it gets (``kfp-tune render`` output, a patch): the collector's and
    copier's resources and security settings are the manifest's own, never shared."""
    checkpoint = CheckpointMount("/ckpt", "exp", "t-1", parent="t-0")
    config = settings(collector_image=IMAGE, checkpoint_claim="ckpts")
    primary = {**TRAIN, "securityContext": {"runAsUser": 1000, "capabilities": {"drop": ["ALL"]}}}
    first = prepare_manifest(job(primary), "main", config, {}, collector={"collector": {"kind": "PrometheusMetric"}}, checkpoint=checkpoint)
    first_pod = pod_spec(first)
    copier, sidecar = first_pod["initContainers"]
    copier["resources"]["limits"]["memory"] = "8Gi"
    copier["securityContext"]["capabilities"]["drop"].clear()
    sidecar["resources"]["limits"]["memory"] = "8Gi"
    assert by_name(first_pod["containers"], "main")["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    second = pod_spec(prepare_manifest(job(primary), "main", config, {}, collector={"collector": {"kind": "PrometheusMetric"}}, checkpoint=checkpoint))
    assert [c["resources"]["limits"]["memory"] for c in second["initContainers"]] == ["512Mi", "512Mi"]


# --- the Custom collector -----------------------------------------------------------------------------


def custom(name: str = "my-collector", **extra: Any) -> dict[str, Any]:
    return {"collector": {"kind": "Custom", "customCollector": {"name": name, "image": "collector:1", **extra}}}


@pytest.mark.parametrize("where", ["containers", "initContainers"])
def test_a_custom_collector_named_as_a_container_of_the_pod_is_refused(where: str) -> None:
    manifest = job()
    manifest["spec"]["template"]["spec"].setdefault(where, []).append({"name": "my-collector", "image": "other:1"})
    with pytest.raises(ValueError) as info:
        prepare_manifest(manifest, "main", settings(), {}, collector=custom())
    assert str(info.value).startswith("spec.metricsCollectorSpec.collector.customCollector.name: 'my-collector'"), info.value


def test_the_experiments_custom_collector_is_not_changed_by_preparing_a_trial() -> None:
    """Every trial is prepared from the same spec: the launcher's env goes on the trial's copy."""
    collector = custom(env=[{"name": "MODE", "value": "strict"}])
    before = copy.deepcopy(collector)
    out = prepare_manifest(job(), "main", settings(env=(("KFP_TUNE_STORE", "s3://bucket/tuning"),)), {}, collector=collector)
    assert collector == before
    added = by_name(pod_spec(out)["initContainers"], "my-collector")
    assert [e["name"] for e in added["env"]] == ["MODE", "KFP_TUNE_STORE"]


# --- TrainJob: refusals that say what is refused -------------------------------------------------------


@pytest.mark.parametrize("kind", ["Custom", "PrometheusMetric"])
def test_a_collector_a_trainjob_cannot_have_is_named(kind: str) -> None:
    collector = custom() if kind == "Custom" else {"collector": {"kind": kind}}
    with pytest.raises(ValueError) as info:
        prepare_manifest(train_job(), "node", settings(), {}, collector=collector)
    assert str(info.value).startswith(f"spec.metricsCollectorSpec.collector.kind: {kind} cannot collect the metrics of a trial of kind TrainJob"), info.value


def test_checkpoint_folders_on_a_trainjob_are_refused_as_such() -> None:
    with pytest.raises(ValueError) as info:
        prepare_manifest(train_job(), "node", settings(checkpoint_claim="ckpts"), {}, checkpoint=CheckpointMount("/ckpt", "exp", "t-1"))
    assert str(info.value).startswith("suggestion_trial_dir: checkpoint folders are not supported with a TrainJob trial"), info.value


# --- checkpoint folders -------------------------------------------------------------------------------


def test_every_replica_running_the_primary_container_gets_its_checkpoint_folder() -> None:
    """Master and Worker both run ``pytorch``: each mounts the trial's folder (a first trial has
    no parent to copy, so no copier)."""
    out = prepare_manifest(pytorch_job(), "pytorch", settings(checkpoint_claim="ckpts"), {}, checkpoint=CheckpointMount("/ckpt", "exp", "t-1"))
    for replica in ("Master", "Worker"):
        pod = out["spec"]["pytorchReplicaSpecs"][replica]["template"]["spec"]
        mounts = by_name(pod["containers"], "pytorch")["volumeMounts"]
        assert {"name": "kfp-tune-checkpoints", "mountPath": "/ckpt", "subPath": "exp/t-1"} in mounts, replica
        assert "initContainers" not in pod


def test_the_copier_runs_the_configured_image_as_the_checkpoints_module() -> None:
    """The copier is kfp-tune's own program (the module that copies a parent's folder), in the
    image the launcher config names."""
    out = prepare_manifest(job(), "main", settings(checkpoint_claim="ckpts", collector_image=IMAGE), {}, checkpoint=CheckpointMount("/ckpt", "exp", "t-2", "t-1"))
    (copier,) = pod_spec(out)["initContainers"]
    assert copier["image"] == IMAGE
    assert copier["command"][:3] == ["python3", "-m", "kfp_tune.launchers.checkpoints"]
    assert copier["command"][-2:] == ["t-1", "t-2"]


def test_the_copier_runs_as_the_primary_container_does_else_without_privileges() -> None:
    own = {"runAsUser": 1000, "runAsNonRoot": True}
    with_own = prepare_manifest(job({**TRAIN, "securityContext": own}), "main", settings(checkpoint_claim="ckpts"), {}, checkpoint=CheckpointMount("/ckpt", "exp", "t-2", "t-1"))
    assert pod_spec(with_own)["initContainers"][0]["securityContext"] == own
    without = prepare_manifest(job(), "main", settings(checkpoint_claim="ckpts"), {}, checkpoint=CheckpointMount("/ckpt", "exp", "t-2", "t-1"))
    assert pod_spec(without)["initContainers"][0]["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


def test_checkpoint_folders_without_a_claim_are_refused_naming_the_setting() -> None:
    with pytest.raises(ValueError) as info:
        prepare_manifest(job(), "main", settings(), {}, checkpoint=CheckpointMount("/ckpt", "exp", "t-1"))
    assert str(info.value).startswith("suggestion_trial_dir '/ckpt'") and "checkpointVolume" in str(info.value), info.value


# --- which container, which pod template ----------------------------------------------------------


def test_the_metrics_folder_is_mounted_in_the_primary_container_not_the_first() -> None:
    helper = {"name": "helper", "image": "busybox:1", "command": ["sleep", "infinity"]}
    collector = {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/var/log/katib/metrics.log", "kind": "File"}}}
    pod = pod_spec(prepare_manifest(job(helper, TRAIN), "main", settings(), {}, collector=collector))
    assert "volumeMounts" not in by_name(pod["containers"], "helper")
    assert {"name": "kfp-tune-metrics", "mountPath": "/var/log/katib"} in by_name(pod["containers"], "main")["volumeMounts"]


def test_the_sidecar_goes_only_in_pod_templates_that_run_the_primary_container() -> None:
    """An MPIJob's Launcher runs the training command; its Workers run sshd under another name."""
    launcher = {"replicas": 1, "template": {"spec": {"containers": [{**TRAIN, "name": "launcher"}]}}}
    worker = {"replicas": 2, "template": {"spec": {"containers": [{"name": "worker", "image": "mpi-worker:1"}]}}}
    manifest = {"apiVersion": "kubeflow.org/v2beta1", "kind": "MPIJob", "metadata": {"name": "t-1"},
                "spec": {"mpiReplicaSpecs": {"Launcher": launcher, "Worker": worker}}}
    out = prepare_manifest(manifest, "launcher", settings(collector_image=IMAGE), {}, collector={"collector": {"kind": "PrometheusMetric"}})
    specs = out["spec"]["mpiReplicaSpecs"]
    assert [c["image"] for c in specs["Launcher"]["template"]["spec"]["initContainers"]] == [IMAGE]
    assert "initContainers" not in specs["Worker"]["template"]["spec"]


def test_a_tensorflow_event_folder_on_the_metrics_claim_is_the_folder_itself() -> None:
    """TensorFlowEvent's path is a Directory: the claim is mounted there (not at its parent, which
    would hide what else the parent holds)."""
    trial = run(job(), metrics_path="/var/log/katib/tfevent", metrics_path_kind="Directory",
                collector={"collector": {"kind": "TensorFlowEvent"}, "source": {"fileSystemPath": {"path": "/var/log/katib/tfevent", "kind": "Directory"}}})
    out = prepare(trial, metrics_claim="kfp-tune-metrics", metrics_mount="/mnt/metrics", collector_image=IMAGE)
    mounts = by_name(pod_spec(out)["containers"], "main")["volumeMounts"]
    assert mounts == [{"name": "kfp-tune-metrics", "mountPath": "/var/log/katib/tfevent", "subPath": "exp/t-1"}]
    assert by_name(pod_spec(out)["volumes"], "kfp-tune-metrics") == {"name": "kfp-tune-metrics", "persistentVolumeClaim": {"claimName": "kfp-tune-metrics"}}
