"""The four steps over a real store: idempotent retries, trial outcomes, Katib's stop order."""

from __future__ import annotations

import json
import re
import shlex

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.algorithms import registry
from kfp_tune.core.decision import decide
from kfp_tune.core.errors import ExperimentConflict, KfpTuneError, SpecError, StoreError
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords, TrialResult
from kfp_tune.core.spec import Experiment, parse_experiment
from kfp_tune.core.state import load_state, read_experiment_record
from kfp_tune.core.trials import render_trial
from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher
from kfp_tune.reports import summarize


class CountingLauncher(Launcher):
    """A launcher that runs the local one and counts calls per trial."""

    def __init__(self, inner=None):
        self.inner = inner or LocalLauncher()
        self.calls: dict[str, int] = {}

    def run(self, trial: TrialRun) -> LaunchOutcome:
        self.calls[trial.trial] = self.calls.get(trial.trial, 0) + 1
        return self.inner.run(trial)


def _records(store, **overrides):
    experiment = load_experiment(quadratic_experiment(**overrides))
    return experiment, ExperimentRecords(store, experiment.name)


def test_suggest_retry_returns_the_same_trials(local_store):
    experiment, records = _records(local_store)
    first = steps.suggest(records, "run1-r000", 3, experiment)
    again = steps.suggest(records, "run1-r000", 3, experiment)
    assert first == again and len(first) == 2
    assert len(load_state(records).trials) == 2
    other = steps.suggest(records, "run1-r001", 2)
    assert set(other).isdisjoint(first)


def test_round_sizes_spread_the_budget(local_store):
    experiment, records = _records(local_store, **{"spec.maxTrialCount": 10, "spec.parallelTrialCount": 2})
    sizes = [len(steps.suggest(records, f"r{i}", 3 - i, experiment if i == 0 else None)) for i in range(3)]
    assert sizes == [4, 3, 3]
    assert steps.suggest(records, "r3", 1) == []  # budget spent


def test_launch_twice_runs_once_and_collect_is_idempotent(local_store):
    experiment, records = _records(local_store)
    name = steps.suggest(records, "r0", 1, experiment)[0]
    launcher = CountingLauncher()
    assert steps.launch_trial(records, launcher, name) == "Succeeded"
    assert steps.launch_trial(records, launcher, name) == "Succeeded"
    assert launcher.calls == {name: 1}
    result = steps.collect_metrics(records, name)
    assert result.status == "Succeeded"
    assert steps.collect_metrics(records, name) == result
    trial = load_state(records).trial(name)
    x, y = float(trial.assignment["x"]), float(trial.assignment["y"])
    expected = (x - 0.3) ** 2 + (y - 0.7) ** 2
    assert result.metrics["loss"] == pytest.approx(expected, abs=1e-6)  # min over steps
    assert result.observation["loss"]["max"] == pytest.approx(expected + 0.2, abs=1e-6)
    log = records.read_text(records.log_key(name, "main"))
    assert "step=2" in log


def test_collect_before_launch_is_refused(local_store):
    experiment, records = _records(local_store)
    name = steps.suggest(records, "r0", 1, experiment)[0]
    with pytest.raises(KfpTuneError, match="has not ended"):
        steps.collect_metrics(records, name)


def _args(mode: str) -> dict:
    return {"spec.trialTemplate.trialSpec.spec.template.spec.containers.0.args": ["x=${trialParameters.x}", "y=${trialParameters.y}", f"mode={mode}"]}


class JobEnding(Launcher):
    """A launcher whose every trial's job ends (by default fails) with the reason and message
    given (a cluster's Job's), printing ``log``."""

    def __init__(self, reason: str, message: str, phase: str = "Failed", log: str = ""):
        self.reason, self.message, self.phase, self.log = reason, message, phase, log

    def run(self, trial: TrialRun) -> LaunchOutcome:
        return LaunchOutcome(self.phase, reason=self.reason, message=self.message, logs={"main": self.log})


@pytest.mark.parametrize("job_reason,job_message,reason,message", [
    ("BackoffLimitExceeded", "Job has reached the specified backoff limit",
     "TrialFailed. Job reason: BackoffLimitExceeded", "Trial has failed. Job message: Job has reached the specified backoff limit"),
    ("", "", "TrialFailed", "Trial has failed"),
])
def test_a_failed_trials_condition_is_katibs_with_its_jobs_reason_and_message(local_store, job_reason, job_message, reason, message):
    """A Failed trial's condition carried its job's raw reason and message (BackoffLimitExceeded on
    a cluster, Error locally), where Katib's trial controller writes 'TrialFailed. Job reason: R'
    and 'Trial has failed. Job message: M', each alone when the job gave none
    (trial_controller_util.go, UpdateTrialStatusCondition)."""
    experiment, records = _records(local_store)
    name = steps.suggest(records, "r0", 1, experiment)[0]
    assert steps.launch_trial(records, JobEnding(job_reason, job_message), name) == "Failed"
    result = steps.collect_metrics(records, name)
    assert (result.status, result.reason, result.message) == ("Failed", reason, message)
    assert load_state(records).trial(name).ended.reason == job_reason  # the launcher's own word is kept as it came


