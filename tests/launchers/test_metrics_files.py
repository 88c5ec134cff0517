"""Where a File or TensorFlowEvent collector's metrics land: the folder handed to the trial is
the shortest one above the collector's path that the trial's command (or env) names, so a
trial told ``--log-path=/logs`` finds its files where the collector looks; what it wrote there
is read back whole; on a cluster, that folder is the metrics claim, mounted in the trial."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kfp_tune.launchers.kubernetes.kinds import primary_pod_container
from kfp_tune.launchers.kubernetes.manifests import ClusterSettings, prepare_manifest
from kfp_tune.launchers.local import unnamed_metrics_folder
from kfp_tune.launchers.metrics_files import metrics_root, read_metrics_files


def job(command: list[str] | None = None, args: list[str] | None = None, env: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "main", "image": "trainer"}
    if command is not None:
        container["command"] = command
    if args is not None:
        container["args"] = args
    if env is not None:
        container["env"] = env
    return {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {"containers": [container]}}}}


@pytest.mark.parametrize(
    ("manifest", "path", "kind", "expected"),
    [
        # nothing names a folder above the file: the file's own folder
        (job(["python", "train.py"]), "/var/log/katib/metrics.log", "File", ("/var/log/katib", "metrics.log")),
        # a flag's value names a folder above it: that folder, and the path below it
        (job(["python", "train.py"], ["--log-path=/logs"]), "/logs/test/metrics.log", "File", ("/logs", "test/metrics.log")),
        (job(["python", "train.py"], ["--log-path=/logs/"]), "/logs/test/metrics.log", "File", ("/logs", "test/metrics.log")),
        # named alone, as its own argument
        (job(["python", "train.py", "--out", "/logs"]), "/logs/test/metrics.log", "File", ("/logs", "test/metrics.log")),
        # named through an env value
        (job(["python", "train.py"], env=[{"name": "LOGS", "value": "/logs/test"}]), "/logs/test/m.log", "File", ("/logs/test", "m.log")),
        (job(["python", "train.py"], env=[{"name": "LOGS", "value": "/data"}]), "/logs/test/m.log", "File", ("/logs/test", "m.log")),
        # of two folders named, the shortest wins
        (job(["python", "train.py", "--a=/logs/test", "--b=/logs"]), "/logs/test/m.log", "File", ("/logs", "test/m.log")),
        # a file under a folder does not name the folder: the script's folder is never taken over
        (job(["python", "/opt/app/train.py"]), "/opt/logs/m.log", "File", ("/opt/logs", "m.log")),
        (job(["python", "train.py", "--config=/cfg/config.yaml"]), "/cfg/out/m.log", "File", ("/cfg/out", "m.log")),
        # a Directory collector's path is itself the folder
        (job(["python", "train.py"]), "/tb/run", "Directory", ("/tb/run", ".")),
        (job(["python", "train.py", "--logdir=/tb"]), "/tb/run", "Directory", ("/tb", "run")),
        # a look-alike is not the folder: /logsx is not /logs, nor is --x=/logsy
        (job(["python", "train.py", "/logsx", "--x=/logsy"]), "/logs/test/m.log", "File", ("/logs/test", "m.log")),
        # the path is normalised before it is compared
        (job(["python", "train.py", "--log-path=/logs"]), "/logs//test/./m.log", "File", ("/logs", "test/m.log")),
    ],
)
def test_the_folder_handed_to_the_trial(manifest: dict[str, Any], path: str, kind: str, expected: tuple[str, str]):
    assert metrics_root(primary_pod_container(manifest, "main", None) or {}, path, kind) == expected


@pytest.mark.parametrize(
    ("container", "path", "kind", "expected"),
    [
        # Katib's default path, which the training code writes itself: nothing names its folder
        ({"command": ["python3", "/app/train.py", "--lr=0.1"]}, "/var/log/katib/metrics.log", "File", "/var/log/katib"),
        # a path written in a python -c program is no word the launcher maps
        ({"command": ["python3", "-c", "open('/var/log/katib/metrics.log', 'a')"]}, "/var/log/katib/metrics.log", "File", "/var/log/katib"),
        ({"command": ["python3", "train.py"], "env": [{"name": "LOG", "value": "/var/log/katibx"}]}, "/var/log/katib/m.log", "File", "/var/log/katib"),
        ({"command": ["python3", "train.py", "--tb", "/tb/runs"]}, "/tb/run", "Directory", "/tb/run"),
        # the file itself, its folder, a folder above it, after '=', in env, as workingDir
        ({"command": ["python3", "train.py", "/var/log/katib/metrics.log"]}, "/var/log/katib/metrics.log", "File", ""),
        ({"command": ["python3", "train.py", "--log=/var/log/katib/metrics.log"]}, "/var/log/katib/metrics.log", "File", ""),
        ({"command": ["python3", "train.py"], "args": ["--dir=/var/log/katib/"]}, "/var/log/katib/metrics.log", "File", ""),
        ({"command": ["python3", "train.py", "--logs=/var/log"]}, "/var/log/katib/metrics.log", "File", ""),
        ({"command": ["python3", "train.py"], "env": [{"name": "LOG", "value": "/var/log/katib/m.log"}]}, "/var/log/katib/m.log", "File", ""),
        ({"command": ["python3", "train.py"], "workingDir": "/var/log/katib"}, "/var/log/katib/m.log", "File", ""),
        # an sh -c script: a path that starts a word of it
        ({"command": ["sh", "-c", "python3 train.py > '/var/log/katib/m.log'"]}, "/var/log/katib/m.log", "File", ""),
        ({"command": ["sh", "-c", "python3 train.py --out=/var/log/katibx"]}, "/var/log/katib/m.log", "File", "/var/log/katib"),
        # a path directly under / is never said unnamed: its folder is / itself
        ({"command": ["python3", "train.py"]}, "/metrics.log", "File", ""),
    ],
)
def test_a_folder_no_word_names_is_told(container: dict[str, Any], path: str, kind: str, expected: str):
    """A local run maps the folder only where a word names it: unnamed, a trial that writes the
    path itself writes this machine's file (the MetricsUnavailable message says so)."""
    assert unnamed_metrics_folder(container, path, kind) == expected


