"""A trial's command runs as Katib runs it (kubeflow/katib ``pkg/webhook/v1beta1/pod``:
``wrapWorkerContainer``, ``NeedWrapWorkerMetricsCollectorList``): under the StdOut, File and
TensorFlowEvent collectors (and no ``metricsCollectorSpec``, which is StdOut) through ``sh -c``
with command and args joined by single spaces, locally and in the manifest for a cluster; under
Push, None, PrometheusMetric and Custom in exec form. So Katib's NAS examples' quoting
(``--algorithm-settings="${trialParameters.algorithmSettings}"``) hands the trial the value
without the quotes, ``$VAR`` expands and ``&&`` chains; in exec form every word stays as written."""

from __future__ import annotations

import ast
import contextlib
import json
import os
import shlex
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import DATA, QUADRATIC, TESTS, quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.errors import RunInterrupted
from kfp_tune.core.interfaces import TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.launchers import local
from kfp_tune.launchers.kubernetes import KubernetesConfig, render_manifest
from kfp_tune.launchers.kubernetes.manifests import METRICS_VOLUME
from kfp_tune.launchers.local import LocalLauncher
from kfp_tune.stores import LocalStore

MOUNT = "/opt/kfp-tune-tests"
SETTINGS = "{'num_epochs': '1', 'w_lr': 0.025}"
"""A value as Katib's DARTS service gives it: spaces, single quotes, braces."""


def _argv_of(log: str) -> list[str]:
    """The words tests/trials/quadratic.py got (``mode=echo`` prints ``ARGV=[...]``)."""
    (line,) = [line for line in log.splitlines() if line.startswith("ARGV=")]
    return list(ast.literal_eval(line[len("ARGV="):]))


def _trial(container: dict[str, Any], collector: str = "") -> TrialRun:
    """One trial of a Job; ``collector``: its metrics collector's kind (none: no ``metricsCollectorSpec``)."""
    manifest = {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {"containers": [{"name": "main", "image": "trainer", **container}]}}}}
    return TrialRun("exp", "exp-t1", manifest, {}, "main", metrics_collector={"collector": {"kind": collector}} if collector else {})


# --- locally: the subprocess launcher, through kfp-tune run --------------------------------------


def _darts_like() -> dict[str, Any]:
    """One trial of tests/trials/quadratic.py in echo mode, given a text value the way Katib's
    darts examples write it: ``--algorithm-settings="${trialParameters.algorithmSettings}"``."""
    doc = quadratic_experiment(**{
        "spec.objective": {"type": "minimize", "objectiveMetricName": "loss"},
        "spec.maxTrialCount": 1,
        "spec.parallelTrialCount": 1,
        "spec.maxFailedTrialCount": 1,
        "spec.parameters": [{"name": "algorithm-settings", "parameterType": "categorical", "feasibleSpace": {"list": [SETTINGS]}}],
        "spec.trialTemplate.trialParameters": [{"name": "algorithmSettings", "reference": "algorithm-settings"}],
    })
    [container] = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"]
    container["command"] = ["python3", f"{MOUNT}/quadratic.py"]
    container["args"] = ["mode=echo", '--algorithm-settings="${trialParameters.algorithmSettings}"']
    return doc


def test_katibs_darts_quoting_hands_the_trial_the_value_without_the_quotes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``kfp-tune run --engine inline``, as a user runs Katib's darts example here: the double
    quotes are the shell's, as under Katib, and the trial gets the setting as one word."""
    path = tmp_path / "darts-like.yaml"
    path.write_text(yaml.safe_dump(_darts_like()))
    code = main(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "store"), "--mount", f"{MOUNT}={TESTS / 'trials'}", "--json"])
    outcome = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and outcome["status"] == "Succeeded", outcome
    best = outcome["best_trial"]
    assert best["parameters"] == {"algorithm-settings": SETTINGS}
    records = ExperimentRecords(LocalStore(tmp_path / "store"), "quad")
    log = records.read_text(records.log_key(best["name"], "main")) or ""
    assert _argv_of(log) == ["mode=echo", f"--algorithm-settings={SETTINGS}"]


