"""Which pod and container the Kubernetes launcher reads a trial's log from, and the reason and
message a failed trial gets, against the fake API server (tests/support/fake_kube.py).

A user's kind (example.com/v1 TrainingRun, its plural given in ``trialResources`` with no pod
label) is played by the test: its pods are found only through their owner references, as
Katib's pod webhook finds them. One server serves the module; each test uses its own trial
names."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fake_kube import FakeKube, Fault, Resource, serve
from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.interfaces import TrialRun
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher
from kfp_tune.launchers.kubernetes.kinds import parse_trial_resource

NAMESPACE = "team-a"
CRD = Resource("example.com", "v1", "trainingruns", "TrainingRun")
TRAINING_RUN = {"kind": "TrainingRun", "apiVersion": "example.com/v1", "plural": "trainingruns"}


@pytest.fixture(scope="module")
def served() -> Iterator[FakeKube]:
    fake, server = serve()
    fake.install(CRD)
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def crd_kube(served: FakeKube) -> FakeKube:
    """The module's server (a TrainingRun CRD installed), its faults and controller reset."""
    served.faults = []
    served.controllers.pop("trainingruns", None)
    return served


def launcher_for(kube: FakeKube) -> KubernetesLauncher:
    config = KubernetesConfig(namespace=NAMESPACE, poll_seconds=0.0, api_retry_seconds=0.0, trial_resources=(parse_trial_resource(TRAINING_RUN),))
    return KubernetesLauncher(config, api_client=kube.api_client(), env={}, sleep=lambda seconds: None)


def training_run(name: str, **fields: Any) -> TrialRun:
    manifest = {"apiVersion": "example.com/v1", "kind": "TrainingRun", "metadata": {"name": name, "labels": {"kfp-tune.kubeflow.org/trial": name}},
                "spec": {"template": {"spec": {"containers": [{"name": "main", "image": "python:3.11-slim", "command": ["python3", "/opt/train.py"]}]}}}}
    return TrialRun("exp", name, manifest, {}, "main", metrics_collector={"collector": {"kind": "StdOut"}}, **fields)


def pod_template(containers: list[str], init: tuple[str, ...] = ()) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": c, "image": f"{c}:1"} for c in containers]}
    if init:
        spec["initContainers"] = [{"name": c, "image": f"{c}:1"} for c in init]
    return {"metadata": {"annotations": {"sidecar.istio.io/inject": "false"}}, "spec": spec}


