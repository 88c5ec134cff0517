"""kfp-tune submit / schedule and their Python equivalents, through the real kfp.Client against
a local HTTP server that answers the KFP API calls and records them (tests/support/fake_kfp.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from fake_kfp import serve
from kfp_tune.cli import main
from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.version import build_stamp, described
from kfp_tune.pipelines.builder import ObjectStore

DIGITS = str(REPO / "images" / "sklearn-digits" / "experiment.yaml")
SECRET = "kfptune-not-to-be-sent-3b9d"


@pytest.fixture
def kfp_host(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "kfptune-access-id")
    fake, server = serve()
    yield fake
    server.shutdown()
    everything = json.dumps([r.body for r in fake.requests]) + json.dumps([r.headers for r in fake.requests])
    assert SECRET not in everything and "kfptune-access-id" not in everything


def _platform_secret(body: dict) -> dict:
    """The store Secret wiring of the pipeline that was sent (first executor)."""
    executors = body["pipeline_spec"]["platform_spec"]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    return next(iter(executors.values()))["secretAsEnv"][0]


def test_submit_sends_the_compiled_pipeline_with_its_arguments(kfp_host, capsys):
    code = main([
        "submit", DIGITS, "--host", kfp_host.url, "--experiment-name", "tuning-runs", "--run-name", "digits-now",
        "--param", "store_secret=my-store-creds", "--param", "take_over=true", "--store", "s3://team-bucket/tuning", "--object-store", "minio",
        "--service-account", "kfp-tune-launcher",
    ])
    assert code == 0, capsys.readouterr().err
    (group,) = kfp_host.posted("experiments")
    assert group["display_name"] == "tuning-runs"
    (run,) = kfp_host.posted("runs")
    assert run["display_name"] == "digits-now" and run["experiment_id"] == next(iter(kfp_host.experiments))
    assert run["service_account"] == "kfp-tune-launcher"
    assert run["runtime_config"]["parameters"] == {"store_secret": "my-store-creds", "take_over": True}
    spec = run["pipeline_spec"]["pipeline_spec"]
    defaults = {k: v.get("defaultValue") for k, v in spec["root"]["inputDefinitions"]["parameters"].items()}
    assert defaults["store_uri"] == "s3://team-bucket/tuning" and defaults["s3_endpoint"] == "http://minio-service.kubeflow:9000"
    assert _platform_secret(run)["keyToEnv"][0] == {"secretKey": "accesskey", "envVar": "AWS_ACCESS_KEY_ID"}
    run_id = next(iter(kfp_host.runs))
    assert f"run {run_id} started: {kfp_host.url}/#/runs/details/{run_id}" in capsys.readouterr().out


def test_schedule_creates_a_recurring_run_that_continues_the_experiment(kfp_host, capsys):
    assert main(["schedule", DIGITS, "--host", kfp_host.url, "--cron", "0 0 2 * * *"]) == 0, capsys.readouterr().err
    (recurring,) = kfp_host.posted("recurringruns")
    assert recurring["trigger"] == {"cron_schedule": {"cron": "0 0 2 * * *"}}
    assert (recurring["max_concurrency"], recurring["no_catchup"], recurring["mode"]) == ("1", True, "ENABLE") or (
        recurring["max_concurrency"], recurring["no_catchup"], recurring["mode"]) == (1, True, "ENABLE")
    assert recurring["runtime_config"]["parameters"] == {"fresh_experiment": False}
    assert recurring["display_name"] == "digits-random-scheduled"
    assert recurring["experiment_id"] in kfp_host.experiments
    assert "every run continues the same experiment" in capsys.readouterr().out


def test_python_schedule_with_a_fresh_experiment_per_run(kfp_host):
    import kfp_tune

    scheduled = kfp_tune.schedule(DIGITS, "0 30 * * * *", host=kfp_host.url, fresh_experiment=True, max_concurrency=2, name="hourly")
    assert scheduled.id in kfp_host.recurring_runs
    sent = kfp_host.recurring_runs[scheduled.id]
    assert sent["runtime_config"]["parameters"] == {"fresh_experiment": True} and int(sent["max_concurrency"]) == 2
    submitted = kfp_tune.submit(DIGITS, host=kfp_host.url)
    assert submitted.id in kfp_host.runs and submitted.kfp_experiment_id == scheduled.kfp_experiment_id  # the same KFP experiment


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--param", "aws_secret_access_key=x"], "error: --param aws_secret_access_key: not a parameter of this pipeline"),
        (["--param", "nonsense"], "error: --param 'nonsense': expected NAME=VALUE"),
        (["--param", "checkpoint_seconds=abc"], "error: --param checkpoint_seconds: expected a number (NUMBER_DOUBLE), got 'abc'"),
        (["--param", "checkpoint_trials=4.5"], "error: --param checkpoint_trials: expected an integer (NUMBER_INTEGER), got '4.5'"),
        (["--param", "take_over=yes"], "error: --param take_over: expected true or false (BOOLEAN), got 'yes'"),
        (["--param", "checkpoint_seconds=nan"], "error: --param checkpoint_seconds: expected a number (NUMBER_DOUBLE), got 'nan'"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_sent(kfp_host, capsys, extra, message):
    assert main(["submit", DIGITS, "--host", kfp_host.url, *extra]) == 2
    assert capsys.readouterr().err.startswith(message)
    assert kfp_host.requests == []


def test_params_are_sent_as_the_types_the_pipeline_declares(kfp_host, capsys):
    """kfp's executor converts nothing: "4" sent for checkpoint_trials would reach the step as a
    string, where checkpoint_trials * 2**k repeats it."""
    code = main([
        "submit", DIGITS, "--host", kfp_host.url, "--param", "checkpoint_trials=4", "--param", "checkpoint_seconds=90",
        "--param", "take_over=True", "--param", "experiment_name=true", "--param", "store_secret=0012",
    ])
    assert code == 0, capsys.readouterr().err
    (run,) = kfp_host.posted("runs")
    sent = run["runtime_config"]["parameters"]
    assert sent == {"checkpoint_trials": 4, "checkpoint_seconds": 90.0, "take_over": True, "experiment_name": "true", "store_secret": "0012"}
    assert type(sent["checkpoint_trials"]) is int and type(sent["take_over"]) is bool


def test_schedule_sends_typed_params_and_the_python_api_refuses_a_wrong_type(kfp_host, capsys):
    import kfp_tune
    from kfp_tune.pipelines.submit import ArgumentsRefused

    assert main(["schedule", DIGITS, "--host", kfp_host.url, "--cron", "0 0 2 * * *", "--param", "checkpoint_trials=3"]) == 0, capsys.readouterr().err
    (recurring,) = kfp_host.posted("recurringruns")
    assert recurring["runtime_config"]["parameters"] == {"checkpoint_trials": 3, "fresh_experiment": False}
    with pytest.raises(ArgumentsRefused, match=r"arguments\.checkpoint_trials: expected an integer \(NUMBER_INTEGER\), got True"):
        kfp_tune.submit(DIGITS, host=kfp_host.url, arguments={"checkpoint_trials": True})
    assert kfp_tune.submit(DIGITS, host=kfp_host.url, arguments={"checkpoint_trials": "5"}).id  # text converted, as from the CLI
    assert kfp_host.posted("runs")[-1]["runtime_config"]["parameters"] == {"checkpoint_trials": 5}


def test_a_refused_submit_argument_is_not_called_an_invalid_experiment(kfp_host):
    """A Python user's refused cron, host or max_concurrency is headed as the arguments it is, and
    is a ValueError as well as a SpecError; a refused run argument says so; nothing is sent."""
    import kfp_tune
    from kfp_tune.core.errors import SpecError
    from kfp_tune.pipelines.submit import SubmitArgumentError

    with pytest.raises(SubmitArgumentError) as cron:
        kfp_tune.schedule(DIGITS, "0 0 * * *", host=kfp_host.url)
    assert str(cron.value).startswith("invalid arguments (1 error(s)):\n  cron: expected six fields, seconds first")
    assert isinstance(cron.value, SpecError) and isinstance(cron.value, ValueError)
    with pytest.raises(SubmitArgumentError, match=r"^invalid arguments \(1 error\(s\)\):\n  max_concurrency: expected 1 to "):
        kfp_tune.schedule(DIGITS, "0 0 2 * * *", host=kfp_host.url, max_concurrency=0)
    with pytest.raises(SubmitArgumentError, match=r"^invalid arguments \(1 error\(s\)\):\n  host ml-pipeline-ui\.kubeflow: expected http:// or https://"):
        kfp_tune.submit(DIGITS, host="ml-pipeline-ui.kubeflow")
    with pytest.raises(SpecError, match=r"^invalid run arguments \(1 error\(s\)\):\n  arguments\.checkpoint_trials: "):
        kfp_tune.submit(DIGITS, host=kfp_host.url, arguments={"checkpoint_trials": True})
    assert not kfp_host.posted("runs") and not kfp_host.posted("recurringruns")


@pytest.mark.parametrize("namespace", ["Team_A", "team/../other", "a" * 64, "kubeflow.org"])
def test_a_namespace_kubernetes_would_refuse_is_refused_before_anything_is_sent(kfp_host, namespace):
    """submit() and schedule() send the run to ``namespace`` and keep its records under
    s3://mlpipeline/private/<namespace>/: a name that is no DNS-1123 label is refused naming
    ``namespace``, as the CLI's --namespace and an experiment's metadata.namespace are."""
    import kfp_tune
    from kfp_tune.pipelines.submit import SubmitArgumentError

    expected = r"namespace: expected a Kubernetes namespace, a DNS-1123 label \(lower case letters, digits and '-'"
    with pytest.raises(SubmitArgumentError, match=expected):
        kfp_tune.submit(DIGITS, host=kfp_host.url, namespace=namespace)
    with pytest.raises(SubmitArgumentError, match=expected):
        kfp_tune.schedule(DIGITS, "0 0 2 * * *", host=kfp_host.url, namespace=namespace)
    assert not kfp_host.posted("runs") and not kfp_host.posted("recurringruns")
    assert kfp_tune.submit(DIGITS, host=kfp_host.url, namespace="team-a").id  # a label is sent


@pytest.mark.parametrize(
    "cron, message",
    [
        ("0 2 * * *", "error: --cron: expected six fields, seconds first"),
        ("bogus a b c d e", "error: --cron: field 1 (seconds): 'bogus' is not a number; expected 0-59"),
        ("0 0 25 * * *", "error: --cron: field 3 (hours): 25 is out of range; expected 0-23"),
        ("0 0 2 0 * *", "error: --cron: field 4 (day of month): 0 is out of range; expected 1-31"),
        ("0 0 2 * 13 *", "error: --cron: field 5 (month): 13 is out of range; expected 1-12 or jan-dec"),
        ("0 0 2 * * 7", "error: --cron: field 6 (day of week): 7 is out of range; expected 0-6 or sun-sat"),
        ("0 0 2 * * fun", "error: --cron: field 6 (day of week): 'fun' is not a number or a name"),
        ("*/0 * * * * *", "error: --cron: field 1 (seconds): the step '0' is not a positive number"),
        ("0 30-10 * * * *", "error: --cron: field 2 (minutes): the range starts after it ends (30 > 10)"),
        ("0 1,,2 * * * *", "error: --cron: field 2 (minutes): an empty entry in the list '1,,2'"),
        ("@fortnightly", "error: --cron: '@fortnightly': not one of robfig/cron's descriptors"),
        ("@every 0s", "error: --cron: @every '0s': expected a positive duration"),
        ("@every soon", "error: --cron: @every 'soon': expected a positive duration"),
    ],
)
def test_a_bad_cron_is_refused_naming_the_field_before_anything_is_sent(kfp_host, capsys, cron, message):
    assert main(["schedule", DIGITS, "--host", kfp_host.url, "--cron", cron]) == 2
    assert capsys.readouterr().err.startswith(message)
    assert kfp_host.requests == []


@pytest.mark.parametrize(
    "cron", ["0 0 0 1 * *", "*/15 0-30/5 1,13 ? jan-MAR mon-fri", "30 5 */2 1-31/2 * SUN", "@daily", "@hourly", "@every 1h30m", "@every 90s"],
)
def test_the_cron_forms_kfp_runs_are_sent(kfp_host, capsys, cron):
    assert main(["schedule", DIGITS, "--host", kfp_host.url, "--cron", cron]) == 0, capsys.readouterr().err
    (recurring,) = kfp_host.posted("recurringruns")
    assert recurring["trigger"] == {"cron_schedule": {"cron": cron}}


@pytest.mark.parametrize("status, hint", [(403, "no access to this namespace"), (500, "500")])
def test_a_refusing_host_gives_one_clear_error(kfp_host, capsys, status, hint):
    kfp_host.fail_with = status
    assert main(["submit", DIGITS, "--host", kfp_host.url]) == 1
    err = capsys.readouterr().err
    assert f"KFP API at {kfp_host.url} answered {status}" in err and hint in err and "Traceback" not in err


def test_an_unreachable_host_gives_one_clear_error(capsys):
    assert main(["submit", DIGITS, "--host", "http://127.0.0.1:9"]) == 1
    assert "KFP API at http://127.0.0.1:9 could not be reached" in capsys.readouterr().err
    # the command as a user runs it: that one line, not urllib3's warning for each retry before it
    result = subprocess.run([str(Path(sys.executable).parent / "kfp-tune"), "submit", DIGITS, "--host", "http://127.0.0.1:9"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: KFP API at http://127.0.0.1:9 could not be reached"), result.stderr


@pytest.mark.parametrize(
    "host",
    ["http://127.0.0.1:9/?token=kfptune-host-secret", "http://127.0.0.1:9/#kfptune-host-secret", "http://127.0.0.1:9/?token=kfptune-host-secret "],
)
def test_a_host_with_a_query_or_fragment_is_refused_without_repeating_it(host, capsys):
    assert main(["submit", DIGITS, "--host", host]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --host: ") and "kfptune-host-secret" not in err and "http://127.0.0.1:9/" in err


def test_an_error_about_the_host_masks_what_could_be_a_credential():
    from kfp_tune.core.errors import masked_url
    from kfp_tune.pipelines.submit import kfp_api_errors

    assert masked_url("http://me:pw@kfp.example:8080/pipeline?token=abc#x") == "http://***@kfp.example:8080/pipeline?***#***"
    with pytest.raises(KfpTuneError) as info, kfp_api_errors("http://kfp.example/?token=kfptune-host-secret"):
        raise ConnectionError("Max retries exceeded with url: /?token=kfptune-host-secret/apis/v2beta1/runs")
    assert "kfptune-host-secret" not in str(info.value) and "KFP API at http://kfp.example/?*** could not be reached" in str(info.value)


def test_a_token_file_is_sent_as_a_bearer_token_and_never_printed(kfp_host, tmp_path, capsys):
    token = tmp_path / "token"
    token.write_text("kfptune-bearer-7c1d\n")
    assert main(["submit", DIGITS, "--host", kfp_host.url, "--token-file", str(token)]) == 0, capsys.readouterr().err
    (posted,) = [r for r in kfp_host.requests if r.method == "POST" and r.path.endswith("/runs")]
    assert {k.lower(): v for k, v in posted.headers.items()}["authorization"] == "Bearer kfptune-bearer-7c1d"
    out = capsys.readouterr()
    assert "kfptune-bearer-7c1d" not in out.out + out.err
    assert main(["submit", DIGITS, "--host", kfp_host.url, "--token-file", str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err.startswith("error: --token-file ")


def test_a_host_with_credentials_points_a_cli_user_at_token_file(capsys):
    assert main(["submit", DIGITS, "--host", "http://user:kfptune-host-secret@kfp.example"]) == 2
    err = capsys.readouterr().err
    assert "--token-file FILE" in err and "kfptune-host-secret" not in err


def test_trials_in_another_namespace_than_the_run_are_warned_about(kfp_host, tmp_path, capsys):
    """Katib's examples say metadata.namespace: kubeflow; a run in a profile namespace would
    create its trials there, which multi-user KFP refuses (403)."""
    experiment = yaml.safe_load(Path(DIGITS).read_text())
    experiment["metadata"]["namespace"] = "kubeflow"
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(experiment))
    assert main(["submit", str(path), "--host", kfp_host.url, "--namespace", "team-a"]) == 0
    err = capsys.readouterr().err
    assert "\nwarning: the run goes to namespace 'team-a', but its trials will be created in namespace 'kubeflow'" in "\n" + err
    assert """--param launcher_config='{"kind": "kubernetes", "namespace": "team-a"}'""" in err and "403" in err
    assert len(kfp_host.posted("runs")) == 1  # a warning: the run is sent
    # no warning where the launcher config names the namespace, or the namespaces agree
    config = '--param=launcher_config={"kind": "kubernetes", "namespace": "team-a"}'
    assert main(["schedule", str(path), "--host", kfp_host.url, "--namespace", "team-a", "--cron", "@daily", config]) == 0
    assert main(["submit", str(path), "--host", kfp_host.url, "--namespace", "kubeflow"]) == 0
    assert main(["submit", DIGITS, "--host", kfp_host.url, "--namespace", "team-a"]) == 0  # no metadata.namespace: the run's
    assert "warning" not in capsys.readouterr().err
    import kfp_tune
    from kfp_tune.pipelines.submit import TrialsNamespaceWarning

    with pytest.warns(TrialsNamespaceWarning, match="trials will be created in namespace 'kubeflow'"):
        kfp_tune.schedule(str(path), "@daily", host=kfp_host.url, namespace="team-a", name="again", allow_duplicate=True)


def test_without_a_host_the_error_says_none_was_given(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("KF_PIPELINES_ENDPOINT", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    assert main(["submit", DIGITS]) == 1
    out, err = capsys.readouterr()
    assert "KFP API at kfp's default host (no --host given, and $KF_PIPELINES_ENDPOINT is not set)" in err
    assert "Failed to load kube config" not in out + err  # kfp's own print, before kfp-tune's error
    monkeypatch.setenv("KF_PIPELINES_ENDPOINT", "http://127.0.0.1:9")
    assert main(["submit", DIGITS]) == 1
    err = capsys.readouterr().err
    assert "KFP API at the host in $KF_PIPELINES_ENDPOINT could not be reached" in err


def _store_default(body: dict) -> str:
    """The store_uri default of the pipeline that was sent."""
    return body["pipeline_spec"]["pipeline_spec"]["root"]["inputDefinitions"]["parameters"]["store_uri"]["defaultValue"]


def test_an_explicit_fresh_experiment_run_argument_is_sent_as_given(kfp_host, capsys):
    """--param fresh_experiment=true (and arguments={"fresh_experiment": True}) went out false:
    schedule overwrote it with its own fresh_experiment. Either is honoured now; the two
    disagreeing is refused before anything is sent."""
    import kfp_tune
    from kfp_tune.pipelines.submit import ArgumentsRefused

    assert main(["schedule", DIGITS, "--host", kfp_host.url, "--cron", "@daily", "--param", "fresh_experiment=true"]) == 0, capsys.readouterr().err
    assert "a fresh experiment per run" in capsys.readouterr().out
    for name, arguments in (("a", {"fresh_experiment": True}), ("b", {"fresh_experiment": "true"})):
        kfp_tune.schedule(DIGITS, "@daily", host=kfp_host.url, arguments=arguments, name=name)
    kfp_tune.schedule(DIGITS, "@daily", host=kfp_host.url, fresh_experiment=True, arguments={"fresh_experiment": True}, name="c")
    sent = kfp_host.posted("recurringruns")
    assert [r["runtime_config"]["parameters"] for r in sent] == [{"fresh_experiment": True}] * 4
    assert all(r["description"].endswith("a fresh experiment per run") for r in sent)
    posted = len(kfp_host.requests)
    with pytest.raises(ArgumentsRefused, match=r"arguments\.fresh_experiment: true here, but fresh_experiment .* says false"):
        kfp_tune.schedule(DIGITS, "@daily", host=kfp_host.url, fresh_experiment=False, arguments={"fresh_experiment": True})
    assert main(["schedule", DIGITS, "--host", kfp_host.url, "--cron", "@daily", "--fresh-experiment", "--param", "fresh_experiment=false"]) == 2
    assert capsys.readouterr().err.startswith("error: --param fresh_experiment: false here, but fresh_experiment (--fresh-experiment) says true")
    assert main(["schedule", DIGITS, "--host", kfp_host.url, "--cron", "@daily", "--param", "fresh_experiment=maybe"]) == 2
    assert capsys.readouterr().err.startswith("error: --param fresh_experiment: expected true or false (BOOLEAN), got 'maybe'")
    assert len(kfp_host.requests) == posted


@pytest.mark.parametrize("command", [["submit"], ["schedule", "--cron", "@daily"]])
@pytest.mark.parametrize(
    "flags, named",
    [(["--store", "./mystore"], "--store './mystore'"), (["--param", "store_uri=/tmp/x"], "--param store_uri: '/tmp/x'"), (["--store", "file:///tmp/x"], "--store 'file:///tmp/x'")],
)
def test_a_store_on_this_machine_is_refused_for_a_run_on_the_cluster(kfp_host, capsys, command, flags, named):
    """Pods on the cluster cannot write to a folder here: refused before anything is sent, as
    tune(host=) refuses it, in the same words."""
    assert main([command[0], DIGITS, "--host", kfp_host.url, *command[1:], *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {named.split(' ')[0]}") and "is not an s3:// URI: the run's steps and trials run in pods on the cluster" in err
    assert kfp_host.requests == []


def test_python_submit_and_schedule_refuse_a_folder_store(kfp_host):
    import kfp_tune
    from kfp_tune.core.errors import InputError
    from kfp_tune.pipelines.submit import ArgumentsRefused

    with pytest.raises(InputError, match=r"^store_uri: '/tmp/x' is not an s3:// URI"):
        kfp_tune.submit(DIGITS, host=kfp_host.url, store_uri="/tmp/x")
    with pytest.raises(ArgumentsRefused, match=r"arguments\.store_uri: 'runs' is not an s3:// URI"):
        kfp_tune.schedule(DIGITS, "@daily", host=kfp_host.url, arguments={"store_uri": "runs"})
    assert kfp_host.requests == []


def test_compile_warns_of_a_folder_store_and_submit_refuses_the_package(kfp_host, tmp_path, capsys):
    import kfp_tune
    from kfp_tune.core.errors import InputError

    package = tmp_path / "local.yaml"
    assert main(["compile", DIGITS, "-o", str(package), "--store", str(tmp_path / "runs")]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"warning: --store '{tmp_path / 'runs'}' is not an s3:// URI") and "kfp.local" in err
    with pytest.raises(InputError, match=r"^the pipeline's store_uri default: .* is not an s3:// URI"):
        kfp_tune.submit(str(package), host=kfp_host.url)
    submitted = kfp_tune.submit(str(package), host=kfp_host.url, arguments={"store_uri": "s3://team/tuning"})  # a store the pods reach
    assert submitted.store == "s3://team/tuning"
    (run,) = kfp_host.posted("runs")
    assert run["runtime_config"]["parameters"] == {"store_uri": "s3://team/tuning"}


def test_a_run_in_a_namespace_keeps_its_records_where_multi_user_kfp_lets_it_write(kfp_host, capsys):
    """Multi-user KFP's per-namespace store credentials may write only under artifacts/,
    private-artifacts/NS/, private/NS/ and shared/ of the mlpipeline bucket: the default
    s3://mlpipeline/kfp-tune was AccessDenied there. With --namespace and no store the run goes
    under private/NS/; without a namespace the default is as before."""
    import kfp_tune
    from kfp_tune.pipelines.submit import StoreAccessWarning

    assert main(["submit", DIGITS, "--host", kfp_host.url, "--namespace", "team-a"]) == 0
    assert main(["schedule", DIGITS, "--host", kfp_host.url, "--cron", "@daily", "--namespace", "team-a"]) == 0
    assert capsys.readouterr().err.count("note: --namespace team-a: the run keeps its records in s3://mlpipeline/private/team-a/kfp-tune") == 2
    sent = kfp_host.posted("runs") + kfp_host.posted("recurringruns")
    assert [_store_default(b) for b in sent] == ["s3://mlpipeline/private/team-a/kfp-tune"] * 2
    assert main(["submit", DIGITS, "--host", kfp_host.url]) == 0
    assert _store_default(kfp_host.posted("runs")[-1]) == "s3://mlpipeline/kfp-tune" and "note:" not in capsys.readouterr().err
    submitted = kfp_tune.submit(DIGITS, host=kfp_host.url, namespace="team-b")
    assert _store_default(kfp_host.posted("runs")[-1]) == "s3://mlpipeline/private/team-b/kfp-tune"
    assert submitted.store == "s3://mlpipeline/private/team-b/kfp-tune"  # where a notebook then reads the records
    assert kfp_tune.schedule(DIGITS, "@daily", host=kfp_host.url, namespace="team-b", name="b").store == "s3://mlpipeline/private/team-b/kfp-tune"
    # a store the namespace may not write is sent with a warning; another bucket's policy is not judged
    assert main(["submit", DIGITS, "--host", kfp_host.url, "--namespace", "team-a", "--store", "s3://mlpipeline/kfp-tune"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: the run goes to namespace 'team-a' and keeps its records in s3://mlpipeline/kfp-tune") and "AccessDenied" in err
    assert main(["submit", DIGITS, "--host", kfp_host.url, "--namespace", "team-a", "--store", "s3://team-bucket/tuning"]) == 0
    assert "warning" not in capsys.readouterr().err
    with pytest.warns(StoreAccessWarning, match="private/team-a/"):
        kfp_tune.submit(DIGITS, host=kfp_host.url, namespace="team-a", arguments={"store_uri": "s3://mlpipeline/private/team-b/kfp-tune"})


def test_a_compiled_pipeline_is_submitted_and_scheduled_as_it_is(kfp_host, tmp_path, capsys):
    """kfp-tune submit of a kfp-tune compile output failed: "(file): expected exactly one YAML
    document, found 2". The CLI sends it as kfp_tune.submit does; what only compiling uses is
    refused, naming the flag."""
    package = tmp_path / "random.yaml"
    assert main(["compile", DIGITS, "-o", str(package), "--rounds", "2"]) == 0
    compiled = next(yaml.safe_load_all(package.read_text()))
    assert main(["submit", str(package), "--host", kfp_host.url, "--param", "take_over=true"]) == 0, capsys.readouterr().err
    assert main(["schedule", str(package), "--host", kfp_host.url, "--cron", "@daily", "--fresh-experiment"]) == 0, capsys.readouterr().err
    (run,) = kfp_host.posted("runs")
    (recurring,) = kfp_host.posted("recurringruns")
    assert run["pipeline_spec"]["pipeline_spec"] == compiled and recurring["pipeline_spec"]["pipeline_spec"] == compiled
    assert run["runtime_config"]["parameters"] == {"take_over": True} and recurring["runtime_config"]["parameters"] == {"fresh_experiment": True}
    for flag in (["--rounds", "3"], ["--store", "s3://team/x"], ["--object-store", "minio"]):
        assert main(["submit", str(package), "--host", kfp_host.url, *flag]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {flag[0]}: for an experiment, which is compiled here; {package} is a compiled pipeline"), err
        assert "--param store_uri=s3://bucket/prefix" in err, "this package has a store_uri parameter: the hint names it"


def test_an_image_tagged_another_version_is_told_at_compile_and_when_its_package_is_sent(kfp_host, tmp_path, capsys):
    """Its steps stop at once in the cluster (each checks the version first); compile, submit and
    schedule said nothing. Told once, on stderr, in the CLI's words; the package is still sent."""
    import kfp_tune
    from kfp_tune.launchers import runtime_image

    version, other = kfp_tune.__version__, "0.0.1"
    package = tmp_path / "p.yaml"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runtime_image, "RUNTIME_IMAGE", f"reg.io:5000/kfp-tune-python:{other}")
        assert main(["compile", DIGITS, "-o", str(package), "--rounds", "1"]) == 0
    version = described(build_stamp())  # the version and the build
    told = (f"the steps' image reg.io:5000/kfp-tune-python:{other} is tagged {other}, and they are compiled by kfp-tune {version}: "
            f"if that image holds kfp-tune {other}, every step stops at once")
    assert capsys.readouterr().err.splitlines()[-1].startswith(f"warning: KFP_TUNE_IMAGE: {told}")
    # the package names the image the components were made with: the one edited, as a package compiled elsewhere would have it
    edited = tmp_path / "edited.yaml"
    edited.write_text(package.read_text().replace(runtime_image.DEFAULT_RUNTIME_IMAGE, f"reg.io:5000/kfp-tune-python:{other}"))
    assert main(["submit", str(edited), "--host", kfp_host.url]) == 0
    assert main(["schedule", str(edited), "--host", kfp_host.url, "--cron", "@daily"]) == 0
    assert capsys.readouterr().err.count(f"warning: the package edited.yaml: {told}") == 2
    assert len(kfp_host.posted("runs")) == 1 and len(kfp_host.posted("recurringruns")) == 1
    assert main(["submit", str(package), "--host", kfp_host.url]) == 0  # its own image, tagged with its version
    assert "warning" not in capsys.readouterr().err


