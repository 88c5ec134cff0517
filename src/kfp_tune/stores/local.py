"""A store in a local folder. Writes go to a temporary file that is fsynced and renamed, so a
reader never sees half a record, even if the writer is killed. What a killed writer leaves (its
temporary file) is never listed; deleting the experiment removes it, and so does a listing once
it is an hour old and no writer holds it. A link under the root (a folder's or a key's) is never
followed: a write or a delete through one is refused, a read of one is damage, naming the link."""

from __future__ import annotations

import errno
import logging
import os
import re
import stat
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from kfp_tune.core.claims import user_words
from kfp_tune.core.errors import StoreError
from kfp_tune.core.output_file import new_file_beside
from kfp_tune.core.records import DamagedRecord
from kfp_tune.stores.keys import unsafe_part

try:
    import fcntl
except ImportError:  # Windows (refused by kfp-tune's entry points): importable, leftovers never swept
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

TEMP_NAME = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp")
"""A write's temporary file, beside its key: ``.NAME.XXXXXXXX.tmp`` (eight random characters,
:func:`kfp_tune.core.output_file.new_file_beside`; ``tempfile.mkstemp``'s, which older writes used, are of the same kind).
The store's own, never a key: a listing skips it, and only such names are ever removed as leftovers."""

NOT_FOLLOWED = "a link, which the store never follows (it could lead outside the store)"
"""Why a key through a link is refused or left out."""

NOT_A_FILE = "not a regular file (a FIFO, device or folder), which the store never reads"
"""Why a key that is no regular file is refused: a FIFO's read would wait for a writer forever."""

STALE_TEMP_SECONDS = 3600.0
"""A temporary file unchanged this long, whose writer holds no lock on it, is a killed write's
leftover: a listing removes it. A live write holds its lock and changes the file within seconds."""


def _remove_leftover(path: Path, min_age: float) -> bool:
    """Unlink a temporary file (:data:`TEMP_NAME`) if no writer holds it (its flock is free: the
    writer ended, however it ended) and it is unchanged for ``min_age`` seconds; whether it is
    gone. A link, a folder or anything but a plain file of that name is left as it is."""
    if fcntl is None:  # no flock to tell a live write (Windows, where kfp-tune refuses to run: core.supported_os)
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # OSError while its writer holds it
            info = os.fstat(fd)  # read under the lock: a writer that just made it is seen young
            if not stat.S_ISREG(info.st_mode) or time.time() - info.st_mtime < min_age:
                return False
            os.unlink(path)
            return True
        finally:
            os.close(fd)
    except FileNotFoundError:  # renamed by its writer, or removed by another sweep
        return True
    except OSError:  # a live writer's, a link, or not ours to remove
        return False


def _live_write(entry: os.DirEntry[str]) -> bool:
    """Whether a temporary file that could not be removed is a live write's: a regular file (a
    link or a FIFO with a temporary file's name is no write of the store's) changed within
    :data:`STALE_TEMP_SECONDS`, the age at which a listing takes it for a killed write's (a live
    write changes its file within seconds)."""
    try:
        return entry.is_file(follow_symlinks=False) and time.time() - entry.stat(follow_symlinks=False).st_mtime < STALE_TEMP_SECONDS
    except OSError:  # gone meanwhile: its writer renamed it
        return True


