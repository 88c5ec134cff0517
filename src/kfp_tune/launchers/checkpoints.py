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

import os
import shutil
import sys
import tempfile
from pathlib import Path

from kfp_tune.core.checkpoints import STORE_FOLDER
from kfp_tune.core.errors import StoreError
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.stores.local import LocalStore


def store_prefix(records: ExperimentRecords, trial: str) -> str:
    """Where a trial's checkpoint files are kept in the store."""
    return f"{records.trial_prefix(trial)}{STORE_FOLDER}/"


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
        """The folder, holding a copy of the parent's files (empty without a parent, or when the
        parent left none). A folder left by an earlier attempt of the trial is emptied first."""
        if self.path.exists():
            shutil.rmtree(self.path)
        if not self.parent:
            self.path.mkdir(parents=True)
            return self.path
        parent_prefix = store_prefix(self.records, self.parent)
        if self.store_root is not None:
            source = self.store_root / parent_prefix
            if source.is_dir():
                shutil.copytree(source, self.path)
            else:
                self.path.mkdir(parents=True)
            return self.path
        self.path.mkdir(parents=True)
        store = self.records.store
        for key in store.list(parent_prefix):
            if key.endswith("/"):  # a folder marker (S3 console's "Create folder"): no file, and its folder comes with its files
                continue
            data = store.get(key)
            if data is None:  # gone since it was listed
                continue
            target = self.path / key[len(parent_prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return self.path

    def save(self) -> int:
        """Keep what the trial left in its folder: uploaded to the store when the store is not
        this folder (StoreError if that fails). Returns how many files were uploaded."""
        if self.in_store:
            return 0
        prefix = store_prefix(self.records, self.trial)
        count = 0
        for path in sorted(p for p in self.path.rglob("*") if p.is_file()):
            key = prefix + path.relative_to(self.path).as_posix()
            try:
                self.records.store.put(key, path.read_bytes())
            except OSError as exc:
                raise StoreError(f"cannot read checkpoint file {path}: {exc.strerror}") from None
            count += 1
        return count


def copy_parent(root: Path, parent: str, trial: str) -> str:
    """The init container's work on a cluster: ``root/trial`` becomes a copy of ``root/parent``.
    Safe when pods of one trial race (only one copy lands) and when the trial's folder is
    already in use (it is left alone). Returns what was done, for the container's log."""
    target, source = root / trial, root / parent
    if target.is_dir() and any(target.iterdir()):
        return f"{target} is not empty: left as it is"
    if not source.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return f"no checkpoint folder {source}: {target} starts empty"
    staging = Path(tempfile.mkdtemp(prefix=f".{trial}.", dir=root))
    try:
        shutil.copytree(source, staging / "copy")
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
    print(copy_parent(Path(root), parent, trial), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
