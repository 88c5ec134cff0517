"""The compiled pipeline (IR checks) and whole runs under the real kfp.local runner."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO, quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher
from kfp_tune.pipelines import compile_pipeline
from kfp_tune.stores import LocalStore


def _compile_both(tmp_path: Path, rounds: int | None = None, object_store: str = "seaweedfs", **overrides) -> tuple[dict, dict]:
    """The pipeline spec and the platform (Kubernetes) spec of the compiled YAML."""
    experiment = load_experiment(quadratic_experiment(**overrides))
    path = compile_pipeline(experiment, tmp_path / "p.yaml", rounds=rounds, object_store=object_store)
    ir, platform = yaml.safe_load_all(path.read_text())
    return ir, platform


def _compile(tmp_path: Path, rounds: int | None = None, **overrides) -> dict:
    return _compile_both(tmp_path, rounds, **overrides)[0]


def _tasks(ir: dict) -> list[tuple[str, dict]]:
    out = list(ir["root"]["dag"]["tasks"].items())
    for component in ir["components"].values():
        out += list((component.get("dag") or {}).get("tasks", {}).items())
    return out


STEP = re.compile(r"^comp-(suggest|launch-trial|collect-metrics|decide-stop)(-\d+)?$")


def _steps(ir: dict) -> list[tuple[str, dict]]:
    """(step kind, task) for every task that runs one of our four components."""
    out = []
    for _, task in _tasks(ir):
        match = STEP.match(task.get("componentRef", {}).get("name", ""))
        if match:
            out.append((match.group(1), task))
    return out


def test_checkpoints_are_unrolled_with_caching_off(tmp_path):
    """suggest claims the run once; each checkpoint is launch-trial (slots) then decide-stop; a
    last decide-stop is the exit handler. No ParallelFor: the slots run inside launch-trial."""
    ir = _compile(tmp_path, rounds=3)
    steps = _steps(ir)
    kinds = [kind for kind, _ in steps]
    assert {k: kinds.count(k) for k in set(kinds)} == {"suggest": 1, "launch-trial": 3, "decide-stop": 4}
    for kind, task in steps:
        assert not task.get("cachingOptions", {}).get("enableCache", False), f"caching on for {kind}"
    assert not [t for _, t in _tasks(ir) if "iteratorPolicy" in t]
    suggest_inputs = next(t for k, t in steps if k == "suggest")["inputs"]["parameters"]
    assert suggest_inputs["trial_count"]["runtimeValue"]["constant"] == 0
    finals = [t for k, t in steps if k == "decide-stop" and t["inputs"]["parameters"].get("final", {}).get("runtimeValue", {}).get("constant")]
    # the exit handler: after the whole run, however it ended
    assert len(finals) == 1 and finals[0]["dependentTasks"] == ["exit-handler-1"]
    assert finals[0]["triggerPolicy"]["strategy"] == "ALL_UPSTREAM_TASKS_COMPLETED"


def test_spec_is_a_constant_of_the_first_step_only(tmp_path):
    ir = _compile(tmp_path, rounds=2)
    specs = []
    for _, task in _tasks(ir):
        parameters = task.get("inputs", {}).get("parameters", {})
        if "experiment_spec" in parameters:
            specs.append(parameters["experiment_spec"]["runtimeValue"]["constant"])
    assert len(specs) == 1
    assert json.loads(specs[0])["metadata"]["name"] == "quad"


def test_pipeline_parameters_hold_no_credentials(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "compile-time-secret-xyz")
    ir = _compile(tmp_path)
    params = ir["root"]["inputDefinitions"]["parameters"]
    assert set(params) == {
        "store_uri", "experiment_name", "launcher_config", "take_over", "fresh_experiment", "s3_endpoint", "store_secret",
        "checkpoint_trials", "checkpoint_seconds",
    }
    assert "compile-time-secret-xyz" not in (tmp_path / "p.yaml").read_text()
    assert not [p for p in params if re.search(r"key|password|token|credential", p, re.I)]


def test_compiled_for_a_cluster_trials_run_as_their_own_kind(tmp_path):
    ir = _compile(tmp_path)
    defaults = {k: v.get("defaultValue") for k, v in ir["root"]["inputDefinitions"]["parameters"].items()}
    assert json.loads(defaults["launcher_config"]) == {"kind": "kubernetes"}


def test_the_slots_pod_is_told_its_own_image_for_the_containers_it_adds(tmp_path):
    """`KFP_TUNE_IMAGE=... kfp-tune compile`: launch-trial gets the image it runs in as
    KFP_TUNE_IMAGE, which the collector sidecar and checkpoint copier it adds beside trials run
    (tests/launchers/test_collector_sidecar.py). QA: its pod was not told, and they ran the
    default image, which this project does not publish."""
    (tmp_path / "e.yaml").write_text(yaml.safe_dump(quadratic_experiment()))
    env = {**os.environ, "KFP_TUNE_IMAGE": "registry.example/kfp-tune:7"}
    command = [sys.executable, "-m", "kfp_tune.cli", "compile", str(tmp_path / "e.yaml"), "-o", str(tmp_path / "p.yaml")]
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
    ir = next(yaml.safe_load_all((tmp_path / "p.yaml").read_text()))
    launch = [e["container"] for name, e in ir["deploymentSpec"]["executors"].items() if "launch-trial" in name]
    assert launch and all(c["image"] == "registry.example/kfp-tune:7" for c in launch)
    assert all({"name": "KFP_TUNE_IMAGE", "value": "registry.example/kfp-tune:7"} in c.get("env", []) for c in launch)


def test_an_empty_runtime_image_is_the_default_and_one_that_is_no_image_is_refused(tmp_path):
    """QA: `KFP_TUNE_IMAGE= kfp-tune compile` compiled steps with no image, exit 0, though the
    sidecar's image (default_image) takes empty as unset. Empty is unset for both now, and a
    value that is no image reference is refused when compiling, naming KFP_TUNE_IMAGE and what
    it expects, as a function trial's base_image is."""
    from kfp_tune.launchers.runtime_image import DEFAULT_RUNTIME_IMAGE

    (tmp_path / "e.yaml").write_text(yaml.safe_dump(quadratic_experiment()))
    command = [sys.executable, "-m", "kfp_tune.cli", "compile", str(tmp_path / "e.yaml"), "-o", str(tmp_path / "p.yaml")]
    done = subprocess.run(command, env={**os.environ, "KFP_TUNE_IMAGE": ""}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    ir = next(yaml.safe_load_all((tmp_path / "p.yaml").read_text()))
    assert {e["container"]["image"] for e in ir["deploymentSpec"]["executors"].values()} == {DEFAULT_RUNTIME_IMAGE}
    (tmp_path / "p.yaml").unlink()
    done = subprocess.run(command, env={**os.environ, "KFP_TUNE_IMAGE": "bad image"}, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and not (tmp_path / "p.yaml").exists()
    assert "KFP_TUNE_IMAGE: expected the runtime image's reference, e.g. REGISTRY/kfp-tune-python:" in done.stderr
    assert "'bad image'" in done.stderr and "Traceback" not in done.stderr


def test_local_launcher_on_a_cluster_asks_for_the_trials_resources(tmp_path):
    """The trials run inside launch-trial's pod: it requests what parallelTrialCount of them need,
    GPUs included, so it lands on a GPU node, and its own process's 250m and 256Mi beside them."""
    from kfp_tune.pipelines.builder import local_trial_resources

    doc = quadratic_experiment(**{"spec.parallelTrialCount": 3})
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["resources"] = {"limits": {"nvidia.com/gpu": 1, "memory": "2Gi", "cpu": "500m"}}
    experiment = load_experiment(doc)
    assert local_trial_resources(experiment) == {"cpu": "1750m", "memory": "6400Mi", "nvidia.com/gpu": "3"}
    path = compile_pipeline(experiment, tmp_path / "p.yaml", launcher_config={"kind": "local"})
    ir = yaml.safe_load_all(path.read_text()).__next__()
    launch = [e for name, e in ir["deploymentSpec"]["executors"].items() if "launch-trial" in name]
    for executor in launch:
        resources = executor["container"]["resources"]
        assert resources["accelerator"] == {"resourceCount": "3", "resourceType": "nvidia.com/gpu"} or resources["accelerator"].get("count") in ("3", 3)
        assert resources.get("resourceMemoryLimit", resources.get("memoryLimit")) in ("6400Mi", 6.7108864)
        assert "resourceCpuRequest" not in resources and "resourceMemoryRequest" not in resources  # its limits are its requests
    # the Kubernetes launcher: the trial's own resource asks, not launch-trial's pod, which asks
    # for what every step asks
    path = compile_pipeline(experiment, tmp_path / "k.yaml")
    ir = yaml.safe_load_all(path.read_text()).__next__()
    assert all(e["container"]["resources"] == STEP_REQUESTS for e in ir["deploymentSpec"]["executors"].values())


def test_local_launcher_with_cpu_only_trial_limits_still_requests_memory(tmp_path):
    """Mutation QA (P02): trials that name only a CPU limit give launch-trial's pod a CPU limit
    and no memory amount: a ResourceQuota counting requests.memory refused the pod (6c0735c).
    It asks for its own 256Mi of memory beside the trials' CPU."""
    doc = quadratic_experiment(**{"spec.parallelTrialCount": 2})
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["resources"] = {"limits": {"cpu": "500m"}}
    path = compile_pipeline(load_experiment(doc), tmp_path / "p.yaml", launcher_config={"kind": "local"})
    ir = yaml.safe_load_all(path.read_text()).__next__()
    launch = [e for name, e in ir["deploymentSpec"]["executors"].items() if "launch-trial" in name]
    assert launch
    for executor in launch:
        resources = executor["container"]["resources"]
        assert resources.get("resourceCpuLimit", resources.get("cpuLimit")) in ("1250m", 1.25), resources
        assert resources.get("resourceMemoryRequest") == "256Mi" or resources.get("memoryRequest") == 0.268435456, resources


STEP_REQUESTS = {"cpuRequest": 0.25, "resourceCpuRequest": "250m", "memoryRequest": 0.268435456, "resourceMemoryRequest": "256Mi"}


def test_every_step_requests_cpu_and_memory_and_sets_no_limit(tmp_path):
    """A profile namespace whose ResourceQuota counts requests.cpu and requests.memory, with no
    LimitRange, refuses a pod that requests neither: every step of the tuning pipeline, the
    exit handler's included, asks for 250m and 256Mi (above a step's measured peak)."""
    ir = _compile(tmp_path, rounds=3)
    executors = ir["deploymentSpec"]["executors"]
    assert {name.rstrip("-0123456789") for name in executors} == {"exec-suggest", "exec-launch-trial", "exec-decide-stop", "exec-fail-if-experiment-failed"}
    for name, executor in executors.items():
        assert executor["container"]["resources"] == STEP_REQUESTS, name


@pytest.mark.parametrize("preset, endpoint", [("seaweedfs", "http://seaweedfs.kubeflow:9000"), ("minio", "http://minio-service.kubeflow:9000")])
def test_every_step_gets_the_store_secret_as_env(tmp_path, preset, endpoint):
    ir, platform = _compile_both(tmp_path, rounds=2, object_store=preset)
    defaults = {k: v["defaultValue"] for k, v in ir["root"]["inputDefinitions"]["parameters"].items()}
    assert (defaults["s3_endpoint"], defaults["store_secret"]) == (endpoint, "mlpipeline-minio-artifact")
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert len(executors) == 7  # suggest, two checkpoints of launch-trial and decide-stop, fail-if-experiment-failed, the exit handler
    for name, config in executors.items():
        (secret,) = config["secretAsEnv"]
        # the Secret's name is the store_secret run parameter (in a condition, as passed down to
        # it), not a constant baked in
        assert secret["secretNameParameter"]["componentInputParameter"] in ("store_secret", "pipelinechannel--store_secret"), name
        assert {m["envVar"]: m["secretKey"] for m in secret["keyToEnv"]} == {"AWS_ACCESS_KEY_ID": "accesskey", "AWS_SECRET_ACCESS_KEY": "secretkey"}


def test_the_ui_gets_a_trial_table_and_a_report(tmp_path):
    ir = _compile(tmp_path, rounds=1)
    artifacts = {
        name: {k: v["artifactType"]["schemaTitle"] for k, v in component.get("outputDefinitions", {}).get("artifacts", {}).items()}
        for name, component in ir["components"].items()
    }
    assert artifacts["comp-decide-stop"] == {"trials_table": "system.Markdown", "report": "system.HTML", "metrics": "system.Metrics"}


def test_the_compiled_size_does_not_depend_on_the_budget(tmp_path):
    """Trials are made at run time by the slots: 10 or 100,000 trials compile to the same YAML,
    far under 1 MiB (KFP run objects must stay under etcd's 1.5 MiB)."""
    sizes = []
    for budget in (10, 1000, 100_000):
        _compile(tmp_path, **{"spec.maxTrialCount": budget, "spec.parallelTrialCount": 1})
        sizes.append((tmp_path / "p.yaml").stat().st_size)
    assert max(sizes) - min(sizes) <= 4 and max(sizes) < 1024 * 1024, sizes  # only the embedded spec's digits differ


def test_each_checkpoint_is_told_its_place_among_the_run_s_checkpoints(tmp_path):
    """launch-trial k of a run compiled with rounds=3 gets checkpoint_index k and
    checkpoints_total 3 (the UI's "checkpoint k+1/3", and the last one finishes the budget)."""
    launches = [task["inputs"]["parameters"] for kind, task in _steps(_compile(tmp_path, rounds=3)) if kind == "launch-trial"]
    assert sorted(p["checkpoint_index"]["runtimeValue"]["constant"] for p in launches) == [0, 1, 2]
    assert {p["checkpoints_total"]["runtimeValue"]["constant"] for p in launches} == {3}


def _kfp_tune(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "kfp-tune"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd, env=env or dict(os.environ), timeout=600)


@pytest.mark.kfp_local
def test_kfp_local_run_matches_the_inline_engine(tmp_path):
    doc = quadratic_experiment(**{"spec.maxTrialCount": 4})
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(doc))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    result = _kfp_tune("run", str(path), "--store", str(tmp_path / "kfp"), "--json", env={**os.environ, "TMPDIR": str(scratch)})
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["status"], out["trials"], out["succeeded"]) == ("Succeeded", 4, 4)
    assert list(scratch.iterdir()) == [], "the run's scratch folder (log, pipeline root) is removed: the records are in the store"

    inline_store = LocalStore(tmp_path / "inline")
    run_inline(inline_store, load_experiment(doc), LocalLauncher())
    from kfp_tune.reports import trial_rows

    kfp_rows = trial_rows(LocalStore(tmp_path / "kfp"), "quad")
    inline_rows = trial_rows(inline_store, "quad")
    # the same seed gives the same suggestions and metrics, whichever engine ran the steps
    assert [r["parameters"] for r in kfp_rows] == [r["parameters"] for r in inline_rows]
    assert [r["metrics"] for r in kfp_rows] == [r["metrics"] for r in inline_rows]


