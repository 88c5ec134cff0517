"""Trials of any kind, as Katib's ``trialResources`` allows: Argo Workflow and Tekton PipelineRun
(pods made at run time, their containers named by their controllers), JobSet, and a user's CRD
whose plural the launcher learns from the cluster's discovery API (or from ``trialResources`` in
its config) and whose pods it finds through their owner references, as Katib's pod webhook does.

The fake API server (tests/support/fake_kube.py) serves discovery as a real one does and leaves
a kind it does not play to the test: each test here plays that kind's controller (pods, and
``.status`` as that controller writes it) and drives it between the launcher's polls."""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import shlex
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from conftest import DATA, REPO, quadratic_experiment
from fake_kube import TRAINER, FakeKube, Fault, Resource, serve
from kfp_tune.cli import main
from kfp_tune.core.errors import KfpTuneError, SpecError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher, render_manifest
from pod_polls import after_polls

ARGO = (Resource("argoproj.io", "v1alpha1", "workflows", "Workflow"),)
CRD = Resource("example.com", "v1", "trainingruns", "TrainingRun")
NAMESPACE = "team-a"
ARGO_EXAMPLE = DATA / "katib-examples" / "argo_argo-workflow.yaml"
TEKTON_EXAMPLE = DATA / "katib-examples" / "tekton_pipeline-run.yaml"




def _launcher(kube: FakeKube, sleep: Callable[[float], None] = lambda seconds: None, **config: Any) -> KubernetesLauncher:
    settings = {"namespace": NAMESPACE, "poll_seconds": 0.0, "api_retry_seconds": 5.0, **config}
    return KubernetesLauncher(KubernetesConfig(**settings), api_client=kube.api_client(), env={"KFP_TUNE_STORE": "s3://bucket/tuning"}, sleep=sleep)


def _run(experiment: Any, name: str, assignment: dict[str, str]) -> Any:
    return trial_run(experiment, TrialState(name=name, index=0, round="run-1-r000", assignment=assignment, created=""), NAMESPACE)


# --- Argo Workflow: Katib's own example, as it is ---------------------------------------------------


def _argo_experiment() -> Any:
    return load_experiment(yaml.safe_load(ARGO_EXAMPLE.read_text()))


def _play_argo(kube: FakeKube) -> None:
    """Argo's controller, as far as the launcher sees it: a pod per container or script template,
    labelled with the workflow's name and the template's labels, its containers init, wait and
    main (the template's container, renamed); the workflow Running."""

    def control(namespace: str, workflow: dict[str, Any]) -> None:
        name, spec = workflow["metadata"]["name"], workflow["spec"]
        for index, template in enumerate(spec["templates"]):
            body = template.get("container") or template.get("script")
            if body is None:
                continue
            labels = {**(spec.get("podMetadata") or {}).get("labels", {}), **(template.get("metadata") or {}).get("labels", {}),
                      "workflows.argoproj.io/workflow": name}
            pod = {"metadata": {"labels": labels}, "spec": {
                "initContainers": [{"name": "init", "image": "argoexec:v3.5"}],
                "containers": [{"name": "wait", "image": "argoexec:v3.5"}, {**{k: v for k, v in body.items() if k != "source"}, "name": "main"}],
            }}
            printed = ("loss=0.25",) if template["name"] == "model-training" else ("7",)
            kube.run_pod(namespace, workflow, f"{name}-{template['name']}-{1000 + index}", pod, {}, log=printed, printer="main")
        workflow["status"] = {"phase": "Running", "progress": "0/2"}

    kube.controllers["workflows"] = control


