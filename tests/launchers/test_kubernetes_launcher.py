"""The Kubernetes launcher, through the real ``kubernetes`` client and its HTTP, against the
in-memory API server in tests/support/fake_kube.py (no API server can run here)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import yaml

from conftest import REPO, TESTS, quadratic_experiment
from fake_kube import Fault, Script, serve
from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher

PYTORCH = {
    "apiVersion": "kubeflow.org/v1",
    "kind": "PyTorchJob",
    "spec": {"pytorchReplicaSpecs": {
        "Master": {"replicas": 1, "restartPolicy": "OnFailure", "template": {"spec": {"containers": [{"name": "pytorch", "image": "trainer:1", "command": ["python3", "/opt/train.py"], "args": ["--x=${trialParameters.x}", "--y=${trialParameters.y}"]}]}}},
        "Worker": {"replicas": 2, "restartPolicy": "OnFailure", "template": {"spec": {"containers": [{"name": "pytorch", "image": "trainer:1", "command": ["python3", "/opt/train.py"], "args": ["--x=${trialParameters.x}", "--y=${trialParameters.y}"]}]}}},
    }},
}


def _replicas(field: str, names: tuple[str, ...], container: str) -> dict:
    return {field: {n: {"replicas": 1, "template": {"spec": {"containers": [{"name": container, "image": "trainer:1", "command": ["python3", "/opt/train.py"], "args": ["--x=${trialParameters.x}", "--y=${trialParameters.y}"]}]}}} for n in names}}


KINDS = {
    "Job": (quadratic_experiment()["spec"]["trialTemplate"]["trialSpec"], "main", {}),
    "TFJob": ({"apiVersion": "kubeflow.org/v1", "kind": "TFJob", "spec": _replicas("tfReplicaSpecs", ("Chief", "Worker"), "tensorflow")}, "tensorflow", {}),
    "PyTorchJob": (PYTORCH, "pytorch", {}),
    "XGBoostJob": ({"apiVersion": "kubeflow.org/v1", "kind": "XGBoostJob", "spec": _replicas("xgbReplicaSpecs", ("Master", "Worker"), "xgboost")}, "xgboost", {}),
    "MPIJob-v1": ({"apiVersion": "kubeflow.org/v1", "kind": "MPIJob", "spec": _replicas("mpiReplicaSpecs", ("Launcher", "Worker"), "mpi")}, "mpi", {"training.kubeflow.org/job-role": "launcher"}),
    "MPIJob-v2beta1": ({"apiVersion": "kubeflow.org/v2beta1", "kind": "MPIJob", "spec": _replicas("mpiReplicaSpecs", ("Launcher", "Worker"), "mpi")}, "mpi", {"training.kubeflow.org/job-role": "launcher"}),
    "TrainJob": ({"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob", "spec": {"runtimeRef": {"name": "torch-distributed"}, "trainer": {"image": "trainer:1", "command": ["python3", "/opt/train.py"], "args": ["--x=${trialParameters.x}", "--y=${trialParameters.y}"], "numNodes": 2}}}, "node", {}),
}


@pytest.fixture
def kube():
    fake, server = serve()
    yield fake
    server.shutdown()


def _experiment(trial_spec: dict, container: str = "main", pod_labels: dict | None = None, **overrides):
    doc = quadratic_experiment(**overrides)
    template = doc["spec"]["trialTemplate"]
    template["trialSpec"], template["primaryContainerName"] = trial_spec, container
    if pod_labels:
        template["primaryPodLabels"] = pod_labels
    return load_experiment(doc)


def _run(experiment, name: str = "quad-abcd1234", **kwargs):
    trial = TrialState(name=name, index=0, round="run-1-r000", assignment={"x": "0.1", "y": "0.2"}, created="")
    return trial_run(experiment, trial, **kwargs)


def _launcher(kube, **config) -> KubernetesLauncher:
    settings = {"namespace": "team-a", "poll_seconds": 0.05, "api_retry_seconds": 5.0, **config}
    return KubernetesLauncher(KubernetesConfig(**settings), api_client=kube.api_client(), env={"KFP_TUNE_STORE": "s3://bucket/tuning"})


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("outcome", ["Succeeded", "Failed"])
def test_every_kind_runs_to_its_condition(kube, kind, outcome):
    spec, container, pod_labels = KINDS[kind]
    experiment = _experiment(spec, container, pod_labels)
    kube.script = lambda m: Script(outcome=outcome, run_seconds=0.1, log=[(0.0, "loss=0.125")], reason="BackoffLimitExceeded" if outcome == "Failed" else "")
    out = _launcher(kube).run(_run(experiment))
    assert out.phase == outcome
    if outcome == "Failed":
        assert out.reason == "BackoffLimitExceeded" and "simulated failed" in out.message
    assert out.logs == {container: "loss=0.125\n"}  # the primary pod's primary container
    created = [c.body for c in kube.calls if c.method == "POST" and c.body.get("kind") == spec["kind"]]
    assert len(created) == 1 and created[0]["metadata"]["name"] == "quad-abcd1234"
    from kfp_tune.launchers.kubernetes.kinds import trial_kind

    assert kube.stored(trial_kind(spec).plural) == []  # retain off: deleted


def test_created_resource_names_labels_owner_and_safety_defaults(kube):
    launcher = _launcher(kube, service_accounts=("trainer",), store_secret="store-creds")
    experiment = _experiment(PYTORCH, "pytorch", **{"spec.trialTemplate.retain": True})
    assert launcher.run(_run(experiment)).phase == "Succeeded"
    (job,) = kube.stored("pytorchjobs")
    (anchor,) = kube.stored("configmaps")
    meta = job["metadata"]
    assert (meta["name"], meta["namespace"]) == ("quad-abcd1234", "team-a")
    labels = {"kfp-tune.kubeflow.org/experiment": "quad", "kfp-tune.kubeflow.org/trial": "quad-abcd1234",
              "kfp-tune.kubeflow.org/managed-by": "kfp-tune", "kfp-tune.kubeflow.org/round": "run-1-r000"}
    assert labels.items() <= meta["labels"].items()
    # owned by the experiment's anchor, never by the launch-trial pod
    assert meta["ownerReferences"] == [{"apiVersion": "v1", "kind": "ConfigMap", "name": "kfp-tune-quad", "uid": anchor["metadata"]["uid"], "controller": False, "blockOwnerDeletion": False}]
    for replica in ("Master", "Worker"):
        template = job["spec"]["pytorchReplicaSpecs"][replica]["template"]
        assert labels.items() <= template["metadata"]["labels"].items()
        assert template["spec"]["automountServiceAccountToken"] is False and template["spec"]["serviceAccountName"] == "trainer"
    env = {e["name"]: e for e in job["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["containers"][0]["env"]}
    assert env["KFP_TUNE_TRIAL"]["value"] == "quad-abcd1234" and env["KFP_TUNE_STORE"]["value"] == "s3://bucket/tuning"
    # credentials by reference only: the kubelet resolves them, the launcher never reads them
    assert env["AWS_SECRET_ACCESS_KEY"] == {"name": "AWS_SECRET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {"name": "store-creds", "key": "secretkey"}}}
    assert job["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["containers"][0]["args"] == ["--x=0.1", "--y=0.2"]


def test_gpu_settings_pass_through_and_accelerators_are_forwarded(kube):
    spec = yaml.safe_load(yaml.safe_dump(PYTORCH))
    master = spec["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]
    master["containers"][0]["resources"] = {"limits": {"nvidia.com/gpu": 2}}
    master["nodeSelector"] = {"gpu-type": "h100"}
    master["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    launcher = _launcher(kube, gpus=1, node_selector={"pool": "gpu"}, tolerations=({"key": "dedicated", "operator": "Exists"},))
    assert launcher.run(_run(_experiment(spec, "pytorch", **{"spec.trialTemplate.retain": True}))).phase == "Succeeded"
    (job,) = kube.stored("pytorchjobs")
    got = job["spec"]["pytorchReplicaSpecs"]
    # the template's own GPU settings are untouched
    assert got["Master"]["template"]["spec"]["containers"][0]["resources"] == {"limits": {"nvidia.com/gpu": 2}}
    assert got["Master"]["template"]["spec"]["nodeSelector"] == {"gpu-type": "h100"}
    assert got["Master"]["template"]["spec"]["tolerations"] == master["tolerations"]
    # where it has none, the launcher's (KFP task-level accelerator) settings apply
    assert got["Worker"]["template"]["spec"]["nodeSelector"] == {"pool": "gpu"}
    assert got["Worker"]["template"]["spec"]["tolerations"] == [{"key": "dedicated", "operator": "Exists"}]


def test_a_retried_launch_adopts_the_resource_instead_of_creating_another(kube):
    launcher = _launcher(kube)
    experiment = _experiment(PYTORCH, "pytorch")
    kube.script = lambda m: Script(run_seconds=0.3, log=[(0.0, "loss=0.1")])
    run = _run(experiment)
    manifest = launcher.prepare(run, launcher._owner(launcher.anchor("quad")))
    launcher.create_or_adopt(manifest)  # the first attempt created it, then died
    out = launcher.run(run)  # the retry
    assert out.phase == "Succeeded" and out.logs == {"pytorch": "loss=0.1\n"}
    posts = kube.calls_to("POST", "pytorchjobs")
    assert len(posts) == 2 and len(kube.scripts) == 1  # the second create got 409 and adopted


def test_409_for_an_object_that_is_not_ours_is_refused_and_left_alone(kube):
    kube.put("/apis/kubeflow.org/v1/pytorchjobs", "team-a", {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": {"name": "quad-abcd1234", "labels": {"team": "other"}}})
    with pytest.raises(KfpTuneError, match="exists and is not this kfp-tune trial's"):
        _launcher(kube).run(_run(_experiment(PYTORCH, "pytorch")))
    assert kube.calls_to("DELETE", "pytorchjobs") == [] and len(kube.stored("pytorchjobs")) == 1


def test_reattach_follows_a_resource_a_dead_attempt_left(kube):
    launcher = _launcher(kube)
    run = _run(_experiment(PYTORCH, "pytorch"))
    assert launcher.reattach(run) is None  # nothing there: the step records TrialStale
    launcher.create_or_adopt(launcher.prepare(run, launcher._owner(launcher.anchor("quad"))))
    out = launcher.reattach(run)
    assert out.phase == "Succeeded" and len(kube.calls_to("POST", "pytorchjobs")) == 1


def test_retain_keeps_the_resource(kube):
    _launcher(kube).run(_run(_experiment(PYTORCH, "pytorch", **{"spec.trialTemplate.retain": True})))
    assert len(kube.stored("pytorchjobs")) == 1 and kube.calls_to("DELETE", "pytorchjobs") == []


def test_timeout_deletes_the_trial(kube):
    kube.script = lambda m: Script(run_seconds=60, log=[(0.0, "loss=0.1")])
    out = _launcher(kube, timeout_seconds=0.3).run(_run(_experiment(PYTORCH, "pytorch")))
    assert (out.phase, out.reason) == ("Failed", "DeadlineExceeded")
    assert kube.stored("pytorchjobs") == [] and kube.stored("pods") == []  # pods went with it


def test_early_stopping_stops_a_running_trial(kube):
    kube.script = lambda m: Script(run_seconds=60, log=[(0.0, "loss=0.9"), (0.1, "loss=0.8")])
    seen = []

    def should_stop(text: str) -> bool:
        seen.append(text)
        return text.count("loss=") >= 2

    import dataclasses

    run = dataclasses.replace(_run(_experiment(PYTORCH, "pytorch")), should_stop=should_stop)
    out = _launcher(kube).run(run)
    assert out.phase == "EarlyStopped" and out.logs["pytorch"] == "loss=0.9\nloss=0.8\n"
    assert kube.stored("pytorchjobs") == []


@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttling_and_server_errors_are_retried(kube, status):
    kube.faults = [Fault("POST", "/pytorchjobs$", status, times=2, headers={"Retry-After": "0"} if status == 429 else {}),
                   Fault("GET", "/pytorchjobs/", status, times=2)]
    assert _launcher(kube).run(_run(_experiment(PYTORCH, "pytorch"))).phase == "Succeeded"
    assert len(kube.calls_to("POST", "pytorchjobs")) == 3


def test_403_names_the_resource_and_the_permission(kube):
    kube.faults = [Fault("POST", "/pytorchjobs$", 403)]
    with pytest.raises(KfpTuneError) as caught:
        _launcher(kube).run(_run(_experiment(PYTORCH, "pytorch")))
    assert "Kubernetes refused to create pytorchjobs.kubeflow.org 'quad-abcd1234' in namespace 'team-a' (403 Forbidden)" in str(caught.value)
    assert "'create' on pytorchjobs.kubeflow.org" in str(caught.value)


def test_404_on_create_says_the_operator_may_be_missing(kube):
    kube.faults = [Fault("POST", "/trainjobs$", 404)]
    spec, container, _ = KINDS["TrainJob"]
    with pytest.raises(KfpTuneError, match=r"operator that serves trainjobs\.trainer\.kubeflow\.org installed"):
        _launcher(kube).run(_run(_experiment(spec, container)))


def test_unsafe_or_unlisted_service_account_is_refused_before_any_api_call(kube):
    spec = yaml.safe_load(yaml.safe_dump(PYTORCH))
    spec["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["serviceAccountName"] = "cluster-admin-sa"
    out = _launcher(kube).run(_run(_experiment(spec, "pytorch")))
    assert (out.phase, out.reason) == ("Failed", "TrialRefused") and "'cluster-admin-sa' is not in the launcher's allowed service accounts" in out.message
    assert kube.calls == []


def test_cleanup_sweep_removes_only_what_kfp_tune_owns(kube):
    launcher = _launcher(kube)
    experiment = _experiment(PYTORCH, "pytorch", **{"spec.trialTemplate.retain": True})
    for name in ("quad-aaaa1111", "quad-bbbb2222", "quad-cccc3333"):
        launcher.run(_run(experiment, name))
    # look-alikes: our labels but no owner reference, and someone else's job
    kube.put("/apis/kubeflow.org/v1/pytorchjobs", "team-a", {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": {"name": "quad-forged", "labels": {"kfp-tune.kubeflow.org/managed-by": "kfp-tune", "kfp-tune.kubeflow.org/experiment": "quad", "kfp-tune.kubeflow.org/trial": "quad-forged"}}})
    kube.put("/apis/batch/v1/jobs", "team-a", {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "unrelated", "labels": {"app": "x"}}})
    deleted = launcher.sweep("quad", keep={"quad-bbbb2222"})
    assert sorted(deleted) == ["quad-aaaa1111", "quad-cccc3333"]
    assert sorted(o["metadata"]["name"] for o in kube.stored("pytorchjobs")) == ["quad-bbbb2222", "quad-forged"]
    assert [o["metadata"]["name"] for o in kube.stored("jobs")] == ["unrelated"]


def test_every_call_the_launcher_makes_is_allowed_by_the_shipped_role(kube):
    """Run, adopt, fail, time out and sweep; then hold every (verb, resource) to manifests/rbac.yaml."""
    launcher = _launcher(kube, timeout_seconds=2)
    for kind in sorted(KINDS):
        spec, container, pod_labels = KINDS[kind]
        launcher.run(_run(_experiment(spec, container, pod_labels, **{"spec.trialTemplate.retain": True}), f"quad-{kind.lower()[:8]}"))
    launcher.sweep("quad")
    docs = list(yaml.safe_load_all((REPO / "manifests" / "rbac.yaml").read_text()))
    (role,) = [d for d in docs if d["kind"] == "Role"]
    allowed = {(verb, f"{resource}.{group}" if group else resource) for rule in role["rules"] for group in rule["apiGroups"] for resource in rule["resources"] for verb in rule["verbs"]}
    used = {(call.verb, call.resource) for call in kube.calls}
    assert used <= allowed, sorted(used - allowed)
    # and the role grants nothing on secrets, no exec, nothing beyond the namespace
    assert not any("secrets" in r or "pods/exec" in r for _, r in allowed)
    assert {d["kind"] for d in docs} == {"ServiceAccount", "Role", "RoleBinding"}


def test_whole_experiment_runs_through_the_kubernetes_launcher(kube, tmp_path):
    """The inline engine with the Kubernetes launcher: the fake operator computes each trial's
    loss from the args it was created with, as the trial would."""
    from kfp_tune.inline_runner import run_inline
    from kfp_tune.stores import LocalStore

    def script(manifest):
        args = dict(a.lstrip("-").split("=", 1) for a in manifest["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["containers"][0]["args"])
        loss = (float(args["x"]) - 0.3) ** 2 + (float(args["y"]) - 0.7) ** 2
        return Script(run_seconds=0.05, log=[(0.0, f"loss={loss:.6f}"), (0.0, "accuracy=0.5")])

    kube.script = script
    experiment = _experiment(PYTORCH, "pytorch", **{"spec.maxTrialCount": 4})
    decision = run_inline(LocalStore(tmp_path), experiment, _launcher(kube))
    assert (decision.phase, decision.counts["Succeeded"]) == ("Succeeded", 4)
    assert len(kube.calls_to("POST", "pytorchjobs")) == 4 and kube.stored("pytorchjobs") == []


def test_a_checkpoint_hands_running_trials_over_and_the_next_re_attaches(kube, tmp_path):
    """At a checkpoint the slots stop following their Kubernetes trials, which go on running (no
    slot waits for the slowest one); the next checkpoint's slots re-attach to them at once,
    without creating any trial twice, and collect them."""
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.core.state import ExperimentView
    from kfp_tune.steps import prepare
    from kfp_tune.steps.slots import Checkpoint, run_slots
    from kfp_tune.stores import LocalStore

    slow = {"n": 0}

    def script(manifest):
        slow["n"] += 1
        return Script(run_seconds=0.05 if slow["n"] == 1 else 1.5, log=[(0.0, "loss=0.25")])  # the first is quick, the others long

    kube.script = script
    experiment = _experiment(PYTORCH, "pytorch", **{"spec.maxTrialCount": 4, "spec.parallelTrialCount": 2})
    records = ExperimentRecords(LocalStore(tmp_path), experiment.name)
    prepare(records, experiment, "run-1")
    launcher = _launcher(kube)
    first = run_slots(ExperimentView(records), launcher, "run-1", checkpoint=Checkpoint(trials=1), adopt=True)
    assert first.checkpoint_due and first.decision.phase == "Running"
    state = ExperimentView(records).state
    running = [t.name for t in state.trials if t.started is not None and t.ended is None]
    assert running, "a long trial was handed over while still running"
    assert all(kube.stored("pytorchjobs") for _ in running)  # left on the cluster, not deleted
    second = run_slots(ExperimentView(records), launcher, "run-1", adopt=True)
    assert (second.decision.phase, second.decision.reason) == ("Succeeded", "ExperimentMaxTrialsReached")
    state = ExperimentView(records).state
    assert [t.status for t in state.trials] == ["Succeeded"] * 4, [(t.name, t.status, t.result and t.result.reason) for t in state.trials]
    posts = [c for c in kube.calls_to("POST", "pytorchjobs")]
    assert len(posts) == 4, "every trial created exactly once"


SIGTERM_CHILD = textwrap.dedent("""
    import sys
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


