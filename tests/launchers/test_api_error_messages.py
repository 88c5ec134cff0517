"""What the Kubernetes launcher says when the API server answers an error it does not retry:
the verb, the resource and its name, the namespace, and the status with the server's reason, so
a user can tell a refused body (422) from an unauthorised token (401) or a server that stayed
down past the retry budget (500). Only a 404 on create or list reads as "not there"."""

from __future__ import annotations

import time

import pytest

from conftest import quadratic_experiment
from fake_kube import FakeKube, Fault
from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher

TRIAL = "quad-api-1"
WHERE = f"jobs.batch '{TRIAL}' in namespace 'team-a'"


def launch(kube: FakeKube) -> None:
    launcher = KubernetesLauncher(
        KubernetesConfig(namespace="team-a", poll_seconds=0.0, api_retry_seconds=0.0), api_client=kube.api_client(), env={}, sleep=time.sleep,
    )
    state = TrialState(name=TRIAL, index=0, round="run-1-r000", assignment={"x": "0.1", "y": "0.2"}, created="")
    launcher.run(trial_run(load_experiment(quadratic_experiment()), state))


@pytest.mark.parametrize(("status", "reason"), [(422, "Unprocessable Entity"), (500, "Internal Server Error")])
def test_a_refused_create_names_the_status_and_the_servers_reason(kube: FakeKube, status: int, reason: str) -> None:
    kube.faults = [Fault("POST", "/jobs$", status, times=100)]
    with pytest.raises(KfpTuneError) as caught:
        launch(kube)
    # the trial was never created: the launcher's configuration or the cluster, not the trial (TrialNotCreated)
    assert str(caught.value) == f"Kubernetes trial {TRIAL!r} could not be created: Kubernetes create {WHERE} failed: {status} {reason}"


def test_an_unauthorised_read_of_the_trial_names_it(kube: FakeKube) -> None:
    kube.faults = [Fault("GET", f"/jobs/{TRIAL}$", 401, times=100)]
    with pytest.raises(KfpTuneError) as caught:
        launch(kube)
    assert str(caught.value) == f"Kubernetes get {WHERE} failed: 401 Unauthorized"