@pytest.mark.kfp_local
def test_a_failed_kfp_local_run_names_the_step_and_error_and_keeps_its_log(tmp_path, monkeypatch):
    """A step that fails fails the command with the step's name and its error, and the log it
    names is kept for the user to read. (A Kubernetes launcher on a machine with no cluster: the
    launch step cannot create the trial, and says why.)"""
    import tempfile

    from kfp_tune.core.errors import KfpTuneError
    from kfp_tune.pipelines.local_run import run_in_child

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1}))
    with pytest.raises(KfpTuneError) as failed:
        run_in_child(experiment, str(tmp_path / "store"), {"kind": "kubernetes", "namespace": "team-a"}, None, False)
    message = re.fullmatch(r"the kfp.local pipeline run failed in step ([\w-]+): (\w+): (.*) \(its log: (\S+)\)", str(failed.value))
    assert message is not None, str(failed.value)
    assert message.group(2) == "TrialNotCreated" and "no Kubernetes configuration" in message.group(3)
    log = Path(message.group(4))
    assert log.is_relative_to(scratch) and "no Kubernetes configuration" in log.read_text()


def test_kfp_locals_python_replacement_stops_before_the_steps_inputs():
    """kfp.local points a step's "python3" at this Python by replacing the text in the step's
    command line (kfp 2.17: in its inputs too, kubeflow/pipelines#14459). While a run is on,
    ``step_inputs_kept_whole`` limits that to the bootstrap: the suggest component's own
    command, as compiled, with an input that names python3."""
    from kfp.local import subprocess_task_handler as handler

    from kfp_tune.pipelines.local_run import step_inputs_kept_whole

    ir = yaml.safe_load((REPO / "components" / "suggest" / "component.yaml").read_text())
    container = next(iter(ir["deploymentSpec"]["executors"].values()))["container"]
    executor_input = json.dumps({"inputs": {"parameterValues": {"experiment_name": "python3-quad", "experiment_spec": '{"command":["python3","t.py"]}'}}})
    command = container["command"] + [executor_input if arg == "{{$}}" else arg for arg in container["args"]]
    with step_inputs_kept_whole():
        replaced = handler.replace_python_executable(command, "/venv/bin/python")
    bootstrap = next(i for i, part in enumerate(command) if "kfp.dsl.executor_main" in part)
    assert "/venv/bin/python -m kfp.dsl.executor_main" in replaced[bootstrap] and "python3 -m" not in replaced[bootstrap]
    assert replaced[bootstrap + 1 :] == command[bootstrap + 1 :]  # the component's source and its inputs, as they were
    assert executor_input in replaced
    assert handler.replace_python_executable is not None and "bootstrap_only" not in repr(handler.replace_python_executable)


