"""Odd metric values, hostile parameter values and credentials, end to end through the steps."""

from __future__ import annotations

import ast
import logging
import math
import shlex

import pytest
import yaml

from conftest import QUADRATIC, quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import load_state
from kfp_tune.core.trials import render_trial
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers.local import LocalLauncher

PRINTS = {
    "non-finite-only": ["loss=nan", "loss=inf", "loss=-inf", "loss=1e309", "loss=", "loss=abc"],
    "mixed": ["loss=nan", "loss=0.75", "loss=1e309", "loss=0x1A", "loss=0.25", "loss=garbage"],
    "duplicated": ["loss=0.5", "loss=0.5", "loss=0.4", "loss=0.4"],
}


def _printing_experiment(name: str) -> dict:
    """Each trial prints the lines of its case (a categorical parameter)."""
    script = f"import sys; print(chr(10).join({PRINTS!r}[sys.argv[1]]))"
    return quadratic_experiment(**{
        "metadata.name": name,
        "spec.algorithm": {"algorithmName": "grid"},
        "spec.maxTrialCount": len(PRINTS),
        "spec.parameters": [{"name": "case", "parameterType": "categorical", "feasibleSpace": {"list": list(PRINTS)}}],
        "spec.trialTemplate.trialParameters": [{"name": "out", "reference": "case"}],
        "spec.trialTemplate.trialSpec.spec.template.spec.containers": [
            {"name": "main", "image": "python:3.11", "command": ["python3", "-c", shlex.quote(script), "${trialParameters.out}"]}
        ],
    })


def test_metric_values_are_parsed_strictly_and_no_non_finite_objective_reaches_an_algorithm(local_store):
    experiment = load_experiment(_printing_experiment("metrics"))
    run_inline(local_store, experiment, LocalLauncher())
    state = load_state(ExperimentRecords(local_store, "metrics"))
    by_case = {t.assignment["case"]: t for t in state.trials}
    assert by_case["non-finite-only"].status == "MetricsUnavailable"
    assert by_case["mixed"].metrics["loss"] == 0.25
    assert by_case["duplicated"].metrics["loss"] == 0.4 and by_case["duplicated"].result.curve == (0.5, 0.5, 0.4, 0.4)
    problem = steps.problem_of(experiment, state.uid)
    history, _ = steps.history_of(state, problem.space)
    assert all(t.objective is None or math.isfinite(t.objective) for t in history)
    assert [t.objective for t in history if t.assignment["case"] == "non-finite-only"] == [None]


HOSTILE = ['a"\nserviceAccountName: admin', "x: y", "$(rm -rf /)", "no", "off", "1e3", "0x1A", "~", "#c", "héllo ✓ 🚀"]


def test_hostile_parameter_values_reach_the_trial_exactly_with_no_new_field(local_store):
    """Each value is a categorical choice; the trial prints what it got in argv and env. In exec
    form (a Push trial): under StdOut, File and TensorFlowEvent the line goes through ``sh -c``,
    as Katib runs it, and the shell would read these values as it does under Katib."""
    doc = quadratic_experiment(**{
        "metadata.name": "hostile",
        "spec.metricsCollectorSpec": {"collector": {"kind": "Push"}},
        "spec.maxFailedTrialCount": len(HOSTILE),  # the echo reports no metric: each ends MetricsUnavailable, and every value is tried
        "spec.algorithm": {"algorithmName": "grid"},
        "spec.maxTrialCount": len(HOSTILE),
        "spec.parallelTrialCount": 3,
        "spec.parameters": [{"name": "v", "parameterType": "categorical", "feasibleSpace": {"list": HOSTILE}}],
        "spec.trialTemplate.trialParameters": [{"name": "value", "reference": "v"}],
        "spec.trialTemplate.trialSpec.spec.template.spec.containers": [{
            "name": "main", "image": "python:3.11", "command": ["python3", str(QUADRATIC)],
            "args": ["mode=echo", "${trialParameters.value}", "--flag=${trialParameters.value}"],
            "env": [{"name": "ECHO_ENV", "value": "VALUE"}, {"name": "VALUE", "value": "${trialParameters.value}"}],
        }],
    })
    experiment = load_experiment(yaml.safe_load(yaml.safe_dump(doc)))  # through YAML, as a user writes it
    run_inline(local_store, experiment, LocalLauncher())
    records = ExperimentRecords(local_store, "hostile")
    state = load_state(records)
    assert sorted(t.assignment["v"] for t in state.trials) == sorted(HOSTILE)
    for trial in state.trials:
        value = trial.assignment["v"]
        log = records.read_text(records.log_key(trial.name, "main")) or ""
        seen = {}
        for line in log.splitlines():
            if line.startswith("ARGV="):
                seen["argv"] = ast.literal_eval(line[5:])
            elif line.startswith("ENV VALUE="):
                seen["env"] = ast.literal_eval(line[len("ENV VALUE="):])
        assert seen == {"argv": ["mode=echo", value, f"--flag={value}"], "env": value}, trial.name
        manifest = render_trial(experiment, trial)
        pod = manifest["spec"]["template"]["spec"]
        assert set(pod) == {"containers", "restartPolicy"} and "serviceAccountName" not in _keys(manifest)
        assert set(pod["containers"][0]) == {"name", "image", "command", "args", "env"}


