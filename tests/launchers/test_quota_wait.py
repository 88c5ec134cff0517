"""A create a namespace's ResourceQuota refuses (403 Forbidden, "exceeded quota") is no missing
permission: Katib's trial controller tries it again until the quota frees (trial_controller.go,
reconcileJob requeues on the error), and so does the launcher, for ``quotaWaitSeconds``; then it
says "exceeded quota" with the server's words. A 403 for a missing permission still names the
Role to fix, at once."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from conftest import quadratic_experiment
from fake_kube import FakeKube, Fault, Script
from kfp_tune.core.errors import TrialNotCreated
from kfp_tune.core.interfaces import TrialHandedOver
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher

TRIAL = "quad-abcd1234"
PYTORCH = {
    "apiVersion": "kubeflow.org/v1",
    "kind": "PyTorchJob",
    "spec": {"pytorchReplicaSpecs": {"Master": {"replicas": 1, "template": {"spec": {"containers": [
        {"name": "pytorch", "image": "t:1", "command": ["python3", "/opt/train.py", "--x=${trialParameters.x}", "--y=${trialParameters.y}"]}]}}}}},
}
QUOTA = (f'pytorchjobs.kubeflow.org "{TRIAL}" is forbidden: exceeded quota: trials, requested: count/pytorchjobs.kubeflow.org=1, '
         "used: count/pytorchjobs.kubeflow.org=2, limited: count/pytorchjobs.kubeflow.org=2")
RBAC = ('pytorchjobs.kubeflow.org is forbidden: User "system:serviceaccount:team-a:pipeline-runner" cannot create resource "pytorchjobs" '
        'in API group "kubeflow.org" in the namespace "team-a"')


def run(kube: FakeKube, handover: threading.Event | None = None, sleeps: list[float] | None = None, **config: Any) -> Any:
    kube.script = lambda m: Script(run_seconds=0.05, log=[(0.0, "loss=0.25")])
    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"].update(trialSpec=PYTORCH, primaryContainerName="pytorch")
    trial = trial_run(load_experiment(doc), TrialState(name=TRIAL, index=0, round="r0", assignment={"x": "0.1", "y": "0.2"}, created=""), "team-a", None, handover)
    waits = sleeps if sleeps is not None else []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(min(seconds, 0.01))

    settings = {"namespace": "team-a", "poll_seconds": 0.01, "api_retry_seconds": 0.0, **config}
    return KubernetesLauncher(KubernetesConfig(**settings), api_client=kube.api_client(), env={}, sleep=sleep).run(trial)


def test_a_create_over_quota_is_tried_again_until_the_quota_frees(operator_kube: FakeKube) -> None:
    operator_kube.faults = [Fault("POST", "/pytorchjobs$", 403, times=3, message=QUOTA, reason="Forbidden")]
    sleeps: list[float] = []
    out = run(operator_kube, sleeps=sleeps)
    assert (out.phase, out.logs) == ("Succeeded", {"pytorch": "loss=0.25\n"})
    assert [c.status for c in operator_kube.calls_to("POST", "pytorchjobs")] == [403, 403, 403, 201]
    assert sleeps[:3] == [1.0, 2.0, 4.0], "backing off from pollSeconds (at least a second) between tries"


def test_the_wait_is_bounded_and_then_says_exceeded_quota_with_the_servers_words(operator_kube: FakeKube) -> None:
    operator_kube.faults = [Fault("POST", "/pytorchjobs$", 403, times=1000, message=QUOTA, reason="Forbidden")]
    with pytest.raises(TrialNotCreated) as caught:
        run(operator_kube, quota_wait_seconds=0.2)
    message = str(caught.value)
    assert f"Kubernetes refused to create pytorchjobs.kubeflow.org {TRIAL!r} in namespace 'team-a': exceeded quota (403 Forbidden): {QUOTA}; still so after waiting" in message
    assert "quotaWaitSeconds: 0.2" in message and "retain: true" in message
    assert "rbac" not in message.lower() and "service account" not in message
    assert len(operator_kube.calls_to("POST", "pytorchjobs")) >= 2 and operator_kube.stored("pytorchjobs") == []


def test_no_wait_refuses_at_once(operator_kube: FakeKube) -> None:
    operator_kube.faults = [Fault("POST", "/pytorchjobs$", 403, times=1000, message=QUOTA, reason="Forbidden")]
    with pytest.raises(TrialNotCreated, match="exceeded quota"):
        run(operator_kube, quota_wait_seconds=0)
    assert len(operator_kube.calls_to("POST", "pytorchjobs")) == 1


def test_a_missing_permission_is_named_at_once(operator_kube: FakeKube) -> None:
    operator_kube.faults = [Fault("POST", "/pytorchjobs$", 403, times=1000, message=RBAC, reason="Forbidden")]
    with pytest.raises(TrialNotCreated) as caught:
        run(operator_kube)
    assert str(caught.value).endswith(
        f"Kubernetes refused to create pytorchjobs.kubeflow.org {TRIAL!r} in namespace 'team-a' (403 Forbidden: {RBAC}): the launch-trial service account "
        "needs 'create' on pytorchjobs.kubeflow.org in that namespace (see manifests/rbac.yaml)"
    )
    assert len(operator_kube.calls_to("POST", "pytorchjobs")) == 1


def test_a_checkpoint_ends_the_wait_with_nothing_created(operator_kube: FakeKube) -> None:
    """At a checkpoint the trials are handed over: one still waiting for quota goes too (the next
    step finds nothing to follow and gives its budget back), instead of holding the step while
    the handed-over trials, unfollowed and so not deleted, keep the quota."""
    operator_kube.faults = [Fault("POST", "/pytorchjobs$", 403, times=1000, message=QUOTA, reason="Forbidden")]
    handover = threading.Event()
    handover.set()
    with pytest.raises(TrialHandedOver):
        run(operator_kube, handover=handover)
    assert len(operator_kube.calls_to("POST", "pytorchjobs")) == 1 and operator_kube.stored("pytorchjobs") == []


@pytest.mark.parametrize(("given", "wait"), [
    ({}, None),  # the stated default
    ({"timeoutSeconds": 900}, 900.0),  # a trial holding the quota ends by then
    ({"timeoutSeconds": 900, "quotaWaitSeconds": 60}, 60.0),
    ({"quotaWaitSeconds": 0}, 0.0),
])
def test_how_long_a_trial_waits_for_quota(given: dict[str, Any], wait: float | None) -> None:
    from kfp_tune.launchers.kubernetes.launcher import DEFAULT_QUOTA_WAIT_SECONDS

    wait = DEFAULT_QUOTA_WAIT_SECONDS if wait is None else wait
    assert KubernetesConfig.from_dict({"kind": "kubernetes", "namespace": "team-a", **given}).quota_wait == wait


@pytest.mark.parametrize("value", [-1, "an hour", True])
def test_a_quota_wait_that_is_no_number_of_seconds_is_refused(value: Any) -> None:
    with pytest.raises(ValueError, match=r"launcher_config quotaWaitSeconds: expected a number of seconds, 0 or more"):
        KubernetesConfig.from_dict({"kind": "kubernetes", "namespace": "team-a", "quotaWaitSeconds": value})

