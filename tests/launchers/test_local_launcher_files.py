"""LocalLauncher beyond the happy path of test_local_launcher.py: a File or TensorFlowEvent
collector's folder reaches the trial wherever the command, env or working directory names it
and what the trial wrote comes back; mounts map the most specific container path; a trial that
cannot run here is refused before it starts, saying why."""

from __future__ import annotations

import dataclasses
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

from kfp_tune.core.interfaces import TrialRun
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.launchers.local import LocalLauncher

WRITE_METRICS = """
import os, sys
folder = sys.argv[1]
os.makedirs(os.path.join(folder, "test"), exist_ok=True)
with open(os.path.join(folder, "test", "metrics.log"), "w") as f:
    f.write("loss=0.25\\n")
"""


def trial(container: dict[str, Any], metrics_path: str = "", kind: str = "", manifest_spec: dict[str, Any] | None = None, collector: str = "") -> TrialRun:
    """A trial of a Job; ``collector``: its metrics collector's kind (none: StdOut, run as ``sh -c``)."""
    manifest = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "spec": {**(manifest_spec or {}), "template": {"spec": {"containers": [{"name": "main", "image": "trainer", **container}], "restartPolicy": "Never"}}},
    }
    return TrialRun(
        experiment="exp", trial="exp-t1", manifest=manifest, assignment={}, primary_container="main", metrics_path=metrics_path, metrics_path_kind=kind,
        metrics_collector={"collector": {"kind": collector}} if collector else {},
    )


def test_a_file_collectors_folder_named_by_a_flag_gets_the_trials_file_back():
    run = trial({"command": ["python3", "-c", shlex.quote(WRITE_METRICS)], "args": ["/logs"]}, "/logs/test/metrics.log", "File", collector="File")
    outcome = LocalLauncher().run(run)
    assert outcome.phase == LaunchPhase.SUCCEEDED, outcome.logs
    assert outcome.files == {"metrics.log": b"loss=0.25\n"}


def test_the_metrics_folder_named_in_env_or_as_working_directory_is_the_same_folder():
    script = "import os; open('metrics.log', 'w').write(os.path.realpath(os.environ['LOGS']) + ' ' + os.path.realpath(os.getcwd()))"
    run = trial({"command": ["python", "-c", shlex.quote(script)], "env": [{"name": "LOGS", "value": "/logs"}], "workingDir": "/logs"}, "/logs/metrics.log", "File")
    outcome = LocalLauncher().run(run)
    assert outcome.phase == LaunchPhase.SUCCEEDED, outcome.logs
    from_env, working_directory = outcome.files["metrics.log"].decode().split(" ")
    assert from_env == working_directory, "both name the one folder whose files come back"


def test_a_directory_collector_gets_every_file_below_its_folder():
    script = "import os, sys; d = os.environ['KFP_TUNE_METRICS_PATH']; os.makedirs(d + '/train'); open(d + '/train/events.1', 'wb').write(b'\\x00e')"
    outcome = LocalLauncher().run(trial({"command": ["python", "-c", shlex.quote(script)]}, "/tb/run", "Directory", collector="TensorFlowEvent"))
    assert outcome.phase == LaunchPhase.SUCCEEDED, outcome.logs
    assert outcome.files == {"train/events.1": b"\x00e"}


def test_without_a_collector_path_there_are_no_files_and_no_metrics_variable():
    script = "import os; print(os.environ.get('KFP_TUNE_METRICS_PATH', 'unset'))"
    outcome = LocalLauncher().run(trial({"command": ["python", "-c", shlex.quote(script)]}))
    assert outcome.files == {} and outcome.logs["main"].strip() == "unset"


def test_the_trial_knows_its_experiment_and_name():
    script = "import os; print(os.environ['KFP_TUNE_EXPERIMENT'], os.environ['KFP_TUNE_TRIAL'], repr(os.environ['EMPTY']))"
    outcome = LocalLauncher().run(trial({"command": ["python", "-c", script], "env": [{"name": "EMPTY"}]}, collector="Push"))
    assert outcome.logs["main"].split() == ["exp", "exp-t1", "''"]


def test_the_most_specific_mount_wins(tmp_path: Path):
    (tmp_path / "opt").mkdir()
    (tmp_path / "app").mkdir()
    launcher = LocalLauncher(mounts={"/opt": str(tmp_path / "opt"), "/opt/app/": str(tmp_path / "app")})
    container = {"command": ["python3", "/opt/app/train.py", "--data=/opt/data"], "workingDir": "/opt/app"}
    expected = [sys.executable, str(tmp_path / "app" / "train.py"), f"--data={tmp_path / 'opt' / 'data'}"]
    argv, _, cwd = launcher.command_for(trial(container, collector="Push"))
    assert argv == expected and cwd == str(tmp_path / "app")
    argv, _, cwd = launcher.command_for(trial(container))  # StdOut: the same words, in Katib's sh -c line
    assert argv[:2] == ["sh", "-c"] and shlex.split(argv[2]) == expected and cwd == str(tmp_path / "app")


@pytest.mark.parametrize("python", ["python", "python3", "/usr/bin/python3", "/usr/local/bin/python"])
def test_python_as_the_command_means_this_python(python: str):
    argv, _, _ = LocalLauncher().command_for(trial({"command": [python, "train.py"]}, collector="Push"))
    assert argv == [sys.executable, "train.py"]
    argv, _, _ = LocalLauncher().command_for(trial({"command": [python, "train.py"]}))
    assert argv[:2] == ["sh", "-c"] and shlex.split(argv[2]) == [sys.executable, "train.py"]


def test_another_interpreter_is_left_as_it_is():
    argv, _, cwd = LocalLauncher().command_for(trial({"command": ["python3.11-wrapper", "train.py"]}, collector="Push"))
    assert argv == ["python3.11-wrapper", "train.py"] and cwd is None
    argv, _, _ = LocalLauncher().command_for(trial({"command": ["python3.11-wrapper", "train.py"]}))
    assert argv == ["sh", "-c", "python3.11-wrapper train.py"]


@pytest.mark.parametrize(
    ("container", "words"),
    [
        ({"command": "python train.py"}, "command and args must be lists of strings (exec form)"),
        ({"command": ["python"], "args": "train.py --lr=0.1"}, "command and args must be lists of strings (exec form)"),
        ({}, "has no command: on a cluster it runs its image's entrypoint (with args as its arguments), which is not known here"),
        # args alone are the entrypoint's arguments: they ran as the command line (sh: 0: Illegal option -0)
        ({"args": ["--lr=0.1"]}, "has no command: on a cluster it runs its image's entrypoint"),
        ({"command": ["python"], "env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}, "env 'TOKEN' uses valueFrom, which needs a cluster"),
    ],
)
def test_a_trial_that_cannot_run_here_is_refused_saying_why(container: dict[str, Any], words: str):
    outcome = LocalLauncher().run(trial(container))
    assert outcome.phase == LaunchPhase.FAILED and outcome.reason == "InvalidTrial"
    assert words in outcome.message


def test_a_trial_without_its_primary_container_is_refused():
    outcome = LocalLauncher().run(dataclasses.replace(trial({"command": ["python"]}), primary_container="trainer"))
    assert (outcome.phase, outcome.reason) == (LaunchPhase.FAILED, "InvalidTrial")
    assert outcome.message == "no container named 'trainer' in the trial manifest"
