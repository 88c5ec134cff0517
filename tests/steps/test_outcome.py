"""An experiment's outcome is decided once, as Katib sets its Succeeded or Failed condition once
(experiment/util/status_util.go updates the condition only while the experiment is not
completed): a trial that ends after the experiment failed does not make it succeed, on any
engine, in any later read. And Katib's Restarting condition stays once a completed experiment
is restarted."""

from __future__ import annotations

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.decision import decide
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import load_state
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher
from kfp_tune.reports import summarize

GRID = {
    "spec.algorithm": {"algorithmName": "grid"},
    "spec.objective.goal": 0.2,
    "spec.maxTrialCount": 4,
    "spec.parallelTrialCount": 2,
    "spec.maxFailedTrialCount": 1,
    "spec.parameters": [{"name": "x", "parameterType": "categorical", "feasibleSpace": {"list": ["a", "b", "c", "d"]}}],
    "spec.trialTemplate.trialParameters": [{"name": "x", "reference": "x"}],
    "spec.trialTemplate.trialSpec.spec.template.spec.containers.0.args": ["x=${trialParameters.x}"],
}


class ScriptedLauncher(Launcher):
    """The first trial it runs fails; every other reports loss 0.1, which meets the goal 0.2.
    By launch order, not by point: grid draws its points in a random order, as Katib's does."""

    def __init__(self) -> None:
        self.launched = 0

    def run(self, trial: TrialRun) -> LaunchOutcome:
        self.launched += 1
        if self.launched == 1:
            return LaunchOutcome(LaunchPhase.FAILED, reason="Error", message="exit code 1", exit_code=1, logs={"main": "boom\n"})
        return LaunchOutcome(LaunchPhase.SUCCEEDED, exit_code=0, logs={"main": "loss=0.1\n"})


def _status(records: ExperimentRecords) -> dict:
    return records.read(records.status_key(), "ExperimentStatus")["status"]


def test_a_failed_experiment_stays_failed_when_a_running_trial_then_meets_the_goal(local_store):
    """kfp.local's order: each trial's collect-metrics and decide-stop run as it ends. The first
    trial fails (maxFailedTrialCount 1: the experiment fails), then the second, started beside it,
    meets the goal. Katib's experiment stays Failed; so does this one, in the step's answer, the
    status, a fresh reader's decision and the summary, with its first completion time."""
    experiment = load_experiment(quadratic_experiment(**GRID))
    records = ExperimentRecords(local_store, experiment.name)
    first, second = steps.suggest(records, "r0", 1, experiment, n=2)
    launcher = ScriptedLauncher()
    steps.launch_trial(records, launcher, first)
    steps.collect_metrics(records, first)
    failed = steps.decide_stop(records, "t-" + first, rounds_left=1)
    assert (failed.phase, failed.reason) == ("Failed", "ExperimentFailed")
    completed = _status(records)["completionTime"]

    steps.launch_trial(records, launcher, second)
    steps.collect_metrics(records, second)
    after = steps.decide_stop(records, "t-" + second, rounds_left=1)
    assert (after.phase, after.reason) == ("Failed", "ExperimentFailed")
    assert after.best_trial is not None and after.best_trial.name == second  # the optimal trial still moves, as in Katib

    state = load_state(records)
    assert (decide(state, 1).phase, decide(state, 1).reason) == ("Failed", "ExperimentFailed")
    status = _status(records)
    assert (status["phase"], status["reason"], status["completionTime"]) == ("Failed", "ExperimentFailed", completed)
    assert status["currentOptimalTrial"]["bestTrialName"] == second
    assert summarize(local_store, experiment.name)["status"] == "Failed"
    assert steps.suggest(records, "r1", 1) == []  # and no trial starts after it


def test_a_rerun_of_a_failed_experiment_reports_it_failed(local_store):
    """The same flow under the inline engine, then the same spec run again (which only reports
    the experiment): Failed both times. Before, the re-run decided again and said Succeeded."""
    experiment = load_experiment(quadratic_experiment(**GRID))
    records = ExperimentRecords(local_store, experiment.name)
    steps.suggest(records, "r0", 1, experiment, n=2)
    launcher = ScriptedLauncher()
    names = [t.name for t in load_state(records).trials]
    for name in names:  # the failing first ends (and is decided on) before the second
        steps.launch_trial(records, launcher, name)
        steps.collect_metrics(records, name)
        steps.decide_stop(records, "t-" + name, rounds_left=1)
    again = run_inline(local_store, experiment, LocalLauncher())
    assert (again.phase, again.reason) == ("Failed", "ExperimentFailed")
    assert len(load_state(records).trials) == 2


