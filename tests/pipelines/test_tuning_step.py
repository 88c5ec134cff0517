"""The tuning step inside a pipeline of the user's own (examples/tuning_step): compiled, and run
end to end on the real kfp.local runner: preprocess -> tune -> train with the best parameters ->
evaluate. What the step hands on is checked against the store, read on its own here."""

# No `from __future__ import annotations`: KFP reads the annotations of the component defined here.

import importlib.util
import json
import pickle
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from kfp import compiler, dsl

from conftest import REPO, quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.pipelines import build_pipeline, component_trials, tuning_step
from kfp_tune.pipelines.builder import MAX_CHECKPOINTS, PIPELINE_BUDGET_BYTES
from kfp_tune.reports import trial_rows
from kfp_tune.stores import LocalStore

EXAMPLE = REPO / "examples" / "tuning_step"


def example() -> ModuleType:
    """examples/tuning_step/pipeline.py, imported from its file (it is no package)."""
    spec = importlib.util.spec_from_file_location("tuning_step_example", EXAMPLE / "pipeline.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def compiled(pipeline: Any, path: Path) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """(size in bytes, pipeline spec, platform spec) of the compiled pipeline."""
    from kfp import compiler

    compiler.Compiler().compile(pipeline, str(path))
    ir, platform = yaml.safe_load_all(path.read_text())
    return path.stat().st_size, ir, platform


def run_locally(pipeline: Any, root: Path, **arguments: Any) -> Any:
    from kfp import local

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root), raise_on_error=True)
    return pipeline(**arguments)


def test_the_example_compiles_well_under_the_budget_with_the_step_s_outputs(tmp_path):
    """The compiled example, for a cluster with the default 10 checkpoints: well under 1 MiB
    (at most a quarter of it), and under it at the most checkpoints a run may compile."""
    module = example()
    size, ir, platform = compiled(module.digits_pipeline("s3://mlpipeline/kfp-tune"), tmp_path / "example.yaml")
    assert size < PIPELINE_BUDGET_BYTES // 4, size
    largest, _, _ = compiled(module.digits_pipeline("s3://mlpipeline/kfp-tune", rounds=MAX_CHECKPOINTS), tmp_path / "largest.yaml")
    assert largest < PIPELINE_BUDGET_BYTES, largest

    step = ir["components"]["comp-kfp-tune-step-digits-svc"]
    outputs = step["outputDefinitions"]
    assert outputs["parameters"]["best_parameters"]["parameterType"] == "STRUCT"
    assert outputs["parameters"]["best_objective"]["parameterType"] == "NUMBER_DOUBLE"
    assert outputs["parameters"]["best_trial"]["parameterType"] == "STRING"
    assert outputs["artifacts"]["best_model"]["artifactType"]["schemaTitle"] == "system.Model"
    assert step["inputDefinitions"]["artifacts"]["dataset"]["isOptional"] is True
    tasks = step["dag"]["tasks"]
    for name in ("stage-inputs", "best-trial"):
        assert not tasks[name].get("cachingOptions", {}).get("enableCache", False), name
    assert sorted(tasks["best-trial"]["dependentTasks"]) == ["kfp-tune-digits-svc", "stage-inputs"]
    assert tasks["kfp-tune-digits-svc"]["dependentTasks"] == ["stage-inputs"]
    # stage-inputs names the call (its task id), and every later task of the call takes its run id
    assert tasks["stage-inputs"]["inputs"]["parameters"]["call_id"]["runtimeValue"]["constant"] == "{{$.pipeline_task_uuid}}"
    call_run = {"taskOutputParameter": {"outputParameterKey": "run_id", "producerTask": "stage-inputs"}}
    assert tasks["kfp-tune-digits-svc"]["inputs"]["parameters"]["run_id"] == call_run == tasks["best-trial"]["inputs"]["parameters"]["run_id"]
    # the step's own tasks read the store with its credentials, from the Secret, as the loop's do
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    for executor in ("exec-stage-inputs", "exec-best-trial"):
        keys = {item["secretKey"]: item["envVar"] for item in executors[executor]["secretAsEnv"][0]["keyToEnv"]}
        assert keys == {"accesskey": "AWS_ACCESS_KEY_ID", "secretkey": "AWS_SECRET_ACCESS_KEY"}


@pytest.mark.long
@pytest.mark.kfp_local
def test_preprocess_tune_train_evaluate_end_to_end(tmp_path):
    pytest.importorskip("sklearn")
    module = example()
    store = tmp_path / "store"
    run = module.run_here(str(store))  # as `python examples/tuning_step/pipeline.py run STORE` runs it

    # the experiment is stored as the file has it: kfp.local did not rewrite its "python3"
    stored = json.loads((store / "experiments" / "digits-svc" / "experiment.json").read_text())
    assert stored["spec"] == load_experiment(module.EXPERIMENT).to_dict()
    assert stored["spec"]["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["command"][0] == "python3"

    rows = trial_rows(LocalStore(store), "digits-svc")
    assert len(rows) == 4 and all(row["status"] == "Succeeded" for row in rows)  # every trial read the staged split
    best = max(rows, key=lambda row: row["metrics"]["accuracy"])
    assert run.outputs["best_trial"] == best["name"]
    assert run.outputs["best_objective"] == best["metrics"]["accuracy"]
    wanted = {name: float(value) for name, value in best["parameters"].items()}

    # the final model was fitted with exactly the best trial's parameters
    final = pickle.loads(Path(run.outputs["final_model"].path).read_bytes())
    assert {"C": final.C, "gamma": final.gamma} == wanted
    # the best model artifact is the model the best trial saved
    folder = Path(run.outputs["best_model"].path)
    assert [p.name for p in folder.iterdir()] == ["model.pkl"]
    saved = store / "artifacts" / "digits-svc" / "models" / best["name"] / "model.pkl"
    assert (folder / "model.pkl").read_bytes() == saved.read_bytes()
    trial_model = pickle.loads(saved.read_bytes())
    assert {"C": trial_model.C, "gamma": trial_model.gamma} == wanted
    # evaluated on the held-out part, which the trials never saw: a good SVC on digits
    assert 0.9 < run.outputs["test_accuracy"] <= 1.0


@pytest.mark.kfp_local
def test_without_a_dataset_and_with_a_fresh_experiment_per_run(tmp_path):
    """A step built for trials that need no dataset has no such input; with ``fresh_experiment``
    the step's own tasks find the run's experiment under the same derived name as the loop's."""
    from kfp import dsl

    doc = quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 2})
    step = tuning_step(doc, rounds=1, store_uri=str(tmp_path / "store"), launcher_config={"kind": "local"}, with_dataset=False)
    assert "dataset" not in step.component_spec.inputs and "store_uri" in step.component_spec.inputs

    @dsl.component
    def report(parameters: dict, objective: float) -> str:
        return f"{parameters['x']:.6f},{parameters['y']:.6f},{objective}"

    @dsl.pipeline
    def mine() -> str:
        tuned = step(fresh_experiment=True)
        return report(parameters=tuned.outputs["best_parameters"], objective=tuned.outputs["best_objective"]).output

    run = run_locally(mine, tmp_path / "root")
    experiments = [p.name for p in (tmp_path / "store" / "experiments").iterdir()]
    assert len(experiments) == 1 and experiments[0].startswith("quad-")
    rows = trial_rows(LocalStore(tmp_path / "store"), experiments[0])
    best = min(rows, key=lambda row: row["metrics"]["loss"])
    x, y, objective = run.output.split(",")
    assert (x, y) == (f"{float(best['parameters']['x']):.6f}", f"{float(best['parameters']['y']):.6f}")
    assert float(objective) == best["metrics"]["loss"]


