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


def test_rounds_are_unrolled_with_caching_off(tmp_path):
    steps = _steps(_compile(tmp_path, rounds=3))
    kinds = [kind for kind, _ in steps]
    assert {k: kinds.count(k) for k in set(kinds)} == {"suggest": 3, "launch-trial": 3, "collect-metrics": 3, "decide-stop": 3}
    for kind, task in steps:
        assert not task.get("cachingOptions", {}).get("enableCache", False), f"caching on for {kind}"


def test_loop_parallelism_is_parallel_trial_count(tmp_path):
    ir = _compile(tmp_path, rounds=2, **{"spec.parallelTrialCount": 3})
    limits = [t["iteratorPolicy"]["parallelismLimit"] for _, t in _tasks(ir) if "iteratorPolicy" in t]
    assert limits == [3, 3]


def test_spec_is_a_constant_of_round_one_only(tmp_path):
    ir = _compile(tmp_path, rounds=2)
    specs = []
    for _, task in _tasks(ir):
        parameters = task.get("inputs", {}).get("parameters", {})
        if "experiment_spec" in parameters:
            specs.append(parameters["experiment_spec"]["runtimeValue"]["constant"])
    assert len(specs) == 2 and specs[1] == ""
    assert json.loads(specs[0])["metadata"]["name"] == "quad"


def test_pipeline_parameters_hold_no_credentials(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "compile-time-secret-xyz")
    ir = _compile(tmp_path)
    params = ir["root"]["inputDefinitions"]["parameters"]
    assert set(params) == {"store_uri", "experiment_name", "launcher_config", "take_over", "fresh_experiment", "s3_endpoint", "store_secret"}
    assert "compile-time-secret-xyz" not in (tmp_path / "p.yaml").read_text()
    assert not [p for p in params if re.search(r"key|password|token|credential", p, re.I)]


@pytest.mark.parametrize("preset, endpoint", [("seaweedfs", "http://seaweedfs.kubeflow:9000"), ("minio", "http://minio-service.kubeflow:9000")])
def test_every_step_gets_the_store_secret_as_env(tmp_path, preset, endpoint):
    ir, platform = _compile_both(tmp_path, rounds=2, object_store=preset)
    defaults = {k: v["defaultValue"] for k, v in ir["root"]["inputDefinitions"]["parameters"].items()}
    assert (defaults["s3_endpoint"], defaults["store_secret"]) == (endpoint, "mlpipeline-minio-artifact")
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert len(executors) == 8  # four steps, two rounds
    for name, config in executors.items():
        (secret,) = config["secretAsEnv"]
        # the Secret's name is the store_secret run parameter (in a loop or a condition, as passed
        # down to it), not a constant baked in
        assert secret["secretNameParameter"]["componentInputParameter"] in ("store_secret", "pipelinechannel--store_secret"), name
        assert {m["envVar"]: m["secretKey"] for m in secret["keyToEnv"]} == {"AWS_ACCESS_KEY_ID": "accesskey", "AWS_SECRET_ACCESS_KEY": "secretkey"}


def test_the_ui_gets_metrics_a_trial_table_and_a_report(tmp_path):
    ir = _compile(tmp_path, rounds=1)
    artifacts = {
        name: {k: v["artifactType"]["schemaTitle"] for k, v in component.get("outputDefinitions", {}).get("artifacts", {}).items()}
        for name, component in ir["components"].items()
    }
    assert artifacts["comp-collect-metrics"] == {"metrics": "system.Metrics"}
    assert artifacts["comp-decide-stop"] == {"trials_table": "system.Markdown", "report": "system.HTML"}


def test_a_thousand_trials_compile_under_the_size_budget(tmp_path):
    """maxTrialCount 1,000 (one at a time): the rounds are capped, trials per round come from
    the store at run time, so the YAML stays far under 1 MiB; hyperband may need more rounds."""
    from kfp_tune.steps.schedule import ALGORITHM_MAX_ROUNDS

    _compile(tmp_path, **{"spec.maxTrialCount": 1000, "spec.parallelTrialCount": 1})
    assert (tmp_path / "p.yaml").stat().st_size < 1024 * 1024
    _compile(tmp_path, rounds=ALGORITHM_MAX_ROUNDS, **{"spec.maxTrialCount": 1000})
    assert (tmp_path / "p.yaml").stat().st_size < 1024 * 1024


def test_default_rounds_follow_the_budget(tmp_path):
    ir = _compile(tmp_path, **{"spec.maxTrialCount": 6, "spec.parallelTrialCount": 2})
    assert [kind for kind, _ in _steps(ir)].count("suggest") == 3


def _kfp_tune(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "kfp-tune"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd, env=env or dict(os.environ), timeout=600)


@pytest.mark.kfp_local
def test_kfp_local_run_matches_the_inline_engine(tmp_path):
    doc = quadratic_experiment(**{"spec.maxTrialCount": 4})
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = _kfp_tune("run", str(path), "--store", str(tmp_path / "kfp"), "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["status"], out["trials"], out["succeeded"]) == ("Succeeded", 4, 4)

    inline_store = LocalStore(tmp_path / "inline")
    run_inline(inline_store, load_experiment(doc), LocalLauncher())
    from kfp_tune.reports import trial_rows

    kfp_rows = trial_rows(LocalStore(tmp_path / "kfp"), "quad")
    inline_rows = trial_rows(inline_store, "quad")
    # the same seed gives the same suggestions and metrics, whichever engine ran the steps
    assert [r["parameters"] for r in kfp_rows] == [r["parameters"] for r in inline_rows]
    assert [r["metrics"] for r in kfp_rows] == [r["metrics"] for r in inline_rows]


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
    # continuing: the second run finds the budget spent and adds no trial
    bigger = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 3, "spec.parallelTrialCount": 2}))
    run_pipeline_locally(experiment, str(store), {"kind": "local"}, None, str(tmp_path / "root"))
    run_pipeline_locally(bigger, str(store), {"kind": "local"}, None, str(tmp_path / "root"))
    summary = summarize(LocalStore(store), "quad")
    assert summary["trials"] == 3
    # the last run's decide-stop left the KFP UI its trial table and report
    last_run = max((tmp_path / "root").iterdir(), key=lambda p: p.name)
    table = (last_run / "decide-stop" / "trials_table").read_text()
    assert f"**{summary['best_trial']['name']}** (best)" in table and table.count("| Succeeded |") == 3
    assert (last_run / "decide-stop" / "report").read_text().startswith("<!DOCTYPE html>")


@pytest.mark.kfp_local
def test_rounds_used_up_says_so_and_the_next_run_resumes(tmp_path):
    """Hyperband needs a round per rung; a run compiled with one round ends after the first rung
    with the experiment Running, and says why; the next run resumes it to the end."""
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
    run_pipeline_locally(experiment, str(store), {"kind": "local"}, 1, str(tmp_path / "root"))
    first = summarize(LocalStore(store), "quad")
    assert (first["status"], first["reason"], first["trials"]) == ("Running", "ExperimentRunRoundsUsedUp", 3)
    table = next((tmp_path / "root").iterdir()) / "decide-stop" / "trials_table"
    assert "quad: Running (ExperimentRunRoundsUsedUp)" in table.read_text()
    run_pipeline_locally(experiment, str(store), {"kind": "local"}, None, str(tmp_path / "root"))
    second = summarize(LocalStore(store), "quad")
    assert second["status"] == "Succeeded" and second["trials"] > first["trials"]
