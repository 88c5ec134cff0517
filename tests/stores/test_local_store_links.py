"""A link in a local folder store, to a folder or a file, is never followed: with an
experiment's folder replaced by a link to a folder outside the store, kfp-tune delete removed the
files there, run wrote its records there, and a linked trials/ folder was skipped by the listing
while reads followed it."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest

from kfp_tune.cli import main
from kfp_tune.core.errors import StoreError
from kfp_tune.core.records import DamagedRecord
from kfp_tune.stores.local import LocalStore


def outside_folder(tmp_path: Path) -> Path:
    """A user's folder outside the store, holding a file named like a record."""
    outside = tmp_path / "mine"
    outside.mkdir()
    (outside / "experiment.json").write_text("a user's file")
    return outside


def test_an_experiment_folder_that_is_a_link_is_neither_deleted_through_nor_written_through(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = LocalStore(tmp_path / "store")
    outside = outside_folder(tmp_path)
    (store.root / "experiments").mkdir(parents=True)
    link = store.root / "experiments" / "linked"
    link.symlink_to(outside, target_is_directory=True)

    assert main(["delete", "linked", "--yes", "--store", str(store.root)]) != 0
    err = capsys.readouterr().err
    assert str(link) in err and "never follows" in err and "defect" not in err
    with pytest.raises(StoreError, match="never follows"):
        store.delete(["experiments/linked/experiment.json"])
    assert (outside / "experiment.json").read_text() == "a user's file" and link.is_symlink()

    with pytest.raises(StoreError, match=re.escape(f"cannot write experiments/linked/status.json to {store.uri}: {link}")):
        store.put("experiments/linked/status.json", b"{}")
    with pytest.raises(StoreError, match="never follows"):
        store.create("experiments/linked/rounds/0.json", b"{}")
    assert sorted(p.name for p in outside.iterdir()) == ["experiment.json"], "nothing written outside the store"
    with pytest.raises(DamagedRecord, match="never follows"):
        store.get("experiments/linked/experiment.json")
    with pytest.raises(DamagedRecord, match="never follows"):
        store.list("experiments/linked/")


def test_a_linked_trials_folder_or_record_is_damage_on_read_and_named_by_a_listing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = LocalStore(tmp_path / "store")
    outside = outside_folder(tmp_path)
    (outside / "t-1").mkdir()
    (outside / "t-1" / "result.json").write_text("{}")
    store.put("experiments/e/experiment.json", b"{}")
    trials = store.root / "experiments" / "e" / "trials"
    trials.symlink_to(outside, target_is_directory=True)
    (store.root / "experiments" / "e" / "status.json").symlink_to(outside / "experiment.json")

    with caplog.at_level(logging.WARNING, logger="kfp_tune.stores.local"):
        keys = store.list("experiments/e/")
    assert f"left out {trials}" in caplog.text
    assert "experiments/e/trials/t-1/result.json" not in keys
    with pytest.raises(DamagedRecord, match=re.escape(f"{trials} is a link")):
        store.get("experiments/e/trials/t-1/result.json")
    with pytest.raises(DamagedRecord, match=re.escape("experiments/e/status.json is damaged: it is a link")):
        store.get("experiments/e/status.json")
    assert store.get("experiments/e/experiment.json") == b"{}"


def test_a_delete_of_a_key_that_is_itself_a_link_is_refused_and_removes_nothing(tmp_path: Path) -> None:
    """Mutation QA (S02, S06): a record replaced by a link to a user's file (``status.json`` ->
    ``mine/experiment.json``) is no record of the store's: a delete naming it is refused, saying
    so, before any key is removed; the link and the other keys stay."""
    store = LocalStore(tmp_path / "store")
    outside = outside_folder(tmp_path)
    store.put("experiments/e/experiment.json", b"{}")
    status = store.root / "experiments" / "e" / "status.json"
    status.symlink_to(outside / "experiment.json")
    with pytest.raises(StoreError, match=re.escape(f"cannot delete experiments/e/status.json from {store.uri}: {status} is ")) as refused:
        store.delete(["experiments/e/experiment.json", "experiments/e/status.json"])
    assert str(refused.value).endswith("; nothing was removed, the link stays")
    assert status.is_symlink() and (outside / "experiment.json").read_text() == "a user's file"
    assert store.get("experiments/e/experiment.json") == b"{}", "nothing was removed"


def test_each_folder_is_checked_for_a_link_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store is on every trial's path: no lstat per record once its folder is known."""
    store = LocalStore(tmp_path / "store")
    store.put("experiments/e/trials/t-1/beat.json", b"{}")
    calls: list[str] = []
    real_lstat = os.lstat
    monkeypatch.setattr(os, "lstat", lambda path, *a, **k: calls.append(str(path)) or real_lstat(path, *a, **k))
    for i in range(5):
        store.put("experiments/e/trials/t-1/beat.json", b"{}")
        store.create(f"experiments/e/trials/t-1/x{i}.json", b"{}")
        assert store.get("experiments/e/trials/t-1/beat.json") == b"{}"
    assert len(calls) == len(set(calls)) <= 4, "each of experiments/e/trials/t-1 once, not once a record"
