"""``kfp-tune run`` of an experiment that has already completed, with a key that may only read
the store (an analyst's, QA S3 session 3, finding 6): it said "nothing to run, reporting it" and
then failed, exit 2, writing its run's claim. A run with nothing to run reports the experiment
as ``kfp-tune status`` does, and writes nothing: no claim, no status, whatever the key may do.
An experiment whose end was never recorded (its last run killed right after its last trial) is
still recorded by the run, which needs a key that may write."""

from __future__ import annotations

import json

import pytest

import kfp_tune.cli
from kfp_tune.cli import main
from read_only_store import ReadOnlyStore, stored_files


@pytest.mark.parametrize("engine", ["inline", "kfp-local"])
def test_a_completed_experiment_run_with_a_read_only_key_is_reported(completed_yaml, tmp_path, monkeypatch, capsys, engine):
    store = tmp_path / "store"
    before = stored_files(store)
    monkeypatch.setattr(kfp_tune.cli, "_open_store", lambda uri, look=False: ReadOnlyStore(store))
    assert main(["run", str(completed_yaml), "--engine", engine, "--store", "s3://shared/teamA", "--json"]) == 0
    out, err = capsys.readouterr()
    assert "experiment quad has already completed: Succeeded (ExperimentMaxTrialsReached), 2 trial(s) done" in err, err
    assert "nothing to run, reporting it" in err and "error" not in err, err
    summary = json.loads(out)
    assert (summary["status"], summary["trials"], summary["succeeded"]) == ("Succeeded", 2, 2), summary
    assert stored_files(store) == before


def test_a_completed_experiment_run_again_writes_no_run_record(completed_yaml, tmp_path, capsys):
    """With a key that may write, the same: the report is the run's whole work, as `status`'s."""
    store = tmp_path / "store"
    before = stored_files(store)
    assert main(["run", str(completed_yaml), "--engine", "inline", "--store", str(store)]) == 0
    assert "nothing to run, reporting it" in capsys.readouterr().err
    assert stored_files(store) == before


def test_an_end_never_recorded_is_recorded_by_the_run(completed_yaml, tmp_path, capsys):
    """Its last trial ended and its outcome and status were never written (the run killed just
    then): the run records them, as before, and says it completed."""
    root = tmp_path / "store" / "experiments" / "quad"
    removed = [p for p in root.rglob("*") if p.is_file() and (p.parent.name == "outcomes" or p.name == "status.json")]
    assert removed, sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    for path in removed:
        path.unlink()
    assert main(["run", str(completed_yaml), "--engine", "inline", "--store", str(tmp_path / "store")]) == 0
    assert "nothing to run, reporting it" in capsys.readouterr().err
    assert all(path.exists() for path in removed)
