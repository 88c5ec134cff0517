"""What the pipeline is built from, as kfp-local and a cluster meet it: the trials' resource
amounts the slots' pod asks for (whole numbers, exact), the experiment's size (one command-line
argument carries it), nothing recorded before the pipeline is built, and the exit handler of a
run that never made its experiment."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.core.errors import InputError, SpecError
from kfp_tune.core.loading import load_experiment
from kfp_tune.pipelines.builder import (
    SPEC_ARGUMENT_BYTES,
    STEP_CPU_REQUEST,
    STEP_MEMORY_REQUEST,
    ObjectStore,
    build_pipeline,
    compile_pipeline,
    embedded_size,
    local_trial_resources,
)


def _with_resources(slots: int, **resources: Any) -> dict[str, Any]:
    doc = quadratic_experiment(**{"spec.parallelTrialCount": slots, "spec.maxTrialCount": slots, "spec.maxFailedTrialCount": 1})
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["resources"] = resources
    return doc


def _kfp_accepts(cpu: str, memory: str) -> None:
    """kfp's own checks of a task's CPU and memory limit (what set_cpu_limit / set_memory_limit run)."""
    from kfp.dsl.pipeline_task import PipelineTask

    PipelineTask._validate_cpu_request_limit(None, cpu)  # type: ignore[arg-type]
    PipelineTask._validate_memory_request_limit(None, memory)  # type: ignore[arg-type]


# Quantities Kubernetes takes, as a trial template writes them (text, or a YAML number)
QUANTITIES = ["1.5Gi", "500m", "0.5", 0.5, "1e3", "128974848", 128974848, "129e6", "123Mi", "2G", "0.1", 0.1, "100Ki", "1.25", "3"]


@pytest.mark.parametrize("amount", QUANTITIES, ids=repr)
@pytest.mark.parametrize("slots", [1, 3, 7])
def test_the_slots_pod_asks_for_the_trials_amounts_exactly_as_whole_numbers(amount, slots):
    """``1.5Gi`` x 3 was written ``4.5Gi``, which kfp refuses (ValueError: kfp-tune run crashed),
    and 0.1 CPU x 3 ``0.30000000000000004``: each total is now a whole number in a unit kfp and
    Kubernetes both take, equal to the amount x parallelTrialCount and the step's own (memory to
    the byte, CPU to the millicore, rounded up as Kubernetes rounds them)."""
    from kubernetes.utils import parse_quantity  # the Kubernetes client's own reading, to check against

    asked = local_trial_resources(load_experiment(_with_resources(slots, limits={"memory": amount, "cpu": amount})))
    exact = parse_quantity(str(amount)) * slots
    assert parse_quantity(asked["memory"]) == math.ceil(exact) + parse_quantity(STEP_MEMORY_REQUEST)
    assert parse_quantity(asked["cpu"]) == Decimal(math.ceil(exact * 1000)) / 1000 + parse_quantity(STEP_CPU_REQUEST)
    assert "." not in asked["memory"] + asked["cpu"] and "e" not in asked["memory"].lower() + asked["cpu"].lower()
    _kfp_accepts(asked["cpu"], asked["memory"])


def test_the_reported_memory_and_cpu_are_rewritten_in_a_smaller_unit():
    """The trials' amounts x parallelTrialCount, and the step's own 250m and 256Mi for its process,
    which shares the pod's limit with them (a trial alone at its limit was killed by it before)."""
    asked = local_trial_resources(load_experiment(_with_resources(3, limits={"memory": "1.5Gi", "cpu": "100m"}, requests={"cpu": "0.1"})))
    assert asked == {"memory": "4864Mi", "cpu": "550m"}  # a limit wins over a request; 4608Mi + 256Mi
    # a GPU request needs its equal limit (Kubernetes overcommits no extended resource)
    asked = local_trial_resources(load_experiment(_with_resources(3, requests={"memory": "2G", "cpu": 0.1, "nvidia.com/gpu": 1}, limits={"nvidia.com/gpu": 1})))
    assert asked == {"memory": "6121519Ki", "cpu": "550m", "nvidia.com/gpu": "3"}  # 6G + 256Mi = 6268435456 bytes


