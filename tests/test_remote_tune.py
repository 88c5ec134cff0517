"""``tune(fn, ..., host=)`` / ``kfp_tune.submit_function``: a Python function's trials on Kubeflow.

What is sent goes through the real kfp.Client to the local fake KFP API (tests/support/fake_kfp.py);
the trial's Job through the real Kubernetes launcher to the fake Kubernetes API
(tests/support/fake_kube.py); and the very experiment that was sent runs end to end under
kfp.local with the local launcher, which runs the Job's ``sh -c`` command as a subprocess."""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import pytest

import kfp_tune
from fake_kfp import API, serve
from kfp_tune import remote, search
from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.template import substitute
from kfp_tune.remote import RemoteArgumentError, RemoteTuning, function_job_experiment, trial_resources

SECRET = "kfptune-not-to-be-sent-77c1"


def quadratic(params):
    """Returns its metric: smallest at x=2, c='bb' (typed values: x an int, c a str)."""
    import math

    return math.fsum([(params["x"] - 2) ** 2, 0.5 * (params["c"] != "bb")])


def printing_quadratic(params):
    """Katib's way: prints name=value and returns None; also checks the values' types."""
    if not (isinstance(params["x"], int) and isinstance(params["c"], str)):  # no assert: pytest rewrites those
        raise TypeError(f"parameters not typed: {params}")
    print(f"loss={(params['x'] - 2) ** 2 + 0.5 * (params['c'] != 'bb')}")


def dict_metrics(params):
    return {"loss": params["lr"] * 10, "accuracy": 1 - params["lr"], "ignored-nan": float("nan")}


def annotated(params: dict[str, Any]) -> float:
    """Type hints that name what only this module imports (Any): they are never evaluated in the trial."""
    return float((params["x"] - 2) ** 2)


def always_fails(params):
    raise ValueError(f"no good at x={params['x']}")


SPACE = {"x": search.discrete([1, 2, 3]), "c": search.categorical(["a", "bb"])}


