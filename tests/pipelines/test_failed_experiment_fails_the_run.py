"""A pipeline run whose experiment ends Failed (maxFailedTrialCount reached: Katib's Failed
condition, reason ExperimentFailed) fails, as Katib marks the Experiment Failed: the KFP UI shows
it red, and a recurring run's alerts fire (QA newcomer, session 38, finding 1: it ended a SUCCESS
run under kfp.local, while ``kfp-tune run`` exited 1). It fails in a task after the checkpoints,
so decide-stop's trial table, report and metrics are published first; it writes nothing; a later
run that finds the experiment already Failed has nothing to do and stays green, but a tuning step
fails whenever its experiment is Failed, so no step after it uses its best trial."""

# No `from __future__ import annotations`: KFP reads the test components' annotations.
import re
from pathlib import Path

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import ExperimentView
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher
from kfp_tune.stores import LocalStore


def failing_experiment(**overrides) -> dict:
    """Every trial fails: two failures end the experiment Failed (maxFailedTrialCount 2)."""
    doc = quadratic_experiment(**{"spec.maxTrialCount": 4, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 2, **overrides})
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"].append("mode=fail")
    return doc


def store_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_step_fails_only_the_run_that_failed_the_experiment_and_writes_nothing(tmp_path):
    from kfp_tune.components.decide_stop import fail_if_experiment_failed as component
    from kfp_tune.steps.decide_stop import ExperimentFailed, experiment_failed_error
    from kfp_tune.steps.entrypoints import fail_if_experiment_failed

    store = LocalStore(tmp_path / "store")
    run_inline(store, load_experiment(failing_experiment()), LocalLauncher())
    records = ExperimentRecords(store, "quad")
    runs = {t.started.run for t in ExperimentView(records).state.trials if t.started is not None}
    assert len(runs) == 1
    run_id = runs.pop()
    before = store_files(tmp_path / "store")

    error = experiment_failed_error(records, run_id)
    assert isinstance(error, ExperimentFailed)
    assert str(error).startswith("experiment quad ended Failed in this run (ExperimentFailed: ")
    assert f"See its trials: kfp-tune trials quad --store {store.uri}" in str(error)
    assert experiment_failed_error(records, "a-later-run") is None  # found it already Failed: nothing to do, green
    already = experiment_failed_error(records, "a-later-run", failed_before_fails=True)  # a tuning step's
    assert already is not None and "had already ended Failed before this run" in str(already) and "hands no best trial on" in str(already)
    with pytest.raises(ExperimentFailed):
        fail_if_experiment_failed(store.uri, "quad", run_id)
    with pytest.raises(SystemExit, match=r"^kfp_tune\.steps\.decide_stop\.ExperimentFailed: experiment quad ended Failed in this run"):
        component.python_func(store_uri=store.uri, experiment_name="quad", run_id=run_id)
    component.python_func(store_uri=store.uri, experiment_name="quad", run_id="a-later-run")
    assert store_files(tmp_path / "store") == before  # nothing stored changes because of the failure

    succeeded = LocalStore(tmp_path / "succeeded")
    run_inline(succeeded, load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 2})), LocalLauncher())
    ran = {t.started.run for t in ExperimentView(ExperimentRecords(succeeded, "quad")).state.trials if t.started is not None}
    assert all(experiment_failed_error(ExperimentRecords(succeeded, "quad"), r, failed_before_fails=True) is None for r in ran)


def test_the_fail_task_follows_every_checkpoint_once_and_a_tuning_step_fails_on_an_earlier_failure_too(tmp_path):
    """One task after the checkpoints (a nested pipeline), not one a checkpoint: the compiled size
    stays within the budget at the largest checkpoint count."""
    from kfp_tune.pipelines import compile_pipeline
    from kfp_tune.pipelines.builder import MAX_CHECKPOINTS, PIPELINE_BUDGET_BYTES, build_pipeline
    from kfp_tune.pipelines.tuning_step import tuning_step

    def fail_tasks(ir: dict) -> list[dict]:
        dags = [ir["root"]["dag"], *(c["dag"] for c in ir["components"].values() if "dag" in c)]
        return [t for dag in dags for t in dag["tasks"].values() if t["componentRef"]["name"].startswith("comp-fail-if-experiment-failed")]

    path = compile_pipeline(quadratic_experiment(), tmp_path / "p.yaml", rounds=MAX_CHECKPOINTS, store_uri="s3://mlpipeline/kfp-tune")
    assert path.stat().st_size < PIPELINE_BUDGET_BYTES
    ir = next(yaml.safe_load_all(path.read_text()))
    (task,) = fail_tasks(ir)
    assert task["dependentTasks"] == ["checkpoints"]
    assert task["inputs"]["parameters"]["failed_before_fails"]["runtimeValue"]["constant"] is False

    from kfp import compiler

    compiler.Compiler().compile(tuning_step(quadratic_experiment(), rounds=2), str(tmp_path / "step.yaml"))
    (task,) = fail_tasks(next(yaml.safe_load_all((tmp_path / "step.yaml").read_text())))
    assert task["inputs"]["parameters"]["failed_before_fails"]["runtimeValue"]["constant"] is True
    assert build_pipeline(quadratic_experiment(), rounds=1) is not None


