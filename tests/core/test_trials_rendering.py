"""A trial's manifest and run (``kfp_tune.core.trials``): what a launcher is handed for one trial.

The manifest is what lands in the cluster: its name, namespace and labels are how the user and a
sweep find the trial's resources, and ``${trialSpec.*}`` references must see them. The run carries
the template's conditions, labels and the collector's metrics path to the launcher unchanged."""

from __future__ import annotations

import copy
import threading
from typing import Any

import pytest

from kfp_tune.core.loading import load_experiment
from kfp_tune.core.naming import labels_for
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import render_trial, trial_run

USER_LABELS = {"team": "vision"}


def experiment(collector: dict[str, Any] | None = None, **template: Any) -> Experiment:
    """A small validated experiment whose Job template uses trial parameters and metadata."""
    doc: dict[str, Any] = {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": "render-exp"},
        "spec": {
            "objective": {"type": "minimize", "objectiveMetricName": "loss"},
            "algorithm": {"algorithmName": "random"},
            "maxTrialCount": 3,
            "parameters": [{"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "0.1"}}],
            "trialTemplate": {
                "primaryContainerName": "main",
                "trialParameters": [
                    {"name": "learningRate", "reference": "lr"},
                    {"name": "self", "reference": "${trialSpec.Name}"},
                    {"name": "where", "reference": "${trialSpec.Namespace}"},
                ],
                "trialSpec": {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "metadata": {"labels": dict(USER_LABELS)},
                    "spec": {
                        "template": {
                            "spec": {
                                "containers": [
                                    {
                                        "name": "main",
                                        "image": "python:3.11-slim",
                                        "args": ["--lr=${trialParameters.learningRate}", "--name=${trialParameters.self}", "--ns=${trialParameters.where}"],
                                    }
                                ],
                                "restartPolicy": "Never",
                            }
                        }
                    },
                },
                **template,
            },
        },
    }
    if collector is not None:
        doc["spec"]["metricsCollectorSpec"] = collector
    return load_experiment(doc)


TRIAL = TrialState(name="render-exp-abc123", index=4, round="round-0002", assignment={"lr": "0.05"}, created="2026-11-30T12:00:00Z")


def args_of(manifest: dict[str, Any]) -> list[str]:
    return list(manifest["spec"]["template"]["spec"]["containers"][0]["args"])


def test_the_manifest_has_the_trials_name_labels_and_parameters() -> None:
    exp = experiment()
    manifest = render_trial(exp, TRIAL, "team-a")
    metadata = manifest["metadata"]
    assert metadata["name"] == TRIAL.name
    assert metadata["namespace"] == "team-a"
    assert metadata["labels"] == {**USER_LABELS, **labels_for(exp.name, TRIAL.name, TRIAL.round)}
    assert TRIAL.name in metadata["labels"].values() and TRIAL.round in metadata["labels"].values()
    assert args_of(manifest) == ["--lr=0.05", f"--name={TRIAL.name}", "--ns=team-a"]


def test_without_a_namespace_the_manifest_names_none() -> None:
    """The launcher's own namespace applies then; a made-up one would send the trial elsewhere."""
    manifest = render_trial(experiment(), TRIAL)
    assert "namespace" not in manifest["metadata"]
    assert args_of(manifest)[2] == "--ns="


def test_rendering_leaves_the_experiments_template_as_it_was() -> None:
    """Every trial is rendered from the same template: one trial's name or labels must not leak
    into the next one's manifest."""
    exp = experiment()
    assert exp.spec.trial_template is not None
    before = copy.deepcopy(exp.spec.trial_template.trial_spec)
    first = render_trial(exp, TRIAL, "team-a")
    other = TrialState(name="render-exp-zzz999", index=5, round="round-0003", assignment={"lr": "0.02"}, created="")
    second = render_trial(exp, other)
    assert exp.spec.trial_template.trial_spec == before
    assert first["metadata"]["name"] == TRIAL.name and second["metadata"]["name"] == other.name
    assert "namespace" not in second["metadata"]
    assert args_of(second) == ["--lr=0.02", f"--name={other.name}", "--ns="]


def test_the_run_carries_the_template_to_the_launcher() -> None:
    exp = experiment(
        successCondition='status.conditions.#(type=="Complete")#|#(status=="True")#',
        failureCondition='status.conditions.#(type=="Failed")#|#(status=="True")#',
        primaryPodLabels={"job-name": "x"},
        retain=True,
    )
    handover = threading.Event()

    def should_stop(output: str) -> bool:
        return "stop" in output

    run = trial_run(exp, TRIAL, "team-a", should_stop=should_stop, handover=handover)
    assert (run.experiment, run.trial, run.primary_container) == (exp.name, TRIAL.name, "main")
    assert run.manifest == render_trial(exp, TRIAL, "team-a")
    assert run.assignment == {"lr": "0.05"}
    run.assignment["lr"] = "changed"
    assert TRIAL.assignment == {"lr": "0.05"}, "the run's assignment is its own copy"
    assert run.success_condition == 'status.conditions.#(type=="Complete")#|#(status=="True")#'
    assert run.failure_condition == 'status.conditions.#(type=="Failed")#|#(status=="True")#'
    assert run.primary_pod_labels == {"job-name": "x"}
    assert run.retain is True
    assert run.should_stop is should_stop
    assert run.handover is handover


def test_a_run_without_a_namespace_renders_none() -> None:
    run = trial_run(experiment(), TRIAL)
    assert "namespace" not in run.manifest["metadata"]
    assert (run.should_stop, run.handover, run.retain) == (None, None, False)


@pytest.mark.parametrize(
    ("collector", "path", "kind"),
    [
        ({"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/out/metrics.txt", "kind": "File", "format": "TEXT"}}}, "/out/metrics.txt", "File"),
        ({"collector": {"kind": "TensorFlowEvent"}, "source": {"fileSystemPath": {"path": "/out/events", "kind": "Directory"}}}, "/out/events", "Directory"),
    ],
)
def test_file_collectors_give_the_launcher_their_path(collector: dict[str, Any], path: str, kind: str) -> None:
    """The launcher gives the path a per-trial place and brings back what the trial wrote."""
    run = trial_run(experiment(collector), TRIAL)
    assert (run.metrics_path, run.metrics_path_kind) == (path, kind)
    assert run.metrics_collector["collector"]["kind"] == collector["collector"]["kind"]
    assert run.metrics_collector["source"]["fileSystemPath"]["path"] == path


def test_other_collectors_give_no_metrics_path() -> None:
    """Only File and TensorFlowEvent read a file the launcher must bring back; a Custom
    collector reads its own path itself, in the pod."""
    custom = {
        "collector": {"kind": "Custom", "customCollector": {"name": "collect", "image": "registry.example/collector:1"}},
        "source": {"fileSystemPath": {"path": "/out/metrics.json", "kind": "File"}},
    }
    run = trial_run(experiment(custom), TRIAL)
    assert (run.metrics_path, run.metrics_path_kind) == ("", "")
    assert run.metrics_collector["collector"]["kind"] == "Custom"
    stdout = trial_run(experiment(), TRIAL)
    assert (stdout.metrics_path, stdout.metrics_path_kind) == ("", "")
