"""How the Kubernetes launcher learns a kind it does not know (discovery), what a fresh launcher
finds of a kind an earlier run recorded on the experiment's anchor, and which container a
TrainJob's log comes from, against the fake API server (tests/support/fake_kube.py).

Each test starts its own server: some change what it answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fake_kube import TRAINER, FakeKube, Fault, Resource, Script
from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.interfaces import TrialRun
from kfp_tune.core.naming import labels_for
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher

NAMESPACE = "team-a"
CRD = Resource("example.com", "v1", "trainingruns", "TrainingRun")
DONE = 'status.conditions.#(type=="Done")#|#(status=="True")#'
COMPLETE = 'status.conditions.#(type=="Complete")#|#(status=="True")#'




def launcher_for(kube: FakeKube, sleep: Callable[[float], None] = lambda seconds: None) -> KubernetesLauncher:
    """A launcher that never waits; its timeout only stops a test that would otherwise poll on."""
    config = KubernetesConfig(namespace=NAMESPACE, poll_seconds=0.0, api_retry_seconds=0.0, timeout_seconds=60.0)
    return KubernetesLauncher(config, api_client=kube.api_client(), env={}, sleep=sleep)


def training_run(experiment: str, name: str, **fields: Any) -> TrialRun:
    manifest = {"apiVersion": "example.com/v1", "kind": "TrainingRun", "metadata": {"name": name, "labels": labels_for(experiment, name)},
                "spec": {"template": {"spec": {"containers": [{"name": "main", "image": "python:3.11-slim", "command": ["python3", "/opt/train.py"]}]}}}}
    return TrialRun(experiment, name, manifest, {}, "main", metrics_collector={"collector": {"kind": "StdOut"}}, **fields)


# --- discovery ---------------------------------------------------------------------------------------


def test_a_core_group_kind_is_refused_naming_the_kind_and_its_group(clusters: Callable[..., FakeKube]) -> None:
    """A Pod (apiVersion v1) is no trial: the error says which kind and why, and no discovery
    request is made for it."""
    kube = clusters()
    with pytest.raises(KfpTuneError) as caught:
        launcher_for(kube).kind_of({"apiVersion": "v1", "kind": "Pod"})
    assert "'Pod'" in str(caught.value) and "core API group" in str(caught.value)
    assert kube.calls == []


def test_an_unauthorized_discovery_answer_says_to_list_the_kind_in_trial_resources(clusters: Callable[..., FakeKube]) -> None:
    """401 (the step's token not accepted) is an answer, not a fault to retry: the error names
    the status and the launcher config's way around discovery."""
    kube = clusters((CRD,))
    kube.faults.append(Fault("GET", r"^/apis/example\.com/v1$", 401, times=10))
    with pytest.raises(KfpTuneError) as caught:
        launcher_for(kube).kind_of({"apiVersion": "example.com/v1", "kind": "TrainingRun"})
    message = str(caught.value)
    assert "answered 401" in message and "trialResources" in message and '"kind": "TrainingRun"' in message
    assert [c.status for c in kube.calls if c.path == "/apis/example.com/v1"] == [401]  # asked once


def _with_scale_subresources(kube: FakeKube) -> None:
    """Discovery as the API server answers for CRDs with a scale subresource: ``<plural>/scale``
    of kind Scale beside ``<plural>/status``, every entry sorted by name."""
    plain = kube._discovery

    def discovery(group: str, version: str) -> tuple[int, Any, dict[str, str]]:
        status, body, headers = plain(group, version)
        if status == 200 and group:
            scales = [{"name": f"{r['name']}/scale", "singularName": "", "namespaced": True, "kind": "Scale", "group": "autoscaling", "version": "v1",
                       "verbs": ["get", "patch", "update"]} for r in body["resources"] if "/" not in r["name"]]
            body["resources"] = sorted(body["resources"] + scales, key=lambda r: r["name"])
        return status, body, headers

    kube._discovery = discovery  # type: ignore[method-assign]


def test_a_kind_served_only_as_a_subresource_is_not_a_trial_kind(clusters: Callable[..., FakeKube]) -> None:
    """``evaluationruns/scale`` has kind Scale: no resource of kind Scale can be created there,
    so asking for one is an error, and the kinds it lists are the resources' own."""
    kube = clusters((Resource("example.com", "v1", "evaluationruns", "EvaluationRun"),))
    _with_scale_subresources(kube)
    launcher = launcher_for(kube)
    with pytest.raises(KfpTuneError) as caught:
        launcher.kind_of({"apiVersion": "example.com/v1", "kind": "Scale"})
    assert "no kind 'Scale'" in str(caught.value) and "it serves ['EvaluationRun']" in str(caught.value)
    with pytest.raises(KfpTuneError) as caught:
        launcher.kind_of({"apiVersion": "example.com/v1", "kind": "TrainingRun"})
    assert "it serves ['EvaluationRun']" in str(caught.value)


def test_a_kind_with_a_scale_subresource_gets_its_resources_plural(clusters: Callable[..., FakeKube]) -> None:
    kube = clusters((CRD,))
    _with_scale_subresources(kube)
    assert launcher_for(kube).kind_of({"apiVersion": "example.com/v1", "kind": "TrainingRun"}).plural == CRD.plural


# --- the kind recorded on the anchor ----------------------------------------------------------------


def test_a_fresh_launcher_finds_a_retained_trial_of_a_recorded_kind_as_that_kind(clusters: Callable[..., FakeKube]) -> None:
    """A kind learned by discovery is recorded on the anchor; a launcher with no trialResources
    (a later cleanup) lists it from there, and says what kind each resource it found is."""
    kube = clusters((CRD,))
    name = "rec-trial-1"
    launcher = launcher_for(kube, sleep=lambda seconds: kube.set_status("trainingruns", NAMESPACE, name, {"conditions": [{"type": "Done", "status": "True"}]}))
    assert launcher.run(training_run("rec", name, success_condition=DONE, retain=True)).phase == "Succeeded"
    found = launcher_for(kube).owned_resources("rec").owned
    assert [item["metadata"]["name"] for _, item in found] == [name]
    kind, item = found[0]
    assert (kind.api_version, kind.kind, kind.plural) == (item["apiVersion"], item["kind"], CRD.plural)


# --- a TrainJob's log -------------------------------------------------------------------------------


def test_a_trainjobs_log_comes_from_its_node_container_whatever_the_primary_container_is_called(clusters: Callable[..., FakeKube]) -> None:
    """Trainer's runtime names the training container ``node``; the experiment may call its
    primary container otherwise: the log is read from ``node`` and kept under ``node`` too, where
    every reader looks first (c048f6c: it was kept under the experiment's name, a container its
    pods do not have)."""
    kube = clusters(TRAINER)
    kube.script = lambda manifest: Script(run_seconds=0.0, log=[(0.0, "loss=0.25")])
    manifest = {"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob", "metadata": {"name": "tj-trial-1"},
                "spec": {"runtimeRef": {"name": "torch-distributed"}, "trainer": {"image": "trainer:1", "command": ["python3", "/opt/train.py"]}}}
    trial = TrialRun("tj", "tj-trial-1", manifest, {}, "trainer", success_condition=COMPLETE, metrics_collector={"collector": {"kind": "StdOut"}})
    outcome = launcher_for(kube).run(trial)
    assert (outcome.phase, outcome.logs) == ("Succeeded", {"node": "loss=0.25\n"})
    log_reads = [c.query.get("container") for c in kube.calls if c.path.endswith("/log")]
    assert log_reads and all(container == ["node"] for container in log_reads)  # the fake runtime's training container
