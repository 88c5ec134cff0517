"""KatibClient: the collector ``tune()`` asks for reaches Kubeflow (Push trials report from their
pod), ``create_experiment`` with a host refuses a store the cluster cannot reach in Katib's
error kind, and the condition checks, model repr and nested models read what the store holds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from fake_kfp import serve
from kfp_tune import Client, KatibClient, search
from kfp_tune.cli import main
from kfp_tune.collectors.push import collect_pushed
from kfp_tune.core.errors import InputError
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import TrialState
from kfp_tune.core.template import substitute
from kfp_tune.katib_client import InvalidRequestError
from kfp_tune.remote import RemoteArgumentError, function_job_experiment
from kfp_tune.stores import LocalStore


def reports_and_returns(parameters):
    import kfp_tune

    kfp_tune.report_metrics({"top1/acc": 0.5}, step=1)
    return {"top1/acc": 0.75}


@pytest.fixture
def kfp_host(monkeypatch):
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", "http://127.0.0.1:9")  # the store is not read here
    fake, server = serve()
    yield fake
    server.shutdown()


def test_katibs_tune_with_a_host_sends_the_push_collector_asked_for(kfp_host):
    """Katib's SDK puts metrics_collector_config's kind in metricsCollectorSpec; the host path
    sent StdOut whatever was asked, so report_metrics in the pod wrote reports nothing read. A
    Push run's trials get the object store's Secret, to write their reports with."""
    KatibClient(store="s3://mlpipeline/kfp-tune", host=kfp_host.url).tune(
        name="push-demo", objective=reports_and_returns, parameters={"lr": search.double(0.01, 0.1)}, objective_metric_name="top1/acc",
        max_trial_count=4, metrics_collector_config={"kind": "Push"}, packages_to_install=["kfp-tune"])
    KatibClient(store="s3://mlpipeline/kfp-tune", host=kfp_host.url).tune(
        name="stdout-demo", objective=reports_and_returns, parameters={"lr": search.double(0.01, 0.1)}, objective_metric_name="acc")
    push, stdout = kfp_host.posted("runs")
    sent = json.dumps(push["pipeline_spec"])
    assert '\\"metricsCollectorSpec\\":{\\"collector\\":{\\"kind\\":\\"Push\\"}}' in sent
    assert json.loads(push["runtime_config"]["parameters"]["launcher_config"]) == {"kind": "kubernetes", "storeSecret": "mlpipeline-minio-artifact"}
    assert '\\"kind\\":\\"StdOut\\"' in json.dumps(stdout["pipeline_spec"]) and "launcher_config" not in (stdout.get("runtime_config") or {}).get("parameters", {})
    with pytest.raises(RemoteArgumentError, match=r"top1/acc.*cannot be read from the trial's output"):  # StdOut's filter reads no '/'
        KatibClient(store="s3://mlpipeline/kfp-tune", host=kfp_host.url).tune(
            name="stdout-slash", objective=reports_and_returns, parameters={"lr": search.double(0.01, 0.1)}, objective_metric_name="top1/acc")


def _run_as_the_pod(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``sh -c SCRIPT`` with this Python first in PATH as ``python3`` and the env the Kubernetes
    launcher gives a trial's primary container."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)])
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, env={**os.environ, "PATH": path, **env}, timeout=120)


def test_a_push_trial_reports_from_its_pod_what_it_reports_and_returns(tmp_path):
    """The Job's command, run as its pod runs it with the trial's place in the store: its
    report_metrics call and what it returns are reports the Push collector reads, in that order
    (nothing printed); an image without kfp-tune fails the trial saying how to install it."""
    experiment = function_job_experiment(reports_and_returns, {"lr": search.double(0.01, 0.1)}, name="push-pod",
                                         objective_metric_name="top1/acc", metrics_collector="Push")
    assert experiment.spec.collector_kind == "Push"
    (container,) = substitute(experiment.spec.trial_template.trial_spec, {"lr": "0.05"})["spec"]["template"]["spec"]["containers"]
    store = LocalStore(tmp_path / "store")
    place = {"KFP_TUNE_STORE": store.uri, "KFP_TUNE_EXPERIMENT": "push-pod", "KFP_TUNE_TRIAL": "push-pod-abcd1234"}
    done = _run_as_the_pod(container["args"][0], place)
    assert (done.returncode, done.stdout) == (0, ""), done.stderr
    trial = TrialState(name="push-pod-abcd1234", index=0, round="run-1-r000", assignment={"lr": "0.05"}, created="")
    reports = collect_pushed(ExperimentRecords(store, "push-pod"), experiment, trial)
    assert [(m.name, m.value, m.step) for m in reports] == [("top1/acc", 0.5, 1), ("top1/acc", 0.75, None)]
    (tmp_path / "no-kfp-tune" / "kfp_tune").mkdir(parents=True)
    (tmp_path / "no-kfp-tune" / "kfp_tune" / "__init__.py").write_text("raise ImportError('not installed')\n")
    missing = _run_as_the_pod(container["args"][0], {**place, "PYTHONPATH": str(tmp_path / "no-kfp-tune")})
    assert missing.returncode != 0 and "(it is not on PyPI): use a base_image that has it" in missing.stderr
    assert "add 'kfp-tune' to packages_to_install" not in missing.stderr


def test_a_push_trials_script_says_what_push_does_with_what_the_function_returns(tmp_path):
    """A Push trial reports through kfp_tune.report_metrics and prints nothing, yet its script
    said it printed name=value lines for the StdOut collector, and its TypeError asked for None
    "with the metrics printed as name=value" (which Push never reads). Each is worded by its
    collector now."""
    def returns_text(parameters):
        return "0.5"

    for collector, says, not_says in (("Push", "or None after calling kfp_tune.report_metrics", "printed as name=value"),
                                      ("StdOut", "or None with the metrics printed as name=value", "after calling kfp_tune.report_metrics")):
        experiment = function_job_experiment(returns_text, {"lr": search.double(0.01, 0.1)}, name="words", objective_metric_name="acc",
                                             metrics_collector=collector)
        (container,) = substitute(experiment.spec.trial_template.trial_spec, {"lr": "0.05"})["spec"]["template"]["spec"]["containers"]
        script = container["args"][0]
        assert says in script and not_says not in script
        assert ("for Katib's StdOut collector" in script) == (collector == "StdOut")
        assert ("for Katib's Push collector" in script) == (collector == "Push")
        done = _run_as_the_pod(script, {"KFP_TUNE_STORE": LocalStore(tmp_path / collector).uri, "KFP_TUNE_EXPERIMENT": "words",
                                        "KFP_TUNE_TRIAL": "words-abcd1234"})
        assert done.returncode != 0 and f"returns_text returned str; expected a number, a dict of metric name -> number, {says}" in done.stderr


@pytest.mark.parametrize("method", ["create_experiment", "tune"])
def test_create_experiment_with_a_host_refuses_a_folder_store_naming_the_clients_store(kfp_host, monkeypatch, tmp_path, method):
    """The client's default store is a folder here; sending to a host refused it as
    ``tune(): store: ... (the default)`` (a ValueError), where the caller called create_experiment
    or KatibClient.tune, which has no store argument and whose default is that folder, and set
    the store on KatibClient(store=...). Both raise the RuntimeError Katib's SDK raises for a
    refusal, and nothing is sent."""
    monkeypatch.chdir(tmp_path)
    client = KatibClient(host=kfp_host.url)
    with pytest.raises(InputError) as refused:
        if method == "tune":
            client.tune(name="folder", objective=reports_and_returns, parameters={"lr": search.double(0.01, 0.1)}, objective_metric_name="acc")
        else:
            client.create_experiment(quadratic_experiment())
    assert isinstance(refused.value, InvalidRequestError) and not isinstance(refused.value, RemoteArgumentError)
    message = str(refused.value)
    assert message.startswith(f"KatibClient.{method}: the client's store 'file://") and "tune()" not in message and "(the default)" not in message
    assert "make the client with KatibClient(store='s3://mlpipeline/kfp-tune', host=...)" in message
    assert kfp_host.posted("runs") == []


def test_a_host_clients_s3_store_is_opened_only_when_read_here(kfp_host, monkeypatch):
    """KatibClient(store='s3://...', host=...), what the folder store's refusal asks for, raised
    "an s3:// store needs an S3 endpoint" when made without KFP_TUNE_S3_ENDPOINT, though tune and
    create_experiment only name the store to the run (its pods read it). Now both send; a method
    that reads the store here says it needs the endpoint when called."""
    for variable in ("KFP_TUNE_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID"):
        monkeypatch.delenv(variable, raising=False)
    client = KatibClient(store="s3://mlpipeline/kfp-tune/", host=kfp_host.url)
    assert repr(client) == f"kfp_tune.KatibClient(store='s3://mlpipeline/kfp-tune', host={kfp_host.url!r})"
    client.tune(name="no-endpoint", objective=reports_and_returns, parameters={"lr": search.double(0.01, 0.1)}, objective_metric_name="acc")
    client.create_experiment(quadratic_experiment())
    assert len(kfp_host.posted("runs")) == 2
    assert all("s3://mlpipeline/kfp-tune" in json.dumps(run) for run in kfp_host.posted("runs"))
    for read in (lambda: client.get_experiment("no-endpoint"), client.list_experiments, lambda: client.get_optimal_hyperparameters("no-endpoint")):
        with pytest.raises(RuntimeError) as refused:
            read()
        assert str(refused.value).startswith("KatibClient: this reads the store s3://mlpipeline/kfp-tune on this machine")
        assert "an s3:// store needs an S3 endpoint: set KFP_TUNE_S3_ENDPOINT" in str(refused.value)
    with pytest.raises(InputError, match="an s3:// store needs an S3 endpoint"):  # without a host it is read here: refused at once, as before
        KatibClient(store="s3://mlpipeline/kfp-tune")


def _run_yaml(folder: Path, store: Path, doc: dict[str, Any]) -> None:
    path = folder / f"{doc['metadata']['name']}.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["run", str(path), "--engine", "inline", "--store", str(store)]) == 0


METRICS_FORMAT = r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)"


def test_conditions_repr_and_the_collectors_filter_read_as_katibs_models(tmp_path, monkeypatch):
    """is_experiment_running / is_experiment_failed on a running and a failed experiment; the
    model's repr names Katib's class; the stored filter reads as Katib's V1beta1FilterSpec."""
    monkeypatch.delenv("KF_PIPELINES_ENDPOINT", raising=False)
    store = tmp_path / "store"
    doc = quadratic_experiment(**{
        "spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1, "spec.resumePolicy": "LongRunning",
        "spec.metricsCollectorSpec": {"collector": {"kind": "StdOut"}, "source": {"filter": {"metricsFormat": [METRICS_FORMAT]}}},
    })
    _run_yaml(tmp_path, store, doc)
    Client(str(store)).edit_experiment_budget("quad", max_trial_count=2)  # restarts: Running until its next run
    katib = KatibClient(store=str(store))
    running = katib.get_experiment("quad")
    assert repr(running).startswith("V1beta1Experiment({")
    assert running.spec.metrics_collector_spec.source.filter.metrics_format == [METRICS_FORMAT]
    assert (katib.is_experiment_running("quad"), katib.is_experiment_failed("quad"), katib.is_experiment_succeeded("quad")) == (True, False, False)

    def fails(parameters):
        raise ValueError("no good")

    with pytest.warns(UserWarning, match="none of the 1 trials succeeded"):
        katib.tune(name="fails", objective=fails, parameters={"a": search.double(0, 1)}, objective_metric_name="result", max_trial_count=3,
                   parallel_trial_count=1, max_failed_trial_count=1, algorithm_settings={"random_state": "1"})
    failed = katib.get_experiment("fails")
    assert (katib.is_experiment_failed("fails"), katib.is_experiment_running("fails")) == (True, False)
    assert (katib.is_experiment_failed("quad", experiment=failed), katib.is_experiment_running("fails", experiment=running)) == (True, True)


