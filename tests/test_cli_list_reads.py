"""What ``kfp-tune list`` reads per experiment (QA scale, session 37, finding 2): a completed one
only its experiment record, its recorded outcome and its saved status, whatever its size; it
folded every experiment from all its records (36,674 keys listed and 9.8 MB read for three rows
of 6,100 trials), so its time was the sum of every experiment's size. Counted store requests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.request_counts import count_local_store_requests

from conftest import quad_run_to_its_end
from kfp_tune import Client
from kfp_tune.cli import main


def _one_store_of_3_and_12_trials(tmp_path: Path) -> Path:
    """quad (3 trials) and quad-large (12 trials), both run to their end, in one folder store."""
    quad_run_to_its_end(tmp_path, 3)
    (tmp_path / "large").mkdir()
    quad_run_to_its_end(tmp_path / "large", 12)
    (tmp_path / "large" / "store" / "experiments" / "quad").rename(tmp_path / "store" / "experiments" / "quad-large")
    head = tmp_path / "store" / "experiments" / "quad-large" / "experiment.json"
    head.write_text(head.read_text(encoding="utf-8").replace('"name": "quad"', '"name": "quad-large"'), encoding="utf-8")
    return tmp_path / "store"


def test_list_reads_three_records_of_a_completed_experiment_whatever_its_size(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    store = _one_store_of_3_and_12_trials(tmp_path)
    folded = {name: Client(str(store)).get_experiment(name) for name in ("quad", "quad-large")}
    capsys.readouterr()
    requests = count_local_store_requests(monkeypatch)
    assert main(["list", "--store", str(store), "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert (requests["list"], requests["get"]) == (0, 6), requests  # experiment record, outcome, status: each of the two
    assert (rows["quad"]["trials"], rows["quad-large"]["trials"]) == (3, 12)
    for name, experiment in folded.items():  # the same row as the whole experiment folded gives
        status = experiment["status"]
        assert rows[name]["status"] == "Succeeded" and rows[name]["succeeded"] == status["trialsSucceeded"]
        assert rows[name]["best_trial"] == status["currentOptimalTrial"]["bestTrialName"]
        assert rows[name]["created"] == experiment["metadata"]["creationTimestamp"]


@pytest.mark.parametrize("saved", ["none", "damaged", "running"])
def test_list_folds_an_experiment_with_no_completed_saved_status(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], saved: str) -> None:
    """No saved status (a run killed before it wrote one), a damaged one, or one not completed
    (Running: its counts move): that experiment is folded from its records, as status reads it."""
    store = _one_store_of_3_and_12_trials(tmp_path)
    status = store / "experiments" / "quad" / "status.json"
    if saved == "none":
        status.unlink()
    elif saved == "damaged":
        status.write_text("{", encoding="utf-8")
    else:
        record = json.loads(status.read_text(encoding="utf-8"))
        record["status"]["trials"] = 1  # what a Running status said then: the fold counts 3
        record["status"]["phase"] = "Running"
        status.write_text(json.dumps(record), encoding="utf-8")
    capsys.readouterr()
    requests = count_local_store_requests(monkeypatch)
    assert main(["list", "--store", str(store), "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["quad"]["trials"] == 3 and rows["quad-large"]["trials"] == 12, rows
    assert requests["list"] == 1, requests  # quad's records listed, quad-large's not