@pytest.fixture
def kfp_host(monkeypatch):
    """The fake KFP API, answering GET run with ``fake.run_state``; nothing secret is ever sent."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "kfptune-access-id")
    fake, server = serve()
    fake.run_state = "RUNNING"
    recorded = fake.handle

    def handle(request):
        prefix = f"{API}/runs/"
        if request.method == "GET" and request.path.startswith(prefix) and request.path[len(prefix):] in fake.runs:
            fake.requests.append(request)
            return 200, dict(fake.runs[request.path[len(prefix):]], state=fake.run_state)
        return recorded(request)

    fake.handle = handle
    yield fake
    server.shutdown()
    everything = json.dumps([r.body for r in fake.requests]) + json.dumps([r.headers for r in fake.requests])
    assert SECRET not in everything and "kfptune-access-id" not in everything


def _sent_experiment(run: dict):
    """The Katib Experiment embedded in the pipeline that was sent (suggest's constant input)."""
    specs = []
    pipeline = run["pipeline_spec"]["pipeline_spec"]
    for component in [pipeline["root"], *pipeline["components"].values()]:
        for task in (component.get("dag") or {}).get("tasks", {}).values():
            constant = task.get("inputs", {}).get("parameters", {}).get("experiment_spec", {}).get("runtimeValue", {}).get("constant")
            if constant:
                specs.append(constant)
    (spec,) = specs
    return load_experiment(json.loads(spec))


def _container(job: dict) -> dict:
    (container,) = job["spec"]["template"]["spec"]["containers"]
    return container


def test_the_experiment_sent_keeps_the_objective_and_limits_given(kfp_host):
    """The goal, the additional metrics, the failed-trial limit, the objective type and the
    algorithm's settings reach the Experiment a Kubeflow run reads: one left out would go
    unnoticed until the run went on past its goal or its failures."""
    kfp_tune.tune(
        dict_metrics, {"lr": search.double(0.01, 0.1)}, objective_metric_name="loss", objective_type="maximize", goal=0.25, additional_metric_names=["accuracy"],
        max_trial_count=6, parallel_trial_count=2, max_failed_trial_count=3, algorithm="tpe", algorithm_settings={"n_startup_trials": 4},
        name="quad-goal", host=kfp_host.url, base_image="python:3.11-slim",
    )
    (run,) = kfp_host.posted("runs")
    spec = _sent_experiment(run).spec
    assert (spec.objective.type, spec.objective.goal, spec.objective.additional_metric_names) == ("maximize", 0.25, ["accuracy"])
    assert (spec.max_trial_count, spec.parallel_trial_count, spec.max_failed_trial_count) == (6, 2, 3)
    assert spec.algorithm.algorithm_name == "tpe"
    assert [(s.name, s.value) for s in spec.algorithm.algorithm_settings] == [("n_startup_trials", "4")]


def test_what_is_sent_for_a_function(kfp_host):
    handle = kfp_tune.tune(
        quadratic, SPACE, objective_metric_name="loss", max_trial_count=5, parallel_trial_count=2, name="quad-remote",
        host=kfp_host.url, base_image="python:3.11-slim", namespace="team-a",
        resources_per_trial={"cpu": "500m", "memory": "1Gi", "gpu": 1}, env_per_trial={"MODE": "fast", "SEED": 7},
        packages_to_install=["scikit-learn==1.5.0", "numpy<3"], pip_index_urls=["https://pypi.org/simple", "https://mirror.example/simple"],
        trial_active_deadline_seconds=900, retain_trials=True, store="s3://team-bucket/tuning", run_name="quad-now",
    )
    (run,) = kfp_host.posted("runs")
    assert (handle.run_id, handle.experiment, handle.store) == (next(iter(kfp_host.runs)), "quad-remote", "s3://team-bucket/tuning")
    assert handle.url == f"{kfp_host.url}/#/runs/details/{handle.run_id}" and run["display_name"] == "quad-now"
    # the trials' namespace reaches the Kubernetes launcher as a run argument; the store as the default
    assert run["runtime_config"]["parameters"] == {"launcher_config": json.dumps({"kind": "kubernetes", "namespace": "team-a"}, sort_keys=True)}
    defaults = {k: v.get("defaultValue") for k, v in run["pipeline_spec"]["pipeline_spec"]["root"]["inputDefinitions"]["parameters"].items()}
    assert defaults["store_uri"] == "s3://team-bucket/tuning"

    experiment = _sent_experiment(run)
    assert (experiment.metadata.namespace, experiment.spec.max_trial_count, experiment.spec.parallel_trial_count) == ("team-a", 5, 2)
    assert experiment.spec.metrics_collector_spec.collector.kind == "StdOut"
    template = experiment.spec.trial_template
    assert template.retain is True and template.primary_container_name == "training-container"
    assert [(p.name, p.reference) for p in template.trial_parameters] == [("x", "x"), ("c", "c")]
    job = template.trial_spec
    assert (job["apiVersion"], job["kind"], job["spec"]["activeDeadlineSeconds"]) == ("batch/v1", "Job", 900)
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    container = _container(job)
    assert (container["image"], container["command"]) == ("python:3.11-slim", ["sh", "-c"])
    quantities = {"cpu": "500m", "memory": "1Gi", "nvidia.com/gpu": "1"}
    assert container["resources"] == {"limits": quantities, "requests": quantities}
    assert container["env"] == [{"name": "MODE", "value": "fast"}, {"name": "SEED", "value": "7"}]
    (script,) = container["args"]
    lines = script.split("\n")
    assert lines[0] == "set -e"
    assert lines[1] == (
        "PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install --quiet --prefer-binary --no-warn-script-location "
        "--index-url https://pypi.org/simple --extra-index-url https://mirror.example/simple scikit-learn==1.5.0 'numpy<3'"
    )
    assert inspect.getsource(quadratic) in script  # the source, as written
    assert "texts = {'x': r'''${trialParameters.x}''', 'c': r'''${trialParameters.c}'''}" in script
    assert "def _kfp_tune_trial(_kfp_tune_objective=quadratic):" in script
    assert lines[-1] == 'python3 -u "$kfp_tune_program"'  # last, so Katib's webhook can append its redirect


@pytest.mark.parametrize("submit", [kfp_tune.submit_function, kfp_tune.tune])
def test_trials_are_not_retained_unless_asked(kfp_host, submit):
    """Katib's SDK tune() takes retain_trials=False unless told (a trial's resources are deleted
    once it succeeds): submit_function's default and tune(host=)'s both reach the sent
    trialTemplate.retain."""
    submit(quadratic, SPACE, host=kfp_host.url, name="quad-retain")
    (run,) = kfp_host.posted("runs")
    assert _sent_experiment(run).spec.trial_template.retain is False


def test_resources_per_trial_takes_every_suffix_kubernetes_does():
    """A part of a core in micro- or nano-cores (apimachinery's ``u`` and ``n``) is a quantity
    Kubernetes takes; it was refused."""
    assert trial_resources({"cpu": "500000u"}) == {"limits": {"cpu": "500000u"}, "requests": {"cpu": "500000u"}}
    assert trial_resources({"requests": {"cpu": "250000000n"}}) == {"requests": {"cpu": "250000000n"}}


def test_the_trial_job_on_kubernetes_runs_the_substituted_function():
    """The Kubernetes launcher against the fake API: the Job it creates is schema-valid, has the
    GPU limit and the values substituted; its command, run here as the container would run it,
    calls the function with those values and prints the returned metrics as name=value."""
    import time

    from fake_kube import Script, validate
    from fake_kube import serve as serve_kube
    from kfp_tune.core.state import TrialState
    from kfp_tune.core.trials import trial_run
    from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher

    experiment = function_job_experiment(
        dict_metrics, {"lr": search.double(0.01, 0.5)}, name="lr-remote", objective_metric_name="loss", additional_metric_names=["accuracy"],
        resources_per_trial={"limits": {"nvidia.com/gpu": 2, "memory": "8Gi"}}, env_per_trial=[{"name": "MODE", "value": "x"}],
        trial_active_deadline_seconds=60,
    )
    kube, server = serve_kube()
    try:
        kube.script = lambda manifest: Script(run_seconds=0.05, log=[(0.0, "loss=1.25")])
        launcher = KubernetesLauncher(KubernetesConfig(namespace="team-a", poll_seconds=0.05), api_client=kube.api_client(), sleep=time.sleep)
        trial = TrialState(name="lr-remote-abcd1234", index=0, round="run-1-r000", assignment={"lr": "0.125"}, created="")
        outcome = launcher.run(trial_run(experiment, trial, "team-a"))
    finally:
        server.shutdown()
        server.server_close()
    assert outcome.phase == "Succeeded" and outcome.logs == {"training-container": "loss=1.25\n"}
    (job,) = [c.body for c in kube.calls if c.method == "POST" and c.body.get("kind") == "Job"]
    validate(job)
    assert job["metadata"]["namespace"] == "team-a" and job["spec"]["activeDeadlineSeconds"] == 60
    container = next(c for c in job["spec"]["template"]["spec"]["containers"] if c["name"] == "training-container")
    assert container["resources"] == {"limits": {"nvidia.com/gpu": "2", "memory": "8Gi"}}
    assert {"name": "MODE", "value": "x"} in container["env"]
    assert container["command"] == ["sh", "-c"] and "${trialParameters" not in container["args"][0]
    assert "'lr': r'''0.125'''" in container["args"][0]
    printed = _run_as_the_container(container["args"][0])
    assert printed.splitlines() == ["loss=1.25", "accuracy=0.875"]  # nan is not a metric


def _run_as_the_container(script: str) -> str:
    """``sh -c SCRIPT`` with this Python first in PATH as ``python3``, as the local launcher runs it."""
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)]))
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("objective", [quadratic, printing_quadratic], ids=["returns", "prints"])
def test_the_function_runs_as_the_rendered_command_with_typed_values(objective):
    experiment = function_job_experiment(objective, SPACE, name="quad", objective_metric_name="loss")
    # what tune(host=) and submit_function() would send, their default algorithm included
    assert experiment.spec.algorithm.algorithm_name == "bayesianoptimization"
    job = substitute(experiment.spec.trial_template.trial_spec, {"x": "3", "c": "a"})
    assert _run_as_the_container(_container(job)["args"][0]).strip() == "loss=1.5"