def test_an_amount_the_trial_decides_asks_for_nothing_and_a_part_of_a_gpu_is_refused():
    doc = _with_resources(2, limits={"memory": "${trialParameters.x}", "cpu": "1"})
    assert local_trial_resources(load_experiment(doc)) == {"cpu": "2250m"}  # 2 x 1 and the step's own 250m
    with pytest.raises(SpecError) as refused:
        local_trial_resources(load_experiment(_with_resources(2, limits={"nvidia.com/gpu": "0.5"})))
    (error,) = refused.value.errors
    assert error.path.endswith("resources.limits.nvidia.com/gpu") and "expected a whole number of nvidia.com/gpu, got '0.5'" in error.message


def test_compile_for_the_local_launcher_writes_the_pods_amounts(tmp_path, capsys):
    from kfp_tune.cli import main

    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(_with_resources(3, limits={"memory": "1.5Gi", "cpu": "500m"})))
    out = tmp_path / "p.yaml"
    assert main(["compile", str(path), "-o", str(out), "--launcher-config", '{"kind": "local"}']) == 0, capsys.readouterr().err
    ir = next(yaml.safe_load_all(out.read_text()))
    launch = [e["container"]["resources"] for name, e in ir["deploymentSpec"]["executors"].items() if "launch-trial" in name]
    assert launch and all((r["resourceMemoryLimit"], r["resourceCpuLimit"]) == ("4864Mi", "1750m") for r in launch)  # and the step's own


def _categorical(values: int, name: str = "big") -> dict[str, Any]:
    """A small experiment with one categorical parameter of ``values`` values: its size grows
    with them (Katib's examples stay far below the limit)."""
    doc = quadratic_experiment(**{"metadata.name": name, "spec.parallelTrialCount": 1, "spec.maxTrialCount": 1, "spec.maxFailedTrialCount": 1})
    doc["spec"]["parameters"].append({"name": "choice", "parameterType": "categorical", "feasibleSpace": {"list": [f"value-{i:06d}" for i in range(values)]}})
    doc["spec"]["trialTemplate"]["trialParameters"].append({"name": "choice", "reference": "choice"})  # it reaches the trial, as Katib requires
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "CHOICE", "value": "${trialParameters.choice}"}]
    return doc


def _kfp_tune(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "kfp-tune"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd, env=dict(os.environ), timeout=600)


REFUSED_AT_BUILD = {
    "a part of a GPU": ("expected a whole number of nvidia.com/gpu", lambda: _with_resources(3, limits={"nvidia.com/gpu": "0.5"})),
    "too large": ("as the pipeline embeds it", lambda: _categorical(12_000)),
}
"""Experiments kfp-local's pipeline refuses when it is built: what the error says, and the experiment."""


@pytest.mark.parametrize("cause", list(REFUSED_AT_BUILD))
def test_a_run_refused_when_its_pipeline_is_built_records_nothing(tmp_path, cause):
    """The experiment was recorded (Running, 0 trials) before kfp-local built the pipeline, and a
    corrected file under the same name was then refused as another spec: now what refuses the
    pipeline refuses it first, exit 2, and the store stays empty."""
    said, make = REFUSED_AT_BUILD[cause]
    doc = make()
    doc["metadata"]["name"] = "sized"
    store = tmp_path / "store"
    path = tmp_path / "refused.yaml"
    path.write_text(yaml.safe_dump(doc))
    refused = _kfp_tune("run", str(path), "--store", str(store))
    assert refused.returncode == 2, refused.stderr
    assert said in refused.stderr
    assert not (store / "experiments" / "sized").exists()
    small = tmp_path / "small.yaml"
    small.write_text(yaml.safe_dump(_categorical(3, name="sized")))
    fixed = _kfp_tune("run", str(small), "--store", str(store), "--engine", "inline", "--json")
    assert fixed.returncode == 0, fixed.stderr
    assert json.loads(fixed.stdout)["status"] == "Succeeded"