def _keys(node) -> set[str]:
    if isinstance(node, dict):
        return set(node) | set().union(*(_keys(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_keys(v) for v in node)) if node else set()
    return set()


STORE_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
"""Where the S3 store takes its credentials from (docs/guide.md, "Storage and credentials"),
written out here rather than read from the launcher, so that a name dropped from the launcher's
list fails this test instead of silently leaving the test's list too."""


def test_the_store_credentials_are_the_ones_listed_here():
    from kfp_tune.stores.s3 import S3Settings

    settings = S3Settings.from_env({name: f"value-of-{name}" for name in STORE_CREDENTIALS})
    assert (settings.access_key, settings.secret_key, settings.session_token) == tuple(f"value-of-{name}" for name in STORE_CREDENTIALS)


def test_store_credentials_never_reach_a_local_trial_run_through_the_steps(local_store, monkeypatch):
    for name in STORE_CREDENTIALS:
        monkeypatch.setenv(name, f"hidden-{name.lower()}")
    monkeypatch.setenv("KFP_TUNE_TEST_VISIBLE", "seen")  # the rest of the environment does reach it
    doc = quadratic_experiment(**{"metadata.name": "credentials", "spec.maxTrialCount": 1, "spec.maxFailedTrialCount": 1, "spec.parallelTrialCount": 1})
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["args"] = ["mode=echo", "x=${trialParameters.x}", "y=${trialParameters.y}"]
    container["env"] = [{"name": "ECHO_ENV", "value": ",".join((*STORE_CREDENTIALS, "KFP_TUNE_TEST_VISIBLE"))}]
    run_inline(local_store, load_experiment(doc), LocalLauncher())
    records = ExperimentRecords(local_store, "credentials")
    (trial,) = load_state(records).trials
    log = records.read_text(records.log_key(trial.name, "main")) or ""
    assert "ENV KFP_TUNE_TEST_VISIBLE='seen'" in log, log
    for name in STORE_CREDENTIALS:
        assert f"ENV {name}=None" in log, f"{name} reached the trial: {log}"
    keys = local_store.list("")
    assert records.log_key(trial.name, "main") in keys
    assert not [key for key in keys if b"hidden-" in (local_store.get(key) or b"")], "a credential was stored"


@pytest.mark.s3
def test_credentials_appear_in_no_log_output_record_or_error(s3_env, s3_bucket, tmp_path, capsys, caplog):
    from minio import Minio

    from kfp_tune.cli import main

    caplog.set_level(logging.DEBUG)
    secret, access = s3_env["AWS_SECRET_ACCESS_KEY"], s3_env["AWS_ACCESS_KEY_ID"]
    doc = quadratic_experiment(**{"metadata.name": "secrets", "spec.maxTrialCount": 3})
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["args"] = ["mode=echo", "x=${trialParameters.x}", "y=${trialParameters.y}"]
    container["env"] = [{"name": "ECHO_ENV", "value": ",".join(STORE_CREDENTIALS)}]
    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump(doc))
    store = f"s3://{s3_bucket}/tuning"
    assert main(["run", str(path), "--engine", "inline", "--store", store]) == 0
    assert main(["status", "secrets", "--store", store]) == 0
    assert main(["trials", "secrets", "--store", store, "--json"]) == 0
    assert main(["run", str(path), "--engine", "inline", "--store", "s3://no-such-bucket-kfptune/x"]) != 0
    out = capsys.readouterr()
    client = Minio(s3_env["KFP_TUNE_S3_ENDPOINT"].split("://")[1], access_key=access, secret_key=secret, secure=False)
    objects = [o.object_name for o in client.list_objects(s3_bucket, recursive=True)]
    assert any(name.endswith("/logs/main.log") for name in objects)
    stored = b"".join(client.get_object(s3_bucket, name).read() for name in objects)
    for text in (out.out, out.err, caplog.text, stored.decode("utf-8", "replace")):
        assert secret not in text and access not in text
    for name in STORE_CREDENTIALS:
        assert f"ENV {name}=None".encode() in stored, f"the trial asked for {name} and did not get it"
