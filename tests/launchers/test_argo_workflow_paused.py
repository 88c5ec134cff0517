"""An Argo Workflow's ``spec.suspend`` is a pause, not a queue: ``argo suspend`` sets it, Argo
starts no new step of the workflow until ``argo resume``, and the pods already running go on
(Argo's WorkflowSpec: "Suspend will suspend the workflow and prevent execution of any future
steps in the workflow"; its maintainers: nodes already running are not and cannot be suspended,
argoproj/argo-workflows#4876). Kueue does not hold Workflows by it (its Argo support is open,
kubernetes-sigs/kueue#74). So a paused trial is not said to have had its pods deleted, is not
followed from its start again, and its ``timeoutSeconds`` goes on counting, where a Job's
``spec.suspend`` (Kueue's hold) stops it (tests/launchers/test_suspended_trials.py).

Through the real ``kubernetes`` client against the fake API server, Argo's controller played by
the test as in tests/launchers/test_any_kind.py, on a clock the launcher's sleep moves on."""

from __future__ import annotations

import logging
import time
import types
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from conftest import DATA
from fake_kube import FakeKube, Resource
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher
from kfp_tune.launchers.kubernetes import launcher as kube_launcher
from kfp_tune.launchers.kubernetes.pod_status import paused, suspension

ARGO = (Resource("argoproj.io", "v1alpha1", "workflows", "Workflow"),)
NAMESPACE = "team-a"
TRIAL = "argo-paused1"
POLL = 5.0
TIMEOUT = 20.0
GIVE_UP = 300.0
"""Seconds of the test's clock after which a launcher still waiting fails the test (the old
code never timed a paused workflow out)."""


class Clock:
    """The cluster's seconds, moved on by the launcher's sleep; ``at`` runs a callback once the
    clock has reached a time (what the user does meanwhile)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.events: list[tuple[float, Callable[[], None]]] = []

    def __call__(self) -> float:
        return self.now

    def at(self, seconds: float, event: Callable[[], None]) -> None:
        self.events.append((1000.0 + seconds, event))

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        assert self.now < 1000.0 + GIVE_UP, "the launcher still waits on the paused workflow"
        for due, event in [e for e in self.events if e[0] <= self.now]:
            self.events.remove((due, event))
            event()


def _experiment(suspended: bool = False) -> Experiment:
    doc = yaml.safe_load((DATA / "katib-examples" / "argo_argo-workflow.yaml").read_text())
    if suspended:
        doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["suspend"] = True
    return load_experiment(doc)


def _play_argo(kube: FakeKube) -> None:
    """Argo's controller as far as the launcher sees it: the model-training step's pod (its
    containers init, wait and main) printing a loss, and the workflow Running; a workflow
    created with ``spec.suspend: true`` starts no step, so it gets no pod."""

    def control(namespace: str, workflow: dict[str, Any]) -> None:
        workflow["status"] = {"phase": "Running"}
        if workflow["spec"].get("suspend"):
            return
        (template,) = [t for t in workflow["spec"]["templates"] if t["name"] == "model-training"]
        labels = {**template["metadata"]["labels"], "workflows.argoproj.io/workflow": workflow["metadata"]["name"]}
        pod = {"metadata": {"labels": labels}, "spec": {
            "initContainers": [{"name": "init", "image": "argoexec:v3.5"}],
            "containers": [{"name": "wait", "image": "argoexec:v3.5"}, {**template["container"], "name": "main"}],
        }}
        kube.run_pod(namespace, workflow, f"{workflow['metadata']['name']}-model-training-1001", pod, {}, log=("loss=0.25",), printer="main")

    kube.controllers["workflows"] = control


def _argo_suspend(kube: FakeKube) -> None:
    """``argo suspend TRIAL``: the workflow's ``spec.suspend`` set true; its pods left running."""
    with kube.lock:
        (workflow,) = [o for (_, plural, _, name), o in kube.objects.items() if (plural, name) == ("workflows", TRIAL)]
        workflow["spec"]["suspend"] = True


