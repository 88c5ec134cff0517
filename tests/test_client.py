"""kfp_tune.Client and kfp_tune.KatibClient: what comes after a run starts, read from the store
that real runs (``kfp-tune run --engine inline`` and ``tune()``) wrote, on a local folder and on
a real S3 server; a running trial's log from a pod of the in-memory Kubernetes API server."""

from __future__ import annotations

import contextlib
import datetime
import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment, tune_interrupted_after_prepare
from kfp_tune import Client, KatibClient, search, tune
from kfp_tune.cli import main
from kfp_tune.client import ExperimentFailedError, KatibObject, NoLogYet, TrialNotFound
from kfp_tune.core.errors import ExperimentBusy, ExperimentConflict, ExperimentNotFound, ExperimentPartlyDeleted, InputError, SpecError, StoreError
from kfp_tune.core.records import ExperimentRecords, TrialStarted, utc_now
from kfp_tune.core.state import ExperimentView
from kfp_tune.stores import LocalStore, open_store

EARLY_WARNING = r"no '(loss|accuracy)' \(objective_metric_name is"
"""tune()'s warning at the first trial that gives no objective (e3e43fe, 1052d01), beside the end's."""

PARAMETERS = {"x": search.discrete([0.5, 0.25, 0.75])}


def _run_yaml(folder: Path, store: Path | str, doc: dict[str, Any], *extra: str) -> None:
    path = folder / f"{doc['metadata']['name']}-{len(list(folder.glob('*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["run", str(path), "--engine", "inline", "--store", str(store), *extra]) == 0