@pytest.mark.kfp_local
def test_the_step_hands_on_the_best_trial_s_metrics_as_a_kfp_metrics_artifact(tmp_path):
    """QA: the KFP UI's run comparison showed nothing for a tuning run: neither best-trial nor
    the step had a system.Metrics output. The step's ``metrics`` output is best-trial's: the
    metrics of the best trial by the experiment's metric names (the objective and the
    additionalMetricNames; in name order, one never reported left out), read here from the
    store on its own."""
    from kfp.dsl import Metrics

    doc = quadratic_experiment(**{
        "spec.maxTrialCount": 2, "spec.parallelTrialCount": 2,
        "spec.objective": {"type": "minimize", "objectiveMetricName": "loss", "additionalMetricNames": ["accuracy"]},
    })
    step = tuning_step(doc, rounds=1, store_uri=str(tmp_path / "store"), launcher_config={"kind": "local"}, with_dataset=False)

    @dsl.pipeline
    def mine() -> Metrics:
        return step().outputs["metrics"]

    run = run_locally(mine, tmp_path / "root")
    rows = trial_rows(LocalStore(tmp_path / "store"), "quad")
    best = min(rows, key=lambda row: row["metrics"]["loss"])
    assert run.output.schema_title == "system.Metrics"
    assert run.output.metadata == {"loss": best["metrics"]["loss"], "accuracy": best["metrics"]["accuracy"]}


