"""The trial resource's own labels (the template's ``metadata.labels``) stay on the resource:
they were copied onto every pod template, where neither Katib (its webhook gives a trial's pods
the Trial's labels, mutatePodMetadata; its controller sets only the resource's name and
namespace, generator.go) nor a Job's controller puts them, so a Service, NetworkPolicy or
PodDisruptionBudget meant for the resource selected its pods too. The pods get the Trial's
labels, as under Katib: the Experiment's ``metadata.labels`` (TrialLabels), every label the
algorithm gave the trial, built-in or plug-in (getTrialInstance), and kfp-tune's; they were
chosen by their keys' domain, so the Experiment's labels and a plug-in's reached no pod. (They
do not choose the primary pod: test_primary_pod_own_labels.)"""

from __future__ import annotations

from typing import Any

from conftest import quadratic_experiment
from kfp_tune.core.checkpoints import GENERATION_LABEL, PARENT_LABEL
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.launchers.kubernetes import ClusterSettings, KubernetesConfig, KubernetesLauncher, prepare_manifest, render_manifest
from kfp_tune.launchers.kubernetes.kinds import pod_templates

TRIAL = "labelled-abcd1234"
TRAIN = {"image": "trainer:1", "command": ["python3", "/opt/train.py"], "args": ["--x=${trialParameters.x}", "--y=${trialParameters.y}"]}
OURS = {"kfp-tune.kubeflow.org/experiment": "quad", "kfp-tune.kubeflow.org/trial": TRIAL, "kfp-tune.kubeflow.org/managed-by": "kfp-tune"}


def pytorchjob() -> dict[str, Any]:
    def replica(count: int, labels: dict[str, str]) -> dict[str, Any]:
        return {"replicas": count, "restartPolicy": "Never",
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "pytorch", **TRAIN}]}}}

    return {
        "apiVersion": "kubeflow.org/v1",
        "kind": "PyTorchJob",
        "metadata": {"labels": {"app": "train-job", "netpol": "job-only"}},
        "spec": {"pytorchReplicaSpecs": {"Master": replica(1, {"role": "m"}), "Worker": replica(2, {"role": "w"})}},
    }


def test_a_rendered_trials_own_labels_stay_on_the_resource_and_its_pods_get_kfp_tunes() -> None:
    doc = quadratic_experiment(**{"spec.trialTemplate.trialSpec": pytorchjob(), "spec.trialTemplate.primaryContainerName": "pytorch"})
    manifest = render_manifest(load_experiment(doc), {"x": "0.5", "y": "0.25"}, TRIAL, KubernetesConfig(namespace="team-a"))
    assert {"app": "train-job", "netpol": "job-only", **OURS}.items() <= manifest["metadata"]["labels"].items()
    for path, template in pod_templates(manifest):
        labels = template["metadata"]["labels"]
        assert OURS.items() <= labels.items(), path
        assert "app" not in labels and "netpol" not in labels, f"{path}: the resource's own labels are not its pods'"
        assert labels["role"] in ("m", "w"), "a pod template's own labels stay"


def test_the_algorithms_labels_reach_the_pods_as_kfp_tunes_do() -> None:
    labels = {**OURS, GENERATION_LABEL: "1", PARENT_LABEL: "labelled-parent", "app": "train-job"}
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"labels": dict(labels)},
           "spec": {"template": {"spec": {"containers": [{"name": "main", **TRAIN}], "restartPolicy": "Never"}}}}
    pod_labels = {k: v for k, v in labels.items() if k != "app"}
    out = prepare_manifest(job, "main", ClusterSettings(namespace="team-a"), labels, pod_labels=pod_labels)
    assert out["metadata"]["labels"] == labels
    assert out["spec"]["template"]["metadata"]["labels"] == pod_labels


def prepared(doc: dict[str, Any], trial_labels: dict[str, str]) -> dict[str, Any]:
    """The resource the launcher creates for a trial the algorithm gave these labels."""
    state = TrialState(name=TRIAL, index=0, round="", assignment={"x": "0.5", "y": "0.25"}, created="", labels=trial_labels)
    return KubernetesLauncher(KubernetesConfig(namespace="team-a")).prepare(trial_run(load_experiment(doc), state, "team-a"))


