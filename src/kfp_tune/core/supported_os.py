"""The operating systems kfp-tune runs on: Linux and macOS.

Its local runs are POSIX through and through: a trial is its own process group, ended with
``os.killpg`` and SIGKILL (launchers/local.py, pipelines/local_run.py); a trial's command may
run through ``sh -c``, as Katib wraps a trial's command for its metrics collector
(pkg/webhook/v1beta1/pod/utils.go, wrapWorkerContainer: Katib's trials are Linux containers);
the local store syncs a folder by opening it (refused on Windows); a claim's owner is probed with
``os.kill(pid, 0)``, which on Windows sends CTRL_C_EVENT instead. So the entry points
(``kfp-tune`` and ``tune()``) refuse Windows at once, before anything is written, and say to use
WSL2, where it runs as on Linux.
"""

from __future__ import annotations

import sys

from kfp_tune.core.errors import KfpTuneError

WINDOWS_REFUSAL = (
    "kfp-tune runs on Linux and macOS, not on Windows: its trials are POSIX process groups (os.killpg, SIGKILL), "
    "run through sh as Katib's are; on Windows, install and run it in WSL2 (Windows Subsystem for Linux, "
    "https://learn.microsoft.com/windows/wsl/install)"
)


class UnsupportedPlatform(KfpTuneError, OSError):
    """kfp-tune was started on an operating system it does not run on (Windows)."""


def on_windows() -> bool:
    """Whether this is native Windows (not WSL2, which is Linux; not Cygwin, which is POSIX)."""
    return sys.platform == "win32"


def unsupported_platform() -> str | None:
    """Why kfp-tune cannot run here, or None where it can (Linux, macOS and other POSIX)."""
    return WINDOWS_REFUSAL if on_windows() else None


def refuse_unsupported_platform() -> None:
    """Raise UnsupportedPlatform where kfp-tune cannot run: called first by ``tune()``."""
    refusal = unsupported_platform()
    if refusal is not None:
        raise UnsupportedPlatform(refusal)
