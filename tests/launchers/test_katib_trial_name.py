"""``KATIB_TRIAL_NAME``: Katib's pod webhook gives every trial pod's primary container the trial's
name (pkg/webhook/v1beta1/pod/utils.go, mutatePodEnv, called before the primary-pod check), and
Katib's SDK's ``report_metrics`` reads it; kfp-tune set only ``KFP_TUNE_TRIAL``, so a trial
reporting through Katib's SDK found no name. It goes where ``KFP_TUNE_TRIAL`` goes, in the primary
container only (not the collector beside it), over the container's own entry of that name, as
Katib's appended entry overrides it."""

from __future__ import annotations

from typing import Any

from conftest import quadratic_experiment
from kfp_tune.core.interfaces import TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.launchers.kubernetes import KubernetesConfig, render_manifest
from kfp_tune.launchers.kubernetes.kinds import pod_templates
from kfp_tune.launchers.local import LocalLauncher

TRIAL = "named-abcd1234"
TRAIN = {"image": "trainer:1", "command": ["python3", "/opt/train.py"], "args": ["--x=${trialParameters.x}", "--y=${trialParameters.y}"]}
FILE_COLLECTOR = {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/logs/m.log", "kind": "File"}}}


def rendered(trial_spec: dict[str, Any], primary: str, collector: dict[str, Any] | None = None) -> dict[str, Any]:
    doc = quadratic_experiment(**{"spec.trialTemplate.trialSpec": trial_spec, "spec.trialTemplate.primaryContainerName": primary})
    doc["spec"]["metricsCollectorSpec"] = collector or {"collector": {"kind": "StdOut"}}
    return render_manifest(load_experiment(doc), {"x": "0.5", "y": "0.25"}, TRIAL, KubernetesConfig(namespace="team-a"))


def pytorchjob(env: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    def replica(count: int) -> dict[str, Any]:
        container = {"name": "pytorch", **TRAIN, **({"env": env} if env else {})}
        return {"replicas": count, "restartPolicy": "Never", "template": {"spec": {"containers": [container, {"name": "helper", "image": "h:1"}]}}}

    return {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "spec": {"pytorchReplicaSpecs": {"Master": replica(1), "Worker": replica(2)}}}


def katib_entries(container: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in container.get("env") or [] if e["name"] == "KATIB_TRIAL_NAME"]


def test_every_pods_primary_container_gets_the_trials_name_and_no_other_container_does() -> None:
    manifest = rendered(pytorchjob(), "pytorch", FILE_COLLECTOR)
    templates = dict(pod_templates(manifest))
    assert len(templates) == 2
    for path, template in templates.items():
        spec = template["spec"]
        by_name = {c["name"]: c for c in spec["containers"] + (spec.get("initContainers") or [])}
        assert katib_entries(by_name["pytorch"]) == [{"name": "KATIB_TRIAL_NAME", "value": TRIAL}], path
        assert [name for name, c in by_name.items() if katib_entries(c)] == ["pytorch"], f"{path}: only the primary container, as under Katib"
    master = templates["spec.pytorchReplicaSpecs.Master.template"]["spec"]
    assert master.get("initContainers"), "the collector sidecar is there, and has no KATIB_TRIAL_NAME"


def test_the_containers_own_entry_gives_way_as_katibs_appended_one_overrides_it() -> None:
    manifest = rendered(pytorchjob([{"name": "KATIB_TRIAL_NAME", "value": "mine"}, {"name": "OTHER", "value": "1"}]), "pytorch")
    for _, template in pod_templates(manifest):
        primary = template["spec"]["containers"][0]
        assert katib_entries(primary) == [{"name": "KATIB_TRIAL_NAME", "value": TRIAL}]
        assert {"name": "OTHER", "value": "1"} in primary["env"]


def test_a_kind_built_at_run_time_gets_it_where_it_gets_kfp_tunes_trial() -> None:
    workflow = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "spec": {"entrypoint": "fit", "templates": [{"name": "fit", "container": dict(TRAIN)}]},
    }
    doc = quadratic_experiment(**{
        "spec.trialTemplate.trialSpec": workflow,
        "spec.trialTemplate.primaryContainerName": "main",
        "spec.trialTemplate.successCondition": 'status.[@this].#(phase=="Succeeded")#',
        "spec.trialTemplate.failureCondition": 'status.[@this].#(phase=="Failed")#',
        "spec.metricsCollectorSpec": {"collector": {"kind": "StdOut"}},
    })
    manifest = render_manifest(load_experiment(doc), {"x": "0.5", "y": "0.25"}, TRIAL, KubernetesConfig(namespace="team-a"))
    container = manifest["spec"]["templates"][0]["container"]
    assert {"name": "KFP_TUNE_TRIAL", "value": TRIAL} in container["env"]
    assert katib_entries(container) == [{"name": "KATIB_TRIAL_NAME", "value": TRIAL}]


def local_trial(container: dict[str, Any]) -> TrialRun:
    manifest = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "spec": {"template": {"spec": {"containers": [{"name": "main", "image": "trainer", **container}], "restartPolicy": "Never"}}},
    }
    return TrialRun(experiment="exp", trial="exp-t1", manifest=manifest, assignment={}, primary_container="main",
                    metrics_collector={"collector": {"kind": "Push"}})


def test_a_local_trial_gets_it_over_its_own_entry() -> None:
    _, env, _ = LocalLauncher().command_for(local_trial({"command": ["python3", "-c", "pass"]}))
    assert env["KATIB_TRIAL_NAME"] == "exp-t1" == env["KFP_TUNE_TRIAL"]
    _, env, _ = LocalLauncher().command_for(local_trial({"command": ["python3", "-c", "pass"], "env": [{"name": "KATIB_TRIAL_NAME", "value": "mine"}]}))
    assert env["KATIB_TRIAL_NAME"] == "exp-t1"


def test_a_local_trial_reads_it_from_its_environment() -> None:
    script = "import os; print(os.environ['KATIB_TRIAL_NAME'])"
    outcome = LocalLauncher().run(local_trial({"command": ["python3", "-c", script]}))
    assert outcome.logs["main"].strip() == "exp-t1", outcome.logs