@pytest.mark.parametrize("method", ["is_experiment_created", "is_experiment_running", "is_experiment_restarting", "is_experiment_succeeded",
                                    "is_experiment_failed", "get_experiment_conditions", "get_experiment"])
def test_a_bad_name_given_to_a_condition_check_names_the_method_called(tmp_path, method):
    """is_experiment_created(123) said 'KatibClient.get_experiment: name: ...', a method the user
    never called (each reads the experiment through it)."""
    katib = KatibClient(store=str(tmp_path / "store"))
    with pytest.raises(InvalidRequestError, match=rf"^KatibClient\.{method}: name: expected a name \(str\), got 123$"):
        getattr(katib, method)(123)


def test_katibs_tune_with_a_host_sends_through_tune_hosts_path_refusing_windows_first(kfp_host, monkeypatch):
    """KatibClient.tune with a host repeated tune(host=)'s sending and skipped its platform check;
    it goes through the same path now (api.submit_tuning), so Windows is refused before anything
    is sent, as tune(host=) refuses it."""
    import kfp_tune.core.supported_os as supported_os
    from kfp_tune.core.supported_os import UnsupportedPlatform

    monkeypatch.setattr(supported_os, "on_windows", lambda: True)
    with pytest.raises(RuntimeError) as refused:
        KatibClient(store="s3://mlpipeline/kfp-tune", host=kfp_host.url).tune(
            name="on-windows", objective=reports_and_returns, parameters={"lr": search.double(0.01, 0.1)}, objective_metric_name="acc")
    assert isinstance(refused.value.__cause__, UnsupportedPlatform) and "WSL2" in str(refused.value)
    assert kfp_host.posted("runs") == []