@pytest.mark.parametrize(("phase", "reason", "message"), [("Succeeded", "", ""), ("Failed", "Failed", "child 'argo-trial-1-model-training' failed")])
def test_katibs_argo_example_runs_to_its_conditions_and_cleanup_removes_it(clusters, phase, reason, message, caplog):
    kube = clusters(ARGO)
    _play_argo(kube)
    trial = "argo-trial-1"
    finish = after_polls(lambda: kube.set_status("workflows", NAMESPACE, trial, {"phase": phase, "message": message} if message else {"phase": phase}))
    launcher = _launcher(kube, finish, service_accounts=("argo",))
    experiment = _argo_experiment()
    outcome = launcher.run(_run(experiment, trial, {"lr": "0.02"}))
    assert (outcome.phase, outcome.reason, outcome.message) == (phase, reason, message)
    # the anchor it made records the kind: no warning that cleanup will not find it (it said so on every run)
    assert not [r for r in caplog.records if "was made for trials of another kind" in r.getMessage()]
    # the model-training pod (primaryPodLabels) and its container "main": not gen-epochs' output
    assert outcome.logs == {"main": "loss=0.25\n"}
    created = kube.calls_to("POST", "workflows")[0].body
    templates = {t["name"]: t for t in created["spec"]["templates"]}
    assert {"name": "KFP_TUNE_TRIAL", "value": trial} in templates["model-training"]["container"]["env"]
    assert "env" not in templates["gen-epochs"]["script"]  # not the primary container
    container = templates["model-training"]["container"]
    assert container["command"] == ["sh", "-c"] and "--lr=0.02" in shlex.split(container["args"][0])  # StdOut: Katib's sh -c line
    assert created["spec"]["podMetadata"]["labels"]["kfp-tune.kubeflow.org/trial"] == trial
    # retain: true in Katib's example; the run's cleanup sweeps it, its pods with it
    assert [w["metadata"]["name"] for w in kube.stored("workflows")] == [trial]
    assert launcher.sweep(experiment.name).deleted == [trial]
    assert kube.stored("workflows") == [] and kube.stored("pods") == []


def _role_with_the_commented_rule(group: str) -> set[tuple[str, str]]:
    """(verb, resource) the shipped Role grants once the commented rule for ``group`` in
    manifests/rbac.yaml is uncommented, as the manifest tells a user to."""
    text = (REPO / "manifests" / "rbac.yaml").read_text()
    role = next(d for d in yaml.safe_load_all(text) if d["kind"] == "Role")
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(f'# - apiGroups: ["{group}"]'))
    rule = yaml.safe_load("\n".join(line.replace("  # ", "  ", 1) for line in lines[start : start + 3]))[0]
    rules = [*role["rules"], rule]
    return {(verb, f"{resource}.{g}" if g else resource) for r in rules for g in r["apiGroups"] for resource in r["resources"] for verb in r["verbs"]}


def test_the_commented_argo_rule_in_the_shipped_role_allows_every_call_an_argo_trial_makes(clusters):
    kube = clusters(ARGO)
    _play_argo(kube)
    launcher = _launcher(kube, after_polls(lambda: kube.set_status("workflows", NAMESPACE, "argo-rbac", {"phase": "Succeeded"})), service_accounts=("argo",))
    experiment = _argo_experiment()
    assert launcher.run(_run(experiment, "argo-rbac", {"lr": "0.02"})).phase == "Succeeded"
    used = {(call.verb, call.resource) for call in kube.calls}  # the sweep after is kfp-tune cleanup's, with a person's rights
    assert launcher.sweep(experiment.name).deleted == ["argo-rbac"]
    allowed = _role_with_the_commented_rule("argoproj.io")
    assert used <= allowed, sorted(used - allowed)
    assert {("create", "workflows.argoproj.io"), ("get", "workflows.argoproj.io")} <= used  # retain: true, as Katib's example: not deleted


def test_cleanup_finds_an_argo_trial_by_what_the_anchor_recorded():
    """A later cleanup (a fresh launcher: nothing cached) finds workflows: the anchor names the kind."""
    fake, server = serve(ARGO)
    try:
        _play_argo(fake)
        launcher = _launcher(fake, after_polls(lambda: fake.set_status("workflows", NAMESPACE, "argo-left", {"phase": "Succeeded"})), service_accounts=("argo",))
        experiment = _argo_experiment()
        assert launcher.run(_run(experiment, "argo-left", {"lr": "0.01"})).phase == "Succeeded"
        anchor = fake.stored("configmaps")[0]
        assert json.loads(anchor["data"]["trialKinds"]) == [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "plural": "workflows"}]
        assert _launcher(fake).sweep(experiment.name).deleted == ["argo-left"]
        assert fake.stored("workflows") == []
    finally:
        server.shutdown()
        server.server_close()


