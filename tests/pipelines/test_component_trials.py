"""Trials that are KFP components (kfp_tune.pipelines.component_trials): compiled (size at 1,000
trials, the user's component as the trial task with its resources kept), the claim and record
steps against a real store, and whole runs on the real kfp.local runner: best parameters, the
goal skipping the trials left, a run that resumes what a dead run left, and early stopping of a
component that takes its trial's place (``kfp_tune_trial``) and reports with TrialReporter."""

# No `from __future__ import annotations`: KFP reads the annotations of the components defined here.

import json
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NamedTuple, Optional

import pytest
import yaml
from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, Metrics, Output

from conftest import quadratic_experiment
from kfp_tune.core.errors import InputError
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import ExperimentView
from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.pipelines import component_trials
from kfp_tune.pipelines.builder import PIPELINE_BUDGET_BYTES, ObjectStore
from kfp_tune.pipelines.component_trials import with_component_template
from kfp_tune.reports import trial_rows
from kfp_tune.steps.entrypoints import claim_trial_step, record_trial_step, suggest_step
from kfp_tune.stores import LocalStore, open_store

CENTER = {"x": 0.5, "n": 2}
"""Where the loss is 0; the trials read it from the upstream dataset."""


@dsl.component
def bowl(
    center: Input[Dataset], x: float, n: int, kind: str, metrics: Output[Metrics], broken_x: float = -1.0
) -> NamedTuple("Outputs", [("loss", float)]):
    """A cheap deterministic trial: the loss is the squared distance to the dataset's center;
    ``kind`` only shifts it. Fails for ``x == broken_x`` (a trial that breaks)."""
    import json
    from collections import namedtuple

    if not isinstance(n, int) or not isinstance(x, float):
        raise TypeError(f"expected x: float and n: int, got {x!r} and {n!r}")
    if x == broken_x:
        raise RuntimeError("this trial breaks")
    with open(center.path) as handle:
        target = json.load(handle)
    loss = (x - target["x"]) ** 2 + (n - target["n"]) ** 2 + (0.5 if kind == "b" else 0.0)
    metrics.log_metric("accuracy", 1.0 / (1.0 + loss))
    return namedtuple("Outputs", ["loss"])(loss)


@dsl.component
def write_center(center: Output[Dataset], x: float, n: int) -> None:
    """The upstream task: the dataset every trial reads."""
    import json

    with open(center.path, "w") as handle:
        json.dump({"x": x, "n": n}, handle)


def grid_experiment(**overrides: Any) -> dict[str, Any]:
    """Six grid points: x in {0, 0.5, 1}, n in {1, 2}; kind fixed to "a". No trialTemplate."""
    doc = quadratic_experiment(**{"spec.maxTrialCount": 6, "spec.parallelTrialCount": 2, "spec.maxFailedTrialCount": 3, **overrides})
    doc["metadata"]["name"] = "bowl"
    doc["spec"]["algorithm"] = {"algorithmName": "grid"}
    doc["spec"]["parameters"] = [
        {"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1", "step": "0.5"}},
        {"name": "n", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "2"}},
        {"name": "kind", "parameterType": "categorical", "feasibleSpace": {"list": ["a"]}},
    ]
    del doc["spec"]["trialTemplate"]
    return doc


def tuned_pipeline(tuning: Any, goal: float | None = None) -> Any:
    @dsl.pipeline
    def mine(store_uri: str, broken_x: float = -1.0, take_over: bool = False) -> NamedTuple("Outputs", [("parameters", dict), ("objective", float)]):
        data = write_center(x=CENTER["x"], n=CENTER["n"])
        tuned = tuning(center=data.outputs["center"], store_uri=store_uri, broken_x=broken_x, take_over=take_over)
        outputs = NamedTuple("Outputs", [("parameters", dict), ("objective", float)])  # noqa: UP014
        return outputs(tuned.outputs["best_parameters"], tuned.outputs["best_objective"])

    return mine


def compiled(pipeline: Any, path: Path) -> tuple[int, dict[str, Any], dict[str, Any]]:
    compiler.Compiler().compile(pipeline, str(path))
    ir, platform = yaml.safe_load_all(path.read_text())
    return path.stat().st_size, ir, platform


def gpu_and_cpu(task: Any) -> None:
    task.set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(1).set_cpu_limit("2")