def test_the_python_submit_path_shows_no_kfp_version_warning(kfp_host):
    """kfp.Client warns at every construction that it needs KFP 2.x (what kfp-tune compiles for):
    the CLI silenced it, a notebook's kfp_tune.submit showed it at every call."""
    import warnings

    from kfp_tune.pipelines.submit import kfp_api_client

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the construction
        assert kfp_api_client(kfp_host.url, None, None) is not None


STORE_SECRET = "kfptune-store-secret-5e2a"
SECRET_STORE = f"s3://AKIAEXAMPLE:{STORE_SECRET}@mlpipeline/kfp-tune"


@pytest.mark.parametrize("call", ["submit", "schedule"])
@pytest.mark.parametrize(
    "given, error, message",
    [
        ({"store_uri": SECRET_STORE}, "InputError", r"^store_uri: store URI s3://\*\*\*@mlpipeline/kfp-tune: credentials do not belong in the URI"),
        ({"arguments": {"store_uri": SECRET_STORE}}, "ArgumentsRefused", r"arguments\.store_uri: store URI s3://\*\*\*@mlpipeline/kfp-tune: credentials do not"),
        ({"store_uri": "ftp://x"}, "InputError", r"^store_uri: store URI 'ftp://x': the 'ftp' scheme is not supported"),
        ({"arguments": {"store_uri": "ftp://x"}}, "ArgumentsRefused", r"arguments\.store_uri: store URI 'ftp://x': the 'ftp' scheme is not supported"),
        ({"arguments": {"checkpoint_trials": -1}}, "ArgumentsRefused", r"arguments\.checkpoint_trials: expected a whole number of trials, 0 \(no limit\) or more, got -1"),
        ({"arguments": {"checkpoint_seconds": -1.5}}, "ArgumentsRefused", r"arguments\.checkpoint_seconds: expected a number of seconds, 0 \(no limit\) or more"),
        (
            {"arguments": {"s3_endpoint": f"http://AKIAEXAMPLE:{STORE_SECRET}@minio.kubeflow:9000"}},
            "ArgumentsRefused", r"arguments\.s3_endpoint: S3 endpoint from the s3_endpoint parameter: credentials do not belong in the endpoint URL",
        ),
        (
            {"arguments": {"s3_endpoint": f"http://minio.kubeflow:9000?X-Amz-Credential={STORE_SECRET}"}},
            "ArgumentsRefused", r"arguments\.s3_endpoint: S3 endpoint 'http://minio\.kubeflow:9000\?\*\*\*' from the s3_endpoint parameter: expected",
        ),
        (
            {"object_store": ObjectStore(endpoint=f"http://AKIAEXAMPLE:{STORE_SECRET}@minio.kubeflow:9000")},
            "InputError", r"^object_store\.endpoint: S3 endpoint from the s3_endpoint parameter: credentials do not belong in the endpoint URL",
        ),
        ({"arguments": {"launcher_config": '{"kind": "kubernets"}'}}, "ArgumentsRefused", r"arguments\.launcher_config: launcher kind 'kubernets': expected 'local' or 'kubernetes'"),
        ({"arguments": {"launcher_config": "not json"}}, "ArgumentsRefused", r"arguments\.launcher_config: expected a JSON object such as \{\"kind\": \"local\"\}, got 'not json'"),
    ],
    ids=[
        "credentials", "credentials-argument", "unknown-scheme", "unknown-scheme-argument", "negative-trials", "negative-seconds",
        "endpoint-credentials-argument", "endpoint-query-argument", "object-store-credentials", "unknown-launcher-kind", "launcher-config-not-json",
    ],
)
def test_python_submit_and_schedule_check_the_store_and_checkpoints_as_the_cli_does(kfp_host, call, given, error, message):
    """From Python a store URI with credentials was compiled into the pipeline (store_uri=) or
    sent as a run argument, and echoed back in the result; ``ftp://`` was called "not an s3://
    URI" as if it were a folder, a negative checkpoint limit was sent; an S3 endpoint with
    credentials was sent as a run argument or compiled in (an ObjectStore's), and a
    launcher_config the launch step cannot read failed only inside the run. Each is refused as
    ``kfp-tune submit --store / --param`` refuses it, before anything is sent, the secret never
    repeated."""
    import kfp_tune
    from kfp_tune.core import errors
    from kfp_tune.pipelines import submit

    refused = getattr(submit, error, None) or getattr(errors, error)
    schedule = {"cron": "@daily"} if call == "schedule" else {}
    with pytest.raises(refused, match=message) as caught:
        getattr(kfp_tune, call)(DIGITS, host=kfp_host.url, **schedule, **given)
    assert STORE_SECRET not in str(caught.value)
    assert kfp_host.requests == []


