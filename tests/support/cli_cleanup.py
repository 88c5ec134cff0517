"""``kfp-tune cleanup`` run in this process, as the cleanup tests of several files call it: its
exit status and what it printed, each stream apart, so a test can tell a note from an error; and
the experiment those tests clean up, made on a fake cluster through the real steps."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import load_state
from kfp_tune.core.trials import trial_run
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher
from kfp_tune.steps import init_experiment, launch_trial, suggest
from kfp_tune.stores import LocalStore


def run_cleanup(*argv: str, answer: str | None = None) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``kfp-tune cleanup ARGV...``; ``answer``: what is typed
    at its question (None: stdin as the test runner has it)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        if answer is None:
            code = main(["cleanup", *argv])
        else:
            import sys

            stdin, sys.stdin = sys.stdin, io.StringIO(answer)
            try:
                code = main(["cleanup", *argv])
            finally:
                sys.stdin = stdin
    return code, out.getvalue(), err.getvalue()


def experiment_in(kube: Any, store: Path, ended: int = 0, running: int = 0, pending: int = 0) -> dict[str, list[str]]:
    """Experiment quad (retain: true, trials in team-a) in ``store``: ``ended`` trials run to
    their end (their Jobs kept), ``running`` whose Jobs are created and not ended, and
    ``pending`` suggested with no Job yet. Each store's experiment has its own uid, so its own
    trial names."""
    doc = quadratic_experiment(**{"spec.maxTrialCount": 12})
    doc["spec"]["trialTemplate"]["retain"] = True
    doc["metadata"]["namespace"] = "team-a"
    experiment = load_experiment(doc)
    records = ExperimentRecords(LocalStore(store), "quad")
    init_experiment(records, experiment)
    names = suggest(records, "run-1-r000", 1, n=ended + running + pending)
    launcher = KubernetesLauncher(KubernetesConfig(namespace="team-a", poll_seconds=0.05), api_client=kube.api_client(), env={})
    for name in names[:ended]:
        launch_trial(records, launcher, name)
    state = load_state(records)
    for name in names[ended:ended + running]:
        launcher.create_or_adopt(launcher.prepare(trial_run(experiment, state.trial(name)), launcher._owner(launcher.anchor("quad"))))
    return {"ended": names[:ended], "running": names[ended:ended + running], "pending": names[ended + running:]}


def job_names(kube: Any) -> list[str]:
    return sorted(o["metadata"]["name"] for o in kube.stored("jobs"))


def config_map_names(kube: Any) -> list[str]:
    return sorted(o["metadata"]["name"] for o in kube.stored("configmaps"))
