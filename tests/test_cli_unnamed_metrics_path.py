"""validate and run note, before the first trial, a File or TensorFlowEvent collector path that
no word of the trial's command, args, env or workingDir names (QA metrics finding 2): a local run
moves the path only in the words that name it, so training code that writes Katib's default
``/var/log/katib/metrics.log`` itself writes this machine's file and every trial ends
MetricsUnavailable. A named path, and the StdOut collector, get no such note."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main

FIELD = "note: spec.metricsCollectorSpec.source.fileSystemPath.path: "


def _write(tmp_path: Path, doc: dict[str, Any]) -> str:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def _collected(kind: str, path: str = "", args: list[str] | None = None) -> dict[str, Any]:
    """The quadratic experiment (one trial) with a ``kind`` collector at ``path`` (Katib's default
    where "") and ``args`` after the trial's own."""
    collector: dict[str, Any] = {"collector": {"kind": kind}}
    if path:
        collector["source"] = {"fileSystemPath": {"path": path, "kind": "File" if kind == "File" else "Directory"}}
    return quadratic_experiment(**{
        "spec.objective.additionalMetricNames": [],
        "spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1,
        "spec.metricsCollectorSpec": collector,
        "spec.trialTemplate.trialSpec.spec.template.spec.containers.0.args": ["x=${trialParameters.x}", "y=${trialParameters.y}", *(args or [])],
    })


def _notes(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith(FIELD)]


@pytest.mark.parametrize(("kind", "path", "folder"), [
    ("File", "/var/log/katib/metrics.log", "/var/log/katib"),
    ("TensorFlowEvent", "/var/log/katib/tfevent/", "/var/log/katib/tfevent"),
])
def test_validate_notes_katibs_default_path_the_command_does_not_name(tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, path: str, folder: str):
    assert main(["validate", _write(tmp_path, _collected(kind))]) == 0
    notes = _notes(capsys.readouterr().err)
    assert notes == [
        f"{FIELD}the {kind} collector's path {path} is named by no word of the trial's command, args, env or workingDir; kfp-tune run "
        f"gives each trial its own folder at {folder} only where a word names that folder or a path in it, so training code that writes "
        f"{path} itself writes this machine's file, shared by every trial, and the trial's metrics are not read: have it write the path "
        "$KFP_TUNE_METRICS_PATH names, or pass the path in its command or args (a cluster mounts a volume there: Katib runs it as it is)"
    ]


def test_run_notes_it_before_the_first_trial(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "katib" / "metrics.log"
    main(["run", _write(tmp_path, _collected("File", str(path))), "--engine", "inline", "--store", str(tmp_path / "store")])
    err = capsys.readouterr().err
    notes = _notes(err)
    assert len(notes) == 1 and f"the File collector's path {path} is named by no word" in notes[0], err
    assert f"own folder at {path.parent} only where" in notes[0]
    assert not path.exists(), "the quadratic trial prints its values: it writes no file"


@pytest.mark.parametrize("args", [
    ["--log={path}"],
    ["--log-dir", "{folder}"],
    ["--logs={folder}/"],
])
def test_a_path_the_command_names_gets_no_note(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]):
    path = tmp_path / "katib" / "metrics.log"
    named = [arg.format(path=path, folder=path.parent) for arg in args]
    doc = _collected("File", str(path), named)
    assert main(["validate", _write(tmp_path, doc)]) == 0
    assert _notes(capsys.readouterr().err) == []
    assert main(["run", _write(tmp_path, doc), "--engine", "inline", "--store", str(tmp_path / "store")]) in (0, 1)
    assert _notes(capsys.readouterr().err) == []


def test_a_path_the_env_names_gets_no_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "katib" / "metrics.log"
    doc = _collected("File", str(path))
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "LOG", "value": str(path)}]
    assert main(["validate", _write(tmp_path, doc)]) == 0
    assert _notes(capsys.readouterr().err) == []


def test_the_stdout_collector_gets_no_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["validate", _write(tmp_path, _collected("StdOut"))]) == 0
    assert _notes(capsys.readouterr().err) == []
    assert main(["run", _write(tmp_path, _collected("StdOut")), "--engine", "inline", "--store", str(tmp_path / "store")]) == 0
    assert "metricsCollectorSpec" not in capsys.readouterr().err
