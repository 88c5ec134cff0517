"""What a killed writer leaves in a local folder store (its temporary file, never listed) goes
when its experiment is deleted, or when a listing finds it stale; a live write's never does, and
nothing but the store's own temporary files is ever removed that way."""

from __future__ import annotations

import fcntl
import logging
import os
import stat
import time
from pathlib import Path

import pytest

from kfp_tune.cli import main
from kfp_tune.core import output_file
from kfp_tune.stores.local import STALE_TEMP_SECONDS, TEMP_NAME, LocalStore, _remove_leftover

LEFTOVER = "trials/spamkill-mkk3xumv/logs/.main.log.3qm5evw8.tmp"  # as a SIGKILLed put left it


def plant(store: LocalStore, experiment: str, relative: str = LEFTOVER, age: float = 0.0) -> Path:
    """A killed write's temporary file under the experiment's folder, last changed ``age`` s ago."""
    path = store.root / "experiments" / experiment / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * 10_000)
    if age:
        then = time.time() - age
        os.utime(path, (then, then))
    return path


def experiment(store: LocalStore, name: str) -> list[str]:
    """An experiment's records, as a run leaves them; their keys."""
    keys = [f"experiments/{name}/experiment.json", f"experiments/{name}/trials/{name}-mkk3xumv.json", f"experiments/{name}/status.json"]
    for key in keys:
        store.put(key, b"{}")
    return keys


def test_kfp_tune_delete_removes_a_killed_writes_temporary_file_and_the_experiments_folder(tmp_path, capsys):
    store = LocalStore(tmp_path / "store")
    experiment(store, "spamkill")
    leftover = plant(store, "spamkill")
    experiment(store, "spamkill-2")
    neighbour = plant(store, "spamkill-2")  # another experiment's, whatever its name: untouched

    assert main(["delete", "spamkill", "--store", str(store.root), "--yes"]) == 0
    assert "deleted experiment 'spamkill'" in capsys.readouterr().out
    assert not leftover.exists()
    assert not (store.root / "experiments" / "spamkill").exists(), "the experiment's folder, emptied, goes too"
    assert neighbour.exists() and store.list("experiments/spamkill-2/") == sorted(experiment(store, "spamkill-2"))


def test_delete_keeps_a_temporary_file_a_live_writer_holds_and_says_so(tmp_path, caplog):
    store = LocalStore(tmp_path)
    keys = experiment(store, "live")
    held = plant(store, "live", age=2 * STALE_TEMP_SECONDS)  # old, but its writer still holds it
    with open(held, "rb") as writer:
        fcntl.flock(writer.fileno(), fcntl.LOCK_EX)
        with caplog.at_level(logging.WARNING, logger="kfp_tune.stores.local"):
            store.delete(keys)
        assert held.exists()
        assert str(held) in caplog.text and "a write still under way" in caplog.text
        assert store.list("") == [] and held.exists(), "a listing leaves a held one too, however old"
    assert store.list("") == [] and not held.exists(), "once its writer is gone, a stale one goes"


def test_delete_says_nothing_of_a_temporary_file_a_write_under_way_holds(tmp_path, caplog):
    """A concurrent writer mid-write was named as a leftover to "remove by hand": its file is
    left without a word until it is as old as the sweep's rule for a killed write's."""
    store = LocalStore(tmp_path)
    keys = experiment(store, "live")
    held = plant(store, "live")
    with open(held, "rb") as writer:
        fcntl.flock(writer.fileno(), fcntl.LOCK_EX)
        with caplog.at_level(logging.WARNING, logger="kfp_tune.stores.local"):
            store.delete(keys)
        assert held.exists()
        assert caplog.text == ""


def test_delete_removes_nothing_but_the_stores_own_temporary_files(tmp_path, caplog):
    store = LocalStore(tmp_path / "store")
    outside = tmp_path / "mine"
    outside.mkdir()
    (outside / ".notes.abcdefgh.tmp").write_text("a user's file")
    keys = experiment(store, "linked")
    link = store.root / "experiments" / "linked" / "trials" / "data"
    link.symlink_to(outside, target_is_directory=True)
    plant(store, "linked")
    (store.root / "experiments" / "linked" / ".cache.tmp").write_text("not the store's name: a key")
    keys = store.list("experiments/linked/")
    assert "experiments/linked/.cache.tmp" in keys, "only the store's own temporary files are hidden"

    with caplog.at_level(logging.WARNING, logger="kfp_tune.stores.local"):
        store.delete(keys)
    assert (outside / ".notes.abcdefgh.tmp").read_text() == "a user's file", "a link is never followed"
    assert link.is_symlink() and str(link) in caplog.text
    assert not (store.root / "experiments" / "linked" / "trials" / "spamkill-mkk3xumv").exists()


