"""Each trial's checkpoint folder (Katib's ``suggestion_trial_dir``, see
:mod:`kfp_tune.core.checkpoints`): where it lives, and how it starts as a copy of its parent's.

On this machine (the local launcher: ``kfp-tune run``, either engine, and kfp.local) a trial's
folder is ``experiments/<experiment>/trials/<trial>/checkpoint/`` in the store. With a store in a
local folder the trial works in that folder itself, first filled with a copy of the parent's;
with an S3 store the parent's files are downloaded to a scratch folder before the trial starts,
and the folder's files are uploaded once it has ended, so a later trial on any machine finds them.

On a cluster (the Kubernetes launcher) the folders live on a ReadWriteMany volume, as Katib keeps
them: ``<experiment>/<trial>`` on the claim is mounted at ``suggestion_trial_dir``, and an init
container in the trial's pod copies the parent's folder there first. This module is that
container's program: ``python3 -m kfp_tune.launchers.checkpoints ROOT PARENT TRIAL``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from kfp_tune.core.checkpoints import PARENT_LABEL, STORE_FOLDER
from kfp_tune.core.errors import StoreError
from kfp_tune.core.interfaces import Streaming
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.stores.local import LocalStore

LAYOUT_RECORD = "checkpoint-layout.json"
"""Beside a trial's checkpoint files in an S3 store (``trials/<trial>/checkpoint-layout.json``):
what S3 holds no object for, the folder's symbolic links and its folders (an empty one too), so
that a child's copy is the folder as it was, as on a folder store; and, by being there, that the
trial's folder was kept, so that a parent that left nothing is told from one whose files are gone."""


class ParentCheckpointError(StoreError):
    """The parent's checkpoint folder is gone or cannot be copied: the child's failure
    (``CheckpointNotReady``), which names the parent's folder and the file, not kfp-tune's."""


def store_prefix(records: ExperimentRecords, trial: str) -> str:
    """Where a trial's checkpoint files are kept in the store."""
    return f"{records.trial_prefix(trial)}{STORE_FOLDER}/"


def layout_key(records: ExperimentRecords, trial: str) -> str:
    """Where the :data:`LAYOUT_RECORD` of a trial's checkpoint is kept in an S3 store."""
    return f"{records.trial_prefix(trial)}{LAYOUT_RECORD}"


def missing_parent(parent: str, where: str) -> ParentCheckpointError:
    """A parent whose checkpoint folder is gone (pruned by hand, a partly restored store, an S3
    lifecycle rule): the child would train from scratch under a label naming that parent. Katib's
    pbt service refuses to make such a child (its copy of the parent's folder raises)."""
    return ParentCheckpointError(
        f"the checkpoint of the parent trial {parent!r} is missing (no folder {where}): this trial (label {PARENT_LABEL}={parent}) "
        "would start from nothing instead of its parent's checkpoint; restore the folder (Katib's pbt service fails the same way)"
    )


def _copy_failure(parent: str, source: Path, exc: OSError) -> ParentCheckpointError:
    """shutil's errors (copytree's: a list of (source, target, why)) as one sentence naming the
    parent's folder and the first file that failed, relative to it."""
    problems: list[tuple[str, str]] = []
    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list):
        for item in exc.args[0]:
            if isinstance(item, tuple) and len(item) == 3:
                why = re.sub(r"^\[Errno \d+\] ", "", str(item[2]))
                for path in item[:2]:
                    why = why.replace(f": {str(path)!r}", "")
                problems.append((str(item[0]), why))
    if not problems:
        problems = [(str(exc.filename or source), exc.strerror or str(exc))]
    where, why = problems[0]
    if where.startswith(f"{source}{os.sep}"):
        where = where[len(str(source)) + 1:]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return ParentCheckpointError(f"cannot copy {where} from the checkpoint folder of the parent trial {parent!r} ({source}): {why}{more}")


def _special_files(folder: str, names: list[str]) -> set[str]:
    """What a copy leaves out: named pipes, sockets, devices (a copy of a pipe would wait for a
    writer). Files, folders and links are kept, on both stores."""
    left_out = set()
    for name in names:
        mode = os.lstat(os.path.join(folder, name)).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
            left_out.add(name)
    return left_out


