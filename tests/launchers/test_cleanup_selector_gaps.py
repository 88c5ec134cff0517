"""cleanup's ``kubectl delete -l`` for the trial resources it kept (a gap a mutation pass found):
the experiment's label selector stands for the kept resources only when it selects nothing else;
a resource with the same labels that another anchor owns (another namespace's copy of the
experiment left behind, an experiment made again) would be deleted by it too, so the kept ones
are named instead."""

from __future__ import annotations

import time

from conftest import quadratic_experiment
from fake_kube import FakeKube
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher

OURS = {"kfp-tune.kubeflow.org/managed-by": "kfp-tune", "kfp-tune.kubeflow.org/experiment": "quad"}


def test_a_same_labelled_resource_another_anchor_owns_keeps_the_selector_from_being_offered(kube: FakeKube) -> None:
    config = KubernetesConfig(namespace="team-a", poll_seconds=0.05, api_retry_seconds=0.0)
    launcher = KubernetesLauncher(config, api_client=kube.api_client(), env={}, sleep=time.sleep)
    experiment = load_experiment(quadratic_experiment(**{"spec.trialTemplate.retain": True}))
    running = TrialState(name="quad-aaaa1111", index=0, round="run-1-r000", assignment={"x": "0.1", "y": "0.2"}, created="")
    assert launcher.run(trial_run(experiment, running)).phase == "Succeeded"
    other = kube.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kfp-tune-quad-before"}}, "team-a")
    elsewhere = {"apiVersion": "v1", "kind": "ConfigMap", "name": "kfp-tune-quad-before", "uid": other["metadata"]["uid"]}
    kube.put({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "quad-bbbb2222", "labels": {**OURS, "kfp-tune.kubeflow.org/trial": "quad-bbbb2222"},
                                                                     "ownerReferences": [elsewhere]}}, "team-a")
    swept = launcher.sweep("quad", keep={"quad-aaaa1111"})
    assert swept.kept == [("jobs.batch", "quad-aaaa1111")]
    assert swept.kept_selectors == {}