def test_a_thousand_trials_compile_under_the_budget_with_the_component_as_the_trial(tmp_path):
    pipeline = component_trials(grid_experiment(**{"spec.maxTrialCount": 1000, "spec.parallelTrialCount": 3}), bowl, configure_trial=gpu_and_cpu)
    size, ir, platform = compiled(pipeline, tmp_path / "trials.yaml")
    assert size < PIPELINE_BUDGET_BYTES // 8, size  # the loop body is compiled once, whatever the trial count

    components = ir["components"]
    loop = components["comp-kfp-tune-trials-bowl"]["dag"]["tasks"]
    exit_handler = components[loop["exit-handler-1"]["componentRef"]["name"]]["dag"]["tasks"]
    slots = next(task for task in exit_handler.values() if "parameterIterator" in task)
    assert json.loads(slots["parameterIterator"]["items"]["raw"]) == list(range(1000))
    assert slots["iteratorPolicy"]["parallelismLimit"] == 3
    assert slots["dependentTasks"] == ["suggest"]
    body = components[slots["componentRef"]["name"]]["dag"]["tasks"]
    assert set(body) == {"claim-trial", "kfp-tune-trial-bowl"}
    trial_dag = components[body["kfp-tune-trial-bowl"]["componentRef"]["name"]]["dag"]["tasks"]
    condition = next(iter(trial_dag.values()))
    assert condition["triggerPolicy"]["condition"] == "inputs.parameter_values['pipelinechannel--should_run'] == true"
    runs = components[condition["componentRef"]["name"]]["dag"]["tasks"]
    assert set(runs) == {"bowl", "record-trial"}
    # the trial is a task of the user's own component, its parameters from the claim, the dataset passed through
    assert runs["bowl"]["componentRef"]["name"] == "comp-bowl"
    assert set(components["comp-bowl"]["inputDefinitions"]["parameters"]) == {"x", "n", "kind", "broken_x"}
    assert runs["bowl"]["inputs"]["artifacts"]["center"] == {"componentInputArtifact": "pipelinechannel--center"}
    assert runs["record-trial"]["inputs"]["artifacts"]["metrics"]["taskOutputArtifact"] == {"outputArtifactKey": "metrics", "producerTask": "bowl"}
    assert runs["record-trial"]["inputs"]["parameters"]["value_0"]["taskOutputParameter"] == {"outputParameterKey": "loss", "producerTask": "bowl"}
    assert not runs["bowl"]["cachingOptions"].get("enableCache", False)
    # its resources as the user set them
    resources = ir["deploymentSpec"]["executors"]["exec-bowl"]["container"]["resources"]
    assert resources["accelerator"]["resourceType"] == "nvidia.com/gpu" and resources["accelerator"]["resourceCount"] == "1"
    assert resources["resourceCpuLimit"] == "2"
    # the store's steps get its credentials from the Secret; the user's component does not
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    for name in ("exec-begin-trials", "exec-claim-trial", "exec-record-trial", "exec-suggest", "exec-end-component-trials", "exec-best-trial"):
        keys = {item["secretKey"]: item["envVar"] for item in executors[name]["secretAsEnv"][0]["keyToEnv"]}
        assert keys == {"accesskey": "AWS_ACCESS_KEY_ID", "secretkey": "AWS_SECRET_ACCESS_KEY"}, name
    assert "exec-bowl" not in executors
    outputs = ir["root"]["outputDefinitions"]
    assert set(outputs["parameters"]) == {"best_parameters", "best_objective", "best_trial", "best_metrics"} and set(outputs["artifacts"]) == {"best_model", "metrics"}
    # the call's first task gets what every trial gets, and names the call for every later task
    root = ir["root"]["dag"]["tasks"]
    begin = root["begin-trials"]
    assert begin["inputs"]["artifacts"]["center"] == {"componentInputArtifact": "center"}
    assert set(begin["inputs"]["parameters"]) >= {"broken_x", "run_id", "call_id"}
    assert begin["inputs"]["parameters"]["call_id"]["runtimeValue"]["constant"] == dsl.PIPELINE_TASK_ID_PLACEHOLDER
    call_run = {"taskOutputParameter": {"outputParameterKey": "run_id", "producerTask": "begin-trials"}}
    assert root["kfp-tune-trials-bowl"]["inputs"]["parameters"]["run_id"] == call_run and root["best-trial"]["inputs"]["parameters"]["run_id"] == call_run


def test_the_component_must_fit_the_experiment():
    @dsl.component
    def no_y(x: float) -> float:
        return x

    @dsl.component
    def silent(x: float, y: float) -> str:
        return f"{x}{y}"

    doc = quadratic_experiment()
    with pytest.raises(InputError, match="has no input for parameter 'y'"):
        component_trials(doc, no_y)
    with pytest.raises(InputError, match="reports no objective 'loss'"):
        component_trials(doc, silent)
    with pytest.raises(InputError, match="maxTrialCount"):
        component_trials(quadratic_experiment(**{"spec.maxTrialCount": None}), no_y)
    with pytest.raises(InputError, match="expected a KFP component"):
        component_trials(doc, lambda x, y: x + y)


def test_an_experiment_file_is_read_as_kubectl_reads_it(tmp_path):
    """``goal: 1e-3`` unquoted is the number 0.001 to kubectl, so Katib runs the experiment; the
    file was read with PyYAML, whose text "1e-3" was refused (expected a number)."""
    path = tmp_path / "bowl.yaml"
    path.write_text(yaml.safe_dump(grid_experiment(**{"spec.objective.goal": "GOAL"})).replace("goal: GOAL\n", "goal: 1e-3\n"))
    _, ir, _ = compiled(component_trials(path, bowl), tmp_path / "p.yaml")
    assert '\\"goal\\":0.001' in json.dumps(ir)  # the experiment the pipeline carries


@dsl.component
def typed_inputs(lr: float, optimizer: float, layers: int, flag: bool, name: str) -> float:
    """A trial whose inputs take each type a parameter can be bound to."""
    return lr


def typed_experiment(*parameters: dict[str, Any]) -> dict[str, Any]:
    doc = quadratic_experiment()
    doc["metadata"]["name"] = "typed"
    doc["spec"]["parameters"] = list(parameters)
    del doc["spec"]["trialTemplate"]
    return doc


def _parameter(name: str, parameter_type: str, *values: str) -> dict[str, Any]:
    space = {"list": list(values)} if parameter_type in ("discrete", "categorical") else {"min": values[0], "max": values[1]}
    return {"name": name, "parameterType": parameter_type, "feasibleSpace": space}


