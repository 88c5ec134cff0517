"""The Kubernetes launcher, through the real ``kubernetes`` client and its HTTP, against the
in-memory API server in tests/support/fake_kube.py (no API server can run here). The fake serves
only the operators a test installs and plays them as they behave: a pod per replica with the
operators' labels, an istio sidecar in every pod, Jobs that orphan their pods unless told
otherwise, 400s and 422s for what a real server refuses."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml

from conftest import REPO, TESTS, quadratic_experiment
from fake_kube import MPI_OPERATOR, TRAINER, TRAINING_OPERATOR, FakeKube, Fault, Resource, Script, put_at, schema_places, write_kubeconfig
from kfp_tune.core.errors import KfpTuneError, SpecError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.core.vocabulary import EARLY_STOP_MESSAGE, EARLY_STOP_REASON
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher, render_manifest
from kfp_tune.launchers.kubernetes.kinds import trial_kind

TRAIN = {"image": "trainer:1", "command": ["python3", "/opt/train.py"], "args": ["--x=${trialParameters.x}", "--y=${trialParameters.y}"]}
PYTORCH = {
    "apiVersion": "kubeflow.org/v1",
    "kind": "PyTorchJob",
    "spec": {"pytorchReplicaSpecs": {
        "Master": {"replicas": 1, "restartPolicy": "OnFailure", "template": {"spec": {"containers": [{"name": "pytorch", **TRAIN}]}}},
        "Worker": {"replicas": 2, "restartPolicy": "OnFailure", "template": {"spec": {"containers": [{"name": "pytorch", **TRAIN}]}}},
    }},
}


def _replicas(field: str, names: tuple[str, ...], container: str) -> dict:
    return {field: {n: {"replicas": 1, "template": {"spec": {"containers": [{"name": container, **TRAIN}]}}} for n in names}}


@dataclasses.dataclass(frozen=True)
class Kind:
    """A trial kind as a test runs it: template, primary container, primaryPodLabels, and the
    operators its cluster runs."""

    spec: dict
    container: str
    pod_labels: dict
    cluster: tuple[tuple[Resource, ...], ...]


KINDS = {
    "Job": Kind(quadratic_experiment()["spec"]["trialTemplate"]["trialSpec"], "main", {}, ()),
    # PS and Worker, no Chief: the master role is Worker 0's, and the PS pod's name sorts first
    "TFJob": Kind({"apiVersion": "kubeflow.org/v1", "kind": "TFJob", "spec": _replicas("tfReplicaSpecs", ("PS", "Worker"), "tensorflow")}, "tensorflow", {}, (TRAINING_OPERATOR,)),
    "PyTorchJob": Kind(PYTORCH, "pytorch", {}, (TRAINING_OPERATOR,)),
    "XGBoostJob": Kind({"apiVersion": "kubeflow.org/v1", "kind": "XGBoostJob", "spec": _replicas("xgbReplicaSpecs", ("Master", "Worker"), "xgboost")}, "xgboost", {}, (TRAINING_OPERATOR,)),
    # the Training Operator's MPIJob gives its launcher job-role master: the default primaryPodLabels
    "MPIJob-v1": Kind({"apiVersion": "kubeflow.org/v1", "kind": "MPIJob", "spec": _replicas("mpiReplicaSpecs", ("Launcher", "Worker"), "mpi")}, "mpi", {}, (TRAINING_OPERATOR,)),
    # mpi-operator v2 (whose CRD replaces the Training Operator's mpijobs) labels it job-role launcher
    "MPIJob-v2beta1": Kind({"apiVersion": "kubeflow.org/v2beta1", "kind": "MPIJob", "spec": _replicas("mpiReplicaSpecs", ("Launcher", "Worker"), "mpi")}, "mpi",
                           {"training.kubeflow.org/job-role": "launcher"}, (TRAINING_OPERATOR, MPI_OPERATOR)),
    # initializers run before the nodes, and their pods' names sort first
    "TrainJob": Kind({"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob", "spec": {"runtimeRef": {"name": "torch-with-initializers"}, "trainer": {**TRAIN, "numNodes": 2}}},
                     "node", {}, (TRAINER,)),
}
TRIAL = "quad-abcd1234"




def _experiment(trial_spec: dict, container: str = "main", pod_labels: dict | None = None, **overrides):
    doc = quadratic_experiment(**overrides)
    template = doc["spec"]["trialTemplate"]
    template["trialSpec"], template["primaryContainerName"] = trial_spec, container
    if pod_labels:
        template["primaryPodLabels"] = pod_labels
    return load_experiment(doc)


def _kind_experiment(kind: str, **overrides):
    k = KINDS[kind]
    return _experiment(k.spec, k.container, k.pod_labels, **overrides)


def _run(experiment, name: str = TRIAL, **kwargs):
    trial = TrialState(name=name, index=0, round="run-1-r000", assignment={"x": "0.1", "y": "0.2"}, created="")
    return trial_run(experiment, trial, **kwargs)


def _launcher(kube, sleep: Callable[[float], None] = time.sleep, **config) -> KubernetesLauncher:
    settings = {"namespace": "team-a", "poll_seconds": 0.05, "api_retry_seconds": 120.0, **config}
    return KubernetesLauncher(KubernetesConfig(**settings), api_client=kube.api_client(), env={"KFP_TUNE_STORE": "s3://bucket/tuning"}, sleep=sleep)


def _left_of(kube: FakeKube, name: str) -> list[str]:
    """What is left on the cluster of trial ``name``: its resource, the objects and pods the
    operators made for it."""
    return sorted(f"{o['kind']}/{o['metadata']['name']}" for (_, plural, _, _), o in kube.objects.items()
                  if plural != "configmaps" and (o["metadata"]["name"] == name or o["metadata"]["name"].startswith(name + "-")))


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("outcome", ["Succeeded", "Failed"])
def test_every_kind_runs_to_its_condition(clusters, kind, outcome):
    """The primary pod's primary container's log (among workers, initializers and an istio
    sidecar), the kind's own condition, and nothing left behind: no resource, no pods."""
    kube = clusters(*KINDS[kind].cluster)
    kube.script = lambda m: Script(outcome=outcome, run_seconds=0.1, log=[(0.0, "loss=0.125")], reason="BackoffLimitExceeded" if outcome == "Failed" else "")
    spec, container = KINDS[kind].spec, KINDS[kind].container
    out = _launcher(kube).run(_run(_kind_experiment(kind)))
    assert out.phase == outcome
    if outcome == "Failed":
        assert out.reason == "BackoffLimitExceeded" and "simulated failed" in out.message
    elif spec["kind"] == "Job":  # the condition it met gives the trial's its job reason and message, as in Katib
        assert (out.reason, out.message) == ("CompletionsReached", "Reached expected number of succeeded pods")
    elif spec["apiVersion"].startswith("kubeflow.org/"):
        assert out.reason == f"{spec['kind']}Succeeded" and out.message.endswith("successfully completed.")
    assert out.logs == {container: "loss=0.125\n"}
    created = [c for c in kube.calls if c.method == "POST" and c.body.get("kind") == spec["kind"]]
    assert len(created) == 1 and created[0].body["metadata"]["name"] == TRIAL and created[0].status == 201
    assert _left_of(kube, TRIAL) == []  # retain off: deleted, and its pods went with it