# --- KatibClient.tune: what Katib's tune() gives the function, and what it refuses ---------------------------------------------------


def prints_what_it_gets(parameters):
    # as a Katib notebook may use a value: as text (subprocess arguments, os.environ, concatenation)
    print(f"seen={parameters!r}")
    print("acc=" + parameters["lr"])


KATIB_PARAMETERS = {"lr": search.double(0.1, 0.2), "layers": search.int(1, 3), "opt": search.categorical(["adam", "sgd"]), "epochs": 2, "tag": "x"}


def test_katibs_tune_gives_the_function_the_searched_values_as_text_as_katibs_sdk_does(tmp_path, monkeypatch):
    """Katib's SDK writes ``'${trialParameters.lr}'`` into its call of the function
    (utils.get_trial_substitutions_from_dict, get_exec_script_from_objective), so each searched
    value arrives as the trial's string, and a fixed value as written (an int stays an int).
    KatibClient.tune gave the searched ones typed, so ``"acc=" + parameters["lr"]`` failed every
    trial (TypeError). kfp_tune.tune still gives them typed."""
    import kfp_tune

    monkeypatch.delenv("KF_PIPELINES_ENDPOINT", raising=False)
    katib = KatibClient(store=str(tmp_path / "katib"))
    katib.tune(name="as-text", objective=prints_what_it_gets, parameters=dict(KATIB_PARAMETERS), objective_metric_name="acc",
               max_trial_count=2, parallel_trial_count=1, algorithm_settings={"random_state": "3"})
    assert katib.get_experiment("as-text").status.trials_succeeded == 2
    for trial in katib.list_trials("as-text"):
        given = {a.name: a.value for a in trial.spec.parameter_assignments}
        seen = next(line for line in katib.get_job_logs("as-text", trial.metadata.name) if line.startswith("seen="))
        assert seen == f"seen={ {**given, 'epochs': 2, 'tag': 'x'}!r}"
        assert float(trial.status.observation.metrics[0].latest) == float(given["lr"])
    typed: list[dict] = []
    kfp_tune.tune(lambda parameters: typed.append(parameters) or 1.0, dict(KATIB_PARAMETERS), store=str(tmp_path / "typed"), max_trial_count=1,
                  algorithm="random")
    assert [type(typed[0][name]) for name in ("lr", "layers", "opt", "epochs", "tag")] == [float, int, str, int, str]