@pytest.mark.kfp_local
def test_kfp_local_steps_get_their_inputs_as_written(tmp_path):
    """An experiment named python3-..., a choice "python3.11" and a trial command "python3"
    reach the steps as the file has them under kfp.local: the store keeps the file's spec, and
    running the same file again reports the completed experiment instead of refusing it as
    changed (before: the name became "/path/to/python-quad" and the suggest step failed)."""
    doc = quadratic_experiment(**{"metadata.name": "python3-quad", "spec.maxTrialCount": 2, "spec.parallelTrialCount": 2})
    doc["spec"]["parameters"].append({"name": "runtime", "parameterType": "categorical", "feasibleSpace": {"list": ["python3.11", "python3.12"]}})
    doc["spec"]["trialTemplate"]["trialParameters"].append({"name": "runtime", "reference": "runtime"})
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"].append("runtime=${trialParameters.runtime}")
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(doc))
    store = tmp_path / "store"
    first = _kfp_tune("run", str(path), "--store", str(store), "--json")
    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)
    assert (out["experiment"], out["status"], out["succeeded"]) == ("python3-quad", "Succeeded", 2)
    assert out["best_trial"]["parameters"]["runtime"] in ("python3.11", "python3.12")
    stored = json.loads((store / "experiments" / "python3-quad" / "experiment.json").read_text())
    assert stored["spec"] == load_experiment(doc).to_dict()
    again = _kfp_tune("run", str(path), "--store", str(store), "--json")
    assert again.returncode == 0, again.stderr
    assert (json.loads(again.stdout)["trials"], json.loads(again.stdout)["status"]) == (2, "Succeeded")