@pytest.mark.kfp_local
def test_trials_with_a_fractional_memory_limit_run_under_kfp_local(tmp_path):
    """The QA experiment: memory 1.5Gi and cpu 500m per trial, 3 at a time."""
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(_with_resources(3, limits={"memory": "1.5Gi", "cpu": "500m"})))
    result = _kfp_tune("run", str(path), "--store", str(tmp_path / "store"), "--json")
    assert result.returncode == 0, result.stderr
    assert (json.loads(result.stdout)["status"], json.loads(result.stdout)["succeeded"]) == ("Succeeded", 3)


def _embedded(doc: dict[str, Any]) -> int:
    return embedded_size(json.dumps(load_experiment(doc).to_dict(), sort_keys=True, separators=(",", ":")))


def _largest_categorical() -> int:
    """The most values the experiment of :func:`_categorical` may have under the limit."""
    low, high = 1, 20_000
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if _embedded(_categorical(middle)) <= SPEC_ARGUMENT_BYTES else (low, middle - 1)
    return low


def test_an_experiment_too_large_for_one_argument_is_refused_naming_its_size_and_what_to_do(tmp_path, capsys):
    """12,000 categorical values (205 KB embedded) passed the old guard (512 KiB) and then failed
    kfp-local with OSError E2BIG: one command-line argument holds at most 128 KiB."""
    doc = _categorical(12_000)
    size = _embedded(doc)
    assert size > 128 * 1024
    with pytest.raises(InputError) as refused:
        build_pipeline(doc)
    message = str(refused.value)
    assert f"{size:,} bytes" in message and f"{SPEC_ARGUMENT_BYTES:,} bytes" in message
    assert "spec.parameters[2] 'choice'" in message and "12,000 values" in message and "fewer categorical values" in message
    from kfp_tune.cli import main

    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["compile", str(path), "-o", str(tmp_path / "p.yaml")]) == 2
    assert capsys.readouterr().err.startswith(f"error: the experiment is {size:,} bytes as the pipeline embeds it")
    assert not (tmp_path / "p.yaml").exists()
    assert main(["validate", str(path)]) == 0  # valid Katib, and the inline engine runs it: a note, as for Katib's differences
    assert f"note: spec.parameters[2]: the experiment is {size:,} bytes as the pipeline embeds it" in capsys.readouterr().err
    small = tmp_path / "small.yaml"
    small.write_text(yaml.safe_dump(_categorical(3)))
    assert main(["validate", str(small)]) == 0 and "embeds" not in capsys.readouterr().err
    from kfp_tune.components import suggest
    from kfp_tune.pipelines import component_trials

    with pytest.raises(InputError, match="as the pipeline embeds it"):  # it embeds the experiment the same way
        component_trials(doc, suggest)
    largest = _largest_categorical()
    build_pipeline(_categorical(largest))  # the largest that fits is built
    with pytest.raises(InputError):
        build_pipeline(_categorical(largest + 1))


def _padded_to(size: int) -> dict[str, Any]:
    """The quadratic experiment grown to ``size`` bytes embedded, by an annotation of its trial's
    pod (text without quotes: each character one byte; a categorical that large would run too,
    but its every report draws thousands of ticks)."""
    doc = quadratic_experiment(**{"metadata.name": "padded", "spec.parallelTrialCount": 1, "spec.maxTrialCount": 1, "spec.maxFailedTrialCount": 1})
    template = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]
    template["metadata"] = {"annotations": {"example.com/pad": ""}}
    template["metadata"]["annotations"]["example.com/pad"] = "x" * (size - _embedded(doc))
    return doc


