"""``kfp-tune delete NAME`` with no answer to read (a CI step that forgot ``--yes``: stdin not
a terminal, at its end or closed; QA automation, session 37, finding 7) printed the question and
"not deleted", exit 1, without saying why: now it says no answer could be read and points to
``--yes``. An answer read that is not yes is "not deleted" as before."""

from __future__ import annotations

import io

import pytest

from kfp_tune.cli import main
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.stores.local import LocalStore


@pytest.fixture
def store(tmp_path):
    folder = tmp_path / "store"
    LocalStore(folder).put(ExperimentRecords(LocalStore(folder), "quad").experiment_key(), b"{}")
    return folder


def closed() -> io.StringIO:
    stream = io.StringIO()
    stream.close()
    return stream


@pytest.mark.parametrize("stdin", [lambda: io.StringIO(""), closed, lambda: None], ids=["at its end", "closed", "none"])
def test_delete_with_no_answer_to_read_points_to_yes(store, capsys, monkeypatch, stdin):
    monkeypatch.setattr("sys.stdin", stdin())

    assert main(["delete", "quad", "--store", str(store)]) == 1

    last = capsys.readouterr().err.rstrip().splitlines()[-1]
    assert last.startswith("not deleted: no answer could be read")
    assert "--yes" in last
    assert (store / "experiments" / "quad").exists()


def test_delete_answered_no_says_not_deleted_alone(store, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))

    assert main(["delete", "quad", "--store", str(store)]) == 1

    assert capsys.readouterr().err.rstrip().splitlines()[-1] == "not deleted"
