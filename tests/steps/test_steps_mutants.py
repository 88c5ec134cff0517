"""The steps' behaviours a mutation pass found no test noticing: each test here failed on a mutant
of src/kfp_tune/steps/ that the rest of the suite let through."""

from __future__ import annotations

import json
import shlex

import pytest

from conftest import quadratic_experiment
from kfp_tune import Client, steps
from kfp_tune.algorithms.base import Problem
from kfp_tune.core import claims
from kfp_tune.core.errors import ExperimentBusy, ExperimentConflict, InputError, SpecError, TrialNotCreated
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialHandedOver, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.space import Parameter, SearchSpace
from kfp_tune.core.state import TRIAL_NOT_CREATED, load_state
from kfp_tune.core.vocabulary import ExperimentPhase, LaunchPhase, ObjectiveType, RecordKind, TrialStatus
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher
from kfp_tune.steps.best_result import best_result
from kfp_tune.steps.designer import AlgorithmError, check_suggestions
from kfp_tune.steps.entrypoints import best_trial_step, decide_stop_step, launch_trial_step, suggest_step
from kfp_tune.steps.trial_artifacts import keep_model, model_files


def _records(store, **overrides):
    experiment = load_experiment(quadratic_experiment(**overrides))
    return experiment, ExperimentRecords(store, experiment.name)


class CannotCreate(Launcher):
    """A launcher whose API server refuses every trial (a permission to fix, not the trial's fault)."""

    def run(self, trial: TrialRun) -> LaunchOutcome:
        raise TrialNotCreated(f"jobs.batch is forbidden: cannot create {trial.trial}")


def test_a_trial_the_launcher_could_not_create_is_given_back_at_once(local_store):
    """launch-trial: TrialNotCreated stops the run, and the trial is recorded Killed with reason
    TrialNotCreated, its budget given back, before the error leaves the step."""
    experiment, records = _records(local_store)
    [name] = steps.suggest(records, "r0", 1, experiment, n=1)
    with pytest.raises(TrialNotCreated, match=r"jobs\.batch is forbidden"):
        steps.launch_trial(records, CannotCreate(), name)
    state = load_state(records)
    trial = state.trial(name)
    assert trial.result is not None and trial.ended is not None
    assert (trial.result.status, trial.result.reason) == (TrialStatus.KILLED, TRIAL_NOT_CREATED)
    assert trial.result.message.startswith("not created: jobs.batch is forbidden")
    assert trial.given_back and state.budget_used == 0


def test_the_next_run_adopts_the_unfinished_trials_of_a_dead_run_and_no_finished_one(local_store):
    """Run 1 suggests two trials, finishes one and dies; run 2's first round holds the other
    (first, before its new trials) and never the finished one."""
    experiment, records = _records(local_store)
    finished, orphan = steps.suggest(records, "run-1-r0", 3, experiment, run_id="run-1")
    steps.launch_trial(records, LocalLauncher(), finished, run_id="run-1")
    assert steps.collect_metrics(records, finished, run_id="run-1").status == TrialStatus.SUCCEEDED
    second = steps.suggest(records, "run-2-r0", 3, experiment, run_id="run-2", take_over=True)
    assert second[0] == orphan and finished not in second
    assert len(second) == 2  # the orphan and one new trial: the round's two, as run 1's had


def test_a_check_before_a_run_is_refused_while_another_run_drives_the_experiment(local_store):
    """prepare() without a run (``kfp-tune run``'s and ``tune()``'s pre-flight) refuses an
    experiment a live run has claimed, unless told to take it over."""
    experiment, records = _records(local_store)
    steps.prepare(records, experiment, "run-1")
    with pytest.raises(ExperimentBusy, match="run-1"):
        steps.prepare(records, experiment)
    assert steps.prepare(records, experiment, take_over=True)["name"] == "quad"


