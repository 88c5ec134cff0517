"""Two paths of the Kubernetes launcher that only a cluster's history reaches, against the fake
API server: re-attaching to a trial a dead launch-trial created, when the launcher's settings now
refuse it (it ends Failed, TrialRefused, and says why; nothing is followed), and a delete the API
refuses (one clear error naming the call, never a raw ApiException)."""

from __future__ import annotations

import time

import pytest

from conftest import quadratic_experiment
from fake_kube import FakeKube, Fault
from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.interfaces import TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher

TRIAL = "quad-left-1"


def launcher_for(kube: FakeKube, **settings: object) -> KubernetesLauncher:
    config = KubernetesConfig(**{"namespace": "team-a", "poll_seconds": 0.05, "api_retry_seconds": 0.0, **settings})  # type: ignore[arg-type]
    return KubernetesLauncher(config, api_client=kube.api_client(), env={}, sleep=time.sleep)


def job_trial(service_account: str = "") -> TrialRun:
    doc = quadratic_experiment(**{"spec.trialTemplate.retain": True})
    if service_account:
        doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["serviceAccountName"] = service_account
    state = TrialState(name=TRIAL, index=0, round="run-1-r000", assignment={"x": "0.1", "y": "0.2"}, created="")
    return trial_run(load_experiment(doc), state)


def test_a_left_trial_that_the_settings_now_refuse_ends_refused_without_being_followed(kube: FakeKube) -> None:
    """A dead attempt created the trial under a service account the launcher allowed then; the
    launcher that takes over allows it no more."""
    before = launcher_for(kube, service_accounts=("trainer",))
    trial = job_trial(service_account="trainer")
    before.create_or_adopt(before.prepare(trial, before._owner(before.anchor("quad"))))
    calls = len(kube.calls)
    outcome = launcher_for(kube, service_accounts=("default",)).reattach(trial)
    assert outcome is not None
    assert (outcome.phase, outcome.reason) == ("Failed", "TrialRefused")
    assert outcome.message == "spec.template.spec.serviceAccountName: 'trainer' is not in the launcher's allowed service accounts ['default']"
    assert [c.verb for c in kube.calls[calls:]] == ["get"], "one look at the trial, nothing followed or deleted"


def test_a_trial_that_is_gone_is_not_reattached(kube: FakeKube) -> None:
    assert launcher_for(kube).reattach(job_trial()) is None


def test_a_forbidden_delete_names_the_verb_the_trial_and_the_role(kube: FakeKube) -> None:
    launcher = launcher_for(kube)
    assert launcher.run(job_trial()).phase == "Succeeded"
    kube.faults = [Fault("DELETE", f"/jobs/{TRIAL}$", 403, times=100)]
    with pytest.raises(KfpTuneError) as caught:
        launcher.sweep("quad")
    assert str(caught.value) == (
        f"Kubernetes refused to delete jobs.batch '{TRIAL}' in namespace 'team-a' (403 Forbidden: injected fault): the launch-trial service account "
        "needs 'delete' on jobs.batch in that namespace (see manifests/rbac.yaml)"
    )


def test_a_delete_that_keeps_failing_is_one_clear_error(kube: FakeKube) -> None:
    launcher = launcher_for(kube)
    assert launcher.run(job_trial()).phase == "Succeeded"
    kube.faults = [Fault("DELETE", f"/jobs/{TRIAL}$", 500, times=100)]
    with pytest.raises(KfpTuneError) as caught:
        launcher.sweep("quad")
    assert str(caught.value) == f"Kubernetes delete jobs.batch '{TRIAL}' in namespace 'team-a' failed: 500 Internal Server Error: injected fault"


def test_a_trials_log_is_read_as_the_launcher_reads_it_when_the_trial_ends(kube: FakeKube) -> None:
    """What ``kfp-tune logs`` and the client show for a trial on a cluster: its primary
    container's log, from its pod, while the resource is kept (retain)."""
    launcher = launcher_for(kube)
    trial = job_trial()
    assert launcher.trial_logs(trial) == {}, "no pod yet: nothing to show"
    outcome = launcher.run(trial)
    assert launcher.trial_logs(trial) == outcome.logs == {trial.primary_container: "loss=0.5\n"}