@pytest.mark.kfp_local
def test_a_condition_on_the_step_s_output_runs_under_kfp_local_with_an_else_as_the_guide_says(tmp_path):
    """QA: under kfp.local a lone dsl.If on a nested pipeline's output was skipped without a word
    (the run a success, the branch never run); the guide gives dsl.If with dsl.Else, checked here."""
    doc = quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 2})
    step = tuning_step(doc, rounds=1, store_uri=str(tmp_path / "store"), launcher_config={"kind": "local"}, with_dataset=False)

    @dsl.component
    def branch(name: str, objective: float) -> str:
        return f"{name} {objective}"

    @dsl.pipeline
    def mine(threshold: float = 100.0) -> str:
        tuned = step(experiment_name="quad")
        with dsl.If(tuned.outputs["best_objective"] < threshold):
            good = branch(name="good", objective=tuned.outputs["best_objective"])
        with dsl.Else():
            bad = branch(name="bad", objective=tuned.outputs["best_objective"])
        return dsl.OneOf(good.output, bad.output)

    run = run_locally(mine, tmp_path / "root")
    best = min(trial_rows(LocalStore(tmp_path / "store"), "quad"), key=lambda row: row["metrics"]["loss"])
    assert run.output == f"good {best['metrics']['loss']}"


def test_what_kfp_refuses_around_the_step_and_the_components_is_as_the_docs_say(tmp_path):
    """The guide and the components' READMEs: resource settings, kfp.kubernetes helpers and
    ignore_upstream_failure fail on a tuning step (a pipeline); decide-stop's exit handler cannot
    take stage-inputs' run_id output; a task cannot wait on a decide-stop inside a dsl.If."""
    from kfp import kubernetes

    from kfp_tune.components import best_trial, decide_stop, stage_inputs, suggest

    step = tuning_step(quadratic_experiment(), rounds=1, store_uri=str(tmp_path / "store"), with_dataset=False)
    with pytest.raises(Exception, match="single-step components"):

        @dsl.pipeline
        def limited() -> None:
            step().set_cpu_limit("2")

    with pytest.raises(Exception, match="Platform-specific features can only be set on primitive components"):

        @dsl.pipeline
        def with_a_secret() -> None:
            kubernetes.use_secret_as_env(step(), secret_name="store", secret_key_to_env={"accesskey": "AWS_ACCESS_KEY_ID"})

    with pytest.raises(KeyError, match="store_uri"):

        @dsl.pipeline
        def despite_a_failure() -> None:
            step().ignore_upstream_failure()

    handles = dict(store_uri=str(tmp_path / "store"), experiment_name="quad")
    with pytest.raises(Exception, match="exit_task cannot depend on any other tasks"):

        @dsl.pipeline
        def exit_on_the_call() -> None:
            staged = stage_inputs(**handles, run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER, call_id=dsl.PIPELINE_TASK_ID_PLACEHOLDER)
            final = decide_stop(**handles, run_id=staged.outputs["run_id"], round_index=1, rounds_total=1, final=True)
            with dsl.ExitHandler(final):
                suggest(**handles, run_id=staged.outputs["run_id"], round_index=0, rounds_total=1)

        compiler.Compiler().compile(exit_on_the_call, str(tmp_path / "exit.yaml"))
    with pytest.raises(Exception, match=r"upstream task decide-stop-2 within an uncommon dsl\.If context"):

        @dsl.pipeline
        def after_a_condition() -> None:
            first = decide_stop(**handles, run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER, round_index=0, rounds_total=2)
            with dsl.If(first.outputs["Output"] == True):  # noqa: E712 (a KFP condition)
                last = decide_stop(**handles, run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER, round_index=1, rounds_total=2)
            best_trial(**handles, run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER).after(last)

        compiler.Compiler().compile(after_a_condition, str(tmp_path / "after.yaml"))