def test_primary_pod_labels_choose_the_pod_whose_log_is_read(operator_kube):
    """Katib's TFJob example reads the Worker, not the Chief: the pod is picked by labels."""
    spec = {"apiVersion": "kubeflow.org/v1", "kind": "TFJob", "spec": _replicas("tfReplicaSpecs", ("Chief", "Worker"), "tensorflow")}
    spec["spec"]["tfReplicaSpecs"]["Worker"]["replicas"] = 2
    operator_kube.script = lambda m: Script(run_seconds=0.05, log=[(0.0, "loss=0.9")], worker_log=[(0.0, "loss=0.3")])
    out = _launcher(operator_kube).run(_run(_experiment(spec, "tensorflow", {"training.kubeflow.org/replica-type": "worker"})))
    assert out.phase == "Succeeded" and out.logs == {"tensorflow": "loss=0.3\n"}


def test_the_log_is_read_from_the_primary_container_of_a_multi_container_pod(operator_kube):
    spec = yaml.safe_load(yaml.safe_dump(PYTORCH))
    master = spec["spec"]["pytorchReplicaSpecs"]["Master"]["template"]
    master["spec"]["containers"].insert(0, {"name": "log-shipper", "image": "shipper:1"})
    master["metadata"] = {"annotations": {"sidecar.istio.io/inject": "false"}}  # two containers even without the mesh
    operator_kube.script = lambda m: Script(run_seconds=0.05, log=[(0.0, "loss=0.25")], container="pytorch")
    out = _launcher(operator_kube).run(_run(_experiment(spec, "pytorch")))
    assert out.phase == "Succeeded" and out.logs == {"pytorch": "loss=0.25\n"}