def test_argo_trials_run_only_as_an_allowed_service_account(clusters):
    kube = clusters(ARGO)
    # a bound: a Workflow created by mistake, with no Argo to end it, fails fast
    outcome = _launcher(kube, timeout_seconds=5.0).run(_run(_argo_experiment(), "argo-trial-2", {"lr": "0.02"}))
    assert (outcome.phase, outcome.reason) == ("Failed", "TrialRefused")
    assert outcome.message == "spec.serviceAccountName: 'argo' is not in the launcher's allowed service accounts ['default']"
    assert kube.calls_to("POST", "workflows") == []


def test_render_prints_katibs_argo_example(capsys):
    config = json.dumps({"serviceAccounts": ["argo"]})
    assert main(["render", str(ARGO_EXAMPLE), "--namespace", NAMESPACE, "--launcher-config", config]) == 0, capsys.readouterr().err
    manifest = yaml.safe_load(capsys.readouterr().out)
    assert (manifest["apiVersion"], manifest["kind"], manifest["metadata"]["namespace"]) == ("argoproj.io/v1alpha1", "Workflow", NAMESPACE)
    training = next(t for t in manifest["spec"]["templates"] if t["name"] == "model-training")
    assert "--lr=0.01" in shlex.split(training["container"]["args"][0])  # lr's first value: its min; StdOut: the sh -c line
    assert any(e["name"] == "KFP_TUNE_EXPERIMENT" for e in training["container"]["env"])


def test_argos_primary_container_is_main_and_no_other():
    doc = yaml.safe_load(ARGO_EXAMPLE.read_text())
    load_experiment(copy.deepcopy(doc))  # "main", as in Katib's example
    doc["spec"]["trialTemplate"]["primaryContainerName"] = "model-training"  # the template's own name: not what the pod has
    with pytest.raises(SpecError) as caught:
        load_experiment(doc)
    assert "spec.trialTemplate.primaryContainerName: Argo names the container of a container or script template 'main'" in str(caught.value)
    assert "expected one of ['main']" in str(caught.value)


# --- Tekton PipelineRun: Katib's example, corrected as older Katib versions had it ------------------


def _tekton_doc() -> dict[str, Any]:
    """Katib's Tekton example with its learningRate parameter used (Katib refuses it as it is,
    tests/test_katib_examples.py): the lr param's value is ${trialParameters.learningRate}."""
    doc = yaml.safe_load(TEKTON_EXAMPLE.read_text())
    params = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["params"]
    params[0] = {"name": "lr", "value": "${trialParameters.learningRate}"}
    steps = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["pipelineSpec"]["tasks"][1]["taskSpec"]["steps"]
    steps[0]["command"] = [a.replace("$(trialParameters.lr)", "$(params.lr)") for a in steps[0]["command"]]
    return doc


def test_the_corrected_tekton_example_validates_and_renders():
    experiment = load_experiment(_tekton_doc())
    manifest = render_manifest(experiment, {"lr": "0.02"}, "tekton-trial-1", KubernetesConfig(namespace=NAMESPACE))
    assert (manifest["kind"], manifest["metadata"]["namespace"]) == ("PipelineRun", NAMESPACE)
    assert manifest["spec"]["params"][0] == {"name": "lr", "value": "0.02"}
    assert manifest["spec"]["serviceAccountName"] == "default"  # tekton.dev/v1beta1 takes it there
    tasks = {t["name"]: t["taskSpec"]["steps"][0] for t in manifest["spec"]["pipelineSpec"]["tasks"]}
    assert {"name": "KFP_TUNE_TRIAL", "value": "tekton-trial-1"} in tasks["model-training"]["env"]
    assert "env" not in tasks["data-preprocessing"]  # step-epochs-optimize is not the primary container


def test_tektons_primary_container_is_step_and_the_step_name():
    doc = _tekton_doc()
    doc["spec"]["trialTemplate"]["primaryContainerName"] = "model-training"
    with pytest.raises(SpecError) as caught:
        load_experiment(doc)
    assert "Tekton names a step's container 'step-<step name>'" in str(caught.value)
    assert "expected one of ['step-epochs-optimize', 'step-model-training']" in str(caught.value)


# --- JobSet --------------------------------------------------------------------------------------------