@pytest.mark.kfp_local
@pytest.mark.s3
def test_kfp_local_run_against_seaweedfs(tmp_path, s3_env, s3_bucket):
    doc = quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 2})
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = _kfp_tune("run", str(path), "--store", f"s3://{s3_bucket}/tuning", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["succeeded"] == 2
    from kfp_tune.stores.s3 import S3Store

    store = S3Store.from_uri(f"s3://{s3_bucket}/tuning")
    keys = store.list("experiments/quad/")
    assert "experiments/quad/status.json" in keys and sum(k.endswith("/result.json") for k in keys) == 2
    everything = b"".join(store.get(k) or b"" for k in keys)
    assert s3_env["AWS_SECRET_ACCESS_KEY"].encode() not in everything
    assert s3_env["AWS_SECRET_ACCESS_KEY"] not in result.stdout + result.stderr


@pytest.mark.long
@pytest.mark.kfp_local
def test_the_readme_example_runs_end_to_end(tmp_path):
    """What `make demo` runs: the digits example through kfp.local."""
    pytest.importorskip("sklearn")
    result = _kfp_tune(
        "run", "images/sklearn-digits/experiment.yaml", "--mount", "/opt/digits=images/sklearn-digits",
        "--store", str(tmp_path / "store"), "--json", cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["status"], out["trials"], out["succeeded"]) == ("Succeeded", 12, 12)
    assert out["best_trial"]["metrics"]["accuracy"] > 0.9


@pytest.mark.long
@pytest.mark.kfp_local
def test_fresh_experiment_per_run_or_one_experiment_continued(tmp_path):
    """A recurring run's choice: each run tunes a new experiment (fresh_experiment), or every run
    continues the same one from the store (the default)."""
    from kfp_tune.pipelines.local_run import run_pipeline_locally
    from kfp_tune.stores import LocalStore

    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 2}))
    store = tmp_path / "store"
    for _ in range(2):
        run_pipeline_locally(experiment, str(store), {"kind": "local"}, None, str(tmp_path / "root"), fresh_experiment=True)
    names = sorted(p.name for p in (store / "experiments").iterdir())
    assert len(names) == 2 and all(re.fullmatch(r"quad-[a-z0-9]{6}", n) for n in names)
    from kfp_tune.reports import summarize

    for name in names:
        assert summarize(LocalStore(store), name)["succeeded"] == 2
    # continuing: a run of the same spec finds the budget spent and adds no trial; a larger
    # maxTrialCount restarts it, which Katib allows under resumePolicy LongRunning (or FromVolume)
    long_running = {"spec.parallelTrialCount": 2, "spec.resumePolicy": "LongRunning"}
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 2, **long_running}))
    bigger = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 3, **long_running}))
    run_pipeline_locally(experiment, str(store), {"kind": "local"}, None, str(tmp_path / "root"))
    run_pipeline_locally(experiment, str(store), {"kind": "local"}, None, str(tmp_path / "root"))
    assert summarize(LocalStore(store), "quad")["trials"] == 2
    run_pipeline_locally(bigger, str(store), {"kind": "local"}, None, str(tmp_path / "root"))
    summary = summarize(LocalStore(store), "quad")
    assert summary["trials"] == 3
    # the last run's decide-stop left the KFP UI its trial table and report
    last_run = max((tmp_path / "root").iterdir(), key=lambda p: p.name)
    table = (last_run / "decide-stop" / "trials_table").read_text()
    assert f"**{summary['best_trial']['name']}** (best)" in table and table.count("| Succeeded |") == 3
    assert (last_run / "decide-stop" / "report").read_text().startswith("<!DOCTYPE html>")


