"""The metrics collector container as the Kubernetes launcher runs it: the command of the
manifest it builds (no flags, so the defaults are what runs on every cluster) and the store's
place from that container's env; and what it says when the experiment is not in the store.
Katib injects its own collector beside the trial the same way (pkg/webhook/v1beta1/pod/inject_webhook.go,
getMetricsCollectorContainer)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from conftest import DATA
from kfp_tune.collectors import sidecar
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.launchers.kubernetes import KubernetesConfig, render_manifest
from kfp_tune.steps import init_experiment

MODULE = "kfp_tune.collectors.sidecar"


def _collector_container(manifest: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the pod template, the collector container) of a Job's manifest."""
    pod = manifest["spec"]["template"]["spec"]
    (container,) = [c for c in pod["initContainers"] if c["name"] == sidecar.CONTAINER_NAME]
    return pod, container


def test_the_collector_runs_with_the_manifests_command_on_the_default_poll_and_pod_info_mount(local_store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    experiment = load_experiment(DATA / "katib-examples" / "metrics-collector_file-metrics-collector.yaml")
    init_experiment(ExperimentRecords(local_store, experiment.name), experiment)
    pod, container = _collector_container(render_manifest(experiment, config=KubernetesConfig(namespace="team-a"), env={"KFP_TUNE_STORE": local_store.uri}))
    _python, flag, module, *argv = container["command"]
    assert (flag, module) == ("-m", MODULE)
    for variable in container["env"]:
        monkeypatch.setenv(variable["name"], variable["value"])
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == sidecar.POD_INFO_VOLUME]
    (volume,) = [v for v in pod["volumes"] if v["name"] == sidecar.POD_INFO_VOLUME]
    assert [item["path"] for item in volume["downwardAPI"]["items"]] == ["labels", "uid"]  # the files run() reads there

    seen: dict[str, Any] = {}
    real_run = sidecar.run

    def recording_run(records: ExperimentRecords, trial: str, stop: threading.Event, poll_seconds: float = -1.0, pod_info: Path | None = None) -> int:
        seen.update(trial=trial, pod_info=pod_info)
        return real_run(records, trial, stop, poll_seconds, pod_info)

    def recording_follow(follower: Any, writer: Any, stop: threading.Event, poll_seconds: float) -> int:
        seen["poll_seconds"] = poll_seconds
        return 0

    monkeypatch.setattr(sidecar, "run", recording_run)
    monkeypatch.setattr(sidecar, "follow", recording_follow)
    stop, errors = threading.Event(), []

    def as_the_container_runs_it() -> None:  # in a thread: main() leaves the test process's signal handlers alone
        try:
            seen["exit"] = sidecar.main(argv, stop)
        except BaseException as exc:
            errors.append(exc)

    runner = threading.Thread(target=as_the_container_runs_it)
    runner.start()
    runner.join(timeout=60)
    assert not runner.is_alive() and not errors, errors
    assert seen["exit"] == 0 and seen["trial"] == os.environ["KFP_TUNE_TRIAL"]
    assert seen["poll_seconds"] == sidecar.POLL_SECONDS  # followed on the default interval
    assert seen["pod_info"] == Path(mount["mountPath"])  # the downward API volume's mount, where the labels are


def test_an_experiment_not_in_the_store_is_named_in_one_line_without_a_traceback(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    folder.mkdir()
    env = {name: value for name, value in os.environ.items() if not name.startswith("KFP_TUNE_")}
    env.update(KFP_TUNE_STORE=str(folder), KFP_TUNE_EXPERIMENT="nope", KFP_TUNE_TRIAL="nope-t1")
    done = subprocess.run([sys.executable, "-m", MODULE], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done
    assert f"kfp-tune metrics collector: experiment 'nope' is not in the store {folder.as_uri()}" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