def copy_folder(parent: str, source: Path, target: Path) -> None:
    """``target`` becomes a copy of the parent's folder ``source`` as it is: a symbolic link is
    copied as a link (a dangling one too), special files are left out. ParentCheckpointError when
    ``source`` is gone or a file cannot be copied."""
    if not source.is_dir():
        raise missing_parent(parent, str(source))
    try:
        shutil.copytree(source, target, symlinks=True, ignore=_special_files)
        for kind, link in _walk(target):  # a link to the parent's own file becomes one to the copy's
            if kind == "link":
                written = os.readlink(link)
                kept = link_target(source / link.relative_to(target), written, source)
                if kept != written:
                    link.unlink()
                    os.symlink(kept, link)
    except OSError as exc:  # shutil.Error too
        raise _copy_failure(parent, source, exc) from None


def link_target(link: Path, written: str, folder: Path) -> str:
    """What a link of a trial's checkpoint ``folder`` is kept as: a target inside the folder,
    written absolute (``os.symlink(os.path.abspath(ckpt), "latest")``), as the path relative to
    the link, so that a child's copy names its own file, not its parent's (which it would then
    write through) or a folder gone with its parent's scratch; any other target as written."""
    if not os.path.isabs(written):
        return written
    target = os.path.normpath(written)
    for root, base in ((os.path.normpath(folder), os.path.normpath(link.parent)), (os.path.realpath(folder), os.path.realpath(link.parent))):
        if target == root or target.startswith(root + os.sep):  # the folder as written, or as it resolves (/tmp a link)
            return os.path.relpath(target, base)
    return written


def _walk(folder: Path) -> Iterator[tuple[str, Path]]:
    """(kind, path) for everything under ``folder``, sorted, links not followed: "file",
    "link", "folder"; special files left out, as :func:`copy_folder` leaves them."""
    for root, folders, files in os.walk(folder):
        folders.sort()
        for name in sorted(folders + files):
            path = Path(root) / name
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                yield "link", path
            elif stat.S_ISDIR(mode):
                yield "folder", path
            elif stat.S_ISREG(mode):
                yield "file", path


def _inside(folder: Path, relative: Any, record: str) -> Path:
    """``folder / relative`` for a path a layout record names, which must stay inside ``folder``."""
    parts = PurePosixPath(str(relative)).parts if isinstance(relative, str) and relative else ()
    if not parts or parts[0] == "/" or ".." in parts:
        raise StoreError(f"{record}: {relative!r} is not a path inside the checkpoint folder")
    return folder.joinpath(*parts)


