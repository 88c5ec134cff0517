"""The ``kfp-tune`` command's first second: a Ctrl-C or SIGTERM, or a dependency missing, while it loads.

The console script imports ``kfp_tune.cli``, and with it the whole package (pydantic, numpy, the
plug-ins: about a second), before ``cli.main`` can answer a Ctrl-C; one in that second printed
the traceback of whichever import it cut short, and the process died of SIGINT. ``kfp_tune``
imports this module first: in the ``kfp-tune`` command (or ``python -m kfp_tune.cli``) only (never in a library user's process),
SIGINT then prints one line and exits 130, as a Ctrl-C later does, until ``cli.main`` answers it
itself (:func:`hand_over`). SIGTERM the same way (``interrupted (SIGTERM)``, exit 143), and
after that until a run answers it (:class:`Terminated`): it ended the process with no line.

After ``pip install --no-deps`` those imports fail too (no pydantic, yaml, numpy), before
``cli.main`` could name the package: the command then says what :func:`missing_module` says, one
line and exit 1, as ``cli.main`` does for a module a command imports later. This module uses the
standard library alone, so that it loads where nothing else is installed."""

from __future__ import annotations

import os
import re
import signal
import sys
from types import FrameType, TracebackType

COMMAND_NAME = "kfp-tune"
"""The console script (pyproject's ``[project.scripts]``): ``sys.argv[0]``'s last part while it loads."""
CLI_MODULE = "kfp_tune.cli"
"""The command as a module: ``python -m kfp_tune.cli``."""
EXIT_INTERRUPTED = 128 + signal.SIGINT
"""What a shell reports for a command Ctrl-C ended, and what ``kfp-tune`` exits with then."""


MODULE_DISTRIBUTIONS = {
    "yaml": "pyyaml", "skopt": "scikit-optimize", "sklearn": "scikit-learn", "re2": "google-re2",
    "prometheus_client": "prometheus-client", "kfp.kubernetes": "kfp-kubernetes", "kfp_server_api": "kfp-server-api",
}
"""Import names whose package on PyPI is named otherwise (the rest: the import name, ``_`` as ``-``)."""
EXIT_FAILED = 1
"""``cli.main``'s status for a runtime error, a missing dependency included."""


EXIT_TERMINATED = 128 + signal.SIGTERM
"""What a shell reports for a command SIGTERM ended (a CI job's timeout, ``kill``)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, once ``cli.main`` runs and before a run answers it itself: said as a Ctrl-C is
    (``interrupted (SIGTERM)``, exit 143), where it ended the process with no line at all."""

    signal_name = "SIGTERM"


def _interrupted_while_loading(signum: int, frame: FrameType | None) -> None:
    if signum == signal.SIGTERM:
        print("interrupted (SIGTERM)", file=sys.stderr)
        raise SystemExit(EXIT_TERMINATED)
    print("interrupted", file=sys.stderr)
    raise SystemExit(EXIT_INTERRUPTED)


def _terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


def started_as_the_command() -> bool:
    """Whether this process is the ``kfp-tune`` command (an embedded interpreter may have no argv),
    the console script or ``python -m kfp_tune.cli`` (whose ``sys.argv[0]`` is still ``-m`` while
    the package loads: the interpreter's own words say it)."""
    argv = getattr(sys, "argv", None) or [""]
    if os.path.basename(argv[0]) == COMMAND_NAME:
        return True
    words = list(getattr(sys, "orig_argv", []))
    return any(word == "-m" and words[index + 1 : index + 2] == [CLI_MODULE] for index, word in enumerate(words[:-1])) or f"-m{CLI_MODULE}" in words


def missing_module(exc: BaseException) -> str | None:
    """What to install, when ``exc`` is an import of a module that is not installed (None for any
    other error, and for kfp-tune's own modules, whose absence is a broken install): the package
    of kfp-tune's dependency, or of the extra that declares it, with the pip command."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name or exc.name.split(".")[0] == "kfp_tune":
        return None
    module = exc.name
    package = MODULE_DISTRIBUTIONS.get(module) or MODULE_DISTRIBUTIONS.get(module.split(".")[0]) or module.split(".")[0].replace("_", "-")
    declared = _declared_requirement(package)
    if declared is None:
        return f"the Python module {module!r} is not installed here (pip install the package that provides it; -vv shows what imported it)"
    requirement, extra = declared
    named = package if package == module else f"{package} (module {module!r})"
    if extra:
        return f"the Python package {named}, which kfp-tune's {extra!r} extra installs, is not installed here: pip install 'kfp-tune[{extra}]'"
    return (f"kfp-tune's dependency {named} is not installed here (kfp-tune installed with --no-deps?): pip install '{requirement}', "
            f"or reinstall kfp-tune with its dependencies (pip check lists what else is missing)")


def _declared_requirement(package: str) -> tuple[str, str] | None:
    """kfp-tune's requirement on ``package`` as its metadata declares it (markers left out) and
    the extra that declares it ("" for a dependency of every install), or None."""
    from importlib import metadata

    try:
        requirements = metadata.requires("kfp-tune") or []
    except metadata.PackageNotFoundError:
        return None
    wanted = re.sub(r"[-_.]+", "-", package).lower()
    found: list[tuple[str, str]] = []
    for line in requirements:
        requirement, _, marker = line.partition(";")
        name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        if name is None or re.sub(r"[-_.]+", "-", name[1]).lower() != wanted:
            continue
        extra = re.search(r"""extra\s*==\s*["']([^"']+)["']""", marker)
        found.append((requirement.strip(), extra[1] if extra else ""))
    return min(found, key=lambda item: (item[1] != "", item[1] != "examples", item[1])) if found else None


def _verbosity(argv: list[str]) -> int:
    """``-v``s on the command line, as ``cli.main``'s parser will count them (it has not run yet)."""
    words = argv[: argv.index("--")] if "--" in argv else argv
    return sum(len(word) - 1 if re.fullmatch(r"-v+", word) else word == "--verbose" for word in words)


def _missing_while_loading(kind: type[BaseException], exc: BaseException, trace: TracebackType | None) -> None:
    """``sys.excepthook`` while the command loads: a dependency missing is one line (the traceback
    with ``-vv``), and the process exits 1 as for any uncaught error; anything else as Python says it."""
    missing = missing_module(exc)
    if missing is None:
        sys.__excepthook__(kind, exc, trace)
        return
    if _verbosity(list(getattr(sys, "argv", None) or [])) > 1:
        sys.__excepthook__(kind, exc, trace)
    print(f"error: {missing}", file=sys.stderr)


def hand_over() -> None:
    """``cli.main`` answers a Ctrl-C and a missing module from here on (a run's interrupt, or
    "interrupted"): Python's own handlers are back, for whatever the command installs over them."""
    if signal.getsignal(signal.SIGINT) is _interrupted_while_loading:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGTERM) is _interrupted_while_loading:  # a run installs its own over it, and puts it back
        signal.signal(signal.SIGTERM, _terminated)
    if sys.excepthook is _missing_while_loading:
        sys.excepthook = sys.__excepthook__


if started_as_the_command():
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # an ignored SIGINT stays ignored
        signal.signal(signal.SIGINT, _interrupted_while_loading)
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:  # an ignored SIGTERM too
        signal.signal(signal.SIGTERM, _interrupted_while_loading)
    if sys.excepthook is sys.__excepthook__:  # a hook someone installed stays theirs
        sys.excepthook = _missing_while_loading