def test_the_experiments_labels_reach_the_pods_and_not_the_resource() -> None:
    doc = quadratic_experiment(**{"metadata.labels": {"team": "ml"}, "spec.trialTemplate.primaryPodLabels": {"team": "ml"}})
    manifest = render_manifest(load_experiment(doc), {"x": "0.5", "y": "0.25"}, TRIAL, KubernetesConfig(namespace="team-a"))
    pod_labels = manifest["spec"]["template"]["metadata"]["labels"]
    assert pod_labels["team"] == "ml" and OURS.items() <= pod_labels.items()
    assert "team" not in manifest["metadata"]["labels"], "Katib's generator gives the resource none of the Trial's labels"


def test_a_plug_in_algorithms_labels_and_pbts_reach_the_pods() -> None:
    given = {"arm.example.com/bandit": "3", GENERATION_LABEL: "2", PARENT_LABEL: "labelled-parent"}
    manifest = prepared(quadratic_experiment(), given)
    assert given.items() <= manifest["spec"]["template"]["metadata"]["labels"].items()
    assert given.items() <= manifest["metadata"]["labels"].items()


def test_on_a_clash_the_algorithms_labels_win_over_the_experiments_and_kfp_tunes_over_both() -> None:
    experiment_labels = {"team": "ml", "arm.example.com/bandit": "experiment", "kfp-tune.kubeflow.org/trial": "not-this", "role": "experiment"}
    doc = quadratic_experiment(**{"metadata.labels": experiment_labels, "spec.trialTemplate.trialSpec.spec.template.metadata": {"labels": {"role": "pod"}}})
    labels = prepared(doc, {"arm.example.com/bandit": "3"})["spec"]["template"]["metadata"]["labels"]
    assert labels["arm.example.com/bandit"] == "3" and labels["kfp-tune.kubeflow.org/trial"] == TRIAL
    assert labels["role"] == "experiment", "as Katib's webhook, the Trial's labels over the pod's own (mutatePodMetadata)"


def test_a_workflows_pods_get_kfp_tunes_labels_and_not_the_resources_own() -> None:
    workflow = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"labels": {"app": "train-job"}},
        "spec": {"entrypoint": "fit", "templates": [{"name": "fit", "container": dict(TRAIN)}]},
    }
    doc = quadratic_experiment(**{
        "spec.trialTemplate.trialSpec": workflow,
        "spec.trialTemplate.primaryContainerName": "main",
        "spec.trialTemplate.successCondition": 'status.[@this].#(phase=="Succeeded")#',
        "spec.trialTemplate.failureCondition": 'status.[@this].#(phase=="Failed")#',
    })
    manifest = render_manifest(load_experiment(doc), {"x": "0.5", "y": "0.25"}, TRIAL, KubernetesConfig(namespace="team-a"))
    assert manifest["metadata"]["labels"]["app"] == "train-job"
    pod_labels = manifest["spec"]["podMetadata"]["labels"]
    assert OURS.items() <= pod_labels.items() and "app" not in pod_labels


def test_a_workflows_pods_get_the_experiments_labels() -> None:
    workflow = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "spec": {"entrypoint": "fit", "templates": [{"name": "fit", "container": dict(TRAIN)}]}}
    doc = quadratic_experiment(**{
        "metadata.labels": {"team": "ml"},
        "spec.trialTemplate.trialSpec": workflow,
        "spec.trialTemplate.primaryContainerName": "main",
        "spec.trialTemplate.successCondition": 'status.[@this].#(phase=="Succeeded")#',
        "spec.trialTemplate.failureCondition": 'status.[@this].#(phase=="Failed")#',
    })
    assert prepared(doc, {"arm.example.com/bandit": "3"})["spec"]["podMetadata"]["labels"].items() >= {"team": "ml", "arm.example.com/bandit": "3"}.items()


def test_katibs_own_pod_labels_are_not_set_and_an_experiment_label_with_their_key_stays_as_written() -> None:
    """Katib's pods carry katib.kubeflow.org/experiment and /trial; kfp-tune's carry its own keys
    (the guide says to select by those)."""
    plain = prepared(quadratic_experiment(), {})["spec"]["template"]["metadata"]["labels"]
    assert not [key for key in plain if key.startswith("katib.kubeflow.org/")]
    written = prepared(quadratic_experiment(**{"metadata.labels": {"katib.kubeflow.org/trial": "x"}}), {})
    assert written["spec"]["template"]["metadata"]["labels"]["katib.kubeflow.org/trial"] == "x"