@pytest.mark.parametrize("log,status,reason,message", [
    ("loss=0.5\n", "Succeeded", "TrialSucceeded. Job reason: CompletionsReached", "Trial has succeeded. Job message: Reached expected number of succeeded pods"),
    ("", "MetricsUnavailable", "MetricsUnavailable. Job reason: CompletionsReached",
     "the trial did not report the objective metric 'loss': the StdOut collector found none in the trial's output; "
     "it reads lines of the form loss=<number> (Katib's default filter). Job message: Reached expected number of succeeded pods"),
])
def test_succeeded_and_metrics_unavailable_conditions_carry_the_jobs_too(local_store, log, status, reason, message):
    """Katib's trial controller adds the condition the job met to a Succeeded or MetricsUnavailable
    trial's as it does to a Failed one's (trial_controller_util.go, UpdateTrialStatusCondition):
    a Kubernetes 1.31 Job's CompletionsReached. kfp-tune did for Failed trials only."""
    experiment, records = _records(local_store)
    name = steps.suggest(records, "r0", 1, experiment)[0]
    job = JobEnding("CompletionsReached", "Reached expected number of succeeded pods", phase="Succeeded", log=log)
    assert steps.launch_trial(records, job, name) == "Succeeded"
    result = steps.collect_metrics(records, name)
    assert (result.status, result.reason, result.message) == (status, reason, message)


@pytest.mark.parametrize("mode,status", [("fail", "Failed"), ("silent", "MetricsUnavailable")])
def test_failed_and_metrics_unavailable_trials(local_store, mode, status):
    experiment, records = _records(local_store, **_args(mode))
    name = steps.suggest(records, "r0", 1, experiment)[0]
    phase = steps.launch_trial(records, LocalLauncher(), name)
    result = steps.collect_metrics(records, name)
    assert result.status == status
    assert phase == ("Failed" if mode == "fail" else "Succeeded")
    if mode == "fail":  # Katib's form (UpdateTrialStatusCondition), the launcher's word as the job's; its message the log's last line
        assert (result.reason, result.message) == ("TrialFailed. Job reason: Error", "Trial has failed. Job message: exit code 3: something went wrong")
        assert "something went wrong" in records.read_text(records.log_key(name, "main"))
    else:  # where the collector looked and what it reads: the usual cause, a line in another shape
        assert result.message == (
            "the trial did not report the objective metric 'loss': the StdOut collector found none in the trial's output; "
            "it reads lines of the form loss=<number> (Katib's default filter)"
        )


def test_metrics_unavailable_names_what_the_trial_did_report(local_store):
    """A trial that printed an additional metric but not the objective: the message lists what it
    reported, so a misspelt objective name shows at once."""
    experiment, records = _records(local_store, **{"spec.objective.objectiveMetricName": "los", "spec.objective.additionalMetricNames": ["accuracy", "loss"]})
    name = steps.suggest(records, "r0", 1, experiment)[0]
    steps.launch_trial(records, LocalLauncher(), name)
    result = steps.collect_metrics(records, name)
    assert result.status == "MetricsUnavailable"
    assert result.message == "the trial did not report the objective metric 'los' (it reported 'accuracy', 'loss')"


@pytest.mark.parametrize(
    ("overrides", "told"),
    [
        ({"spec.objective.objectiveMetricName": "los"}, "; its output has 'loss': is spec.objective.objectiveMetricName misspelt?"),
        ({"spec.trialTemplate.trialSpec.spec.template.spec.containers.0.command": ["python3", "-c", shlex.quote("print('loss=nan'); print('loss = None')")]},
         "; its loss values were not numbers ('nan', 'None'), which are left out"),
    ],
    ids=["misspelt", "not-a-number"],
)
def test_metrics_unavailable_says_what_the_output_has_instead(local_store, overrides, told):
    """QA: a trial that printed score=0.1 for objective 'scor', or only accuracy=nan, was told
    'the StdOut collector found none' or '(it reported ...)' with no word on the close name or
    the value that was not a number: both are said now, read from the trial's log."""
    experiment, records = _records(local_store, **overrides)
    name = steps.suggest(records, "r0", 1, experiment)[0]
    steps.launch_trial(records, LocalLauncher(), name)
    result = steps.collect_metrics(records, name)
    assert result.status == "MetricsUnavailable" and result.message.endswith(told), result.message


def test_too_many_failures_fail_the_experiment(local_store):
    experiment, _ = _records(local_store, **_args("fail"), **{"spec.maxFailedTrialCount": 1})
    decision = run_inline(local_store, experiment, LocalLauncher())
    # Katib: failed >= maxFailedTrialCount ends it, with reason ExperimentFailed; no trial starts
    # after that, and the one already running finishes (both slots started at once)
    assert (decision.phase, decision.reason, decision.message) == ("Failed", "ExperimentFailed", "Experiment has failed because max failed count has reached")
    summary = summarize(local_store, experiment.name)
    assert summary["failed"] == 2 and summary["trials"] == 2 and summary["status"] == "Failed"


def test_goal_reached_stops_right_after_the_trial_that_reaches_it(local_store):
    """x among 0.9, 0.6, 0.3, 0.1 (y fixed at 0.7): losses 0.36, 0.09, 0.0, 0.04, in the grid's
    random order. The goal 0.0 is met by x = 0.3 alone, exactly (Katib: value <= goal), so the run
    stops right after that trial: not before (the others miss it) and starting no other."""
    experiment, records = _records(
        local_store,
        **{
            "spec.objective.goal": 0.0,
            "spec.maxTrialCount": 4,
            "spec.parallelTrialCount": 1,
            "spec.algorithm": {"algorithmName": "grid"},
            "spec.parameters": [{"name": "x", "parameterType": "categorical", "feasibleSpace": {"list": ["0.9", "0.6", "0.3", "0.1"]}}],
            "spec.trialTemplate.trialParameters": [{"name": "x", "reference": "x"}],
            "spec.trialTemplate.trialSpec.spec.template.spec.containers.0.args": ["x=${trialParameters.x}", "y=0.7"],
        },
    )
    decision = run_inline(local_store, experiment, LocalLauncher())
    assert (decision.phase, decision.reason) == ("Succeeded", "ExperimentGoalReached")
    trials = load_state(records).trials
    losses = {"0.9": 0.36, "0.6": 0.09, "0.3": 0.0, "0.1": 0.04}
    assert trials[-1].assignment["x"] == "0.3" and "0.3" not in [t.assignment["x"] for t in trials[:-1]]
    assert [t.metrics["loss"] for t in trials] == [losses[t.assignment["x"]] for t in trials]
    assert decision.best_trial is not None and decision.best_trial.name == trials[-1].name