def test_created_resource_names_labels_owner_and_safety_defaults(operator_kube):
    launcher = _launcher(operator_kube, service_accounts=("trainer",), store_secret="store-creds")
    experiment = _experiment(PYTORCH, "pytorch", **{"spec.trialTemplate.retain": True})
    assert launcher.run(_run(experiment)).phase == "Succeeded"
    (job,) = operator_kube.stored("pytorchjobs")
    (anchor,) = operator_kube.stored("configmaps")
    meta = job["metadata"]
    assert (meta["name"], meta["namespace"]) == (TRIAL, "team-a")
    labels = {"kfp-tune.kubeflow.org/experiment": "quad", "kfp-tune.kubeflow.org/trial": TRIAL,
              "kfp-tune.kubeflow.org/managed-by": "kfp-tune", "kfp-tune.kubeflow.org/round": "run-1-r000"}
    assert labels.items() <= meta["labels"].items()
    # owned by the experiment's anchor, never by the launch-trial pod
    assert meta["ownerReferences"] == [{"apiVersion": "v1", "kind": "ConfigMap", "name": "kfp-tune-quad", "uid": anchor["metadata"]["uid"], "controller": False, "blockOwnerDeletion": False}]
    for replica in ("Master", "Worker"):
        template = job["spec"]["pytorchReplicaSpecs"][replica]["template"]
        assert labels.items() <= template["metadata"]["labels"].items()
        assert template["spec"]["automountServiceAccountToken"] is False and template["spec"]["serviceAccountName"] == "trainer"
    env = {e["name"]: e for e in job["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["containers"][0]["env"]}
    assert env["KFP_TUNE_TRIAL"]["value"] == TRIAL and env["KFP_TUNE_STORE"]["value"] == "s3://bucket/tuning"
    # credentials by reference only: the kubelet resolves them, the launcher never reads them
    assert env["AWS_SECRET_ACCESS_KEY"] == {"name": "AWS_SECRET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {"name": "store-creds", "key": "secretkey"}}}
    # StdOut: Katib's sh -c line in the primary pod only (primaryPodLabels' default: the Master); a Worker keeps exec form
    master, worker = (job["spec"]["pytorchReplicaSpecs"][replica]["template"]["spec"]["containers"][0] for replica in ("Master", "Worker"))
    assert master["command"] == ["sh", "-c"] and shlex.split(master["args"][0]) == ["python3", "/opt/train.py", "--x=0.1", "--y=0.2"]
    assert worker["command"] + worker["args"] == ["python3", "/opt/train.py", "--x=0.1", "--y=0.2"]


def test_gpu_settings_pass_through_and_accelerators_are_forwarded(operator_kube):
    """A template's own GPU limit, node selector and tolerations are kept as they are."""
    spec = yaml.safe_load(yaml.safe_dump(PYTORCH))
    master = spec["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]
    master["containers"][0]["resources"] = {"limits": {"nvidia.com/gpu": 2}}
    master["nodeSelector"] = {"gpu-type": "h100"}
    master["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    launcher = _launcher(operator_kube, gpus=1, node_selector={"pool": "gpu"}, tolerations=({"key": "dedicated", "operator": "Exists"},))
    assert launcher.run(_run(_experiment(spec, "pytorch", **{"spec.trialTemplate.retain": True}))).phase == "Succeeded"
    (job,) = operator_kube.stored("pytorchjobs")
    got = job["spec"]["pytorchReplicaSpecs"]
    assert got["Master"]["template"]["spec"]["containers"][0]["resources"] == {"limits": {"nvidia.com/gpu": 2}}
    assert got["Master"]["template"]["spec"]["nodeSelector"] == {"gpu-type": "h100"}
    assert got["Master"]["template"]["spec"]["tolerations"] == master["tolerations"]
    # where it has none, the launcher's (KFP task-level accelerator) settings apply
    assert got["Worker"]["template"]["spec"]["nodeSelector"] == {"pool": "gpu"}
    assert got["Worker"]["template"]["spec"]["tolerations"] == [{"key": "dedicated", "operator": "Exists"}]


@pytest.mark.parametrize("kind", ["PyTorchJob", "Job", "TrainJob"])
def test_gpus_are_added_to_a_primary_container_that_asks_for_none(clusters, kind):
    """launcher_config ``gpus`` (KFP's task-level accelerator limit, forwarded) becomes the
    primary container's ``nvidia.com/gpu`` limit (a TrainJob's ``resourcesPerNode``) when the
    template asks for none, next to the limits it has; the cluster accepts the result."""
    kube = clusters(*KINDS[kind].cluster)
    spec = yaml.safe_load(yaml.safe_dump(KINDS[kind].spec))
    if kind == "TrainJob":
        spec["spec"]["trainer"]["resourcesPerNode"] = {"limits": {"cpu": "4"}}
    else:
        next(c for c in _containers(spec) if c["name"] == KINDS[kind].container)["resources"] = {"limits": {"cpu": "4"}}
    experiment = _experiment(spec, KINDS[kind].container, KINDS[kind].pod_labels, **{"spec.trialTemplate.retain": True})
    assert _launcher(kube, gpus=2).run(_run(experiment)).phase == "Succeeded"
    (created,) = kube.stored(trial_kind(spec).plural)
    if kind == "TrainJob":
        assert created["spec"]["trainer"]["resourcesPerNode"] == {"limits": {"cpu": "4", "nvidia.com/gpu": 2}}
    else:
        primary = next(c for c in _containers(created) if c["name"] == KINDS[kind].container)
        assert primary["resources"] == {"limits": {"cpu": "4", "nvidia.com/gpu": 2}}


def _containers(tree: Any) -> Iterator[dict]:
    from kfp_tune.core.template import find_containers

    return find_containers(tree)


def test_a_retried_launch_adopts_the_resource_instead_of_creating_another(operator_kube):
    launcher = _launcher(operator_kube)
    experiment = _experiment(PYTORCH, "pytorch")
    operator_kube.script = lambda m: Script(run_seconds=0.3, log=[(0.0, "loss=0.1")])
    run = _run(experiment)
    manifest = launcher.prepare(run, launcher._owner(launcher.anchor("quad")))
    launcher.create_or_adopt(manifest)  # the first attempt created it, then died
    out = launcher.run(run)  # the retry
    assert out.phase == "Succeeded" and out.logs == {"pytorch": "loss=0.1\n"}
    posts = operator_kube.calls_to("POST", "pytorchjobs")
    assert [c.status for c in posts] == [201, 409] and len(operator_kube.scripts) == 1  # the second create got 409 and adopted


def test_409_for_an_object_that_is_not_ours_is_refused_and_left_alone(operator_kube):
    operator_kube.put({"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": {"name": TRIAL, "labels": {"team": "other"}}}, "team-a")
    with pytest.raises(KfpTuneError, match="exists and is not this kfp-tune trial's"):
        # a bound: the other's PyTorchJob, adopted by mistake, has no operator to end it; this fails fast then
        _launcher(operator_kube, timeout_seconds=5.0).run(_run(_experiment(PYTORCH, "pytorch")))
    assert operator_kube.calls_to("DELETE", "pytorchjobs") == [] and len(operator_kube.stored("pytorchjobs")) == 1


def test_reattach_follows_a_resource_a_dead_attempt_left(operator_kube):
    launcher = _launcher(operator_kube)
    run = _run(_experiment(PYTORCH, "pytorch"))
    assert launcher.reattach(run) is None  # nothing there: the step records TrialStale
    launcher.create_or_adopt(launcher.prepare(run, launcher._owner(launcher.anchor("quad"))))
    out = launcher.reattach(run)
    assert out.phase == "Succeeded" and len(operator_kube.calls_to("POST", "pytorchjobs")) == 1
    assert _left_of(operator_kube, TRIAL) == []


def test_retain_keeps_the_resource(operator_kube):
    _launcher(operator_kube).run(_run(_experiment(PYTORCH, "pytorch", **{"spec.trialTemplate.retain": True})))
    assert len(operator_kube.stored("pytorchjobs")) == 1 and operator_kube.calls_to("DELETE", "pytorchjobs") == []
    assert len(operator_kube.pods_of(TRIAL)) == 3  # master and two workers, kept to be looked at


@pytest.mark.parametrize("kind", ["Job", "PyTorchJob"])
def test_timeout_deletes_the_trial_and_its_pods(clusters, kind):
    kube = clusters(*KINDS[kind].cluster)
    kube.script = lambda m: Script(run_seconds=60, log=[(0.0, "loss=0.1")])
    out = _launcher(kube, timeout_seconds=0.3).run(_run(_kind_experiment(kind)))
    assert (out.phase, out.reason) == ("Failed", "DeadlineExceeded")
    assert _left_of(kube, TRIAL) == []  # a Job's pods too: deleted with propagation, not orphaned


def test_early_stopping_stops_a_running_trial(operator_kube):
    operator_kube.script = lambda m: Script(run_seconds=60, log=[(0.0, "loss=0.9"), (0.1, "loss=0.8")])
    seen = []

    def should_stop(text: str) -> bool:
        seen.append(text)
        return text.count("loss=") >= 2

    run = dataclasses.replace(_run(_experiment(PYTORCH, "pytorch")), should_stop=should_stop)
    out = _launcher(operator_kube).run(run)
    assert out.phase == "EarlyStopped" and out.logs["pytorch"] == "loss=0.9\nloss=0.8\n"
    assert (out.reason, out.message) == (EARLY_STOP_REASON, EARLY_STOP_MESSAGE)  # what the trial's result says too
    assert _left_of(operator_kube, TRIAL) == []


def _no_poll(seconds: float) -> None:
    raise AssertionError(f"the launcher polled ({seconds} s): the trial was to be over at the first look")


@pytest.mark.parametrize("outcome", ["Succeeded", "Failed"])
def test_a_trial_that_ended_before_a_poll_is_judged_on_its_log(operator_kube, outcome):
    """Its condition is there at the first look: it is judged on all it logged (Katib's collector
    judges each line as it is written, so a poll's timing decides nothing), and one that failed
    after what stops it was stopped before it failed."""
    operator_kube.script = lambda m: Script(outcome=outcome, run_seconds=0.0, log=[(0.0, "loss=0.9"), (0.0, "loss=0.8")])
    seen = []

    def should_stop(text: str) -> bool:
        seen.append(text)
        return text.count("loss=") >= 2

    out = _launcher(operator_kube, sleep=_no_poll).run(dataclasses.replace(_run(_experiment(PYTORCH, "pytorch")), should_stop=should_stop))
    assert (out.phase, out.reason, out.message) == ("EarlyStopped", EARLY_STOP_REASON, EARLY_STOP_MESSAGE)
    assert seen == ["loss=0.9\nloss=0.8\n"] and out.logs["pytorch"] == seen[0]
    assert _left_of(operator_kube, TRIAL) == []
    kept = _launcher(operator_kube, sleep=_no_poll).run(dataclasses.replace(_run(_experiment(PYTORCH, "pytorch"), "quad-kept1234"), should_stop=lambda text: False))
    assert kept.phase == outcome


def test_a_trial_that_prints_nothing_is_still_judged_while_it_runs(operator_kube):
    """For the kinds whose reports are stored by the collector or the trial (File, Push, ...),
    the rule reads the store, not the log: an empty log is no reason to skip the look."""
    operator_kube.script = lambda m: Script(run_seconds=60, log=[])
    run = dataclasses.replace(_run(_experiment(PYTORCH, "pytorch")), should_stop=lambda text: True)
    out = _launcher(operator_kube, timeout_seconds=5).run(run)
    assert (out.phase, out.reason) == ("EarlyStopped", EARLY_STOP_REASON)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttling_and_server_errors_are_retried(operator_kube, status):
    operator_kube.faults = [Fault("POST", "/pytorchjobs$", status, times=2, headers={"Retry-After": "0"} if status == 429 else {}),
                   Fault("GET", "/pytorchjobs/", status, times=2)]
    assert _launcher(operator_kube).run(_run(_experiment(PYTORCH, "pytorch"))).phase == "Succeeded"
    assert len(operator_kube.calls_to("POST", "pytorchjobs")) == 3


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_sets_the_wait_before_the_next_attempt(operator_kube, status):
    """The server says how long to wait; the launcher waits that long (its waits are recorded,
    not slept), not its own backoff."""
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(min(seconds, 0.05))

    operator_kube.faults = [Fault("POST", "/pytorchjobs$", status, times=2, headers={"Retry-After": "7"})]
    out = _launcher(operator_kube, sleep=sleep, api_retry_seconds=60).run(_run(_experiment(PYTORCH, "pytorch")))
    assert out.phase == "Succeeded" and [c.status for c in operator_kube.calls_to("POST", "pytorchjobs")] == [status, status, 201]
    assert waits[:2] == [7.0, 7.0]


def test_retry_after_past_the_retry_budget_waits_only_to_its_end(operator_kube):
    waits: list[float] = []
    operator_kube.faults = [Fault("POST", "/pytorchjobs$", 429, times=1, headers={"Retry-After": "3600"})]
    out = _launcher(operator_kube, sleep=lambda s: waits.append(s) or time.sleep(min(s, 0.05)), api_retry_seconds=30).run(_run(_experiment(PYTORCH, "pytorch")))
    assert out.phase == "Succeeded" and 0 < waits[0] <= 30


def test_403_names_the_resource_and_the_permission(operator_kube):
    operator_kube.faults = [Fault("POST", "/pytorchjobs$", 403)]
    with pytest.raises(KfpTuneError) as caught:
        _launcher(operator_kube).run(_run(_experiment(PYTORCH, "pytorch")))
    assert f"Kubernetes refused to create pytorchjobs.kubeflow.org '{TRIAL}' in namespace 'team-a' (403 Forbidden: injected fault)" in str(caught.value)
    assert "'create' on pytorchjobs.kubeflow.org" in str(caught.value)


def test_404_on_create_says_the_operator_may_be_missing(clusters):
    kube = clusters(TRAINING_OPERATOR)  # no Trainer: trainer.kubeflow.org is not served
    with pytest.raises(KfpTuneError, match=r"operator that serves trainjobs\.trainer\.kubeflow\.org installed"):
        _launcher(kube).run(_run(_kind_experiment("TrainJob")))
    assert [c.status for c in kube.calls_to("POST", "trainjobs")] == [404]


def test_unsafe_or_unlisted_service_account_is_refused_before_any_api_call(operator_kube):
    spec = yaml.safe_load(yaml.safe_dump(PYTORCH))
    spec["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["serviceAccountName"] = "cluster-admin-sa"
    out = _launcher(operator_kube).run(_run(_experiment(spec, "pytorch")))
    assert (out.phase, out.reason) == ("Failed", "TrialRefused") and "'cluster-admin-sa' is not in the launcher's allowed service accounts" in out.message
    assert operator_kube.calls == []


@pytest.mark.parametrize("labels", [{"training.kubeflow.org/job-role": "master worker"}, {"-role": "master"}, {"training.kubeflow.org/job-role": "x" * 64}])
def test_primary_pod_labels_the_api_server_would_refuse_are_refused_before_any_api_call(operator_kube, labels):
    """A selector the API server cannot parse (400) would fail only after the trial was created;
    the launcher refuses it first."""
    out = _launcher(operator_kube).run(_run(_experiment(PYTORCH, "pytorch", labels)))
    assert (out.phase, out.reason) == ("Failed", "TrialRefused") and "primaryPodLabels" in out.message
    assert operator_kube.calls == []


def test_template_labels_the_api_server_would_refuse_are_refused_before_any_api_call(operator_kube):
    spec = yaml.safe_load(yaml.safe_dump(PYTORCH))
    spec["spec"]["pytorchReplicaSpecs"]["Worker"]["template"]["metadata"] = {"labels": {"tier": "not a label value"}}
    out = _launcher(operator_kube).run(_run(_experiment(spec, "pytorch")))
    assert (out.phase, out.reason) == ("Failed", "TrialRefused") and "spec.pytorchReplicaSpecs.Worker.template.metadata.labels" in out.message
    assert operator_kube.calls == []


def _look_alikes(kube: FakeKube, kind: str) -> None:
    """Resources a sweep must leave: our labels without our owner, our labels under another
    experiment's anchor, and someone else's Job."""
    spec = KINDS[kind].spec
    ours = {"kfp-tune.kubeflow.org/managed-by": "kfp-tune", "kfp-tune.kubeflow.org/experiment": "quad"}
    kube.put({"apiVersion": spec["apiVersion"], "kind": spec["kind"], "metadata": {"name": "quad-forged", "labels": {**ours, "kfp-tune.kubeflow.org/trial": "quad-forged"}}}, "team-a")
    other = kube.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kfp-tune-other"}}, "team-a")
    owner = {"apiVersion": "v1", "kind": "ConfigMap", "name": "kfp-tune-other", "uid": other["metadata"]["uid"]}
    kube.put({"apiVersion": spec["apiVersion"], "kind": spec["kind"], "metadata": {"name": "quad-elsewhere", "labels": {**ours, "kfp-tune.kubeflow.org/trial": "quad-elsewhere"}, "ownerReferences": [owner]}}, "team-a")
    kube.put({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "unrelated", "labels": {"app": "x"}}}, "team-a")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_cleanup_sweep_removes_only_what_kfp_tune_owns(clusters, kind):
    """On a cluster that serves the kind at its own version only (MPIJob v2beta1: mpi-operator
    has replaced the Training Operator's v1 CRD), the sweep deletes the experiment's trials but
    the kept one, their pods with them, and nothing it does not own."""
    kube = clusters(*KINDS[kind].cluster)
    launcher = _launcher(kube)
    experiment = _kind_experiment(kind, **{"spec.trialTemplate.retain": True})
    for name in ("quad-aaaa1111", "quad-bbbb2222", "quad-cccc3333"):
        assert launcher.run(_run(experiment, name)).phase == "Succeeded"
    _look_alikes(kube, kind)
    deleted = launcher.sweep("quad", keep={"quad-bbbb2222"}).deleted
    assert sorted(deleted) == ["quad-aaaa1111", "quad-cccc3333"]
    plural = trial_kind(KINDS[kind].spec).plural
    names = sorted(o["metadata"]["name"] for o in kube.stored(plural) if o["metadata"]["name"] != "unrelated" and not o["metadata"]["name"].endswith("-launcher"))
    assert names == ["quad-bbbb2222", "quad-elsewhere", "quad-forged"]
    assert _left_of(kube, "quad-aaaa1111") == [] and _left_of(kube, "quad-cccc3333") == []
    assert kube.pods_of("quad-bbbb2222")  # the kept trial still runs
    assert "unrelated" in [o["metadata"]["name"] for o in kube.stored("jobs")]


def test_cleanup_sweep_finds_v2beta1_mpijobs_where_kubeflow_org_v1_is_not_served_at_all(clusters):
    kube = clusters(MPI_OPERATOR)
    launcher = _launcher(kube)
    assert launcher.run(_run(_kind_experiment("MPIJob-v2beta1", **{"spec.trialTemplate.retain": True}))).phase == "Succeeded"
    assert launcher.sweep("quad").deleted == [TRIAL] and _left_of(kube, TRIAL) == []


def test_cleanup_sweep_on_a_cluster_with_every_operator(clusters):
    kube = clusters(TRAINING_OPERATOR, MPI_OPERATOR, TRAINER)
    launcher = _launcher(kube)
    names = {kind: f"quad-{kind.lower().replace('-', '')[:10]}" for kind in KINDS if kind != "MPIJob-v1"}  # v1 is not served there
    for kind, name in names.items():
        assert launcher.run(_run(_kind_experiment(kind, **{"spec.trialTemplate.retain": True}), name)).phase == "Succeeded"
    assert sorted(launcher.sweep("quad").deleted) == sorted(names.values())
    assert [o["metadata"]["name"] for o in kube.objects.values()] == ["kfp-tune-quad"]  # only the anchor is left


ROLE = next(d for d in yaml.safe_load_all((REPO / "manifests" / "rbac.yaml").read_text()) if d["kind"] == "Role")
ALLOWED = {(verb, f"{resource}.{group}" if group else resource) for rule in ROLE["rules"] for group in rule["apiGroups"] for resource in rule["resources"] for verb in rule["verbs"]}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_call_the_launcher_makes_is_allowed_by_the_shipped_role(clusters, kind):
    """Run every path the launcher has (succeed and retain, fail, time out, stop early, re-attach
    to a trial a dead attempt left, adopt after a 409, sweep), check each ended as it should,
    then hold every (verb, resource) it used to manifests/rbac.yaml."""
    kube = clusters(*KINDS[kind].cluster)
    behaviour = {
        "quad-ok": Script(run_seconds=0.05, log=[(0.0, "loss=0.5")]),
        "quad-fail": Script(outcome="Failed", run_seconds=0.05, reason="BackoffLimitExceeded"),
        "quad-slow": Script(run_seconds=600),
        "quad-stop": Script(run_seconds=600, log=[(0.0, "loss=0.9")]),
        "quad-left": Script(run_seconds=0.2, log=[(0.0, "loss=0.4")]),
        "quad-again": Script(run_seconds=0.2, log=[(0.0, "loss=0.3")]),
    }
    kube.script = lambda m: behaviour[m["metadata"]["name"]]
    # Only the trial meant to time out runs under a timeout: the others, on a loaded machine,
    # could otherwise outlast half a second of the real clock.
    launcher, hurried = _launcher(kube), _launcher(kube, timeout_seconds=0.5)
    experiment, retained = _kind_experiment(kind), _kind_experiment(kind, **{"spec.trialTemplate.retain": True})
    container = KINDS[kind].container
    assert launcher.run(_run(retained, "quad-ok")).logs == {container: "loss=0.5\n"}
    assert (launcher.run(_run(experiment, "quad-fail")).reason) == "BackoffLimitExceeded"
    assert (hurried.run(_run(experiment, "quad-slow")).reason) == "DeadlineExceeded"
    assert launcher.run(_run(experiment, "quad-stop", should_stop=lambda text: "loss=" in text)).phase == "EarlyStopped"
    anchor = launcher._owner(launcher.anchor("quad"))
    left = _run(experiment, "quad-left")
    launcher.create_or_adopt(launcher.prepare(left, anchor))  # a launch-trial that died after creating it
    assert launcher.reattach(left).logs == {container: "loss=0.4\n"}
    again = _run(experiment, "quad-again")
    launcher.create_or_adopt(launcher.prepare(again, anchor))
    assert launcher.run(again).logs == {container: "loss=0.3\n"}  # its create got 409: adopted
    used = {(call.verb, call.resource) for call in kube.calls}
    assert launcher.sweep("quad").deleted == ["quad-ok"]  # kfp-tune cleanup's, a person's kubeconfig: not the Role's
    assert [o["metadata"]["name"] for o in kube.objects.values()] == ["kfp-tune-quad"]  # every trial gone, pods and all
    resource = trial_kind(KINDS[kind].spec).resource
    assert used == ALLOWED & {(verb, r) for verb, r in ALLOWED if r in (resource, "configmaps", "pods", "pods/log")}, sorted(used ^ ALLOWED)
    assert {("create", resource), ("get", resource), ("delete", resource), ("list", "pods"), ("get", "pods/log")} <= used
    assert {c.status for c in kube.calls} >= {200, 201, 409}


def test_the_shipped_role_grants_only_verbs_the_launcher_calls():
    """The guide says the Role holds only what launch-trial calls: it granted watch, which the
    launcher never calls, get on pods, and list on the trial kinds, which only kfp-tune cleanup
    (a person's kubeconfig) calls."""
    granted = {(verb, resource.partition(".")[0] if "." in resource else resource) for verb, resource in ALLOWED}
    trial_kinds = {r for _, r in granted} - {"configmaps", "pods", "pods/log"}
    expected = {("create", "configmaps"), ("get", "configmaps"), ("list", "pods"), ("get", "pods/log")}
    expected |= {(verb, kind) for kind in trial_kinds for verb in ("create", "get", "delete")}
    assert granted == expected, sorted(granted ^ expected)


def test_the_shipped_role_grants_nothing_beyond_its_namespace_and_no_secrets():
    docs = list(yaml.safe_load_all((REPO / "manifests" / "rbac.yaml").read_text()))
    assert not any("secrets" in r or "pods/exec" in r for _, r in ALLOWED)
    assert {d["kind"] for d in docs} == {"ServiceAccount", "Role", "RoleBinding"}


def test_the_run_steps_role_gives_the_account_what_every_kfp_step_on_argo_needs_and_one_secret_only():
    """Every pod of a KFP run runs as the run's account: with --service-account kfp-tune-launcher,
    Argo's executor could not write its step results (workflowtaskresults create/patch, Argo's
    documented minimum) nor KFP's launcher read the artifact store's Secret, so every step failed.
    The second Role grants those, the Secret by name only, bound to the same account."""
    docs = list(yaml.safe_load_all((REPO / "manifests" / "rbac.yaml").read_text()))
    steps_role = next(d for d in docs if d["kind"] == "Role" and d["metadata"]["name"] == "kfp-tune-run-steps")
    granted = {(verb, resource, tuple(rule.get("resourceNames", ())))
               for rule in steps_role["rules"] for resource in rule["resources"] for verb in rule["verbs"]}
    assert granted == {("create", "workflowtaskresults", ()), ("patch", "workflowtaskresults", ()), ("get", "secrets", ("mlpipeline-minio-artifact",)),
                       ("get", "configmaps", ("kfp-launcher",))}  # KFP's launcher reads it (FetchLauncherConfigMap)
    binding = next(d for d in docs if d["kind"] == "RoleBinding" and d["roleRef"]["name"] == "kfp-tune-run-steps")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "kfp-tune-launcher"}]


def test_whole_experiment_runs_through_the_kubernetes_launcher(operator_kube, tmp_path):
    """The inline engine with the Kubernetes launcher: the fake operator computes each trial's
    loss from the args it was created with, as the trial would."""
    from kfp_tune.inline_runner import run_inline
    from kfp_tune.stores import LocalStore

    def script(manifest):
        line = manifest["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["containers"][0]["args"][0]  # the sh -c line
        args = dict(a.lstrip("-").split("=", 1) for a in shlex.split(line) if "=" in a)
        loss = (float(args["x"]) - 0.3) ** 2 + (float(args["y"]) - 0.7) ** 2
        return Script(run_seconds=0.05, log=[(0.0, f"loss={loss:.6f}"), (0.0, "accuracy=0.5")])

    operator_kube.script = script
    experiment = _experiment(PYTORCH, "pytorch", **{"spec.maxTrialCount": 4})
    decision = run_inline(LocalStore(tmp_path), experiment, _launcher(operator_kube))
    assert (decision.phase, decision.counts["Succeeded"]) == ("Succeeded", 4)
    assert len(operator_kube.calls_to("POST", "pytorchjobs")) == 4 and operator_kube.stored("pytorchjobs") == [] and operator_kube.stored("pods") == []


def test_a_trial_the_launcher_cannot_create_stops_the_run_and_gives_its_budget_back(operator_kube, tmp_path):
    """A missing permission (403 on create) is the launcher's configuration, not the trial: the
    run stops with the error, the trial is Killed (TrialNotCreated) and uses no budget, and
    nothing counts towards maxFailedTrialCount (it was 1, so the experiment Failed and could not
    go on). Once the permission is granted, the next run goes on to maxTrialCount, as Katib's
    controller retries a failed create."""
    from kfp_tune.core.errors import TrialNotCreated
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.core.state import load_state
    from kfp_tune.inline_runner import run_inline
    from kfp_tune.stores import LocalStore

    operator_kube.script = lambda manifest: Script(run_seconds=0.0, log=[(0.0, "loss=0.5"), (0.0, "accuracy=0.5")])
    experiment = _experiment(PYTORCH, "pytorch", **{"spec.maxTrialCount": 3, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1})
    operator_kube.faults = [Fault("POST", "/pytorchjobs$", 403)]
    with pytest.raises(TrialNotCreated, match=r"could not be created: Kubernetes refused to create pytorchjobs\.kubeflow\.org .* \(403 Forbidden: injected fault\)"):
        run_inline(LocalStore(tmp_path), experiment, _launcher(operator_kube))
    state = load_state(ExperimentRecords(LocalStore(tmp_path), experiment.name))
    [trial] = state.trials
    assert (trial.status, trial.result.reason, trial.given_back, state.budget_used) == ("Killed", "TrialNotCreated", True, 0)
    assert trial.result.message.endswith("nothing ran, and its budget is given back (it counts towards neither maxTrialCount nor maxFailedTrialCount)")

    from kfp_tune.reports import resume_note

    assert resume_note(LocalStore(tmp_path), experiment.name) == (
        "resuming experiment quad: 0 trial(s) done (0 succeeded, 0 failed), 1 trial(s) the launcher could not create given back, "
        "3 new trial(s) left of maxTrialCount 3")
    decision = run_inline(LocalStore(tmp_path), experiment, _launcher(operator_kube))  # the permission granted
    assert (decision.phase, decision.reason, decision.counts["Succeeded"]) == ("Succeeded", "ExperimentMaxTrialsReached", 3)
    assert len(operator_kube.calls_to("POST", "pytorchjobs")) == 4


def test_no_kubernetes_configuration_says_what_to_set(tmp_path, monkeypatch):
    """The guide's own-pipeline snippet without a launcher config, on a machine with no cluster:
    the run stops saying so, and no trial fails."""
    from kfp_tune.core.errors import TrialNotCreated

    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    launcher = KubernetesLauncher(KubernetesConfig(namespace="team-a"), env={"KFP_TUNE_STORE": "s3://bucket/tuning"})
    with pytest.raises(TrialNotCreated) as caught:
        launcher.run(_run(_experiment(PYTORCH, "pytorch")))
    assert str(caught.value).startswith(f"Kubernetes trial '{TRIAL}' could not be created: no Kubernetes configuration: not inside a cluster, and ")
    assert str(caught.value).endswith("(set KUBECONFIG, or give the launcher config kind: local to run trials here)")


def test_a_checkpoint_hands_running_trials_over_and_the_next_re_attaches(operator_kube, tmp_path):
    """At a checkpoint the slots stop following their Kubernetes trials, which go on running (no
    slot waits for the slowest one); the next checkpoint's slots re-attach to them at once,
    without creating any trial twice, and collect them."""
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.core.state import ExperimentView
    from kfp_tune.steps import prepare
    from kfp_tune.steps.slots import Checkpoint, run_slots
    from kfp_tune.stores import LocalStore

    slow = {"n": 0, "released": False}

    def script(manifest):
        slow["n"] += 1
        quick = slow["n"] == 1 or slow["released"]  # the first is quick, the others run until released
        return Script(run_seconds=0.05 if quick else 3600, log=[(0.0, "loss=0.25")])

    operator_kube.script = script
    experiment = _experiment(PYTORCH, "pytorch", **{"spec.maxTrialCount": 4, "spec.parallelTrialCount": 2})
    records = ExperimentRecords(LocalStore(tmp_path), experiment.name)
    prepare(records, experiment, "run-1")
    launcher = _launcher(operator_kube)
    first = run_slots(ExperimentView(records), launcher, "run-1", checkpoint=Checkpoint(trials=1), adopt=True)
    assert first.checkpoint_due and first.decision.phase == "Running"
    state = ExperimentView(records).state
    running = [t.name for t in state.trials if t.started is not None and t.ended is None]
    assert running, "a long trial was handed over while still running"
    assert sorted(o["metadata"]["name"] for o in operator_kube.stored("pytorchjobs")) == sorted(running)  # left on the cluster, not deleted
    slow["released"] = True
    for long in operator_kube.scripts.values():
        long.run_seconds = 0  # the handed-over ones finish now
    second = run_slots(ExperimentView(records), launcher, "run-1", adopt=True)
    assert (second.decision.phase, second.decision.reason) == ("Succeeded", "ExperimentMaxTrialsReached")
    state = ExperimentView(records).state
    assert [t.status for t in state.trials] == ["Succeeded"] * 4, [(t.name, t.status, t.result and t.result.reason) for t in state.trials]
    posts = [c for c in operator_kube.calls_to("POST", "pytorchjobs")]
    assert len(posts) == 4, "every trial created exactly once"



# --- settings that give a trial the node ------------------------------------------------------
# hostPath volumes, privileged containers, hostNetwork / hostPID / hostIPC: refused at every place
# the kind's schema lets one sit (read from the CRDs in tests/data/schemas and kubernetes-validate's
# Job schema, in every replica of the template), in each place kfp-tune checks: loading the
# experiment, the launcher before any API call (a manifest can reach it without the first check: a
# stored trial, a re-attach), and ``kfp-tune render``.

UNSAFE: dict[str, Any] = {"hostPath": {"path": "/", "type": "Directory"}, "privileged": True, "hostNetwork": True, "hostPID": True, "hostIPC": True}


def _cases() -> list[Any]:
    cases = []
    for kind, k in sorted(KINDS.items()):
        spec = k.spec["spec"]
        replicas = next((list(v) for f, v in spec.items() if f.endswith("ReplicaSpecs")), [""])
        for place in schema_places(k.spec["apiVersion"], k.spec["kind"], frozenset(UNSAFE)):
            for replica in replicas:
                setting = place[-1][1]
                path = put_at(copy.deepcopy(k.spec), place, UNSAFE[setting], replica)
                cases.append(pytest.param(kind, place, replica, id=f"{kind}:{path}"))
    return cases


CASES = _cases()


def test_every_kind_has_places_for_every_setting_its_schema_allows():
    """The schema walk finds the places: each kind has some, and all five settings appear."""
    kinds = {c.values[0] for c in CASES}
    settings = {c.values[1][-1][1] for c in CASES}
    assert kinds == set(KINDS) and settings == set(UNSAFE)


def _unsafe(kind: str, place: Any, replica: str) -> tuple[dict[str, Any], str]:
    manifest = copy.deepcopy(KINDS[kind].spec)
    path = put_at(manifest, place, UNSAFE[place[-1][1]], replica)
    return manifest, path


@pytest.mark.parametrize(("kind", "place", "replica"), CASES)
def test_the_launcher_refuses_it_before_any_api_call(operator_kube, kind, place, replica):
    k = KINDS[kind]
    run = _run(_experiment(k.spec, k.container, k.pod_labels))
    rendered = copy.deepcopy(run.manifest)
    path = put_at(rendered, place, UNSAFE[place[-1][1]], replica)
    out = _launcher(operator_kube).run(dataclasses.replace(run, manifest=rendered))
    assert (out.phase, out.reason) == ("Failed", "TrialRefused")
    assert f"{path}: {place[-1][1]}" in out.message
    assert operator_kube.calls == []


@pytest.mark.parametrize(("kind", "place", "replica"), CASES)
def test_loading_the_experiment_refuses_it(kind, place, replica):
    k = KINDS[kind]
    manifest, path = _unsafe(kind, place, replica)
    with pytest.raises(SpecError) as caught:
        _experiment(manifest, k.container, k.pod_labels)
    assert f"spec.trialTemplate.trialSpec.{path}" in [e.path for e in caught.value.errors]


def test_render_refuses_it_too():
    k = KINDS["PyTorchJob"]
    experiment = _experiment(k.spec, k.container)
    spec = experiment.spec.trial_template
    assert spec is not None and spec.trial_spec is not None
    spec.trial_spec["spec"]["pytorchReplicaSpecs"]["Worker"]["template"]["spec"]["hostNetwork"] = True
    with pytest.raises(ValueError, match=r"spec\.pytorchReplicaSpecs\.Worker\.template\.spec\.hostNetwork: hostNetwork is refused"):
        render_manifest(experiment, config=KubernetesConfig(namespace="team-a"))


def test_safe_values_of_the_same_settings_pass(operator_kube):
    """``privileged: false`` and ``hostNetwork: false`` give nothing away: the trial runs."""
    k = KINDS["PyTorchJob"]
    spec = copy.deepcopy(k.spec)
    master = spec["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]
    master.update(hostNetwork=False, hostPID=False, hostIPC=False)
    master["containers"][0]["securityContext"] = {"privileged": False}
    out = KubernetesLauncher(KubernetesConfig(namespace="team-a", poll_seconds=0.05), api_client=operator_kube.api_client()).run(_run(_experiment(spec, k.container)))
    assert out.phase == "Succeeded"


SIGTERM_CHILD = textwrap.dedent("""
    import faulthandler, signal, sys
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # the test asks for its stacks if it hangs
    sys.path[:0] = [{tests!r}, {tests!r} + "/support", {tests!r} + "/launchers"]
    from kubernetes import client
    from conftest import quadratic_experiment
    from test_kubernetes_launcher import PYTORCH, _experiment, _run
    from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher, TrialInterrupted
    configuration = client.Configuration()
    configuration.host = sys.argv[1]
    launcher = KubernetesLauncher(KubernetesConfig(namespace="team-a", poll_seconds=0.05), api_client=client.ApiClient(configuration))
    try:
        launcher.run(_run(_experiment(PYTORCH, "pytorch")))
    except TrialInterrupted:
        sys.exit(143)
""")


def test_sigterm_to_launch_trial_deletes_the_trial_it_started(operator_kube, tmp_path):
    operator_kube.script = lambda m: Script(run_seconds=600)
    child = subprocess.Popen([sys.executable, "-c", SIGTERM_CHILD.format(tests=str(TESTS)), operator_kube.url], cwd=tmp_path, env=dict(os.environ))
    deadline = time.monotonic() + 300  # a bound for a hung child only: the wait ends when the trial is there
    while not operator_kube.calls_to("GET", "pytorchjobs") and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # until the child follows its trial (reads it), with its SIGTERM handler in place
    assert operator_kube.stored("pytorchjobs") and child.poll() is None, "the child never followed its trial"
    child.send_signal(signal.SIGTERM)
    try:
        code = child.wait(timeout=30)
    except subprocess.TimeoutExpired:  # seen once in CI (docs/testing.md): the stacks say where it hangs
        child.send_signal(signal.SIGUSR1)
        time.sleep(1)
        child.kill()
        child.wait()
        pytest.fail(f"the child did not exit within 30 s of SIGTERM; its threads' stacks are in the captured stderr; API calls: {[(c.method, c.path) for c in operator_kube.calls[-6:]]}")
    assert code == 143
    assert _left_of(operator_kube, TRIAL) == [] and len(operator_kube.calls_to("DELETE", "pytorchjobs")) == 1


def test_file_collector_on_a_cluster_uses_the_shared_metrics_volume(operator_kube, tmp_path):
    """The trial's metrics folder is a subPath of a PVC that launch-trial also mounts; the fake
    operator writes the file where the PVC would hold it."""
    shared = tmp_path / "pvc"
    experiment = _experiment(PYTORCH, "pytorch", **{"spec.metricsCollectorSpec": {
        "collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/var/log/katib/metrics.log", "kind": "File"}}}})

    def script(manifest):
        mounts = manifest["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["containers"][0]["volumeMounts"]
        (mount,) = [m for m in mounts if m["name"] == "kfp-tune-metrics"]
        folder = shared / mount["subPath"]
        folder.mkdir(parents=True)
        (folder / "metrics.log").write_text("loss=0.25\n")
        return Script(run_seconds=0.05)

    operator_kube.script = script
    launcher = _launcher(operator_kube, metrics_claim="tuning-metrics", metrics_mount=str(shared))
    out = launcher.run(_run(experiment))
    assert out.phase == "Succeeded" and out.files == {"metrics.log": b"loss=0.25\n"}
    (created,) = [c.body for c in operator_kube.calls_to("POST", "pytorchjobs")]
    master = created["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]
    assert {"name": "kfp-tune-metrics", "mountPath": "/var/log/katib", "subPath": f"quad/{TRIAL}"} in master["containers"][0]["volumeMounts"]
    assert {"name": "kfp-tune-metrics", "persistentVolumeClaim": {"claimName": "tuning-metrics"}} in master["volumes"]
    # (with no shared volume configured, a collector sidecar follows the file instead:
    # tests/launchers/test_collector_sidecar.py)


def test_cli_cleanup_removes_v2beta1_mpijobs_and_keeps_running_trials(clusters, tmp_path, monkeypatch):
    """kfp-tune cleanup with the user's kubeconfig, on a cluster whose MPIJobs are mpi-operator's
    (kubeflow.org/v1 mpijobs answers 404): the finished trial's resource goes, the one the store
    says is running stays."""
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.core.state import load_state
    from kfp_tune.steps import init_experiment, launch_trial, suggest
    from kfp_tune.stores import LocalStore

    kube = clusters(TRAINING_OPERATOR, MPI_OPERATOR)
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", kube.url, "not-a-real-token")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))  # read by the kubernetes package at import: the CLI runs as a child
    experiment = _kind_experiment("MPIJob-v2beta1", **{"spec.trialTemplate.retain": True})
    records = ExperimentRecords(LocalStore(tmp_path / "store"), "quad")
    init_experiment(records, experiment)
    names = suggest(records, "run-1-r000", 1)
    launcher = _launcher(kube)
    launch_trial(records, launcher, names[0])  # finished (retained)
    state = load_state(records)
    launcher.create_or_adopt(launcher.prepare(trial_run(experiment, state.trial(names[1])), launcher._owner(launcher.anchor("quad"))))  # still running
    exe = os.path.join(os.path.dirname(sys.executable), "kfp-tune")
    result = subprocess.run([exe, "cleanup", "quad", "--namespace", "team-a", "--store", str(tmp_path / "store")], capture_output=True, text=True, env=dict(os.environ), timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"deleted 1 trial resource(s) of 'quad' in 'team-a': {names[0]}" in out and f"kept 1 resource(s) of its {len(names) - 1} trial(s) not ended yet" in out
    assert [o["metadata"]["name"] for o in kube.stored("mpijobs")] == [names[1]]
    assert _left_of(kube, names[0]) == []
    assert "not-a-real-token" not in out


def test_a_service_account_the_launcher_does_not_allow_is_refused_before_any_trial(tmp_path, capsys):
    """Katib's Argo example names serviceAccountName: argo. Each trial was refused in turn
    (TrialRefused, Failed) until maxFailedTrialCount failed the experiment; the run's launch step,
    and compile with that launcher config, now refuse it at once, naming the field and the fix."""
    from kfp_tune.cli import main
    from kfp_tune.launchers import check_experiment, launcher_from_config

    example = REPO / "tests" / "data" / "katib-examples" / "argo_argo-workflow.yaml"
    experiment = load_experiment(example)
    with pytest.raises(ValueError, match=r"spec\.trialTemplate\.trialSpec\.spec\.serviceAccountName: 'argo' is not in the launcher's allowed "
                                         r"service accounts \['default'\]; add it to the launcher config's serviceAccounts"):
        check_experiment(launcher_from_config({"kind": "kubernetes", "namespace": "team-a"}), experiment)
    check_experiment(launcher_from_config({"kind": "kubernetes", "namespace": "team-a", "serviceAccounts": ["argo"]}), experiment)
    output = tmp_path / "pipeline.yaml"
    assert main(["compile", str(example), "-o", str(output), "--launcher-config", json.dumps({"kind": "kubernetes"})]) == 2
    assert "'argo' is not in the launcher's allowed service accounts" in capsys.readouterr().err and not output.exists()


def test_a_job_that_retried_has_the_log_of_its_running_attempt_read_not_a_failed_ones(operator_kube):
    """backoffLimit 3: the first attempt's pod failed (its log ends loss=99), a second runs. The
    failed pod's random name sorted first, and its metrics were the trial's."""
    operator_kube.script = lambda manifest: Script(run_seconds=0.3, log=[(0.0, "loss=0.125")])
    calls = [0]

    def sleep(seconds: float) -> None:
        calls[0] += 1
        if calls[0] == 2:  # the Job is there: its controller's pod runs; add the attempt that failed before it
            job = operator_kube.stored("jobs")[0]
            labels = {"batch.kubernetes.io/job-name": TRIAL, "job-name": TRIAL}
            failed = operator_kube.run_pod("team-a", job, TRIAL + "-00000", job["spec"]["template"], labels, log=("Traceback: CUDA out of memory", "loss=99"), printer="main")
            failed["status"] = {"phase": "Failed"}
        time.sleep(0.02)

    outcome = _launcher(operator_kube, sleep=sleep).run(_run(_experiment(dict(KINDS["Job"].spec, spec={**KINDS["Job"].spec["spec"], "backoffLimit": 3}))))
    assert outcome.phase == "Succeeded" and outcome.logs == {"main": "loss=0.125\n"}
