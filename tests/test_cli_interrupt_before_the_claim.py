"""A kfp-local ``kfp-tune run`` stopped (SIGTERM, a CI timeout) after its pre-flight had created
the experiment but before its pipeline's first step claimed it (QA automation, session 37,
finding 1): its child recorded nothing, and ``run --json`` printed ``ExperimentRunning``, the
status record (absent) then "Experiment is running". The run now records the interrupt itself
when no run drives the experiment, as one that had claimed it does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import quadratic_experiment
from kfp_tune import cli
from kfp_tune.core import claims
from kfp_tune.core.errors import RunInterrupted
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.steps import prepare
from kfp_tune.stores.local import LocalStore


def prepared(tmp_path: Path) -> LocalStore:
    """The store as the pre-flight left it: the experiment created, no run's claim."""
    store = LocalStore(str(tmp_path / "store"))
    prepare(ExperimentRecords(store, "quad"), load_experiment(quadratic_experiment()))
    return store


def test_a_run_stopped_before_its_claim_says_and_records_that_it_was_interrupted(tmp_path, capsys):
    store = prepared(tmp_path)

    code = cli._interrupted_exit(RunInterrupted("SIGTERM", 0), store, "quad", as_json=True)

    captured = capsys.readouterr()
    assert code == 143
    printed = json.loads(captured.out)
    assert (printed["status"], printed["reason"]) == ("Running", "ExperimentRunInterrupted")
    assert cli.main(["status", "quad", "--store", store.uri, "--json"]) == 0
    running = [c for c in json.loads(capsys.readouterr().out)["conditions"] if c["type"] == "Running"]
    assert running[0]["reason"] == "ExperimentRunInterrupted"
    assert "SIGTERM" in running[0]["message"]


def test_a_run_that_another_run_drives_now_keeps_its_status(tmp_path, capsys, monkeypatch):
    """Another run claimed the experiment meanwhile: its status is its own, not this run's stop."""
    store = prepared(tmp_path)
    records = ExperimentRecords(store, "quad")
    monkeypatch.setenv(claims.OWNER_VARIABLE, "someone-else")
    monkeypatch.setattr(claims.Claim, "live", lambda self, now: True)
    claims.claim(records, "other-run")

    code = cli._interrupted_exit(RunInterrupted("SIGTERM", 0), store, "quad", as_json=True)

    assert code == 143
    assert json.loads(capsys.readouterr().out)["reason"] == "ExperimentRunning"
    assert store.get(records.status_key()) is None or b"ExperimentRunInterrupted" not in store.get(records.status_key())


@pytest.mark.parametrize("as_json", [True, False])
def test_the_stop_line_still_says_how_to_resume(tmp_path, capsys, as_json):
    store = prepared(tmp_path)

    cli._interrupted_exit(RunInterrupted("SIGINT", 0), store, "quad", as_json=as_json)

    assert "Run the same command to resume" in capsys.readouterr().err
