"""The paths and environment a local trial sees, where test_local_launcher.py and
test_local_launcher_files.py leave off: mounts onto folders whose names need quoting (quoted in
Katib's shell line only), a path that names its mount twice, this Python in a folder with a space,
``PATH`` kept or made when there is none, a Directory collector's folder made before the trial
starts and nothing beside it redirected, folders named by env or by values holding ``=``, and
a pbt trial's checkpoint folder (a path with a trailing ``/``) filled from its parent's and kept;
a parent whose name is no store key fails the trial before it starts."""

from __future__ import annotations

import ast
import os
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune.core.interfaces import TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.launchers.checkpoints import store_prefix
from kfp_tune.launchers.kubernetes.kinds import primary_pod_container
from kfp_tune.launchers.local import LocalLauncher
from kfp_tune.launchers.metrics_files import metrics_root
from kfp_tune.steps.prepare import prepare
from kfp_tune.stores import LocalStore


def trial(container: dict[str, Any], collector: str = "", experiment: str = "e", **fields: Any) -> TrialRun:
    """A Job's trial; ``collector``: its metrics collector's kind (none: StdOut, run as ``sh -c``)."""
    manifest = {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {"containers": [{"name": "main", "image": "t", **container}]}}}}
    return TrialRun(experiment, "child", manifest, {}, "main", metrics_collector={"collector": {"kind": collector}} if collector else {}, **fields)


def test_env_and_working_directory_get_the_mounted_folder_unquoted_even_under_the_shell(tmp_path: Path) -> None:
    local = tmp_path / "my data"
    local.mkdir()
    launcher = LocalLauncher(mounts={"/data": str(local)})
    for collector in ("StdOut", "Push"):
        argv, env, cwd = launcher.command_for(trial({"command": ["train", "/data/in.csv"], "env": [{"name": "OUT", "value": "/data/out"}], "workingDir": "/data"}, collector))
        assert env["OUT"] == f"{local}/out" and cwd == str(local), collector
    argv, _, _ = launcher.command_for(trial({"command": ["train", "/data/in.csv"]}, "Push"))
    assert argv == ["train", f"{local}/in.csv"], "exec form: the word as it is, no quotes"
    argv, _, _ = launcher.command_for(trial({"command": ["train", "/data/in.csv"]}, "StdOut"))
    assert shlex.split(argv[-1]) == ["train", f"{local}/in.csv"], "the shell line quotes it"


def test_a_path_that_names_its_mount_again_further_on_is_mapped_at_its_start(tmp_path: Path) -> None:
    argv, _, _ = LocalLauncher(mounts={"/data": str(tmp_path)}).command_for(trial({"command": ["train", "/data/runs/data", "--in=/data/x/data"]}, "Push"))
    assert argv == ["train", f"{tmp_path}/runs/data", f"--in={tmp_path}/x/data"]


def test_a_mount_whose_name_ends_in_x_maps_exactly_that_folder(tmp_path: Path) -> None:
    argv, _, cwd = LocalLauncher(mounts={"/data/BOX/": str(tmp_path)}).command_for(trial({"command": ["train", "/data/BOX/f.csv"], "workingDir": "/data/BOX"}, "Push"))
    assert argv == ["train", f"{tmp_path}/f.csv"] and cwd == str(tmp_path)


def test_python_in_a_folder_with_a_space_runs_in_both_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "my python"
    folder.mkdir()
    (folder / "python3").symlink_to(sys.executable)
    monkeypatch.setattr(sys, "executable", str(folder / "python3"))
    for collector, code in (("StdOut", shlex.quote("print('ran')")), ("Push", "print('ran')")):
        outcome = LocalLauncher().run(trial({"command": ["python", "-c", code]}, collector))
        assert (outcome.phase, outcome.logs["main"]) == (LaunchPhase.SUCCEEDED, "ran\n"), (collector, outcome.message, outcome.logs)


def test_under_the_shell_path_keeps_the_users_folders_and_is_made_when_there_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "my-tool").write_text("#!/bin/sh\necho tool-ran\n")
    (tools / "my-tool").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ.get('PATH', os.defpath)}")
    outcome = LocalLauncher().run(trial({"command": ["my-tool"]}))
    assert (outcome.phase, outcome.logs["main"]) == (LaunchPhase.SUCCEEDED, "tool-ran\n"), outcome.logs
    monkeypatch.delenv("PATH")
    outcome = LocalLauncher().run(trial({"command": ["python3", "-c", shlex.quote("import os; print(os.environ['PATH'])")]}))
    assert outcome.phase == LaunchPhase.SUCCEEDED, outcome.logs
    assert outcome.logs["main"].strip().split(os.pathsep) == [str(Path(sys.executable).parent), *os.defpath.split(os.pathsep)]