def test_best_parameters_keep_no_number_type_across_kfp_as_the_docs_say(tmp_path):
    """Review of 1ca7dd9: the docs said an int 4 arrives downstream as 4.0, true of kfp.local
    only. On a cluster KFP's driver writes a task's executor input with Go's protojson, which
    writes a whole double with no ``.0`` (from KFP's source), and kfp's Python executor reads that
    JSON as it comes: an int 4 stays 4 and a double 1.0 arrives as 1. The docs now say the type is
    not kept and to convert each value."""
    from kfp.dsl.executor import Executor

    @dsl.component
    def downstream(parameters: dict) -> str:
        return ",".join(f"{name}={type(value).__name__}" for name, value in sorted(parameters.items()))

    written = tmp_path / "executor_output.json"
    as_a_cluster_writes_it = {  # {"C": 4, "gamma": 1.0} through protojson: 4.0 -> 4, 1.0 -> 1
        "inputs": {"parameterValues": {"parameters": json.loads('{"C": 4, "gamma": 1, "tol": 0.5}')}},
        "outputs": {"parameters": {"Output": {"outputFile": str(tmp_path / "Output")}}, "outputFile": str(written)},
    }
    Executor(as_a_cluster_writes_it, downstream.python_func).execute()
    assert json.loads(written.read_text())["parameterValues"]["Output"] == "C=int,gamma=int,tol=float"

    described = tuning_step(quadratic_experiment()).component_spec.outputs["best_parameters"].description
    assert "not kept" in described and "1.0 as 1" in described and "float(p['gamma'])" in described
    assert "1.0` as `1`" in (REPO / "components" / "best_trial" / "README.md").read_text()


def test_the_launcher_config_may_be_its_json_and_a_wrong_one_is_refused_when_built():
    """The run parameter and launch-trial's README write it as JSON: passed so, it raised
    AttributeError: 'str' object has no attribute 'get'; an unknown kind failed only in the run."""
    experiment = quadratic_experiment()
    as_json = tuning_step(experiment, launcher_config='{"kind": "local"}')
    assert as_json.component_spec.inputs["launcher_config"].default == '{"kind": "local"}'
    with pytest.raises(ValueError, match=r"launcher kind 'docker': expected 'local' or 'kubernetes'"):
        tuning_step(experiment, launcher_config={"kind": "docker"})
    with pytest.raises(ValueError, match=r"launcher_config: expected a dict or a JSON object"):
        tuning_step(experiment, launcher_config="{kind: local")


