"""Files written whole beside their name, then renamed over it: a record of the folder store,
and a file kfp-tune writes for its user at a name they chose (a report, a compiled pipeline).
A link at the name is replaced by the file, never written through (a link planted in a shared
folder cannot make a user overwrite the file it points to), and no reader sees half a file."""

from __future__ import annotations

import errno
import os
import secrets
import stat
import tempfile
from pathlib import Path

NEW_FILE_FLAGS = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
"""A new file only (O_EXCL: never an existing file, nor a link planted under the name), as ``tempfile.mkstemp`` opens one."""
FILE_MODE = 0o666
"""A new file's mode before the umask: it follows the umask as any file a program writes
(``tempfile.mkstemp``'s 0600 left a group that shares a store, under umask 002, no record it could read)."""


def new_file_beside(folder: str | Path, name: str) -> tuple[int, str]:
    """A new temporary file ``.NAME.XXXXXXXX.tmp`` (eight random hex digits) in ``folder``, for
    a write of ``name`` there, opened for writing, mode :data:`FILE_MODE` less the umask: (its
    fd, its path). The folder store's listing knows the form (``stores.local.TEMP_NAME``)."""
    for _ in range(tempfile.TMP_MAX):
        path = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(path, NEW_FILE_FLAGS, FILE_MODE), path
        except FileExistsError:  # another write's (or a leftover's) name: draw again
            continue
    raise FileExistsError(errno.EEXIST, f"no free temporary file name in {folder}")


def write_output(path: Path, data: bytes) -> None:
    """``data`` at ``path``, replacing what is there: a regular file keeps its permissions (a
    report its user made private stays so), a link is replaced itself, not its target. OSError
    as the file system raises it; nothing is left beside ``path`` when it fails."""
    try:
        before = os.lstat(path)
    except FileNotFoundError:
        before = None
    fd, temporary = new_file_beside(path.parent, path.name)
    try:
        with os.fdopen(fd, "wb") as handle:
            if before is not None and stat.S_ISREG(before.st_mode):  # its permission bits only: never a setuid, setgid or sticky bit someone else chose
                os.fchmod(handle.fileno(), stat.S_IMODE(before.st_mode) & 0o777)
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
