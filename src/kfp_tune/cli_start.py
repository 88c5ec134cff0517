"""The ``kfp-tune`` command's first second: a Ctrl-C while it loads.

The console script imports ``kfp_tune.cli``, and with it the whole package (pydantic, numpy, the
plug-ins: about a second), before ``cli.main`` can answer a Ctrl-C; one in that second printed
the traceback of whichever import it cut short, and the process died of SIGINT. ``kfp_tune``
imports this module first: in the ``kfp-tune`` command (or ``python -m kfp_tune.cli``) only (never in a library user's process),
SIGINT then prints one line and exits 130, as a Ctrl-C later does, until ``cli.main`` answers it
itself (:func:`hand_over`)."""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

COMMAND_NAME = "kfp-tune"
"""The console script (pyproject's ``[project.scripts]``): ``sys.argv[0]``'s last part while it loads."""
CLI_MODULE = "kfp_tune.cli"
"""The command as a module: ``python -m kfp_tune.cli``."""
EXIT_INTERRUPTED = 128 + signal.SIGINT
"""What a shell reports for a command Ctrl-C ended, and what ``kfp-tune`` exits with then."""


def _interrupted_while_loading(signum: int, frame: FrameType | None) -> None:
    print("interrupted", file=sys.stderr)
    raise SystemExit(EXIT_INTERRUPTED)


def started_as_the_command() -> bool:
    """Whether this process is the ``kfp-tune`` command (an embedded interpreter may have no argv),
    the console script or ``python -m kfp_tune.cli`` (whose ``sys.argv[0]`` is still ``-m`` while
    the package loads: the interpreter's own words say it)."""
    argv = getattr(sys, "argv", None) or [""]
    if os.path.basename(argv[0]) == COMMAND_NAME:
        return True
    words = list(getattr(sys, "orig_argv", []))
    return any(word == "-m" and words[index + 1 : index + 2] == [CLI_MODULE] for index, word in enumerate(words[:-1])) or f"-m{CLI_MODULE}" in words


def hand_over() -> None:
    """``cli.main`` answers a Ctrl-C from here on (a run's interrupt, or "interrupted"): Python's
    own handler is back, for whatever the command installs over it."""
    if signal.getsignal(signal.SIGINT) is _interrupted_while_loading:
        signal.signal(signal.SIGINT, signal.default_int_handler)


if started_as_the_command() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # an ignored SIGINT stays ignored
    signal.signal(signal.SIGINT, _interrupted_while_loading)