def test_a_compiled_pipeline_with_credentials_in_its_endpoint_default_is_not_sent(kfp_host, tmp_path):
    """A package compiled elsewhere with credentials in its s3_endpoint default is refused,
    naming the default, the secret never repeated, even with an s3_endpoint argument: the
    package goes with its defaults, which the KFP UI shows."""
    import kfp_tune
    from kfp_tune.core.errors import InputError

    package = tmp_path / "p.yaml"
    assert main(["compile", DIGITS, "-o", str(package)]) == 0
    endpoint = f"http://AKIAEXAMPLE:{STORE_SECRET}@seaweedfs.kubeflow:9000"
    package.write_text(package.read_text().replace("defaultValue: http://seaweedfs.kubeflow:9000", f"defaultValue: {endpoint}"))
    assert endpoint in package.read_text()
    for send in (
        lambda: kfp_tune.submit(str(package), host=kfp_host.url),
        lambda: kfp_tune.schedule(str(package), "@daily", host=kfp_host.url, arguments={"s3_endpoint": "http://minio.kubeflow:9000"}),
    ):
        with pytest.raises(InputError, match=r"^the pipeline's s3_endpoint default: S3 endpoint from the s3_endpoint parameter: credentials do not") as caught:
            send()
        assert STORE_SECRET not in str(caught.value)
    assert kfp_host.requests == []


