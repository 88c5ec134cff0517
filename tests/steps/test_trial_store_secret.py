"""The store's credentials reach a Kubernetes trial's pods with a compiled pipeline's defaults:
launch-trial gets the run's ``store_secret`` and, where the launcher config names no
``storeSecret``, gives the trials that Secret by reference. Before, only the steps had it, and
every trial-side user of the store (the File / TensorFlowEvent / PrometheusMetric collector
sidecar, report_metrics, save_model, input_path) was refused AccessDenied on a cluster."""

# No `from __future__ import annotations`: not needed, and kept alike with the pipeline tests.
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.collectors.sidecar import CONTAINER_NAME
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.pipelines.builder import ObjectStore, compile_pipeline
from kfp_tune.steps.entrypoints import launch_trials_step, with_store_secret
from kfp_tune.steps.prepare import prepare
from kfp_tune.stores import LocalStore

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "accesskey", "AWS_SECRET_ACCESS_KEY": "secretkey"}


@pytest.fixture
def cluster(tmp_path, monkeypatch):
    """A fake API server that launch-trial reaches through a kubeconfig, as a pod's own config."""
    from fake_kube import reached_through_kubeconfig

    with reached_through_kubeconfig(tmp_path, monkeypatch) as kube:
        yield kube


def _secret_env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("valueFrom", e.get("value")) for e in container.get("env") or [] if e["name"].startswith("AWS_")}


def _file_experiment(tmp_path: Path) -> dict[str, Any]:
    """quad with a File collector (a sidecar beside the trial), two trials, one at a time, whose
    resources are kept (retain) for the test to read their pods."""
    return quadratic_experiment(**{
        "spec.trialTemplate.retain": True, "spec.parallelTrialCount": 1, "spec.maxTrialCount": 2, "spec.maxFailedTrialCount": 2,
        "spec.metricsCollectorSpec": {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/var/log/m.log", "kind": "File", "format": "TEXT"}}},
    })


def _run(tmp_path: Path, launcher_config: dict[str, Any], store_secret: str) -> None:
    store = LocalStore(tmp_path / "store")
    experiment = load_experiment(_file_experiment(tmp_path))
    prepare(ExperimentRecords(store, experiment.name), experiment, "run-1")
    config = {"kind": "kubernetes", "namespace": "team-a", "pollSeconds": 0.05, **launcher_config}
    # the first checkpoint hands back after one trial: its Job was made and has ended
    launch_trials_step(store.uri, experiment.name, json.dumps(config), "run-1", 0, 2, checkpoint_trials=1, store_secret=store_secret)


def _trial_containers(kube: Any) -> list[dict[str, Any]]:
    pods = kube.stored("pods")
    assert pods, "launch-trial made a trial"
    return [c for pod in pods for c in pod["spec"].get("initContainers", []) + pod["spec"]["containers"] if c["name"] != "istio-proxy"]


def test_a_compiled_pipelines_trials_get_the_runs_store_secret_by_reference(cluster, tmp_path):
    """The compiled default, {"kind": "kubernetes"}: every container of the trial's pod that
    kfp-tune gives the store's place (the training container, the collector sidecar) gets
    the Secret's keys as secretKeyRef, never a value; ``optional``, since the trials may run in
    a namespace without the run's Secret, where a required one keeps the pod from starting
    (CreateContainerConfigError, which the launcher would wait on without end)."""
    _run(tmp_path, {}, "tuning-store")
    containers = _trial_containers(cluster)
    assert {c["name"] for c in containers} >= {"main", CONTAINER_NAME}
    for container in containers:
        assert _secret_env(container) == {
            variable: {"secretKeyRef": {"name": "tuning-store", "key": key, "optional": True}} for variable, key in CREDENTIALS.items()
        }, container["name"]
    assert "tuning-store" in json.dumps(cluster.stored("jobs")) and "accesskey" not in json.dumps([c.get("value") for c in containers])


def test_a_storeSecret_in_the_launcher_config_wins_and_an_empty_run_parameter_gives_none(cluster, tmp_path):
    _run(tmp_path / "named", {"storeSecret": "trials-own"}, "tuning-store")
    assert {_secret_env(c)["AWS_ACCESS_KEY_ID"]["secretKeyRef"]["name"] for c in _trial_containers(cluster)} == {"trials-own"}
    assert all("optional" not in _secret_env(c)["AWS_ACCESS_KEY_ID"]["secretKeyRef"] for c in _trial_containers(cluster)), "the config's own: required"


def test_no_secret_when_neither_names_one(cluster, tmp_path):
    _run(tmp_path, {}, "")
    assert all(_secret_env(c) == {} for c in _trial_containers(cluster))


@pytest.mark.parametrize("config", ['{"kind": "local"}', "{}", '{"kind": "kubernetes", "storeSecret": ""}', "not json", "[]"])
def test_only_a_kubernetes_config_without_storeSecret_takes_it(config):
    assert with_store_secret(config, "tuning-store") == config


def test_the_compiled_launch_trial_gets_the_store_secret_parameter(tmp_path):
    """Each launch-trial task of a compiled pipeline is given the store_secret run parameter (the
    Secret the steps have), as the store's keys are the launcher's (accesskey, secretkey)."""
    path = compile_pipeline(load_experiment(quadratic_experiment()), tmp_path / "p.yaml", rounds=2)
    ir = next(yaml.safe_load_all(path.read_text()))
    tasks = [t for c in [ir["root"], *ir["components"].values()] for n, t in (c.get("dag") or {}).get("tasks", {}).items() if n.startswith("launch-trial")]
    assert len(tasks) == 2
    for task in tasks:
        given = task["inputs"]["parameters"]["store_secret"]
        assert given["componentInputParameter"] in ("store_secret", "pipelinechannel--store_secret")
    # a Secret of other keys: the launcher's storeSecret could not read it, so none is passed
    other = ObjectStore(endpoint="http://s3.test:9000", secret="tuning-store", secret_keys=(("id", "AWS_ACCESS_KEY_ID"), ("key", "AWS_SECRET_ACCESS_KEY")))
    path = compile_pipeline(load_experiment(quadratic_experiment()), tmp_path / "o.yaml", rounds=1, object_store=other)
    ir = next(yaml.safe_load_all(path.read_text()))
    tasks = [t for c in [ir["root"], *ir["components"].values()] for n, t in (c.get("dag") or {}).get("tasks", {}).items() if n.startswith("launch-trial")]
    assert all(t["inputs"]["parameters"]["store_secret"]["runtimeValue"]["constant"] == "" for t in tasks)