@pytest.mark.kfp_local
def test_the_largest_experiment_the_limit_takes_runs_under_kfp_local(tmp_path):
    """The limit leaves room: the largest experiment it takes runs end to end under kfp.local,
    whose step gets every input inside one argument (docs/guide.md, "Running locally", has the
    number); one byte more is refused."""
    doc = _padded_to(SPEC_ARGUMENT_BYTES)
    assert _embedded(doc) == SPEC_ARGUMENT_BYTES
    with pytest.raises(InputError):
        build_pipeline(_padded_to(SPEC_ARGUMENT_BYTES + 1))
    path = tmp_path / "largest.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = _kfp_tune("run", str(path), "--store", str(tmp_path / "store"), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "Succeeded"


def test_the_exit_handler_of_a_run_that_made_no_experiment_ends_cleanly(tmp_path):
    """experiment_name=Bad_Name: suggest fails, rightly; the exit handler then failed too
    (ExperimentNotFound), a second red step in the UI. It now ends cleanly, nothing to release,
    and says why in its outputs; a checkpoint's decide-stop still fails on a missing experiment."""
    from kfp_tune.core.errors import ExperimentNotFound
    from kfp_tune.steps.entrypoints import decide_stop_step

    store = str(tmp_path / "store")
    table, report = tmp_path / "table.md", tmp_path / "report.html"
    assert decide_stop_step(store, "Bad_Name", "run-1", 3, 3, markdown_path=str(table), html_path=str(report), final=True) is False
    assert "No experiment 'Bad_Name'" in table.read_text() and "No experiment &#x27;Bad_Name&#x27;" in report.read_text()
    assert decide_stop_step("", "quad", "run-1", 3, 3, markdown_path=str(table), html_path=str(report), final=True) is False
    assert "store_uri: required" in table.read_text()
    for unsafe in ("a/b", "a b", "..x"):  # no key can be made of it: nothing was made, nothing to close
        assert decide_stop_step(store, unsafe, "run-1", 3, 3, markdown_path=str(table), html_path=str(report), final=True) is False
        assert f"unsafe name for a store key: {unsafe!r}" in table.read_text()
    with pytest.raises(ExperimentNotFound):
        decide_stop_step(store, "Bad_Name", "run-1", 0, 3, markdown_path=str(table), html_path=str(report))
    with pytest.raises(InputError):
        decide_stop_step("", "quad", "run-1", 0, 3)


@pytest.mark.kfp_local
def test_a_run_whose_first_step_refuses_its_input_fails_in_that_step_only(tmp_path, capfd):
    """Under kfp.local: suggest fails on the name; decide-stop, the exit handler, succeeds.
    The step's log says why in the error's own line, with no traceback of kfp-tune's frames
    before it (as the KFP UI shows a step's log)."""
    from kfp import components, local

    from kfp_tune.pipelines.local_run import step_inputs_kept_whole

    # a local launcher's pipeline is a kfp.local one: no ClusterStoreWarning for its folder store
    path = compile_pipeline(quadratic_experiment(), tmp_path / "p.yaml", rounds=1, launcher_config={"kind": "local"}, store_uri=str(tmp_path / "store"))
    pipeline = components.load_component_from_file(str(path))
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "root"), raise_on_error=False)
    with step_inputs_kept_whole():
        pipeline(experiment_name="Bad_Name", s3_endpoint="")
    run_root = next((tmp_path / "root").iterdir())
    ended = {step.name: json.loads((step / "executor_output.json").read_text()) if (step / "executor_output.json").exists() else None for step in run_root.iterdir()}
    (handler,) = [name for name in ended if name.startswith("decide-stop")]  # the checkpoints' own never ran; KFP numbers the exit handler's apart (36d7cf6)
    assert ended[handler] is not None, sorted(ended)  # the exit handler wrote its outputs: it succeeded
    assert ended[handler]["parameterValues"]["Output"] is False
    assert ended.get("suggest") is None  # the first step failed
    printed = capfd.readouterr()
    suggest_log = (printed.out + printed.err).split("Executing task")[1]
    assert "\n    kfp_tune.core.errors.SpecError: invalid experiment (1 error(s)):\n      metadata.name: expected lower case" in suggest_log, suggest_log
    assert "Traceback" not in suggest_log, suggest_log


