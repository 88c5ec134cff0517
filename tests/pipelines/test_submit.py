"""kfp-tune submit / schedule and their Python equivalents, through the real kfp.Client against
a local HTTP server that answers the KFP API calls and records them (tests/support/fake_kfp.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from fake_kfp import serve
from kfp_tune.cli import main

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
        (["--param", "aws_secret_access_key=x"], "arguments.aws_secret_access_key: not a parameter of this pipeline"),
        (["--param", "nonsense"], "--param 'nonsense': expected NAME=VALUE"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_sent(kfp_host, capsys, extra, message):
    assert main(["submit", DIGITS, "--host", kfp_host.url, *extra]) == 2
    assert message in capsys.readouterr().err
    assert kfp_host.requests == []


def test_a_bad_cron_is_refused_before_anything_is_sent(kfp_host, capsys):
    assert main(["schedule", DIGITS, "--host", kfp_host.url, "--cron", "0 2 * * *"]) == 2
    assert "cron: expected six fields, seconds first" in capsys.readouterr().err
    assert kfp_host.requests == []


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


def test_without_a_host_the_error_says_none_was_given(capsys, monkeypatch):
    monkeypatch.delenv("KF_PIPELINES_ENDPOINT", raising=False)
    assert main(["submit", DIGITS]) == 1
    assert "KFP API at kfp's default host (no --host given, and $KF_PIPELINES_ENDPOINT is not set)" in capsys.readouterr().err
    monkeypatch.setenv("KF_PIPELINES_ENDPOINT", "http://127.0.0.1:9")
    assert main(["submit", DIGITS]) == 1
    err = capsys.readouterr().err
    assert "KFP API at the host in $KF_PIPELINES_ENDPOINT could not be reached" in err