def test_a_parameter_whose_values_its_input_cannot_take_is_refused_at_compile_time(tmp_path):
    """A categorical [sgd, adam] bound to a float input compiled, then claim-trial failed on the
    cluster with 'ValueError: could not convert string to float'; a double bound to an int input
    failed there naming neither (QA typed.py, typed_int.py). Every value a parameter can take is
    checked as claim-trial converts it; a value outside them is refused there naming both."""
    refused = [
        (
            _parameter("optimizer", "categorical", "sgd", "adam"),
            r"^parameter 'optimizer' \(categorical \['sgd', 'adam'\]\) is bound to input 'optimizer' of component 'typed-inputs', a float: "
            r"its value 'sgd' is not a number: expected a str input, or a float, int or bool input when every value of its list converts to it$",
        ),
        (
            _parameter("layers", "double", "1", "4"),
            r"^parameter 'layers' \(double from 1 to 4\) is bound to input 'layers' of component 'typed-inputs', an int: "
            r"expected a float or str input; an int input takes an int parameter$",
        ),
        (_parameter("flag", "int", "0", "1"), r"^parameter 'flag' \(int from 0 to 1\) is bound to input 'flag' .*, a bool: expected an int, float or str input$"),
        (
            _parameter("layers", "discrete", "1", "2.5"),
            r"^parameter 'layers' \(discrete \['1', '2.5'\]\) .*, an int: its value '2.5' is not a whole number: expected a str input",
        ),
        (
            _parameter("flag", "categorical", "true", "no"),
            r"^parameter 'flag' \(categorical \['true', 'no'\]\) .*, a bool: its value 'no' is not a boolean \(true, false, 1 or 0\)",
        ),
    ]
    for parameter, message in refused:
        with pytest.raises(InputError, match=message):
            component_trials(typed_experiment(parameter), typed_inputs)

    fitting = typed_experiment(
        _parameter("lr", "int", "1", "3"),  # an int to a float input
        _parameter("optimizer", "categorical", "0.1", "1"),  # a list whose every value converts
        _parameter("layers", "discrete", "1", "2.0"),
        _parameter("flag", "categorical", "true", "False", "0"),
        _parameter("name", "double", "0", "1"),  # any parameter to a str input
    )
    component_trials(fitting, typed_inputs)
    _started_run(tmp_path, fitting, "run-1")
    inputs = {"lr": ("lr", "float"), "optimizer": ("optimizer", "float"), "layers": ("layers", "int"), "flag": ("flag", "bool"), "name": ("name", "str")}
    should_run, _, lr, optimizer, layers, flag, name = claim_trial_step(str(tmp_path), "typed", "run-1", inputs)
    assert should_run is True and (type(lr), type(optimizer), type(layers), type(flag), type(name)) == (float, float, int, bool, str)

    # the run-time conversion, for a value outside what was checked, names the parameter and the input
    _started_run(tmp_path / "unchecked", grid_experiment(), "run-1")
    with pytest.raises(InputError, match=r"^parameter 'kind': its value 'a' is not a number, and it is bound to the component's input 'kind_input' of type float$"):
        claim_trial_step(str(tmp_path / "unchecked"), "bowl", "run-1", {**INPUTS, "kind": ("kind_input", "float")})


@dsl.component(install_kfp_package=False)
def one_input(a_b: float) -> float:
    """A trial with one input, which both ``a-b`` and ``a_b`` are named as."""
    return a_b


