"""``kfp-tune run`` of an experiment another person deletes at that moment (QA shared, finding
1): the run read it half-deleted, said "has already completed ... 27 trial(s) done; nothing to
run, reporting it", and then ran a new experiment from trial 1. Now one consistent answer:
refused while the delete is under way, or, once the experiment is gone, a note that the run
starts it anew. The delete's steps are taken at the run's first listing of the experiment
(tests/support/deleting_store.py), so no timing is involved."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import quad_run_to_its_end
from deleting_store import DeletingStore
from kfp_tune import cli
from kfp_tune.cli import main
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import load_state
from kfp_tune.stores import LocalStore


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return quad_run_to_its_end(tmp_path_factory.mktemp("finished"), 4)


@pytest.fixture
def folder(finished: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(finished, tmp_path / "run"))


def _run_beside(folder: Path, monkeypatch: pytest.MonkeyPatch, deleting: DeletingStore) -> int:
    monkeypatch.setattr(cli, "_open_store", lambda uri: deleting)
    return main(["run", str(folder / "quad.yaml"), "--engine", "inline", "--store", str(folder / "store")])


def test_a_run_beside_a_delete_under_way_is_refused(folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    store = LocalStore(str(folder / "store"))
    doomed = sorted(k for k in store.list("experiments/quad/") if "/rounds/" in k or "/trials/" in k)[:6]
    assert _run_beside(folder, monkeypatch, DeletingStore(store, "list", doomed)) == 1
    err = capsys.readouterr().err
    assert "already completed" not in err and "trial quad-" not in err, err
    assert "is partly deleted: a delete of it began at 2026-12-07T01:59:44Z and has not finished: it may still be under way" in err


def test_a_run_of_an_experiment_deleted_meanwhile_says_it_starts_anew(folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    store = LocalStore(str(folder / "store"))
    assert _run_beside(folder, monkeypatch, DeletingStore(store, "list", store.list("experiments/quad/"), mark=False)) == 0
    err = capsys.readouterr().err
    assert "already completed" not in err and "resuming" not in err, err
    assert f"experiment quad in {store.uri} was deleted while this run read it (another process deleted it): this run starts it as a new experiment" in err
    assert len(load_state(ExperimentRecords(store, "quad")).trials) == 4  # the new experiment, run to its end


@pytest.mark.parametrize("mark", [False, True], ids=["ended", "under-way"])
def test_a_delete_after_the_resume_note_was_read_is_seen_by_the_preflight(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], mark: bool
) -> None:
    """The delete comes once the note has read the state (as its counts are made): the preflight
    reads the experiment record again, so the run neither says "already completed" of an
    experiment gone (it starts anew, and says so) nor runs beside a delete under way."""
    from kfp_tune import reports

    store = LocalStore(str(folder / "store"))
    deleting = DeletingStore(store, "list", store.list("experiments/quad/") if not mark else [], mark=mark)
    counted = reports.count_trials

    def count_then_delete(state: object) -> object:
        deleting._delete_part()
        return counted(state)  # type: ignore[arg-type]

    monkeypatch.setattr(reports, "count_trials", count_then_delete)
    monkeypatch.setattr(cli, "_open_store", lambda uri: store)
    code = main(["run", str(folder / "quad.yaml"), "--engine", "inline", "--store", str(folder / "store")])
    err = capsys.readouterr().err
    assert "already completed" not in err, err
    if mark:
        assert code == 1 and "is partly deleted: a delete of it began at 2026-12-07T01:59:44Z and has not finished" in err, err
    else:
        assert code == 0 and f"experiment quad in {store.uri} was deleted while this run read it" in err, err
