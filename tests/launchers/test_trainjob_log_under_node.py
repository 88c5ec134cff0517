"""A TrainJob's log was stored under ``primaryContainerName`` (``pytorch``), a container its pods
do not have: the launcher reads Trainer's ``node``, and the steps and the client read the log
back by the name written (QA operators, session 36, finding 7's second half; review D, finding 9).
It is stored under ``node`` now and read from there; an experiment stored before, its log under
the name written, is still read, its StdOut metrics too."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import load_katib_example, merge
from fake_kube import TRAINER, Script
from kfp_tune import Client, steps
from kfp_tune.core.interfaces import Launcher, LaunchOutcome
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import TrialRun, trial_run
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher
from kfp_tune.stores import LocalStore

EXAMPLE = "kubeflow-trainer_trainjob-pytorch.yaml"


def trainjob(primary: str = "pytorch") -> Any:
    return load_experiment(merge(load_katib_example(EXAMPLE), {"spec.trialTemplate.primaryContainerName": primary}))


def test_the_kubernetes_launcher_keeps_a_trainjobs_log_under_node_whatever_primary_container_name_says(clusters) -> None:
    kube = clusters(TRAINER)
    kube.script = lambda m: Script(outcome="Succeeded", run_seconds=0.1, log=[(0.0, "loss=0.125")])
    doc = merge(load_katib_example(EXAMPLE), {"spec.trialTemplate.primaryContainerName": "pytorch"})
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["runtimeRef"] = {"name": "torch-with-initializers"}  # its pods' names sort before node's
    trial = TrialState(name="tj-abcd1234", index=0, round="run-1-r000", assignment={"lr": "0.01", "momentum": "0.5"}, created="")
    launcher = KubernetesLauncher(KubernetesConfig(namespace="team-a", poll_seconds=0.05, api_retry_seconds=120.0), api_client=kube.api_client(),
                                  env={"KFP_TUNE_STORE": "s3://bucket/tuning"})
    out = launcher.run(trial_run(load_experiment(doc), trial))
    assert out.phase == "Succeeded" and out.logs == {"node": "loss=0.125\n"}


class _Prints(Launcher):
    """A trial that printed ``text``, its log kept under ``container`` (``node`` as the launcher
    keeps it now; the name written as it kept it before)."""

    def __init__(self, container: str, text: str) -> None:
        self.container, self.text = container, text

    def run(self, trial: TrialRun) -> LaunchOutcome:
        return LaunchOutcome("Succeeded", logs={self.container: self.text})


@pytest.mark.parametrize("stored_under", ["node", "pytorch"])
def test_a_trainjobs_stdout_metrics_and_log_are_read_from_node_and_from_the_name_written_before(tmp_path, stored_under: str) -> None:
    experiment = trainjob("pytorch")
    store = LocalStore(tmp_path / "store")
    records = ExperimentRecords(store, experiment.name)
    name = steps.suggest(records, "r0", 1, experiment)[0]
    steps.launch_trial(records, _Prints(stored_under, "epoch=1 loss=0.25\n"), name)
    result = steps.collect_metrics(records, name)
    assert result.status == "Succeeded" and result.observation.get("loss") is not None, result
    assert Client(store).get_trial_logs(name) == "epoch=1 loss=0.25\n"
    assert Client(store).get_trial_logs((experiment.name, name)) == "epoch=1 loss=0.25\n"
    for container in ("node", "pytorch"):  # either name asks for the trial's log
        assert Client(store).get_trial_logs(name, container=container) == "epoch=1 loss=0.25\n"


def test_a_trainjobs_missing_objective_hint_reads_its_log_under_node(tmp_path) -> None:
    experiment = trainjob("pytorch")
    records = ExperimentRecords(LocalStore(tmp_path / "store"), experiment.name)
    name = steps.suggest(records, "r0", 1, experiment)[0]
    steps.launch_trial(records, _Prints("node", "epoch=1 loss=abc\n"), name)
    result = steps.collect_metrics(records, name)
    assert result.status == "MetricsUnavailable" and "'abc'" in result.message, result


def test_the_log_container_is_node_for_a_trainjob_only() -> None:
    from kfp_tune.core.validation import trial_log_names

    train_job = load_katib_example(EXAMPLE)["spec"]["trialTemplate"]["trialSpec"]
    assert trial_log_names(train_job, "pytorch") == ("node", "pytorch")
    assert trial_log_names(train_job, "node") == ("node",)
    assert trial_log_names({"apiVersion": "example.com/v1", "kind": "TrainJob"}, "pytorch") == ("pytorch",)  # a user's own kind
    assert trial_log_names({"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob"}, "pytorch") == ("pytorch",)
