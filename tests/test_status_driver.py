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


def test_status_of_an_experiment_whose_claim_cannot_be_read_does_not_say_no_run_drives_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    """Mutation QA (D04): a claim record that cannot be read leaves which run drives the
    experiment unknown (no run may claim it until it is repaired): status must not tell the
    user that none does and that a run resumes it; ``drivenBy`` is "" (not known), not null."""
    _prepared(tmp_path, monkeypatch, _gone_process())
    records = ExperimentRecords(LocalStore(tmp_path), "quad")
    records.store.put(records.claim_key(1), b"{not json")
    assert main(["status", "quad", "--store", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("experiment quad: Running") and "no run drives it" not in out, out
    assert main(["status", "quad", "--store", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["drivenBy"] == ""


def test_status_json_of_a_finished_experiment_is_katibs_document_unchanged(tmp_path: Path, capsys: Any) -> None:
    """Mutation QA (D02): the guide says ``drivenBy`` is added while the experiment has not
    ended; a finished one's ``status --json`` is Katib's document unchanged, exactly the
    ``status`` that ``get_experiment`` gives, with no ``drivenBy``."""
    from kfp_tune.client import Client
    from kfp_tune.inline_runner import run_inline
    from kfp_tune.launchers import LocalLauncher

    store = LocalStore(tmp_path)
    run_inline(store, load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 2})), LocalLauncher())
    capsys.readouterr()
    assert main(["status", "quad", "--store", str(tmp_path), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert "drivenBy" not in shown
    assert any(c["type"] == "Succeeded" and c["status"] == "True" for c in shown["conditions"])
    assert shown == Client(store).get_experiment("quad")["status"]
