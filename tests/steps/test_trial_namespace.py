"""``${trialSpec.Namespace}`` in a run off the cluster: the experiment's namespace (else
"default"), as Katib makes the Trial in its Experiment's namespace and as ``kfp-tune render``
shows it; it was "" in inline and kfp-local runs."""

from __future__ import annotations

import shlex
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.cli import main
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.vocabulary import LaunchPhase


class _Recording(Launcher):
    """Succeeds at once and keeps the argument the template gave ``--ns``."""

    def __init__(self, namespace: str = ""):
        self._namespace = namespace
        self.seen: list[str] = []

    @property
    def namespace(self) -> str:
        return self._namespace

    def run(self, trial: TrialRun) -> LaunchOutcome:
        args = trial.manifest["spec"]["template"]["spec"]["containers"][0]["args"]
        self.seen += [a.removeprefix("--ns=") for a in args if a.startswith("--ns=")]
        return LaunchOutcome(LaunchPhase.SUCCEEDED, logs={trial.primary_container: "loss=0.5\naccuracy=0.5\n"})


def _reading_namespace(namespace: str | None) -> dict[str, Any]:
    doc = quadratic_experiment()
    if namespace is not None:
        doc["metadata"]["namespace"] = namespace
    template = doc["spec"]["trialTemplate"]
    template["trialParameters"].append({"name": "ns", "reference": "${trialSpec.Namespace}"})
    template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"].append("--ns=${trialParameters.ns}")
    return doc


def _rendered(doc: dict[str, Any], tmp_path, capsys) -> str:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(doc))
    capsys.readouterr()
    assert main(["render", str(path), "--assign", "x=0.5", "--assign", "y=0.5"]) == 0
    container = yaml.safe_load(capsys.readouterr().out)["spec"]["template"]["spec"]["containers"][0]
    words = [w for part in container.get("command", []) + container.get("args", []) for w in shlex.split(part)]  # render may wrap them in a shell line
    return next(w.removeprefix("--ns=") for w in words if w.startswith("--ns="))


@pytest.mark.parametrize("namespace", ["team-a", "", None])
def test_a_local_run_reads_the_namespace_render_shows(namespace, local_store, tmp_path, capsys):
    doc = _reading_namespace(namespace)
    experiment = load_experiment(doc)
    records = ExperimentRecords(local_store, experiment.name)
    launcher = _Recording()
    for name in steps.suggest(records, "r0", 2, experiment, n=2):
        steps.launch_trial(records, launcher, name)
    assert launcher.seen == [namespace or "default"] * 2
    assert _rendered(doc, tmp_path, capsys) == launcher.seen[0]


def test_a_launcher_on_a_cluster_gives_its_own_namespace(local_store):
    experiment = load_experiment(_reading_namespace("team-a"))
    records = ExperimentRecords(local_store, experiment.name)
    launcher = _Recording("where-it-runs")
    (name,) = steps.suggest(records, "r0", 1, experiment, n=1)
    steps.launch_trial(records, launcher, name)
    assert launcher.seen == ["where-it-runs"]
