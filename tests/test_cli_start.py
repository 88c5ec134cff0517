"""A Ctrl-C in the ``kfp-tune`` command's first second, while the package loads (numpy, pydantic,
the plug-ins), printed the traceback of whichever import it cut short and the process died of
SIGINT (rc -2): now one line, ``interrupted``, and exit 130, as a Ctrl-C later gets. A library
user's process keeps Python's own handler (``import kfp_tune`` changes nothing there).

The Ctrl-C comes at a set point, not a set time: an import hook raises SIGINT as ``kfp_tune.api``
starts loading, in a process that starts as the console script does (pyproject's
``[project.scripts]``: ``from kfp_tune.cli import main``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

CONSOLE_SCRIPT_CUT_SHORT = textwrap.dedent("""
    import signal, sys

    class CtrlCWhileLoading:
        def find_spec(self, name, path=None, target=None):
            if name == "kfp_tune.api":
                signal.raise_signal(signal.SIGINT)
            return None

    sys.meta_path.insert(0, CtrlCWhileLoading())
    sys.argv[0] = "/somewhere/bin/kfp-tune"
    from kfp_tune.cli import main
    sys.exit(main(["list"]))
""")


def _ctrl_c_as_from_a_terminal() -> None:
    """In the child, before it runs: SIGINT at its default, as a terminal's shell starts a
    command. A suite started as a background job (``cmd &`` without job control) runs with SIGINT
    ignored; the child would inherit that, Python then installs no handler of its own, and
    kfp-tune rightly keeps an ignored SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_while_the_command_loads_is_one_line_and_exit_130() -> None:
    done = subprocess.run([sys.executable, "-c", CONSOLE_SCRIPT_CUT_SHORT], capture_output=True, text=True, timeout=120, preexec_fn=_ctrl_c_as_from_a_terminal)
    assert (done.returncode, done.stderr) == (130, "interrupted\n"), done.stderr[-2000:]
    assert done.stdout == ""


def test_ctrl_c_while_python_m_kfp_tune_cli_loads_is_one_line_and_exit_130(tmp_path: Path) -> None:
    """The chaos QA's Ctrl-C in the first second of ``python -m kfp_tune.cli run``: a 40-line
    traceback and rc -2, since ``sys.argv[0]`` is ``-m`` while the package loads. The hook comes
    from a sitecustomize, the only code that runs before ``-m`` imports the package."""
    (tmp_path / "sitecustomize.py").write_text(CONSOLE_SCRIPT_CUT_SHORT.split("sys.argv[0]")[0])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([sys.executable, "-m", "kfp_tune.cli", "list", "--store", str(tmp_path / "store")], capture_output=True, text=True,
                          timeout=120, env=env, preexec_fn=_ctrl_c_as_from_a_terminal)
    assert (done.returncode, done.stderr) == (130, "interrupted\n"), done.stderr[-2000:]


def test_a_library_user_s_process_keeps_python_s_own_ctrl_c() -> None:
    check = "import signal, kfp_tune; print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)"
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120, preexec_fn=_ctrl_c_as_from_a_terminal)
    assert done.stdout.strip() == "True", done.stderr[-2000:]


def test_the_command_answers_ctrl_c_itself_once_it_runs(tmp_path: Path) -> None:
    """Once loaded, ``cli.main`` hands SIGINT back to Python before a command runs (a run then
    installs its own, and puts Python's back after), so a later Ctrl-C is the command's to answer."""
    from kfp_tune import cli_start
    from kfp_tune.cli import main

    saved = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, cli_start._interrupted_while_loading)
    try:
        assert main(["list", "--store", str(tmp_path)]) == 0
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, saved if saved is not None else signal.SIG_DFL)