def test_max_trials_reached_and_best_trial(local_store):
    experiment, records = _records(local_store)
    decision = run_inline(local_store, experiment, LocalLauncher())
    assert (decision.phase, decision.reason) == ("Succeeded", "ExperimentMaxTrialsReached")
    state = load_state(records)
    assert len(state.trials) == 6
    losses = {t.name: t.metrics["loss"] for t in state.trials}
    assert decision.best_trial.name == min(losses, key=losses.get)
    status = records.read(records.status_key(), "ExperimentStatus")["status"]
    assert status["currentOptimalTrial"]["bestTrialName"] == decision.best_trial.name
    assert [c["type"] for c in status["conditions"]] == ["Created", "Running", "Succeeded"]
    assert status["trialsSucceeded"] == 6 and len(status["succeededTrialList"]) == 6


def test_grid_smaller_than_budget_ends_cleanly(local_store):
    experiment, records = _records(
        local_store,
        **{
            "spec.algorithm": {"algorithmName": "grid"},
            "spec.maxTrialCount": 20,
            "spec.parameters": [
                {"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1", "step": "0.5"}},
                {"name": "y", "parameterType": "categorical", "feasibleSpace": {"list": ["0.1", "0.7"]}},
            ],
        },
    )
    decision = run_inline(local_store, experiment, LocalLauncher())
    assert (decision.phase, decision.reason) == ("Succeeded", "ExperimentSuggestionEndReached")
    state = load_state(records)
    assert sorted((t.assignment["x"], t.assignment["y"]) for t in state.trials) == [
        ("0", "0.1"), ("0", "0.7"), ("0.5", "0.1"), ("0.5", "0.7"), ("1", "0.1"), ("1", "0.7")
    ]


def test_order_goal_before_max_failed():
    """Katib checks the goal first: a reached goal wins over too many failures."""
    from kfp_tune.core.state import ExperimentState, TrialState

    experiment = load_experiment(quadratic_experiment(**{"spec.objective.goal": 0.5, "spec.maxFailedTrialCount": 0}))

    def trial(i, status, loss=None):
        return TrialState(f"t{i}", i, "r", {"x": "0.1", "y": "0.2"}, "now", result=TrialResult(f"t{i}", TrialStatus(status), metrics={} if loss is None else {"loss": loss}))

    state = ExperimentState(experiment, "uid", "now", [trial(0, "Failed"), trial(1, "Succeeded", 0.1)])
    assert decide(state, 1).reason == "ExperimentGoalReached"
    state.trials[1] = trial(1, "Succeeded", 0.9)
    assert decide(state, 1).reason == "ExperimentFailed"  # maxFailedTrialCount 0: Katib fails at the first failure
    state = ExperimentState(experiment, "uid", "now", [trial(0, "Succeeded", 0.9)])
    assert decide(state, 1).phase == "Running"
    assert decide(state, 0).reason == "ExperimentRunRoundsUsedUp"


def test_resume_rules(local_store):
    """Katib's restart rule: a completed experiment under LongRunning grows with a larger
    maxTrialCount, never a smaller or equal one; the search space never changes."""
    long_running = {"spec.resumePolicy": "LongRunning"}
    experiment = load_experiment(quadratic_experiment(**long_running))
    records = ExperimentRecords(local_store, experiment.name)
    run_inline(local_store, experiment, LocalLauncher())
    assert len(load_state(records).trials) == 6
    moved = load_experiment(quadratic_experiment(**{"spec.parameters.0.feasibleSpace": {"min": "0", "max": "5"}, **long_running}))
    with pytest.raises(ExperimentConflict, match=r"another search space or objective \(spec.parameters\[x\] changed\)"):
        steps.init_experiment(records, moved)
    flipped = load_experiment(quadratic_experiment(**{"spec.objective.type": "maximize", **long_running}))
    with pytest.raises(ExperimentConflict, match=r"\(spec.objective.type[,) ]"):
        steps.init_experiment(records, flipped)
    # a daily-use QA pass: with the algorithm changed too, only the parameter was named
    both = load_experiment(quadratic_experiment(**{"spec.parameters.0.feasibleSpace": {"min": "0", "max": "5"}, "spec.algorithm.algorithmName": "grid",
                                                   "spec.parameters.0.feasibleSpace.step": "0.5", "spec.parameters.1.feasibleSpace.step": "0.5", **long_running}))
    with pytest.raises(ExperimentConflict, match=r"another search space or objective \(spec.parameters\[x\], spec.parameters\[y\], spec.algorithm changed\)"):
        steps.init_experiment(records, both)
    with pytest.raises(ExperimentConflict, match="expected a maxTrialCount greater than 6, got 5"):
        steps.init_experiment(records, load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 5, "spec.parallelTrialCount": 2, **long_running})))
    bigger = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 8, **long_running}))
    decision = run_inline(local_store, bigger, LocalLauncher())
    state = load_state(records)
    assert decision.reason == "ExperimentMaxTrialsReached" and len(state.trials) == 8
    assert len({t.name for t in state.trials}) == 8


