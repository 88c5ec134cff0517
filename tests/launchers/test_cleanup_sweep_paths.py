"""The cleanup sweep's other paths (``KubernetesLauncher.owned_resources``), against the fake API
server: an experiment that has no anchor owns nothing; a resource under the anchor needs
kfp-tune's labels as well to be swept; a kind listed at one version does not stop the sweep
from listing the kinds after it; and the API's refusals are one clear error that names the call."""

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

OURS = {"kfp-tune.kubeflow.org/managed-by": "kfp-tune", "kfp-tune.kubeflow.org/experiment": "quad"}


def launcher_for(kube: FakeKube, retry_seconds: float = 0.0) -> KubernetesLauncher:
    config = KubernetesConfig(namespace="team-a", poll_seconds=0.05, api_retry_seconds=retry_seconds)
    return KubernetesLauncher(config, api_client=kube.api_client(), env={}, sleep=time.sleep)


def retained_job_trial(launcher: KubernetesLauncher, name: str) -> None:
    experiment = load_experiment(quadratic_experiment(**{"spec.trialTemplate.retain": True}))
    state = TrialState(name=name, index=0, round="run-1-r000", assignment={"x": "0.1", "y": "0.2"}, created="")
    assert launcher.run(trial_run(experiment, state)).phase == "Succeeded"


def test_an_experiment_without_an_anchor_owns_nothing_and_nothing_is_listed(operator_kube: FakeKube) -> None:
    assert launcher_for(operator_kube).sweep("never-ran").deleted == []
    assert [c for c in operator_kube.calls if c.verb == "list"] == [], "without its anchor nothing can be owned: no kind is listed"


def test_a_resource_under_the_anchor_without_kfp_tunes_labels_is_not_swept(operator_kube: FakeKube) -> None:
    launcher = launcher_for(operator_kube)
    retained_job_trial(launcher, "quad-aaaa1111")
    anchor = next(o for o in operator_kube.stored("configmaps") if o["metadata"]["name"] == "kfp-tune-quad")
    owner = {"apiVersion": "v1", "kind": "ConfigMap", "name": "kfp-tune-quad", "uid": anchor["metadata"]["uid"]}
    operator_kube.put({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "quad-unlabelled", "labels": {"app": "x"}, "ownerReferences": [owner]}}, "team-a")
    assert launcher.sweep("quad").deleted == ["quad-aaaa1111"]
    assert "quad-unlabelled" in [o["metadata"]["name"] for o in operator_kube.stored("jobs")]
    (listing,) = [c for c in operator_kube.calls if c.verb == "list" and c.resource == "jobs.batch"]
    assert listing.query["labelSelector"] == ["kfp-tune.kubeflow.org/managed-by=kfp-tune,kfp-tune.kubeflow.org/experiment=quad"]


def test_the_kinds_after_a_kind_served_at_another_version_are_still_listed(operator_kube: FakeKube) -> None:
    """MPIJob is listed at kubeflow.org/v1 here, so its v2beta1 entry is passed over; the
    TrainJobs after it in the list of kinds are still swept."""
    launcher = launcher_for(operator_kube)
    anchor = launcher._owner(launcher.anchor("quad"))
    trainjob = {"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob", "metadata": {"name": "quad-train", "labels": {**OURS, "kfp-tune.kubeflow.org/trial": "quad-train"}, "ownerReferences": [anchor]}}
    operator_kube.put(trainjob, "team-a")
    assert launcher.sweep("quad").deleted == ["quad-train"]
    listed = [c.resource for c in operator_kube.calls if c.verb == "list"]
    assert listed.count("mpijobs.kubeflow.org") == 1 and "trainjobs.trainer.kubeflow.org" in listed


def test_a_forbidden_anchor_read_names_the_verb_the_config_map_and_the_role(operator_kube: FakeKube) -> None:
    operator_kube.faults = [Fault("GET", "/configmaps/kfp-tune-quad$", 403, times=100)]
    with pytest.raises(KfpTuneError) as caught:
        launcher_for(operator_kube).sweep("quad")
    assert str(caught.value) == (
        "Kubernetes refused to get configmaps 'kfp-tune-quad' in namespace 'team-a' (403 Forbidden: injected fault): the launch-trial service account "
        "needs 'get' on configmaps in that namespace (see manifests/rbac.yaml)"
    )


def test_an_anchor_read_that_keeps_failing_is_one_clear_error(operator_kube: FakeKube) -> None:
    operator_kube.faults = [Fault("GET", "/configmaps/kfp-tune-quad$", 500, times=100)]
    with pytest.raises(KfpTuneError) as caught:
        launcher_for(operator_kube).sweep("quad")
    assert str(caught.value) == "Kubernetes get configmaps 'kfp-tune-quad' in namespace 'team-a' failed: 500 Internal Server Error: injected fault"


def test_a_forbidden_listing_names_the_verb_and_the_kind(operator_kube: FakeKube) -> None:
    launcher = launcher_for(operator_kube)
    launcher.anchor("quad")
    operator_kube.faults = [Fault("GET", "/pytorchjobs$", 403, times=100)]
    with pytest.raises(KfpTuneError) as caught:
        launcher.sweep("quad")
    assert str(caught.value) == (
        "Kubernetes refused to list pytorchjobs.kubeflow.org in namespace 'team-a' (403 Forbidden: injected fault): the launch-trial service account "
        "needs 'list' on pytorchjobs.kubeflow.org in that namespace (see manifests/rbac.yaml)"
    )


def test_a_listing_that_keeps_failing_is_one_clear_error(operator_kube: FakeKube) -> None:
    launcher = launcher_for(operator_kube)
    launcher.anchor("quad")
    operator_kube.faults = [Fault("GET", "/tfjobs$", 503, times=100)]
    with pytest.raises(KfpTuneError) as caught:
        launcher.sweep("quad")
    assert str(caught.value) == "Kubernetes list tfjobs.kubeflow.org in namespace 'team-a' failed: 503 Service Unavailable: injected fault"


def test_an_anchor_whose_record_of_kinds_is_damaged_still_has_its_trials_swept(operator_kube: FakeKube) -> None:
    """A trialKinds that is not a list of kinds (edited by hand, cut short) is passed over with a
    warning: the kinds kfp-tune knows are still listed and the experiment's Jobs deleted."""
    operator_kube.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kfp-tune-quad", "labels": OURS},
                       "data": {"experiment": "quad", "trialKinds": "[{not json"}}, "team-a")
    launcher = launcher_for(operator_kube)
    retained_job_trial(launcher, "quad-bbbb2222")
    assert launcher.sweep("quad").deleted == ["quad-bbbb2222"]
    assert operator_kube.stored("jobs") == []
