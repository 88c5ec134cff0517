"""``kfp-tune cleanup`` run in this process, as the cleanup tests of several files call it: its
exit status and what it printed, each stream apart, so a test can tell a note from an error."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout

from kfp_tune.cli import main


def run_cleanup(*argv: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``kfp-tune cleanup ARGV...``."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["cleanup", *argv])
    return code, out.getvalue(), err.getvalue()