def uses_fixed_values(params):
    assert params["is_dist"] is False and params["note"] is None and params["quote"] == "it's \"${x}\"\n"
    return {"loss": params["x"] * params["num_workers"] + sum(params["layers"]) + params["opts"]["scale"]}


def test_fixed_values_reach_the_function_in_the_trial_as_given():
    """Katib's SDK writes the fixed values of ``parameters`` into the trial's call
    (``"is_dist": False``); kfp-tune refused them. They come through JSON, in the caller's order."""
    parameters = {"is_dist": False, "x": search.discrete([1, 2, 3]), "num_workers": 4, "layers": [10, 20], "opts": {"scale": 0.5},
                  "note": None, "quote": "it's \"${x}\"\n"}
    experiment = function_job_experiment(uses_fixed_values, parameters, name="fixed", objective_metric_name="loss")
    assert [p.name for p in experiment.spec.parameters] == ["x"]
    job = substitute(experiment.spec.trial_template.trial_spec, {"x": "3"})
    assert _run_as_the_container(_container(job)["args"][0]).strip() == "loss=42.5"


def scalar_array_loss(params):
    import numpy as np

    return {"loss": np.array(params["x"] * 0.5, dtype=np.float32), "accuracy": np.float64(0.75)}


def vector_loss(params):
    import numpy as np

    return {"loss": np.array([params["x"], 1.0])}