def test_a_pipeline_whose_tasks_are_given_credentials_as_constants_is_not_sent(kfp_host, tmp_path):
    """QA ts_creds.py: a package compiled elsewhere whose tuning step is called with a store_uri
    or s3_endpoint holding credentials (in the root DAG, or in a pipeline nested in it) was sent:
    only the root's defaults were checked. Every task's constant store_uri and s3_endpoint are
    now, naming the task and the input, the secret never repeated; nothing is sent."""
    from kfp import compiler, dsl

    import kfp_tune
    from kfp_tune.core.errors import InputError
    from kfp_tune.pipelines import tuning_step

    step = tuning_step(DIGITS, with_dataset=False)

    @dsl.pipeline
    def inner():
        step(store_uri="s3://team/inner", s3_endpoint="http://minio.kubeflow:9000")

    @dsl.pipeline
    def outer():
        inner()

    @dsl.pipeline
    def flat():
        step(store_uri="s3://team/inner", s3_endpoint="http://minio.kubeflow:9000")

    secrets = {"s3://team/inner": SECRET_STORE, "http://minio.kubeflow:9000": f"http://AKIAEXAMPLE:{STORE_SECRET}@minio.kubeflow:9000"}
    for pipeline in (flat, outer):
        for constant, secret in secrets.items():
            package = tmp_path / "p.yaml"
            compiler.Compiler().compile(pipeline, str(package))
            assert package.read_text().count(constant) == 1
            package.write_text(package.read_text().replace(constant, secret))
            name = "store_uri" if constant.startswith("s3") else "s3_endpoint"
            with pytest.raises(InputError, match=rf"^the pipeline's task '[a-z0-9-]+', input {name}: .*credentials do not belong") as caught:
                kfp_tune.submit(str(package), host=kfp_host.url)
            assert STORE_SECRET not in str(caught.value)
    assert kfp_host.requests == []