def test_katibs_tune_with_a_host_writes_the_searched_values_as_text_into_the_trials_call(monkeypatch):
    """The trial script KatibClient.tune sends calls the function as Katib's does: the trial's
    strings for the searched values, fixed values as given."""
    import kfp_tune.remote

    sent: list[Any] = []
    monkeypatch.setattr(kfp_tune.remote, "submit_experiment", lambda experiment, **kwargs: sent.append(experiment))
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", "http://127.0.0.1:9")  # the store is not read here
    katib = KatibClient(store="s3://mlpipeline/kfp-tune", host="http://kfp.example:8888")
    katib.tune(name="as-text", objective=prints_what_it_gets, parameters=dict(KATIB_PARAMETERS), objective_metric_name="acc")
    (experiment,) = sent
    (container,) = substitute(experiment.spec.trial_template.trial_spec, {"lr": "0.15", "layers": "2", "opt": "sgd"})["spec"]["template"]["spec"]["containers"]
    done = _run_as_the_pod(container["args"][0], {})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == ["seen={'lr': '0.15', 'layers': '2', 'opt': 'sgd', 'epochs': 2, 'tag': 'x'}", "acc=0.15"]


def test_katibs_tune_refuses_what_katibs_webhook_would_with_a_runtime_error(tmp_path, monkeypatch):
    """Katib's tune() checks only the name, objective and parameters being given (ValueError)
    before creating the Experiment; what its webhook refuses makes the create fail, a
    RuntimeError. KatibClient.tune raised TuneArgumentError (a ValueError), so a notebook's
    ``except RuntimeError`` missed it. It is TuneRefusedError now: a SpecRefusedError, so a
    RuntimeError, and still the ValueError and TuneArgumentError kfp_tune.tune raises. It names
    the argument as Katib's tune() does (objective_goal, algorithm_name: the message said goal
    and algorithm, kfp_tune.tune's names); a goal that is no finite number is refused there too
    (Katib's API server cannot decode it)."""
    import kfp_tune.remote
    from kfp_tune.api import TuneArgumentError
    from kfp_tune.katib_client import SpecRefusedError, TuneRefusedError

    monkeypatch.delenv("KF_PIPELINES_ENDPOINT", raising=False)
    katib = KatibClient(store=str(tmp_path))
    given = {"objective": prints_what_it_gets, "objective_metric_name": "acc", "max_trial_count": 4}
    for changed, says in (
        ({"parameters": {"lr": search.double(0.2, 0.1)}}, r"parameters\['lr'\]\.min \(spec\.parameters\[0\]\.feasibleSpace\.min\): expected min < max"),
        ({"objective_type": "max"}, r"objective_type \(spec\.objective\.type\): expected 'minimize' or 'maximize', got 'max'"),
        ({"parallel_trial_count": 5}, r"parallel_trial_count \(spec\.parallelTrialCount\): expected at most spec\.maxTrialCount \(4\), got 5"),
        ({"parameters": {"lr": 0.1}}, r"parameters \(spec\.parameters\): required: at least one parameter to search .*every value is fixed: \['lr'\]"),
        ({"algorithm_name": "nosuch"}, r"algorithm_name \(spec\.algorithm\.algorithmName\): unknown algorithm 'nosuch': Katib has no Suggestion for it"),
        ({"objective_goal": 10**400}, r"objective_goal \(spec\.objective\.goal\): expected a finite number or None, got 1000000"),
        ({"objective_goal": float("nan")}, r"objective_goal \(spec\.objective\.goal\): expected a finite number or None, got nan"),
    ):
        arguments = {**given, "parameters": {"lr": search.double(0.1, 0.2)}, **changed}
        with pytest.raises(RuntimeError, match=says) as refused:
            katib.tune(name="refused", **arguments)
        assert all(isinstance(refused.value, kind) for kind in (TuneRefusedError, SpecRefusedError, TuneArgumentError, ValueError)), changed
    with pytest.raises(ValueError, match="objective, parameters and objective_metric_name are required") as katibs_own:
        katib.tune(name="refused", parameters={"lr": search.double(0.1, 0.2)}, objective_metric_name="acc")
    assert not isinstance(katibs_own.value, RuntimeError)
    with pytest.raises(ValueError, match="objective, parameters and objective_metric_name are required") as empty:  # Katib: `not parameters`
        katib.tune(name="refused", **{**given, "parameters": {}})
    assert not isinstance(empty.value, (RuntimeError, TypeError))
    assert katib.list_experiments() == []
    sent: list[Any] = []
    monkeypatch.setattr(kfp_tune.remote, "submit_experiment", lambda experiment, **kwargs: sent.append(experiment))
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", "http://127.0.0.1:9")  # the store is not read here
    with pytest.raises(RuntimeError, match=r"objective_type \(spec\.objective\.type\): expected 'minimize' or 'maximize', got 'max'") as on_host:
        KatibClient(store="s3://mlpipeline/kfp-tune", host="http://kfp.example:8888").tune(
            name="max", parameters={"lr": search.double(0.1, 0.2)}, objective_type="max", **given)
    assert isinstance(on_host.value, TuneRefusedError) and sent == []