@pytest.mark.parametrize(
    ("raised", "debug", "traceback_shown"),
    [("InputError('store_uri: required')", "", False), ("RuntimeError('a defect')", "", True), ("InputError('store_uri: required')", "1", True)],
    ids=["kfp-tunes-own-error", "a-defect", "debug"],
)
def test_a_steps_process_ends_on_its_own_error_in_one_line_and_on_a_defect_with_its_traceback(raised, debug, traceback_shown):
    """What the step's process prints when an error leaves the component's function (the KFP
    executor does not catch it): kfp-tune's own errors as the last line of a traceback reads,
    alone; any other exception, or any with KFP_TUNE_DEBUG set, with its traceback."""
    program = (
        "from kfp_tune.core.errors import InputError\n"
        "from kfp_tune.steps import entrypoints\n"
        "entrypoints._setup_logging()  # what every step function calls first\n"
        f"raise {raised}\n"
    )
    env = {**os.environ, "KFP_TUNE_DEBUG": debug}
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1
    assert ("Traceback (most recent call last)" in done.stderr) is traceback_shown, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last in ("kfp_tune.core.errors.InputError: store_uri: required", "RuntimeError: a defect"), done.stderr
    if not traceback_shown:
        assert done.stderr == "kfp_tune.core.errors.InputError: store_uri: required\n"


def test_kfp_tunes_error_wrapping_an_unexpected_one_shows_the_causes_traceback():
    """TrialNotCreated (or a plug-in's AlgorithmError) made from a KeyError: the one line alone
    would hide where the defect is, and a KFP step has no -vv to ask for it."""
    program = (
        "from kfp_tune.core.errors import TrialNotCreated\n"
        "from kfp_tune.steps import entrypoints\n"
        "entrypoints._setup_logging()\n"
        "def render():\n"
        "    return {}['spec']\n"
        "try:\n"
        "    render()\n"
        "except KeyError as exc:\n"
        "    raise TrialNotCreated(f'Kubernetes trial t1 could not be created: KeyError: {exc}') from exc\n"
    )
    env = {**os.environ, "KFP_TUNE_DEBUG": ""}
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1
    assert done.stderr.startswith("Traceback (most recent call last)") and "in render" in done.stderr, done.stderr
    assert "KeyError: 'spec'\n\nThe above exception was the direct cause of the following exception:\n" in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "kfp_tune.core.errors.TrialNotCreated: Kubernetes trial t1 could not be created: KeyError: 'spec'"
    assert done.stderr.count("Traceback") == 1, "the cause's frames only, not kfp-tune's own error's"


@pytest.mark.parametrize("error", ["kfp_tune.core.errors.ExperimentNotFound", "kfp_tune.launchers.kubernetes.launcher.ApiUnavailable", "kfp_tune.core.errors.ExperimentBusy"])
def test_the_kfp_local_summary_names_any_of_kfp_tunes_errors_in_a_failed_steps_log(tmp_path, error):
    """Each step ends on kfp-tune's own error with its full name and message in one line; the
    summary ``kfp-tune run --engine kfp-local`` prints found only names ending in Error, Busy, ...
    (ExperimentNotFound, ApiUnavailable gave the log's last 25 lines)."""
    from kfp_tune.pipelines.local_run import kfp_local_error

    log = tmp_path / "kfp-local.log"
    log.write_text(
        "08:00:00.000 - INFO - Executing task 'launch-trial'\n"
        "    [KFP Executor 2026-12-06 08:00:00,000 INFO]: Got executor_input:\n"
        f"    {error}: the store said no\n"
        "08:00:01.000 - ERROR - Task 'launch-trial' finished with status FAILURE\n"
    )
    short = error.rsplit(".", 1)[-1]
    assert str(kfp_local_error(log)) == f"the kfp.local pipeline run failed in step launch-trial: {short}: the store said no (its log: {log})"