def test_a_value_held_in_a_0_d_array_is_a_metric_in_the_trial_too():
    """As in process (FunctionLauncher): one number in a NumPy 0-d array is printed as the
    metric; an array of several values fails the trial command, saying its shape."""
    job = substitute(function_job_experiment(scalar_array_loss, {"x": search.int(1, 3)}, name="a", objective_metric_name="loss").spec.trial_template.trial_spec, {"x": "3"})
    assert _run_as_the_container(_container(job)["args"][0]).splitlines() == ["loss=1.5", "accuracy=0.75"]
    job = substitute(function_job_experiment(vector_loss, {"x": search.int(1, 3)}, name="v", objective_metric_name="loss").spec.trial_template.trial_spec, {"x": "2"})
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)]))
    done = subprocess.run(["sh", "-c", _container(job)["args"][0]], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode != 0 and "TypeError: metric 'loss' is ndarray of shape (2,); expected a number" in done.stderr, done.stderr


def numpy_boolean_loss(params):
    import numpy as np

    return np.bool_(params["x"] > 1)


def test_a_numpy_boolean_is_refused_in_the_trial_as_in_process():
    """Mutation QA (N04): a function returning ``np.bool_(True)`` (a comparison, not a loss) is
    refused in process (FunctionLauncher); the Kubeflow trial's wrapper printed it as loss=1.0,
    a metric. It fails the trial command there too, naming what it returned."""
    job = substitute(function_job_experiment(numpy_boolean_loss, {"x": search.int(1, 3)}, name="nb", objective_metric_name="loss").spec.trial_template.trial_spec, {"x": "2"})
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)]))
    done = subprocess.run(["sh", "-c", _container(job)["args"][0]], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode != 0 and "numpy_boolean_loss returned bool" in done.stderr, done.stderr
    assert "loss=" not in done.stdout


def test_a_function_that_fails_fails_the_trial_command():
    def broken(params):
        raise RuntimeError("boom in the trial")

    job = substitute(function_job_experiment(broken, {"x": search.int(1, 3)}, name="b").spec.trial_template.trial_spec, {"x": "2"})
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)]))
    done = subprocess.run(["sh", "-c", _container(job)["args"][0]], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode != 0 and "RuntimeError: boom in the trial" in done.stderr


@pytest.mark.kfp_local
@pytest.mark.parametrize("objective", [quadratic, printing_quadratic], ids=["returns", "prints"])
def test_end_to_end_on_kfp_local(kfp_host, tmp_path, objective):
    """What tune(host=) sent runs under kfp.local (local launcher: the Job's command as a
    subprocess), into the store the handle reads; wait() then gives the best parameters."""
    handle = kfp_tune.tune(
        objective, SPACE, objective_metric_name="loss", algorithm="grid", max_trial_count=6, parallel_trial_count=2,
        name=f"quad-{objective.__name__.replace('_', '-')}", host=kfp_host.url, store="s3://team-bucket/tuning",
    )
    result = _run_what_was_sent(kfp_host, handle, tmp_path)
    assert (result.status, len(result.trials)) == ("Succeeded", 6)
    assert all(t.status == "Succeeded" for t in result.trials), [(t.name, t.status) for t in result.trials]
    assert result.best_trial.parameters == {"x": 2, "c": "bb"} and result.best_trial.metrics["loss"] == 0.0
    assert sorted(t.metrics["loss"] for t in result.trials) == [0.0, 0.5, 1.0, 1.0, 1.5, 1.5]


def _run_what_was_sent(kfp_host, handle, tmp_path):
    """The pipeline run that was sent, run under kfp.local into a local folder (the cluster's
    s3:// store stands here), and wait() on the handle reading that folder."""
    from kfp_tune.pipelines.local_run import run_pipeline_locally

    store = tmp_path / "store"
    (run,) = kfp_host.posted("runs")
    run_pipeline_locally(_sent_experiment(run), str(store), {"kind": "local"}, None, str(tmp_path / "root"))
    kfp_host.run_state = "SUCCEEDED"
    return dataclasses.replace(handle, store=str(store)).wait(timeout=60, poll_seconds=0.05)


@pytest.mark.kfp_local
def test_wait_warns_when_no_trial_succeeded(kfp_host, tmp_path):
    """As the in-process tune() does: Katib's rules end the experiment Succeeded (maxTrialCount
    reached), so an objective that raises every time must not pass unseen."""
    handle = kfp_tune.tune(always_fails, {"x": search.int(1, 3)}, algorithm="grid", max_trial_count=2, name="fails", host=kfp_host.url)
    with pytest.warns(UserWarning, match=r"tune\(\): none of the 2 trials succeeded; the last failed trial, fails-\w+, ended with ") as caught:
        result = _run_what_was_sent(kfp_host, handle, tmp_path)
    (warning,) = [w for w in caught if "none of the" in str(w.message)]
    assert result.status == "Succeeded" and {t.status for t in result.trials} == {"Failed"}
    assert f"get_trial_logs(('fails', '{result.trials[-1].name}'))" in str(warning.message) and handle.url in str(warning.message)


@pytest.mark.kfp_local
def test_wait_does_not_warn_when_a_trial_succeeded(kfp_host, tmp_path):
    handle = kfp_tune.tune(quadratic, SPACE, objective_metric_name="loss", algorithm="grid", max_trial_count=1, name="one", host=kfp_host.url)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _run_what_was_sent(kfp_host, handle, tmp_path)
    assert [t.status for t in result.trials] == ["Succeeded"]
    assert not [w for w in caught if "succeeded" in str(w.message)]


def test_wait_says_how_the_run_ended(kfp_host, tmp_path, monkeypatch):
    monkeypatch.setattr(remote, "FAILED_RUN_LOOK_SECONDS", 0.0)  # its store (s3://) is nowhere: one look, not 5 s of retries
    handle = kfp_tune.submit_function(quadratic, SPACE, host=kfp_host.url, name="quad-w")
    with pytest.raises(TimeoutError, match=re.escape(f"run {handle.run_id} of experiment 'quad-w' is still running")):
        handle.wait(timeout=0.2, poll_seconds=0.05)
    kfp_host.run_state = "FAILED"
    with pytest.raises(KfpTuneError, match=re.escape(f"ended FAILED: see {handle.url}")):
        handle.wait(timeout=5, poll_seconds=0.05)
    kfp_host.run_state = "SUCCEEDED"  # but nothing was ever written to the store
    with pytest.raises(KfpTuneError, match=r"has no records in .* yet"):
        dataclasses.replace(handle, store=str(tmp_path / "store")).wait(timeout=5, poll_seconds=0.05)


def test_a_run_that_has_ended_is_not_called_still_running(kfp_host, monkeypatch):
    """However short the timeout: kfp's own wait looks at the clock before the run's state, so
    a slow first request made an ended run read as timed out."""
    monkeypatch.setattr(remote, "FAILED_RUN_LOOK_SECONDS", 0.0)  # its store (s3://) is nowhere: one look
    handle = kfp_tune.submit_function(quadratic, SPACE, host=kfp_host.url, name="quad-e")
    for state in ("FAILED", "CANCELED"):
        kfp_host.run_state = state
        with pytest.raises(KfpTuneError, match=re.escape(f"ended {state}: see {handle.url}")):
            handle.wait(timeout=1e-9, poll_seconds=0.05)


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"timeout": 0}, "timeout: expected seconds greater than 0, got 0"),
        ({"timeout": "10"}, "timeout: expected seconds greater than 0, got '10'"),
        ({"poll_seconds": -1}, "poll_seconds: expected a finite number of seconds greater than 0, got -1"),
        ({"poll_seconds": 0}, "poll_seconds: expected a finite number of seconds greater than 0, got 0"),
        ({"poll_seconds": "10"}, "poll_seconds: expected a finite number of seconds greater than 0, got '10'"),
        ({"poll_seconds": float("inf")}, "poll_seconds: expected a finite number of seconds greater than 0, got inf"),
        ({"poll_seconds": True}, "poll_seconds: expected a finite number of seconds greater than 0, got True"),
    ],
)
def test_wait_refuses_a_timeout_or_poll_that_is_not_seconds_before_asking_the_host(arguments, words):
    """poll_seconds=-1 or "10" reached kfp's wait, and its ValueError / TypeError was blamed on
    the host ("KFP API ... could not be reached: ValueError: sleep length must be non-negative")."""
    asked = []

    class Client:
        def get_run(self, run_id):
            asked.append(run_id)

        def wait_for_run_completion(self, run_id, timeout, sleep_duration):
            asked.append(run_id)

    handle = RemoteTuning("quad", "r1", "http://kfp.example/#/runs/details/r1", "e1", "s3://bucket/x", Client())
    with pytest.raises(RemoteArgumentError) as info:
        handle.wait(**arguments)
    assert str(info.value) == words and asked == []


