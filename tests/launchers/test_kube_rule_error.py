"""A plug-in early-stopping rule that raises while the Kubernetes launcher follows a trial
(review E of session 37, finding 1): the run stops with the rule's error and the trial is
given back (Killed), so nothing follows its Job again; the launcher deletes it, as it does on
an interrupt, rather than leave it holding its GPUs unobserved. On the fake API server and the
fake clock of test_kube_mutants_follow.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import quadratic_experiment
from fake_kube import Script
from kfp_tune.algorithms.early_stopping import MedianStop
from kfp_tune.collectors.running import EarlyStoppingRuleError, stop_test
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.stores import LocalStore
from pod_polls import EventClock, polled_launcher

TRIAL = "quad-follow123"


class RaisingMedianStop(MedianStop):
    """A plug-in's defect: raises once the trial has reported."""

    def should_stop(self, objective_type: str, completed: Any, current: Any) -> bool:
        if current:
            raise RuntimeError("my bug")
        return False


def _launch(clusters: Any, tmp_path: Path, retain: bool, run_seconds: float) -> tuple[Any, EarlyStoppingRuleError]:
    kube = clusters()
    log = [(float(at) if run_seconds else 0.0, f"epoch {at}: loss={1 - at / 40:.3f}") for at in range(40)]
    kube.script = lambda manifest: Script(run_seconds=run_seconds, log=log)
    experiment = load_experiment(quadratic_experiment(**{
        "spec.objective.metricStrategies": [{"name": "loss", "value": "min"}], "spec.trialTemplate.retain": retain,
        "spec.earlyStopping": {"algorithmName": "medianstop"}}))
    records = ExperimentRecords(LocalStore(tmp_path / "store"), experiment.name)
    trial = TrialState(name=TRIAL, index=0, round="run-1-r000", assignment={"x": "0.1", "y": "0.2"}, created="")
    rule = RaisingMedianStop({"min_trials_required": 1, "start_step": 1})
    run = trial_run(experiment, trial, should_stop=stop_test(records, experiment, TRIAL, rule, [[0.1] * 21]))
    with pytest.raises(EarlyStoppingRuleError, match="my bug") as raised:
        polled_launcher(kube, EventClock()).run(run)
    return kube, raised.value


@pytest.mark.parametrize("retain", [True, False])
def test_a_running_trials_job_is_deleted_when_the_rule_raises(clusters: Any, tmp_path: Path, retain: bool) -> None:
    kube, _ = _launch(clusters, tmp_path, retain, run_seconds=40.0)
    assert [job["metadata"]["name"] for job in kube.stored("jobs", "batch")] == []
    assert len(kube.calls_to("DELETE", "jobs")) == 1


@pytest.mark.parametrize(("retain", "kept"), [(True, [TRIAL]), (False, [])])
def test_an_ended_trials_job_is_kept_only_under_retain_when_the_rule_raises(clusters: Any, tmp_path: Path, retain: bool, kept: list[str]) -> None:
    """A trial that ended between two polls is judged on all it printed at its end: its Job is
    what any ended trial's is, kept under retain (kfp-tune cleanup takes it), deleted else, and
    the error carries what it printed, kept with the trial."""
    kube, error = _launch(clusters, tmp_path, retain, run_seconds=0.0)
    assert [job["metadata"]["name"] for job in kube.stored("jobs", "batch")] == kept
    assert "epoch 39: loss=0.025" in "".join(error.logs.values())  # what it printed is kept with it