@pytest.mark.kfp_local
def test_checkpoints_refresh_the_ui_and_one_run_finishes_the_budget(tmp_path):
    """Hyperband (a rung waits for the one below) through kfp.local with a checkpoint every two
    trials: each checkpoint's decide-stop leaves a fresh trial table, and the run's last
    checkpoint runs to the end, so one run finishes the budget."""
    from kfp_tune.pipelines.local_run import run_pipeline_locally
    from kfp_tune.reports import summarize

    doc = quadratic_experiment(**{
        "spec.algorithm": {"algorithmName": "hyperband", "algorithmSettings": [{"name": "resource_name", "value": "e"}, {"name": "r_l", "value": "3"}, {"name": "eta", "value": "3"}]},
        "spec.maxTrialCount": 6,
        "spec.parallelTrialCount": 3,
    })
    doc["spec"]["parameters"].append({"name": "e", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "1"}})
    template = doc["spec"]["trialTemplate"]
    template["trialParameters"].append({"name": "e", "reference": "e"})
    template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"].append("e=${trialParameters.e}")
    experiment = load_experiment(doc)
    store = tmp_path / "store"
    run_pipeline_locally(experiment, str(store), {"kind": "local"}, 3, str(tmp_path / "root"), checkpoint_trials=2)
    summary = summarize(LocalStore(store), "quad")
    assert summary["status"] == "Succeeded" and summary["trials"] >= 4
    run_root = next((tmp_path / "root").iterdir())
    tables = sorted(p for p in run_root.iterdir() if p.name.startswith("decide-stop") and (p / "trials_table").exists())
    assert len(tables) >= 3, [p.name for p in run_root.iterdir()]  # two checkpoints and the exit handler at least


