"""kfp-tune run's exit status and cleanup's reading of the store, where the tests before left a
changed line unnoticed (mutation pass, session 31: cli-14, cli-19, cli-23): run exits 0 only
for a Succeeded experiment (1 for one it left neither Succeeded nor Failed), an interrupt that
came as the experiment ended exits as the ended run, and cleanup asks the cluster when any
started trial, not only the first, says it made a resource there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from cli_cleanup import run_cleanup
from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords, TrialStarted
from kfp_tune.core.state import load_state
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher
from kfp_tune.stores import LocalStore

SMALL = {"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1}


def _run(tmp_path: Path, *flags: str) -> int:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**SMALL)))
    return main(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "store"), *flags])


def test_a_run_that_ends_with_the_experiment_neither_succeeded_nor_failed_exits_1(tmp_path, capsys, monkeypatch):
    """As a run that stopped before the experiment ended (kfp-local's --rounds): not a success."""
    import kfp_tune.inline_runner

    monkeypatch.setattr(kfp_tune.inline_runner, "run_inline", lambda *args, **kwargs: None)  # no trial run
    assert _run(tmp_path, "--json") == 1
    status = json.loads(capsys.readouterr().out)["status"]
    assert status not in ("Succeeded", "Failed"), status


def test_an_interrupt_that_came_as_the_experiment_succeeded_exits_0_with_its_summary(tmp_path, capsys, monkeypatch):
    """The run finished the experiment, then the signal came (no trial stopped for it): the run
    ended as a success, not as an interrupted one (130)."""
    import kfp_tune.inline_runner
    from kfp_tune.core.errors import RunInterrupted

    def finished_then_interrupted(*args: Any, **kwargs: Any) -> None:
        run_inline(*args, **kwargs)
        raise RunInterrupted("SIGINT", 0)

    monkeypatch.setattr(kfp_tune.inline_runner, "run_inline", finished_then_interrupted)
    assert _run(tmp_path, "--json") == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert (summary["status"], summary["trials"]) == ("Succeeded", 2)
    assert "interrupted" not in captured.err


# --- cleanup ---------------------------------------------------------------------------------


def test_cleanup_asks_the_cluster_when_a_later_trial_ran_there(no_cluster, tmp_path):
    """The first trial ran locally and the second on a cluster (the experiment resumed there):
    there may be something to delete, so the cluster is asked (here none is configured)."""
    store = LocalStore(tmp_path / "store")
    run_inline(store, load_experiment(quadratic_experiment(**SMALL)), LocalLauncher())
    records = ExperimentRecords(store, "quad")
    _, second = load_state(records).trials
    key = records.trial_key(second.name, TrialStarted.FILE)
    record = json.loads(store.get(key))
    assert record["clusterNamespace"] == ""
    store.put(key, json.dumps({**record, "clusterNamespace": "team-a"}).encode())
    store.delete(list(store.list(records.snapshots_prefix())))  # derived: read again from the records
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "store"), "--dry-run")
    assert "nothing to delete" not in out
    assert code == 2 and "error: no Kubernetes cluster configured" in err, err