def test_a_store_that_cannot_be_read_here_is_a_clear_error(kfp_host, monkeypatch):
    from kfp_tune.stores.s3 import AWS_HINTS, ENDPOINT_VARIABLES

    for name in (*ENDPOINT_VARIABLES, *AWS_HINTS):  # no endpoint here, nor a hint that it is AWS's
        monkeypatch.delenv(name, raising=False)
    handle = kfp_tune.submit_function(quadratic, SPACE, host=kfp_host.url, name="quad-s3")
    assert handle.store == "s3://mlpipeline/kfp-tune"
    kfp_host.run_state = "SUCCEEDED"
    with pytest.raises(KfpTuneError, match="are in s3://mlpipeline/kfp-tune, which cannot be read from here: an s3:// store needs an S3 endpoint"):
        handle.wait(timeout=5, poll_seconds=0.05)


def test_other_argument_forms():
    """A V1ResourceRequirements and V1EnvVar / V1EnvFromSource from the kubernetes client, as
    Katib accepts them; a credential by reference is fine."""
    from kubernetes import client as k8s

    experiment = function_job_experiment(
        quadratic, SPACE, name="forms",
        resources_per_trial=k8s.V1ResourceRequirements(limits={"amd.com/gpu": "1", "cpu": "2"}, requests={"cpu": "1"}),
        env_per_trial=[
            k8s.V1EnvVar(name="HF_TOKEN", value_from=k8s.V1EnvVarSource(secret_key_ref=k8s.V1SecretKeySelector(name="hf", key="token"))),
            k8s.V1EnvFromSource(config_map_ref=k8s.V1ConfigMapEnvSource(name="settings")),
        ],
        pip_index_urls=[],
        packages_to_install=["numpy"],
    )
    container = _container(experiment.spec.trial_template.trial_spec)
    assert container["resources"] == {"limits": {"amd.com/gpu": "1", "cpu": "2"}, "requests": {"cpu": "1"}}
    assert container["env"] == [{"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf", "key": "token"}}}]
    assert container["envFrom"] == [{"configMapRef": {"name": "settings"}}]
    assert "--no-warn-script-location numpy\n" in container["args"][0]  # no index given: pip's own


NAMESPACE_GLOBAL = 3


