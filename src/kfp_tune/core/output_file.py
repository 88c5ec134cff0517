"""Files kfp-tune writes for its user at a name they chose (a report, a compiled pipeline):
written whole beside the name, then renamed over it. A link at that name is replaced by the
file, never written through (as the store never follows one: a link planted in a shared folder
cannot make a user overwrite the file it points to), and no reader sees half a file."""

from __future__ import annotations

import errno
import os
import secrets
import tempfile
from pathlib import Path

NEW_FILE_FLAGS = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
"""A new file only: never an existing one, nor a link planted under the temporary name."""
OUTPUT_MODE = 0o666
"""Before the umask, as any file a program writes (and as ``Path.write_text`` made these)."""


def write_output(path: Path, data: bytes) -> None:
    """``data`` at ``path``, replacing what is there (a link itself, not its target). OSError as
    the file system raises it; nothing is left beside ``path`` when it fails."""
    fd, temporary = _new_file_beside(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _new_file_beside(path: Path) -> tuple[int, str]:
    for _ in range(tempfile.TMP_MAX):
        temporary = os.path.join(path.parent, f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(temporary, NEW_FILE_FLAGS, OUTPUT_MODE), temporary
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, f"no free temporary file name in {path.parent}")