JOBSET = {
    "apiVersion": "jobset.x-k8s.io/v1alpha2",
    "kind": "JobSet",
    "spec": {"replicatedJobs": [{"name": "workers", "replicas": 1, "template": {"spec": {"parallelism": 2, "completions": 2, "template": {"spec": {
        "containers": [{"name": "trainer", "image": "trainer:1", "command": ["python3", "/opt/train.py"], "args": ["--x=${trialParameters.x}", "--y=${trialParameters.y}"]}],
        "restartPolicy": "Never",
    }}}}}]},
}


def _jobset_experiment() -> Any:
    return load_experiment(quadratic_experiment(**{
        "spec.trialTemplate.trialSpec": JOBSET,
        "spec.trialTemplate.primaryContainerName": "trainer",
        "spec.trialTemplate.primaryPodLabels": {"jobset.sigs.k8s.io/replicatedjob-name": "workers", "batch.kubernetes.io/job-completion-index": "0"},
        "spec.trialTemplate.successCondition": 'status.conditions.#(type=="Completed")#|#(status=="True")#',
        "spec.trialTemplate.failureCondition": 'status.conditions.#(type=="Failed")#|#(status=="True")#',
    }))


def test_a_jobset_trial_validates_and_renders_with_its_pod_template_prepared():
    manifest = render_manifest(_jobset_experiment(), {"x": "0.5", "y": "0.25"}, "jobset-trial-1", KubernetesConfig(namespace=NAMESPACE, service_accounts=("trainer",)))
    pod = manifest["spec"]["replicatedJobs"][0]["template"]["spec"]["template"]
    assert pod["metadata"]["labels"]["kfp-tune.kubeflow.org/trial"] == "jobset-trial-1"
    assert (pod["spec"]["serviceAccountName"], pod["spec"]["automountServiceAccountToken"]) == ("trainer", False)
    container = pod["spec"]["containers"][0]
    assert container["command"] == ["sh", "-c"] and shlex.split(container["args"][0]) == ["python3", "/opt/train.py", "--x=0.5", "--y=0.25"]
    assert {"name": "KFP_TUNE_TRIAL", "value": "jobset-trial-1"} in container["env"]


def test_a_jobset_trial_runs_on_a_cluster_serving_jobsets(clusters):
    """JobSet's controller played by the test: Jobs per replicated job, their pods labelled as
    JobSet labels them; the launcher finds the primary pod by the jobset-name label."""
    kube = clusters(TRAINER)

    def control(namespace: str, jobset: dict[str, Any]) -> None:
        name = jobset["metadata"]["name"]
        template = jobset["spec"]["replicatedJobs"][0]["template"]["spec"]["template"]
        for index in (1, 0):
            labels = {"jobset.sigs.k8s.io/jobset-name": name, "jobset.sigs.k8s.io/replicatedjob-name": "workers", "batch.kubernetes.io/job-completion-index": str(index)}
            kube.run_pod(namespace, jobset, f"{name}-workers-0-{index}-abcde", template, labels, log=(f"loss={index}.5",), printer="trainer")

    kube.controllers["jobsets"] = control
    done = {"conditions": [{"type": "Completed", "status": "True", "reason": "AllJobsCompleted", "message": "jobset completed successfully"}]}
    launcher = _launcher(kube, after_polls(lambda: kube.set_status("jobsets", NAMESPACE, "jobset-trial-2", done)), service_accounts=("trainer",))
    outcome = launcher.run(_run(_jobset_experiment(), "jobset-trial-2", {"x": "0.5", "y": "0.5"}))
    assert (outcome.phase, outcome.logs) == ("Succeeded", {"trainer": "loss=0.5\n"})  # completion index 0, not 1
    assert kube.stored("jobsets") == [] and kube.stored("pods") == []


# --- a user's CRD: plural from discovery, pods by owner references ----------------------------------

TRAINING_RUN = {
    "apiVersion": "example.com/v1",
    "kind": "TrainingRun",
    "spec": {"leader": {"template": {"spec": {"containers": [{"name": "trainer", "image": "trainer:1", "command": ["python3", "/opt/train.py"],
                                                            "args": ["--x=${trialParameters.x}", "--y=${trialParameters.y}"]}]}}}},
}
CRD_SUCCESS = 'status.conditions.#(type=="Done")#|#(status=="True")#'
CRD_FAILURE = 'status.[@this].#(state=="Crashed")#'