def test_a_store_uri_of_none_is_the_cluster_store_as_build_pipeline_takes_it():
    """QA step_store_none.py: ``tuning_step(exp, store_uri=None)`` compiled a store_uri input with
    no default, while build_pipeline (and component_trials) take None as the cluster's default
    store; now the step does too. A checkpoint_trials given stays the default as given."""
    experiment = quadratic_experiment()
    assert tuning_step(experiment, store_uri=None).component_spec.inputs["store_uri"].default == "s3://mlpipeline/kfp-tune"
    assert build_pipeline(experiment, store_uri=None).component_spec.inputs["store_uri"].default == "s3://mlpipeline/kfp-tune"
    inputs = tuning_step(experiment, checkpoint_trials=5).component_spec.inputs
    assert inputs["checkpoint_trials"].default == 5 != 2 * experiment["spec"]["parallelTrialCount"]


def test_an_empty_launcher_config_is_the_default_given_as_a_dict_or_as_its_json():
    """QA launcher_empty.py: ``launcher_config={}`` compiled the default ``{"kind": "kubernetes"}``
    but its JSON ``"{}"`` compiled ``{}``, which launch-trial reads as the local launcher (trials
    inside the slots' pod). An empty config is none given, as None and ``kfp-tune compile
    --launcher-config '{}'`` are: the default, in the step and in build_pipeline."""
    experiment = quadratic_experiment()
    for empty in (None, "", {}, "{}"):
        given = tuning_step(experiment, launcher_config=empty).component_spec.inputs["launcher_config"].default
        assert json.loads(given) == {"kind": "kubernetes"}, repr(empty)
        compiled_default = build_pipeline(experiment, launcher_config=empty).component_spec.inputs["launcher_config"].default
        assert json.loads(compiled_default) == {"kind": "kubernetes"}, repr(empty)


def test_the_launcher_config_is_taken_as_a_dict_where_the_step_is_called_too(tmp_path):
    """QA wiring.py: tune(dataset=..., launcher_config={"kind": "local"}) failed to compile,
    'Argument type STRUCT is incompatible with the input type STRING'. The input stays a string
    (its JSON, as the run parameter and pipelines compiled before have it); a dict or JSON given
    where the step is called is checked there and passed as its JSON; a pipeline parameter passes
    through."""
    from kfp import dsl

    step = tuning_step(quadratic_experiment(), store_uri=str(tmp_path / "store"), with_dataset=False)

    @dsl.pipeline
    def mine(launcher: str = '{"kind": "kubernetes"}') -> None:
        step(launcher_config={"kind": "local", "mounts": {}})
        step(launcher_config='{"kind": "local"}', fresh_experiment=True)
        step(launcher_config=launcher, fresh_experiment=True)

    _, ir, _ = compiled(mine, tmp_path / "mine.yaml")
    given = [task["inputs"]["parameters"]["launcher_config"] for task in ir["root"]["dag"]["tasks"].values()]
    assert sorted(json.dumps(value, sort_keys=True) for value in given) == sorted([
        json.dumps({"runtimeValue": {"constant": json.dumps({"kind": "local", "mounts": {}}, sort_keys=True)}}, sort_keys=True),
        json.dumps({"runtimeValue": {"constant": json.dumps({"kind": "local"})}}, sort_keys=True),
        json.dumps({"componentInputParameter": "launcher"}, sort_keys=True),
    ])

    with pytest.raises(ValueError, match=r"launcher kind 'docker': expected 'local' or 'kubernetes'"):

        @dsl.pipeline
        def wrong() -> None:
            step(launcher_config={"kind": "docker"})