def test_a_restarted_experiment_keeps_katibs_restarting_condition(local_store):
    """LongRunning, maxTrialCount 2 then 4: the first outcome is kept under its budget, the
    restart decides anew, and from the restart on the conditions hold Restarting (Katib's
    MarkExperimentStatusRunning leaves it), before Running and the new Succeeded."""
    long_running = {"spec.resumePolicy": "LongRunning", "spec.maxTrialCount": 2}
    experiment = load_experiment(quadratic_experiment(**long_running))
    records = ExperimentRecords(local_store, experiment.name)
    assert run_inline(local_store, experiment, LocalLauncher()).reason == "ExperimentMaxTrialsReached"
    assert [c["type"] for c in _status(records)["conditions"]] == ["Created", "Running", "Succeeded"]
    first_completion = _status(records)["completionTime"]

    bigger = load_experiment(quadratic_experiment(**{**long_running, "spec.maxTrialCount": 4}))
    decision = run_inline(local_store, bigger, LocalLauncher())
    assert decision.reason == "ExperimentMaxTrialsReached" and len(load_state(records).trials) == 4
    status = _status(records)
    assert [(c["type"], c["status"]) for c in status["conditions"]] == [
        ("Created", "True"), ("Restarting", "True"), ("Running", "False"), ("Succeeded", "True")
    ]
    restarting = status["conditions"][1]
    assert (restarting["reason"], restarting["message"]) == ("ExperimentRestarting", "Experiment is restarted")
    assert restarting["lastTransitionTime"] >= first_completion
    assert status["completionTime"] >= restarting["lastTransitionTime"]


def test_an_interrupted_kfp_local_run_counts_only_the_trials_it_stopped(local_store):
    """A run resumed at once after a kill -9 starts while the dead run's kfp.local tasks are still
    stopping that run's trials. When the new run is then interrupted, it stopped one trial of
    its own: the message and the status say 1, not the 2 given back since it started."""
    from kfp_tune.core import claims
    from kfp_tune.core.records import TrialStarted
    from kfp_tune.core.state import ExperimentView
    from kfp_tune.steps.decide_stop import end_interrupted_run, kill_trial

    experiment = load_experiment(quadratic_experiment(**GRID))
    records = ExperimentRecords(local_store, experiment.name)
    first, second = steps.suggest(records, "r0", 1, experiment, n=2)
    view = ExperimentView(records)
    view.record_trial(first, TrialStarted(trial=first, time="", at=0.0, run="dead-run", attempt="a1"))
    claims.claim(records, "this-run", take_over=True)  # this process owns it (run_owner)
    view.record_trial(second, TrialStarted(trial=second, time="", at=0.0, run="this-run", attempt="a2"))
    assert kill_trial(view, first, "SIGKILL")  # the dead run's kfp.local task, stopping its own trial late
    assert end_interrupted_run(records, claims.run_owner(), "SIGINT") == 1
    state = load_state(records)
    assert state.given_back == 2
    assert "1 running trial(s) stopped and recorded Killed" in _status(records)["message"]


def test_a_trial_an_interrupt_gave_back_says_so_without_promising_a_next_run(local_store):
    """Its message said "the next run makes a new trial in its place", shown in the report's why
    column long after the experiment had completed (a daily-use QA pass). It now says what stays
    true: the budget is given back, counted towards neither maxTrialCount nor maxFailedTrialCount."""
    from kfp_tune.core.records import TrialStarted
    from kfp_tune.core.state import ExperimentView
    from kfp_tune.steps.decide_stop import give_back_unstarted, kill_trial

    experiment = load_experiment(quadratic_experiment(**GRID))
    records = ExperimentRecords(local_store, experiment.name)
    running, waiting = steps.suggest(records, "r0", 1, experiment, n=2)
    view = ExperimentView(records)
    view.record_trial(running, TrialStarted(trial=running, time="", at=0.0, run="r", attempt="a1"))
    assert kill_trial(view, running, "SIGINT")
    give_back_unstarted(view, waiting, "SIGINT")
    state = load_state(records)
    given_back = "its budget is given back (it counts towards neither maxTrialCount nor maxFailedTrialCount)"
    assert state.trial(running).result.message == f"stopped when the run was interrupted (SIGINT); {given_back}"
    assert state.trial(waiting).result.message == f"not started: the run was interrupted (SIGINT) first; {given_back}"