def _crd_experiment(container: str = "trainer") -> Any:
    return load_experiment(quadratic_experiment(**{
        "spec.trialTemplate.trialSpec": TRAINING_RUN,
        "spec.trialTemplate.primaryContainerName": container,
        "spec.trialTemplate.primaryPodLabels": {"example.com/role": "leader"},
        "spec.trialTemplate.successCondition": CRD_SUCCESS,
        "spec.trialTemplate.failureCondition": CRD_FAILURE,
    }))


def _play_crd(kube: FakeKube, container: str = "trainer") -> None:
    """The user's operator: a batch Job it owns, the Job's leader and follower pods (labelled
    with the role only: no label names the TrainingRun), and, made first, a leader pod of
    someone else's run whose name sorts before them."""

    def control(namespace: str, run: dict[str, Any]) -> None:
        name = run["metadata"]["name"]
        stranger = kube.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"other-{name}"}}, namespace)
        template = copy.deepcopy(run["spec"]["leader"]["template"])
        template["spec"]["containers"][0]["name"] = container
        kube.run_pod(namespace, stranger, f"a-{name}-leader", template, {"example.com/role": "leader"}, log=("loss=9.0",), printer=container)
        job = kube.put({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": f"{name}-job", "ownerReferences": [
            {"apiVersion": run["apiVersion"], "kind": run["kind"], "name": name, "uid": run["metadata"]["uid"], "controller": True}]},
            "spec": {"template": template}}, namespace)
        kube.run_pod(namespace, job, f"{name}-leader", template, {"example.com/role": "leader"}, log=("loss=0.75",), printer=container)
        kube.run_pod(namespace, job, f"{name}-follower", template, {"example.com/role": "follower"}, log=("loss=5.0",), printer=container)

    kube.controllers["trainingruns"] = control


def test_a_users_crd_runs_with_its_plural_from_discovery_and_its_pod_by_owner_references(clusters):
    kube = clusters((CRD,))
    _play_crd(kube)
    done = {"conditions": [{"type": "Done", "status": "True"}]}
    launcher = _launcher(kube, after_polls(lambda: kube.set_status("trainingruns", NAMESPACE, "crd-trial-1", done)))
    outcome = launcher.run(_run(_crd_experiment(), "crd-trial-1", {"x": "0.1", "y": "0.2"}))
    assert (outcome.phase, outcome.logs) == ("Succeeded", {"trainer": "loss=0.75\n"})  # the pod the run owns, through its Job
    assert [c.path for c in kube.calls if c.path == "/apis/example.com/v1"] == ["/apis/example.com/v1"]  # learned once
    assert len(kube.calls_to("POST", "trainingruns")) == 1 and kube.stored("trainingruns") == []


def test_a_users_crd_fails_on_its_failure_condition_with_its_message(clusters):
    kube = clusters((CRD,))
    _play_crd(kube)
    crashed = {"state": "Crashed", "message": "leader exited 137", "conditions": [{"type": "Done", "status": "False"}]}
    launcher = _launcher(kube, after_polls(lambda: kube.set_status("trainingruns", NAMESPACE, "crd-trial-2", crashed)))
    outcome = launcher.run(_run(_crd_experiment(), "crd-trial-2", {"x": "0.1", "y": "0.2"}))
    assert (outcome.phase, outcome.reason, outcome.message, outcome.logs) == ("Failed", "Failed", "leader exited 137", {"trainer": "loss=0.75\n"})


def test_the_failure_condition_is_looked_at_first_as_katib_does(clusters):
    """A resource on which both conditions are met failed (job_util.go checks failure first)."""
    kube = clusters((CRD,))
    _play_crd(kube)
    both = {"state": "Crashed", "message": "crashed after it was done", "conditions": [{"type": "Done", "status": "True"}]}
    launcher = _launcher(kube, after_polls(lambda: kube.set_status("trainingruns", NAMESPACE, "crd-trial-8", both)))
    outcome = launcher.run(_run(_crd_experiment(), "crd-trial-8", {"x": "0.1", "y": "0.2"}))
    assert (outcome.phase, outcome.message) == ("Failed", "crashed after it was done")