def test_a_folder_that_holds_a_key_keeps_its_temporary_files(tmp_path):
    store = LocalStore(tmp_path)
    experiment(store, "part")
    store.put("experiments/part/trials/spamkill-mkk3xumv/logs/main.log", b"kept")
    leftover = plant(store, "part")
    store.delete(["experiments/part/status.json"])  # a partial delete: the rest of the experiment stays
    assert leftover.exists(), "a write beside a key that stays may be live: only a whole folder is cleared"
    assert store.get("experiments/part/trials/spamkill-mkk3xumv/logs/main.log") == b"kept"


def test_a_listing_removes_a_stale_leftover_and_keeps_a_recent_one(tmp_path):
    store = LocalStore(tmp_path)
    keys = experiment(store, "resumed")
    stale = plant(store, "resumed", "trials/a/logs/.main.log.aaaaaaaa.tmp", age=STALE_TEMP_SECONDS + 60)
    recent = plant(store, "resumed", "trials/b/logs/.main.log.bbbbbbbb.tmp", age=STALE_TEMP_SECONDS - 60)
    assert store.list("experiments/resumed/") == sorted(keys)
    assert not stale.exists()
    assert recent.exists(), "a write may take a while: only one unchanged for an hour is a leftover"


def test_a_write_holds_its_temporary_file_until_its_bytes_are_in(tmp_path, monkeypatch):
    store = LocalStore(tmp_path)
    seen: list[tuple[str, bool]] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:  # the write is under way: its bytes are in, not yet renamed
        for path in (tmp_path / "exp").iterdir():
            if path.name != "record.json":  # the first call; the second, the folder's, finds the record alone
                seen.append((path.name, _remove_leftover(path, 0)))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    store.put("exp/record.json", b"{}")
    monkeypatch.undo()
    assert len(seen) == 1 and TEMP_NAME.fullmatch(seen[0][0]), seen
    assert seen[0][1] is False, "a sweep must not remove a write under way"
    assert store.get("exp/record.json") == b"{}"


@pytest.mark.parametrize("name", [".main.log.3qm5evw8.tmp", ".experiment.json.a_b1c2d3.tmp"])
def test_the_temporary_name_is_the_one_a_write_makes(name):
    assert TEMP_NAME.fullmatch(name)
    assert not TEMP_NAME.fullmatch(name.removesuffix(".tmp")) and not TEMP_NAME.fullmatch(name[1:])


def test_a_leftover_another_sweep_removed_first_counts_as_gone(tmp_path):
    """Two sweeps (two deletes, a delete and a listing) race for the same temporary file: the one
    that finds it gone has nothing left to keep, and the experiment's folder may go."""
    assert _remove_leftover(tmp_path / ".main.log.3qm5evw8.tmp", 0) is True
    (tmp_path / "folder.3qm5evw8.tmp").mkdir()
    assert _remove_leftover(tmp_path / "folder.3qm5evw8.tmp", 0) is False  # not a file: left as it is


@pytest.mark.parametrize(("umask", "mode"), [(0o002, 0o664), (0o022, 0o644), (0o077, 0o600)])
def test_a_record_follows_the_umask(tmp_path, umask, mode):
    """QA on a shared lab box (umask 002): records were 0600 whatever the umask (tempfile.mkstemp),
    so a group member could enter the store's folders and read no record; a report's file followed it."""
    previous = os.umask(umask)
    try:
        store = LocalStore(tmp_path)
        store.put("exp/replaced.json", b"{}")
        assert store.create("exp/created.json", b"{}") is True
    finally:
        os.umask(previous)
    for name in ("replaced.json", "created.json"):
        assert stat.S_IMODE((tmp_path / "exp" / name).stat().st_mode) == mode, name


def test_a_write_never_takes_a_temporary_name_already_there(tmp_path, monkeypatch):
    """A name another write (or a leftover, or a planted link) holds is drawn again, never opened."""
    store = LocalStore(tmp_path)
    (tmp_path / "exp").mkdir()
    taken = tmp_path / "exp" / ".record.json.aaaaaaaa.tmp"
    taken.symlink_to(tmp_path / "elsewhere")
    draws = iter(["aaaaaaaa", "bbbbbbbb"])
    monkeypatch.setattr(output_file.secrets, "token_hex", lambda size: next(draws))
    store.put("exp/record.json", b"{}")
    assert store.get("exp/record.json") == b"{}"
    assert taken.is_symlink() and not (tmp_path / "elsewhere").exists()
    assert sorted(p.name for p in (tmp_path / "exp").iterdir()) == [".record.json.aaaaaaaa.tmp", "record.json"]