def test_a_completed_experiment_under_from_volume_restarts_with_a_larger_budget(local_store):
    """Katib restarts a completed experiment that reached maxTrialCount under resumePolicy
    LongRunning or FromVolume (status_util.go, IsCompletedExperimentRestartable); kfp-tune keeps
    every experiment's state in the store, so FromVolume resumes as LongRunning does."""
    from_volume = {"spec.resumePolicy": "FromVolume", "spec.maxTrialCount": 2}
    experiment, records = _records(local_store, **from_volume)
    assert run_inline(local_store, experiment, LocalLauncher()).reason == "ExperimentMaxTrialsReached"
    bigger = load_experiment(quadratic_experiment(**{**from_volume, "spec.maxTrialCount": 4}))
    assert run_inline(local_store, bigger, LocalLauncher()).reason == "ExperimentMaxTrialsReached"
    assert len(load_state(records).trials) == 4


def test_a_restart_whose_max_trial_count_equals_the_trials_gets_the_restart_message(local_store):
    """Katib: a restart's maxTrialCount "must be greater than status.trials count"; one equal
    to it is refused with the restart's own message, naming the policy."""
    long_running = {"spec.resumePolicy": "LongRunning", "spec.maxTrialCount": 2, "spec.parallelTrialCount": 2}
    experiment, records = _records(local_store, **long_running)
    run_inline(local_store, experiment, LocalLauncher())
    same_budget = load_experiment(quadratic_experiment(**{**long_running, "spec.parallelTrialCount": 1}))
    with pytest.raises(ExperimentConflict) as refused:
        steps.init_experiment(records, same_budget)
    assert str(refused.value) == (
        "spec.maxTrialCount: experiment 'quad' is completed with 2 trials; to restart it (resumePolicy LongRunning), "
        "expected a maxTrialCount greater than 2, got 2"
    )


def test_the_best_trial_steps_metadata_has_exactly_its_keys_and_the_kept_model(local_store, tmp_path):
    """What the best model artifact carries (the KFP UI shows it): every key, named as
    documented, and the model files keep_model stored for the best trial."""
    experiment, records = _records(local_store, **{"spec.maxTrialCount": 2})
    run_inline(local_store, experiment, LocalLauncher())
    best = best_result(records).trial
    model = tmp_path / "model"
    (model / "sub").mkdir(parents=True)
    (model / "weights.bin").write_bytes(b"\x00\x01")
    (model / "sub" / "config.json").write_text("{}")
    assert keep_model(records, best, model) == ["sub/config.json", "weights.bin"]
    assert model_files(records, best) == ["sub/config.json", "weights.bin"]
    _, objective, trial, metadata = best_trial_step(local_store.uri, "quad", "run-1", str(tmp_path / "out"))
    assert trial == best and metadata["objective"] == objective
    assert set(metadata) == {
        "experiment", "trial", "parameters", "objective_metric", "objective", "objective_type", "metrics", "observation",
        "inputs", "goal_reached", "experiment_phase", "experiment_reason", "trials", "model_files",
    }
    assert metadata["objective_metric"] == "loss" and metadata["model_files"] == ["sub/config.json", "weights.bin"]


def test_the_exit_handler_writes_the_trial_table_when_only_it_is_asked_for(local_store, tmp_path):
    experiment, _ = _records(local_store, **{"spec.maxTrialCount": 2})
    run_inline(local_store, experiment, LocalLauncher())
    table = tmp_path / "table.md"
    assert decide_stop_step(local_store.uri, "quad", "run-1", 0, 1, markdown_path=str(table), final=True) is False
    assert "quad-" in table.read_text(encoding="utf-8")  # a row per trial, by its name


def test_closing_a_run_says_whether_the_experiment_was_never_made_or_cannot_be_read(local_store):
    """The exit handler of a run that ended before the experiment was created says so
    (Created, ExperimentNotCreated); one whose experiment record is damaged says it is unreadable."""
    records = ExperimentRecords(local_store, "quad")
    never_made = steps.close_run(records, "run-1")
    assert (never_made.phase, never_made.reason) == (ExperimentPhase.CREATED, "ExperimentNotCreated")
    local_store.put(records.experiment_key(), b"{not json")
    damaged = steps.close_run(records, "run-1")
    assert (damaged.phase, damaged.reason) == (ExperimentPhase.RUNNING, "ExperimentUnreadable")