@pytest.mark.parametrize("launcher", [None, {"kind": "local"}, {"kind": "kubernetes"}], ids=["default", "local", "kubernetes"])
def test_compile_pipeline_from_python_refuses_a_part_of_a_gpu_for_every_launcher(tmp_path, launcher):
    """``kfp-tune compile`` refused ``nvidia.com/gpu: "0.5"``; ``compile_pipeline()`` from a
    notebook compiled it for a cluster, where no trial's pod would be created. Refused the
    same way, the output file not written."""
    from kfp_tune.pipelines import compile_pipeline

    out = tmp_path / "p.yaml"
    with pytest.raises(SpecError) as refused:
        compile_pipeline(_with_resources(2, limits={"nvidia.com/gpu": "0.5"}), out, launcher_config=launcher)
    (error,) = refused.value.errors
    assert error.path.endswith("resources.limits.nvidia.com/gpu") and "expected a whole number of nvidia.com/gpu, got '0.5'" in error.message
    assert not out.exists()


@pytest.mark.parametrize(
    "spelled",
    [lambda f: f.name, lambda f: str(f), lambda f: f"./{f.name}", lambda f: f, lambda f: f.with_name("link.yaml")],
    ids=["relative", "absolute", "dot-slash", "Path", "symlink"],
)
def test_compile_pipeline_never_writes_over_the_experiment_file(tmp_path, monkeypatch, spelled):
    """``compile_pipeline("my-exp.yaml", "my-exp.yaml")`` replaced the experiment with the
    compiled pipeline; ``kfp-tune compile`` refuses the same output. However the output is
    spelled, it is refused naming ``output``, and the experiment file is left as it was."""
    monkeypatch.chdir(tmp_path)
    experiment = tmp_path / "my-exp.yaml"
    experiment.write_text(yaml.safe_dump(quadratic_experiment()))
    (tmp_path / "link.yaml").symlink_to(experiment)
    before = experiment.read_bytes()
    with pytest.raises(InputError, match=r"^output .*: is the experiment file itself; expected another file for the pipeline"):
        compile_pipeline("my-exp.yaml", spelled(experiment))
    with pytest.raises(InputError, match=r"is the experiment file itself"):  # the experiment through the link, the output the file
        compile_pipeline(str(tmp_path / "link.yaml"), "my-exp.yaml")
    assert experiment.read_bytes() == before
    assert compile_pipeline("my-exp.yaml", "pipeline.yaml").read_text().startswith("# PIPELINE DEFINITION")  # another file is written


def test_compile_pipeline_refuses_an_output_in_no_folder_naming_it(tmp_path):
    with pytest.raises(InputError, match=r"^output .*: the folder .*nowhere' does not exist"):
        compile_pipeline(quadratic_experiment(), tmp_path / "nowhere" / "p.yaml")
    (tmp_path / "d.yaml").mkdir()
    with pytest.raises(InputError, match=r"^output .*d\.yaml': is a folder"):
        compile_pipeline(quadratic_experiment(), tmp_path / "d.yaml")


SECRET_STORE = "s3://AKIAEXAMPLE:kfptune-store-secret-7c1e@bucket/x"