class LocalStore:
    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser().resolve()
        self.uri = self.root.as_uri()
        self._plain_folders: set[Path] = {self.root}
        """Folders under the root found to be folders, not links: each is checked once (an lstat),
        not on every read and write of the records in it."""

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def prefixes_beside(self) -> list[str]:
        """The folders beside this store's (under the same parent folder), as ``file://`` URIs."""
        try:
            folders = [entry for entry in self.root.parent.iterdir() if entry != self.root and entry.is_dir()]
        except OSError:
            return []
        return sorted(folder.as_uri() for folder in folders)

    def prefixes_under(self) -> list[str]:
        """The folders under this store's root, as ``file://`` URIs."""
        return [folder.as_uri() for folder in self._folders_in(self.root)]

    def folders(self, prefix: str, limit: int | None = 1000) -> list[str]:
        """The names of the folders right under the key prefix ``prefix``, sorted; at most
        ``limit`` (1,000, as an S3 store's one request; ``None``: all)."""
        if unsafe_part(prefix.rstrip("/")) is not None:
            raise StoreError(f"invalid store key prefix {prefix!r}")
        return [folder.name for folder in self._folders_in(self.root / prefix)][:limit]

    @staticmethod
    def _folders_in(folder: Path) -> list[Path]:
        try:
            return sorted(entry for entry in folder.iterdir() if entry.is_dir())
        except OSError:
            return []

    def open_beside(self, uri: str) -> LocalStore:
        """The folder store at one of :meth:`prefixes_beside`'s or :meth:`prefixes_under`'s URIs."""
        return LocalStore(url2pathname(urlparse(uri).path))

    def _path(self, key: str) -> Path:
        if unsafe_part(key) is not None:
            raise StoreError(f"invalid store key {key!r}")
        return self.root / key

    def _linked_folder(self, path: Path) -> Path | None:
        """The first folder between the root and ``path`` that is a link, or None (a folder that
        does not exist yet is none: a write makes it a folder)."""
        folder = self.root
        for part in path.relative_to(self.root).parts[:-1]:
            folder = folder / part
            if folder in self._plain_folders:
                continue
            try:
                info = os.lstat(folder)
            except OSError:  # not there (yet), or unreadable: the operation itself says so
                return None
            if stat.S_ISLNK(info.st_mode):
                return folder
            self._plain_folders.add(folder)
        return None

    def _link_on(self, path: Path) -> Path | None:
        """The link on ``path`` (a folder above it, or the key itself), or None."""
        folder = self._linked_folder(path)
        if folder is not None:
            return folder
        return path if path.is_symlink() else None

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        link = self._linked_folder(path)
        if link is not None:
            raise DamagedRecord(key, f"{link} is {NOT_FOLLOWED}")
        try:
            # O_NONBLOCK: a FIFO under the key's name would block the open until a writer came
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # the key itself is a link
                raise DamagedRecord(key, f"it is {NOT_FOLLOWED}") from None
            raise StoreError(f"cannot read {key} from {self.uri}: {exc.strerror}") from None
        try:
            mode = os.fstat(fd).st_mode
        except OSError as exc:
            os.close(fd)
            raise StoreError(f"cannot read {key} from {self.uri}: {exc.strerror}") from None
        if not stat.S_ISREG(mode):  # a FIFO, device or folder: never a record, and a read could hang
            os.close(fd)
            raise DamagedRecord(key, f"in {self.uri}, it is {NOT_A_FILE}")
        try:
            with os.fdopen(fd, "rb") as handle:
                return handle.read()
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
        link = self._linked_folder(path)
        if link is not None:
            raise StoreError(f"cannot write {key} to {self.uri}: {link} is {NOT_FOLLOWED}; nothing was written")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = new_file_beside(path.parent, path.name)
            try:
                with os.fdopen(fd, "wb") as handle:
                    if fcntl is not None:  # held while the bytes go in: no sweep removes a live write
                        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
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
        except PermissionError as exc:
            raise StoreError(f"cannot write {key} to {self.uri}: {exc.strerror}: {_refusing_folder_words(path.parent)}") from None
        except OSError as exc:
            raise StoreError(f"cannot write {key} to {self.uri}: {exc.strerror}") from None

    def delete(self, keys: Sequence[str]) -> None:
        """Unlink each key, then clear the experiment's folder (``experiments/NAME``,
        ``artifacts/NAME``) of what the store itself left there: the temporary files of writes
        that were killed (a listing never shows them, so no command could reach them) and the
        folders that end up empty. As Katib's delete leaves nothing of an experiment (the trial
        finalizer drops its observation logs: pkg/controller.v1beta1/trial/
        trial_controller_util.go, updateFinalizers). Only a folder that holds no key is cleared
        (one that gained a key meanwhile stays, listed); a temporary file a live writer holds, or
        a thing that is not the store's own (a link to a folder), stays, and a warning names it
        (a held temporary file only once it is as old as a listing's sweep takes for a killed
        write's, :data:`STALE_TEMP_SECONDS`: a concurrent write is no leftover to remove by hand)."""
        paths = [self._path(key) for key in keys]  # every key checked before any is removed
        for key, path in zip(keys, paths, strict=True):
            link = self._link_on(path)
            if link is not None:
                raise StoreError(f"cannot delete {key} from {self.uri}: {link} is {NOT_FOLLOWED}; nothing was removed, the link stays")
        tops: set[Path] = set()
        for key, path in zip(keys, paths, strict=True):
            try:
                path.unlink(missing_ok=True)
            except PermissionError as exc:
                raise StoreError(f"cannot delete {key} from {self.uri}: {exc.strerror}: {_refusing_folder_words(path.parent)}") from None
            except OSError as exc:
                raise StoreError(f"cannot delete {key} from {self.uri}: {exc.strerror or exc}") from None
            parts = path.relative_to(self.root).parts
            if len(parts) > 2:
                tops.add(self.root.joinpath(*parts[:2]))
        kept: list[Path] = []
        for top in sorted(tops):
            self._clear(top, kept)
        if kept:
            log.warning(
                "%s: left %s, which the store does not list (a write still under way, or not the store's own); "
                "remove it by hand once nothing writes there",
                self.uri, ", ".join(str(p) for p in kept),
            )

    def _clear(self, folder: Path, kept: list[Path]) -> bool:
        """Remove ``folder`` if, once the leftover temporary files and the folders like it are
        gone, it is empty; whether it is gone. Nothing is removed from a folder that holds a key
        (what is left of an experiment that is not wholly deleted keeps its writes); what the
        store would not list and could not remove goes to ``kept``."""
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            return True
        except OSError:
            kept.append(folder)
            return False
        # a key is what a listing shows: neither a folder (nor a link to one) nor a temporary file
        holds_key = any(not entry.is_dir() and not TEMP_NAME.fullmatch(entry.name) for entry in entries)
        empty = not holds_key
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                empty = self._clear(Path(entry.path), kept) and empty
                continue
            if TEMP_NAME.fullmatch(entry.name):
                unreachable = not holds_key and not _remove_leftover(Path(entry.path), 0)
                if unreachable and _live_write(entry):  # mid-write: it ends within seconds, nothing to say
                    empty = False
                    continue
            else:  # a key stays, listed; a link to a folder is no key and is never followed
                unreachable = entry.is_dir()
            if unreachable:
                kept.append(Path(entry.path))
                empty = False
        if empty:
            try:
                folder.rmdir()
            except FileNotFoundError:
                pass
            except OSError:  # a key or a write arrived meanwhile
                return False
        return empty

    def list(self, prefix: str) -> list[str]:
        """Every key under ``prefix``; a temporary file (:data:`TEMP_NAME`) is never one, and a
        killed write's that has gone stale (:data:`STALE_TEMP_SECONDS`) is removed on the way."""
        base = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self.root / base if base else self.root
        link = self._link_on(start / "-")
        if link is not None:
            raise DamagedRecord(f"{base}/", f"{link} is {NOT_FOLLOWED}; nothing under it was read")
        if not start.is_dir():
            return []
        keys = []
        for dirpath, dirnames, filenames in os.walk(start):
            for dirname in dirnames:
                if Path(dirpath, dirname).is_symlink():  # os.walk never enters it
                    log.warning("%s: left out %s: %s", self.uri, Path(dirpath, dirname), NOT_FOLLOWED)
            for filename in filenames:
                if TEMP_NAME.fullmatch(filename):
                    _remove_leftover(Path(dirpath, filename), STALE_TEMP_SECONDS)
                    continue
                key = Path(dirpath, filename).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)


