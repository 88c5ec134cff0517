"""A trial whose ``primaryPodLabels`` match none of its pods: no log was read and no collector ran
in a primary pod (Katib's webhook adds its collector only to a pod with those labels), so it
ended MetricsUnavailable, blaming the trial's output. It now fails ``PrimaryPodNotFound``, naming
the labels and the labels its pods have."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import yaml

from conftest import REPO, quadratic_experiment
from fake_kube import TRAINING_OPERATOR, FakeKube, Script
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.space import search_space_of
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher

TRIAL = "quad-abcd1234"


def launch(kube: FakeKube, doc: dict[str, Any], retain: bool = False) -> Any:
    kube.script = lambda m: Script(run_seconds=0.05, log=[(0.0, "loss=0.25")])
    launcher = KubernetesLauncher(KubernetesConfig(namespace="team-a", poll_seconds=0.02), api_client=kube.api_client(), env={"KFP_TUNE_STORE": "s3://b/p"})
    experiment = load_experiment(doc)
    first = {p.name: p.format(p.value_at(0)) for p in search_space_of(experiment.spec.parameters)}
    trial = trial_run(experiment, TrialState(name=TRIAL, index=0, round="r0", assignment=first, created=""), "team-a")
    return launcher.run(dataclasses.replace(trial, retain=retain))


def job_with_pod_labels(labels: dict[str, str], collector: str = "StdOut") -> dict[str, Any]:
    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["primaryPodLabels"] = labels
    doc["spec"]["metricsCollectorSpec"] = {"collector": {"kind": collector}}
    return doc


def test_a_job_whose_pods_do_not_carry_the_labels_fails_naming_them(kube: FakeKube) -> None:
    out = launch(kube, job_with_pod_labels({"role": "master"}), retain=True)
    assert (out.phase, out.reason) == ("Failed", "PrimaryPodNotFound")
    assert out.message.startswith(f"no pod of Job {TRIAL!r} matched primaryPodLabels role=master, so no metrics were read from it; its pods' labels: {TRIAL}-")
    assert f"batch.kubernetes.io/job-name={TRIAL}" in out.message
    assert "controller-uid" not in out.message and "kfp-tune.kubeflow.org" not in out.message  # the same on every pod: no help
    assert out.logs == {}
    assert len(kube.stored("jobs")) == 1, "an ended trial is kept under retain, as any other"


def test_a_push_trial_reports_from_any_pod_and_is_not_failed(kube: FakeKube) -> None:
    """Katib runs no collector for Push: primaryPodLabels choose nothing that matters."""
    out = launch(kube, job_with_pod_labels({"role": "master"}, collector="Push"))
    assert (out.phase, out.reason) == ("Succeeded", "CompletionsReached")  # the Job's own condition: no PrimaryPodNotFound


def test_katibs_mpijob_example_on_the_training_operator_shows_the_launchers_labels(clusters: Any) -> None:
    """Katib's MPIJob example selects ``mpi-job-role: launcher``, which mpi-operator v0.3 and the
    Training Operator up to v1.4 set; v1.9 labels its launcher ``job-role: master``."""
    doc = yaml.safe_load((REPO / "tests" / "data" / "katib-examples" / "kubeflow-training-operator_mpijob-horovod.yaml").read_text())
    out = launch(clusters(TRAINING_OPERATOR), doc)
    assert (out.phase, out.reason) == ("Failed", "PrimaryPodNotFound")
    assert "matched primaryPodLabels mpi-job-role=launcher" in out.message
    launcher_labels = out.message.partition(f"{TRIAL}-launcher: ")[2].partition(";")[0]
    assert "training.kubeflow.org/job-role=master" in launcher_labels and "training.kubeflow.org/replica-type=launcher" in launcher_labels


@pytest.mark.parametrize("labels", [{}, {"batch.kubernetes.io/job-name": TRIAL}])
def test_labels_that_match_leave_the_trial_as_it_was(kube: FakeKube, labels: dict[str, str]) -> None:
    out = launch(kube, job_with_pod_labels(labels))
    assert (out.phase, out.logs) == ("Succeeded", {"main": "loss=0.25\n"})


def test_every_pod_listed_is_separated_by_a_semicolon(kube: FakeKube) -> None:
    """A Job of two pods (``parallelism: 2``), neither with the labels: both are listed, each
    with its labels, apart by "; " (the labels within one by ", ")."""
    doc = job_with_pod_labels({"role": "master"})
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["parallelism"] = 2
    out = launch(kube, doc)
    assert (out.phase, out.reason) == ("Failed", "PrimaryPodNotFound")
    listed = out.message.partition("its pods' labels: ")[2].partition(". Set primaryPodLabels")[0]
    pods = listed.split("; ")
    assert len(pods) == 2 and all(pod.startswith(f"{TRIAL}-") and f"batch.kubernetes.io/job-name={TRIAL}" in pod for pod in pods), listed


def test_the_primary_pod_is_the_newest_of_those_not_failed(kube: FakeKube) -> None:
    """Of two running pods of the trial, the one created later is read (a Job that made a pod
    again), though its name comes after the other's; a failed pod, newest of all, is not."""
    from kfp_tune.launchers.kubernetes.kinds import KINDS

    labels = {"batch.kubernetes.io/job-name": TRIAL}
    for name, created, phase in ((f"{TRIAL}-b-newer", "2026-11-23T00:00:05Z", "Running"), (f"{TRIAL}-a-older", "2026-11-23T00:00:01Z", "Running"),
                                 (f"{TRIAL}-c-failed", "2026-11-23T00:00:09Z", "Failed")):
        kube.put({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels, "creationTimestamp": created},
                  "spec": {"containers": [{"name": "main", "image": "python:3.12"}]}, "status": {"phase": phase}}, "team-a")
    launcher = KubernetesLauncher(KubernetesConfig(namespace="team-a"), api_client=kube.api_client())
    trial = trial_run(load_experiment(quadratic_experiment()), TrialState(name=TRIAL, index=0, round="r0", assignment={"x": "0.1", "y": "0.2"}, created=""), "team-a")
    assert launcher.primary_pod(trial, KINDS[("batch/v1", "Job")], TRIAL) == f"{TRIAL}-b-newer"