def test_only_the_budgets_may_change_when_an_experiment_resumes(local_store):
    """Katib's webhook: only parallelTrialCount, maxTrialCount and maxFailedTrialCount are
    editable. Another algorithm, goal or trial template is refused, naming the field, and the
    stored spec (what the earlier trials ran with) stays as it was; the budgets change. The
    refusal names the stored and the given value of a short one (upgrade QA: tune()'s default
    algorithm changed, and "another spec.algorithm" named neither); a long one only by its path."""
    long_running = {"spec.resumePolicy": "LongRunning", "spec.maxTrialCount": 2}
    experiment = load_experiment(quadratic_experiment(**long_running))
    records = ExperimentRecords(local_store, experiment.name)
    run_inline(local_store, experiment, LocalLauncher())
    before = {key: local_store.get(key) for key in local_store.list(records.root + "/")}
    edits = {
        "spec.algorithm": ({"algorithmName": "tpe"}, "spec.algorithm (algorithmName 'random' stored, 'tpe' given; algorithmSettings[random_state] removed)"),
        "spec.algorithm.algorithmSettings.0.value": ("4", "spec.algorithm (algorithmSettings[random_state].value '3' stored, '4' given)"),
        "spec.objective.goal": (0.5, "spec.objective (goal added)"),
        "spec.resumePolicy": ("Never", "spec.resumePolicy ('LongRunning' stored, 'Never' given)"),
        "spec.trialTemplate.trialSpec.spec.template.spec.containers.0.image": (
            "other:1", "spec.trialTemplate (trialSpec.spec.template.spec.containers[main].image 'python:3.11-slim' stored, 'other:1' given)"),
        "spec.trialTemplate.trialSpec.spec.template.spec.containers.0.command": (
            ["sh", "-c", "python3 quadratic.py"], "spec.trialTemplate (trialSpec.spec.template.spec.containers[main].command changed)"),
        "spec.trialTemplate.trialSpec.spec.template.spec.containers.0.command.1": (
            "/" + "long/" * 20 + "quadratic.py", "spec.trialTemplate (trialSpec.spec.template.spec.containers[main].command[1] changed)"),
    }
    for path, (value, named) in edits.items():
        edited = load_experiment(quadratic_experiment(**{**long_running, "spec.maxTrialCount": 4, path: value}))
        with pytest.raises(ExperimentConflict, match=rf"already exists with another {re.escape(named)}: as in Katib, only spec.maxTrialCount, spec.parallelTrialCount, spec.maxFailedTrialCount may change"):
            steps.init_experiment(records, edited)
        assert {key: local_store.get(key) for key in local_store.list(records.root + "/")} == before
    grown = load_experiment(quadratic_experiment(**{**long_running, "spec.maxTrialCount": 4, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 3}))
    assert steps.init_experiment(records, grown)["spec"]["spec"]["maxTrialCount"] == 4
    assert run_inline(local_store, grown, LocalLauncher()).reason == "ExperimentMaxTrialsReached"
    assert len(load_state(records).trials) == 4


def test_a_run_of_the_same_yaml_after_a_budget_edit_keeps_the_edit_and_a_changed_yaml_replaces_it(local_store, caplog):
    """After ``kfp-tune edit`` raised maxTrialCount from 2 to 4, a run of the same YAML (its 2, as
    the last run was given) was refused (completed) or undid the edit with a warning (still
    running): ``kubectl apply`` of the same YAML after ``kubectl edit`` leaves the edited field
    alone (a three-way merge against the last-applied spec), and Katib's controller goes on with
    4. Now the same: the run keeps 4 and nothing stored changes; a YAML whose budget changed since
    (3) replaces the stored one, with a warning naming what it replaces."""
    from kfp_tune.client import Client

    long_running = {"spec.resumePolicy": "LongRunning", "spec.maxTrialCount": 2, "spec.parallelTrialCount": 1}
    experiment = load_experiment(quadratic_experiment(**long_running))
    records = ExperimentRecords(local_store, experiment.name)
    run_inline(local_store, experiment, LocalLauncher())
    Client(local_store).edit_experiment_budget(experiment.name, max_trial_count=4)
    before = {key: local_store.get(key) for key in local_store.list(records.root + "/")}
    with caplog.at_level("INFO", logger="kfp_tune.steps.prepare"):
        head = steps.init_experiment(records, experiment)
    assert head["spec"]["spec"]["maxTrialCount"] == 4 and head["applied"]["maxTrialCount"] == 2
    assert "spec.maxTrialCount stays 4, as edited since its last run (this spec's 2 is the one that run was given)" in caplog.text
    assert {key: local_store.get(key) for key in local_store.list(records.root + "/")} == before
    assert run_inline(local_store, experiment, LocalLauncher()).reason == "ExperimentMaxTrialsReached"
    assert len(load_state(records).trials) == 4
    caplog.clear()
    with caplog.at_level("WARNING", logger="kfp_tune.steps.prepare"):
        head = steps.init_experiment(records, load_experiment(quadratic_experiment(**{**long_running, "spec.maxTrialCount": 5})))
    assert head["spec"]["spec"]["maxTrialCount"] == 5 and head["applied"]["maxTrialCount"] == 5
    assert "spec.maxTrialCount changes from 4 (stored) to 5 (this spec)" not in caplog.text  # raised: news, not a warning
    Client(local_store).edit_experiment_budget(experiment.name, max_trial_count=7)
    with caplog.at_level("WARNING", logger="kfp_tune.steps.prepare"):
        head = steps.init_experiment(records, load_experiment(quadratic_experiment(**{**long_running, "spec.maxTrialCount": 6})))
    assert head["spec"]["spec"]["maxTrialCount"] == 6  # changed in the YAML since its last run: the YAML's, as kubectl apply's
    assert "spec.maxTrialCount changes from 7 (stored) to 6 (this spec)" in caplog.text