@pytest.mark.kfp_local
def test_a_compiled_pipeline_whose_experiment_failed_is_a_failed_run_with_its_reports(tmp_path, capfd):
    """The QA's reproduction under the real kfp.local runner (raise_on_error=True): the run
    fails in fail-if-experiment-failed, saying why and how to see the trials; decide-stop's trial
    table, report and metrics are there, and the exit handler ran; a second run of the same
    experiment has nothing to do and passes."""
    from kfp_tune.pipelines.local_run import run_pipeline_locally
    from kfp_tune.reports import summarize

    experiment = load_experiment(failing_experiment())
    store = tmp_path / "store"
    with pytest.raises(RuntimeError, match="FAILURE"):
        run_pipeline_locally(experiment, str(store), {"kind": "local"}, 2, str(tmp_path / "root"))
    output = re.sub(r"\x1b\[[0-9;]*m", "", capfd.readouterr().out)
    assert re.search(r"Task 'fail-if-experiment-failed' finished with status FAILURE", output), output[-3000:]
    assert "kfp_tune.steps.decide_stop.ExperimentFailed: experiment quad ended Failed in this run (ExperimentFailed: " in output
    assert f"kfp-tune trials quad --store {LocalStore(store).uri}" in output
    assert "Traceback" not in output.split("Executing task 'fail-if-experiment-failed'")[1].split("finished with status FAILURE")[0]
    assert summarize(LocalStore(store), "quad")["status"] == "Failed"
    run_root = next((tmp_path / "root").iterdir())
    decided = [p for p in run_root.rglob("trials_table")]
    assert len(decided) == 2, decided  # the checkpoint that ended it, and the exit handler
    assert all("| Failed |" in p.read_text() for p in decided)
    assert all((p.parent / "report").read_text().startswith("<!DOCTYPE html>") for p in decided)
    assert "Task 'decide-stop' finished with status SUCCESS" in output  # the exit handler, after the failure

    run_pipeline_locally(experiment, str(store), {"kind": "local"}, 2, str(tmp_path / "root-2"))  # nothing to do: green
    assert summarize(LocalStore(store), "quad")["trials"] == 2


@pytest.mark.kfp_local
def test_kfp_tune_run_under_kfp_local_exits_1_with_its_summary_not_a_step_failure(tmp_path, capsys):
    from kfp_tune.cli import main

    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump(failing_experiment()))
    assert main(["run", str(path), "--store", str(tmp_path / "store"), "--json"]) == 1
    captured = capsys.readouterr()
    assert "the kfp.local pipeline run failed" not in captured.err, captured.err
    summary = yaml.safe_load(captured.out.strip().splitlines()[-1])
    assert summary["status"] == "Failed" and summary["failed"] == 2


@pytest.mark.kfp_local
def test_a_tuning_step_whose_experiment_is_failed_fails_and_the_steps_after_it_do_not_run(tmp_path, capfd):
    """A tuning step hands its best trial on: its experiment Failed (here in an earlier run, so
    this call started no trial of it), the call fails, and the step after it does not run."""
    from kfp import dsl, local

    from kfp_tune.pipelines.local_run import step_inputs_kept_whole
    from kfp_tune.pipelines.tuning_step import tuning_step

    doc = failing_experiment()
    store = LocalStore(tmp_path / "store")
    run_inline(store, load_experiment(doc), LocalLauncher())
    step = tuning_step(doc, rounds=1, store_uri=str(tmp_path / "store"), launcher_config={"kind": "local"}, with_dataset=False)

    @dsl.component
    def train(parameters: dict) -> str:
        return str(parameters)

    @dsl.pipeline
    def mine() -> str:
        return train(parameters=step().outputs["best_parameters"]).output

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "root"), raise_on_error=True)
    with step_inputs_kept_whole(), pytest.raises(RuntimeError, match="fail-if-experiment-failed"):
        mine()
    output = re.sub(r"\x1b\[[0-9;]*m", "", capfd.readouterr().out)
    assert "ExperimentFailed: experiment quad had already ended Failed before this run" in output
    assert "Executing task 'train'" not in output and "Executing task 'best-trial'" not in output