def test_build_pipeline_takes_the_experiment_as_a_path_text_or_dict_as_tuning_step_does(tmp_path):
    """The guide's build_pipeline(experiment, ...) with a YAML path failed with AttributeError
    ('str' object has no attribute 'spec'); each form now gives the same pipeline, and a bad
    experiment is a SpecError naming the field."""
    from kfp_tune.core.errors import SpecError
    from kfp_tune.pipelines import build_pipeline

    doc = quadratic_experiment()
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(doc))
    names = {build_pipeline(source).name for source in (doc, path, str(path), path.read_text(), load_experiment(doc))}
    assert names == {build_pipeline(load_experiment(doc)).name}
    with pytest.raises(SpecError) as caught:
        build_pipeline(quadratic_experiment(**{"spec.maxTrialCount": 0}))
    assert [e.path for e in caught.value.errors] == ["spec.maxTrialCount"]


def test_the_local_pipeline_never_limits_a_checkpoint_s_seconds(tmp_path):
    """kfp.local has no UI to refresh: the pipeline a kfp-local run compiles defaults
    checkpoint_seconds to 0 (no limit), which every launch step takes, so a checkpoint never
    hands back part-way and waits for the slowest trial."""
    from kfp import compiler

    from kfp_tune.pipelines.local_run import local_pipeline

    pipeline = local_pipeline(load_experiment(quadratic_experiment()), str(tmp_path / "store"), {"kind": "local"}, None)
    compiler.Compiler().compile(pipeline, str(tmp_path / "local.yaml"))
    ir = next(yaml.safe_load_all((tmp_path / "local.yaml").read_text()))
    assert ir["root"]["inputDefinitions"]["parameters"]["checkpoint_seconds"]["defaultValue"] == 0.0
    launches = [task for kind, task in _steps(ir) if kind == "launch-trial"]
    assert launches and all(  # the first checkpoint's from the nested checkpoints pipeline's own input, the others' through their dsl.If
        task["inputs"]["parameters"]["checkpoint_seconds"]["componentInputParameter"] in ("checkpoint_seconds", "pipelinechannel--checkpoint_seconds")
        for task in launches
    )