def _takes_nothing():
    return {"acc": 1.0}


@pytest.mark.parametrize(("objective", "says"), [
    ("train", r"objective must be a function taking the parameters as a dict, got str 'train'"),
    (_takes_nothing, r"objective _takes_nothing\(\) must take one argument, the parameters dict"),
])
def test_katibs_tune_refuses_an_objective_it_cannot_call_with_a_value_error(tmp_path, monkeypatch, objective, says):
    """Katib's SDK raises ValueError for an objective that is not callable or cannot take the
    parameters dict (utils.py, validate_objective_function); KatibClient.tune raised TypeError,
    which a notebook's ``except ValueError`` missed. It is both now (kfp_tune.tune's TypeError
    stays), with or without a host, and nothing is created or sent."""
    import kfp_tune.remote

    monkeypatch.delenv("KF_PIPELINES_ENDPOINT", raising=False)
    arguments = {"name": "uncallable", "objective": objective, "parameters": {"lr": search.double(0.1, 0.2)}, "objective_metric_name": "acc"}
    katib = KatibClient(store=str(tmp_path))
    with pytest.raises(ValueError, match=says) as here:
        katib.tune(**arguments)
    assert isinstance(here.value, TypeError) and not isinstance(here.value, RuntimeError)
    assert katib.list_experiments() == []
    sent: list[Any] = []
    monkeypatch.setattr(kfp_tune.remote, "submit_experiment", lambda experiment, **kwargs: sent.append(experiment))
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", "http://127.0.0.1:9")  # the store is not read here
    with pytest.raises(ValueError, match=says):
        KatibClient(store="s3://mlpipeline/kfp-tune", host="http://kfp.example:8888").tune(**arguments)
    assert sent == []