DIRECTORY_TRIAL = "import os, sys; d = os.environ['KFP_TUNE_METRICS_PATH']; open(os.path.join(d, 'events.out'), 'wb').write(b'e'); print(sys.argv[1:])"


def test_a_directory_collectors_folder_is_there_when_the_trial_starts_and_nothing_beside_it_moves() -> None:
    run = trial({"command": ["python3", "-c", shlex.quote(DIRECTORY_TRIAL), "/tb/run/extra", "/tb/notes.txt"]}, "TensorFlowEvent", metrics_path="/tb/run", metrics_path_kind="Directory")
    outcome = LocalLauncher().run(run)
    assert outcome.phase == LaunchPhase.SUCCEEDED, outcome.logs
    assert outcome.files == {"events.out": b"e"}
    extra, notes = ast.literal_eval(outcome.logs["main"])  # the list the trial printed
    assert extra != "/tb/run/extra" and extra.endswith("/extra"), "the collector's folder is redirected"
    assert notes == "/tb/notes.txt", "a path beside it that nothing names as a folder is left alone"


def job(args: list[str] | None = None, env: list[dict[str, str]] | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "main", "image": "t", "command": ["python", "train.py"], "args": args or [], "env": env or []}
    return {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {"containers": [container]}}}}


@pytest.mark.parametrize(
    ("manifest", "path", "expected"),
    [
        (job(env=[{"name": "LOGS", "value": "/logs"}]), "/logs/test/m.log", ("/logs", "test/m.log")),
        (job(env=[{"name": "NOTHING"}]), "/logs/test/m.log", ("/logs/test", "m.log")),
        (job(["--out=/logs/run=1"]), "/logs/run=1/test/m.log", ("/logs/run=1", "test/m.log")),
        (job(["/logs/LX/"]), "/logs/LX/test/m.log", ("/logs/LX", "test/m.log")),
    ],
    ids=["env-names-a-folder-above", "env-without-a-value", "a-value-holding-equals", "a-name-ending-in-x"],
)
def test_the_folder_named_by_env_or_a_flags_whole_value_is_the_metrics_root(manifest: dict[str, Any], path: str, expected: tuple[str, str]) -> None:
    assert metrics_root(primary_pod_container(manifest, "main", None) or {}, path, "File") == expected


# --- a pbt trial's checkpoint folder -----------------------------------------------------------

CHECKPOINT_TRIAL = "import sys; print(open(sys.argv[1]).read()); open(sys.argv[2], 'w').write('next')"


def _checkpoint_trial(tmp_path: Path, parent: str) -> tuple[LocalStore, ExperimentRecords, TrialRun]:
    store = LocalStore(tmp_path / "store")
    experiment = load_experiment(quadratic_experiment())
    records = ExperimentRecords(store, experiment.name)
    prepare(records, experiment)
    run = trial({"command": [sys.executable, "-c", CHECKPOINT_TRIAL, "/ckpt/model.pkl", "/ckpt/out/next.txt"]}, "Push", experiment=experiment.name,
                checkpoint_path="/ckpt/", checkpoint_parent=parent)
    return store, records, run


def test_a_trial_sees_its_parents_checkpoint_at_the_path_and_what_it_writes_there_is_kept(tmp_path: Path) -> None:
    store, records, run = _checkpoint_trial(tmp_path, "parent")
    store.put(store_prefix(records, "parent") + "model.pkl", b"weights")
    store.put(store_prefix(records, "parent") + "out/keep.txt", b"")
    outcome = LocalLauncher(env={"KFP_TUNE_STORE": store.uri}).run(run)
    assert outcome.phase == LaunchPhase.SUCCEEDED, (outcome.message, outcome.logs)
    assert outcome.logs["main"] == "weights\n"
    assert store.get(store_prefix(records, "child") + "out/next.txt") == b"next"
    assert store.get(store_prefix(records, "parent") + "out/next.txt") is None, "the parent's folder is left as it was"


def test_a_parent_whose_name_is_no_store_key_fails_the_trial_before_it_runs(tmp_path: Path) -> None:
    store, _, run = _checkpoint_trial(tmp_path, "../other")
    outcome = LocalLauncher(env={"KFP_TUNE_STORE": store.uri}).run(run)
    assert (outcome.phase, outcome.reason) == (LaunchPhase.FAILED, "CheckpointNotReady")
    assert "'../other'" in outcome.message
    assert outcome.logs == {}, "the trial did not run"