def test_every_input_and_output_of_the_step_says_what_it_is():
    """QA: the KFP UI showed nothing beside store_uri, checkpoint_trials, best_parameters...; and
    only the objective flowed on, the additionalMetricNames lost. Every input and output now has
    a description, and best_metrics carries every metric of the best trial, as Katib's
    currentOptimalTrial does."""
    from kfp import dsl
    from kfp.dsl import Dataset, Input

    spec = tuning_step(quadratic_experiment()).component_spec
    assert set(spec.outputs) == {"best_parameters", "best_objective", "best_trial", "best_model", "best_metrics", "metrics"}
    assert spec.outputs["best_metrics"].type == "List" and spec.outputs["metrics"].type.startswith("system.Metrics")
    described = {name: item.description for name, item in {**spec.inputs, **spec.outputs}.items()}
    assert all(described.values()), [name for name, text in described.items() if not text]
    assert "currentOptimalTrial.observation.metrics" in described["best_metrics"]

    @dsl.component
    def fit(data: Input[Dataset], x: float, y: float, epochs: int = 3) -> float:
        return x + y + epochs

    doc = quadratic_experiment()
    del doc["spec"]["trialTemplate"]
    trials = component_trials(doc, fit).component_spec
    described = {name: item.description for name, item in {**trials.inputs, **trials.outputs}.items()}
    assert all(described.values()), [name for name, text in described.items() if not text]
    assert described["epochs"] == "Input 'epochs' of component 'fit', passed to every trial." and "best_metrics" in described


TARGET_TRIAL = """
import json, sys
from kfp_tune.steps.trial_artifacts import input_path

target = json.loads(input_path("dataset").read_text())["target"]
x = float(sys.argv[1])
print(f"target={target}")
print(f"loss={(x - target) ** 2}")
"""


def target_experiment(tmp_path: Path) -> dict[str, Any]:
    """x on a grid of -3, -1 and 1; a trial's loss is its distance to the dataset's target."""
    script = tmp_path / "target.py"
    script.write_text(TARGET_TRIAL)
    return quadratic_experiment(**{
        "metadata.name": "target",
        "spec.algorithm": {"algorithmName": "grid"},
        "spec.maxTrialCount": 3,
        "spec.parallelTrialCount": 3,
        "spec.objective": {"type": "minimize", "objectiveMetricName": "loss", "additionalMetricNames": ["target"]},
        "spec.parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "-3", "max": "1", "step": "2"}}],
        "spec.trialTemplate.trialParameters": [{"name": "x", "reference": "x"}],
        "spec.trialTemplate.trialSpec.spec.template.spec.containers": [
            {"name": "main", "image": "python:3.11-slim", "command": ["python3", str(script), "${trialParameters.x}"]},
        ],
    })


@pytest.mark.long
@pytest.mark.kfp_local
def test_two_calls_in_one_run_tune_their_own_data_or_the_second_is_refused(tmp_path):
    """QA pipe2.py: the same step on two datasets in one run; both calls reported the first
    one's best, all trials on the first target, the second's data over the first's. With
    fresh_experiment each call now tunes an experiment of its own on its own data; with one
    experiment_name the second call is refused before it stages anything."""
    from kfp import dsl, local
    from kfp.dsl import Dataset, Output

    from kfp_tune.pipelines import step_inputs_kept_whole

    store = tmp_path / "store"
    step = tuning_step(target_experiment(tmp_path), rounds=1, store_uri=str(store), launcher_config={"kind": "local"})

    @dsl.component
    def prepare(target: float, data: Output[Dataset]) -> None:
        import json

        with open(data.path, "w") as handle:
            json.dump({"target": target}, handle)

    @dsl.component
    def report(first: dict, second: dict, metrics: list) -> str:
        return f"{first['x']},{second['x']},{len(metrics)}"

    @dsl.pipeline
    def mine(fresh: bool) -> str:
        one, other = prepare(target=1.0), prepare(target=-3.0)
        a = step(dataset=one.outputs["data"], fresh_experiment=fresh)
        b = step(dataset=other.outputs["data"], fresh_experiment=fresh)
        return report(first=a.outputs["best_parameters"], second=b.outputs["best_parameters"], metrics=b.outputs["best_metrics"]).output

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "root"), raise_on_error=False)
    with step_inputs_kept_whole():
        run = mine(fresh=True)
    assert run.output == "1.0,-3.0,2"  # each call's best on its own data; the objective and the additional metric
    experiments = sorted(p.name for p in (store / "experiments").iterdir())
    assert len(experiments) == 2 and all(name.startswith("target-") for name in experiments)
    targets = {name: {row["metrics"]["target"] for row in trial_rows(LocalStore(store), name)} for name in experiments}
    assert sorted(targets.values(), key=sorted) == [{-3.0}, {1.0}]  # every trial of each read its own call's data

    with step_inputs_kept_whole():
        mine(fresh=False)  # fails: its second call is refused
    rows = trial_rows(LocalStore(store), "target")
    [target] = {row["metrics"]["target"] for row in rows}  # one call's (kfp.local picks which runs first), on its data
    assert len(rows) == 3 and target in (1.0, -3.0)
    staged = [json.loads(p.read_text()) for p in (store / "artifacts" / "target" / "inputs").glob("sha256-*/dataset/data")]
    assert staged == [{"target": target}]  # the other call's data never reached the store