def test_a_file_collector_trial_gets_no_hint_from_its_stdout(local_store):
    """The close-name hint ("is spec.objective.objectiveMetricName misspelt?") reads the StdOut
    collector's output; a File collector trial's stdout is not what the collector read, so a
    Loss=0.3 it printed there is no hint."""
    script = "print('Loss=0.3')"
    experiment, records = _records(local_store, **{
        "spec.objective.additionalMetricNames": [],
        "spec.metricsCollectorSpec": {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/var/log/katib/metrics.log", "kind": "File"}}},
        "spec.trialTemplate.trialSpec.spec.template.spec.containers.0.command": ["python3", "-c", shlex.quote(script)],
    })
    name = steps.suggest(records, "r0", 1, experiment)[0]
    steps.launch_trial(records, LocalLauncher(), name)
    assert "Loss=0.3" in (records.read_text(records.log_key(name, "main")) or "")
    result = steps.collect_metrics(records, name)
    assert result.status == TrialStatus.METRICS_UNAVAILABLE
    assert result.message.startswith(
        "the trial did not report the objective metric 'loss': the File collector found no file at /var/log/katib/metrics.log, "
        "the trial's metrics path: a local run gives each trial its own folder at /var/log/katib only where"
    )
    assert "misspelt" not in result.message and "Loss" not in result.message


def test_a_plugin_suggesting_keys_of_mixed_types_is_told_which_is_unknown():
    """An algorithm plug-in's point with an int key beside an unknown str one: an AlgorithmError
    naming the first unknown key (by its text), not a TypeError from comparing them."""
    problem = Problem(space=SearchSpace((Parameter("x", "double", 0.0, 1.0),)), objective_type=ObjectiveType.MINIMIZE, objective_metric="loss")
    with pytest.raises(AlgorithmError, match=r"^algorithm 'mine' suggested an infeasible point .*: 7 is not a parameter of the search space \(x\)$"):
        check_suggestions(problem, [{"x": 0.5, "z": 1, 7: 1}], False, 1, set(), who="algorithm 'mine'")


def test_an_experiment_whose_template_config_map_was_not_read_is_refused_and_nothing_stored(local_store):
    """prepare() is the net under every entry point that reads trialTemplate.configMap: an
    experiment that still names its ConfigMap (no template to run) is refused at that field."""
    doc = quadratic_experiment()
    template = doc["spec"]["trialTemplate"]
    template.pop("trialSpec")
    template["configMap"] = {"configMapName": "templates", "configMapNamespace": "team-a", "templatePath": "quad.yaml"}
    template["successCondition"] = 'status.conditions.#(type=="Complete")#|#(status=="True")#'  # a ConfigMap template states them
    template["failureCondition"] = 'status.conditions.#(type=="Failed")#|#(status=="True")#'
    experiment = load_experiment(doc)
    with pytest.raises(SpecError, match=r"spec\.trialTemplate\.configMap: the trial template ConfigMap has not been read"):
        steps.prepare(ExperimentRecords(local_store, experiment.name), experiment, "run-1")
    assert local_store.list("") == []


def test_an_outcome_left_by_a_deleted_experiment_of_the_same_name_is_not_the_new_one_s(local_store):
    """An outcome record of another uid under the outcome's key (an experiment of this name
    deleted in part) is not taken as this experiment's: it ends as its own trials say."""
    experiment, records = _records(local_store, **{"spec.maxTrialCount": 2})
    left = {"uid": "uid-of-the-deleted-one", "phase": "Failed", "reason": "ExperimentMaxFailedTrialsReached", "message": "the old one failed", "time": "2020-01-01T00:00:00Z"}
    records.write_once(records.outcome_key(2), RecordKind.OUTCOME, left)
    decision = run_inline(local_store, experiment, LocalLauncher())
    assert (decision.phase, decision.reason) == (ExperimentPhase.SUCCEEDED, "ExperimentMaxTrialsReached")
    assert Client(local_store.uri).get_experiment("quad").status.conditions[-1].reason == "ExperimentMaxTrialsReached"


def test_a_given_back_trial_has_a_completion_time(local_store):
    """A trial given back (here: the launcher could not create it) is final, with Katib's
    completionTime: when it was given back."""
    experiment, records = _records(local_store)
    [name] = steps.suggest(records, "r0", 1, experiment, n=1)
    with pytest.raises(TrialNotCreated):
        steps.launch_trial(records, CannotCreate(), name)
    status = Client(local_store.uri).get_trial(name).status
    assert status.completion_time is not None and status.completion_time >= load_state(records).trial(name).created


class HandsOverThenFinishes(Launcher):
    """Hands its trial over at once (a checkpoint while it runs, as the Kubernetes launcher
    does); re-attached, it finds the trial succeeded."""

    hands_over = True

    def run(self, trial: TrialRun) -> LaunchOutcome:
        raise TrialHandedOver(trial.trial)

    def reattach(self, trial: TrialRun) -> LaunchOutcome | None:
        return LaunchOutcome(LaunchPhase.SUCCEEDED, exit_code=0, logs={"main": "loss=0.5\n"})


def test_a_trial_handed_over_is_marked_so_and_the_next_attempt_re_attaches_at_once(local_store):
    """launch-trial whose launcher hands the trial over writes the trial's handedOver beat: the
    next attempt re-attaches now instead of waiting out this live process's beats (the TTL)."""
    experiment, records = _records(local_store)
    steps.prepare(records, experiment, "run-1")
    [name] = steps.suggest(records, "run-1-r0", 1, experiment, run_id="run-1", n=1)
    assert steps.launch_trial(records, HandsOverThenFinishes(), name, run_id="run-1") is None
    beat = records.read(records.heartbeat_key(name), RecordKind.TRIAL_HEARTBEAT)
    assert beat is not None and beat.get("handedOver") is True
    trial = load_state(records).trial(name)
    assert trial.started is not None and trial.ended is None
    assert claims.attempt_follows(records, name, trial.started) is False
    assert steps.launch_trial(records, HandsOverThenFinishes(), name, run_id="run-1") == LaunchPhase.SUCCEEDED


def test_the_launch_trial_step_starts_its_trial_for_its_run_and_is_refused_under_another_s_claim(local_store):
    """launch-trial-step passes its run on: the started record names the run, and a step of a
    run that does not hold the experiment's claim starts nothing."""
    local = json.dumps({"kind": "local"})
    experiment, records = _records(local_store, **{"spec.maxTrialCount": 4})
    first, second = steps.suggest(records, "run-1-r0", 1, experiment, run_id="run-1", n=2)
    with pytest.raises(ExperimentBusy, match="run-1"):
        launch_trial_step(local_store.uri, "quad", second, local, "run-2")
    assert load_state(records).trial(second).started is None
    assert launch_trial_step(local_store.uri, "quad", first, local, "run-1") == "Succeeded"
    started = load_state(records).trial(first).started
    assert started is not None and started.run == "run-1"


@pytest.mark.parametrize("spec", ["[1]", '"quad"', "3"])
def test_an_experiment_spec_that_is_not_a_json_object_is_refused_naming_the_input(local_store, spec):
    with pytest.raises(InputError, match=r"^experiment_spec: expected the experiment as JSON \(json\.dumps of the Katib Experiment\): a JSON object, got"):
        suggest_step(local_store.uri, "quad", "run-1", 0, 1, experiment_spec=spec)
    assert local_store.list("") == []


@pytest.mark.parametrize("debug", [True, False])
def test_a_step_logs_kfp_tune_s_debug_lines_only_when_the_run_asks_for_them(monkeypatch, debug):
    """``kfp-tune -vv run --engine kfp-local`` sets KFP_TUNE_DEBUG for its steps: each step then
    logs kfp-tune's own debug lines (no other library's); without it, from INFO up."""
    import logging

    from kfp_tune.core.vocabulary import DEBUG_VARIABLE

    ours, before = logging.getLogger("kfp_tune"), logging.getLogger("kfp_tune").level
    if debug:
        monkeypatch.setenv(DEBUG_VARIABLE, "1")
    else:
        monkeypatch.delenv(DEBUG_VARIABLE, raising=False)
    try:
        ours.setLevel(logging.NOTSET)
        with pytest.raises(InputError, match=r"^store_uri: required"):  # the step's logging is set up before its inputs are read
            suggest_step("", "quad", "run-1", 0, 1)
        assert ours.level == (logging.DEBUG if debug else logging.NOTSET)
        assert logging.getLogger("kfp_tune.steps.slots").isEnabledFor(logging.DEBUG) or not debug
        assert logging.getLogger("matplotlib").level == logging.NOTSET
    finally:
        ours.setLevel(before)