def test_two_parameters_bound_to_one_input_are_refused_naming_both():
    """Parameters ``a-b`` and ``a_b`` (two names to Katib, which takes both) both bind to input
    ``a_b``: building the pipeline crashed with a bare ``ValueError: Encountered duplicate field
    name: 'a_b'``. An InputError now names both parameters, the input and the component."""
    doc = grid_experiment()
    doc["spec"]["parameters"] = [
        {"name": "a-b", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1", "step": "0.5"}},
        {"name": "a_b", "parameterType": "double", "feasibleSpace": {"min": "5", "max": "6", "step": "0.5"}},
    ]
    with pytest.raises(InputError, match=r"^parameters 'a-b' and 'a_b' both bind to input 'a_b' of component 'one-input': expected one parameter per input"):
        component_trials(doc, one_input)


def _started_run(store: Path, doc: dict[str, Any], run_id: str) -> ExperimentRecords:
    """The experiment created and claimed by ``run_id``, as the pipeline's first step does."""
    spec = json.dumps(with_component_template(json.loads(json.dumps(doc)), "bowl"))
    suggest_step(str(store), doc["metadata"]["name"], run_id, 0, 1, spec, trial_count=0)
    return ExperimentRecords(open_store(str(store)), doc["metadata"]["name"])


INPUTS = {"x": ("x", "float"), "n": ("n", "int"), "kind": ("kind", "str")}


def test_claims_are_typed_for_the_component_and_stop_at_the_budget(tmp_path):
    doc = grid_experiment(**{"spec.maxTrialCount": 3})
    _started_run(tmp_path, doc, "run-1")
    seen = []
    for _ in range(3):
        should_run, name, x, n, kind = claim_trial_step(str(tmp_path), "bowl", "run-1", INPUTS)
        assert should_run is True and type(x) is float and type(n) is int and kind == "a"
        seen.append((x, n))
        record_trial_step(str(tmp_path), "bowl", "run-1", name, {"loss": (x - 0.5) ** 2 + (n - 2) ** 2})
    assert len(set(seen)) == 3  # three different grid points
    assert claim_trial_step(str(tmp_path), "bowl", "run-1", INPUTS) == [False, "", 0.0, 0, ""]
    rows = trial_rows(LocalStore(tmp_path), "bowl")
    assert sorted(row["metrics"]["loss"] for row in rows) == sorted((x - 0.5) ** 2 + (n - 2) ** 2 for x, n in seen)


def test_a_later_run_whose_trials_would_get_other_inputs_is_refused_before_it_runs_one(tmp_path):
    """begin-trials, the call's first task: the component's artifacts (by their files) and
    settings are what the experiment's trials were measured on, or the run is refused; the same
    ones resume. (QA pipe5.py: two calls on one experiment handed on the first one's best.)"""
    from kfp_tune.core.errors import ExperimentConflict
    from kfp_tune.steps.entrypoints import begin_component_trials_step

    center = tmp_path / "center"
    center.write_text(json.dumps(CENTER))
    doc = grid_experiment()
    begin_component_trials_step(str(tmp_path), "bowl", "job-1.call-1", {"center": (str(center), "minio://a/center")}, {"broken_x": -1.0})
    _started_run(tmp_path, doc, "job-1.call-1")  # suggest binds them, under the run's claim
    should_run, name, *_ = claim_trial_step(str(tmp_path), "bowl", "job-1.call-1", INPUTS)
    record_trial_step(str(tmp_path), "bowl", "job-1.call-1", name, {"loss": 1.0})
    with pytest.raises(ExperimentConflict, match=r"its 1 trial\(s\) read 'broken_x' sha256-\w+, 'center' sha256-\w+ \(from minio://a/center\), and this run brings 'broken_x' sha256-"):
        begin_component_trials_step(str(tmp_path), "bowl", "job-2.call-2", {"center": (str(center), "minio://b/center")}, {"broken_x": 0.5})
    moved = tmp_path / "moved" / "center"
    moved.parent.mkdir()
    moved.write_text(json.dumps({"x": 0.0, "n": 1}))
    with pytest.raises(ExperimentConflict, match="was tuned on other inputs"):
        begin_component_trials_step(str(tmp_path), "bowl", "job-3.call-3", {"center": (str(moved), "")}, {"broken_x": -1.0})
    moved.write_text(json.dumps(CENTER))
    begin_component_trials_step(str(tmp_path), "bowl", "job-4.call-4", {"center": (str(moved), "minio://d/center")}, {"broken_x": -1.0})
    with pytest.raises(ExperimentConflict, match=r"already tuned by another call in this pipeline run \('job-4', call '4'; this is call '5'\)"):
        begin_component_trials_step(str(tmp_path), "bowl", "job-4.call-5", {"center": (str(moved), "")}, {"broken_x": -1.0})
    assert should_run is True and list((tmp_path / "artifacts" / "bowl" / "inputs").glob("sha256-*")) == []  # compared, not staged: KFP hands them on


@dsl.component(install_kfp_package=False)
def named_like_locals(
    center: Input[Dataset], x: float, n: int, kind: str, run: str, artifacts: str, kfp_tune: str, namedtuple: str,
    call_run_id: str, begin_component_trials_step: str, values: int = 0, unset: Optional[str] = None,  # noqa: UP045 (KFP reads this form)
) -> float:
    """A trial whose other inputs are named as the generated begin-trials' own locals were."""
    return x


def test_begin_trials_passes_on_every_input_as_given_whatever_its_name(monkeypatch):
    """An input named ``run`` (or artifacts, kfp_tune, ...) every trial gets was recorded by the
    generated begin-trials as the call's run id (it assigned ``run = call_run_id(...)`` and then
    read ``run``), so each later run seemed to get other inputs and its resume was refused
    (ExperimentConflict). Each input is now passed on as given: the artifacts as (path, URI), the
    others by value, an input left None not at all; the call's run id is still the call's."""
    import kfp_tune as package
    from kfp_tune.core.claims import call_run_id as run_of_call
    from kfp_tune.pipelines.component_trials import _begin_component

    component_trials(grid_experiment(), named_like_locals)  # built, no input refused
    bound = {"x", "n", "kind"}
    passthrough = {name: spec for name, spec in named_like_locals.component_spec.inputs.items() if name not in bound}
    begin = _begin_component(passthrough)
    seen: list[tuple[Any, ...]] = []
    monkeypatch.setattr("kfp_tune.steps.entrypoints.begin_component_trials_step", lambda *given: seen.append(given))
    monkeypatch.setattr(package, "check_compiled_version", lambda: None)
    given = {
        "run": "my-mlflow-run", "artifacts": "a", "kfp_tune": "k", "namedtuple": "t", "call_run_id": "c", "begin_component_trials_step": "b", "values": 7,
    }
    dataset = SimpleNamespace(path="/tmp/center", uri="s3://bucket/center")
    outputs = begin.python_func(
        store_uri="s3://bucket/runs", experiment_name="bowl", run_id="RUN-1", call_id="TASK-9", center=dataset, unset=None, **given,
    )
    assert seen == [("s3://bucket/runs", "bowl", run_of_call("RUN-1", "TASK-9"), {"center": ("/tmp/center", "s3://bucket/center")}, given, "", False)]
    assert outputs.run_id == run_of_call("RUN-1", "TASK-9")


def test_two_claims_never_get_the_same_trial_and_a_record_is_kept_once(tmp_path):
    doc = grid_experiment()
    records = _started_run(tmp_path, doc, "run-1")
    first = claim_trial_step(str(tmp_path), "bowl", "run-1", INPUTS)
    second = claim_trial_step(str(tmp_path), "bowl", "run-1", INPUTS)
    assert first[1] != second[1] and first[2:] != second[2:]
    assert record_trial_step(str(tmp_path), "bowl", "run-1", first[1], {"loss": 0.25}) == "Succeeded"
    assert record_trial_step(str(tmp_path), "bowl", "run-1", first[1], {"loss": 9.0}) == "Succeeded"  # a retry
    assert record_trial_step(str(tmp_path), "bowl", "run-1", second[1], {"accuracy": 0.5}) == "MetricsUnavailable"
    rows = {row["name"]: row for row in trial_rows(LocalStore(tmp_path), "bowl")}
    assert rows[first[1]]["metrics"]["loss"] == 0.25
    assert records.experiment == "bowl"


def test_a_record_without_a_model_path_keeps_no_model_and_not_the_working_directory(tmp_path, monkeypatch):
    """record-trial with no Model output passes ``model_path=""``: nothing is kept. Path("") is
    the working directory, which exists: a check of the path alone would upload the step's
    whole working directory as the trial's model."""
    from kfp_tune.steps.trial_artifacts import model_files

    work = tmp_path / "work"
    work.mkdir()
    (work / "unrelated.txt").write_text("the step's working directory, not a model")
    monkeypatch.chdir(work)
    store = tmp_path / "store"
    records = _started_run(store, grid_experiment(), "run-1")
    without = claim_trial_step(str(store), "bowl", "run-1", INPUTS)[1]
    assert record_trial_step(str(store), "bowl", "run-1", without, {"loss": 1.0}, model_path="") == "Succeeded"
    assert model_files(records, without) is None
    model = tmp_path / "model.bin"
    model.write_bytes(b"weights")
    kept = claim_trial_step(str(store), "bowl", "run-1", INPUTS)[1]
    assert record_trial_step(str(store), "bowl", "run-1", kept, {"loss": 2.0}, model_path=str(model)) == "Succeeded"
    assert model_files(records, kept) == ["model.bin"]


INJECTED = '"""; raise RuntimeError("injected"); """'
"""Text that, spliced into a generated docstring as it stood, closed it and ran as code."""


def test_names_from_the_experiment_stay_text_in_the_generated_components(tmp_path, monkeypatch):
    """Metric and parameter names are the experiment's own text: each is quoted in the generated
    components' docstrings, never run. (QA: an objectiveMetricName closing record-trial's
    docstring ran as code in its pod, which holds the store Secret.)"""
    from kfp_tune.pipelines.component_trials import _claim_component
    from kfp_tune.steps import entrypoints

    @dsl.component
    def plain(x: float, n: int, kind: str) -> float:
        return x

    metric = "loss" + INJECTED
    doc = grid_experiment(**{"spec.objective.objectiveMetricName": metric})
    _, ir, _ = compiled(component_trials(doc, plain), tmp_path / "p.yaml")
    source = next(
        part for executor in ir["deploymentSpec"]["executors"].values() for part in executor.get("container", {}).get("command", []) if "def record_trial" in part
    )
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # as the record-trial pod runs it
    recorded: list[dict[str, float]] = []
    monkeypatch.setattr(entrypoints, "record_trial_step", lambda store, name, run, trial, values, *rest: recorded.append(values) or "Succeeded")
    assert namespace["record_trial"](str(tmp_path), "bowl", "run-1", "bowl-1", 0.25) == "Succeeded"
    assert recorded == [{metric: 0.25}] and f"Metric {metric!r}, as the trial returned it" in namespace["record_trial"].__doc__

    parameter = "x" + INJECTED
    claim = _claim_component({parameter: ("x", "float")}, with_place=False).python_func
    monkeypatch.setattr(entrypoints, "claim_trial_step", lambda *args, **kwargs: [True, "bowl-1", 0.5])
    assert tuple(claim(str(tmp_path), "bowl", "run-1", 0)) == (True, "bowl-1", 0.5)
    assert f"Parameter {parameter!r} of the trial" in claim.__doc__


def run_locally(pipeline: Any, root: Path, **arguments: Any) -> Any:
    from kfp import local

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root), raise_on_error=True)
    return pipeline(**arguments)


