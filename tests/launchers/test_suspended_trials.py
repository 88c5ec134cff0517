"""A trial whose resource is suspended (Kueue queues it: a Job's ``spec.suspend``, the Training
Operator's ``runPolicy.suspend``, a TrainJob's ``spec.suspend``) has no pod until it is admitted:
the launcher says so, naming the queue, and ``timeoutSeconds`` does not count while it waits.

Katib keeps such a trial Running: its GetDeployedJobStatus matches neither condition
(pkg/controller.v1beta1/trial/util/job_util.go). Kubernetes stops and resets a Job's
``activeDeadlineSeconds`` while it is suspended (its ``startTime`` is reset on resume), as the
Training Operator and mpi-operator reset theirs; so the launcher's timeout counts from the
resource's last resume. Through the real ``kubernetes`` client against the fake API server
(tests/support/fake_kube.py: ``FakeKube.resume`` / ``suspend`` play Kueue), on a clock the
launcher's sleep moves on, its monotonic clock too."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import types
from typing import Any

import pytest

from conftest import quadratic_experiment
from fake_kube import TRAINER, TRAINING_OPERATOR, FakeKube, Resource, Script
from kfp_tune.core.interfaces import TrialHandedOver
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.launchers.kubernetes import KubernetesLauncher
from kfp_tune.launchers.kubernetes import launcher as kube_launcher
from kfp_tune.launchers.kubernetes.pod_status import suspension
from pod_polls import POLL, EventClock, polled_launcher

NAMESPACE = "team-a"
TRIAL = "quad-queued123"
QUEUE = {"kueue.x-k8s.io/queue-name": "gpu-queue"}
TRAIN = {"image": "trainer:1", "command": ["python3", "/opt/train.py"], "args": ["--x=${trialParameters.x}", "--y=${trialParameters.y}"]}


@dataclasses.dataclass(frozen=True)
class Kind:
    """A suspended trial kind as a test runs it: its template, primary container, plural and operators."""

    spec: dict[str, Any]
    container: str
    plural: str
    cluster: tuple[tuple[Resource, ...], ...]


def _job() -> dict[str, Any]:
    spec = quadratic_experiment()["spec"]["trialTemplate"]["trialSpec"]
    return {**spec, "metadata": {"labels": dict(QUEUE)}, "spec": {**spec["spec"], "suspend": True}}


KINDS = {
    "Job": Kind(_job(), "main", "jobs", ()),
    "PyTorchJob": Kind({"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": {"labels": dict(QUEUE)}, "spec": {
        "runPolicy": {"suspend": True},
        "pytorchReplicaSpecs": {"Master": {"replicas": 1, "restartPolicy": "OnFailure", "template": {"spec": {"containers": [{"name": "pytorch", **TRAIN}]}}}}}},
        "pytorch", "pytorchjobs", (TRAINING_OPERATOR,)),
    "TrainJob": Kind({"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob", "metadata": {"labels": dict(QUEUE)}, "spec": {
        "suspend": True, "runtimeRef": {"name": "torch-distributed"}, "trainer": {**TRAIN, "numNodes": 1}}}, "node", "trainjobs", (TRAINER,)),
}


def _experiment(kind: Kind) -> Experiment:
    doc = quadratic_experiment(**{"spec.trialTemplate.retain": True})
    doc["spec"]["trialTemplate"]["trialSpec"], doc["spec"]["trialTemplate"]["primaryContainerName"] = kind.spec, kind.container
    return load_experiment(doc)


def _launcher(kube: FakeKube, clock: EventClock, monkeypatch: pytest.MonkeyPatch, timeout: float) -> KubernetesLauncher:
    """A launcher polling every POLL seconds of ``clock``, its monotonic clock ``clock`` too
    (Kueue's doings are set with ``clock.at`` before the run, from its start)."""
    monkeypatch.setattr(kube_launcher, "time", types.SimpleNamespace(monotonic=clock, time=time.time, sleep=time.sleep))
    return polled_launcher(kube, clock, timeout)


def _run(experiment: Experiment, handover: threading.Event | None = None) -> Any:
    trial = TrialState(name=TRIAL, index=0, round="run-1-r000", assignment={"x": "0.1", "y": "0.2"}, created="")
    return dataclasses.replace(trial_run(experiment, trial), handover=handover)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


@pytest.mark.parametrize("name", sorted(KINDS))
def test_a_trial_queued_longer_than_its_timeout_runs_once_admitted(clusters: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, name: str) -> None:
    """Suspended, in Kueue's queue gpu-queue, for 60 s under timeoutSeconds 20, then admitted:
    the trial runs and succeeds with its log; meanwhile the launch-trial log said, once, that its
    resource is suspended and which queue admits it, not that a ResourceQuota or a webhook may
    have refused its pods. Before, it was deleted DeadlineExceeded at 20 s, "it never started",
    and the warning sent the user to look for a ResourceQuota (QA gpu, finding 6)."""
    kind = KINDS[name]
    kube = clusters(*kind.cluster)
    kube.script = lambda manifest: Script(run_seconds=10.0, log=[(1.0, "loss=0.25")])
    clock = EventClock()
    clock.at(60.0, lambda: kube.resume(kind.plural, NAMESPACE, TRIAL))
    with caplog.at_level(logging.WARNING):
        out = _launcher(kube, clock, monkeypatch, timeout=20.0).run(_run(_experiment(kind)))
    assert (out.phase, out.logs) == (LaunchPhase.SUCCEEDED, {kind.container: "loss=0.25\n"}), out
    assert clock.now >= 1070.0  # it ran after it was admitted
    (said,) = [w for w in _warnings(caplog) if TRIAL in w]
    assert "suspended" in said and "'gpu-queue'" in said and "ResourceQuota" not in said and "timeoutSeconds" in said


def test_the_timeout_counts_from_the_resume(clusters: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Admitted at 60 s, the trial runs on: timeoutSeconds 20 ends it within a poll of 20 s
    after the resume (as a Job's activeDeadlineSeconds counts from its startTime, which the
    resume resets), not at once as a trial 60 s old."""
    kind = KINDS["Job"]
    kube = clusters(*kind.cluster)
    kube.script = lambda manifest: Script(run_seconds=600.0, log=[(1.0, "loss=0.25")])
    clock = EventClock()
    clock.at(60.0, lambda: kube.resume(kind.plural, NAMESPACE, TRIAL))
    out = _launcher(kube, clock, monkeypatch, timeout=20.0).run(_run(_experiment(kind)))
    assert (out.phase, out.reason) == (LaunchPhase.FAILED, "DeadlineExceeded"), out
    assert 1060.0 + 20.0 - POLL <= clock.now <= 1060.0 + 20.0 + POLL
    assert kube.stored("jobs", "batch") == []


def test_a_trial_reattached_after_a_checkpoint_is_timed_from_its_resume(clusters: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Still suspended when the step hands it over at 40 s (timeoutSeconds 30), admitted at
    50 s: the next step's reattach, which times a trial from its resource (not from its own
    start), waits while it is suspended and counts from its Suspended condition's turn to False.
    Before, the reattach ended it DeadlineExceeded at once, 40 s after its creationTimestamp."""
    kind = KINDS["Job"]
    kube = clusters(*kind.cluster)
    kube.script = lambda manifest: Script(run_seconds=600.0, log=[(1.0, "loss=0.25")])
    clock = EventClock()
    launcher = _launcher(kube, clock, monkeypatch, timeout=30.0)
    clock.at(50.0, lambda: kube.resume(kind.plural, NAMESPACE, TRIAL))
    handover = threading.Event()
    clock.at(40.0, handover.set)
    with pytest.raises(TrialHandedOver):
        launcher.run(_run(_experiment(kind), handover))
    assert clock.now == 1040.0
    out = launcher.reattach(_run(_experiment(kind), threading.Event()))
    assert out is not None and (out.phase, out.reason) == (LaunchPhase.FAILED, "DeadlineExceeded"), out
    assert 1050.0 + 30.0 - POLL <= clock.now <= 1050.0 + 30.0 + POLL


def test_a_trial_preempted_by_kueue_is_timed_and_followed_again_from_its_resume(clusters: Any, monkeypatch: pytest.MonkeyPatch,
                                                                                   caplog: pytest.LogCaptureFixture) -> None:
    """Admitted at once, running, then suspended at 30 s (Kueue preempts it: its pod deleted) and
    admitted again at 60 s, where it starts over and runs its 35 s: timeoutSeconds 45 counts
    from the resume, so it succeeds, its log the new pod's; the launch-trial log said it was
    suspended after it had started. Before, the 30 s it waited counted, and it was deleted."""
    kind = KINDS["Job"]
    kube = clusters(*kind.cluster)
    log = [(float(at), f"epoch {at}: loss={round(1 / (at + 2), 3)}") for at in range(0, 35, 5)]
    kube.script = lambda manifest: Script(run_seconds=35.0, log=log)
    clock = EventClock()
    clock.at(1.0, lambda: kube.resume(kind.plural, NAMESPACE, TRIAL))
    clock.at(30.0, lambda: kube.suspend(kind.plural, NAMESPACE, TRIAL))
    clock.at(60.0, lambda: kube.resume(kind.plural, NAMESPACE, TRIAL))
    with caplog.at_level(logging.WARNING):
        out = _launcher(kube, clock, monkeypatch, timeout=45.0).run(_run(_experiment(kind)))
    assert (out.phase, out.logs) == (LaunchPhase.SUCCEEDED, {"main": "".join(line + "\n" for _, line in log)}), out
    assert clock.now >= 1095.0
    assert [w for w in _warnings(caplog) if "suspended" in w and "had started" in w]


def test_what_holds_a_resource_is_said_from_its_spec_and_condition() -> None:
    """The words of :func:`suspension`: the fields that hold it, the Suspended condition's
    reason, and the Kueue queue (label, else the older annotation) or, with none, that nothing
    queued it; "" for a resource that is not suspended, its Suspended condition False once it
    resumed."""
    job = {"kind": "Job", "metadata": {"labels": dict(QUEUE)}, "spec": {"suspend": True},
           "status": {"conditions": [{"type": "Suspended", "status": "True", "reason": "JobSuspended", "message": "Job suspended"}]}}
    said = suspension(job)
    assert "spec.suspend" in said and "JobSuspended" in said and "'gpu-queue'" in said
    pytorch = {"kind": "PyTorchJob", "metadata": {"annotations": {"kueue.x-k8s.io/queue-name": "old-queue"}}, "spec": {"runPolicy": {"suspend": True}}}
    assert "spec.runPolicy.suspend" in suspension(pytorch) and "'old-queue'" in suspension(pytorch)
    assert "no kueue.x-k8s.io/queue-name" in suspension({"kind": "TrainJob", "spec": {"suspend": True}})
    resumed = {"kind": "Job", "spec": {"suspend": False}, "status": {"conditions": [{"type": "Suspended", "status": "False", "reason": "JobResumed"}]}}
    assert suspension(resumed) == "" and suspension({"kind": "Job", "spec": {}}) == ""
