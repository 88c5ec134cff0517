"""What a script reads from kfp-tune: --version, and submit / schedule's stdout (one line of
kfp-tune's, or one JSON object; kfp's own printed links left out), against the fake KFP API
(tests/support/fake_kfp.py)."""

from __future__ import annotations

import json

import pytest

import kfp_tune
from conftest import REPO
from fake_kfp import serve
from kfp_tune.cli import main

DIGITS = str(REPO / "images" / "sklearn-digits" / "experiment.yaml")


@pytest.fixture
def kfp_host():
    fake, server = serve()
    yield fake
    server.shutdown()


def test_version_prints_the_package_version_and_build(capsys):
    from kfp_tune.core.version import build_fingerprint

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"kfp-tune {kfp_tune.__version__} (build {build_fingerprint()})\n"


def test_submit_json_is_the_only_output_on_stdout(kfp_host, capsys):
    assert main(["submit", DIGITS, "--host", kfp_host.url, "--store", "s3://team/tuning", "--json"]) == 0
    out, err = capsys.readouterr()
    submitted = json.loads(out)  # one JSON document: kfp's "Experiment details: ..." is not in it
    (run_id,) = kfp_host.runs
    assert submitted == {"run_id": run_id, "kfp_experiment_id": next(iter(kfp_host.experiments)),
                         "url": f"{kfp_host.url}/#/runs/details/{run_id}", "store": "s3://team/tuning"}
    assert "details: " not in err  # kfp's own links: the url above


def test_schedule_json_and_plain_stdout_hold_only_kfp_tunes_words(kfp_host, capsys):
    assert main(["schedule", DIGITS, "--host", kfp_host.url, "--cron", "@daily", "--json"]) == 0
    scheduled = json.loads(capsys.readouterr().out)
    assert scheduled["cron"] == "@daily" and scheduled["fresh_experiment"] is False and scheduled["recurring_run_id"] in scheduled["url"]
    assert main(["submit", DIGITS, "--host", kfp_host.url]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("run ") and " started: " in line


def test_a_submit_leaves_an_unconfigured_root_logger_unconfigured(kfp_host, monkeypatch):
    """QA "notebook" (session 31): kfp's client logs on the root logger, which configured it
    (logging.basicConfig) in the user's notebook: every library's warning then printed as
    'WARNING:name:...'. A library configures no logging, so kfp-tune leaves the root logger as
    the call found it. (pytest's own handlers are set aside for the call: a root logger with
    handlers is one logging.basicConfig leaves alone.)"""
    import logging

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    kfp_tune.submit(DIGITS, host=kfp_host.url, store_uri="s3://team/tuning")
    assert root.handlers == [] and len(kfp_host.runs) == 1