def _launcher(kube: FakeKube, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> KubernetesLauncher:
    kube.clock = clock
    monkeypatch.setattr(kube_launcher, "time", types.SimpleNamespace(monotonic=clock, time=time.time, sleep=time.sleep))
    config = KubernetesConfig(namespace=NAMESPACE, poll_seconds=POLL, api_retry_seconds=5.0, timeout_seconds=TIMEOUT, service_accounts=("argo",))
    return KubernetesLauncher(config, api_client=kube.api_client(), env={"KFP_TUNE_STORE": "s3://bucket/tuning"}, sleep=clock.sleep, clock=kube.wall)


def _run(experiment: Experiment) -> Any:
    return trial_run(experiment, TrialState(name=TRIAL, index=0, round="run-1-r000", assignment={"lr": "0.02"}, created=""), NAMESPACE)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and TRIAL in r.getMessage()]


def test_a_workflow_paused_while_it_runs_is_timed_on_and_not_said_to_start_over(clusters: Any, monkeypatch: pytest.MonkeyPatch,
                                                                               caplog: pytest.LogCaptureFixture) -> None:
    """``argo suspend`` at 5 s while the training pod runs (never resumed): the launch-trial log
    says once that the workflow is paused, that its running pods go on and that timeoutSeconds
    goes on counting, and the trial is deleted DeadlineExceeded within a poll of its 20 s.
    Before, it was warned of as a Kueue preemption ("its pods are deleted and it starts over")
    and its timeout stopped while the pause lasted, so it never ended."""
    kube = clusters(ARGO)
    _play_argo(kube)
    clock = Clock()
    clock.at(5.0, lambda: _argo_suspend(kube))
    with caplog.at_level(logging.WARNING):
        out = _launcher(kube, clock, monkeypatch).run(_run(_experiment()))
    assert (out.phase, out.reason) == (LaunchPhase.FAILED, "DeadlineExceeded"), out
    assert 1000.0 + TIMEOUT <= clock.now <= 1000.0 + TIMEOUT + POLL
    assert "paused" in out.message and "never started" not in out.message, out.message
    (said,) = _warnings(caplog)
    assert "paused" in said and "argo resume" in said and "timeoutSeconds goes on counting" in said, said
    assert not any(word in said for word in ("Kueue", "deleted", "starts over", "suspended")), said
    assert kube.stored("workflows") == []  # deleted at its timeout


def test_a_workflow_created_paused_is_said_paused_not_refused_pods_and_times_out(clusters: Any, monkeypatch: pytest.MonkeyPatch,
                                                                                caplog: pytest.LogCaptureFixture) -> None:
    """A template whose Workflow says ``suspend: true`` has no pod until someone resumes it: the
    log says it is paused (not that a ResourceQuota or webhook may have refused its pods, nor a
    Kueue queue), and timeoutSeconds ends it, its message naming the pause. Before, the
    launcher waited on it forever, as on a queued Job."""
    kube = clusters(ARGO)
    _play_argo(kube)
    clock = Clock()
    with caplog.at_level(logging.WARNING):
        out = _launcher(kube, clock, monkeypatch).run(_run(_experiment(suspended=True)))
    assert (out.phase, out.reason) == (LaunchPhase.FAILED, "DeadlineExceeded"), out
    assert 1000.0 + TIMEOUT <= clock.now <= 1000.0 + TIMEOUT + POLL
    assert "it never started" in out.message and "paused" in out.message, out.message
    (said,) = _warnings(caplog)
    assert "paused" in said and "ResourceQuota" not in said and "Kueue" not in said, said


def test_only_kinds_whose_suspend_is_a_hold_are_said_suspended() -> None:
    """:func:`suspension` reads a Job's (and a user's kind's) ``spec.suspend`` as a hold and an
    Argo Workflow's not; :func:`paused` says an Argo Workflow's, at any version, and nothing of
    other kinds or of a Workflow not paused."""
    workflow = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "w"}, "spec": {"suspend": True}}
    assert suspension(workflow) == ""
    assert "spec.suspend: true" in paused(workflow) and "argo resume" in paused(workflow)
    assert paused({**workflow, "apiVersion": "argoproj.io/v1"}) != ""
    assert paused({**workflow, "spec": {"suspend": False}}) == "" and paused({**workflow, "spec": {}}) == ""
    job = {"apiVersion": "batch/v1", "kind": "Job", "spec": {"suspend": True}}
    assert "spec.suspend: true" in suspension(job) and paused(job) == ""
    own = {"apiVersion": "example.com/v1", "kind": "Workflow", "spec": {"suspend": True}}  # a user's kind of that name
    assert suspension(own) != "" and paused(own) == ""