@pytest.mark.parametrize("kind", ["Push", "None"])
def test_push_and_none_collectors_keep_exec_form(kind: str) -> None:
    """Katib wraps neither: the same words reach the trial as written, quotes and ``$`` included."""
    container: dict[str, Any] = {"command": ["python3", str(QUADRATIC)], "args": ["mode=echo", f'--algorithm-settings="{SETTINGS}"', "x=$GREETING", "&&", "echo", "chained"],
                 "env": [{"name": "GREETING", "value": "hello"}]}
    launcher = LocalLauncher()
    argv, _, _ = launcher.command_for(_trial(container, kind))
    assert argv == [sys.executable, str(QUADRATIC), *container["args"]]
    outcome = launcher.run(_trial(container, kind))
    assert outcome.phase == "Succeeded", outcome.logs
    assert _argv_of(outcome.logs["main"]) == container["args"]


@pytest.mark.parametrize("kind", ["PrometheusMetric", "Custom"])
def test_the_other_collectors_katib_does_not_wrap_keep_exec_form_too(kind: str) -> None:
    argv, _, _ = LocalLauncher().command_for(_trial({"command": ["/bin/train", "--x=$X"], "args": ["a b"]}, kind))
    assert argv == ["/bin/train", "--x=$X", "a b"]


@pytest.mark.parametrize("kind", ["", "StdOut", "File", "TensorFlowEvent"])
def test_the_collectors_katib_wraps_run_the_joined_line_under_sh(kind: str) -> None:
    argv, _, _ = LocalLauncher().command_for(_trial({"command": ["/bin/train", "--x=$X"], "args": ["a b"]}, kind))
    assert argv == ["sh", "-c", "/bin/train --x=$X a b"]


def test_a_variable_expands_and_and_chains_as_under_katib() -> None:
    container = {"command": ["python3", str(QUADRATIC), "mode=echo", "x=$GREETING"], "args": ["&&", "echo", "chained"],
                 "env": [{"name": "GREETING", "value": "hello"}]}
    outcome = LocalLauncher().run(_trial(container))
    assert outcome.phase == "Succeeded", outcome.logs
    log = outcome.logs["main"]
    assert _argv_of(log) == ["mode=echo", "x=hello"]
    assert log.splitlines()[-1] == "chained", "the second command ran after the first succeeded"


def test_and_does_not_run_the_second_command_after_a_failure() -> None:
    outcome = LocalLauncher().run(_trial({"command": ["python3", "-c", "'raise SystemExit(3)'", "&&", "echo", "chained"]}))
    assert (outcome.phase, outcome.exit_code) == ("Failed", 3)
    assert "chained" not in outcome.logs["main"]


def test_a_command_that_is_already_sh_c_keeps_its_shell_and_has_the_rest_joined() -> None:
    """Katib's rule for ``sh -c`` / ``bash -c`` commands: the shell stays, the other words are one line."""
    container = {"command": ["sh", "-c"], "args": ["python3", str(QUADRATIC), "mode=echo", "x=$GREETING"], "env": [{"name": "GREETING", "value": "hi"}]}
    outcome = LocalLauncher().run(_trial(container))
    assert outcome.phase == "Succeeded", outcome.logs
    assert _argv_of(outcome.logs["main"]) == ["mode=echo", "x=hi"]


def test_the_running_log_line_names_the_trials_command_line_not_the_shell(caplog: pytest.LogCaptureFixture) -> None:
    """The launcher's "running" line shows what a user wrote (inside ``sh -c '...'``), not only
    ``sh``, which every shell-form trial would read; a long line is cut to a readable length."""
    caplog.set_level("INFO", logger=local.__name__)
    outcome = LocalLauncher().run(_trial({"command": ["python3", str(QUADRATIC), "mode=echo", "--tag=" + "x" * 400]}))
    assert outcome.phase == "Succeeded", outcome.logs
    (line,) = [record.getMessage() for record in caplog.records if ": running " in record.getMessage()]
    assert line.startswith("trial exp-t1: running sh -c "), line
    assert f"{QUADRATIC} mode=echo --tag=xxx" in line, line
    assert line.endswith("...") and len(line) < 400, line


def test_python3_anywhere_in_the_line_is_this_python() -> None:
    """Not only as the command: after ``&&`` too (this Python's folder comes first in PATH)."""
    outcome = LocalLauncher().run(_trial({"command": ["true", "&&", "python3", "-c", "'import sys; print(sys.prefix)'"]}))
    assert outcome.phase == "Succeeded", outcome.logs
    assert outcome.logs["main"].strip() == sys.prefix


def test_a_mounted_folder_with_a_space_stays_one_word_in_the_line(tmp_path: Path) -> None:
    folder = tmp_path / "data with space"
    folder.mkdir()
    launcher = LocalLauncher(mounts={"/data": str(folder)})
    outcome = launcher.run(_trial({"command": ["python3", str(QUADRATIC), "mode=echo", "--data=/data/x.csv", "/data"]}))
    assert outcome.phase == "Succeeded", outcome.logs
    assert _argv_of(outcome.logs["main"]) == ["mode=echo", f"--data={folder}/x.csv", str(folder)]