def trial_tasks(root: Path) -> list[dict[str, Any]]:
    """What each task of the user's component in a kfp.local run returned."""
    return [json.loads(path.read_text()) for path in sorted(root.glob("*/for-loop-*-iteration-*/bowl/executor_output.json"))]


def expected_loss(parameters: dict[str, str]) -> float:
    return (float(parameters["x"]) - CENTER["x"]) ** 2 + (int(parameters["n"]) - CENTER["n"]) ** 2


@pytest.mark.kfp_local
def test_every_trial_is_a_task_of_the_component_and_the_best_is_found(tmp_path):
    store = tmp_path / "store"
    run = run_locally(tuned_pipeline(component_trials(grid_experiment(), bowl)), tmp_path / "root", store_uri=str(store))

    rows = trial_rows(LocalStore(store), "bowl")
    assert len(rows) == 6 and all(row["status"] == "Succeeded" for row in rows)
    for row in rows:  # each trial computed with its own values, typed (the component checks the types)
        assert row["metrics"]["loss"] == pytest.approx(expected_loss(row["parameters"]))
        assert row["metrics"]["accuracy"] == pytest.approx(1 / (1 + row["metrics"]["loss"]))
    tasks = trial_tasks(tmp_path / "root")
    assert sorted(task["parameterValues"]["loss"] for task in tasks) == pytest.approx(sorted(row["metrics"]["loss"] for row in rows))
    assert run.outputs["parameters"] == {"x": CENTER["x"], "n": CENTER["n"], "kind": "a"}
    assert run.outputs["objective"] == 0.0


@pytest.mark.kfp_local
def test_the_goal_skips_the_trials_left_and_the_run_succeeds(tmp_path):
    store = tmp_path / "store"
    doc = grid_experiment()
    doc["spec"]["objective"]["goal"] = 100.0  # every trial reaches it
    run_locally(tuned_pipeline(component_trials(doc, bowl)), tmp_path / "root", store_uri=str(store))

    rows = trial_rows(LocalStore(store), "bowl")
    assert 1 <= len(rows) <= 2  # only the trials claimed before the first result was recorded
    assert len(trial_tasks(tmp_path / "root")) == len(rows)
    assert len(list((tmp_path / "root").glob("*/for-loop-*-iteration-*/claim-trial"))) == 6  # every slot asked; the rest were skipped
    status = json.loads((store / "experiments" / "bowl" / "status.json").read_text())["status"]
    assert status["conditions"][-1]["reason"] == "ExperimentGoalReached"