@pytest.mark.parametrize(
    "options, message",
    [
        ({"store_uri": SECRET_STORE}, r"^store_uri: store URI s3://\*\*\*@bucket/x: credentials do not belong in the URI"),
        ({"store_uri": "ftp://x"}, r"^store_uri: store URI 'ftp://x': the 'ftp' scheme is not supported"),
        ({"store_uri": ""}, r"^store_uri: store URI '': expected s3://bucket/prefix"),
        ({"store_uri": 5}, r"^store_uri: expected a store URI such as s3://mlpipeline/kfp-tune, got int$"),
        ({"checkpoint_trials": -1}, r"^checkpoint_trials: expected a whole number of trials, 0 \(no limit\) or more, got -1$"),
        ({"checkpoint_trials": 2.5}, r"^checkpoint_trials: expected a whole number of trials, 0 \(no limit\) or more, got 2\.5$"),
        ({"checkpoint_seconds": "x"}, r"^checkpoint_seconds: expected a number of seconds, 0 \(no limit\) or more, got 'x'$"),
        ({"checkpoint_seconds": -5.0}, r"^checkpoint_seconds: expected a number of seconds, 0 \(no limit\) or more, got -5\.0$"),
        ({"checkpoint_seconds": math.inf}, r"^checkpoint_seconds: expected a number of seconds, 0 \(no limit\) or more, got inf$"),
        (
            {"object_store": ObjectStore(endpoint="http://AKIAEXAMPLE:kfptune-store-secret-7c1e@minio.kubeflow:9000")},
            r"^object_store\.endpoint: S3 endpoint from the s3_endpoint parameter: credentials do not belong in the endpoint URL",
        ),
        (
            {"object_store": ObjectStore(endpoint="http://minio.kubeflow:9000?X-Amz-Credential=kfptune-store-secret-7c1e")},
            r"^object_store\.endpoint: S3 endpoint 'http://minio\.kubeflow:9000\?\*\*\*' from the s3_endpoint parameter: expected http://host:port",
        ),
    ],
    ids=[
        "credentials", "unknown-scheme", "empty", "not-text", "negative-trials", "fraction-trials", "text-seconds", "negative-seconds", "infinite-seconds",
        "endpoint-credentials", "endpoint-query",
    ],
)
def test_compile_pipeline_checks_the_store_and_checkpoints_as_the_cli_does(tmp_path, options, message):
    """From Python a store URI with credentials went into the compiled YAML as a public
    parameter default, an unknown scheme and a negative checkpoint limit were taken, a text one
    was a bare TypeError (a store URI that is no text too); an ObjectStore's endpoint with
    credentials became the public ``s3_endpoint`` default. Each is refused naming the argument,
    before anything is written, and the secret is never repeated."""
    out = tmp_path / "p.yaml"
    with pytest.raises(InputError, match=message) as refused:
        compile_pipeline(quadratic_experiment(), out, **options)
    assert "kfptune-store-secret" not in str(refused.value) and not out.exists()
    with pytest.raises(InputError, match=message):  # tuning_step and kfp.local build it so
        build_pipeline(quadratic_experiment(), **options)


@pytest.mark.parametrize("store_uri", [None, "s3://team-bucket/tuning"], ids=["default", "given"])
def test_compile_pipeline_for_an_s3_store_warns_of_nothing(tmp_path, store_uri):
    """An ``s3://`` store is one a cluster's run can use: no ClusterStoreWarning (an empty one
    was the mutant's), whether the store is the default or given."""
    import warnings

    from kfp_tune.pipelines.builder import ClusterStoreWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", ClusterStoreWarning)
        compile_pipeline(quadratic_experiment(), tmp_path / "p.yaml", **({} if store_uri is None else {"store_uri": store_uri}))


def test_compile_pipeline_warns_of_a_folder_store_in_the_clis_words(tmp_path):
    """``kfp-tune compile --store FOLDER`` warns that only kfp.local can run the result; the
    Python call warned of nothing. Both compile it, for a run on this machine."""
    from kfp_tune.pipelines.builder import ClusterStoreWarning

    folder = str(tmp_path / "runs")
    with pytest.warns(ClusterStoreWarning, match=r"^store_uri '.*runs' is not an s3:// URI: .*; only a run on this machine \(kfp\.local\) can use this pipeline as compiled$"):
        path = compile_pipeline(quadratic_experiment(), tmp_path / "p.yaml", store_uri=folder)
    spec = next(yaml.safe_load_all(path.read_text()))
    assert spec["root"]["inputDefinitions"]["parameters"]["store_uri"]["defaultValue"] == folder
