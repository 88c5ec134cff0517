"""LocalStore when things go wrong: a writer killed mid-write leaves no record and nothing a
listing shows, and errors name the key and the store."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import kfp_tune
from kfp_tune.core.errors import StoreError
from kfp_tune.stores.local import LocalStore

KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from kfp_tune.stores.local import LocalStore

    def killed(fd):  # the process dies with the bytes written but before the rename
        os.kill(os.getpid(), signal.SIGKILL)

    os.fsync = killed
    LocalStore(sys.argv[1]).put(sys.argv[2], b"x" * 100_000)
    """
)


def kill_a_writer(root: Path, key: str, tmpdir: Path) -> None:
    """Run a put in a child process that is SIGKILLed between writing and renaming."""
    package_parent = str(Path(kfp_tune.__file__).parents[1])  # the child runs this same kfp_tune
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([package_parent, os.environ.get("PYTHONPATH", "")]), "TMPDIR": str(tmpdir)}
    done = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(root), key], env=env, capture_output=True, timeout=120)
    assert done.returncode == -9, done.stderr.decode()


def test_a_writer_killed_mid_write_leaves_no_record_and_nothing_listed(tmp_path):
    root, tmpdir = tmp_path / "store", tmp_path / "tmp"
    tmpdir.mkdir()
    store = LocalStore(root)
    store.put("exp/keep.json", b"kept")
    kill_a_writer(root, "exp/trial.json", tmpdir)

    assert store.get("exp/trial.json") is None
    assert store.list("exp/") == ["exp/keep.json"] and store.list("") == ["exp/keep.json"]
    assert list(tmpdir.iterdir()) == [], "the unfinished write must stay inside the store, next to its key"

    names = [f"exp/k{i:02d}.json" for i in range(12)]
    for name in names:
        store.put(name, name.encode())
    assert store.list("exp/") == sorted([*names, "exp/keep.json"]), "a leftover must not hide its neighbours"
    assert store.create("exp/trial.json", b"second try") is True
    assert store.get("exp/trial.json") == b"second try"


def test_a_failed_write_names_the_key_and_the_store(tmp_path):
    store = LocalStore(tmp_path)
    (tmp_path / "exp").write_text("a file where a folder should be")
    for write in (store.put, store.create):
        with pytest.raises(StoreError) as info:
            write("exp/trial.json", b"{}")
        assert "exp/trial.json" in str(info.value) and store.uri in str(info.value)
    assert not info.value.transient, "a broken folder does not mend itself"


def test_a_failed_read_names_the_key_and_the_store(tmp_path):
    store = LocalStore(tmp_path)
    (tmp_path / "exp" / "trial.json").mkdir(parents=True)  # a folder where a record should be
    with pytest.raises(StoreError) as info:
        store.get("exp/trial.json")
    assert "exp/trial.json" in str(info.value) and store.uri in str(info.value)


def test_an_unsafe_key_is_named_in_the_refusal(tmp_path):
    with pytest.raises(StoreError, match=r"'a/\.\./b'"):
        LocalStore(tmp_path).put("a/../b", b"x")


def test_delete_removes_the_folders_it_emptied_deepest_first_and_keeps_the_top(tmp_path: Path) -> None:
    """Deleting an experiment's last keys leaves no empty folder of it behind (its trial folders
    first, then the experiment's own), while ``experiments/`` itself stays for the others."""
    store = LocalStore(tmp_path)
    keys = ["experiments/e1/experiment.json", "experiments/e1/trials/t1/result.json", "experiments/e1/trials/t1/logs/main.txt"]
    for key in keys:
        store.put(key, b"{}")
    store.put("experiments/e2/experiment.json", b"{}")
    store.delete(keys)
    assert not (tmp_path / "experiments" / "e1").exists()
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["experiments", "experiments/e2", "experiments/e2/experiment.json"]


def test_delete_keeps_a_folder_that_still_holds_a_key(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put("experiments/e1/trials/t1/a.json", b"a")
    store.put("experiments/e1/trials/t1/b.json", b"b")
    store.delete(["experiments/e1/trials/t1/a.json"])  # its folder is not empty: that is no error
    assert store.list("experiments/e1/") == ["experiments/e1/trials/t1/b.json"]


def test_a_key_that_cannot_be_deleted_is_an_error_naming_it_and_the_store(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    (tmp_path / "experiments" / "e1" / "a.json").mkdir(parents=True)  # a folder where the key's file would be
    with pytest.raises(StoreError) as raised:
        store.delete(["experiments/e1/a.json"])
    assert str(raised.value) == f"cannot delete experiments/e1/a.json from {store.uri}: Is a directory"


def test_a_local_stores_repr_names_its_folder(tmp_path: Path) -> None:
    """What a log line or a failed assertion shows of the store: its folder, resolved."""
    assert repr(LocalStore(tmp_path / "runs" / ".." / "runs")) == f"LocalStore({str((tmp_path / 'runs').resolve())!r})"
