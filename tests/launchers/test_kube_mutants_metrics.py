"""What the Kubernetes launcher reads back of a File or TensorFlowEvent collector's output through
its own mount of the shared metrics claim (``metricsVolume``), against the fake API server. The
fake runs no process: a test writes into the claim's folder what the trial would have written
under its mount (subPath ``<experiment>/<trial>``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fake_kube import FakeKube, Script
from kfp_tune.core.interfaces import LaunchPhase, TrialRun
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher

NAMESPACE = "team-a"
COMPLETE = 'status.conditions.#(type=="Complete")#|#(status=="True")#'


@pytest.fixture
def scripted_kube(clusters: Callable[..., FakeKube]) -> FakeKube:
    """conftest's ``kube``, where every trial's pod prints ``done`` and ends at once."""
    fake = clusters()
    fake.script = lambda manifest: Script(run_seconds=0.0, log=[(0.0, "done")])
    return fake


def job_trial(name: str, args: list[str], path: str, kind: str, collector: str) -> TrialRun:
    manifest = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
                "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [
                    {"name": "main", "image": "python:3.11-slim", "command": ["python3", "/opt/train.py"], "args": args}]}}}}
    source = {"fileSystemPath": {"path": path, "kind": kind}}
    return TrialRun("exp", name, manifest, {}, "main", success_condition=COMPLETE, metrics_path=path, metrics_path_kind=kind,
                    metrics_collector={"collector": {"kind": collector}, "source": source})


def launcher_for(kube: FakeKube, mount: str) -> KubernetesLauncher:
    volume = {"metricsVolume": {"claimName": "metrics", "mountPath": mount}} if mount else {}
    config = KubernetesConfig.from_dict({"namespace": NAMESPACE, "pollSeconds": 0, "apiRetrySeconds": 0, "timeoutSeconds": 60, "collectorImage": "collector:1", **volume})
    return KubernetesLauncher(config, api_client=kube.api_client(), env={}, sleep=lambda seconds: None)


def test_a_file_below_the_folder_the_command_names_is_read_where_the_trial_wrote_it(scripted_kube: FakeKube, tmp_path: Path) -> None:
    """``--log-path=/logs`` with the collector at /logs/test/m.log: /logs is the trial's metrics
    folder, so the file is at test/m.log in the trial's folder on the claim."""
    written = tmp_path / "exp" / "file-trial-1" / "test" / "m.log"
    written.parent.mkdir(parents=True)
    written.write_bytes(b"loss=0.5\n")
    outcome = launcher_for(scripted_kube, str(tmp_path)).run(job_trial("file-trial-1", ["--log-path=/logs"], "/logs/test/m.log", "File", "File"))
    assert (outcome.phase, outcome.files) == (LaunchPhase.SUCCEEDED, {"m.log": b"loss=0.5\n"})


def test_a_directory_collector_reads_every_file_of_the_folder(scripted_kube: FakeKube, tmp_path: Path) -> None:
    folder = tmp_path / "exp" / "tb-trial-1"
    (folder / "train").mkdir(parents=True)
    (folder / "train" / "events.out.tfevents.1").write_bytes(b"event-1")
    (folder / "events.out.tfevents.2").write_bytes(b"event-2")
    outcome = launcher_for(scripted_kube, str(tmp_path)).run(job_trial("tb-trial-1", ["--log-dir=/logs/tb"], "/logs/tb", "Directory", "TensorFlowEvent"))
    assert outcome.files == {"train/events.out.tfevents.1": b"event-1", "events.out.tfevents.2": b"event-2"}


def test_with_no_metrics_volume_nothing_is_read_from_the_launchers_own_folder(scripted_kube: FakeKube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a claim the collector sidecar reports the metrics; a file at the trial's relative
    place under launch-trial's working folder is not the trial's."""
    stray = tmp_path / "exp" / "file-trial-2" / "m.log"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"loss=9.0\n")
    monkeypatch.chdir(tmp_path)
    outcome = launcher_for(scripted_kube, "").run(job_trial("file-trial-2", [], "/logs/m.log", "File", "File"))
    assert (outcome.phase, outcome.files) == (LaunchPhase.SUCCEEDED, {})