def play(kube: FakeKube, *pods: tuple[str, dict[str, Any], str, tuple[str, ...]], via_job: bool = False) -> None:
    """The TrainingRun's controller: (name suffix, template, printing container, its log) per
    pod, owned by the TrainingRun, or by a batch/v1 Job the TrainingRun owns."""

    def control(namespace: str, obj: dict[str, Any]) -> None:
        owner = obj
        if via_job:
            ref = {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"], "uid": obj["metadata"]["uid"], "controller": True}
            owner = kube.put({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": obj["metadata"]["name"] + "-step", "ownerReferences": [ref]}}, namespace)
        for suffix, template, printer, log in pods:
            kube.run_pod(namespace, owner, f"{obj['metadata']['name']}-{suffix}", template, {}, log=log, printer=printer)

    kube.controllers["trainingruns"] = control


def created(kube: FakeKube, launcher: KubernetesLauncher, trial: TrialRun) -> None:
    launcher.create_or_adopt(launcher.prepare(trial))


# --- the primary pod and its log ---------------------------------------------------------------------


def test_before_its_pods_exist_a_trial_has_no_primary_pod_and_no_log(crd_kube: FakeKube) -> None:
    launcher, trial = launcher_for(crd_kube), training_run("tr-early")
    created(crd_kube, launcher, trial)
    kind = launcher.kind_of(trial.manifest)
    assert launcher.primary_pod(trial, kind, "tr-early") == ""
    assert launcher.trial_logs(trial) == {}


def test_the_log_is_read_from_the_pod_the_trial_owns_and_its_primary_container(crd_kube: FakeKube) -> None:
    """``kfp-tune logs`` reads the trial's own pod: another trial's pod, first by name and with
    the same labels, is not it; the primary container, not the pod's other one."""
    launcher = launcher_for(crd_kube)
    created(crd_kube, launcher, training_run("tr-aa"))
    (other,) = [o for o in crd_kube.stored("trainingruns") if o["metadata"]["name"] == "tr-aa"]
    crd_kube.run_pod(NAMESPACE, other, "tr-ab-0-first-by-name", pod_template(["main"]), {}, log=("not this trial",), printer="main")
    play(crd_kube, ("b-0", pod_template(["sidecar", "main"]), "main", ("loss=0.25",)))
    trial = training_run("tr-ab")
    created(crd_kube, launcher, trial)
    assert launcher.primary_pod(trial, launcher.kind_of(trial.manifest), "tr-ab") == "tr-ab-b-0"
    assert launcher.trial_logs(trial) == {"main": "loss=0.25\n"}
    (read,) = [c for c in crd_kube.calls if c.path.endswith("/pods/tr-ab-b-0/log")]
    assert read.query["container"] == ["main"]


def test_a_pod_owned_through_a_job_the_trial_owns_is_its_primary_pod(crd_kube: FakeKube) -> None:
    launcher = launcher_for(crd_kube)
    play(crd_kube, ("0", pod_template(["main"]), "main", ("loss=0.5",)), via_job=True)
    trial = training_run("tr-job")
    created(crd_kube, launcher, trial)
    assert launcher.trial_logs(trial) == {"main": "loss=0.5\n"}


def test_a_primary_container_run_as_an_init_container_is_read(crd_kube: FakeKube) -> None:
    """A native sidecar (an init container) may be the primary container."""
    launcher = launcher_for(crd_kube)
    play(crd_kube, ("0", pod_template(["worker"], init=("main",)), "main", ("loss=0.75",)))
    trial = training_run("tr-init")
    created(crd_kube, launcher, trial)
    assert launcher.trial_logs(trial) == {"main": "loss=0.75\n"}


def test_a_pod_without_the_primary_container_names_its_containers_and_init_containers(crd_kube: FakeKube) -> None:
    launcher = launcher_for(crd_kube)
    play(crd_kube, ("0", pod_template(["worker"], init=("setup",)), "worker", ("hello",)))
    trial = training_run("tr-missing")
    created(crd_kube, launcher, trial)
    with pytest.raises(KfpTuneError) as info:
        launcher.trial_logs(trial)
    assert str(info.value).endswith("its containers: ['worker'], init containers: ['setup']"), info.value


@pytest.mark.parametrize(("method", "path", "verb", "resource"), [("GET", r"/pods$", "list", "pods"), ("GET", r"/pods/tr-\w+-0/log$", "get", "pods/log")])
def test_a_forbidden_pod_read_names_the_verb_and_the_resource(crd_kube: FakeKube, method: str, path: str, verb: str, resource: str) -> None:
    launcher = launcher_for(crd_kube)
    play(crd_kube, ("0", pod_template(["main"]), "main", ("loss=0.5",)))
    name = f"tr-{verb}"
    trial = training_run(name)
    created(crd_kube, launcher, trial)
    crd_kube.faults = [Fault(method, path, 403, times=10)]
    with pytest.raises(KfpTuneError) as info:
        launcher.trial_logs(trial)
    where = f"{resource} '{name}-0'" if verb == "get" else resource
    assert str(info.value).startswith(f"Kubernetes refused to {verb} {where} in namespace '{NAMESPACE}' (403 Forbidden: injected fault)"), info.value
    assert f"needs '{verb}' on {resource} in that namespace" in str(info.value)


# --- a failed trial's reason and message -----------------------------------------------------------


@pytest.mark.parametrize(
    ("conditions", "reason", "message"),
    [
        (
            [{"type": "Running", "status": "True", "reason": "Started", "message": "running"},
             {"type": "Failed", "status": "False", "reason": "NotYet", "message": "not failed"},
             {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "the job reached its backoff limit"}],
            "BackoffLimitExceeded", "the job reached its backoff limit",
        ),
        ([{"type": "Failed", "status": "True"}], "Failed", "the trial's failure condition holds"),
    ],
)
def test_a_failed_trial_gets_the_reason_and_message_of_its_failed_condition(crd_kube: FakeKube, conditions: list[dict[str, str]], reason: str, message: str) -> None:
    """The failure condition finds the status by its phase (as Katib's Argo example does), not a
    condition: the reason and
    message come from the resource's ``Failed`` condition that holds, else the defaults."""
    launcher = launcher_for(crd_kube)
    name = f"tr-failed-{len(conditions)}"
    trial = training_run(name, success_condition='status.[@this].#(phase=="Succeeded")#', failure_condition='status.[@this].#(phase=="Failed")#')
    created(crd_kube, launcher, trial)
    crd_kube.set_status("trainingruns", NAMESPACE, name, {"phase": "Failed", "conditions": conditions})
    outcome = launcher.reattach(trial)
    assert outcome is not None
    assert (outcome.phase, outcome.reason, outcome.message) == ("Failed", reason, message)