def test_only_the_primary_containers_command_counts():
    manifest = job(["python", "train.py"])
    manifest["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "x", "args": ["--log-path=/logs"]})
    assert metrics_root(primary_pod_container(manifest, "main", None) or {}, "/logs/test/m.log", "File") == ("/logs/test", "m.log")
    assert metrics_root(primary_pod_container(manifest, "absent", None) or {}, "/logs/test/m.log", "File") == ("/logs/test", "m.log")


def test_a_file_collector_reads_its_one_file_by_name(tmp_path: Path):
    (tmp_path / "metrics.log").write_bytes(b"loss=0.5\n")
    (tmp_path / "other.log").write_bytes(b"not asked for")
    assert read_metrics_files(tmp_path / "metrics.log", "File") == {"metrics.log": b"loss=0.5\n"}
    assert read_metrics_files(tmp_path / "missing.log", "File") == {}, "a trial that wrote nothing"
    (tmp_path / "a-folder.log").mkdir()
    assert read_metrics_files(tmp_path / "a-folder.log", "File") == {}


def test_a_directory_collector_reads_every_file_below_it_by_relative_path(tmp_path: Path):
    (tmp_path / "run" / "train").mkdir(parents=True)
    (tmp_path / "run" / "events.1").write_bytes(b"\x00one")
    (tmp_path / "run" / "train" / "events.2").write_bytes(b"\x00two")
    assert read_metrics_files(tmp_path / "run", "Directory") == {"events.1": b"\x00one", "train/events.2": b"\x00two"}
    assert read_metrics_files(tmp_path / "absent", "Directory") == {}


SETTINGS = ClusterSettings(namespace="team", metrics_claim="kfp-tune-metrics-claim")
LABELS = {"kfp-tune.kubeflow.org/trial": "exp-abc"}


def test_on_a_cluster_the_claim_is_mounted_where_the_trial_writes():
    manifest = job(["python", "train.py", "--log-path=/logs"])
    out = prepare_manifest(manifest, "main", SETTINGS, LABELS, metrics=("/logs/test/m.log", "File", "exp/exp-abc"))
    pod = out["spec"]["template"]["spec"]
    assert pod["containers"][0]["volumeMounts"] == [{"name": "kfp-tune-metrics", "mountPath": "/logs", "subPath": "exp/exp-abc"}]
    claims = [v for v in pod["volumes"] if "persistentVolumeClaim" in v]
    assert claims == [{"name": "kfp-tune-metrics", "persistentVolumeClaim": {"claimName": "kfp-tune-metrics-claim"}}]
    assert not any("emptyDir" in v for v in pod["volumes"]), "the claim replaces the shared emptyDir"


def test_every_pod_template_of_an_operator_kind_gets_the_volume_once():
    replica = {"replicas": 1, "template": {"spec": {"containers": [{"name": "pytorch", "image": "t", "command": ["python", "train.py"]}]}}}
    manifest = {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "spec": {"pytorchReplicaSpecs": {"Master": replica, "Worker": {**replica, "replicas": 2}}}}
    out = prepare_manifest(manifest, "pytorch", SETTINGS, LABELS, metrics=("/out/m.log", "File", "exp/exp-abc"))
    for role in ("Master", "Worker"):
        volumes = out["spec"]["pytorchReplicaSpecs"][role]["template"]["spec"]["volumes"]
        assert [v["name"] for v in volumes].count("kfp-tune-metrics") == 1, role


def test_file_collectors_on_a_cluster_without_a_metrics_volume_get_a_shared_folder_and_the_collector():
    """As Katib's webhook does: an emptyDir at the metrics folder, shared with a collector that
    follows the file (tests/launchers/test_collector_sidecar.py has the details)."""
    out = prepare_manifest(job(["python", "train.py"]), "main", ClusterSettings(namespace="team"), LABELS, metrics=("/logs/m.log", "File", "exp/exp-abc"))
    pod = out["spec"]["template"]["spec"]
    shared = [v["name"] for v in pod["volumes"] if "emptyDir" in v]
    assert len(shared) == 1
    assert {"name": shared[0], "mountPath": "/logs"} in [{k: m[k] for k in ("name", "mountPath")} for m in pod["containers"][0]["volumeMounts"]]
    assert any(shared[0] in [m["name"] for m in c.get("volumeMounts", [])] for c in pod.get("initContainers", [])), "the collector sees the same folder"


def test_file_collectors_are_refused_for_a_trainjob():
    trainjob = {
        "apiVersion": "trainer.kubeflow.org/v1alpha1",
        "kind": "TrainJob",
        "spec": {"runtimeRef": {"name": "torch-distributed"}, "trainer": {"image": "t", "command": ["python", "train.py"]}},
    }
    with pytest.raises(ValueError, match=r"^spec\.metricsCollectorSpec\.collector\.kind: File cannot collect the metrics of a trial of kind TrainJob"):
        prepare_manifest(trainjob, "node", SETTINGS, LABELS, metrics=("/logs/m.log", "File", "exp/exp-abc"))


MASTER_ROLE = {"training.kubeflow.org/job-role": "master"}
"""The primaryPodLabels Katib's defaults give a Training Operator kind's trial."""


def worker_first_pytorchjob() -> dict[str, Any]:
    """Workers written before the Master, each naming its own log folder: only the Master is
    the primary pod, where Katib's collector reads ``/master-logs/run/m.log``."""
    def replica(count: int, log_dir: str) -> dict[str, Any]:
        return {"replicas": count, "template": {"spec": {"containers": [{"name": "pytorch", "image": "t", "command": ["python", "train.py", f"--log-dir={log_dir}"]}]}}}
    return {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob",
            "spec": {"pytorchReplicaSpecs": {"Worker": replica(2, "/worker-logs"), "Master": replica(1, "/master-logs")}}}


def test_the_folder_is_the_one_the_primary_pods_command_names_whatever_the_yaml_order():
    manifest = worker_first_pytorchjob()
    assert metrics_root(primary_pod_container(manifest, "pytorch", MASTER_ROLE) or {}, "/master-logs/run/m.log", "File") == ("/master-logs", "run/m.log")
    out = prepare_manifest(manifest, "pytorch", SETTINGS, LABELS, metrics=("/master-logs/run/m.log", "File", "exp/exp-abc"), primary_pod_labels=MASTER_ROLE)
    master = out["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]
    assert master["containers"][0]["volumeMounts"] == [{"name": "kfp-tune-metrics", "mountPath": "/master-logs", "subPath": "exp/exp-abc"}]
    collector = [c for c in master["initContainers"] if any(m["name"] == "kfp-tune-metrics" for m in c.get("volumeMounts", []))]
    assert [m["mountPath"] for c in collector for m in c["volumeMounts"] if m["name"] == "kfp-tune-metrics"] == ["/master-logs"]