def uses_a_global(params):
    return params["x"] * NAMESPACE_GLOBAL


def _closure():
    factor = 2

    def inner(params):
        return params["x"] * factor

    return inner


def _decorated():
    import functools

    @functools.cache
    def cached(params):
        return 1.0

    return cached


def _pass(function):
    return function


@_pass
def decorated(params):
    return 1.0


def two_arguments(params, extra):
    return 1.0


def scaled_by_a_global(params, scale=NAMESPACE_GLOBAL):
    """Its default value is evaluated when the trial's script defines it, where NAMESPACE_GLOBAL is not."""
    return params["x"] * scale


class NotAClient:
    pass


def _named_like_a_builtin():
    def max(params):
        return 1.0

    return max


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"objective": lambda p: 1.0}, "objective: a lambda cannot be shipped to a trial"),
        ({"objective": len}, "objective: expected a function defined with def, got builtin_function_or_method"),
        ({"objective": uses_a_global}, "objective: uses_a_global uses NAMESPACE_GLOBAL from outside itself"),
        ({"objective": _closure()}, "objective: inner uses factor from the function around it"),
        ({"objective": decorated}, "objective: decorated must be a plain def, without decorators"),
        ({"objective": _decorated()}, "objective: expected a function defined with def, got _lru_cache_wrapper"),
        ({"objective": two_arguments}, "two_arguments(params, extra) must take"),
        ({"objective": _named_like_a_builtin()}, "tune(): objective: max is the name of a Python builtin"),
        ({"objective": scaled_by_a_global}, "tune(): objective: scaled_by_a_global uses NAMESPACE_GLOBAL from outside itself"),
        ({"objective_metric_name": "val.acc"}, "tune(): objective_metric_name: 'val.acc' cannot be read from the trial's output"),
        ({"objective_metric_name": "val acc"}, "only names made of ASCII letters, digits, '_', '-' and '|'; rename it, e.g. 'val_acc'"),
        ({"additional_metric_names": ["loss", "val/acc"]}, "tune(): additional_metric_names[1]: 'val/acc' cannot be read"),
        ({"objective_metric_name": "précision"}, "tune(): objective_metric_name: 'précision' cannot be read"),
        ({"object_store": "nope"}, "tune(): object_store: expected one of 'minio', 'seaweedfs'"),
        ({"service_account": "Bad SA!"}, "tune(): service_account: expected a Kubernetes service account name (a DNS-1123 subdomain"),
        ({"service_account": "a" * 254}, "tune(): service_account: expected a Kubernetes service account name"),
        ({"kfp_experiment": 5}, "tune(): kfp_experiment: expected a non-empty string or None, got 5"),
        ({"run_name": 5}, "tune(): run_name: expected a non-empty string or None, got 5"),
        ({"host": None, "client": "http://x"}, "tune(): client: expected a kfp.Client, got the string 'http://x'; for the KFP API's URL pass host="),
        ({"host": None, "client": NotAClient()}, "tune(): client: expected a kfp.Client, such as kfp.Client(host=URL), got NotAClient"),
        ({"host": ""}, "tune(): host: expected the KFP API's URL, e.g. http://ml-pipeline-ui.kubeflow, got ''"),
        ({"host": "ftp://kfp.example"}, "tune(): host: ftp://kfp.example: expected http:// or https:// before the host, e.g. http://kfp.example "),
        ({"store": "./runs"}, "tune(): store: './runs' is not an s3:// URI: the run's steps and trials run in pods on the cluster"),
        ({"store": Path("runs")}, "tune(): store: 'runs' is not an s3:// URI"),
        ({"store": "file:///data/runs"}, "expected a bucket in the cluster's object store, e.g. s3://mlpipeline/kfp-tune"),
        ({"store": "s3://Bad_Bucket/x"}, "tune(): store: store URI 's3://Bad_Bucket/x': 'Bad_Bucket' is not an S3 bucket name"),
        ({"env_per_trial": {"HF_TOKEN": SECRET}}, "env_per_trial['HF_TOKEN']: looks like a credential"),
        ({"env_per_trial": [{"name": "AWS_SECRET_ACCESS_KEY", "value": SECRET}]}, "env_per_trial['AWS_SECRET_ACCESS_KEY']: looks like a credential"),
        ({"env_per_trial": {"KFP_TUNE_STORE": "x"}}, "env_per_trial['KFP_TUNE_STORE']: names starting KFP_TUNE_ are set by kfp-tune"),
        ({"env_per_trial": "MODE=fast"}, "env_per_trial: expected a dict of name: value or a list"),
        ({"env_per_trial": {"A": [1]}}, "env_per_trial['A']: expected a string or a number as the value, got list"),
        ({"env_per_trial": {"A": True}}, "env_per_trial['A']: expected a string or a number as the value, got bool"),
        ({"env_per_trial": [{"name": "A", "valueFrom": {"secretKeyRef": {}}, "value": "v"}]}, "env_per_trial['A']: valueFrom: expected exactly one of"),
        ({"resources_per_trial": {"gpu": "half"}}, "resources_per_trial['gpu']: expected a Kubernetes quantity"),
        ({"resources_per_trial": {"cpu": "2\n"}}, "resources_per_trial['cpu']: expected a Kubernetes quantity"),
        ({"resources_per_trial": {"memory": "-1Gi"}}, "resources_per_trial['memory']: expected a Kubernetes quantity"),
        ({"resources_per_trial": {"cpu": "٣"}}, "resources_per_trial['cpu']: expected a Kubernetes quantity"),  # Go reads ASCII digits only
        ({"resources_per_trial": {"gpu": "0.5"}}, "resources_per_trial['gpu']: expected a whole number of GPUs"),
        ({"resources_per_trial": {"tpu": 1}}, "resources_per_trial['tpu']: expected one of"),
        ({"resources_per_trial": {"limits": {"nvidia.com/gpu": 1}, "requests": {"nvidia.com/gpu": 2}}}, "the request equal to the limit"),
        ({"base_image": "python 3"}, "base_image: expected an image reference"),
        ({"namespace": "Team_A"}, "namespace: expected a Kubernetes namespace, a DNS-1123 label"),
        ({"trial_active_deadline_seconds": 0}, "trial_active_deadline_seconds: expected a whole number of 1 or more"),
        ({"retain_trials": "yes"}, "retain_trials: expected True or False"),
        ({"packages_to_install": "numpy"}, "packages_to_install: expected a list of non-empty strings"),
        ({"pip_index_urls": [f"https://me:{SECRET}@pypi.example/simple"]}, "pip_index_urls: credentials do not belong in an index URL"),
        ({"pip_index_urls": [f"ftp://me:{SECRET}@mirror.example/simple"]}, "pip_index_urls: expected http(s) URLs, got 'ftp://***@mirror.example/simple'"),
        ({"pip_index_urls": [f"https//me:{SECRET}@mirror.example/simple"]}, "pip_index_urls: expected http(s) URLs, got 'https//***@mirror.example/simple'"),
        ({"pip_index_urls": f"https://me:{SECRET}@mirror.example/simple"}, "pip_index_urls: expected a list of non-empty strings, got 'https://***@mirror"),
        ({"packages_to_install": [f"git+https://me:{SECRET}@github.com/org/pkg", ""]},
         "packages_to_install: expected a list of non-empty strings, got ['git+https://***@github.com/org/pkg', '']"),
        ({"parameters": {"c": search.categorical(["it's"])}}, "parameters['c']: the value \"it's\" has a quote"),
        ({"parameters": {"x": search.double(2, 1)}}, "parameters['x'].min"),
        ({"parameters": {**SPACE, "shape": (2, 3)}}, "tune(): parameters['shape']: a fixed value is written into each trial's script as JSON, so it must come back as it is"),
        ({"parameters": {**SPACE, "ids": {1, 2}}}, "parameters['ids']: a fixed value is written into each trial's script as JSON"),
        ({"parameters": {**SPACE, "by_id": {1: "a"}}}, "parameters['by_id']: a fixed value"),
        ({"parameters": {**SPACE, "rate": float("nan")}}, "parameters['rate']: a fixed value"),
        ({"max_trial_count": "5"}, "tune(): max_trial_count (spec.maxTrialCount): expected an integer"),
        ({"name": Path("exp-path")}, "tune(): name (metadata.name): expected the experiment's name, a string (e.g. 'lr-search'), or None, got PosixPath('exp-path')"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_sent(kfp_host, changes, message):
    arguments = {"objective": quadratic, "parameters": SPACE, "host": kfp_host.url, **changes}
    with pytest.raises((TypeError, ValueError)) as raised:
        kfp_tune.tune(**arguments)
    assert message in str(raised.value)
    assert SECRET not in str(raised.value)
    assert kfp_host.requests == []


def test_a_host_with_credentials_is_refused_before_anything_is_sent(kfp_host):
    host = kfp_host.url.replace("http://", f"http://me:{SECRET}@")
    with pytest.raises(RemoteArgumentError, match=re.escape("tune(): host: credentials do not belong in the host URL")) as raised:
        kfp_tune.submit_function(quadratic, SPACE, host=host)
    assert SECRET not in str(raised.value) and kfp_host.requests == []


def test_a_host_without_a_scheme_is_refused_before_anything_is_sent(kfp_host):
    """kfp.Client would speak HTTPS to it, and the plain-HTTP host answer with an SSL error."""
    bare = kfp_host.url.removeprefix("http://")
    with pytest.raises(RemoteArgumentError, match=re.escape(f"tune(): host: {bare}: expected http:// or https:// before the host, e.g. http://{bare} ")):
        kfp_tune.tune(quadratic, SPACE, host=bare)
    assert kfp_host.requests == []


def test_type_hints_may_name_what_the_module_imports(kfp_host):
    """Annotations are never evaluated in the trial (its script starts with ``from __future__
    import annotations``), so ``dict[str, Any]`` works though ``Any`` is not imported there;
    the script that was sent runs as the container runs it."""
    kfp_tune.tune(annotated, SPACE, host=kfp_host.url, name="annotated")
    (run,) = kfp_host.posted("runs")
    job = substitute(_sent_experiment(run).spec.trial_template.trial_spec, {"x": "3", "c": "a"})
    assert _run_as_the_container(_container(job)["args"][0]).strip() == "objective=1.0"


def test_metric_names_the_stdout_collector_reads_are_read_back():
    """The names allowed are those Katib's default StdOut filter reads: '-' and '|' too. (The
    function is named as the call in the trial names its own variable: it is still the one called.)"""
    from kfp_tune.collectors.stdout import parse_metric_lines

    def metrics(params):
        return {"val-acc": 0.25, "top|1": 0.5, "loss_2": params["lr"]}

    experiment = function_job_experiment(
        metrics, {"lr": search.double(0.01, 0.5)}, name="names", objective_metric_name="val-acc", additional_metric_names=["top|1", "loss_2"],
    )
    job = substitute(experiment.spec.trial_template.trial_spec, {"lr": "0.125"})
    printed = _run_as_the_container(_container(job)["args"][0]).splitlines()
    read = parse_metric_lines(printed, experiment.spec.objective.metric_names)
    assert {m.name: m.value for m in read} == {"val-acc": 0.25, "top|1": 0.5, "loss_2": 0.125}


def test_cluster_options_without_a_host_are_refused():
    with pytest.raises(TypeError, match=r"tune\(\): resources_per_trial: only for trials on Kubeflow: pass host="):
        kfp_tune.tune(quadratic, SPACE, resources_per_trial={"gpu": 1})


def test_a_function_whose_source_cannot_be_read_is_refused(tmp_path):
    """A function typed into a bare REPL (here: compiled from a string) has no source to ship."""
    namespace: dict = {}
    exec(compile(textwrap.dedent("def typed_in(params):\n    return 1.0\n"), "<stdin>", "exec"), namespace)
    with pytest.raises(RemoteArgumentError, match="the source of typed_in cannot be read"):
        function_job_experiment(namespace["typed_in"], SPACE, name="repl")


def test_without_a_store_the_run_keeps_its_records_where_its_namespace_may_write(kfp_host):
    """As ``kfp-tune submit --namespace``: multi-user KFP lets a profile namespace's store
    credentials write only under ``private/<namespace>/`` of the mlpipeline bucket; without a
    namespace, KFP's default store."""
    from kfp_tune.stores import DEFAULT_CLUSTER_STORE

    sent = kfp_tune.tune(quadratic, SPACE, objective_metric_name="loss", max_trial_count=2, parallel_trial_count=1, name="in-ns",
                         host=kfp_host.url, base_image="python:3.11-slim", namespace="team-a")
    assert sent.store == "s3://mlpipeline/private/team-a/kfp-tune"
    plain = kfp_tune.tune(quadratic, SPACE, objective_metric_name="loss", max_trial_count=2, parallel_trial_count=1, name="plain",
                          host=kfp_host.url, base_image="python:3.11-slim")
    assert plain.store == DEFAULT_CLUSTER_STORE
    defaults = [
        {k: v.get("defaultValue") for k, v in run["pipeline_spec"]["pipeline_spec"]["root"]["inputDefinitions"]["parameters"].items()}["store_uri"]
        for run in kfp_host.posted("runs")
    ]
    assert defaults == ["s3://mlpipeline/private/team-a/kfp-tune", DEFAULT_CLUSTER_STORE]


def test_wait_returns_an_experiment_that_ended_failed_though_its_run_failed(kfp_host, tmp_path):
    """36d7cf6 fails the KFP run of an experiment that ended Failed (red in the UI): wait() gives
    its TuneResult, status Failed, as the in-process tune() does (review C of session 38, finding
    1: it raised 'ended FAILED'); a run that failed with the experiment not Failed still raises."""
    handle = kfp_tune.submit_function(always_fails, SPACE, host=kfp_host.url, name="quad-f", max_failed_trial_count=1, max_trial_count=3)
    store = tmp_path / "store"
    with pytest.warns(UserWarning, match="none of the 1 trials succeeded"):
        kfp_tune.tune(always_fails, SPACE, name="quad-f", store=str(store), max_failed_trial_count=1, max_trial_count=3, algorithm="grid")
    kfp_host.run_state = "FAILED"
    result = dataclasses.replace(handle, store=str(store)).wait(timeout=5, poll_seconds=0.05)
    assert (result.status, result.reason) == ("Failed", "ExperimentFailed"), result
    running = tmp_path / "running"
    kfp_tune.tune(quadratic, SPACE, name="quad-f", store=str(running), max_trial_count=1, algorithm="grid")
    with pytest.raises(KfpTuneError, match=re.escape(f"ended FAILED: see {handle.url}")):
        dataclasses.replace(handle, store=str(running)).wait(timeout=5, poll_seconds=0.05)