def _loss(assignment: dict[str, str]) -> float:
    """What tests/trials/quadratic.py reports last for these parameters, worked out here."""
    return (float(assignment["x"]) - 0.3) ** 2 + (float(assignment["y"]) - 0.7) ** 2


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding experiment ``quad`` (StdOut, 3 trials, Succeeded; resumePolicy
    LongRunning) run by ``kfp-tune run --engine inline``; tests that change it use a copy."""
    folder = tmp_path_factory.mktemp("finished")
    doc = quadratic_experiment(**{"spec.maxTrialCount": 3, "spec.parallelTrialCount": 1, "spec.resumePolicy": "LongRunning"})
    _run_yaml(folder, folder / "store", doc)
    return folder / "store"


@pytest.fixture
def store(finished: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(finished, tmp_path / "store"))


@contextlib.contextmanager
def blocked_run(store: str, name: str) -> Iterator[threading.Event]:
    """A tune() run of ``name`` in a thread, held inside its first trial until the event is set
    (the event is set, and the run joined, on the way out)."""
    release, started = threading.Event(), threading.Event()

    def objective(params: dict[str, Any]) -> float:
        started.set()
        assert release.wait(120), "the test never released the trial"
        return float(params["x"])

    thread = threading.Thread(target=lambda: tune(objective, PARAMETERS, objective_metric_name="loss", algorithm="grid", max_trial_count=3, store=store, name=name))
    thread.start()
    try:
        assert started.wait(120), "the run's first trial never started"
        yield release
    finally:
        release.set()
        thread.join(120)
    assert not thread.is_alive()


# --- objects ----------------------------------------------------------------------------------


def test_katib_objects_read_as_dicts_and_as_katib_models():
    obj = KatibObject({"status": {"currentOptimalTrial": {"bestTrialName": "t1", "parameterAssignments": [{"name": "x", "value": "1"}]}}})
    optimal = obj.status.current_optimal_trial
    assert optimal.best_trial_name == "t1" and optimal["bestTrialName"] == "t1"
    assert optimal.parameter_assignments[0].value == "1"
    assert obj.status.completion_time is None  # not set, as Katib's models read it
    with pytest.raises(AttributeError):
        obj._private  # noqa: B018
    plain = obj.to_dict()
    assert type(plain) is dict and type(plain["status"]["currentOptimalTrial"]["parameterAssignments"][0]) is dict
    assert yaml.safe_load(yaml.safe_dump(plain)) == obj and json.loads(json.dumps(obj)) == obj


# --- experiments ------------------------------------------------------------------------------


def test_get_experiment_is_katibs_object_with_the_status_kfp_tune_status_prints(finished, capsys):
    experiment = Client(str(finished)).get_experiment("quad")
    assert (experiment.api_version, experiment.kind, experiment.metadata.name) == ("kubeflow.org/v1beta1", "Experiment", "quad")
    assert experiment.metadata.uid and experiment.metadata.creation_timestamp.endswith("Z")
    assert (experiment.spec.max_trial_count, experiment.spec.resume_policy) == (3, "LongRunning")
    assert main(["status", "quad", "--store", str(finished), "--json"]) == 0
    assert experiment.status == json.loads(capsys.readouterr().out)
    assert experiment.status.trials_succeeded == 3 and len(experiment.status.succeeded_trial_list) == 3
    conditions = Client(str(finished)).get_experiment_conditions("quad")
    assert [(c.type, c.status) for c in conditions] == [("Created", "True"), ("Running", "False"), ("Succeeded", "True")]
    assert conditions[-1].reason == "ExperimentMaxTrialsReached"


def test_an_experiment_not_in_the_store_or_a_bad_name_is_refused_clearly(finished):
    client = Client(str(finished))
    with pytest.raises(ExperimentNotFound, match="no experiment 'nope' in file://"):
        client.get_experiment("nope")
    with pytest.raises(InputError, match="experiment name: expected lower case letters"):
        client.get_experiment("../quad")


def test_a_store_that_is_no_store_is_refused_when_the_client_is_made(tmp_path):
    # Client(5) was accepted, and the first read failed with "AttributeError: 'int' object has no attribute 'list'"
    for given in (5, b"/tmp/store", object()):
        with pytest.raises(TypeError, match=r"^Client: store must be a URI, a folder, a Store object \(kfp_tune.core.interfaces.Store\) or None, got "):
            Client(given)
    assert Client(LocalStore(tmp_path)).store.uri == LocalStore(tmp_path).uri  # a Store object is taken as it is


def test_a_client_reprs_as_the_store_it_reads(tmp_path):
    assert repr(Client(str(tmp_path))) == f"kfp_tune.Client({LocalStore(tmp_path).uri!r})"


def test_an_experiment_name_that_is_not_a_str_is_refused_naming_it_in_every_trial_lookup(finished):
    # (['quad'], trial) failed with "unhashable type: 'list'"
    client = Client(str(finished))
    trial = client.list_trials("quad")[0].metadata.name
    for lookup in (client.get_trial, client.get_trial_metrics, client.get_trial_logs):
        with pytest.raises(TypeError, match=r"^experiment name must be a string, got \['quad'\]$"):
            lookup((["quad"], trial))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^experiment name must be a string, got \['quad'\]$"):
        client.list_trials(["quad"])  # type: ignore[arg-type]


def test_get_optimal_hyperparameters_is_the_trial_with_the_least_loss_in_katibs_shape(finished):
    client = Client(str(finished))
    trials = client.list_trials("quad")
    assert len(trials) == 3
    losses = {t.metadata.name: _loss({a.name: a.value for a in t.spec.parameter_assignments}) for t in trials}
    best = min(losses, key=losses.__getitem__)
    optimal = client.get_optimal_hyperparameters("quad")
    assert optimal is not None and set(optimal) == {"bestTrialName", "parameterAssignments", "observation"}
    assert optimal.best_trial_name == best
    (row,) = [t for t in trials if t.metadata.name == best]
    assert optimal.parameter_assignments == row.spec.parameter_assignments
    metrics = {m.name: m for m in optimal.observation.metrics}
    assert set(metrics) == {"loss", "accuracy"}
    assert float(metrics["loss"].min) == pytest.approx(losses[best], abs=1e-6) and float(metrics["loss"].max) == pytest.approx(losses[best] + 0.2, abs=1e-6)


def test_no_optimal_trial_while_no_trial_reported_the_objective(tmp_path):
    with pytest.warns(UserWarning, match="none of the 1 trials succeeded"), pytest.warns(UserWarning, match=EARLY_WARNING):
        result = tune(lambda p: {"other": 1.0}, PARAMETERS, objective_metric_name="loss", algorithm="grid", max_trial_count=1, store=str(tmp_path), name="nothing")
    assert [t.status for t in result.trials] == ["MetricsUnavailable"]
    assert Client(str(tmp_path)).get_optimal_hyperparameters("nothing") is None
    # plain strs, as Katib's SDK gives them: the last printed as <ExperimentPhase.SUCCEEDED: 'Succeeded'>
    assert [repr(c.type) for c in Client(str(tmp_path)).get_experiment_conditions("nothing")] == ["'Created'", "'Running'", "'Succeeded'"]


def test_a_trial_observation_has_katibs_entry_for_every_metric_unavailable_where_none_was_reported(tmp_path):
    """Katib's getMetrics (trial_controller_util.go) starts every metric it collects (the
    objective's and the additional ones) at min, max and latest "unavailable": a MetricsUnavailable
    trial's observation holds those entries (it was empty), and a Succeeded trial's one for an
    additional metric it never reported."""
    unavailable = {"min": "unavailable", "max": "unavailable", "latest": "unavailable"}
    with pytest.warns(UserWarning, match="none of the 1 trials succeeded"), pytest.warns(UserWarning, match=EARLY_WARNING):
        tune(lambda p: {"other": 1.0}, PARAMETERS, objective_metric_name="loss", additional_metric_names=["acc"], algorithm="grid",
             max_trial_count=1, store=str(tmp_path), name="nothing")
    [trial] = Client(str(tmp_path)).list_trials("nothing")
    assert trial.status.conditions[-1].type == "MetricsUnavailable"
    assert sorted(trial.status.observation.metrics, key=lambda m: m["name"]) == [{"name": "acc", **unavailable}, {"name": "loss", **unavailable}]
    tune(lambda p: {"loss": 0.5}, PARAMETERS, objective_metric_name="loss", additional_metric_names=["acc"], algorithm="grid",
         max_trial_count=1, store=str(tmp_path), name="some")
    [trial] = Client(str(tmp_path)).list_trials("some")
    assert sorted(trial.status.observation.metrics, key=lambda m: m["name"]) == [
        {"name": "acc", **unavailable}, {"name": "loss", "min": "0.5", "max": "0.5", "latest": "0.5"}]


def test_a_metrics_unavailable_trials_other_metrics_are_left_out_as_katibs_collector_leaves_them(tmp_path, local_store):
    """Katib's StdOut, File and TensorFlowEvent collectors, finding no objective, report the
    objective "unavailable" in place of all they read (file-metricscollector's newObservationLog):
    the trial's observation is every metric unavailable and its metrics log that one value. A
    StdOut trial that printed acc=0.7 but no loss kept acc 0.7 here (and `trials` showed it). A
    Push trial's reports stay, the objective's unavailable after them (reportUnavailableMetrics);
    tune()'s in-process function trials report as Push trials do."""
    import kfp_tune
    from conftest import quadratic_experiment
    from kfp_tune import steps
    from kfp_tune.core.interfaces import Launcher, LaunchOutcome
    from kfp_tune.core.loading import load_experiment
    from kfp_tune.core.observation import MetricLog
    from kfp_tune.core.records import ExperimentRecords

    class PrintsAccOnly(Launcher):
        def run(self, trial):
            return LaunchOutcome("Succeeded", logs={"main": "acc=0.7\n"})

    unavailable = {"min": "unavailable", "max": "unavailable", "latest": "unavailable"}
    experiment = load_experiment(quadratic_experiment(**{"spec.objective.additionalMetricNames": ["acc"]}))
    records = ExperimentRecords(local_store, experiment.name)
    name = steps.suggest(records, "r0", 1, experiment)[0]
    steps.launch_trial(records, PrintsAccOnly(), name)
    result = steps.collect_metrics(records, name)
    assert (result.status, result.metrics, result.observation.get("acc")) == ("MetricsUnavailable", {}, None)
    client = Client(local_store)
    [trial] = [t for t in client.list_trials(experiment.name) if t.metadata.name == name]
    assert sorted(trial.status.observation.metrics, key=lambda m: m["name"]) == [{"name": "acc", **unavailable}, {"name": "loss", **unavailable}]
    assert client.get_trial_metrics(name) == [{"name": "loss", "value": "unavailable", "step": None}]
    assert "acc=0.7" in client.get_trial_logs(name)  # the log keeps what it printed

    def pushes_acc(parameters):
        kfp_tune.report_metrics({"acc": 0.25})

    with pytest.warns(UserWarning, match="none of the 1 trials succeeded"), pytest.warns(UserWarning, match=EARLY_WARNING):
        tune(pushes_acc, PARAMETERS, objective_metric_name="loss", additional_metric_names=["acc"], algorithm="grid",
             max_trial_count=1, store=str(tmp_path / "push"), name="push-acc")
    client = Client(str(tmp_path / "push"))
    [trial] = client.list_trials("push-acc")
    assert sorted(trial.status.observation.metrics, key=lambda m: m["name"]) == [
        {"name": "acc", "min": "0.25", "max": "0.25", "latest": "0.25"}, {"name": "loss", **unavailable}]
    assert [(m["name"], m["value"]) for m in client.get_trial_metrics(trial.metadata.name)] == [("acc", 0.25), ("loss", "unavailable")]

    # a function trial's returned or printed metrics are what Katib's StdOut collector reads (on Kubeflow
    # the trial prints what it returns): without the objective, none of them stays; report_metrics' do
    katib = KatibClient(store=str(tmp_path / "function"))
    with pytest.warns(UserWarning, match="none of the 1 trials succeeded"), pytest.warns(UserWarning, match=EARLY_WARNING):
        katib.tune(name="prints-acc", objective=lambda p: print("acc=0.7"), parameters={"x": search.double(0, 1)},
                   objective_metric_name="loss", additional_metric_names=["acc"], max_trial_count=1, parallel_trial_count=1)
    [trial] = katib.list_trials("prints-acc")
    assert {m.name: m.latest for m in trial.status.observation.metrics} == {"acc": "unavailable", "loss": "unavailable"}
    assert [(m.metric.name, m.metric.value) for m in katib.get_trial_metrics(trial.metadata.name)] == [("loss", "unavailable")]
    with pytest.warns(UserWarning, match="none of the 1 trials succeeded"), pytest.warns(UserWarning, match=EARLY_WARNING):
        returned = tune(lambda p: {"acc": 0.7}, PARAMETERS, objective_metric_name="loss", additional_metric_names=["acc"], algorithm="grid",
                        max_trial_count=1, store=str(tmp_path / "function"), name="returns-acc")
    assert (returned.trials[0].status, returned.trials[0].metrics) == ("MetricsUnavailable", {})

    # a Custom collector's reports are what Katib's observation log holds: no "unavailable" is added
    # (Katib's controller adds it for Push alone), and the observation keeps acc (getMetrics)
    class CollectsAccOnly(Launcher):
        def run(self, trial):
            return LaunchOutcome("Succeeded", logs={"main": ""}, pushed=[MetricLog("acc", 0.5, 0)])

    custom = {"collector": {"kind": "Custom", "customCollector": {"name": "c", "image": "me/c", "command": ["true"]}}}
    experiment = load_experiment(quadratic_experiment(**{"metadata.name": "custom", "spec.objective.additionalMetricNames": ["acc"],
                                                         "spec.metricsCollectorSpec": custom}))
    records = ExperimentRecords(local_store, experiment.name)
    name = steps.suggest(records, "r0", 1, experiment)[0]
    steps.launch_trial(records, CollectsAccOnly(), name)
    assert steps.collect_metrics(records, name).status == "MetricsUnavailable"
    client = Client(local_store)
    [trial] = [t for t in client.list_trials("custom") if t.metadata.name == name]
    assert {m["name"]: m["latest"] for m in trial.status.observation.metrics} == {"acc": "0.5", "loss": "unavailable"}
    assert [(m["name"], m["value"]) for m in client.get_trial_metrics(name)] == [("acc", 0.5)]


def test_list_experiments_local_and_s3(tmp_path, s3_env, s3_bucket):
    for uri in (str(tmp_path / "store"), f"s3://{s3_bucket}/tuning"):
        assert Client(uri).list_experiments() == []
        for name in ("exp-2", "exp"):
            tune(lambda p: p["x"], PARAMETERS, objective_metric_name="loss", algorithm="grid", max_trial_count=2, store=uri, name=name)
        client = Client(uri)
        listed = client.list_experiments()
        assert [e.metadata.name for e in listed] == ["exp", "exp-2"]
        assert listed == [client.get_experiment("exp"), client.get_experiment("exp-2")]
        assert [e.status.trials for e in listed] == [2, 2]


def test_a_damaged_experiment_is_left_out_of_the_list_and_named(store, caplog):
    (store / "experiments" / "broken").mkdir()
    (store / "experiments" / "broken" / "experiment.json").write_text("{not json")
    experiments, problems = Client(str(store)).list_experiments_and_problems()
    assert [e.metadata.name for e in experiments] == ["quad"]
    assert list(problems) == ["broken"] and "experiments/broken/experiment.json is damaged: not JSON" in problems["broken"]
    assert [e.metadata.name for e in Client(str(store)).list_experiments()] == ["quad"]
    assert "experiment broken left out" in caplog.text


def test_a_folder_named_as_no_experiment_is_left_out_of_every_listing_local_and_s3(finished, tmp_path, s3_env, s3_bucket, capsys, caplog):
    # a copy made by hand (quad_backup: '_' is in no experiment's name, Katib's rule): listed as
    # one left out, the others still listed, on either kind of store; it broke every listing
    source = LocalStore(finished)
    for uri in (str(tmp_path / "store"), f"s3://{s3_bucket}/tuning"):
        target = open_store(uri)
        for key in source.list("experiments/quad/"):
            target.put(key, source.get(key))
            target.put(key.replace("experiments/quad/", "experiments/quad_backup/"), source.get(key))
        experiments, problems = Client(uri).list_experiments_and_problems()
        assert [e.metadata.name for e in experiments] == ["quad"] and list(problems) == ["quad_backup"]
        assert problems["quad_backup"].startswith("experiments/quad_backup/ holds an experiment record but is not named as an experiment is "
                                                  "(expected lower case letters") and "got 'quad_backup'" in problems["quad_backup"]
        assert problems["quad_backup"].endswith("); no command can name it (status, delete): rename it to an experiment's name, or remove it, yourself")
        assert Client(uri).experiment_names() == ["quad"]
        caplog.clear()
        assert [e.metadata.name for e in KatibClient(store=uri).list_experiments()] == ["quad"]
        assert "experiment quad_backup left out: experiments/quad_backup/ holds" in caplog.text
        assert len(KatibClient(store=uri).list_trials()) == 3
        assert main(["list", "--store", uri, "--json"]) == 0
        out, err = capsys.readouterr()
        assert [row["name"] for row in json.loads(out)] == ["quad"]
        assert "warning: experiment quad_backup cannot be read: experiments/quad_backup/ holds an experiment record" in err


def test_a_damaged_trial_record_is_warned_of_once_however_many_looks_read_it(store, caplog):
    client = Client(str(store))
    trial = client.list_trials("quad")[0].metadata.name
    (store / "experiments" / "quad" / "trials" / trial / "result.json").write_text("{not json")
    client = Client(str(store))
    with caplog.at_level("WARNING", logger="kfp_tune.client"):
        first, second = client.get_experiment("quad"), client.get_experiment("quad")
    assert first.status.trials_succeeded == second.status.trials_succeeded == 2  # the damaged result is left out of both
    warned = [r.getMessage() for r in caplog.records if r.name == "kfp_tune.client"]
    assert len(warned) == 1 and f"experiments/quad/trials/{trial}/result.json" in warned[0], warned


# --- waiting ------------------------------------------------------------------------------------


def test_wait_returns_a_finished_experiment_and_times_out_saying_where_it_stands(finished):
    client = Client(str(finished))
    assert client.wait_for_experiment_condition("quad", timeout=0).status.trials_succeeded == 3
    with pytest.raises(TimeoutError) as info:
        client.wait_for_experiment_condition("quad", condition="Failed", timeout=0)
    message = str(info.value)
    assert "did not reach Failed within 0 s: it is Succeeded (ExperimentMaxTrialsReached" in message and "no run drives it now" in message
    with pytest.raises(TimeoutError, match=r"'later' did not reach Succeeded within 0 s: it is not in file://.* \(yet\)"):
        client.wait_for_experiment_condition("later", timeout=0)
    with pytest.raises(ValueError, match="condition must be one of Created, Running, Restarting, Succeeded, Failed, got 'Done'"):
        client.wait_for_experiment_condition("quad", condition="Done")
    with pytest.raises(ValueError, match="polling_interval must be a number of seconds above 0"):
        client.wait_for_experiment_condition("quad", polling_interval=0)


def test_wait_raises_when_the_experiment_failed_unless_waiting_for_failed(tmp_path):
    def broken(params: dict[str, Any]) -> float:
        raise RuntimeError("no GPU")

    with pytest.warns(UserWarning, match="ended with TrialFailed. Job reason: Error: Trial has failed. Job message: RuntimeError: no GPU"):
        tune(broken, PARAMETERS, objective_metric_name="loss", max_trial_count=3, max_failed_trial_count=1, store=str(tmp_path), name="broken")
    client = Client(str(tmp_path))
    with pytest.raises(ExperimentFailedError, match=r"'broken' Failed while waiting for Succeeded: it is Failed \(ExperimentFailed: Experiment has failed"):
        client.wait_for_experiment_condition("broken", timeout=60)
    assert isinstance(ExperimentFailedError("x"), RuntimeError)  # as Katib's SDK raises
    assert client.wait_for_experiment_condition("broken", condition="Failed", timeout=0).status.trials_failed == 1
    for condition in ("Created", "Running", "Restarting"):  # Failed is looked at first, as Katib's SDK does: a Failed experiment holds Created too
        with pytest.raises(ExperimentFailedError, match=f"'broken' Failed while waiting for {condition}: "):
            client.wait_for_experiment_condition("broken", condition=condition, timeout=0)


def test_wait_follows_a_run_until_it_succeeds(tmp_path):
    """While the run is held in its first trial the experiment is Running and a wait for
    Succeeded times out naming the run that drives it; once released, the wait returns it
    Succeeded (the long timeout is only an upper bound)."""
    client = Client(str(tmp_path))
    with blocked_run(str(tmp_path), "held") as release:
        running = client.wait_for_experiment_condition("held", condition="Running", timeout=120, polling_interval=0.05)
        assert running.status.trials_running == 1
        with pytest.raises(TimeoutError, match=r"it is Running \(ExperimentRunning: Experiment is running\); run 'run-.*' .* drives it"):
            client.wait_for_experiment_condition("held", timeout=0)
        release.set()
        done = client.wait_for_experiment_condition("held", timeout=120, polling_interval=0.05)
    assert done.status.trials_succeeded == 3 and has_condition_types(done) == ["Created", "Succeeded"]


def has_condition_types(experiment: KatibObject) -> list[str]:
    return [c.type for c in experiment.status.conditions if c.status == "True"]


# --- trial metrics and logs ---------------------------------------------------------------------


def test_trial_metrics_are_every_report_in_order(finished):
    """quadratic.py prints loss and accuracy at steps 0, 1 and 2 (loss falling by 0.1)."""
    client = Client(str(finished))
    trial = client.list_trials("quad")[0]
    loss = _loss({a.name: a.value for a in trial.spec.parameter_assignments})
    expected = [(name, round(value, 6), step) for step in range(3) for name, value in (("loss", loss + 0.1 * (2 - step)), ("accuracy", 1 - loss))]
    got = client.get_trial_metrics(trial.metadata.name)
    assert [(m["name"], pytest.approx(m["value"], abs=1e-9), m["step"]) for m in got] == expected
    assert client.get_trial_metrics(("quad", trial.metadata.name)) == got


def test_trial_metrics_of_a_push_experiment_carry_the_steps_reported(tmp_path):
    doc = quadratic_experiment(**{"spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1, "spec.metricsCollectorSpec": {"collector": {"kind": "Push"}}})
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"].append("mode=push")
    _run_yaml(tmp_path, tmp_path / "store", doc)
    client = Client(str(tmp_path / "store"))
    (trial,) = client.list_trials("quad")
    loss = _loss({a.name: a.value for a in trial.spec.parameter_assignments})
    got = [(m["name"], m["step"], m["value"]) for m in client.get_trial_metrics(trial.metadata.name) if m["name"] == "loss"]
    assert got == [("loss", step, pytest.approx(loss + 0.1 * (2 - step))) for step in range(3)]


def test_an_unknown_trial_is_refused_naming_the_trials_there_are(finished):
    client = Client(str(finished))
    names = [t.metadata.name for t in client.list_trials("quad")]
    with pytest.raises(TrialNotFound, match=f"experiment 'quad' has no trial 'quad-nope'; its trials: {', '.join(names)}"):
        client.get_trial_metrics(("quad", "quad-nope"))
    with pytest.raises(TrialNotFound, match="no trial 'quad-nope' in any experiment"):
        client.get_trial_logs("quad-nope")
    with pytest.raises(InputError, match="trial name: expected a trial's name"):
        client.get_trial_logs(("quad", "../etc"))


def test_trial_logs_are_what_the_trial_printed(finished):
    client = Client(str(finished))
    trial = client.list_trials("quad")[0]
    log = client.get_trial_logs(trial.metadata.name)
    stored = (finished / "experiments" / "quad" / "trials" / trial.metadata.name / "logs" / "main.log").read_text()
    assert log == stored and log.count("\n") == 3 and log.startswith("step=0 loss=")
    with pytest.raises(InputError, match="has no log of container 'sidecar'; its logs: main"):
        client.get_trial_logs(trial.metadata.name, container="sidecar")


def test_a_running_function_trial_has_no_log_until_it_ends(tmp_path):
    client = Client(str(tmp_path))
    with blocked_run(str(tmp_path), "held"):
        (running,) = [t for t in client.list_trials("held") if t.status.start_time and not t.status.completion_time]
        with pytest.raises(NoLogYet, match="is running; its log is stored when it ends \\(it runs in the process that runs the experiment\\)"):
            client.get_trial_logs(running.metadata.name)


def _started_trial(store: Path, doc: dict[str, Any]) -> tuple[Any, Any]:
    """An experiment with one trial started (its started record written) and not ended, as a
    run leaves it while the trial runs: (the experiment, the trial's state)."""
    from kfp_tune.core.loading import load_experiment
    from kfp_tune.steps.suggest import suggest

    experiment = load_experiment(doc)
    records = ExperimentRecords(LocalStore(store), experiment.name)
    (name,) = suggest(records, "run-1-r000", 1, experiment, n=1)
    view = ExperimentView(records)
    view.record_trial(name, TrialStarted(trial=name, time=utc_now(), at=time.time(), run="run-1", attempt="a1", owner="elsewhere/1"))
    return experiment, view.state.trial(name)


def test_a_running_trial_on_a_cluster_is_read_from_its_pod_through_the_launcher(tmp_path, monkeypatch):
    """A Job trial running in namespace team-a (the experiment's): its primary container's log
    comes from the pod, among an istio sidecar; another namespace has no pod of it; with no
    cluster configured the message says so; once its log is stored, the cluster is not asked."""
    from fake_kube import Script, serve
    from kfp_tune.core.trials import trial_run
    from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher

    doc = quadratic_experiment(**{"metadata.namespace": "team-a"})
    experiment, trial = _started_trial(tmp_path / "store", doc)
    kube, server = serve()
    try:
        kube.script = lambda manifest: Script(run_seconds=3600, log=[(0.0, "step=0 loss=0.5 accuracy=0.5")])
        launcher = KubernetesLauncher(KubernetesConfig(namespace="team-a"), api_client=kube.api_client())
        launcher.create_or_adopt(launcher.prepare(trial_run(experiment, trial, "team-a")))
        client = Client(str(tmp_path / "store"), kubernetes_client=kube.api_client())
        assert client.get_trial_logs(("quad", trial.name)) == "step=0 loss=0.5 accuracy=0.5\n"
        with pytest.raises(NoLogYet, match="no pod of it runs in namespace 'other'"):
            client.get_trial_logs(("quad", trial.name), namespace="other")
        records = ExperimentRecords(LocalStore(tmp_path / "store"), "quad")
        records.write_text(records.log_key(trial.name, "main"), "stored at the end\n")
        calls = len(kube.calls)
        assert client.get_trial_logs(("quad", trial.name)) == "stored at the end\n" and len(kube.calls) == calls
    finally:
        server.shutdown()
        server.server_close()
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    (tmp_path / "store" / "experiments" / "quad" / "trials" / trial.name / "logs" / "main.log").unlink()
    with pytest.raises(NoLogYet, match="no Kubernetes cluster is configured"):
        Client(str(tmp_path / "store")).get_trial_logs(("quad", trial.name))


# --- budget ---------------------------------------------------------------------------------------


def test_a_run_of_a_completed_experiment_says_it_only_reports_it(store, tmp_path, capsys):
    """The spec it completed with (get_experiment's, written as kubectl would write it), run
    again: no "resuming ... trial(s) left" line for trials that will never run, but that it
    has completed and how."""
    client = Client(str(store))
    (tmp_path / "same.yaml").write_text(yaml.safe_dump(client.get_experiment("quad").to_dict()))
    capsys.readouterr()
    assert main(["run", str(tmp_path / "same.yaml"), "--engine", "inline", "--store", str(store)]) == 0
    err = capsys.readouterr().err
    assert "experiment quad has already completed: Succeeded (ExperimentMaxTrialsReached), 3 trial(s) done" in err
    assert "nothing to run, reporting it" in err and "resuming" not in err
    assert len(client.list_trials("quad")) == 3


def test_a_completed_experiment_given_more_trials_restarts_on_its_next_run(store, tmp_path, capsys):
    """Succeeded by maxTrialCount under LongRunning: raising it to 5 marks it Restarting (as
    Katib does, for good), and a run of what get_experiment returns (a spec, as kubectl get -o
    yaml gives it) resumes it to 5 trials."""
    client = Client(str(store))
    before = {t.metadata.name for t in client.list_trials("quad")}
    edited = client.edit_experiment_budget("quad", max_trial_count=5)
    assert edited.spec.max_trial_count == 5 and client.get_experiment("quad").spec.max_trial_count == 5
    assert [(c.type, c.reason) for c in edited.status.conditions if c.status == "True"] == [
        ("Created", "ExperimentCreated"), ("Restarting", "ExperimentRestarting"), ("Running", "ExperimentRestarting")]
    assert "maxTrialCount 3 -> 5" in edited.status.conditions[-1].message
    assert KatibClient(store=str(store)).is_experiment_restarting("quad")
    (tmp_path / "edited.yaml").write_text(yaml.safe_dump(edited.to_dict()))
    capsys.readouterr()
    assert main(["run", str(tmp_path / "edited.yaml"), "--engine", "inline", "--store", str(store)]) == 0
    assert "resuming experiment quad: 3 trial(s) done" in capsys.readouterr().err
    after = client.get_experiment("quad")
    katib = KatibClient(store=str(store))
    # Katib keeps Restarting once set (MarkExperimentStatusRunning's removeCondition is commented out)
    assert after.status.trials_succeeded == 5 and katib.is_experiment_succeeded("quad") and katib.is_experiment_restarting("quad")
    assert before < {t.metadata.name for t in client.list_trials("quad")}


def test_a_budget_the_spec_leaves_out_does_not_stop_the_restart(tmp_path):
    """Most experiments leave maxFailedTrialCount out: raising maxTrialCount still marks the
    completed experiment Restarting (it raised KeyError after storing the new spec, and the
    status stayed Succeeded)."""
    doc = quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1, "spec.resumePolicy": "LongRunning"})
    del doc["spec"]["maxFailedTrialCount"]
    _run_yaml(tmp_path, tmp_path / "store", doc)
    edited = Client(str(tmp_path / "store")).edit_experiment_budget("quad", max_trial_count=4)
    assert edited.spec.max_trial_count == 4 and edited.spec.max_failed_trial_count is None
    assert [c.type for c in edited.status.conditions] == ["Created", "Restarting", "Running"]
    assert edited.status.conditions[-1].message.endswith("(maxTrialCount 2 -> 4); the next run of its stored spec resumes it")


def test_budget_edits_katib_refuses_are_refused_and_nothing_changes(store, tmp_path):
    client = Client(str(store))
    stored = (store / "experiments" / "quad" / "experiment.json").read_bytes()
    refusals = [
        ({"max_trial_count": 2}, InputError, r"max_trial_count \(spec.maxTrialCount\): experiment 'quad' has 3 trial\(s\); expected more than 3, got 2"),
        ({"parallel_trial_count": 4}, InputError, r"parallel_trial_count \(spec.parallelTrialCount\): expected at most spec.maxTrialCount \(3\), got 4"),
        ({"max_failed_trial_count": -1}, InputError, r"max_failed_trial_count \(spec.maxFailedTrialCount\)"),
        ({}, ValueError, "nothing to change; give max_trial_count"),
        ({"max_trial_count": True}, TypeError, "max_trial_count must be an integer, got True"),
    ]
    for arguments, error, words in refusals:
        with pytest.raises(error, match=words):
            client.edit_experiment_budget("quad", **arguments)
    with pytest.raises(ExperimentNotFound):
        client.edit_experiment_budget("nope", max_trial_count=9)
    assert (store / "experiments" / "quad" / "experiment.json").read_bytes() == stored
    unchanged = client.edit_experiment_budget("quad", max_trial_count=3)  # no change is no edit: it stays Succeeded
    assert has_condition_types(unchanged) == ["Created", "Succeeded"]
    assert (store / "experiments" / "quad" / "experiment.json").read_bytes() == stored
    # resumePolicy Never (Katib's default) keeps a completed experiment completed
    _run_yaml(tmp_path, store, quadratic_experiment(**{"spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1}), "--name", "never")
    with pytest.raises(ExperimentConflict, match=r"edit_experiment_budget: experiment 'never' is completed, and its budget cannot change: its spec\.resumePolicy is Never"):
        client.edit_experiment_budget("never", max_trial_count=4)
    assert client.get_experiment("never").spec.max_trial_count == 1


def test_a_budget_edit_needs_a_max_trial_count_above_the_trials_whichever_count_changes(store, tmp_path, capsys):
    """Katib's validator.go refuses every change of an Experiment's spec while its maxTrialCount
    is at or below status.trials ("must be greater than status.trials count"), at the boundary
    (trials == maxTrialCount) too, and a completed one is told first whether it may restart."""
    # a running experiment of maxTrialCount 3 with one trial: down to 1 (= its trials) is refused, 2 is taken
    with blocked_run(str(tmp_path / "held"), "held"):
        held = Client(str(tmp_path / "held"))
        with pytest.raises(InputError, match=r"max_trial_count \(spec.maxTrialCount\): experiment 'held' has 1 trial\(s\); expected more than 1, got 1 "):
            held.edit_experiment_budget("held", max_trial_count=1)
        assert held.edit_experiment_budget("held", max_trial_count=2).spec.max_trial_count == 2
    # running in its last trial (2 of maxTrialCount 2): another count alone is refused, naming the one to raise
    full = str(tmp_path / "full")
    with gated_run(full, "full", max_trial_count=2, gate_trial=2):
        stored = (tmp_path / "full" / "experiments" / "full" / "experiment.json").read_bytes()
        with pytest.raises(ExperimentConflict, match=r"^edit_experiment_budget: max_failed_trial_count \(spec.maxFailedTrialCount\) 1: experiment 'full' "
                           r"has 2 trial\(s\) and its maxTrialCount is 2; .* raise it too with max_trial_count \(more than 2\)$"):
            Client(full).edit_experiment_budget("full", max_failed_trial_count=1)
        assert main(["edit", "full", "--store", full, "--max-failed-trial-count", "1"]) == 1
        assert "raise it too with --max-trial-count (more than 2)" in capsys.readouterr().err
        assert (tmp_path / "full" / "experiments" / "full" / "experiment.json").read_bytes() == stored
    # quad: completed, 3 trials of maxTrialCount 3 (LongRunning): refused as a restart needs more trials; taken with more
    client = Client(str(store))
    with pytest.raises(ExperimentConflict, match=r"experiment 'quad' is completed with 3 trials; to restart it .* expected a maxTrialCount greater than 3, got 3"):
        client.edit_experiment_budget("quad", parallel_trial_count=2)
    assert has_condition_types(client.get_experiment("quad")) == ["Created", "Succeeded"]
    edited = client.edit_experiment_budget("quad", max_trial_count=4, parallel_trial_count=2)
    assert (edited.spec.max_trial_count, edited.spec.parallel_trial_count) == (4, 2)


def test_the_budget_of_a_running_experiment_changes_in_the_store_without_restarting_it(tmp_path):
    client = Client(str(tmp_path))
    with blocked_run(str(tmp_path), "held"):
        edited = client.edit_experiment_budget("held", parallel_trial_count=2, max_failed_trial_count=2)
        assert (edited.spec.parallel_trial_count, edited.spec.max_failed_trial_count, edited.spec.max_trial_count) == (2, 2, 3)
        assert [(c.type, c.reason) for c in edited.status.conditions if c.status == "True"] == [("Created", "ExperimentCreated"), ("Running", "ExperimentRunning")]
    assert ExperimentView(ExperimentRecords(LocalStore(tmp_path), "held")).state.experiment.spec.parallel_trial_count == 2  # what a next step reads


class _OtherEditFirst:
    """A store through which this edit's first write waits until ``other_edit`` has run to its
    end: both edits read the same experiment record, the other's lands first."""

    def __init__(self, inner: Any, other_edit: Any):
        self.inner, self.other_edit, self.uri = inner, other_edit, inner.uri

    def _first_write(self) -> None:
        if self.other_edit is not None:
            self.other_edit, hook = None, self.other_edit
            hook()

    def put(self, key: str, data: bytes) -> None:
        self._first_write()
        self.inner.put(key, data)

    def create(self, key: str, data: bytes) -> bool:
        self._first_write()
        return bool(self.inner.create(key, data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_of_two_budget_edits_made_at_once_neither_is_lost(tmp_path):
    """The later edit read the record before the earlier one's write: it is refused, as Katib's
    API server refuses an update of a stale Experiment (409), and nothing of it is written; made
    again, both changes stand. (QA: both returned and one change was silently lost, 12 of 12.)"""
    client = Client(str(tmp_path))
    with blocked_run(str(tmp_path), "held"):
        def other_edit() -> None:
            client.edit_experiment_budget("held", parallel_trial_count=2)

        failed_before = client.get_experiment("held").spec.max_failed_trial_count
        racing = Client(_OtherEditFirst(LocalStore(tmp_path), other_edit))
        with pytest.raises(ExperimentConflict, match=r"edit_experiment_budget: experiment 'held' was changed by another edit while this one was made"):
            racing.edit_experiment_budget("held", max_failed_trial_count=2)
        spec = client.get_experiment("held").spec
        assert (spec.parallel_trial_count, spec.max_failed_trial_count) == (2, failed_before) and failed_before != 2
        client.edit_experiment_budget("held", max_failed_trial_count=2)
        spec = client.get_experiment("held").spec
        assert (spec.parallel_trial_count, spec.max_failed_trial_count) == (2, 2)


def test_an_edit_that_stopped_between_its_two_writes_is_completed_by_the_next(tmp_path):
    """The revision an edit took holds its whole record: the next edit writes it before it
    refuses, so a crash there never leaves the experiment unable to take edits."""
    from kfp_tune.core.state import read_experiment_record
    from kfp_tune.steps.prepare import write_edit

    client = Client(str(tmp_path))
    with blocked_run(str(tmp_path), "held"):
        records = ExperimentRecords(LocalStore(tmp_path), "held")
        head = read_experiment_record(records)
        assert head is not None
        taken = {k: v for k, v in head.items() if k not in ("kind", "version")}
        taken["spec"] = {**taken["spec"], "spec": {**taken["spec"]["spec"], "parallelTrialCount": 3}}
        records.write_once(records.revision_key(head.get("revision", 0) + 1), "Experiment", {**taken, "revision": head.get("revision", 0) + 1})
        with pytest.raises(ExperimentConflict, match="was changed by another edit"):
            write_edit(records, head, {**taken, "spec": head["spec"]})
        assert client.get_experiment("held").spec.parallel_trial_count == 3  # the stopped edit, completed
        assert client.edit_experiment_budget("held", max_failed_trial_count=2).spec.max_failed_trial_count == 2


@contextlib.contextmanager
def gated_run(store: str, name: str, max_trial_count: int, gate_trial: int) -> Iterator[tuple[threading.Event, list[Any]]]:
    """A tune() run of ``name`` in a thread (grid over 0.1, 0.2, ..., one trial at a time,
    resumePolicy Never), held inside trial ``gate_trial`` (1-based) until the event is set;
    the run's TuneResult lands in the list."""
    release, started, calls, results = threading.Event(), threading.Event(), [0], []

    def objective(params: dict[str, Any]) -> float:
        calls[0] += 1
        if calls[0] == gate_trial:
            started.set()
            assert release.wait(120), "the test never released the trial"
        return float(params["x"])

    space = {"x": search.discrete([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])}
    thread = threading.Thread(target=lambda: results.append(
        tune(objective, space, objective_metric_name="loss", algorithm="grid", max_trial_count=max_trial_count, store=store, name=name)))
    thread.start()
    try:
        assert started.wait(120), "the gated trial never started"
        yield release, results
    finally:
        release.set()
        thread.join(120)
    assert not thread.is_alive()


def _true_conditions(experiment: KatibObject) -> list[tuple[str, str]]:
    return [(c.type, c.reason) for c in experiment.status.conditions if c.status == "True"]


def test_a_run_follows_a_budget_raised_while_it_runs_and_a_completed_never_experiment_refuses_more(tmp_path):
    """Katib's controller reads maxTrialCount on every reconcile: raised from 3 to 5 during the
    first trial, the run in this process makes 5 trials (it made 3 and said Succeeded
    MaxTrialsReached with spec.maxTrialCount 5); once it completed under resumePolicy Never,
    Katib's webhook refuses any budget edit, here on every path."""
    store = str(tmp_path / "store")
    client, katib = Client(store), KatibClient(store=store)
    with gated_run(store, "grow", max_trial_count=3, gate_trial=1) as (release, results):
        edited = client.edit_experiment_budget("grow", max_trial_count=5)
        assert edited.spec.max_trial_count == 5 and _true_conditions(edited)[-1] == ("Running", "ExperimentRunning")
        release.set()
    assert results[0].status == "Succeeded" and len(results[0].trials) == 5
    experiment = client.get_experiment("grow")
    assert (experiment.spec.max_trial_count, experiment.status.trials, experiment.status.trials_succeeded) == (5, 5, 5)
    assert _true_conditions(experiment)[-1] == ("Succeeded", "ExperimentMaxTrialsReached")
    for edit in (lambda: client.edit_experiment_budget("grow", max_trial_count=7), lambda: katib.edit_experiment_budget("grow", max_trial_count=8),
                 lambda: client.edit_experiment_budget("grow", max_failed_trial_count=2)):
        with pytest.raises(ExperimentConflict, match=r"is completed, and its budget cannot change: its spec\.resumePolicy is Never"):
            edit()
    assert client.get_experiment("grow").spec.max_trial_count == 5


class _EditLandsAfterTheRunEnds:
    """A store through which an edit's write of the experiment record waits until ``before_write``
    has run: the edit's checks saw the run going, its write lands once the run has ended."""

    def __init__(self, inner: Any, before_write: Any):
        self.inner, self.before_write, self.uri = inner, before_write, inner.uri

    def put(self, key: str, data: bytes) -> None:
        if key.endswith("/experiment.json") and self.before_write is not None:
            self.before_write, hook = None, self.before_write
            hook()
        self.inner.put(key, data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_an_edit_that_lands_as_the_run_ends_leaves_a_status_the_new_budget_decides(tmp_path):
    """The run's last look at the budget came before the edit's write: the status it wrote
    (Succeeded, max trials reached under 2) must not stand beside spec.maxTrialCount 3 and 2
    trials; the experiment is Running, for the next run to finish."""
    store = str(tmp_path / "store")
    with gated_run(store, "race", max_trial_count=2, gate_trial=2) as (release, results):
        def run_ends_first() -> None:
            release.set()
            _wait_until(lambda: bool(results))  # tune() has returned: the run released its claim

        Client(_EditLandsAfterTheRunEnds(LocalStore(tmp_path / "store"), run_ends_first)).edit_experiment_budget("race", max_trial_count=3)
    experiment = Client(store).get_experiment("race")
    assert (experiment.spec.max_trial_count, experiment.status.trials) == (3, 2)
    assert _true_conditions(experiment)[-1] == ("Running", "ExperimentRunRoundsUsedUp")
    with pytest.warns(UserWarning, match="resuming experiment race: 2 trial"):
        again = tune(lambda p: float(p["x"]), {"x": search.discrete([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])}, objective_metric_name="loss",
                     algorithm="grid", max_trial_count=3, store=store, name="race")
    assert (again.status, again.reason, len(again.trials)) == ("Succeeded", "ExperimentMaxTrialsReached", 3)


def test_an_edit_written_as_the_run_releases_its_claim_leaves_a_status_the_new_budget_decides(tmp_path, monkeypatch):
    """The edit's checks ran while the run drove the experiment and its write landed after the
    run's last look but before its release: the run looks once more after releasing, and its
    status (Succeeded under maxTrialCount 2) gives way to Running under 3."""
    import kfp_tune.inline_runner as inline_runner

    store = tmp_path / "store"
    release = inline_runner.claims.release

    def edit_lands_then_release(records: ExperimentRecords, run_id: str, reason: str) -> None:
        head = records.read(records.experiment_key(), "Experiment")
        document = json.loads(json.dumps(head["spec"]))
        document["spec"]["maxTrialCount"] = 3
        records.write(records.experiment_key(), "Experiment", {**{k: v for k, v in head.items() if k not in ("kind", "version")}, "spec": document})
        release(records, run_id, reason)

    monkeypatch.setattr(inline_runner.claims, "release", edit_lands_then_release)
    result = tune(lambda p: float(p["x"]), PARAMETERS, objective_metric_name="loss", algorithm="grid", max_trial_count=2, store=str(store), name="late")
    assert (result.status, result.reason, len(result.trials)) == ("Running", "ExperimentRunRoundsUsedUp", 2)
    experiment = Client(str(store)).get_experiment("late")
    assert experiment.spec.max_trial_count == 3 and _true_conditions(experiment)[-1] == ("Running", "ExperimentRunRoundsUsedUp")


def _wait_until(condition: Any, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# --- delete ---------------------------------------------------------------------------------------


def _keys(client: Client, name: str, folder: str = "experiments") -> dict[str, bytes]:
    return {key: client.store.get(key) or b"" for key in client.store.list(f"{folder}/{name}/")}


def with_artifacts(client: Client, name: str, tmp_path: Path) -> None:
    """A dataset staged by a run and bound to the experiment, and a model its first trial saved:
    the files a tuning step keeps beside the experiment's records."""
    from kfp_tune.steps.trial_artifacts import bind_inputs, file_input, keep_model, record_run_inputs, stage_input

    records = ExperimentRecords(client.store, name)
    data = tmp_path / f"{name}.csv"
    data.write_text(f"data of {name}\n")
    brought = file_input("dataset", data)
    stage_input(records, brought)
    record_run_inputs(records, "run-x", [brought])
    bind_inputs(records, "run-x")
    keep_model(records, client.list_trials(name)[0].metadata.name, data)


@pytest.mark.parametrize("where", ["local", "s3"])
def test_delete_removes_only_that_experiment_even_when_its_name_prefixes_another(where, tmp_path, request):
    uri = str(tmp_path / "store")
    if where == "s3":
        request.getfixturevalue("s3_env")
        uri = f"s3://{request.getfixturevalue('s3_bucket')}/tuning"
    for name in ("exp", "exp-2", "exp2"):
        tune(lambda p: p["x"], PARAMETERS, objective_metric_name="loss", algorithm="grid", max_trial_count=2, store=uri, name=name)
    client = Client(uri)
    for name in ("exp", "exp-2"):  # a staged dataset and a saved model each (QA: delete left them, a dataset copy a run)
        with_artifacts(client, name, tmp_path)
    others = {name: _keys(client, name) for name in ("exp-2", "exp2")}
    doomed = _keys(client, "exp")
    artifacts = _keys(client, "exp", "artifacts")
    assert doomed and all(others.values()) and len(artifacts) == 6 and _keys(client, "exp-2", "artifacts")
    with pytest.raises(InputError, match=rf"deleting experiment 'exp' \({len(doomed)} record\(s\) and 6 artifact file\(s\) in .*\) cannot be undone; pass confirm=True"):
        client.delete_experiment("exp")
    assert _keys(client, "exp") == doomed
    assert client.delete_experiment("exp", confirm=True) == len(doomed) + len(artifacts)
    assert _keys(client, "exp") == {} and _keys(client, "exp", "artifacts") == {}
    assert {name: _keys(client, name) for name in ("exp-2", "exp2")} == others  # every record, byte for byte
    assert _keys(client, "exp-2", "artifacts")
    assert [e.metadata.name for e in client.list_experiments()] == ["exp-2", "exp2"]
    if where == "local":
        assert not (tmp_path / "store" / "experiments" / "exp").exists()
    with pytest.raises(ExperimentNotFound, match="no experiment 'exp'"):
        client.delete_experiment("exp", confirm=True)


class _FailingDelete(LocalStore):
    """A local store whose next delete removes only the first ``keep_going`` keys, then fails
    (a read-only file, an S3 error half-way through a batch)."""

    keep_going: int | None = None

    def delete(self, keys):
        if self.keep_going is None:
            return super().delete(keys)
        super().delete(list(keys)[: self.keep_going])
        self.keep_going = None
        raise StoreError("cannot delete the next key: Read-only file system")


def test_an_experiment_whose_records_are_gone_but_its_artifacts_are_left_is_deleted_all_the_same(tmp_path):
    """Artifact files with no record (a delete stopped after its records went, or files left by
    hand) are still the experiment's to delete, not 'no experiment'."""
    store = LocalStore(tmp_path)
    store.put("artifacts/gone/inputs/dataset/data.csv", b"1,2\n")
    store.put("artifacts/gone-2/inputs/dataset/data.csv", b"3,4\n")
    client = Client(store)
    with pytest.raises(InputError, match=r"deleting experiment 'gone' \(0 record\(s\) and 1 artifact file\(s\) in file://"):
        client.delete_experiment("gone")
    assert client.delete_experiment("gone", confirm=True) == 1
    assert store.list("artifacts/") == ["artifacts/gone-2/inputs/dataset/data.csv"]
    with pytest.raises(ExperimentNotFound, match="no experiment 'gone'"):
        client.delete_experiment("gone", confirm=True)


def test_a_delete_that_stopped_half_way_is_told_partly_deleted_never_resumed_and_finished_by_deleting_again(tmp_path):
    """A delete that failed after it had taken most trials' records (QA: a read-only log file)
    left the experiment record, read as live: status said Running with no trials, and a run
    resumed it, re-running trials under names already used. It is marked first, read as partly
    deleted by every reader and by a run, and a second delete ends it."""
    store = _FailingDelete(tmp_path / "store")
    tune(lambda p: p["x"], PARAMETERS, objective_metric_name="loss", algorithm="grid", max_trial_count=3, store=store, name="exp")
    client = Client(store)
    store.keep_going = len(_keys(client, "exp")) - 3
    with pytest.raises(StoreError, match="Read-only"):
        client.delete_experiment("exp", confirm=True)
    partly = "experiment 'exp' in .* is partly deleted: a delete of it began at .* run kfp-tune delete exp --yes"
    with pytest.raises(ExperimentPartlyDeleted, match=partly):
        client.get_experiment("exp")
    with pytest.raises(ExperimentPartlyDeleted, match=partly):
        tune(lambda p: p["x"], PARAMETERS, objective_metric_name="loss", algorithm="grid", max_trial_count=3, store=store, name="exp")
    assert main(["status", "exp", "--store", str(tmp_path / "store")]) != 0
    assert client.delete_experiment("exp", confirm=True) > 0
    assert _keys(client, "exp") == {} and client.list_experiments() == []
    result = tune(lambda p: p["x"], PARAMETERS, objective_metric_name="loss", algorithm="grid", max_trial_count=3, store=store, name="exp")
    assert len(result.trials) == 3  # the name is free again: a new experiment


def test_delete_is_refused_while_a_run_drives_the_experiment(tmp_path):
    client = Client(str(tmp_path))
    with blocked_run(str(tmp_path), "held"):
        with pytest.raises(ExperimentBusy, match="experiment 'held' is being run by run 'run-"):
            client.delete_experiment("held", confirm=True)
        assert client.get_experiment("held").metadata.name == "held"
    assert client.delete_experiment("held", confirm=True) > 0
    assert client.list_experiments() == []


# --- KatibClient ----------------------------------------------------------------------------------


def test_a_katib_notebook_runs_with_one_import_changed(store, monkeypatch):
    """The calls of Katib's SDK examples, with Katib's argument names (namespace included: quad
    has no metadata.namespace, which counts as Katib's default, ``default`` outside a pod)."""
    import kfp_tune.katib_client

    monkeypatch.setattr(kfp_tune.katib_client, "SERVICE_ACCOUNT_NAMESPACE", store / "no-such-file")
    katib = KatibClient(namespace="default", store=str(store))
    experiment = katib.wait_for_experiment_condition("quad", namespace="default", expected_condition="Succeeded", timeout=1, polling_interval=1)  # one poll, as Katib counts them
    assert experiment.status.trials_succeeded == 3
    assert katib.is_experiment_succeeded("quad") and not katib.is_experiment_failed("quad", experiment=experiment)
    assert [c.type for c in katib.get_experiment_conditions("quad")] == ["Created", "Running", "Succeeded"]
    assert [e.metadata.name for e in katib.list_experiments(namespace="default")] == ["quad"]
    optimal = katib.get_optimal_hyperparameters("quad")
    assert optimal.best_trial_name == Client(str(store)).get_optimal_hyperparameters("quad").best_trial_name
    details = katib.get_success_trial_details("quad")
    assert sorted(d.name for d in details) == sorted(t.metadata.name for t in katib.list_trials("quad"))
    assert {d.name: d.parameter_assignments for d in details}[optimal.best_trial_name] == optimal.parameter_assignments
    trial = optimal.best_trial_name
    metrics = katib.get_trial_metrics(trial, namespace="default")
    assert [m.metric.name for m in metrics] == ["loss", "accuracy"] * 3
    assert metrics[-2].metric.value == repr(Client(str(store)).get_trial_metrics(trial)[-2]["value"])
    assert list(katib.get_job_logs("quad", trial)) == Client(str(store)).get_trial_logs(trial).splitlines()
    assert katib.get_trial(trial).metadata.labels["katib.kubeflow.org/experiment"] == "quad"
    katib.edit_experiment_budget("quad", max_trial_count=4, namespace="default")
    assert katib.get_experiment("quad").spec.max_trial_count == 4
    katib.delete_experiment("quad", namespace="default")
    assert katib.list_experiments() == []
    # what Katib's SDK does for what is not there: no trials, and a RuntimeError for the experiment
    assert katib.list_trials("quad") == [] and katib.get_success_trial_details("quad") == []
    with pytest.raises(RuntimeError, match="no experiment 'quad'"):
        katib.get_experiment("quad")
    with pytest.raises(RuntimeError):
        katib.get_trial(trial)


def _katib_objective(parameters):
    # as in Katib's SDK examples: the metric printed in Katib's format, nothing returned
    result = 4 * int(parameters["a"]) - float(parameters["b"]) ** 2
    print(f"result={result}")


def test_katibs_tune_call_runs_with_one_import_changed(tmp_path, monkeypatch):
    """Katib's getting-started call, with Katib's argument names and defaults: maximize (where
    kfp_tune.tune minimizes unless told), random, 3 trials at a time; then wait and optimal."""
    from kfp_tune.search import double
    from kfp_tune.search import int as int_

    monkeypatch.delenv("KF_PIPELINES_ENDPOINT", raising=False)
    katib = KatibClient(namespace="kubeflow", store=str(tmp_path))
    katib.tune(
        name="tune-experiment", objective=_katib_objective,
        parameters={"a": int_(min=10, max=20), "b": double(min=0.1, max=0.2)},
        objective_metric_name="result", max_trial_count=6, algorithm_settings=[{"name": "random_state", "value": "7"}],
    )
    experiment = katib.wait_for_experiment_condition("tune-experiment", timeout=15)  # one poll
    assert (experiment.spec.objective.type, experiment.spec.algorithm.algorithm_name, experiment.spec.parallel_trial_count) == ("maximize", "random", 3)
    assert experiment.status.trials_succeeded == 6
    results = {t.name: float(t.metrics[0]["latest"]) for t in katib.get_success_trial_details("tune-experiment")}
    assert katib.get_optimal_hyperparameters("tune-experiment").best_trial_name == max(results, key=results.__getitem__)
    with pytest.raises(TypeError, match=r"env_per_trial is for trials on Kubeflow: make the client with KatibClient\(host=KFP_API_URL\)"):
        katib.tune(name="x", objective=_katib_objective, parameters={"a": int_(min=1, max=2)}, objective_metric_name="result", env_per_trial={"A": "1"})
    # Katib's getting-started call passes resources_per_trial (a daily-use QA pass: it raised here): run, the pod's options ignored, said once
    with pytest.warns(UserWarning, match=r"^KatibClient.tune: base_image, resources_per_trial ignored: without a host the trials run in this process") as told:
        katib.tune(name="started", objective=_katib_objective, parameters={"a": int_(min=1, max=2), "b": double(min=0.1, max=0.2)}, objective_metric_name="result",
                   max_trial_count=2, parallel_trial_count=1, resources_per_trial={"cpu": "2"}, base_image="python:3.11")
    assert [w.filename for w in told if "ignored" in str(w.message)] == [__file__]  # the line of the call
    assert katib.wait_for_experiment_condition("started", timeout=15).status.trials_succeeded == 2
    with pytest.raises(NotImplementedError, match="model_provider_parameters: Katib's LLM fine-tuning path"):
        katib.tune(name="llm", model_provider_parameters=object())


def test_katibs_tune_with_a_host_sends_the_trials_to_kubeflow_with_katibs_options(tmp_path, monkeypatch):
    """With a KFP host (the client's, or $KF_PIPELINES_ENDPOINT as kfp.Client reads it), the
    call sends the experiment kfp_tune.tune(host=...) builds, the cluster options in it (that
    path is tested against the fake KFP API in test_remote_tune.py)."""
    import kfp_tune.remote

    sent: list[tuple[Any, dict]] = []
    monkeypatch.setattr(kfp_tune.remote, "submit_experiment", lambda experiment, **kwargs: sent.append((experiment, kwargs)))
    monkeypatch.setenv("KF_PIPELINES_ENDPOINT", "http://kfp.example:8888")
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", "http://127.0.0.1:9")  # the store is not read here
    KatibClient(namespace="team-a", store="s3://mlpipeline/kfp-tune").tune(
        name="remote", objective=_katib_objective, parameters={"a": search.double(0, 1)}, objective_metric_name="result",
        base_image="python:3.11", resources_per_trial={"cpu": "1"}, algorithm_settings={"random_state": "1"})
    KatibClient(namespace="team-a", store="s3://mlpipeline/kfp-tune").tune(
        name="deadline", objective=_katib_objective, parameters={"a": search.double(0, 1)}, objective_metric_name="result",
        trial_active_deadline_seconds=60)
    with pytest.raises(ValueError, match="parallel_trial_count"):  # tune(host=) refuses 0, naming it, as Katib's webhook does
        KatibClient(store="s3://mlpipeline/kfp-tune").tune(name="none", objective=_katib_objective, parameters={"a": search.double(0, 1)},
                                                           objective_metric_name="result", parallel_trial_count=0)
    (call, kwargs), (deadline, _) = sent
    assert deadline.spec.trial_template.trial_spec["spec"]["activeDeadlineSeconds"] == 60
    assert (kwargs["host"], kwargs["namespace"], kwargs["store"]) == ("http://kfp.example:8888", "team-a", "s3://mlpipeline/kfp-tune")
    (container,) = call.spec.trial_template.trial_spec["spec"]["template"]["spec"]["containers"]
    assert (call.metadata.namespace, container["image"], container["resources"]) == ("team-a", "python:3.11", {"requests": {"cpu": "1"}, "limits": {"cpu": "1"}})
    spec = call.spec
    assert (spec.objective.type, spec.algorithm.algorithm_name, spec.parallel_trial_count, spec.max_trial_count) == ("maximize", "random", 3, None)
    assert (call.name, [(s.name, s.value) for s in spec.algorithm.algorithm_settings]) == ("remote", [("random_state", "1")])
    assert spec.collector_kind == "StdOut"


def test_what_the_katib_client_does_not_support_says_what_to_use_instead(store):
    katib = KatibClient(store=str(store))
    with pytest.raises(NotImplementedError, match="no Suggestion objects"):
        katib.get_suggestion("quad")
    trial = katib.list_trials("quad")[0].metadata.name
    with pytest.raises(NotImplementedError, match="follow=True is not supported"):
        list(katib.get_job_logs("quad", trial, follow=True))
    with pytest.raises(ValueError, match="Trial name is required"):
        list(katib.get_job_logs("quad", ""))


def test_trial_conditions_carry_both_times_as_katibs_new_condition_sets_them(store):
    """A Trial's conditions had no lastUpdateTime (an experiment's had), so KatibClient's
    condition.last_update_time read None. Katib's newCondition sets both times; its Running
    condition is set False as the trial ends, at that time (MarkTrialStatusSucceeded)."""
    for trial in Client(str(store)).list_trials("quad"):
        created, running, ended = trial["status"]["conditions"]
        assert all(c["lastUpdateTime"] == c["lastTransitionTime"] for c in (created, running, ended)), trial["status"]["conditions"]
        assert (created["lastTransitionTime"], running["status"]) == (trial["metadata"]["creationTimestamp"], "False")
        assert running["lastTransitionTime"] == ended["lastTransitionTime"] == trial["status"]["completionTime"]
    conditions = KatibClient(store=str(store)).list_trials("quad")[0].status.conditions
    assert all(isinstance(c.last_update_time, datetime.datetime) and c.last_update_time == c.last_transition_time for c in conditions)


# --- KatibClient: Katib's models, error kinds, arguments --------------------------------------------


def test_katib_objects_give_times_as_datetime_and_refuse_attributes_katibs_models_lack(store):
    """Katib's ApiClient turns the openapi_types ``datetime`` fields into datetime; they were
    strings. Dict access and to_dict() keep Kubernetes' JSON text (json.dumps works), and an
    attribute Katib's model does not have is an AttributeError, as on Katib's models, while
    one it has that is not set reads None."""
    katib = KatibClient(store=str(store))
    experiment = katib.get_experiment("quad")
    status = experiment.status
    assert all(isinstance(t, datetime.datetime) and t.tzinfo is not None
               for t in (status.start_time, status.completion_time, status.last_reconcile_time, experiment.metadata.creation_timestamp))
    assert isinstance(status.completion_time - status.start_time, datetime.timedelta)
    assert all(isinstance(c.last_transition_time, datetime.datetime) and isinstance(c.last_update_time, datetime.datetime) for c in status.conditions)
    assert status.start_time == datetime.datetime.fromisoformat(experiment["status"]["startTime"].replace("Z", "+00:00"))
    assert isinstance(experiment["status"]["startTime"], str)
    assert json.loads(json.dumps(experiment.to_dict())) == Client(str(store)).get_experiment("quad").to_dict()
    trial = katib.list_trials("quad")[0]
    assert isinstance(trial.status.start_time, datetime.datetime) and isinstance(trial.status.conditions[-1].last_transition_time, datetime.datetime)
    assert isinstance(katib.get_trial(trial.metadata.name).metadata.creation_timestamp, datetime.datetime)
    assert experiment.spec.early_stopping is None and experiment.spec.objective.goal is None  # Katib's fields, not set
    optimal = katib.get_optimal_hyperparameters("quad")
    assert {m.name for m in optimal.observation.metrics} == {"loss", "accuracy"}
    for obj, name, model in ((status, "trial_count", "V1beta1ExperimentStatus"), (experiment.spec, "maxTrialCount", "V1beta1ExperimentSpec"),
                             (optimal, "metrics", "V1beta1OptimalTrial"), (katib.get_trial_metrics(optimal.best_trial_name)[0], "step", "MetricLog")):
        with pytest.raises(AttributeError, match=f"'{model}' object has no attribute '{name}'"):
            getattr(obj, name)
    assert repr(katib).startswith("kfp_tune.KatibClient(store='file://") and "namespace" not in repr(katib)
    assert repr(KatibClient(store=str(store), namespace="team-a")).endswith(", namespace='team-a')")


def test_katib_client_refusals_are_runtime_errors_as_katibs_sdk_raises(store, tmp_path):
    """Katib's SDK wraps every API refusal in a RuntimeError; kfp-tune raised its own kinds
    (ExperimentConflict, ExperimentBusy: Exception; InputError: ValueError). They are
    RuntimeErrors now that keep kfp-tune's class and message, raised from kfp-tune's error."""
    katib = KatibClient(store=str(store))
    _run_yaml(tmp_path, store, quadratic_experiment(**{"spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1}), "--name", "never")
    with pytest.raises(ExperimentConflict, match=r"experiment 'never' is completed, and its budget cannot change") as refused:
        katib.edit_experiment_budget("never", max_trial_count=4)
    assert isinstance(refused.value, RuntimeError) and isinstance(refused.value.__cause__, ExperimentConflict)
    with pytest.raises(InputError, match=r"max_trial_count \(spec.maxTrialCount\)") as budget:
        katib.edit_experiment_budget("quad", max_trial_count=0)
    assert isinstance(budget.value, RuntimeError) and isinstance(budget.value, ValueError)
    with pytest.raises(ValueError, match="nothing to change") as nothing:
        katib.edit_experiment_budget("quad")  # as Katib's SDK: a ValueError before any request
    assert not isinstance(nothing.value, RuntimeError)
    with pytest.raises(InputError, match="experiment name") as bad_name:
        katib.get_experiment("Bad_Name")
    assert isinstance(bad_name.value, RuntimeError)
    held = str(tmp_path / "held")
    with blocked_run(held, "held"):
        with pytest.raises(ExperimentBusy, match="experiment 'held' is being run by run") as busy:
            KatibClient(store=held).delete_experiment("held")
        assert isinstance(busy.value, RuntimeError)
    assert KatibClient.delete_experiment.__doc__ and "a run drives is refused" in KatibClient.delete_experiment.__doc__


def test_katibs_tune_takes_fixed_values_push_reports_and_refuses_what_katib_refuses(tmp_path, monkeypatch):
    """Katib's notebooks pass fixed values among the parameters (they raised TypeError) and
    report with the Push collector; trial_active_deadline_seconds is Katib's objective path's
    (it raised NotImplementedError "LLM"), storage_config is ignored there as in Katib, and
    parallel_trial_count 0 is refused as Katib's webhook refuses it (it silently became 3)."""
    import kfp_tune

    monkeypatch.delenv("KF_PIPELINES_ENDPOINT", raising=False)
    katib = KatibClient(store=str(tmp_path))

    def objective(parameters):
        assert parameters["is_dist"] is False and parameters["num_workers"] == 1
        kfp_tune.report_metrics({"accuracy": float(parameters["lr"])})

    katib.tune(name="fixed-push", objective=objective, parameters={"lr": search.double(min=0.1, max=0.2), "is_dist": False, "num_workers": 1},
               objective_metric_name="accuracy", max_trial_count=3, metrics_collector_config={"kind": "Push"},
               algorithm_settings={"random_state": "5"}, storage_config={"size": "1Gi"})
    experiment = katib.get_experiment("fixed-push")
    assert (experiment.status.trials_succeeded, [p.name for p in experiment.spec.parameters]) == (3, ["lr"])
    optimal = katib.get_optimal_hyperparameters("fixed-push")
    assert float(optimal.observation.metrics[0].latest) == float(optimal.parameter_assignments[0].value)
    arguments = {"objective": objective, "parameters": {"lr": search.double(0.1, 0.2)}, "objective_metric_name": "accuracy"}
    with pytest.raises(TypeError, match=r"trial_active_deadline_seconds is for trials on Kubeflow: make the client with KatibClient\(host="):
        katib.tune(name="deadline", trial_active_deadline_seconds=60, **arguments)
    with pytest.raises(ValueError, match=r"parallel_trial_count \(spec\.parallelTrialCount\): expected more than 0, got 0"):
        katib.tune(name="none-at-a-time", parallel_trial_count=0, **arguments)
    assert [e.metadata.name for e in katib.list_experiments()] == ["fixed-push"]


def test_create_experiment_runs_a_katib_model_and_refuses_what_katibs_api_server_would(tmp_path, monkeypatch):
    """Katib's create_experiment(V1beta1Experiment) raised NotImplementedError. Without a host
    the experiment runs here, as kfp-tune run does; a second create of the name, an invalid
    experiment and one without a name are refused as Katib refuses them."""
    import katib_models

    monkeypatch.delenv("KF_PIPELINES_ENDPOINT", raising=False)
    katib = KatibClient(store=str(tmp_path / "store"))
    assert katib.create_experiment(katib_models.experiment("from-model")) is None
    experiment = katib.wait_for_experiment_condition("from-model", timeout=15)
    assert (experiment.status.trials_succeeded, experiment.metadata.namespace, experiment.spec.max_trial_count) == (2, "kubeflow-user", 2)
    with pytest.raises(ExperimentConflict, match=r"an experiment named 'from-model' already exists in .*delete_experiment it first") as again:
        katib.create_experiment(katib_models.experiment("from-model"))
    assert isinstance(again.value, RuntimeError)
    invalid = quadratic_experiment(**{"metadata.name": "invalid", "spec.parameters.0.feasibleSpace.min": "2"})
    with pytest.raises(SpecError) as refused:
        katib.create_experiment(invalid)
    assert isinstance(refused.value, RuntimeError) and refused.value.errors[0].path == "spec.parameters[0].feasibleSpace.min"
    with pytest.raises(ValueError, match="Experiment must have a name or generateName"):
        katib.create_experiment(quadratic_experiment(**{"metadata": {"namespace": "x"}}))
    katib.create_experiment(quadratic_experiment(**{"metadata": {"generateName": "gen-"}, "spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1}))
    assert sorted(e.metadata.name[:4] for e in katib.list_experiments()) == ["from", "gen-"]


def test_create_experiment_with_a_host_sends_it_as_a_pipeline_run(monkeypatch):
    import katib_models

    import kfp_tune.remote

    sent: list[tuple[Any, dict]] = []
    monkeypatch.setattr(kfp_tune.remote, "submit_experiment", lambda experiment, **kwargs: sent.append((experiment, kwargs)))
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", "http://127.0.0.1:9")  # the store is not read here
    KatibClient(store="s3://mlpipeline/kfp-tune", host="http://kfp.example:8888").create_experiment(katib_models.experiment("sent"))
    [(experiment, kwargs)] = sent
    assert (experiment.name, experiment.spec.max_trial_count) == ("sent", 2)
    assert (kwargs["host"], kwargs["namespace"], kwargs["store"]) == ("http://kfp.example:8888", "kubeflow-user", "s3://mlpipeline/kfp-tune")


class _CountingStore:
    """A store that counts its reads and listings: what a look at the experiment costs on S3, a
    request each (a listing a request per thousand keys). Not a wrapper the client looks through
    (no ``inner``), so the store is listed as an S3 store is, never read as a folder."""

    def __init__(self, inner: LocalStore):
        self._inner, self.uri, self.gets, self.lists, self.listed = inner, inner.uri, 0, 0, 0

    def get(self, key: str) -> bytes | None:
        self.gets += 1
        return self._inner.get(key)

    def list(self, prefix: str) -> list[str]:
        keys = self._inner.list(prefix)
        self.lists, self.listed = self.lists + 1, self.listed + len(keys)
        return keys

    def taken(self) -> dict[str, int]:
        """The reads, listings and keys listed since the last call."""
        counts = {"gets": self.gets, "lists": self.lists, "listed": self.listed}
        self.gets = self.lists = self.listed = 0
        return counts

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_a_second_look_reads_only_what_was_written_since(store, tmp_path):
    """A client polling an experiment (wait_for_experiment_condition, a notebook's loop) read
    every record on every look: ~4 reads a trial, 480 for 120 trials over S3. It keeps what it
    read (the records are write-once) and reads the experiment record, a listing and the new
    records; what a run writes meanwhile is seen."""
    counting = _CountingStore(LocalStore(store))
    client = Client(counting)
    first = client.get_experiment("quad")
    fresh_reads, counting.gets = counting.gets, 0
    again = client.get_experiment("quad")
    assert again.status.trials == first.status.trials == 3
    assert again.status.current_optimal_trial.to_dict() == first.status.current_optimal_trial.to_dict()
    assert counting.gets <= 4 < fresh_reads, (counting.gets, fresh_reads)
    doc = quadratic_experiment(**{"spec.maxTrialCount": 5, "spec.parallelTrialCount": 1, "spec.resumePolicy": "LongRunning"})
    _run_yaml(tmp_path, store, doc)  # another process's run adds two trials
    counting.gets = 0
    after = client.get_experiment("quad")
    assert (after.status.trials, after.status.trials_succeeded) == (5, 5)
    assert counting.gets < fresh_reads
    assert len(client.list_trials("quad")) == 5
    fresh = Client(store).get_experiment("quad").status
    assert fresh.current_optimal_trial.to_dict() == after.status.current_optimal_trial.to_dict()
    assert [c.type for c in fresh.conditions] == [c.type for c in after.status.conditions]


def _printing_objective(params: dict[str, Any]) -> float:
    print(f"x={params['x']!r}")
    return (params["x"] - 0.3) ** 2


def test_a_trial_lookup_costs_the_same_whatever_the_experiments_size(tmp_path):
    """A lookup of one trial (get_trial, get_trial_metrics, get_trial_logs; KatibClient's by the
    trial's name alone) listed and folded the whole experiment each time: 0.19 s a trial at
    1,000 trials, and a loop over the trials quadratic. Katib's SDK asks for the one trial; once
    a client has looked at the experiment, a lookup reads the experiment record, lists the
    trial's own folder and reads what is new (a log, by its key): the same requests at 4
    trials as at 40."""
    cost = {}
    for size in (4, 40):
        folder = tmp_path / f"store-{size}"
        tune(_printing_objective, {"x": search.double(0, 1)}, objective_metric_name="loss", algorithm="random",
             algorithm_settings={"random_state": 7}, max_trial_count=size, store=str(folder), name="grown")
        counting = _CountingStore(LocalStore(folder))
        client, katib = Client(counting), KatibClient(store=counting)
        names = [t.metadata.name for t in client.list_trials("grown")]
        assert len(names) == size
        katib.get_trial(names[0])  # its first look at the experiment
        counting.taken()
        for name in names[:4]:
            trial = client.get_trial(("grown", name))
            x = float(trial.spec.parameter_assignments[0].value)
            assert trial.status.conditions[-1].type == "Succeeded" and trial.metadata.name == name
            assert client.get_trial_metrics(("grown", name)) == [{"name": "loss", "value": pytest.approx((x - 0.3) ** 2), "step": 0}]
            assert client.get_trial_logs(("grown", name)).startswith(f"x={x!r}\n")  # what it printed, then what it returned
            assert float(katib.get_trial_metrics(name)[-1].metric.value) == pytest.approx((x - 0.3) ** 2)
            assert katib.get_trial(name).spec.parameter_assignments[0].value == trial.spec.parameter_assignments[0].value
        cost[size] = counting.taken()
    assert cost[4] == cost[40], cost
    lookups = 4 * 5  # each a few requests: the experiment record, the trial's folder, what the collector reads
    assert cost[40]["gets"] <= 2 * lookups and cost[40]["lists"] <= 2 * lookups and cost[40]["listed"] <= 5 * lookups, cost


def test_a_trial_looked_up_again_shows_what_was_written_since(tmp_path):
    """What a lookup keeps of the experiment never hides a change: a trial that ends between two
    lookups shows its end, trials made after the first look are found, and an experiment
    deleted and made again under its name shows its own trials, not the old ones."""
    client, katib = Client(str(tmp_path)), KatibClient(store=str(tmp_path))
    with blocked_run(str(tmp_path), "held") as release:
        (held,) = [t.metadata.name for t in client.list_trials("held") if t.status.start_time and not t.status.completion_time]
        assert _true_conditions(client.get_trial(("held", held)))[-1] == ("Running", "TrialRunning")
        assert _true_conditions(katib.get_trial(held))[-1] == ("Running", "TrialRunning")
        with pytest.raises(NoLogYet, match="is running"):
            client.get_trial_logs(("held", held))
        release.set()
    names = [t.metadata.name for t in Client(str(tmp_path)).list_trials("held")]
    assert len(names) == 3 and held in names
    for name in names:  # the held trial ended since, the other two were made since
        for trial in (client.get_trial(("held", name)), katib.get_trial(name)):
            assert _true_conditions(trial)[-1] == ("Succeeded", "TrialSucceeded")
            x = float(trial.spec.parameter_assignments[0].value)
            assert [(m.name, float(m.latest)) for m in trial.status.observation.metrics] == [("loss", x)]
        assert client.get_trial_metrics(("held", name))[-1]["value"] == float(client.get_trial(name).spec.parameter_assignments[0].value)
    client.delete_experiment("held", confirm=True)
    tune(lambda params: float(params["x"]), PARAMETERS, objective_metric_name="loss", algorithm="grid", max_trial_count=1, store=str(tmp_path), name="held")
    (remade,) = [t.metadata.name for t in Client(str(tmp_path)).list_trials("held")]
    assert remade not in names  # a trial's name hashes its experiment's uid
    with pytest.raises(TrialNotFound, match=f"experiment 'held' has no trial '{held}'; its trials: {remade}"):
        client.get_trial(("held", held))
    with pytest.raises(RuntimeError):
        katib.get_trial(held)
    assert _true_conditions(client.get_trial(("held", remade)))[-1] == ("Succeeded", "TrialSucceeded")
    assert katib.get_trial(remade).metadata.name == remade


# --- budgets followed, waits, undriven edits ------------------------------------------------------


def test_a_max_trial_count_lowered_during_a_trial_ends_the_run_at_it(tmp_path):
    """Lowered to 3 from inside trial 2 of 10: the run reads the stored budget as each trial
    ends (as Katib's controller reads the Experiment), so trial 3 is its last."""
    client = Client(str(tmp_path))
    calls: list[float] = []

    def objective(params: dict[str, Any]) -> float:
        calls.append(params["x"])
        if len(calls) == 2:
            client.edit_experiment_budget("lowered", max_trial_count=3)
        return params["x"]

    result = tune(objective, {"x": search.double(0, 1)}, algorithm="random", algorithm_settings={"random_state": 5}, max_trial_count=10,
                  store=str(tmp_path), name="lowered")
    assert (result.status, result.reason, len(result.trials), len(calls)) == ("Succeeded", "ExperimentMaxTrialsReached", 3, 3)
    assert client.get_experiment("lowered").spec.max_trial_count == 3


def test_a_wait_sleeps_its_polling_interval_between_looks(finished, monkeypatch):
    """Each look at the store is followed by polling_interval of sleep (the last cut to the
    timeout), not another look at once; the clock here is the test's own."""
    import types

    import kfp_tune.client as client_module

    clock, sleeps = [0.0], []

    def monotonic() -> float:
        monotonic.calls += 1  # type: ignore[attr-defined]
        assert monotonic.calls < 50, "busy-polled: the store was looked at again without a sleep"  # type: ignore[attr-defined]
        return clock[0]

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(client_module, "time", types.SimpleNamespace(monotonic=monotonic, sleep=sleep, time=time.time))
    for given in ({"polling_interval": 15}, {}):  # 15 s unless told: Katib's SDK's polling_interval default
        clock[0], sleeps[:], monotonic.calls = 0.0, [], 0  # type: ignore[attr-defined]
        with pytest.raises(TimeoutError, match="did not reach Restarting within 50 s"):
            Client(str(finished)).wait_for_experiment_condition("quad", condition="Restarting", timeout=50, **given)
        assert sleeps == [15, 15, 15, 5], given


def test_an_edit_of_an_undriven_running_experiment_leaves_its_status_as_it_is(tmp_path, monkeypatch):
    """An interrupted run's status (Running, saying which signal stopped it) is what the next
    run reads: a budget edit made while no run drives the experiment does not rewrite it."""
    records = tune_interrupted_after_prepare(tmp_path, monkeypatch, "SIGINT")
    before = records.store.get(records.status_key())
    assert before is not None and b"ExperimentRunInterrupted" in before
    edited = Client(str(tmp_path)).edit_experiment_budget("stopped", parallel_trial_count=2)
    assert edited.spec.parallel_trial_count == 2 and records.store.get(records.status_key()) == before


def test_an_edit_while_a_run_drives_the_experiment_leaves_the_status_to_that_run(store):
    """The status a budget edit rewrites is one an ended run left (decided under the old
    budget); while a run drives the experiment, that run writes the status, so the edit leaves
    it as it is, though it says Succeeded and the new budget says go on."""
    from kfp_tune.core import claims

    client = Client(str(store))
    records = ExperimentRecords(client.store, "quad")
    succeeded = records.store.get(records.status_key())
    assert succeeded is not None and b"ExperimentMaxTrialsReached" in succeeded
    client.edit_experiment_budget("quad", max_trial_count=4)  # restarts it: not finished under 4
    records.store.put(records.status_key(), succeeded)  # as a run's last write, landed after the edit
    claims.claim(records, "run-elsewhere")  # held by this live process: a run that drives it
    assert client.edit_experiment_budget("quad", max_trial_count=5).spec.max_trial_count == 5
    assert records.store.get(records.status_key()) == succeeded


def test_katib_models_keep_what_is_set_on_them_as_katibs_setters_do(store, tmp_path):
    """Katib's notebooks edit a model read back and create it again (``exp.metadata.name =
    ...; exp.spec.max_trial_count = 2``). The attribute read the new value while the dict,
    to_dict() and create_experiment kept the old one (ExperimentConflictError on the old
    name). The field is now written under its JSON name; a model as its dict, a datetime as
    RFC 3339 text; an attribute the model lacks is an AttributeError; to_str() as Katib's."""
    import pprint

    import katib_models

    katib = KatibClient(store=str(store))
    experiment = katib.get_experiment("quad")
    experiment.metadata.name = "quad-copy"
    experiment.spec.max_trial_count = 1
    experiment.spec.parallel_trial_count = 1
    assert (experiment["metadata"]["name"], experiment.to_dict()["spec"]["maxTrialCount"]) == ("quad-copy", 1)
    experiment.metadata.creation_timestamp = datetime.datetime(2026, 1, 2, 4, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    assert experiment["metadata"]["creationTimestamp"] == "2026-01-02T03:04:05Z"
    assert experiment.metadata.creation_timestamp == datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    experiment.spec.objective = katib_models.V1beta1ObjectiveSpec(type="minimize", objective_metric_name="loss")  # Katib's SDK model
    assert experiment["spec"]["objective"] == {"type": "minimize", "objectiveMetricName": "loss"}
    assert experiment.spec.objective.objective_metric_name == "loss"
    algorithm = experiment.spec.algorithm
    experiment.spec.algorithm = algorithm
    algorithm.algorithm_name = "grid"  # the model set is the model kept, as Katib's setter keeps it
    assert experiment.to_dict()["spec"]["algorithm"]["algorithmName"] == "grid"
    experiment.spec.algorithm = {"algorithmName": "random", "algorithmSettings": [{"name": "random_state", "value": "3"}]}
    assert experiment.spec.algorithm.algorithm_settings[0].value == "3"
    experiment.spec.max_failed_trial_count = None
    assert "maxFailedTrialCount" not in experiment["spec"] and experiment.spec.max_failed_trial_count is None
    with pytest.raises(AttributeError, match="'V1beta1ExperimentSpec' object has no attribute 'max_trials'"):
        experiment.spec.max_trials = 2
    assert "max_trials" not in experiment.spec and "maxTrials" not in experiment.spec
    assert experiment.spec.objective.to_str() == pprint.pformat({"type": "minimize", "objectiveMetricName": "loss"})
    experiment.pop("status")
    experiment["metadata"].pop("uid")
    katib.create_experiment(experiment)
    created = katib.get_experiment("quad-copy")
    assert (created.spec.max_trial_count, created.status.trials_succeeded) == (1, 1)
    assert katib.get_experiment("quad").spec.max_trial_count == 3


def test_katib_trials_hold_what_katibs_controller_copies_from_the_experiment(store):
    """Katib's controller copies the objective, the metrics collector, the template's
    conditions and the rendered run spec into each Trial (experiment_controller_util.go); the
    trial's spec held its assignments and container name only, so
    ``trial.spec.objective.objective_metric_name`` was an AttributeError on None."""
    katib = KatibClient(store=str(store))
    experiment = katib.get_experiment("quad")
    trial = katib.list_trials("quad")[0]
    assert trial.spec.objective.objective_metric_name == "loss" and trial.spec.objective == experiment.spec.objective
    assert trial.spec.metrics_collector.collector.kind == "StdOut"
    assert trial.spec.primary_container_name == "main"
    assert (trial.spec.success_condition, trial.spec.failure_condition) == (experiment.spec.trial_template.success_condition,
                                                                             experiment.spec.trial_template.failure_condition)
    assignment = {a.name: a.value for a in trial.spec.parameter_assignments}
    (container,) = trial.spec.run_spec["spec"]["template"]["spec"]["containers"]
    assert container["args"] == [f"x={assignment['x']}", f"y={assignment['y']}"]
    assert (trial.spec.run_spec["kind"], trial.spec.run_spec["metadata"]["name"]) == ("Job", trial.metadata.name)
    assert katib.get_trial(trial.metadata.name).spec.run_spec == trial.spec.run_spec


def test_a_name_that_is_not_a_str_is_a_runtime_error_as_katibs_sdk_raises(store):
    """Katib's SDK sends ``get_experiment(None)`` to its API server and raises the refusal as a
    RuntimeError; it was kfp-tune Client's TypeError here."""
    katib = KatibClient(store=str(store))
    for call in (lambda: katib.get_experiment(None), lambda: katib.get_trial(None), lambda: katib.delete_experiment(None),
                 lambda: katib.edit_experiment_budget(None, max_trial_count=4), lambda: katib.get_optimal_hyperparameters(None)):
        with pytest.raises(RuntimeError, match=r"KatibClient\.\w+: name: expected a name \(str\), got None"):
            call()
    for call, words in ((lambda: katib.list_trials(123), r"list_trials: experiment_name: .* got 123"),  # bad names: TypeError was raised
                        (lambda: katib.get_success_trial_details(123), r"get_success_trial_details: experiment_name: .* got 123"),
                        (lambda: next(katib.get_job_logs(123, "quad-x")), r"get_job_logs: name: .* got 123"),
                        (lambda: next(katib.get_job_logs(["quad"], "quad-x")), r"get_job_logs: name: .* got \['quad'\]"),
                        (lambda: next(katib.get_job_logs("quad", 7)), r"get_job_logs: trial_name: .* got 7"),
                        (lambda: katib.tune(name=123, objective=print, parameters=PARAMETERS, objective_metric_name="loss"), r"tune: name: .* got 123")):
        with pytest.raises(RuntimeError, match=rf"^KatibClient\.{words}$"):
            call()


def test_katibs_tune_records_its_namespace_and_warns_at_the_call_run_again(tmp_path, monkeypatch):
    """Katib's tune() makes the Experiment in ``namespace`` (or the client's); without a host
    metadata.namespace was None here. A cell run again (same name) is not refused as Katib's
    create is (409): it reports the stored experiment with a warning at the user's line."""
    monkeypatch.delenv("KF_PIPELINES_ENDPOINT", raising=False)
    arguments = {"objective": _katib_objective, "parameters": {"a": search.int(min=10, max=20), "b": search.double(min=0.1, max=0.2)},
                 "objective_metric_name": "result", "max_trial_count": 1, "parallel_trial_count": 1}
    katib = KatibClient(namespace="team-b", store=str(tmp_path))
    katib.tune(name="given", namespace="team-a", **arguments)
    katib.tune(name="default", **arguments)
    assert [katib.get_experiment(n, namespace=ns).metadata.namespace for n, ns in (("given", "team-a"), ("default", None))] == ["team-a", "team-b"]
    assert katib.list_trials("given", namespace="team-a")[0].metadata.namespace == "team-a"
    with pytest.warns(UserWarning, match="pass another name=") as warned:
        katib.tune(name="given", namespace="team-a", **arguments)
    assert [w.filename for w in warned] == [__file__]


def test_katib_client_trial_metrics_carry_katibs_rfc3339_time_stamps(tmp_path):
    """get_trial_metrics' time_stamp is what Katib's DB manager gives: a TEXT line's leading RFC 3339
    time (Go's RFC3339Nano: trailing zeros of the fraction dropped), and Go's zero time for a line
    without one and for a MetricsUnavailable trial's 'unavailable' (Katib's collectors file them
    so); it was empty."""
    doc = quadratic_experiment(**{"metadata.name": "stamped", "spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1})
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["command"] = ["sh", "-c", "echo '2024-01-01T10:00:00.500Z loss=0.5'; echo 'loss=0.25'; echo '2024-01-01T10:00:01Z loss=0.125'"]
    container.pop("args", None)
    container["env"] = [{"name": "X", "value": "${trialParameters.x}"}, {"name": "Y", "value": "${trialParameters.y}"}]  # every parameter reaches the trial, as Katib requires; it does not read them
    _run_yaml(tmp_path, tmp_path / "store", doc)
    katib = KatibClient(store=str(tmp_path / "store"))
    [trial] = katib.list_trials("stamped")
    stamps = [(m.time_stamp, m.metric.value) for m in katib.get_trial_metrics(trial.metadata.name)]
    assert stamps == [("2024-01-01T10:00:00.5Z", "0.5"), ("0001-01-01T00:00:00Z", "0.25"), ("2024-01-01T10:00:01Z", "0.125")]
    assert "time_us" not in Client(str(tmp_path / "store")).get_trial_metrics(trial.metadata.name)[0]  # only when asked

    failing = quadratic_experiment(**{"metadata.name": "unstamped", "spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1})
    failing["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0].update(command=["sh", "-c", "echo acc=1"])
    failing["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0].pop("args", None)
    failing["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "X", "value": "${trialParameters.x}"}, {"name": "Y", "value": "${trialParameters.y}"}]  # every parameter reaches the trial, as Katib requires; it does not read them
    path = tmp_path / "unstamped.yaml"
    path.write_text(yaml.safe_dump(failing))
    main(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "store")])
    [trial] = katib.list_trials("unstamped")
    assert [(m.time_stamp, m.metric.value) for m in katib.get_trial_metrics(trial.metadata.name)] == [("0001-01-01T00:00:00Z", "unavailable")]


def test_a_mistyped_experiment_name_is_told_the_stores_closest_names_in_python_too(tmp_path):
    """A notebook user's QA pass: Client.list_trials("s3-epoch") raised ExperimentNotFound with
    no suggestion, where kfp-tune trials prints "did you mean: s3-epochs?" (one wording now)."""
    from kfp_tune import search, tune
    from kfp_tune.core.errors import ExperimentNotFound

    tune(lambda p: p["x"], {"x": search.double(0, 1)}, max_trial_count=1, store=str(tmp_path), name="s3-epochs")
    client = Client(str(tmp_path))
    for call in (client.list_trials, client.get_experiment, lambda name: client.edit_experiment_budget(name, max_trial_count=3),
                 lambda name: client.delete_experiment(name, confirm=True)):
        with pytest.raises(ExperimentNotFound, match=rf"^no experiment 's3-epoch' in {tmp_path.as_uri()}; did you mean: s3-epochs\?$"):
            call("s3-epoch")
