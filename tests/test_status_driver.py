"""``kfp-tune status`` of an experiment whose run was killed outright (SIGKILL) said
``Running (ExperimentRunning) ... Experiment is running``, trials Running, though nothing drove
it; the client's wait already said "no run drives it now". The run here is a process of this
machine that has ended (its claim names it), so its claim is seen as gone at once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.cli import main
from kfp_tune.core import claims
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.stores import LocalStore

NO_RUN = "  no run drives it now: a run of it (kfp-tune run, its pipeline, tune() with its name) resumes it"


def _prepared(store: Path, monkeypatch: pytest.MonkeyPatch, owner: str) -> None:
    monkeypatch.setenv(claims.OWNER_VARIABLE, owner)
    experiment = load_experiment(quadratic_experiment())
    steps.prepare(ExperimentRecords(LocalStore(store), experiment.name), experiment, "run-1")


def _gone_process() -> str:
    """The identity of a process of this machine that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    owner = claims.process_identity(process.pid)
    process.communicate(b"")
    return owner


def test_status_of_an_experiment_whose_run_is_gone_says_no_run_drives_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    _prepared(tmp_path, monkeypatch, _gone_process())
    assert main(["status", "quad", "--store", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("experiment quad: Running") and NO_RUN in out.splitlines(), out
    assert main(["status", "quad", "--store", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["drivenBy"] is None


def test_status_of_an_experiment_a_live_run_drives_names_no_such_thing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    _prepared(tmp_path, monkeypatch, claims.this_process())
    assert main(["status", "quad", "--store", str(tmp_path)]) == 0
    assert "no run drives it" not in capsys.readouterr().out
    assert main(["status", "quad", "--store", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["drivenBy"].startswith("run 'run-1' (claimed ")
