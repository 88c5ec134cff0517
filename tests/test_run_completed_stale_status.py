"""A completed experiment whose saved status an older kfp-tune wrote wrong (before ad051bf, the
inline engine kept the counts, lists and best trial of the moment it ended: a best trial still
``running``, no ``currentOptimalTrial``), run again (review A of session 37, finding 2). Before
43e5497 the re-run rewrote ``status.json`` from the trials; since, a run with nothing to run
writes nothing, and ``list`` trusts the saved status (1b83723), so nothing ever repaired it. A run
of it now compares the whole status it would write with the saved one: the same, it writes
nothing; different, it writes the repair; a key that may only read reports what it computed and
warns that the saved status is stale."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import kfp_tune.cli
from kfp_tune import search, tune
from kfp_tune.cli import main
from kfp_tune.stores.local import LocalStore
from read_only_store import ReadOnlyStore, stored_files

STALE_WORDS = "its saved status (status.json) is stale"


def _status_path(store: Path, name: str) -> Path:
    return store / "experiments" / name / "status.json"


def _make_stale(store: Path, name: str) -> str:
    """The saved status as a pre-ad051bf build could leave it: the best trial still running when
    the experiment ended, no best trial; phase and reason as they are. Returns the best trial."""
    path = _status_path(store, name)
    saved = json.loads(path.read_text())
    status = saved["status"]
    best = status["currentOptimalTrial"]["bestTrialName"]
    status.update(trialsSucceeded=status["trialsSucceeded"] - 1, trialsRunning=1, runningTrialList=[best],
                  succeededTrialList=[t for t in status["succeededTrialList"] if t != best])
    status.pop("currentOptimalTrial")
    path.write_text(json.dumps(saved))
    return best


def _assert_repaired(store: Path, name: str, best: str, trials: int) -> None:
    status = json.loads(_status_path(store, name).read_text())["status"]
    assert (status["trialsSucceeded"], status.get("trialsRunning", 0), status.get("runningTrialList", [])) == (trials, 0, []), status
    assert status["currentOptimalTrial"]["bestTrialName"] == best, status
    assert best in status["succeededTrialList"], status


@pytest.mark.parametrize("engine", ["inline", "kfp-local"])
def test_a_stale_status_is_rewritten_by_the_run(completed_yaml: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: str) -> None:
    store = tmp_path / "store"
    best = _make_stale(store, "quad")
    assert main(["run", str(completed_yaml), "--engine", engine, "--store", str(store)]) == 0
    err = capsys.readouterr().err
    assert "nothing to run, reporting it" in err and STALE_WORDS in err and "rewritten" in err, err
    _assert_repaired(store, "quad", best, 2)
    assert main(["list", "--store", str(store), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["succeeded"], row["running"], row["best_trial"]) == (2, 0, best), row
    before = stored_files(store)  # repaired: the next run has nothing to write
    assert main(["run", str(completed_yaml), "--engine", engine, "--store", str(store)]) == 0
    assert STALE_WORDS not in capsys.readouterr().err
    assert stored_files(store) == before


def test_a_stale_status_with_a_read_only_key_is_reported_as_computed(completed_yaml: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    best = _make_stale(store, "quad")
    before = stored_files(store)
    monkeypatch.setattr(kfp_tune.cli, "_open_store", lambda uri, look=False: ReadOnlyStore(store))
    assert main(["run", str(completed_yaml), "--engine", "inline", "--store", "s3://shared/teamA", "--json"]) == 0
    out, err = capsys.readouterr()
    assert STALE_WORDS in err and "a key that may write the store" in err and "AccessDenied" in err, err
    assert "error" not in err.replace("AccessDenied", ""), err
    summary = json.loads(out)
    assert (summary["status"], summary["succeeded"], summary["best_trial"]["name"]) == ("Succeeded", 2, best), summary
    assert stored_files(store) == before


def _tune(store: Any) -> Any:
    return tune(lambda p: p["x"] ** 2, parameters={"x": search.double(-1, 1)}, objective_metric_name="loss", objective_type="minimize",
                algorithm="random", algorithm_settings={"random_state": "7"}, max_trial_count=2, parallel_trial_count=1,
                store=store, name="done")


def test_tune_again_rewrites_a_stale_status(tmp_path: Path) -> None:
    first = _tune(LocalStore(tmp_path / "store"))
    best = _make_stale(tmp_path / "store", "done")
    assert best == first.best_trial.name
    with pytest.warns(UserWarning, match="has already completed"), pytest.warns(UserWarning, match=STALE_WORDS.replace("(", r"\(").replace(")", r"\)")):
        again = _tune(LocalStore(tmp_path / "store"))
    assert (again.status, len(again.trials), again.best_trial.name) == ("Succeeded", 2, best)
    _assert_repaired(tmp_path / "store", "done", best, 2)


def test_tune_again_with_a_read_only_key_warns_of_a_stale_status(tmp_path: Path) -> None:
    first = _tune(LocalStore(tmp_path / "store"))
    _make_stale(tmp_path / "store", "done")
    before = stored_files(tmp_path / "store")
    with pytest.warns(UserWarning, match="has already completed"), pytest.warns(UserWarning, match="a key that may write the store"):
        again = _tune(ReadOnlyStore(tmp_path / "store"))
    assert (again.status, len(again.trials), again.best_trial.name) == ("Succeeded", 2, first.best_trial.name)
    assert stored_files(tmp_path / "store") == before
