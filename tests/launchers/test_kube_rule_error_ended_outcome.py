"""A plug-in early-stopping rule that raises judging a Kubernetes trial that had already ended
(its Job complete, all it printed read) hands up the trial's own end on its error
(``EarlyStoppingRuleError.outcome``: Succeeded or Failed as the Job says, with its log), which
launch-trial records as is rather than giving the trial back to be trained again (review E of
session 37, finding 2). A trial still running when the rule raises has none: it is given back.
On the fake API server and the fake clock of test_kube_mutants_follow.py."""

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
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.stores import LocalStore
from pod_polls import EventClock, polled_launcher

TRIAL = "quad-ended123"


class RaisingMedianStop(MedianStop):
    """A plug-in's defect: raises once the trial has reported."""

    def should_stop(self, objective_type: str, completed: Any, current: Any) -> bool:
        if current:
            raise RuntimeError("my bug")
        return False


def _raised(clusters: Any, tmp_path: Path, run_seconds: float, outcome: str = "Succeeded") -> EarlyStoppingRuleError:
    kube = clusters()
    log = [(float(at) if run_seconds else 0.0, f"epoch {at}: loss={1 - at / 40:.3f}") for at in range(40)]
    kube.script = lambda manifest: Script(run_seconds=run_seconds, log=log, outcome=outcome)
    experiment = load_experiment(quadratic_experiment(**{
        "spec.objective.metricStrategies": [{"name": "loss", "value": "min"}], "spec.earlyStopping": {"algorithmName": "medianstop"}}))
    records = ExperimentRecords(LocalStore(tmp_path / "store"), experiment.name)
    trial = TrialState(name=TRIAL, index=0, round="run-1-r000", assignment={"x": "0.1", "y": "0.2"}, created="")
    rule = RaisingMedianStop({"min_trials_required": 1, "start_step": 1})
    run = trial_run(experiment, trial, should_stop=stop_test(records, experiment, TRIAL, rule, [[0.1] * 21]))
    with pytest.raises(EarlyStoppingRuleError, match="my bug") as raised:
        polled_launcher(kube, EventClock()).run(run)
    return raised.value


@pytest.mark.parametrize(("ended", "phase"), [("Succeeded", LaunchPhase.SUCCEEDED), ("Failed", LaunchPhase.FAILED)])
def test_an_ended_trials_own_end_comes_up_on_the_rules_error(clusters: Any, tmp_path: Path, ended: str, phase: LaunchPhase) -> None:
    error = _raised(clusters, tmp_path, run_seconds=0.0, outcome=ended)
    assert error.outcome is not None and error.outcome.phase == phase, error.outcome
    assert "epoch 39: loss=0.025" in "".join(error.outcome.logs.values())


def test_a_running_trial_has_no_end_on_the_rules_error(clusters: Any, tmp_path: Path) -> None:
    error = _raised(clusters, tmp_path, run_seconds=40.0)
    assert error.outcome is None


class RaisingFromSecondTrial:
    """A plug-in rule that breaks once one trial has completed (a should_stop rule: asked with
    the completed trials' curves)."""

    def __init__(self, settings: dict[str, Any]):
        pass

    def should_stop(self, objective_type: str, completed: Any, current: Any) -> bool:
        if completed and current:
            raise RuntimeError("my bug")
        return False


@pytest.mark.usefixtures("clean_plugin_registries")
def test_a_run_on_the_cluster_records_the_ended_trial_succeeded_and_the_fixed_run_adds_one(clusters: Any, tmp_path: Path) -> None:
    """Through launch-trial: the trial the rule raised on, which had ended, is Succeeded with its
    loss, not given back; a run after the fix makes only the trial left of maxTrialCount."""
    from kfp_tune.algorithms import early_stopping
    from kfp_tune.core.state import load_state
    from kfp_tune.core.vocabulary import TrialStatus
    from kfp_tune.inline_runner import run_inline

    early_stopping.register("second-stop", RaisingFromSecondTrial, settings=())
    kube = clusters()
    kube.script = lambda manifest: Script(run_seconds=0.0, log=[(0.0, "loss=0.5")])
    document = quadratic_experiment(**{"spec.earlyStopping": {"algorithmName": "second-stop"}, "spec.parallelTrialCount": 1, "spec.maxTrialCount": 3})
    store = LocalStore(tmp_path / "store")
    with pytest.raises(EarlyStoppingRuleError, match="my bug"):
        run_inline(store, load_experiment(document), polled_launcher(kube, EventClock()))
    state = load_state(ExperimentRecords(store, "quad"))
    assert [(t.status, t.result.metrics.get("loss") if t.result else None) for t in state.trials] == [(TrialStatus.SUCCEEDED, 0.5)] * 2

    early_stopping.register("second-stop", MedianStop, settings=())  # the plug-in fixed
    assert run_inline(store, load_experiment(document), polled_launcher(kube, EventClock())).finished
    assert [t.status for t in load_state(ExperimentRecords(store, "quad")).trials] == [TrialStatus.SUCCEEDED] * 3