def test_a_katib_client_given_no_namespace_records_katibs_default_and_sends_none(tmp_path, monkeypatch):
    """Katib's client defaults its namespace to the pod's service-account namespace, else
    "default" (utils.py, get_default_target_namespace), and its experiments are created there;
    kfp-tune's recorded metadata.namespace None. It records Katib's default now, for tune and
    create_experiment run here; a run sent to a host still goes to the run's own namespace
    (none named) unless one is given, as before: "default" there is rarely where the run may
    create Jobs."""
    import kfp_tune.katib_client
    import kfp_tune.remote

    monkeypatch.delenv("KF_PIPELINES_ENDPOINT", raising=False)
    monkeypatch.setattr(kfp_tune.katib_client, "SERVICE_ACCOUNT_NAMESPACE", tmp_path / "no-such-file")
    arguments = {"objective": prints_what_it_gets, "parameters": {"lr": search.double(0.1, 0.2)}, "objective_metric_name": "acc",
                 "max_trial_count": 1, "parallel_trial_count": 1, "algorithm_settings": {"random_state": "1"}}
    katib = KatibClient(store=str(tmp_path / "store"))
    assert katib.namespace == "default" and "namespace" not in repr(katib)
    katib.tune(name="outside", **arguments)
    assert katib.get_experiment("outside").metadata.namespace == "default"
    account = tmp_path / "namespace"
    account.write_text("team-a")  # as Kubernetes mounts it: no newline
    monkeypatch.setattr(kfp_tune.katib_client, "SERVICE_ACCOUNT_NAMESPACE", account)
    in_pod = KatibClient(store=str(tmp_path / "store"))
    in_pod.tune(name="in-pod", **arguments)
    in_pod.create_experiment(quadratic_experiment(**{"metadata.name": "created", "spec.maxTrialCount": 1, "spec.parallelTrialCount": 1,
                                                   "spec.maxFailedTrialCount": 1}))
    assert [in_pod.get_experiment(name).metadata.namespace for name in ("in-pod", "created")] == ["team-a", "team-a"]
    in_pod.tune(name="named", namespace="team-b", **arguments)
    assert in_pod.get_experiment("named").metadata.namespace == "team-b"
    sent: list[Any] = []
    monkeypatch.setattr(kfp_tune.remote, "submit_experiment", lambda experiment, **kwargs: sent.append((experiment.metadata.namespace, kwargs["namespace"])))
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", "http://127.0.0.1:9")  # the store is not read here
    on_host = KatibClient(store="s3://mlpipeline/kfp-tune", host="http://kfp.example:8888")
    on_host.tune(name="sent", **arguments)
    on_host.create_experiment(quadratic_experiment(**{"metadata.name": "sent-yaml"}))
    on_host.tune(name="sent-named", namespace="team-b", **arguments)
    KatibClient(store="s3://mlpipeline/kfp-tune", host="http://kfp.example:8888", namespace="team-c").tune(name="sent-client", **arguments)
    assert sent == [(None, None), (None, None), ("team-b", "team-b"), ("team-c", "team-c")]