def _refusing_folder_words(folder: Path) -> str:
    """Whose folder refused a write or a delete, and how to fix it. The folder is the nearest that
    exists (a missing one is made in it; for a store folder not made yet, the folder the user
    gave it in). Usually one another user's run made under umask 022, writable by that user only:
    what a store shared by several users needs is said; a folder of this user's own, only that
    its owner can make it writable."""
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    try:
        info = os.stat(folder)
    except OSError as exc:
        return f"its nearest folder {folder} cannot be looked into either ({exc.strerror})"
    mode = stat.S_IMODE(info.st_mode)
    about = f"folder {folder} (owner {user_words(info.st_uid)}, mode {stat.filemode(info.st_mode)}, {mode:04o})"
    if info.st_uid == os.getuid():
        if not mode & stat.S_IWUSR:
            return f"{about} is this user's own and does not let its owner write in it: chmod u+w {folder}"
        return f"{about} is this user's own and lets its owner write, yet refused: look at its ACL (getfacl) and attributes (lsattr -d)"
    return (
        f"{about} does not let this user ({user_words(os.getuid())}) write in it. Several users who write one folder store need "
        f"a group folder they share, setgid (chgrp GROUP and chmod 2775 on the store's folder), and umask 002 (or a default ACL, "
        f"setfacl -d -m g::rwx) in every user's shell, so that the folders and records kfp-tune makes stay group-writable; "
        f"the folder's owner (or root) can fix this one with chmod -R g+w (docs/guide.md, \"Storage and credentials\")"
    )