def test_a_kept_edit_counts_where_the_spec_changed_another_budget_and_the_last_given_spec_is_followed(local_store):
    """Edited from 2 to 4 and run to 4 trials, the YAML then changing only parallelTrialCount: the
    kept 4 is what the resume checks (not the YAML's 2, at or below the trials there are), and is
    the one stored. A YAML changed to the stored value is the last given from then on, as
    kubectl apply's last-applied: edited again to 6, that YAML run again keeps 6."""
    from kfp_tune.client import Client

    long_running = {"spec.resumePolicy": "LongRunning", "spec.maxTrialCount": 2, "spec.parallelTrialCount": 1}
    experiment = load_experiment(quadratic_experiment(**long_running))
    records = ExperimentRecords(local_store, experiment.name)
    run_inline(local_store, experiment, LocalLauncher())
    client = Client(local_store)
    client.edit_experiment_budget(experiment.name, max_trial_count=4)
    run_inline(local_store, experiment, LocalLauncher())
    assert len(load_state(records).trials) == 4
    client.edit_experiment_budget(experiment.name, max_trial_count=5)
    wider = load_experiment(quadratic_experiment(**{**long_running, "spec.parallelTrialCount": 2}))
    head = steps.init_experiment(records, wider)
    assert (head["spec"]["spec"]["maxTrialCount"], head["spec"]["spec"]["parallelTrialCount"]) == (5, 2)
    as_stored = load_experiment(quadratic_experiment(**{**long_running, "spec.maxTrialCount": 5, "spec.parallelTrialCount": 2}))
    assert steps.init_experiment(records, as_stored)["applied"]["maxTrialCount"] == 5
    client.edit_experiment_budget(experiment.name, max_trial_count=6)
    assert steps.init_experiment(records, as_stored)["spec"]["spec"]["maxTrialCount"] == 6


def test_a_kept_edit_that_the_specs_new_budget_no_longer_admits_is_refused_naming_both(local_store):
    """A review: run (maxTrialCount 3), edit to 6 with parallelTrialCount 5, then a YAML that
    changed only maxTrialCount to 4: the kept parallelTrialCount 5 above the YAML's 4 was stored
    (Katib's webhook refuses such a merged Experiment), and every later edit was refused over it."""
    from kfp_tune.client import Client

    long_running = {"spec.resumePolicy": "LongRunning", "spec.maxTrialCount": 3, "spec.parallelTrialCount": 1}
    experiment = load_experiment(quadratic_experiment(**long_running))
    records = ExperimentRecords(local_store, experiment.name)
    run_inline(local_store, experiment, LocalLauncher())
    Client(local_store).edit_experiment_budget(experiment.name, max_trial_count=6, parallel_trial_count=5)
    before = {key: local_store.get(key) for key in local_store.list(records.root + "/")}
    with pytest.raises(ExperimentConflict, match=(
            r"^spec.parallelTrialCount: experiment 'quad' would have parallelTrialCount 5 \(kept as edited since the last run\) above "
            r"maxTrialCount 4 \(this spec's\), which Katib refuses")):
        steps.init_experiment(records, load_experiment(quadratic_experiment(**{**long_running, "spec.maxTrialCount": 4})))
    assert {key: local_store.get(key) for key in local_store.list(records.root + "/")} == before


def test_an_edit_of_a_running_experiment_is_not_undone_by_a_resume_of_its_yaml(local_store):
    """The QA report's case: a run of maxTrialCount 4 stopped early, ``kfp-tune edit`` to 6,
    the same YAML run again ended at 4 (the edit undone with a log line); each other budget too.
    A record an older kfp-tune wrote (no last-run budgets) edited by this one keeps the edit too:
    :func:`test_an_edit_of_an_older_kfp_tunes_experiment_is_kept_by_the_next_run_of_its_yaml`."""
    from kfp_tune.client import Client

    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 4, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 2}))
    records = ExperimentRecords(local_store, experiment.name)
    steps.init_experiment(records, experiment)  # created, no trial run yet: Running
    Client(local_store).edit_experiment_budget(experiment.name, max_trial_count=6, parallel_trial_count=2, max_failed_trial_count=3)
    head = steps.init_experiment(records, experiment)
    assert {f: head["spec"]["spec"][f] for f in ("maxTrialCount", "parallelTrialCount", "maxFailedTrialCount")} == {
        "maxTrialCount": 6, "parallelTrialCount": 2, "maxFailedTrialCount": 3}
    assert run_inline(local_store, experiment, LocalLauncher()).reason == "ExperimentMaxTrialsReached"
    assert len(load_state(records).trials) == 6


def _refusal_between(store, stored: Experiment, given: Experiment) -> str:
    """The message of the refused resume of ``stored`` (created in ``store``) with ``given``."""
    records = ExperimentRecords(store, "quad")
    steps.init_experiment(records, stored)
    with pytest.raises(ExperimentConflict) as refused:
        steps.init_experiment(records, given)
    return str(refused.value)