def test_a_primary_container_the_pod_does_not_have_fails_the_trial_naming_those_it_has(clusters, caplog):
    """The operator names its pods' container itself ("worker"): validation can only warn; the
    launcher finds out in the running pod, says which containers it has, and ends the trial."""
    kube = clusters((CRD,))
    _play_crd(kube, container="worker")
    with caplog.at_level(logging.WARNING, logger="kfp_tune.core.validation"):
        experiment = _crd_experiment(container="worker")
    assert "no container named 'worker' in trialSpec; kind TrainingRun (example.com/v1) is not one kfp-tune knows" in caplog.text
    done = {"conditions": [{"type": "Done", "status": "True"}]}
    launcher = _launcher(kube, after_polls(lambda: kube.set_status("trainingruns", NAMESPACE, "crd-trial-3", done)))
    experiment_pod_named = _crd_experiment()  # the template names "trainer"; the operator makes "worker"
    outcome = launcher.run(_run(experiment_pod_named, "crd-trial-3", {"x": "0.1", "y": "0.2"}))
    assert (outcome.phase, outcome.reason) == ("Failed", "PrimaryContainerNotFound")
    assert outcome.message == ("the primary pod 'crd-trial-3-leader' of trainingruns.example.com 'crd-trial-3' has no container named 'trainer' "
                               "(primaryContainerName); its containers: ['worker', 'istio-proxy']")
    assert kube.stored("trainingruns") == []  # ended: no metrics can come from it
    assert experiment.spec.trial_template is not None and experiment.spec.trial_template.primary_container_name == "worker"  # warned, not refused


def test_a_users_crd_whose_template_shows_the_primary_container_is_prepared_as_a_pod_template():
    """A kind not known here whose template holds the primary container in a pod template gets
    the launcher's settings there, as a Job's does: the trial's env and GPUs on the container,
    the service account and node selector on its pod spec. (Taken for a kind whose pods are
    made at run time, its gpus were refused: no container to give them to.)"""
    launcher = KubernetesLauncher(
        KubernetesConfig(namespace=NAMESPACE, service_accounts=("trainer",), node_selector={"pool": "gpu"}, gpus=1),
        env={"KFP_TUNE_STORE": "s3://bucket/tuning"},
    )
    manifest = launcher.prepare(_run(_crd_experiment(), "crd-trial-9", {"x": "0.1", "y": "0.2"}))
    pod = manifest["spec"]["leader"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert (env["KFP_TUNE_STORE"], env["KFP_TUNE_EXPERIMENT"], env["KFP_TUNE_TRIAL"]) == ("s3://bucket/tuning", "quad", "crd-trial-9")
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert (pod["serviceAccountName"], pod["nodeSelector"]) == ("trainer", {"pool": "gpu"})

def test_a_kind_the_cluster_does_not_serve_is_named_in_the_error(clusters):
    kube = clusters()  # the CRD is not installed
    with pytest.raises(KfpTuneError, match=r"the cluster serves no example\.com/v1 \(discovery /apis/example\.com/v1 answered 404\)"):
        _launcher(kube).run(_run(_crd_experiment(), "crd-trial-4", {"x": "0.1", "y": "0.2"}))
    other = clusters((Resource("example.com", "v1", "evaluationruns", "EvaluationRun"),))
    with pytest.raises(KfpTuneError, match=r"serves example\.com/v1 but no kind 'TrainingRun' there .*it serves \['EvaluationRun'\]"):
        _launcher(other).run(_run(_crd_experiment(), "crd-trial-4", {"x": "0.1", "y": "0.2"}))


def test_where_discovery_is_forbidden_the_configs_trial_resources_give_the_plural(clusters):
    kube = clusters((CRD,))
    _play_crd(kube)
    kube.faults.append(Fault("GET", r"^/apis/example\.com/v1$", 403, times=100))
    with pytest.raises(KfpTuneError, match="list it in the launcher config's trialResources"):
        _launcher(kube).run(_run(_crd_experiment(), "crd-trial-5", {"x": "0.1", "y": "0.2"}))
    config = KubernetesConfig.from_dict({"namespace": NAMESPACE, "trialResources": [{"kind": "TrainingRun", "apiVersion": "example.com/v1", "plural": "trainingruns"}]})
    done = {"conditions": [{"type": "Done", "status": "True"}]}
    launcher = KubernetesLauncher(dataclasses.replace(config, poll_seconds=0.0), api_client=kube.api_client(),
                                  sleep=after_polls(lambda: kube.set_status("trainingruns", NAMESPACE, "crd-trial-5", done)))
    assert launcher.run(_run(_crd_experiment(), "crd-trial-5", {"x": "0.1", "y": "0.2"})).phase == "Succeeded"
    assert [c.status for c in kube.calls if c.path == "/apis/example.com/v1"] == [403]  # the first launcher's only


def test_a_pod_label_in_trial_resources_finds_the_pods_without_reading_owners(clusters):
    kube = clusters((CRD,))

    def control(namespace: str, run: dict[str, Any]) -> None:
        name = run["metadata"]["name"]
        labels = {"example.com/run": name, "example.com/role": "leader"}
        kube.run_pod(namespace, run, f"{name}-leader", run["spec"]["leader"]["template"], labels, log=("loss=0.5",), printer="trainer")

    kube.controllers["trainingruns"] = control
    config = KubernetesConfig.from_dict({"namespace": NAMESPACE, "pollSeconds": 0, "trialResources": [
        {"kind": "TrainingRun", "apiVersion": "example.com/v1", "plural": "trainingruns", "podLabel": "example.com/run"}]})
    done = {"conditions": [{"type": "Done", "status": "True"}]}
    launcher = KubernetesLauncher(config, api_client=kube.api_client(), sleep=after_polls(lambda: kube.set_status("trainingruns", NAMESPACE, "crd-trial-6", done)))
    outcome = launcher.run(_run(_crd_experiment(), "crd-trial-6", {"x": "0.1", "y": "0.2"}))
    assert outcome.logs == {"trainer": "loss=0.5\n"}
    pod_lists = [c.query.get("labelSelector", [""])[0] for c in kube.calls_to("GET", "pods") if c.verb == "list"]
    assert pod_lists and all(s == "example.com/run=crd-trial-6,example.com/role=leader" for s in pod_lists)
    assert kube.calls_to("GET", "jobs") == []  # no owner was read


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("Workflow.argoproj.io", "is not Kind.version.group"),  # no version: Katib would read version "argoproj", group "io"
        ({"kind": "TrainingRun", "apiVersion": "v1"}, "needs kind and apiVersion (group/version)"),
        ({"kind": "TrainingRun", "apiVersion": "example.com/v1", "plurals": "x"}, "unknown key(s) ['plurals']"),
        (7, "expected 'Kind.version.group' or a mapping"),
    ],
)
def test_trial_resources_entries_are_checked(entry: Any, problem: str):
    with pytest.raises(ValueError) as caught:
        KubernetesConfig.from_dict({"namespace": NAMESPACE, "trialResources": [entry]})
    assert problem in str(caught.value)