def test_sigterm_to_launch_trial_deletes_the_trial_it_started(kube, tmp_path):
    kube.script = lambda m: Script(run_seconds=600)
    child = subprocess.Popen([sys.executable, "-c", SIGTERM_CHILD.format(tests=str(TESTS)), kube.url], cwd=tmp_path, env=dict(os.environ))
    for _ in range(200):
        if kube.stored("pytorchjobs"):
            break
        time.sleep(0.05)
    assert kube.stored("pytorchjobs"), "the child never created its trial"
    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=30) == 143
    assert kube.stored("pytorchjobs") == [] and len(kube.calls_to("DELETE", "pytorchjobs")) == 1


def test_file_collector_on_a_cluster_uses_the_shared_metrics_volume(kube, tmp_path):
    """The trial's metrics folder is a subPath of a PVC that launch-trial also mounts; the fake
    operator writes the file where the PVC would hold it."""
    shared = tmp_path / "pvc"
    experiment = _experiment(PYTORCH, "pytorch", **{"spec.metricsCollectorSpec": {
        "collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/var/log/katib/metrics.log", "kind": "File"}}}})

    def script(manifest):
        mount = manifest["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["containers"][0]["volumeMounts"][0]
        folder = shared / mount["subPath"]
        folder.mkdir(parents=True)
        (folder / "metrics.log").write_text("loss=0.25\n")
        return Script(run_seconds=0.05)

    kube.script = script
    launcher = _launcher(kube, metrics_claim="tuning-metrics", metrics_mount=str(shared))
    out = launcher.run(_run(experiment))
    assert out.phase == "Succeeded" and out.files == {"metrics.log": b"loss=0.25\n"}
    (created,) = [c.body for c in kube.calls_to("POST", "pytorchjobs")]
    master = created["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]
    assert master["containers"][0]["volumeMounts"] == [{"name": "kfp-tune-metrics", "mountPath": "/var/log/katib", "subPath": "quad/quad-abcd1234"}]
    assert {"name": "kfp-tune-metrics", "persistentVolumeClaim": {"claimName": "tuning-metrics"}} in master["volumes"]
    # with no shared volume configured, the trial is refused before any API call
    kube.calls.clear()
    refused = _launcher(kube).run(_run(experiment, "quad-other123"))
    assert refused.reason == "TrialRefused" and "metricsVolume" in refused.message and kube.calls == []


def test_cli_cleanup_through_a_kubeconfig_keeps_running_trials(kube, tmp_path, monkeypatch):
    """kfp-tune cleanup with the user's kubeconfig (pointing at the fake API server): finished
    trials' resources go, the one the store says is running stays."""
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.steps import init_experiment, suggest
    from kfp_tune.stores import LocalStore

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": kube.url}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "me"}}],
        "users": [{"name": "me", "user": {"token": "not-a-real-token"}}],
    }))
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))  # read by the kubernetes package at import: the CLI runs as a child
    experiment = _experiment(PYTORCH, "pytorch", **{"spec.trialTemplate.retain": True})
    records = ExperimentRecords(LocalStore(tmp_path / "store"), "quad")
    init_experiment(records, experiment)
    names = suggest(records, "run-1-r000", 1)
    launcher = _launcher(kube)
    from kfp_tune.core.state import load_state
    from kfp_tune.steps import launch_trial

    launch_trial(records, launcher, names[0])  # finished (retained)
    state = load_state(records)
    launcher.create_or_adopt(launcher.prepare(trial_run(experiment, state.trial(names[1])), launcher._owner(launcher.anchor("quad"))))  # still running
    exe = os.path.join(os.path.dirname(sys.executable), "kfp-tune")
    result = subprocess.run([exe, "cleanup", "quad", "--namespace", "team-a", "--store", str(tmp_path / "store")], capture_output=True, text=True, env=dict(os.environ), timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"deleted 1 trial resource(s) of 'quad' in 'team-a': {names[0]}" in out and f"kept those of {len(names) - 1} trial(s) not ended yet" in out
    assert [o["metadata"]["name"] for o in kube.stored("pytorchjobs")] == [names[1]]
    assert "not-a-real-token" not in out
