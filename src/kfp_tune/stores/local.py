"""A store in a local folder. Writes go to a temporary file that is fsynced and renamed, so a
reader never sees half a record, even if the writer is killed."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from kfp_tune.core.errors import StoreError
from kfp_tune.stores.keys import unsafe_part


class LocalStore:
    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser().resolve()
        self.uri = self.root.as_uri()

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        if unsafe_part(key) is not None:
            raise StoreError(f"invalid store key {key!r}")
        return self.root / key

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read {key} from {self.uri}: {exc.strerror}") from None

    def put(self, key: str, data: bytes) -> None:
        self._write(key, data, replace=True)

    def create(self, key: str, data: bytes) -> bool:
        return self._write(key, data, replace=False)

    def _write(self, key: str, data: bytes, replace: bool) -> bool:
        """A whole temporary file, fsynced, then renamed over the key (replace) or hard-linked
        to it (create: the link fails if the key exists, so one writer wins)."""
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                if replace:
                    os.replace(tmp, path)
                else:
                    try:
                        os.link(tmp, path)
                    except FileExistsError:
                        return False
            finally:
                Path(tmp).unlink(missing_ok=True)
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
            return True
        except OSError as exc:
            raise StoreError(f"cannot write {key} to {self.uri}: {exc.strerror}") from None

    def delete(self, keys: Sequence[str]) -> None:
        """Unlink each key, then the folders under an experiment's folder that this left empty
        (a folder that gained a key meanwhile stays)."""
        paths = [self._path(key) for key in keys]  # every key checked before any is removed
        folders: set[Path] = set()
        for key, path in zip(keys, paths, strict=True):
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot delete {key} from {self.uri}: {exc.strerror or exc}") from None
            folders.update(p for p in path.parents if self.root in p.parents and len(p.relative_to(self.root).parts) >= 2)
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):  # deepest first
            with contextlib.suppress(OSError):  # not empty, or gone
                folder.rmdir()

    def list(self, prefix: str) -> list[str]:
        base = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self.root / base if base else self.root
        if not start.is_dir():
            return []
        keys = []
        for dirpath, _, filenames in os.walk(start):
            for filename in filenames:
                if filename.startswith(".") and filename.endswith(".tmp"):
                    continue
                key = Path(dirpath, filename).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)