def test_katibs_trial_resources_form_is_resolved_by_discovery_for_cleanup(clusters):
    """``Kind.version.group`` entries (katib-config's form): cleanup lists them, plural learned."""
    kube = clusters((CRD,))
    _play_crd(kube)
    launcher = _launcher(kube, after_polls(lambda: kube.set_status("trainingruns", NAMESPACE, "crd-trial-7", {"conditions": [{"type": "Done", "status": "True"}]})))
    experiment = load_experiment(quadratic_experiment(**{
        "spec.trialTemplate.trialSpec": TRAINING_RUN, "spec.trialTemplate.primaryContainerName": "trainer", "spec.trialTemplate.retain": True,
        "spec.trialTemplate.successCondition": CRD_SUCCESS, "spec.trialTemplate.failureCondition": CRD_FAILURE,
    }))
    assert launcher.run(_run(experiment, "crd-trial-7", {"x": "0.1", "y": "0.2"})).phase == "Succeeded"
    anchor = kube.stored("configmaps")[0]
    anchor["data"].pop("trialKinds")  # an anchor made before: only the config can say the kind
    config = KubernetesConfig.from_dict({"namespace": NAMESPACE, "trialResources": ["TrainingRun.v1.example.com"]})
    assert KubernetesLauncher(config, api_client=kube.api_client()).sweep(experiment.name).deleted == ["crd-trial-7"]
    assert kube.stored("trainingruns") == []
    assert {p["metadata"]["name"] for p in kube.stored("pods")} == {"a-crd-trial-7-leader"}  # the stranger's pod is not ours
