"""The compiled tuning loop's KFP Metrics artifact: decide-stop's ``metrics`` output, the best
trial so far as best-trial's ``metrics`` holds it, so the KFP UI's run comparison shows a run of
``kfp-tune compile`` / ``submit`` / ``schedule``. (kfp.local's executor output holds an artifact's
metadata, not its type: the type is checked on the component.)"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest
from kfp import dsl

from conftest import quadratic_experiment
from kfp_tune.components import decide_stop
from kfp_tune.core.loading import load_experiment
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher
from kfp_tune.reports import trial_rows
from kfp_tune.stores import LocalStore
from request_counts import count_local_store_requests


def decide_outputs(tmp_path: Path) -> dict[str, dsl.Artifact]:
    """decide-stop's artifacts as ``python_func`` takes them."""
    table = dsl.Markdown(name="trials_table", uri=str(tmp_path / "table.md"))
    report = dsl.HTML(name="report", uri=str(tmp_path / "report.html"))
    table.path, report.path = str(tmp_path / "table.md"), str(tmp_path / "report.html")
    return {"trials_table": table, "report": report}


def best_row(store: LocalStore) -> dict:
    return min((row for row in trial_rows(store, "quad") if "loss" in row["metrics"]), key=lambda row: row["metrics"]["loss"])


def test_decide_stop_writes_the_best_trial_s_metrics_at_a_checkpoint_and_as_the_exit_handler(tmp_path):
    """QA: a run of the compiled loop showed nothing in the KFP UI's run comparison: it had no
    best-trial task, and no task had a system.Metrics output. decide-stop's ``metrics`` is the
    best trial so far by the experiment's metric names (objective, then additionalMetricNames),
    each after its strategy, at every checkpoint and in the exit handler; called without it, the
    step is as before."""
    from kfp_tune.core.claims import claim
    from kfp_tune.core.records import ExperimentRecords

    store = LocalStore(tmp_path / "store")
    run_inline(store, load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 3})), LocalLauncher())
    best = best_row(store)
    expected = {"loss": best["metrics"]["loss"], "accuracy": best["metrics"]["accuracy"]}
    arguments = {"store_uri": store.uri, "experiment_name": "quad", "run_id": "run-1", "rounds_total": 2}

    claim(ExperimentRecords(store, "quad"), "run-1")
    checkpoint = dsl.Metrics(name="metrics", uri=str(tmp_path / "checkpoint"))
    assert decide_stop.python_func(**arguments, round_index=0, metrics=checkpoint, **decide_outputs(tmp_path)) is False
    assert checkpoint.metadata == expected

    final = dsl.Metrics(name="metrics", uri=str(tmp_path / "final"))
    assert decide_stop.python_func(**arguments, round_index=2, final=True, metrics=final, **decide_outputs(tmp_path)) is False
    assert final.metadata == expected
    assert decide_stop.component_spec.outputs["metrics"].type.startswith("system.Metrics")
    assert decide_stop.python_func(**arguments, round_index=2, final=True, **decide_outputs(tmp_path)) is False


def test_a_run_with_no_best_trial_gets_an_empty_metrics_artifact_not_a_failure(tmp_path):
    """Every trial failed, or the run never made its experiment (a name the store refuses, an
    empty store_uri): the exit handler ends as before, with an empty Metrics artifact, as
    best-trial's would fail there ("no trial with a value of its objective metric")."""
    doc = quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.maxFailedTrialCount": 2})
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"].append("mode=fail")
    store = LocalStore(tmp_path / "store")
    run_inline(store, load_experiment(doc), LocalLauncher())
    for store_uri, name in ((store.uri, "quad"), (store.uri, "Bad_Name"), (store.uri, "missing"), ("", "quad")):
        metrics = dsl.Metrics(name="metrics", uri=str(tmp_path / "metrics"))
        ended = decide_stop.python_func(
            store_uri=store_uri, experiment_name=name, run_id="run-1", round_index=1, rounds_total=1, final=True, metrics=metrics,
            **decide_outputs(tmp_path),
        )
        assert ended is False and metrics.metadata == {}, name


def three_trials(tmp_path: Path) -> LocalStore:
    """A finished 3-trial experiment ``quad`` whose run ``run-1`` holds the claim (as its checkpoint and exit handler find it)."""
    from kfp_tune.core.claims import claim
    from kfp_tune.core.records import ExperimentRecords

    store = LocalStore(tmp_path / "store")
    run_inline(store, load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 3})), LocalLauncher())
    claim(ExperimentRecords(store, "quad"), "run-1")
    return store


def damage_result(record: Path) -> None:
    record.write_text("{garbage")


def newer_result(record: Path) -> None:
    payload = json.loads(record.read_text())
    record.write_text(json.dumps({**payload, "version": 99}))


@pytest.mark.parametrize("damage", [damage_result, newer_result], ids=["damaged", "newer"])
def test_a_record_the_exit_handler_reads_around_leaves_the_metrics_empty_not_the_step_failed(tmp_path, caplog, damage):
    """Review: decide-stop's metrics read the experiment again, strictly, and failed the exit
    handler (DamagedRecord, NewerRecord: a record a newer kfp-tune wrote) where decide-stop
    itself reads around it and ends as before. The metrics come from what the decision read: the
    step returns what it returns without them, the artifact is empty, a warning names the record."""
    store = three_trials(tmp_path)
    record = sorted((tmp_path / "store").glob("experiments/quad/trials/*/result.json"))[0]
    damage(record)
    arguments = {"store_uri": store.uri, "experiment_name": "quad", "run_id": "run-1", "round_index": 1, "rounds_total": 1, "final": True}
    shutil.copytree(tmp_path / "store", tmp_path / "copy")
    without = decide_stop.python_func(**{**arguments, "store_uri": LocalStore(tmp_path / "copy").uri}, **decide_outputs(tmp_path))
    metrics = dsl.Metrics(name="metrics", uri=str(tmp_path / "metrics"))
    with caplog.at_level(logging.WARNING, logger="kfp_tune.decide"):
        ended = decide_stop.python_func(**arguments, metrics=metrics, **decide_outputs(tmp_path))
    assert ended is without is True and metrics.metadata == {}
    key = record.relative_to(tmp_path / "store").as_posix()
    assert any("metrics output is left empty" in r.getMessage() and key in r.getMessage() for r in caplog.records), caplog.text


