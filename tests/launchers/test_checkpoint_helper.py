"""The checkpoint copier a cluster runs as an init container (``python3 -m
kfp_tune.launchers.checkpoints ROOT PARENT TRIAL``), called in-process: its exit statuses, where
its messages go, which names it refuses, and what it copies when the trial's folder is empty,
missing, or filled by another pod of the same trial meanwhile. And a trial folder filled from a
store that is not a folder on this machine (every file of the parent's, however deep)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from kfp_tune.core.records import ExperimentRecords
from kfp_tune.launchers import checkpoints
from kfp_tune.launchers.checkpoints import TrialFolder, copy_parent, main, store_prefix
from kfp_tune.stores import LocalStore
from kfp_tune.stores.retry import RetryingStore

PARENT_FILES = {"model.pkl": b"weights", "logs/deep/steps.txt": b"12"}


def _write_tree(root: Path, files: dict[str, bytes]) -> None:
    for relative, data in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# --- main: the init container's command line ----------------------------------------------------


def test_a_copy_exits_0_and_says_what_it_did_on_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write_tree(tmp_path / "parent", PARENT_FILES)
    assert main([str(tmp_path), "parent", "child"]) == 0
    out, err = capsys.readouterr()
    assert _tree(tmp_path / "child") == PARENT_FILES
    assert str(tmp_path / "child") in out and str(tmp_path / "parent") in out, "the pod's log names both folders"
    assert err == ""


@pytest.mark.parametrize("argv", [[], ["root", "parent"], ["root", "parent", "child", "extra"]], ids=["none", "two", "four"])
def test_a_wrong_number_of_arguments_exits_2_with_the_usage_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert main([str(tmp_path / a) if a == "root" else a for a in argv]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"usage: python3 -m {checkpoints.__name__} ROOT PARENT TRIAL"), "the line to run, as the manifest runs it"
    assert list(tmp_path.iterdir()) == [], "nothing was made"


@pytest.mark.parametrize("bad", ["", "a/b", "/abs", ".", ".."])
@pytest.mark.parametrize("which", ["parent", "trial"])
def test_a_parent_or_trial_that_is_not_a_folder_name_exits_2_naming_both(tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str, which: str) -> None:
    root = tmp_path / "exp"
    _write_tree(root / "parent", PARENT_FILES)
    _write_tree(tmp_path / "b", {"outside": b"x"})
    parent, trial = (bad, "child") if which == "parent" else ("parent", bad)
    before = _tree(tmp_path)
    assert main([str(root), parent, trial]) == 2
    out, err = capsys.readouterr()
    assert out == "" and repr(parent) in err and repr(trial) in err
    assert _tree(tmp_path) == before and sorted(p.name for p in root.iterdir()) == ["parent"], "nothing copied anywhere"


@pytest.mark.parametrize("name", ["run.1", "..x", "x..", "-"])
def test_names_with_dots_are_folder_names_too(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    _write_tree(tmp_path / name, PARENT_FILES)
    assert main([str(tmp_path), name, f"{name}-child"]) == 0
    assert _tree(tmp_path / f"{name}-child") == PARENT_FILES
    assert capsys.readouterr().err == ""
    assert main([str(tmp_path), f"{name}-gone", name + "2"]) == 1  # a parent whose folder is gone: named, no traceback
    assert f"'{name}-gone'" in capsys.readouterr().err and not (tmp_path / (name + "2")).exists()


# --- copy_parent ---------------------------------------------------------------------------------


def test_without_a_parent_folder_the_copy_fails_naming_it(tmp_path: Path) -> None:
    """The child would start from nothing under a label naming the parent: Katib's pbt service
    refuses to make it (its copytree of the parent's folder raises)."""
    root = tmp_path / "not" / "yet"
    with pytest.raises(checkpoints.ParentCheckpointError, match=re.escape(f"the checkpoint of the parent trial 'gone' is missing (no folder {root / 'gone'})")):
        copy_parent(root, "gone", "child")
    assert not (root / "child").exists()


def test_without_a_parent_folder_an_empty_trial_folder_already_there_is_left_as_it_is(tmp_path: Path) -> None:
    """kubelet made it for the trial's own mount before the copier ran."""
    (tmp_path / "child").mkdir()
    with pytest.raises(checkpoints.ParentCheckpointError):
        copy_parent(tmp_path, "gone", "child")
    assert (tmp_path / "child").is_dir() and _tree(tmp_path / "child") == {}


def test_the_copy_is_staged_beside_the_folder_not_in_the_pods_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rename that lands the copy must stay on the volume (an init container's /tmp is
    another filesystem, often read-only), and the staging folder is hidden from anything that
    lists the trials' folders."""
    _write_tree(tmp_path / "parent", PARENT_FILES)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-temp"))  # a temp folder that cannot be used
    seen: list[list[str]] = []
    real_copytree = shutil.copytree

    def copytree(*args: Any, **kwargs: Any) -> Any:
        if not seen:  # the copier's call, not copytree's own calls for subfolders
            seen.append(sorted(p.name for p in tmp_path.iterdir()))
        return real_copytree(*args, **kwargs)

    monkeypatch.setattr(shutil, "copytree", copytree)
    copy_parent(tmp_path, "parent", "child")
    assert _tree(tmp_path / "child") == PARENT_FILES
    (during,) = seen
    (staging,) = set(during) - {"parent"}
    assert staging.startswith("."), "hidden while it is being copied"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["child", "parent"]


def test_a_folder_another_pod_filled_meanwhile_is_left_as_that_pod_made_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two pods of one trial copy at once: the one that lands second keeps the first one's copy."""
    _write_tree(tmp_path / "parent", PARENT_FILES)
    (tmp_path / "child").mkdir()  # empty, as kubelet leaves it
    real_copytree = shutil.copytree

    def copytree(*args: Any, **kwargs: Any) -> Any:
        _write_tree(tmp_path / "child", {"from-the-other-pod": b"1"})  # the other pod lands first
        return real_copytree(*args, **kwargs)

    monkeypatch.setattr(shutil, "copytree", copytree)
    said = copy_parent(tmp_path, "parent", "child")
    assert _tree(tmp_path / "child") == {"from-the-other-pod": b"1"}
    assert "another pod" in said
    assert sorted(p.name for p in tmp_path.iterdir()) == ["child", "parent"], "the staging copy is removed"


def test_a_copy_that_fails_is_an_error_and_leaves_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file of the parent's that cannot be read: the init container must fail (the pod does not
    start on half a checkpoint), not report an empty start. (A dangling link is copied as a link.)"""
    _write_tree(tmp_path / "parent", PARENT_FILES)
    (tmp_path / "parent" / "dangling").symlink_to(tmp_path / "nowhere")
    real_copyfile = shutil.copyfile

    def copyfile(source: Any, target: Any, **kwargs: Any) -> Any:
        if os.fspath(source).endswith("steps.txt"):  # copytree hands over a DirEntry
            raise PermissionError(13, "Permission denied", os.fspath(source))
        return real_copyfile(source, target, **kwargs)

    monkeypatch.setattr(shutil, "copyfile", copyfile)
    with pytest.raises(checkpoints.ParentCheckpointError, match=r"cannot copy logs/deep/steps\.txt from the checkpoint folder of the parent trial 'parent' \(.*parent\): Permission denied$"):
        copy_parent(tmp_path, "parent", "child")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parent"], "neither the trial's folder nor a staging copy"


# --- TrialFolder on a store that is not a folder here ---------------------------------------------


class _ListsAGoneKey:
    """A store whose listing still shows an object deleted since (another writer's delete
    between the listing and the read)."""

    def __init__(self, inner: Any, gone: str) -> None:
        self.inner, self.gone, self.uri = inner, gone, inner.uri

    def list(self, prefix: str) -> list[str]:
        return sorted([*self.inner.list(prefix), self.gone]) if self.gone.startswith(prefix) else self.inner.list(prefix)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_remote_stores_parent_files_arrive_at_any_depth_and_a_gone_one_is_passed_over(tmp_path: Path) -> None:
    inner = LocalStore(tmp_path / "store")
    records = ExperimentRecords(inner, "exp")
    prefix = store_prefix(records, "parent")
    for relative, data in PARENT_FILES.items():
        inner.put(prefix + relative, data)
    store = _ListsAGoneKey(RetryingStore(inner), prefix + "a-gone-file")  # sorts before the others
    folder = TrialFolder(ExperimentRecords(store, "exp"), "child", "parent", tmp_path / "scratch")
    path = folder.open()
    assert path.is_relative_to(tmp_path / "scratch"), "not a folder store: the files are copied here"
    assert _tree(path) == PARENT_FILES