class TrialFolder:
    """A trial's checkpoint folder on this machine: :meth:`open` before the trial starts,
    :meth:`save` once it has ended."""

    def __init__(self, records: ExperimentRecords, trial: str, parent: str, scratch: Path):
        self.records, self.trial, self.parent = records, trial, parent
        self.store_root = records.store.root if isinstance(records.store, LocalStore) else None
        """A store in a local folder: the trial works in the store's folder itself."""
        self.in_store = self.store_root is not None
        self.path = self.store_root / store_prefix(records, trial) if self.store_root is not None else scratch / STORE_FOLDER

    def open(self) -> Path:
        """The folder, holding a copy of the parent's (empty without a parent, or when the parent
        left nothing). A folder left by an earlier attempt of the trial is emptied first.
        ParentCheckpointError when the parent's folder is gone or cannot be copied."""
        if self.path.is_symlink():
            self.path.unlink()
        elif self.path.exists():
            shutil.rmtree(self.path)
        if not self.parent:
            self.path.mkdir(parents=True)
            return self.path
        parent_prefix = store_prefix(self.records, self.parent)
        if self.store_root is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            copy_folder(self.parent, self.store_root / parent_prefix, self.path)
            return self.path
        self.path.mkdir(parents=True)
        store = self.records.store
        keys = [key for key in store.list(parent_prefix) if not key.endswith("/")]  # "/": a folder marker (S3 console's "Create folder"), no file
        layout = self._layout(self.parent)
        if not keys and layout is None:
            raise missing_parent(self.parent, f"{store.uri}/{parent_prefix}")
        download = store.download_file if isinstance(store, Streaming) else None  # an S3 store's, or its retries': a part at a time
        for key in keys:
            target = self.path / key[len(parent_prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            if download is not None:
                download(key, target)  # False: gone since it was listed
                continue
            data = store.get(key)
            if data is not None:  # None: gone since it was listed
                target.write_bytes(data)
        self._make_layout(layout or {})
        return self.path

    def _layout(self, trial: str) -> dict[str, Any] | None:
        """The trial's :data:`LAYOUT_RECORD`, or None when there is none (a folder never kept, or
        kept by a kfp-tune before it wrote one)."""
        key = layout_key(self.records, trial)
        data = self.records.store.get(key)
        if data is None:
            return None
        try:
            layout = json.loads(data)
        except ValueError:
            layout = None
        if not isinstance(layout, dict) or not isinstance(layout.get("folders", []), list) or not isinstance(layout.get("links", {}), dict):
            raise StoreError(f"{self.records.store.uri}/{key}: damaged (expected JSON with 'folders': [...] and 'links': {{...}})")
        return layout

    def _make_layout(self, layout: dict[str, Any]) -> None:
        """The parent's folders and links, as its layout record names them."""
        record = f"{self.records.store.uri}/{layout_key(self.records, self.parent)}"
        try:
            for relative in layout.get("folders", []):
                _inside(self.path, relative, record).mkdir(parents=True, exist_ok=True)
            for relative, target in sorted(layout.get("links", {}).items()):
                link = _inside(self.path, relative, record)
                link.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(str(target), link)
        except OSError as exc:
            raise ParentCheckpointError(f"cannot copy {exc.filename} from the checkpoint folder of the parent trial {self.parent!r} ({record}): {exc.strerror}") from None

    def save(self) -> int:
        """Keep what the trial left in its folder: uploaded to the store when the store is not
        this folder (StoreError if that fails), its links and folders in its layout record, last
        (its presence says the folder was kept). Returns how many files were uploaded."""
        if self.in_store:
            return 0
        prefix = store_prefix(self.records, self.trial)
        store = self.records.store
        upload = store.upload_file if isinstance(store, Streaming) else None  # an S3 store's, or its retries': a part at a time
        count, folders, links = 0, list[str](), dict[str, str]()
        try:
            found = list(_walk(self.path))
        except OSError as exc:  # a file gone while the folder was walked (a process the trial left behind)
            raise StoreError(f"cannot read checkpoint folder {self.path}: {exc.filename}: {exc.strerror}") from None
        for kind, path in found:
            relative = path.relative_to(self.path).as_posix()
            if kind == "folder":
                folders.append(relative)
            elif kind == "link":
                try:
                    links[relative] = link_target(path, os.readlink(path), self.path)
                except OSError as exc:
                    raise StoreError(f"cannot read checkpoint link {path}: {exc.strerror}") from None
            elif upload is not None:
                upload(prefix + relative, path)
                count += 1
            else:
                try:
                    data = path.read_bytes()
                except OSError as exc:
                    raise StoreError(f"cannot read checkpoint file {path}: {exc.strerror}") from None
                store.put(prefix + relative, data)
                count += 1
        store.put(layout_key(self.records, self.trial), json.dumps({"folders": folders, "links": links}, sort_keys=True).encode())
        return count


def copy_parent(root: Path, parent: str, trial: str) -> str:
    """The init container's work on a cluster: ``root/trial`` becomes a copy of ``root/parent``
    (:func:`copy_folder`: links as links). Safe when pods of one trial race (only one copy lands)
    and when the trial's folder is already in use (it is left alone). Returns what was done, for
    the container's log; ParentCheckpointError when the parent's folder is gone or cannot be copied."""
    target, source = root / trial, root / parent
    if target.is_dir() and any(target.iterdir()):
        return f"{target} is not empty: left as it is"
    if not source.is_dir():
        raise missing_parent(parent, str(source))
    staging = Path(tempfile.mkdtemp(prefix=f".{trial}.", dir=root))
    try:
        copy_folder(parent, source, staging / "copy")
        if target.is_dir():
            target.rmdir()  # empty (checked above); OSError if another pod filled it meanwhile
        os.rename(staging / "copy", target)
    except OSError:
        if not (target.is_dir() and any(target.iterdir())):
            raise
        return f"{target} was filled by another pod of the trial: left as it is"
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return f"copied {source} to {target}"


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python3 -m kfp_tune.launchers.checkpoints ROOT PARENT TRIAL", file=sys.stderr)
        return 2
    root, parent, trial = argv
    if any(not name or "/" in name or name in (".", "..") for name in (parent, trial)):
        print(f"PARENT and TRIAL must be folder names, got {parent!r} and {trial!r}", file=sys.stderr)
        return 2
    try:
        print(copy_parent(Path(root), parent, trial), flush=True)
    except ParentCheckpointError as exc:  # the trial's failure: said in the container's log, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
