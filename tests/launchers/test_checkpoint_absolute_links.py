"""A checkpoint folder's link written with an absolute target inside the folder
(``os.symlink(os.path.abspath(ckpt), "latest")``) is copied to a child as a link to the child's
own file: copied as written (2a39849), a folder store's child wrote through it into its parent's
checkpoint, and an S3 store's child got a link into the parent's scratch folder, gone (review C
of session 38, finding 2). A link to a file outside the folder is kept as written."""

from __future__ import annotations

import os
from pathlib import Path

from memory_store import MemoryStore

from kfp_tune.core.records import ExperimentRecords
from kfp_tune.launchers.checkpoints import TrialFolder, copy_folder


def _parent(folder: Path, outside: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "ckpt-5.pt").write_bytes(b"parent's weights")
    os.symlink(os.path.abspath(folder / "ckpt-5.pt"), folder / "latest")
    outside.write_text("shared data")
    os.symlink(str(outside), folder / "data")


def _check_child(child: Path, parent: Path, outside: Path) -> None:
    assert os.readlink(child / "latest") == "ckpt-5.pt"
    (child / "latest").write_bytes(b"child's weights")  # the trial writes through its link
    assert (parent / "ckpt-5.pt").read_bytes() == b"parent's weights"
    assert (child / "ckpt-5.pt").read_bytes() == b"child's weights"
    assert os.readlink(child / "data") == str(outside)


def test_a_folder_store_childs_absolute_link_names_its_own_file(tmp_path) -> None:
    parent, outside = tmp_path / "parent", tmp_path / "outside.txt"
    _parent(parent, outside)
    copy_folder("parent-trial", parent, tmp_path / "child")
    _check_child(tmp_path / "child", parent, outside)


def test_an_object_stores_child_gets_the_link_relative_to_its_folder(tmp_path) -> None:
    records = ExperimentRecords(MemoryStore(), "exp")
    kept = TrialFolder(records, "parent", "", tmp_path / "parent-scratch")
    folder = kept.open()
    (folder / "ckpt-5.pt").write_bytes(b"parent's weights")
    os.symlink(os.path.abspath(folder / "ckpt-5.pt"), folder / "latest")
    kept.save()
    child = TrialFolder(records, "child", "parent", tmp_path / "child-scratch").open()
    assert os.readlink(child / "latest") == "ckpt-5.pt"
    assert (child / "latest").read_bytes() == b"parent's weights"