@pytest.mark.parametrize("collector", ["", "Push"])
def test_a_mount_maps_a_path_inside_an_sh_c_line(tmp_path: Path, collector: str) -> None:
    """QA's pbt-sh.yaml: ``sh -c 'python3 /opt/pbt/pbt_trial.py ...'`` with ``--mount /opt/pbt=...``
    failed every trial (can't open file): a path that starts a word of the line (after a space, a
    quote, ``=`` or ``:``) is mapped, under Katib's shell form and in exec form alike; a longer
    name that only shares the prefix is not, and a local folder with a space stays one word."""
    folder = tmp_path / "app folder"
    folder.mkdir()
    (folder / "echo.py").write_text(QUADRATIC.read_text())
    launcher = LocalLauncher(mounts={MOUNT: str(folder)})
    line = f"python3 {MOUNT}/echo.py mode=echo --data={MOUNT}/x --path=a:{MOUNT} \"{MOUNT}/q w\" {MOUNT}x/y"
    outcome = launcher.run(_trial({"command": ["sh", "-c", line]}, collector))
    assert outcome.phase == "Succeeded", outcome.logs
    assert _argv_of(outcome.logs["main"]) == ["mode=echo", f"--data={folder}/x", f"--path=a:{folder}", f"{folder}/q w", f"{MOUNT}x/y"]


def test_the_note_of_a_path_not_on_this_machine_sees_one_inside_an_sh_c_line(tmp_path: Path) -> None:
    doc = quadratic_experiment(**{"spec.algorithm": {"algorithmName": "random"}})
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container.update(command=["sh", "-c", f"cd /tmp && python3 {MOUNT}/pbt_trial.py ${{trialParameters.x}} ${{trialParameters.y}}"], args=[])
    experiment = load_experiment(doc)
    assert LocalLauncher().unmounted_paths(experiment) == [(f"{MOUNT}/pbt_trial.py", MOUNT)]
    assert LocalLauncher(mounts={MOUNT: str(tmp_path)}).unmounted_paths(experiment) == []


GRACEFUL_TRIAL = """
import os, pathlib, signal, sys, time
folder = pathlib.Path(sys.argv[1])
def on_term(signum, frame):
    (folder / "got-term").touch()
    while not (folder / "release").exists():
        time.sleep(0.01)
    (folder / "finished").touch()
    sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
(folder / "started").write_text(str(os.getpgrp()))
time.sleep(3600)
"""


def _wait_for(path: Path, thread: threading.Thread) -> None:
    """Until ``path`` exists, while the run goes on (a bound of minutes, for a broken launcher only)."""
    deadline = time.monotonic() + 120
    while not path.exists():
        assert thread.is_alive() and time.monotonic() < deadline, f"{path.name} never came"
        time.sleep(0.01)


