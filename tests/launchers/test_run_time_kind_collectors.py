"""What the Kubernetes launcher does with each metrics collector when it prepares a trial whose
pods another controller makes at run time (Argo Workflow, Tekton, a user's kind whose template
shows no primary container).

kfp-tune adds a collector that runs in the pod (its own for File, TensorFlowEvent and
PrometheusMetric, the user's for Custom) to the pod templates of the trial's resource; these
kinds have none, and Katib's way, a pod webhook that adds it as each pod is created, has no
counterpart here. Such a trial was prepared without its collector and never collected (Custom,
PrometheusMetric), so these are refused, naming spec.metricsCollectorSpec.collector.kind and what
works instead; StdOut (read from the pod's log) and Push (the trial reports with the env given
to the entry its container is made from) are prepared as before. Validation refuses the same
before anything runs (tests/core/test_run_time_kind_collectors.py); here the launcher is given the
TrialRun directly, as a trial whose template came from a ConfigMap reaches it unvalidated."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kfp_tune.core.interfaces import TrialRun
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher

KIND_FIELD = "spec.metricsCollectorSpec.collector.kind"
NAMESPACE = "team-a"
WORKS_INSTEAD = "the primary container's output (read from its pod's log) and the trial's own reports (kfp_tune.report_metrics) reach kfp-tune without it: use StdOut or Push"
CONTAINER = {"image": "python:3.11-slim", "command": ["python3", "/opt/train.py"], "args": ["--lr=0.1"]}
CUSTOM = {"name": "reporter", "image": "busybox:1.36", "command": ["sh", "-c", "sleep 1"]}
COLLECTORS: dict[str, dict[str, Any]] = {
    "File": {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/var/log/metrics.log", "kind": "File"}}},
    "TensorFlowEvent": {"collector": {"kind": "TensorFlowEvent"}, "source": {"fileSystemPath": {"path": "/logs", "kind": "Directory"}}},
    "PrometheusMetric": {"collector": {"kind": "PrometheusMetric"}},
    "Custom": {"collector": {"kind": "Custom", "customCollector": CUSTOM}},
    "StdOut": {"collector": {"kind": "StdOut"}},
    "Push": {"collector": {"kind": "Push"}},
}


def workflow() -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {},
        "spec": {"entrypoint": "fit", "templates": [{"name": "fit", "container": copy.deepcopy(CONTAINER)}]},
    }


def task_run() -> dict[str, Any]:
    return {"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "metadata": {}, "spec": {"taskSpec": {"steps": [{"name": "train", **copy.deepcopy(CONTAINER)}]}}}


def users_kind() -> dict[str, Any]:
    """A kind kfp-tune does not know whose template shows no container 'trainer'."""
    return {"apiVersion": "example.com/v1", "kind": "TrainingRun", "metadata": {}, "spec": {"image": "trainer:1"}}


MANIFESTS = {"Workflow": (workflow, "main"), "TaskRun": (task_run, "step-train"), "TrainingRun": (users_kind, "trainer")}


def run(kind: str, collector: str) -> TrialRun:
    make, primary = MANIFESTS[kind]
    file_system = COLLECTORS[collector].get("source", {}).get("fileSystemPath", {})
    return TrialRun(
        "exp", "trial-1", make(), {}, primary, metrics_collector=copy.deepcopy(COLLECTORS[collector]),
        metrics_path=file_system.get("path", ""), metrics_path_kind=file_system.get("kind", ""),
    )


def prepare(trial: TrialRun) -> dict[str, Any]:
    launcher = KubernetesLauncher(KubernetesConfig(namespace=NAMESPACE, service_accounts=("trainer",)), env={"KFP_TUNE_STORE": "s3://bucket/tuning"})
    return launcher.prepare(trial)


@pytest.mark.parametrize("kind", sorted(MANIFESTS))
@pytest.mark.parametrize("collector", ["File", "TensorFlowEvent", "PrometheusMetric", "Custom"])
def test_a_collector_that_runs_in_the_pod_is_refused_not_dropped(kind: str, collector: str) -> None:
    with pytest.raises(ValueError) as info:
        prepare(run(kind, collector))
    message = str(info.value)
    assert message.startswith(f"{KIND_FIELD}: {collector} cannot collect the metrics of a trial of kind {kind}"), message
    assert message.endswith(WORKS_INSTEAD), message


def test_a_users_kind_is_told_its_template_shows_no_primary_container() -> None:
    with pytest.raises(ValueError, match=r"its trialSpec shows no container named 'trainer' \(its controller makes the pod at run time\)"):
        prepare(run("TrainingRun", "Custom"))


@pytest.mark.parametrize(("kind", "entry"), [("Workflow", ("spec", "templates", 0, "container")), ("TaskRun", ("spec", "taskSpec", "steps", 0))])
@pytest.mark.parametrize("collector", ["StdOut", "Push"])
def test_stdout_and_push_are_prepared_with_the_trials_place_on_the_primary_entry(kind: str, entry: tuple[Any, ...], collector: str) -> None:
    out: Any = prepare(run(kind, collector))
    for key in entry:
        out = out[key]
    assert {"name": "KFP_TUNE_TRIAL", "value": "trial-1"} in out["env"]


def test_push_is_refused_where_no_entry_gets_the_trials_place() -> None:
    """A WorkflowTemplate's container is on the cluster: kfp-tune cannot give it the env, and a
    Push trial could not report. StdOut reads the pod's log: prepared as before."""
    trial = run("Workflow", "Push")
    trial.manifest["spec"] = {"workflowTemplateRef": {"name": "training"}}
    with pytest.raises(ValueError) as info:
        prepare(trial)
    assert str(info.value).startswith(f"{KIND_FIELD}: Push needs the trial's place in the store"), info.value
    assert "'main' of this Workflow trial is made at run time from no entry of it kfp-tune can see" in str(info.value) and str(info.value).endswith("or use StdOut")
    stdout = run("Workflow", "StdOut")
    stdout.manifest["spec"] = {"workflowTemplateRef": {"name": "training"}}
    assert prepare(stdout)["spec"]["workflowTemplateRef"] == {"name": "training"}


def test_push_is_refused_for_a_users_kind_whose_template_shows_no_primary_container() -> None:
    with pytest.raises(ValueError, match=r"^spec\.metricsCollectorSpec\.collector\.kind: Push needs"):
        prepare(run("TrainingRun", "Push"))
    assert prepare(run("TrainingRun", "StdOut"))["kind"] == "TrainingRun"


def test_no_collector_container_reaches_the_manifest_of_a_refused_kind_nor_of_one_taken() -> None:
    """StdOut and Push need nothing in the pod: what is prepared holds no collector at all."""
    for collector in ("StdOut", "Push"):
        text = json.dumps(prepare(run("Workflow", collector)))
        assert "kfp_tune.collectors" not in text and "initContainers" not in text and "sidecars" not in text