@pytest.mark.kfp_local
def test_a_kfp_local_run_under_another_run_s_live_claim_is_refused_unless_it_takes_over(tmp_path, monkeypatch):
    """The child that runs the kfp.local pipeline is told --take-over only when it was given:
    without it the run's first step refuses (ExperimentBusy, naming the other run); with it the
    run takes the experiment over and runs its trial."""
    import tempfile

    from kfp_tune.core import claims
    from kfp_tune.core.errors import KfpTuneError
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.pipelines.local_run import run_in_child
    from kfp_tune.reports import trial_rows
    from kfp_tune.steps import prepare

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    store = LocalStore(tmp_path / "store")
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1}))
    monkeypatch.setenv(claims.OWNER_VARIABLE, "another-host/1")  # a run on another machine, heard from just now
    prepare(ExperimentRecords(store, "quad"), experiment, "run-elsewhere")  # created, and claimed by that run
    monkeypatch.delenv(claims.OWNER_VARIABLE)
    with pytest.raises(KfpTuneError, match=r"failed in step suggest[\w-]*: ExperimentBusy: .*run-elsewhere"):
        run_in_child(experiment, str(store.root), {"kind": "local"}, None, take_over=False)
    assert trial_rows(store, "quad") == []
    run_in_child(experiment, str(store.root), {"kind": "local"}, None, take_over=True)
    assert [row["status"] for row in trial_rows(store, "quad")] == ["Succeeded"]