def test_an_interrupted_trial_under_sh_gets_its_grace_period(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shell ends at SIGTERM at once; the trial it runs (its child) is given the grace period
    all the same, as a trial run in exec form is: the run returns once the trial has ended."""
    monkeypatch.setattr(local, "GRACE_SECONDS", 3600.0)
    launcher = LocalLauncher()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            launcher.run(_trial({"command": ["python3", "-c", shlex.quote(GRACEFUL_TRIAL), str(tmp_path)]}))
        except BaseException as exc:  # judged below
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        _wait_for(tmp_path / "started", thread)
        launcher.interrupt()
        _wait_for(tmp_path / "got-term", thread)
        (tmp_path / "release").touch()
        thread.join(120)
        assert not thread.is_alive() and len(errors) == 1 and isinstance(errors[0], RunInterrupted), errors
        assert (tmp_path / "finished").exists(), "the trial was killed in its SIGTERM handler"
    finally:
        (tmp_path / "release").touch()
        with contextlib.suppress(ProcessLookupError, PermissionError, ValueError, FileNotFoundError):
            os.killpg(int((tmp_path / "started").read_text()), signal.SIGKILL)


# --- on a cluster: the manifest the Kubernetes launcher creates, as kfp-tune render shows it --------


def _render(doc: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str], *assign: str) -> dict[str, Any]:
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["render", str(path), *(f"--assign={a}" for a in assign)]) == 0, capsys.readouterr().err
    return dict(yaml.safe_load(capsys.readouterr().out))


def _container(manifest: dict[str, Any]) -> dict[str, Any]:
    return dict(manifest["spec"]["template"]["spec"]["containers"][0])


def test_render_shows_a_stdout_job_running_the_joined_line_under_sh(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = _render(quadratic_experiment(), tmp_path, capsys, "x=0.5", "y=0.25")
    container = _container(manifest)
    assert container["command"] == ["sh", "-c"]
    assert container["args"] == [f"python3 {QUADRATIC} x=0.5 y=0.25"]


def test_render_of_the_darts_quoting_keeps_the_quotes_for_the_shell_in_the_pod(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = _render(_darts_like(), tmp_path, capsys, f"algorithm-settings={SETTINGS}")
    container = _container(manifest)
    assert container["command"] == ["sh", "-c"]
    assert shlex.split(container["args"][0]) == ["python3", f"{MOUNT}/quadratic.py", "mode=echo", f"--algorithm-settings={SETTINGS}"]


def test_render_keeps_exec_form_for_push(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """(Katib's former name for Push, None, is refused by validation since a743d26, as Katib refuses it.)"""
    manifest = _render(quadratic_experiment(**{"spec.metricsCollectorSpec": {"collector": {"kind": "Push"}}}), tmp_path, capsys, "x=0.5", "y=0.25")
    container = _container(manifest)
    assert (container["command"], container["args"]) == (["python3", str(QUADRATIC)], ["x=0.5", "y=0.25"])


def test_a_file_collectors_volume_is_still_where_the_command_names_its_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The metrics folder comes from the command's words (``--log-path=/logs`` for a collector path
    ``/logs/test/metrics.log``): read before they are joined into the line."""
    doc = quadratic_experiment(**{"spec.metricsCollectorSpec": {
        "collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/logs/test/metrics.log", "kind": "File"}},
    }})
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"].append("--log-path=/logs")
    container = _container(_render(doc, tmp_path, capsys, "x=0.5", "y=0.25"))
    assert container["command"] == ["sh", "-c"] and container["args"] == [f"python3 {QUADRATIC} x=0.5 y=0.25 --log-path=/logs"]
    assert {"name": METRICS_VOLUME, "mountPath": "/logs"} in container["volumeMounts"]


def test_a_container_without_a_command_is_left_to_its_image_entrypoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Katib reads the image's entrypoint from its registry to wrap it; kfp-tune cannot, and leaves it."""
    doc = quadratic_experiment()
    del doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["command"]
    container = _container(_render(doc, tmp_path, capsys, "x=0.5", "y=0.25"))
    assert "command" not in container and container["args"] == ["x=0.5", "y=0.25"]


def test_a_bash_c_command_keeps_bash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0].update(
        command=["bash", "-c"], args=["python3 /opt/train.py", "--x=${trialParameters.x}", "--y=${trialParameters.y}"]
    )
    container = _container(_render(doc, tmp_path, capsys, "x=0.5", "y=0.25"))
    assert (container["command"], container["args"]) == (["bash", "-c"], ["python3 /opt/train.py --x=0.5 --y=0.25"])


def test_a_kind_built_at_run_time_gets_the_line_in_its_container_entry_and_not_in_a_script() -> None:
    """Argo: the ``container`` template the primary container is made from runs ``sh -c``; a
    ``script`` template (its ``source`` becomes a file the command is given) is left as it is."""
    doc = yaml.safe_load((DATA / "katib-examples" / "argo_argo-workflow.yaml").read_text())
    manifest = render_manifest(load_experiment(doc), {"lr": "0.02"}, "argo-trial-1", KubernetesConfig(namespace="default", service_accounts=("argo",)))
    training = next(t for t in manifest["spec"]["templates"] if t["name"] == "model-training")["container"]
    assert training["command"] == ["sh", "-c"]
    assert shlex.split(training["args"][0]) == ["python3", "/opt/pytorch-mnist/mnist.py", "--lr=0.02", "--epochs={{inputs.parameters.epochs}}", "--batch-size=16"]
    templates = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["templates"]
    for template in templates:
        if template["name"] == "model-training":
            template["script"] = {"image": "python:3.12", "command": ["python"], "source": "print('loss=0.5')  # lr=${trialParameters.learningRate}"}
            template.pop("container")
    manifest = render_manifest(load_experiment(doc), {"lr": "0.02"}, "argo-trial-1", KubernetesConfig(namespace="default", service_accounts=("argo",)))
    script = next(t for t in manifest["spec"]["templates"] if t["name"] == "model-training")["script"]
    assert script["command"] == ["python"] and "args" not in script