@dsl.component(install_kfp_package=False)
def quad_component(x: float, y: float) -> float:
    """The quadratic experiment's trial as a component (only compiled here)."""
    return (x - 0.5) ** 2 + y


def _compiled_ir(pipeline: Any, path: Path) -> dict:
    compiler.Compiler().compile(pipeline, str(path))
    return next(yaml.safe_load_all(path.read_text()))


THREE_SLOTS = {"spec.parallelTrialCount": 3}
BUILDS = {
    "build-pipeline": lambda path: _compiled_ir(build_pipeline(quadratic_experiment(**THREE_SLOTS), rounds=3), path),
    "tuning-step": lambda path: _compiled_ir(tuning_step(quadratic_experiment(**THREE_SLOTS), rounds=3), path),
    "component-trials": lambda path: _compiled_ir(component_trials(quadratic_experiment(**THREE_SLOTS), quad_component), path),
}
"""How each kind of pipeline kfp-tune builds is compiled, for its IR."""
NESTED_TASK_NAMES = {"tuning-step": "tune quad", "component-trials": "tune quad (quad-component trials)"}
"""The display name of the task that runs the tuning loop inside a step (a pipeline of its own)."""


def _dag_tasks(ir: dict) -> list[dict]:
    """Every task of every DAG: the root's and each component's (conditions, loops, the nested pipelines)."""
    return [*ir["root"]["dag"]["tasks"].values(), *(t for c in ir["components"].values() for t in ((c.get("dag") or {}).get("tasks") or {}).values())]


@pytest.mark.parametrize("build", list(BUILDS))
def test_no_task_of_any_pipeline_kfp_tune_builds_is_cached(tmp_path, build):
    """Every step reads and writes the store, and a nested pipeline's task (a tuning step's
    loop) would be cached whole: KFP caches a task unless told not to, so each says caching off.
    A cached task would hand back an old run's outputs without tuning."""
    ir = BUILDS[build](tmp_path / "p.yaml")
    tasks = _dag_tasks(ir)
    assert len(tasks) >= 6
    assert [t["taskInfo"]["name"] for t in tasks if (t.get("cachingOptions") or {}).get("enableCache")] == []
    if build in NESTED_TASK_NAMES:
        (nested,) = [t for t in ir["root"]["dag"]["tasks"].values() if t["taskInfo"]["name"] == NESTED_TASK_NAMES[build]]
        assert nested["cachingOptions"] == {}  # set, to off


@pytest.mark.parametrize("build", list(BUILDS))
def test_a_run_by_default_waits_for_a_live_claim_and_continues_one_experiment(tmp_path, build):
    """The run parameters' defaults: take_over and fresh_experiment off (a live run's claim is
    respected; every run continues the experiment of its name), and a checkpoint after
    2 x parallelTrialCount trials or 600 seconds (component trials have no checkpoints)."""
    defaults = {name: given.get("defaultValue") for name, given in BUILDS[build](tmp_path / "p.yaml")["root"]["inputDefinitions"]["parameters"].items()}
    assert defaults["take_over"] is False and defaults["fresh_experiment"] is False
    if build != "component-trials":
        assert defaults["checkpoint_trials"] == 6 and defaults["checkpoint_seconds"] == 600.0