@pytest.mark.parametrize("run_id", ["run-1", "run-2"], ids=["interrupted", "driven-by-another-run"])
def test_an_exit_handler_that_writes_no_status_still_gives_the_best_trial_s_metrics(tmp_path, run_id):
    """Review: a run its user interrupted, and one refused because another run drives the
    experiment, ended with an empty metrics artifact while best-trial had a best trial (before
    998db55 it showed it): those decisions now carry the best trial of the state they read. The
    status stays the one written before, as the exit handler leaves it there."""
    from kfp_tune.core import claims
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.steps.best_result import best_result

    store = three_trials(tmp_path)
    records = ExperimentRecords(store, "quad")
    if run_id == "run-1":
        claims.release(records, "run-1", claims.INTERRUPTED)
    status = next((tmp_path / "store").rglob("status.json"))
    before = status.read_bytes()
    metrics = dsl.Metrics(name="metrics", uri=str(tmp_path / "metrics"))
    ended = decide_stop.python_func(
        store_uri=store.uri, experiment_name="quad", run_id=run_id, round_index=1, rounds_total=1, final=True, metrics=metrics, **decide_outputs(tmp_path),
    )
    assert ended is True and metrics.metadata == best_result(records).metrics and metrics.metadata.keys() == {"loss", "accuracy"}
    assert status.read_bytes() == before


@pytest.mark.parametrize("final", [False, True], ids=["checkpoint", "exit-handler"])
def test_decide_stop_s_metrics_cost_no_store_request(tmp_path, monkeypatch, final):
    """Review: the metrics loaded the experiment a second time (58 requests for one exit handler
    on 3 trials, 41 without; every checkpoint too). They come from the state the decision was
    made from: one decide-stop with metrics makes the requests it makes without, on the same store."""
    three_trials(tmp_path)
    requests = count_local_store_requests(monkeypatch)
    counts = {}
    for label in ("without", "with"):
        shutil.copytree(tmp_path / "store", tmp_path / label / "store")
        outputs = decide_outputs(tmp_path / label)
        if label == "with":
            outputs["metrics"] = dsl.Metrics(name="metrics", uri=str(tmp_path / label / "metrics"))
        requests.clear()
        decide_stop.python_func(
            store_uri=LocalStore(tmp_path / label / "store").uri, experiment_name="quad", run_id="run-1", round_index=0, rounds_total=2, final=final, **outputs,
        )
        counts[label] = dict(requests)
    assert outputs["metrics"].metadata.keys() == {"loss", "accuracy"}
    assert counts["with"] == counts["without"]


@pytest.mark.kfp_local
def test_a_kfp_local_run_of_the_compiled_loop_leaves_the_best_trial_s_metrics_artifact(tmp_path):
    """The compiled pipeline under kfp.local: its exit handler's decide-stop (the task the run
    always ends with) and its checkpoint's each leave a system.Metrics artifact holding the best
    trial's metrics, as the store has them."""
    from kfp_tune.pipelines.local_run import run_pipeline_locally

    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 2}))
    run_pipeline_locally(experiment, str(tmp_path / "store"), {"kind": "local"}, 1, str(tmp_path / "root"))
    best = best_row(LocalStore(tmp_path / "store"))
    run_root = next((tmp_path / "root").iterdir())
    for task in ("decide-stop", "decide-stop-2"):  # the exit handler, then the one checkpoint
        artifacts = json.loads((run_root / task / "executor_output.json").read_text())["artifacts"]
        (metrics,) = artifacts["metrics"]["artifacts"]
        assert metrics["metadata"] == {"loss": best["metrics"]["loss"], "accuracy": best["metrics"]["accuracy"]}, task


def test_a_package_compiled_before_the_metrics_output_still_runs_the_new_component(tmp_path):
    """A compiled package of the previous version declares no ``metrics`` output, so KFP's
    executor hands the new function none: it runs as before (None, skipped), with the same
    outputs."""
    from kfp.dsl.executor import Executor

    store = LocalStore(tmp_path / "store")
    run_inline(store, load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 2})), LocalLauncher())
    task = tmp_path / "task"
    executor_input = {
        "inputs": {"parameterValues": {
            "store_uri": store.uri, "experiment_name": "quad", "run_id": "run-1", "round_index": 1, "rounds_total": 1, "final": True,
        }},
        "outputs": {
            "artifacts": {
                name: {"artifacts": [{"name": name, "type": {"schemaTitle": kind}, "uri": str(task / name)}]}
                for name, kind in (("trials_table", "system.Markdown"), ("report", "system.HTML"))
            },
            "parameters": {"Output": {"outputFile": str(task / "Output")}},
            "outputFile": str(task / "executor_output.json"),
        },
    }
    Executor(executor_input, decide_stop).execute()
    written = json.loads((task / "executor_output.json").read_text())
    assert written["parameterValues"] == {"Output": False} and sorted(written["artifacts"]) == ["report", "trials_table"]
    assert "| Succeeded |" in (task / "trials_table").read_text()