@pytest.mark.kfp_local
def test_a_second_run_resumes_what_a_dead_run_left(tmp_path):
    """A run died after recording one trial and starting another: the next run (taking over)
    closes the unreported one Failed, never re-runs the recorded one, and spends the rest of
    the budget in tasks of the component."""
    store = tmp_path / "store"
    doc = grid_experiment()
    _started_run(store, doc, "dead-run")
    done = claim_trial_step(str(store), "bowl", "dead-run", INPUTS)
    record_trial_step(str(store), "bowl", "dead-run", done[1], {"loss": (done[2] - 0.5) ** 2 + (done[3] - 2) ** 2})
    lost = claim_trial_step(str(store), "bowl", "dead-run", INPUTS)
    recorded_before = (store / "experiments" / "bowl" / "trials" / done[1] / "result.json").read_bytes()

    run_locally(tuned_pipeline(component_trials(doc, bowl)), tmp_path / "root", store_uri=str(store), take_over=True)

    rows = {row["name"]: row for row in trial_rows(LocalStore(store), "bowl")}
    assert len(rows) == 6
    assert rows[lost[1]]["status"] == "Failed" and rows[lost[1]]["reason"] == "ComponentTrialUnreported"
    assert (store / "experiments" / "bowl" / "trials" / done[1] / "result.json").read_bytes() == recorded_before
    assert len(trial_tasks(tmp_path / "root")) == 4  # the budget left: 6 less the two the dead run used
    assert sum(row["status"] == "Succeeded" for row in rows.values()) == 5


@pytest.mark.kfp_local
def test_a_failing_trial_fails_the_run_and_is_closed_failed(tmp_path):
    """The component raises for one grid point: KFP fails the run, and the exit handler records
    that trial Failed and gives the claim back (a new run needs no take-over)."""
    store = tmp_path / "store"
    pipeline = tuned_pipeline(component_trials(grid_experiment(), bowl))
    with pytest.raises(RuntimeError, match="FAILURE"):
        run_locally(pipeline, tmp_path / "root", store_uri=str(store), broken_x=1.0)
    rows = trial_rows(LocalStore(store), "bowl")
    broken = [row for row in rows if float(row["parameters"]["x"]) == 1.0]
    assert broken and all(row["status"] == "Failed" and row["reason"] == "ComponentTrialUnreported" for row in broken)
    runs = sorted((store / "experiments" / "bowl" / "runs").glob("*.end.json"))
    assert len(runs) == 1  # the claim was given back


# --- early stopping: a component that takes kfp_tune_trial -------------------------------------

START_STEP = 2
"""The medianstop setting of the curve experiment: judged on this many reports."""
EPOCHS = 6


@dsl.component(install_kfp_package=False)
def curve_trial(quality: str, kfp_tune_trial: str, epochs: int = 1, places: str = "", bad_places: str = "") -> float:
    """A trial that learns epoch by epoch, reporting each epoch's loss to kfp-tune and ending
    when its early stopping says so. A ``bad-`` quality starts ten times higher: a clearly
    worse curve. With ``places`` (a folder), the trial claims its place in the run there (1
    for the first to start) and is bad when that place is in ``bad_places`` (comma separated),
    whichever point the grid gave it."""
    import os

    from kfp_tune import TrialReporter

    if places:
        os.makedirs(places, exist_ok=True)
        place = 1
        while True:
            try:
                os.close(os.open(os.path.join(places, str(place)), os.O_CREAT | os.O_EXCL))
                break
            except FileExistsError:
                place += 1
        quality = "bad" if str(place) in bad_places.split(",") else "good"
    reporter = TrialReporter(kfp_tune_trial)
    loss = 0.0
    for epoch in range(epochs):
        loss = (10.0 if quality.startswith("bad") else 1.0) * 0.8**epoch
        reporter.report({"loss": loss}, step=epoch)
        if reporter.should_stop():
            break
    return loss


def curves_experiment(parallel: int = 2) -> dict[str, Any]:
    """Six grid points, ``parallel`` at a time; medianstop needs two completed trials and judges
    after START_STEP reports."""
    doc = quadratic_experiment(**{"spec.maxTrialCount": 6, "spec.parallelTrialCount": parallel, "spec.maxFailedTrialCount": 3})
    doc["metadata"]["name"] = "curves"
    doc["spec"]["algorithm"] = {"algorithmName": "grid"}
    qualities = ["good-1", "good-2", "good-3", "bad-1", "bad-2", "good-4"]
    doc["spec"]["parameters"] = [{"name": "quality", "parameterType": "categorical", "feasibleSpace": {"list": qualities}}]
    doc["spec"]["earlyStopping"] = {
        "algorithmName": "medianstop",
        "algorithmSettings": [{"name": "min_trials_required", "value": "2"}, {"name": "start_step", "value": str(START_STEP)}],
    }
    del doc["spec"]["trialTemplate"]
    return doc