def _as_an_older_kfp_tune_wrote_it(store, records, command_word=None):
    """The experiment record rewritten as kfp-tune before c789030 (2026-12-06 05:34) wrote it,
    the shape of the upgrade QA's stores (c29dbdb, 93dc8ed, cab7d9d): no ``applied`` budgets, no
    revision; ``command_word``: the trial command's first word as a kfp.local run before e3949fe
    (2026-12-03) stored it, kfp.local 2.17 having put its Python's path for ``python3``."""
    record = json.loads(store.get(records.experiment_key()))
    old = {key: record[key] for key in ("created", "kind", "name", "searchSpaceHash", "spec", "uid", "version")}
    if command_word is not None:
        old["spec"]["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["command"][0] = command_word
    store.put(records.experiment_key(), json.dumps(old).encode())


def test_an_edit_of_an_older_kfp_tunes_experiment_is_kept_by_the_next_run_of_its_yaml(local_store):
    """Upgrade QA: ``kfp-tune edit done --max-trial-count 5`` of an experiment a kfp-tune before
    c789030 wrote (no ``applied`` budgets), then ``kfp-tune run done.yaml`` (its 4) was refused
    (a changed spec needs a maxTrialCount above the 4 trials), where on an experiment this version
    made it runs to 5: the edit records the budgets stored before it as the last run's."""
    from kfp_tune.client import Client

    experiment = load_experiment(quadratic_experiment(**{"spec.resumePolicy": "LongRunning", "spec.maxTrialCount": 4}))
    records = ExperimentRecords(local_store, experiment.name)
    run_inline(local_store, experiment, LocalLauncher())
    _as_an_older_kfp_tune_wrote_it(local_store, records)
    Client(local_store).edit_experiment_budget(experiment.name, max_trial_count=5)
    edited = json.loads(local_store.get(records.experiment_key()))
    assert edited["applied"] == {"maxTrialCount": 4, "parallelTrialCount": 2, "maxFailedTrialCount": 2}
    assert edited["spec"]["spec"]["maxTrialCount"] == 5
    assert run_inline(local_store, experiment, LocalLauncher()).reason == "ExperimentMaxTrialsReached"
    assert len(load_state(records).trials) == 5


def test_a_refused_resume_names_where_a_credential_changed_never_its_value(local_store):
    """Review of ff8aedf: the refusal of a changed spec quoted an env value stored and given in
    full (a WANDB_API_KEY, which the same run warned of as written out). Any container's env
    value, and any value under a name that looks like a credential, is named by its path alone."""
    def with_values(key: str, mode: str, password: str) -> Experiment:
        spec = quadratic_experiment(**{"spec.maxTrialCount": 2})
        pod = spec["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]
        pod["spec"]["containers"][0]["env"] = [{"name": "WANDB_API_KEY", "value": key}, {"name": "MODE", "value": mode}]
        pod["metadata"] = {"annotations": {"db-password": password}}
        return load_experiment(spec)

    message = _refusal_between(local_store, with_values("wb-1111", "fast", "hunter2"), with_values("wb-2222", "slow", "hunter3"))
    assert ("another spec.trialTemplate (trialSpec.spec.template.metadata.annotations.db-password changed; "
            "trialSpec.spec.template.spec.containers[main].env[WANDB_API_KEY].value changed; "
            "trialSpec.spec.template.spec.containers[main].env[MODE].value changed): ") in message
    assert not re.search(r"wb-|hunter|fast|slow", message)


def test_a_refused_resume_never_quotes_the_trials_command_line(local_store):
    """Third review: ``--api-key=sk-live-AAAA`` rotated in the command's args was quoted stored
    and given; a command line often carries a credential: named by its path alone."""
    def with_key(key: str) -> Experiment:
        spec = quadratic_experiment(**{"spec.maxTrialCount": 2})
        container = spec["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
        container["args"] = [*(container.get("args") or []), f"--api-key={key}"]
        return load_experiment(spec)

    message = _refusal_between(local_store, with_key("sk-live-AAAA"), with_key("sk-live-BBBB"))
    assert re.search(r"containers\[main\]\.args\[\d+\] changed", message), message
    assert "sk-live" not in message


def test_a_refused_resume_never_quotes_a_credential_in_the_trials_command(local_store):
    """Mutation QA (R01): a key rotated in the container's ``command`` (``python3 train.py
    --api-key=sk-live-AAAA``, no ``args``) is as much the command line as one in its args:
    the refusal names ``command[2]`` by its path, never the old or the new key."""
    def with_key(key: str) -> Experiment:
        spec = quadratic_experiment(**{"spec.maxTrialCount": 2})
        container = spec["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
        container["command"] = [*container["command"], f"--api-key={key}"]
        return load_experiment(spec)

    message = _refusal_between(local_store, with_key("sk-live-AAAA"), with_key("sk-live-BBBB"))
    assert "containers[main].command[2] changed" in message, message
    assert "sk-live" not in message


def test_a_refused_resume_never_quotes_a_named_item_called_like_a_credential(local_store):
    """Mutation QA (R06): in a list of named items, the item's name is what says a credential
    (a volume ``api-token`` from a ConfigMap named after the token): a changed value under it
    is named by its path alone, as an env variable's is."""
    def with_token(config_map: str) -> Experiment:
        spec = quadratic_experiment(**{"spec.maxTrialCount": 2})
        pod = spec["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]
        pod["volumes"] = [{"name": "api-token", "configMap": {"name": config_map}}]
        return load_experiment(spec)

    message = _refusal_between(local_store, with_token("tok-1111"), with_token("tok-2222"))
    assert "trialSpec.spec.template.spec.volumes[api-token].configMap.name changed" in message, message
    assert "tok-" not in message


def test_a_kfp_local_experiment_stored_with_its_pythons_path_resumes_with_the_same_yaml(local_store, caplog):
    """Upgrade QA: kfp.local 2.17 put its Python's path for ``python3`` in every step input, so a
    kfp-local run before e3949fe stored the trial command as ``/work/main/.venv/bin/python ...``
    (kubeflow/pipelines#14459), and the same YAML was refused as another spec.trialTemplate; a
    completed Never experiment was even refused for it where it should only be reported. Such a
    word is the spec's ``python3``: the run goes on, and the record takes the YAML's words in one
    revision, with one log note."""
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 2}))
    records = ExperimentRecords(local_store, experiment.name)
    run_inline(local_store, experiment, LocalLauncher())
    _as_an_older_kfp_tune_wrote_it(local_store, records, "/work/main/.venv/bin/python")
    with caplog.at_level("INFO", logger="kfp_tune.steps.prepare"):
        head = steps.init_experiment(records, experiment)
    assert head["spec"] == experiment.to_dict() and head["revision"] == 1
    noted = [record for record in caplog.records if "as kfp.local 2.17 rewrote python3" in record.getMessage()]
    assert [record.levelname for record in noted] == ["WARNING"]  # a user sees it: a change made on purpose reads the same
    assert "its stored spec has '/work/main/.venv/bin/python' for 'python3'" in noted[0].getMessage()
    assert run_inline(local_store, experiment, LocalLauncher()).reason == "ExperimentMaxTrialsReached"  # only reported
    assert read_experiment_record(records)["revision"] == 1
    _as_an_older_kfp_tune_wrote_it(local_store, records, "/usr/local/bin/python3.11")
    with pytest.raises(ExperimentConflict, match=r"completed and its spec changed: its spec.resumePolicy is Never"):
        steps.init_experiment(records, load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 3})))

    running = load_experiment(quadratic_experiment(**{"metadata.name": "klint", "spec.maxTrialCount": 4}))
    running_records = ExperimentRecords(local_store, "klint")
    steps.init_experiment(running_records, running)
    _as_an_older_kfp_tune_wrote_it(local_store, running_records, "/opt/venv/bin/python3")
    assert run_inline(local_store, running, LocalLauncher()).reason == "ExperimentMaxTrialsReached"
    assert len(load_state(running_records).trials) == 4
    # only what kfp.local replaced: every "python3" (never "python") by one interpreter in a bin folder, the rest as it was
    in_sh = quadratic_experiment(**{"metadata.name": "klsh", "spec.maxTrialCount": 4})
    in_sh["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["command"][0] = "cd /w/python3 && python3 x.py"
    sh_records = ExperimentRecords(local_store, "klsh")
    steps.init_experiment(sh_records, load_experiment(in_sh))
    _as_an_older_kfp_tune_wrote_it(local_store, sh_records, "cd /w//opt/venv/bin/python3 && /opt/venv/bin/python3 x.py")
    assert steps.init_experiment(sh_records, load_experiment(in_sh))["spec"] == load_experiment(in_sh).to_dict()
    for stored, given in (("/opt/venv/bin/python3", "/usr/bin/python3"), ("/opt/venv/bin/ruby", "python3"), ("python3", "/opt/venv/bin/python3"),
                          ("/opt/venv/bin/python", "python"), ("/opt/venv/python3", "python3"),
                          ("cd /x/python && /opt/conda/bin/python ../trial.py", "cd python && python3 ../trial.py"),
                          ("cd /w/python3 && /opt/venv/bin/python3 x.py", "cd /w/python3 && python3 x.py"),
                          ("/opt/a/bin/python x.py && /opt/b/bin/python y.py", "python3 x.py && python3 y.py")):
        _as_an_older_kfp_tune_wrote_it(local_store, running_records, stored)
        other = quadratic_experiment(**{"metadata.name": "klint", "spec.maxTrialCount": 4})
        other["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["command"][0] = given
        with pytest.raises(ExperimentConflict, match=r"already exists with another spec.trialTemplate \(trialSpec.spec.template.spec.containers\[main\].command\[0\]"):
            steps.init_experiment(running_records, load_experiment(other))


def test_two_interpreters_in_two_fields_are_not_kfp_locals_rewrite(local_store):
    """Mutation QA (I01): kfp.local 2.17 put one Python's path for every ``python3``; a stored
    command with ``/opt/a/bin/python3`` and an arg with ``/opt/b/bin/python3`` (two fields) were
    two interpreters chosen on purpose, not its rewrite: the same YAML is refused as another
    trial template, as two paths in one string are."""
    given = quadratic_experiment(**{"metadata.name": "klint", "spec.maxTrialCount": 4})
    container = given["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["args"] = [*container["args"], "--then=python3"]
    records = ExperimentRecords(local_store, "klint")
    steps.init_experiment(records, load_experiment(given))
    _as_an_older_kfp_tune_wrote_it(local_store, records)
    record = json.loads(local_store.get(records.experiment_key()))
    stored = record["spec"]["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    stored["command"][0], stored["args"][-1] = "/opt/a/bin/python3", "--then=/opt/b/bin/python3"
    local_store.put(records.experiment_key(), json.dumps(record).encode())
    with pytest.raises(ExperimentConflict, match=r"already exists with another spec.trialTemplate \(\S+\.args\[2\] changed; \S+\.command\[0\] changed\)"):
        steps.init_experiment(records, load_experiment(given))
    stored["args"][-1] = "--then=/opt/a/bin/python3"  # one interpreter in both: kfp.local's rewrite, undone
    local_store.put(records.experiment_key(), json.dumps(record).encode())
    assert steps.init_experiment(records, load_experiment(given))["spec"] == load_experiment(given).to_dict()


def test_a_completed_experiment_under_never_stays_completed(local_store):
    """resumePolicy Never (Katib's default): a larger maxTrialCount is refused with what to do
    instead, nothing stored changes, and the unchanged spec only reports the experiment."""
    experiment, records = _records(local_store)
    run_inline(local_store, experiment, LocalLauncher())
    before = {key: local_store.get(key) for key in local_store.list(records.root + "/")}
    bigger = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 8}))
    with pytest.raises(ExperimentConflict, match=r"resumePolicy is Never.*start a new experiment.*LongRunning"):
        steps.init_experiment(records, bigger)
    assert {key: local_store.get(key) for key in local_store.list(records.root + "/")} == before
    decision = run_inline(local_store, experiment, LocalLauncher())
    assert decision.reason == "ExperimentMaxTrialsReached" and len(load_state(records).trials) == 6


def test_an_experiment_that_reached_its_goal_is_not_restarted_even_long_running(local_store):
    goal = {"spec.resumePolicy": "LongRunning", "spec.objective.goal": 1e9}  # every trial meets it: ends after the first
    experiment = load_experiment(quadratic_experiment(**goal))
    records = ExperimentRecords(local_store, experiment.name)
    assert run_inline(local_store, experiment, LocalLauncher()).reason == "ExperimentGoalReached"
    with pytest.raises(ExperimentConflict, match="completed as Succeeded \\(ExperimentGoalReached\\)"):
        steps.init_experiment(records, load_experiment(quadratic_experiment(**{**goal, "spec.maxTrialCount": 20})))


def test_rendered_manifest(local_store):
    experiment, records = _records(local_store)
    name = steps.suggest(records, "r0", 1, experiment)[0]
    trial = load_state(records).trial(name)
    manifest = render_trial(experiment, trial, namespace="team-a")
    assert manifest["metadata"]["name"] == name and manifest["metadata"]["namespace"] == "team-a"
    assert manifest["metadata"]["labels"]["kfp-tune.kubeflow.org/experiment"] == "quad"
    args = manifest["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args == [f"x={trial.assignment['x']}", f"y={trial.assignment['y']}"]


def test_runnable_problems_name_what_is_missing(monkeypatch):
    monkeypatch.delitem(registry._FACTORIES, "sobol")  # an algorithm this build lacks
    lacking = load_experiment(quadratic_experiment(**{"spec.algorithm": {"algorithmName": "sobol"}}))
    problems = steps.runnable_problems(lacking)
    assert [p.path for p in problems] == ["spec.algorithm.algorithmName"]
    assert "does not implement yet" in problems[0].message
    assert steps.runnable_problems(load_experiment(quadratic_experiment())) == []


def test_early_stopping_with_the_none_collector_names_the_collectors_it_works_with():
    """Early stopping reads a running trial's metrics through any collector but None; the refusal
    names the collector given and the ones that work (it once said 'the StdOut collector', while
    File, TensorFlowEvent, PrometheusMetric, Custom and Push work too). None itself is an invalid
    kind to validation, as Katib since v0.18 has it: runnable_problems is asked of it unvalidated."""
    doc = quadratic_experiment(**{"spec.earlyStopping": {"algorithmName": "medianstop"}, "spec.metricsCollectorSpec": {"collector": {"kind": "None"}}})
    with pytest.raises(SpecError, match=r"before v0\.18 for Push"):
        load_experiment(doc)
    problems = {p.path: p.message for p in steps.runnable_problems(parse_experiment(doc))}
    assert "which the None collector does not collect" in problems["spec.earlyStopping"]
    assert problems["spec.earlyStopping"].endswith("expected one of Custom, File, PrometheusMetric, Push, StdOut, TensorFlowEvent")
    # None itself: Katib's name before v0.18 for Push, said so with what to use
    assert "None is Katib's name before v0.18 for Push" in problems["spec.metricsCollectorSpec.collector.kind"]
    assert "kfp_tune.report_metrics" in problems["spec.metricsCollectorSpec.collector.kind"]
    file_doc = quadratic_experiment(**{"spec.earlyStopping": {"algorithmName": "medianstop"}, "spec.metricsCollectorSpec": {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/tmp/m.txt", "kind": "File"}}}})
    assert "spec.earlyStopping" not in {p.path for p in steps.runnable_problems(load_experiment(file_doc))}


def test_the_exit_handler_says_when_a_step_ended_the_run_early(local_store):
    """A run whose exit handler finds it still holding its claim did not reach its last
    checkpoint (which releases it): a step failed or was killed. Its status says so, not that
    its rounds were used up; a run that did reach it keeps ExperimentRunRoundsUsedUp, and so does
    a pipeline whose exit handler is where its claim ends (component trials)."""
    from kfp_tune.core import claims
    from kfp_tune.core.decision import ROUNDS_USED_UP, RUN_STEP_FAILED
    from kfp_tune.core.vocabulary import RecordKind

    experiment, records = _records(local_store, **{"spec.maxTrialCount": 4})
    reasons = {}
    for run, ends_at_checkpoint, releases_claim in (("cut", False, False), ("whole", True, False), ("components", False, True)):
        steps.suggest(records, f"{run}-r0", 1, experiment, run_id=run, n=0)
        if ends_at_checkpoint:
            steps.decide_stop(records, f"{run}-r0", 0, run_id=run)
        decision = steps.close_run(records, run, releases_claim=releases_claim)
        status = records.read(records.status_key(), RecordKind.EXPERIMENT_STATUS)
        assert status["status"]["reason"] == decision.reason and decision.phase == "Running"
        current = claims.latest_claim(records)
        assert current is not None and current.run == run and current.ended, "the claim is given back however the run ended"
        reasons[run] = (decision.reason, status["status"]["message"])
    assert reasons["cut"][0] == RUN_STEP_FAILED and "a step of this run ended before the run finished" in reasons["cut"][1].lower()
    assert reasons["whole"][0] == ROUNDS_USED_UP and reasons["components"][0] == ROUNDS_USED_UP


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (StoreError("the store went away", transient=True), ("Killed", "TrialStale", True)),
        (RuntimeError("a defect in a launcher"), ("Failed", "LaunchError", False)),
    ],
)
def test_a_trial_whose_run_stopped_on_a_store_error_is_given_back_not_failed(local_store, error, expected):
    """The run's store failing under a running trial is not the trial's failure: its budget is
    given back (the next suggestion takes its place); any other error fails it."""
    from kfp_tune.core.records import TrialStarted, utc_now
    from kfp_tune.core.state import ExperimentView
    from kfp_tune.steps.decide_stop import fail_trial

    experiment, records = _records(local_store)
    name = steps.suggest(records, "r0", 1, experiment)[0]
    view = ExperimentView(records)
    view.record_trial(name, TrialStarted(trial=name, time=utc_now(), at=0.0, run="run-a", attempt="a", owner="host/1"))
    fail_trial(view, name, error)
    trial = load_state(records).trial(name)
    assert (trial.status, trial.result.reason, trial.given_back) == expected
    assert str(error) in trial.result.message