def test_a_compiled_pipeline_with_credentials_in_its_store_default_is_not_sent(kfp_host, tmp_path):
    """A package compiled elsewhere with credentials in its store_uri default is refused, naming
    the default, the secret masked, even with a store_uri argument: the package goes with its
    defaults."""
    import kfp_tune
    from kfp_tune.core.errors import InputError

    package = tmp_path / "p.yaml"
    assert main(["compile", DIGITS, "-o", str(package)]) == 0
    package.write_text(package.read_text().replace("defaultValue: s3://mlpipeline/kfp-tune", f"defaultValue: {SECRET_STORE}"))
    with pytest.raises(InputError, match=r"^the pipeline's store_uri default: store URI s3://\*\*\*@mlpipeline/kfp-tune: credentials") as caught:
        kfp_tune.submit(str(package), host=kfp_host.url)
    assert STORE_SECRET not in str(caught.value)
    with pytest.raises(InputError, match=r"^the pipeline's store_uri default: store URI s3://\*\*\*@mlpipeline/kfp-tune: credentials") as caught:
        kfp_tune.schedule(str(package), "@daily", host=kfp_host.url, arguments={"store_uri": "s3://team/tuning"})
    assert STORE_SECRET not in str(caught.value) and kfp_host.requests == []


def test_an_experiment_name_the_run_would_refuse_is_refused_before_it_is_sent(kfp_host, capsys):
    """A pipeline author's QA pass: --param experiment_name=Bad_Name was sent (exit 0) and only
    the run's first step refused it on the cluster, where kfp-tune run --name refuses it at once.
    A fresh experiment per run makes a name of it, whatever it is: sent."""
    assert main(["submit", DIGITS, "--host", kfp_host.url, "--param", "experiment_name=Bad_Name"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --param experiment_name: ") and "Bad_Name" in err and "lower case" in err
    assert kfp_host.posted("runs") == []
    assert main(["schedule", DIGITS, "--host", kfp_host.url, "--cron", "@daily", "--fresh-experiment", "--param", "experiment_name=Bad_Name"]) == 0
    assert len(kfp_host.posted("recurringruns")) == 1


def test_schedule_refuses_a_second_recurring_run_of_the_same_name(kfp_host, capsys):
    """An admin's QA pass: schedule run twice made two recurring runs of one name on one KFP
    experiment (KFP allows it), and each night one of the pair failed on the experiment's claim.
    The second is refused before it is created, naming the first and how to delete it; another
    name, --allow-duplicate (allow_duplicate=True) or a disabled first one lets it through."""
    import kfp_tune
    from kfp_tune.pipelines.submit import RecurringRunExists

    schedule = ["schedule", DIGITS, "--host", kfp_host.url, "--cron", "0 0 2 * * *"]
    assert main(schedule) == 0, capsys.readouterr().err
    (first,) = kfp_host.recurring_runs
    capsys.readouterr()
    assert main(schedule) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: recurring run 'digits-random-scheduled' is already in KFP experiment 'digits-random' ({first}): "), err
    assert f"kfp.Client(host='{kfp_host.url}').delete_recurring_run('{first}')" in err and "--allow-duplicate" in err
    # another name alone does not keep two schedules of one continued experiment apart: said so
    assert "only where the two never drive one experiment at once: a fresh experiment per run (--fresh-experiment)" in err, err
    assert len(kfp_host.posted("recurringruns")) == 1
    (listed,) = [r for r in kfp_host.requests if r.method == "GET" and r.path.endswith("/recurringruns")][-1:]
    assert listed.query["experiment_id"] == [kfp_host.recurring_runs[first]["experiment_id"]]
    with pytest.raises(RecurringRunExists, match="delete it in the KFP UI"):
        kfp_tune.schedule(DIGITS, "@daily", host=kfp_host.url)
    assert main([*schedule, "--name", "digits-nightly"]) == 2  # another name, the same experiment: refused (test_schedule_qa32_item6)
    assert main([*schedule, "--name", "digits-nightly", "--allow-duplicate"]) == 0
    assert main([*schedule, "--allow-duplicate"]) == 0
    assert kfp_tune.schedule(DIGITS, "@daily", host=kfp_host.url, name="digits-nightly", allow_duplicate=True).id
    assert len(kfp_host.posted("recurringruns")) == 4
    for recurring in kfp_host.recurring_runs.values():  # disabled in the UI: it runs no more, and a new one may take its name
        recurring["status"] = "DISABLED"
    assert main(schedule) == 0, capsys.readouterr().err


def test_schedule_refuses_several_runs_at_a_time_of_a_continued_experiment(kfp_host, tmp_path, capsys):
    """--max-concurrency 2 without --fresh-experiment was accepted without a word, though the
    second run at a time is always refused on the experiment's claim; refused now, naming the
    flag (Python: max_concurrency), for an experiment and for a package with fresh_experiment."""
    import kfp_tune
    from kfp_tune.pipelines.submit import SubmitArgumentError

    assert main(["schedule", DIGITS, "--host", kfp_host.url, "--cron", "@daily", "--max-concurrency", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --max-concurrency 2: every run continues the same experiment, and a second run at a time is refused"), err
    assert "--fresh-experiment" in err
    with pytest.raises(SubmitArgumentError, match=r"max_concurrency: 3: every run continues the same experiment"):
        kfp_tune.schedule(DIGITS, "@daily", host=kfp_host.url, max_concurrency=3, arguments={"fresh_experiment": "false"})
    package = tmp_path / "random.yaml"
    assert main(["compile", DIGITS, "-o", str(package), "--rounds", "1"]) == 0
    assert main(["schedule", str(package), "--host", kfp_host.url, "--cron", "@daily", "--max-concurrency", "2"]) == 2
    assert kfp_host.requests == []
    assert main(["schedule", str(package), "--host", kfp_host.url, "--cron", "@daily", "--max-concurrency", "2", "--fresh-experiment"]) == 0
    assert int(kfp_host.posted("recurringruns")[0]["max_concurrency"]) == 2


def test_compile_says_where_the_trials_go_when_the_experiment_names_a_namespace(tmp_path, capsys):
    """An admin's QA pass: compile of a Katib example (metadata.namespace: kubeflow) printed only
    'wrote ...', where submit and schedule warn; the package uploaded in the KFP UI and run from
    a profile namespace then failed with a 403. Compile says it once, and how to put the trials
    beside the run; not when the launcher config names the namespace, nor for no metadata.namespace."""
    experiment = yaml.safe_load(Path(DIGITS).read_text())
    experiment["metadata"]["namespace"] = "kubeflow"
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(experiment))
    assert main(["compile", str(path), "-o", str(tmp_path / "p.yaml"), "--rounds", "1"]) == 0
    err = capsys.readouterr().err
    assert err.count("trials will be created") == 1
    assert err.startswith("note: its trials will be created in namespace 'kubeflow', the experiment's metadata.namespace, whatever namespace a run goes to"), err
    assert "403 Forbidden" in err and "remove metadata.namespace" in err and """--launcher-config '{"kind": "kubernetes", "namespace": "PROFILE"}'""" in err
    config = '{"kind": "kubernetes", "namespace": "team-a"}'
    assert main(["compile", str(path), "-o", str(tmp_path / "q.yaml"), "--rounds", "1", "--launcher-config", config]) == 0
    assert main(["compile", DIGITS, "-o", str(tmp_path / "r.yaml"), "--rounds", "1"]) == 0
    assert "trials will be created" not in capsys.readouterr().err


def test_a_package_compiled_by_another_kfp_tune_is_told_when_it_is_sent(kfp_host, tmp_path, capsys):
    """An admin's QA pass: a package compiled by another kfp-tune (its KFP_TUNE_COMPILED_BY stamp)
    was sent without a word when its image's tag named that version too, or no version: its
    steps run that kfp-tune, not this one. Told once; not again where the image's warning spoke."""
    import re

    import kfp_tune
    from kfp_tune.launchers import runtime_image
    from kfp_tune.launchers.runtime_image import RuntimeImageWarning

    version = kfp_tune.__version__
    package = tmp_path / "p.yaml"
    assert main(["compile", DIGITS, "-o", str(package), "--rounds", "1"]) == 0
    text = package.read_text()
    stamped = re.sub(r"(name: KFP_TUNE_COMPILED_BY\n\s+value: )\S+", r"\g<1>0.0.9", text)
    assert stamped != text
    for name, image in (("old.yaml", "reg.io/kfp-tune-python:0.0.9"), ("latest.yaml", "reg.io/kfp-tune-python:latest")):
        (tmp_path / name).write_text(stamped.replace(runtime_image.DEFAULT_RUNTIME_IMAGE, image))
        capsys.readouterr()
        assert main(["submit", str(tmp_path / name), "--host", kfp_host.url]) == 0
        err = capsys.readouterr().err
        assert err.count("warning:") == 1, err
        assert err.startswith(f"warning: the package {name} was compiled by kfp-tune 0.0.9, not by this kfp-tune {described(build_stamp())}: it is sent as "
                              f"it is, and its steps run the kfp-tune of their image {image}"), err
        with pytest.warns(RuntimeImageWarning, match="compile it again with this kfp-tune"):
            kfp_tune.schedule(str(tmp_path / name), "@daily", host=kfp_host.url, name=name, allow_duplicate=True)
    # its image tagged with this version: the image's warning says it, once
    (tmp_path / "retagged.yaml").write_text(stamped)
    assert main(["submit", str(tmp_path / "retagged.yaml"), "--host", kfp_host.url]) == 0
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and f"is tagged {version}, and they are compiled by kfp-tune 0.0.9" in err, err


def test_a_package_compiled_by_another_build_of_this_version_is_told_and_so_is_a_version_only_stamp(kfp_host, tmp_path, capsys):
    """QA "airgap": every build between releases is the same version, so a package another build
    compiled was sent without a word. Told once, naming both builds. QA s35 "upgrade", finding 1:
    a package stamped with this version alone (compiled before builds were stamped) was taken as
    this kfp-tune's and sent without a word, though this kfp-tune stamps its build: told too."""
    import re

    from kfp_tune.core.version import VERSION, build_fingerprint
    from kfp_tune.launchers import runtime_image

    other = "0" * len(build_fingerprint())
    assert other != build_fingerprint()
    package = tmp_path / "p.yaml"
    assert main(["compile", DIGITS, "-o", str(package), "--rounds", "1"]) == 0
    text = package.read_text().replace(runtime_image.DEFAULT_RUNTIME_IMAGE, "reg.io/kfp-tune-python:latest")
    assert f"value: {build_stamp()}" in text
    for name, stamp in (("other.yaml", f"{VERSION}+{other}"), ("version.yaml", VERSION)):
        (tmp_path / name).write_text(re.sub(r"(name: KFP_TUNE_COMPILED_BY\n\s+value: )\S+", rf"\g<1>{stamp}", text))
    capsys.readouterr()
    assert main(["submit", str(tmp_path / "other.yaml"), "--host", kfp_host.url]) == 0
    err = capsys.readouterr().err
    assert err.count("warning:") == 1, err
    assert err.startswith(f"warning: the package other.yaml was compiled by kfp-tune {VERSION} (build {other}), not by this kfp-tune "
                          f"{VERSION} (build {build_fingerprint()}): it is sent as it is"), err
    assert main(["submit", str(tmp_path / "version.yaml"), "--host", kfp_host.url]) == 0
    err = capsys.readouterr().err
    assert err.count("warning:") == 1, err
    assert err.startswith(f"warning: the package version.yaml was compiled by kfp-tune {VERSION} with no build (before kfp-tune stamped "
                          f"its build, 2026-12-06 23:42 UTC, or by one installed without its .py files), not by this kfp-tune {VERSION} "
                          f"(build {build_fingerprint()}): it is sent as it is"), err
    assert f"another build of {VERSION} runs its steps unchecked" in err and "compile it again with this kfp-tune" in err, err
    assert main(["schedule", str(tmp_path / "version.yaml"), "--host", kfp_host.url, "--cron", "@daily"]) == 0
    assert "warning: the package version.yaml was compiled by kfp-tune 0.1.0 with no build" in capsys.readouterr().err
    assert len(kfp_host.posted("runs")) == 2 and len(kfp_host.posted("recurringruns")) == 1  # warned, and sent


def test_a_package_kfp_tune_compiled_before_it_stamped_its_packages_is_told_and_its_own_is_not(kfp_host, tmp_path, capsys):
    """QA s35 "upgrade", finding 1: a package of a kfp-tune from before 2026-12-05 (no
    KFP_TUNE_COMPILED_BY at all; its description has no 'compiled by') was sent without a word.
    Told, saying what is known and to recompile; this kfp-tune's own package is sent silently, as
    is a package that is no tuning pipeline of kfp-tune compile's (no stamp expected there)."""
    import re

    package = tmp_path / "p.yaml"
    assert main(["compile", DIGITS, "-o", str(package), "--rounds", "1"]) == 0
    text = package.read_text()
    capsys.readouterr()
    assert main(["submit", str(package), "--host", kfp_host.url]) == 0
    assert main(["schedule", str(package), "--host", kfp_host.url, "--cron", "@daily"]) == 0
    assert "warning" not in capsys.readouterr().err
    unstamped = re.sub(r"\n\s+- name: KFP_TUNE_COMPILED_BY\n\s+value: \S+", "", text)
    unstamped = re.sub(r"(description: 'kfp-tune: Katib experiment [^;]*); compiled by kfp-tune [^']*'", r"\g<1>'", unstamped)
    assert "KFP_TUNE_COMPILED_BY" not in unstamped and "compiled by kfp-tune" not in unstamped.split("pipelineInfo:")[1][:300]
    (tmp_path / "old.yaml").write_text(unstamped)
    assert main(["submit", str(tmp_path / "old.yaml"), "--host", kfp_host.url]) == 0
    err = capsys.readouterr().err
    assert err.count("warning:") == 1, err
    assert err.startswith(f"warning: the package old.yaml was compiled by a kfp-tune from before 2026-12-05 03:46 UTC, which stamped no "
                          f"package with its version, not by this kfp-tune {described(build_stamp())}: it is sent as it is"), err
    assert "nothing checks which kfp-tune that image holds" in err and "compile it again with this kfp-tune" in err, err
    # a pipeline of one's own (another description): kfp-tune stamps none, so nothing is told
    (tmp_path / "own.yaml").write_text(unstamped.replace("description: 'kfp-tune: Katib experiment", "description: 'my pipeline around"))
    assert main(["submit", str(tmp_path / "own.yaml"), "--host", kfp_host.url]) == 0
    assert "warning" not in capsys.readouterr().err


def test_a_kfp_tune_without_a_build_compares_a_version_only_stamp_by_its_version(kfp_host, tmp_path, capsys, monkeypatch):
    """A kfp-tune installed without its .py files stamps and knows no build: a version-only stamp
    of its version may be its own, so it is sent without a word, as before."""
    import re

    from kfp_tune.core import version

    package = tmp_path / "p.yaml"
    assert main(["compile", DIGITS, "-o", str(package), "--rounds", "1"]) == 0
    (tmp_path / "v.yaml").write_text(re.sub(r"(name: KFP_TUNE_COMPILED_BY\n\s+value: )\S+", rf"\g<1>{version.VERSION}", package.read_text()))
    monkeypatch.setattr(version, "build_fingerprint", lambda: None)
    capsys.readouterr()
    assert main(["submit", str(tmp_path / "v.yaml"), "--host", kfp_host.url]) == 0
    assert "warning" not in capsys.readouterr().err
    assert main(["submit", str(package), "--host", kfp_host.url]) == 0  # build-stamped: its build cannot be compared here, as before
    assert "warning" not in capsys.readouterr().err


OLD_RECURRING_RUNS = {
    "another build": "kfp-tune {version} (build {other})",
    "the version alone": "kfp-tune {version} with no build (before kfp-tune stamped its build, 2026-12-06 23:42 UTC, or by one installed without its .py files)",
    "no stamp": "a kfp-tune from before 2026-12-05 03:46 UTC, which stamped no package with its version",
}


@pytest.mark.parametrize("stamped", list(OLD_RECURRING_RUNS))
def test_schedules_refusal_beside_a_recurring_run_another_kfp_tune_compiled_names_that_kfp_tune(kfp_host, tmp_path, capsys, stamped):
    """QA s35 "upgrade", finding 4: after an upgrade, schedule beside the old recurring run was
    refused without saying that the old one runs a pipeline another kfp-tune compiled, though its
    stamp is in the listing the refusal is built from: said now, with replacing it as the fix
    (by name and by experiment); not said beside a recurring run this kfp-tune compiled. The old
    one stamped with another build, with the version alone (2026-12-05 to 12-06), or not at all
    (kfp-tune compile before 2026-12-05): the three packages of the QA's upgrade."""
    import re

    from kfp_tune.core.version import VERSION, build_fingerprint
    from kfp_tune.launchers import runtime_image

    package = tmp_path / "p.yaml"
    assert main(["compile", DIGITS, "-o", str(package), "--rounds", "1"]) == 0
    text = package.read_text().replace(runtime_image.DEFAULT_RUNTIME_IMAGE, f"reg.io/kfp-tune-python:{VERSION}")
    package.write_text(text)
    other = "0" * len(build_fingerprint())
    if stamped == "no stamp":
        old = re.sub(r"\n\s+- name: KFP_TUNE_COMPILED_BY\n\s+value: \S+", "", text)
        old = re.sub(r"(description: 'kfp-tune: Katib experiment [^;]*); compiled by kfp-tune [^']*'", r"\g<1>'", old)
        assert "KFP_TUNE_COMPILED_BY" not in old
    else:
        stamp = f"{VERSION}+{other}" if stamped == "another build" else VERSION
        old = re.sub(r"(name: KFP_TUNE_COMPILED_BY\n\s+value: )\S+", rf"\g<1>{stamp}", text)
    (tmp_path / "old.yaml").write_text(old)
    this = described(build_stamp())
    said = (f"It runs a pipeline compiled by {OLD_RECURRING_RUNS[stamped].format(version=VERSION, other=other)}, not by this kfp-tune "
            f"{this}: after an upgrade, replace it: disable it first (the KFP UI's Disable, or kfp.Client(")
    assert main(["schedule", str(tmp_path / "old.yaml"), "--host", kfp_host.url, "--cron", "@daily", "--name", "nightly"]) == 0
    capsys.readouterr()
    for flags in (["--name", "nightly"], ["--name", "another"]):  # refused by name, then by experiment
        assert main(["schedule", str(package), "--host", kfp_host.url, "--cron", "@daily", *flags]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: recurring run ") and said in err, err
        assert err.count("replace it") == 1 and "and schedule again; to keep both, " in err, err  # the fix given once (Review B, finding 6)
    assert len(kfp_host.posted("recurringruns")) == 1
    for recurring in kfp_host.recurring_runs.values():
        recurring["status"] = "DISABLED"
    assert main(["schedule", str(package), "--host", kfp_host.url, "--cron", "@daily", "--name", "nightly"]) == 0
    assert main(["schedule", str(package), "--host", kfp_host.url, "--cron", "@daily", "--name", "nightly"]) == 2
    err = capsys.readouterr().err
    assert "recurring run 'nightly' is already in KFP experiment" in err and "runs a pipeline compiled by" not in err, err
    assert "claim. To replace it, disable it first (the KFP UI's Disable, or kfp.Client(" in err and err.count("replace it") == 1, err