def loop_tasks(ir: dict[str, Any], name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The tasks of one loop iteration (claim-trial, the trial sub-pipeline) and of the trial
    when it runs (the component, record-trial)."""
    components = ir["components"]
    loop = components[f"comp-kfp-tune-trials-{name}"]["dag"]["tasks"]
    exit_handler = components[loop["exit-handler-1"]["componentRef"]["name"]]["dag"]["tasks"]
    slots = next(task for task in exit_handler.values() if "parameterIterator" in task)
    body = components[slots["componentRef"]["name"]]["dag"]["tasks"]
    trial_dag = components[body[f"kfp-tune-trial-{name}"]["componentRef"]["name"]]["dag"]["tasks"]
    condition = next(iter(trial_dag.values()))
    return body, components[condition["componentRef"]["name"]]["dag"]["tasks"]


def secret_envs(path: Path) -> dict[str, Any]:
    """Executor name -> its secretAsEnv, from the compiled platform spec (none without one)."""
    documents = list(yaml.safe_load_all(path.read_text()))
    executors = documents[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"] if len(documents) > 1 else {}
    return {name: spec["secretAsEnv"] for name, spec in executors.items() if "secretAsEnv" in spec}


def test_a_component_that_takes_kfp_tune_trial_gets_its_place_and_the_store_secret_and_others_do_not(tmp_path):
    store = ObjectStore(endpoint="http://s3.test:9000", secret="tuning-store", secret_keys=(("id", "AWS_ACCESS_KEY_ID"), ("key", "AWS_SECRET_ACCESS_KEY")))
    _, ir, _ = compiled(component_trials(curves_experiment(), curve_trial, object_store=store), tmp_path / "curves.yaml")

    body, runs = loop_tasks(ir, "curves")
    assert body["kfp-tune-trial-curves"]["inputs"]["parameters"]["kfp_tune_trial"] == {
        "taskOutputParameter": {"outputParameterKey": "kfp_tune_trial", "producerTask": "claim-trial"}
    }
    assert runs["curve-trial"]["inputs"]["parameters"]["kfp_tune_trial"] == {"componentInputParameter": "pipelinechannel--kfp_tune_trial"}
    assert "with_place=True" in ir["deploymentSpec"]["executors"]["exec-claim-trial"]["container"]["command"][-1]
    secrets = secret_envs(tmp_path / "curves.yaml")
    (trial_secret,) = secrets["exec-curve-trial"]
    assert {item["secretKey"]: item["envVar"] for item in trial_secret["keyToEnv"]} == {"id": "AWS_ACCESS_KEY_ID", "key": "AWS_SECRET_ACCESS_KEY"}
    assert trial_secret["secretNameParameter"] == {"componentInputParameter": "pipelinechannel--store_secret"}
    assert ir["root"]["inputDefinitions"]["parameters"]["store_secret"]["defaultValue"] == "tuning-store"
    assert secrets["exec-curve-trial"] == secrets["exec-record-trial"]  # as the store's own steps get it

    # without the input: no place bound, no Secret for the user's component
    _, plain_ir, _ = compiled(component_trials(grid_experiment(), bowl, object_store=store), tmp_path / "bowl.yaml")
    plain_body, plain_runs = loop_tasks(plain_ir, "bowl")
    assert "kfp_tune_trial" not in plain_body["kfp-tune-trial-bowl"]["inputs"]["parameters"]
    assert "kfp_tune_trial" not in plain_ir["components"]["comp-claim-trial"]["outputDefinitions"]["parameters"]
    assert "with_place" not in plain_ir["deploymentSpec"]["executors"]["exec-claim-trial"]["container"]["command"][-1]
    assert set(plain_runs) == {"bowl", "record-trial"}
    assert "exec-bowl" not in secret_envs(tmp_path / "bowl.yaml") and "exec-record-trial" in secret_envs(tmp_path / "bowl.yaml")

    # a store reached with the pod's own identity (no Secret): none wired to the trial either
    no_secret = component_trials(curves_experiment(), curve_trial, object_store=ObjectStore(endpoint="http://s3.test:9000", secret=""))
    compiler.Compiler().compile(no_secret, str(tmp_path / "no-secret.yaml"))
    assert secret_envs(tmp_path / "no-secret.yaml") == {}


def test_early_stopping_without_the_input_warns_how_to_opt_in(caplog):
    doc = grid_experiment()
    doc["spec"]["earlyStopping"] = curves_experiment()["spec"]["earlyStopping"]
    with caplog.at_level(logging.WARNING):
        component_trials(doc, bowl)
    assert "kfp_tune_trial: str" in caplog.text and "TrialReporter" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        component_trials(curves_experiment(), curve_trial)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]

    @dsl.component(install_kfp_package=False)
    def numbered(quality: str, kfp_tune_trial: int) -> float:
        return float(kfp_tune_trial)

    with pytest.raises(InputError, match=r"kfp_tune_trial.*str"):
        component_trials(curves_experiment(), numbered)


@pytest.mark.kfp_local
def test_bad_trials_stop_early_and_good_ones_complete(tmp_path):
    """One trial at a time; the 4th and 5th to start are bad (by their place, as grid draws its
    points in a random order, as Katib's does), so they start once at least two trials have
    completed and medianstop has a rule for them."""
    store = tmp_path / "store"
    tuning = component_trials(curves_experiment(parallel=1), curve_trial)

    @dsl.pipeline
    def mine(store_uri: str) -> float:
        return tuning(store_uri=store_uri, epochs=EPOCHS, places=str(tmp_path / "places"), bad_places="4,5").outputs["best_objective"]

    run = run_locally(mine, tmp_path / "root", store_uri=str(store))

    state = ExperimentView(ExperimentRecords(LocalStore(store), "curves")).state
    assert len(state.trials) == 6
    for trial in state.trials:
        reports = list((store / "experiments" / "curves" / "trials" / trial.name / "reports").glob("*.json"))
        assert trial.result is not None
        if trial.result.curve[0] == 10.0:  # the bad curve's first report
            assert trial.status == TrialStatus.EARLY_STOPPED, trial
            assert len(reports) == START_STEP and len(trial.result.curve) == START_STEP  # it stopped at the rule's step
        else:
            assert trial.status == TrialStatus.SUCCEEDED, trial
            assert len(reports) == EPOCHS and len(trial.result.curve) == EPOCHS  # the curve in the report: its reports
    assert sum(t.status == TrialStatus.EARLY_STOPPED for t in state.trials) == 2  # both bad ones, and only they
    assert len({t.assignment["quality"] for t in state.trials}) == 6  # every grid point once
    assert run.output == pytest.approx(0.8 ** (EPOCHS - 1))


def test_a_store_uri_with_credentials_is_refused_before_it_becomes_a_parameter_default():
    """component_trials() and tuning_step() put ``store_uri`` into the pipeline as a public
    parameter default; one with credentials in it was taken as it was. Refused as ``kfp-tune
    compile --store`` refuses it, the secret never repeated."""
    from kfp_tune.pipelines import tuning_step

    secret_store = "s3://AKIAEXAMPLE:kfptune-store-secret-91d0@bucket/x"
    for build in (lambda: component_trials(grid_experiment(), bowl, store_uri=secret_store), lambda: tuning_step(quadratic_experiment(), store_uri=secret_store)):
        with pytest.raises(InputError, match=r"^store_uri: store URI s3://\*\*\*@bucket/x: credentials do not belong in the URI") as refused:
            build()
        assert "kfptune-store-secret" not in str(refused.value)


def test_an_object_store_endpoint_with_credentials_is_refused_before_it_becomes_a_parameter_default():
    """component_trials() and tuning_step() put the ObjectStore's endpoint into the pipeline as
    the public ``s3_endpoint`` default; one with credentials in it was taken as it was. Refused
    as ``kfp-tune submit --param s3_endpoint`` refuses it, the secret never repeated."""
    from kfp_tune.pipelines import tuning_step

    store = ObjectStore(endpoint="http://AKIAEXAMPLE:kfptune-store-secret-91d0@minio.kubeflow:9000")
    for build in (lambda: component_trials(grid_experiment(), bowl, object_store=store), lambda: tuning_step(quadratic_experiment(), object_store=store)):
        with pytest.raises(InputError, match=r"^object_store\.endpoint: S3 endpoint from the s3_endpoint parameter: credentials do not belong") as refused:
            build()
        assert "kfptune-store-secret" not in str(refused.value)


def test_a_store_uri_or_endpoint_with_credentials_given_where_the_step_is_called_is_refused():
    """QA ts_creds.py, ct_creds.py: ``tune(store_uri="s3://KEY:SECRET@bucket/x",
    s3_endpoint="http://key:secret@minio:9000")`` inside your own pipeline compiled the secret
    into it as a constant, which the KFP UI shows, though the same value as the step's default
    is refused. A constant given where a tuning step or component trials is called is now
    checked there as its default is, naming the input, the secret never repeated; a pipeline
    parameter and a constant with no credentials pass through."""
    from kfp_tune.pipelines import tuning_step

    secret_store = "s3://AKIAEXAMPLE:kfptune-store-secret-91d0@bucket/x"
    secret_endpoint = "http://AKIAEXAMPLE:kfptune-store-secret-91d0@minio.kubeflow:9000"
    trials = component_trials(grid_experiment(), bowl)
    step = tuning_step(quadratic_experiment(), with_dataset=False)
    calls = (lambda **given: trials(center=write_center(x=0.5, n=1).outputs["center"], **given), lambda **given: step(**given))
    refusals = (
        ({"store_uri": secret_store}, r"^store_uri: store URI s3://\*\*\*@bucket/x: credentials do not belong in the URI"),
        ({"s3_endpoint": secret_endpoint}, r"^s3_endpoint: S3 endpoint from the s3_endpoint parameter: credentials do not belong"),
    )

    def pipeline_calling(call: Any, **given: Any) -> Any:
        @dsl.pipeline
        def mine(store_uri: str = "s3://team/tuning") -> None:
            call(**{name: store_uri if value is str else value for name, value in given.items()})

        return mine

    for call in calls:
        for given, message in refusals:
            with pytest.raises(InputError, match=message) as refused:
                pipeline_calling(call, **given)
            assert "kfptune-store-secret" not in str(refused.value)
        assert pipeline_calling(call, store_uri=str, s3_endpoint="http://minio.kubeflow:9000").pipeline_spec is not None  # a parameter
        assert pipeline_calling(call, store_uri="s3://team/other").pipeline_spec is not None


def test_an_empty_store_uri_is_refused_as_tuning_step_refuses_it():
    """QA store_rule.py: ``component_trials(..., store_uri="")`` compiled the cluster's default
    store while tuning_step and build_pipeline refuse ""; one rule now (builder.pipeline_store_uri):
    None is the default store, "" is a store URI that is not one."""
    from kfp_tune.pipelines import tuning_step

    for build in (lambda: component_trials(grid_experiment(), bowl, store_uri=""), lambda: tuning_step(quadratic_experiment(), store_uri="")):
        with pytest.raises(InputError, match=r"^store_uri: store URI '': expected s3://bucket/prefix, file:///path or a folder path"):
            build()
    assert component_trials(grid_experiment(), bowl, store_uri=None).component_spec.inputs["store_uri"].default == "s3://mlpipeline/kfp-tune"


@dsl.component(install_kfp_package=False)
def with_a_store_input(x: float, n: int, kind: str, store_uri: str = "s3://mine/data") -> float:
    """A trial with an input of its own named as the pipeline's store parameter."""
    return x


def test_an_input_named_as_a_pipeline_parameter_is_refused_naming_it():
    """The pipeline has a ``store_uri`` parameter of its own: a component input of that name
    (passed to every trial) is refused, naming it, rather than one taking the other's value."""
    with pytest.raises(InputError, match=r"^component 'with-a-store-input': its inputs \['store_uri'\] clash with the tuning pipeline's own parameters"):
        component_trials(grid_experiment(), with_a_store_input)


def test_the_experiment_is_taken_as_a_yaml_file_path_or_yaml_text(tmp_path):
    """component_trials takes the experiment as tuning_step does: a Path, a path as text, or
    the YAML itself; each compiles to the same embedded experiment."""
    text = yaml.safe_dump(grid_experiment())
    path = tmp_path / "bowl.yaml"
    path.write_text(text, encoding="utf-8")
    embedded = []
    for given in (path, str(path), text):
        _, ir, _ = compiled(component_trials(given, bowl), tmp_path / "p.yaml")
        embedded.append(json.dumps(ir["components"]))
    assert embedded[0] == embedded[1] == embedded[2] and '\\"name\\":\\"bowl\\"' in embedded[0]
