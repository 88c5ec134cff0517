"""Which pod templates may make a trial's primary pod, as far as the kind's controller is known
here (``kinds.pod_labelling``, ``primary_pod_templates``), and the launcher leaving SIGTERM's
handler as it found it: cases the other tests left open, each found by a mutant that survived
them. The labels expected are those the Training Operator and the Job controller give their
pods, written out here."""

from __future__ import annotations

import signal
import time
from typing import Any

from conftest import quadratic_experiment
from fake_kube import FakeKube
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher
from kfp_tune.launchers.kubernetes.kinds import pod_labelling, primary_pod_templates

COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
TRAIN = {"name": "pytorch", "image": "python:3.11-slim", "command": ["python3", "/opt/train.py"]}


def template(labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {**({"metadata": {"labels": labels}} if labels else {}), "spec": {"containers": [dict(TRAIN)]}}


def test_a_replicas_own_template_labels_tell_the_primary_pods_template() -> None:
    """The Master and Worker templates differ only in their own ``role`` label: only the
    Worker's pods carry ``role: w``."""
    manifest = {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "spec": {"pytorchReplicaSpecs": {
        "Master": {"replicas": 1, "template": template({"role": "m"})},
        "Worker": {"replicas": 2, "template": template({"role": "w"})},
    }}}
    assert primary_pod_templates(manifest, {"role": "w"}) == {"spec.pytorchReplicaSpecs.Worker.template"}
    assert primary_pod_templates(manifest, {"role": "m"}) == {"spec.pytorchReplicaSpecs.Master.template"}


def test_only_an_indexed_jobs_pods_carry_their_completion_index() -> None:
    """The Job controller labels a pod with its completion index only in Indexed mode."""
    def job(**spec: Any) -> dict[str, Any]:
        return {"apiVersion": "batch/v1", "kind": "Job", "spec": {**spec, "template": template()}}

    first = {COMPLETION_INDEX: "0"}
    assert primary_pod_templates(job(completionMode="Indexed", completions=2, parallelism=2), first) == {"spec.template"}
    assert primary_pod_templates(job(completionMode="NonIndexed"), first) == set()
    assert primary_pod_templates(job(), first) == set()


def test_a_replica_type_with_no_template_is_passed_over() -> None:
    """``Worker: {replicas: 2}`` has no pod template (the API server refuses it later, naming
    the field); the labelling of the rest is still made, without an error."""
    manifest = {"apiVersion": "kubeflow.org/v1", "kind": "TFJob", "spec": {"tfReplicaSpecs": {
        "Chief": {"replicas": 1, "template": template()},
        "Worker": {"replicas": 2},
    }}}
    labelling = pod_labelling(manifest)
    assert labelling is not None and set(labelling.pods) == {"spec.tfReplicaSpecs.Chief.template"}


def test_the_sigterm_handler_from_before_is_back_once_a_trial_is_followed(kube: FakeKube) -> None:
    """launch-trial's own handler (or the inline engine's) must work again after a trial: the
    launcher sets its own only while it follows one."""
    def before(signum: int, frame: Any) -> None:
        raise AssertionError("not to be called")

    original = signal.signal(signal.SIGTERM, before)
    try:
        launcher = KubernetesLauncher(KubernetesConfig(namespace="team-a", poll_seconds=0.0, api_retry_seconds=0.0),
                                      api_client=kube.api_client(), env={}, sleep=time.sleep)
        state = TrialState(name="quad-signal-1", index=0, round="run-1-r000", assignment={"x": "0.1", "y": "0.2"}, created="")
        assert launcher.run(trial_run(load_experiment(quadratic_experiment()), state)).phase == "Succeeded"
        assert signal.getsignal(signal.SIGTERM) is before
    finally:
        signal.signal(signal.SIGTERM, original)
