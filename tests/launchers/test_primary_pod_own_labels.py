"""Katib's pod webhook adds the Trial's labels (the Experiment's ``metadata.labels``, the
algorithm's) to a pod and then tests ``primaryPodLabels`` on the pod's labels as they came
(inject_webhook.go Mutate: ``isPrimaryPod(pod.Labels, ...)``, not the mutated pod's), so a key only
the Experiment sets selects no pod there. Here the Experiment's labels chose the primary pod:
the collector went to every template of a team: ml experiment with ``primaryPodLabels: {team:
ml}``, the cluster's pod lookup found any pod, and a local run started a PyTorchJob's Worker. The
templates' own labels and their controller's decide now."""

from __future__ import annotations

import dataclasses
from typing import Any

from conftest import quadratic_experiment
from fake_kube import FakeKube, Script
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.space import search_space_of
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher
from kfp_tune.launchers.kubernetes.kinds import pod_templates, primary_pod_templates
from kfp_tune.launchers.replicas import local_primary

TRIAL = "quad-abcd1234"
MASTER = "spec.pytorchReplicaSpecs.Master.template"
WORKER = "spec.pytorchReplicaSpecs.Worker.template"
TRAIN = {"image": "trainer:1", "command": ["python3", "/opt/train.py", "--x=${trialParameters.x}", "--y=${trialParameters.y}"]}


def pytorchjob(master_labels: dict[str, str] | None = None) -> dict[str, Any]:
    def replica(count: int, labels: dict[str, str] | None) -> dict[str, Any]:
        template: dict[str, Any] = {"spec": {"containers": [{"name": "pytorch", **TRAIN}]}}
        if labels:
            template["metadata"] = {"labels": labels}
        return {"replicas": count, "restartPolicy": "Never", "template": template}

    # Worker first: the YAML's order must not choose
    return {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob",
            "spec": {"pytorchReplicaSpecs": {"Worker": replica(2, None), "Master": replica(1, master_labels)}}}


def team_experiment(trial_spec: dict[str, Any], collector: str = "StdOut") -> dict[str, Any]:
    return quadratic_experiment(**{
        "metadata.labels": {"team": "ml"}, "spec.trialTemplate.primaryPodLabels": {"team": "ml"},
        "spec.trialTemplate.trialSpec": trial_spec, "spec.trialTemplate.primaryContainerName": "pytorch",
        "spec.metricsCollectorSpec": {"collector": {"kind": collector},
                                       **({"source": {"fileSystemPath": {"path": "/logs/m.log", "kind": "File"}}} if collector == "File" else {})},
    })


def test_a_key_only_the_trials_labels_set_selects_no_template() -> None:
    assert primary_pod_templates(pytorchjob(), {"team": "ml"}, {"team": "ml"}) == set()
    assert primary_pod_templates(pytorchjob({"team": "ml"}), {"team": "ml"}, {"team": "ml"}) == {MASTER}, "the template's own label selects it"
    job = {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {"containers": [{"name": "main", "image": "x"}]}}}}
    assert primary_pod_templates(job, {"team": "ml"}, {"team": "ml"}) == set()
    assert primary_pod_templates(job, {"team": "ml"}) == {"spec.template"}, "without the trial's labels: a key the cluster may set"


def prepared(doc: dict[str, Any]) -> dict[str, Any]:
    """The resource the launcher creates for the trial."""
    state = TrialState(name=TRIAL, index=0, round="", assignment={"x": "0.5", "y": "0.25"}, created="")
    return KubernetesLauncher(KubernetesConfig(namespace="team-a")).prepare(trial_run(load_experiment(doc), state, "team-a"))


def has_collector(template: dict[str, Any]) -> bool:
    spec = template["spec"]
    return any(c["name"] != "pytorch" for c in spec.get("containers", []) + spec.get("initContainers", []))


def test_the_collector_goes_to_no_template_when_only_the_experiment_sets_the_key() -> None:
    manifest = prepared(team_experiment(pytorchjob(), collector="File"))
    for path, template in pod_templates(manifest):
        assert template["metadata"]["labels"]["team"] == "ml", f"{path}: the pods still get the Experiment's labels"
        assert not has_collector(template), f"{path}: Katib injects no collector here"


def test_the_collector_goes_to_the_template_that_sets_the_key_itself() -> None:
    manifest = prepared(team_experiment(pytorchjob({"team": "ml"}), collector="File"))
    assert {path: has_collector(t) for path, t in pod_templates(manifest)} == {WORKER: False, MASTER: True}


def test_a_local_run_starts_the_master_not_the_first_worker() -> None:
    experiment = load_experiment(team_experiment(pytorchjob()))
    state = TrialState(name=TRIAL, index=0, round="", assignment={"x": "0.5", "y": "0.25"}, created="")
    run = trial_run(experiment, state, "default")
    chosen = local_primary(run.manifest, run.primary_container, run.primary_pod_labels, run.pod_labels)
    assert chosen is not None and chosen[0] == MASTER


def test_on_the_cluster_a_pod_with_the_experiments_label_alone_is_not_the_primary_pod(kube: FakeKube) -> None:
    """Every pod of the Job carries team=ml (the Experiment's); none is primary, as on Katib:
    PrimaryPodNotFound, no log read as the trial's."""
    kube.script = lambda m: Script(run_seconds=0.05, log=[(0.0, "loss=0.25")])
    launcher = KubernetesLauncher(KubernetesConfig(namespace="team-a", poll_seconds=0.02), api_client=kube.api_client(), env={"KFP_TUNE_STORE": "s3://b/p"})
    experiment = load_experiment(quadratic_experiment(**{"metadata.labels": {"team": "ml"}, "spec.trialTemplate.primaryPodLabels": {"team": "ml"}}))
    first = {p.name: p.format(p.value_at(0)) for p in search_space_of(experiment.spec.parameters)}
    trial = trial_run(experiment, TrialState(name=TRIAL, index=0, round="r0", assignment=first, created=""), "team-a")
    out = launcher.run(dataclasses.replace(trial, retain=True))
    assert (out.phase, out.reason) == ("Failed", "PrimaryPodNotFound")
    assert "team=ml" in out.message
