"""A SIGTERM (a CI job's timeout, ``kill``) while the ``kfp-tune`` command loads, or once it runs
but before a run answers it itself, ended the process with no line at all (exit 143), where a
Ctrl-C says ``interrupted`` (QA automation, session 37, finding 7): a CI log then showed nothing
of why the step ended. It now says ``interrupted (SIGTERM)`` and exits 143, as a Ctrl-C's line
and 130. The signal comes at a set point (an import hook, a command's start), not a set time."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

SIGTERM_WHILE_LOADING = textwrap.dedent("""
    import signal, sys

    class TermWhileLoading:
        def find_spec(self, name, path=None, target=None):
            if name == "kfp_tune.api":
                signal.raise_signal(signal.SIGTERM)
            return None

    sys.meta_path.insert(0, TermWhileLoading())
    sys.argv[0] = "/somewhere/bin/kfp-tune"
    from kfp_tune.cli import main
    sys.exit(main(["list"]))
""")

SIGTERM_ONCE_IT_RUNS = textwrap.dedent("""
    import signal, sys
    sys.argv[0] = "/somewhere/bin/kfp-tune"
    import kfp_tune.cli as cli

    def stopped_as_it_starts(args):
        signal.raise_signal(signal.SIGTERM)
        raise AssertionError("not stopped")

    cli.cmd_list = stopped_as_it_starts
    sys.exit(cli.main(["list", "--store", sys.argv[1]]))
""")


def _default_signals() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)


def test_sigterm_while_the_command_loads_says_so_and_exits_143() -> None:
    done = subprocess.run([sys.executable, "-c", SIGTERM_WHILE_LOADING], capture_output=True, text=True, timeout=120, preexec_fn=_default_signals)
    assert (done.returncode, done.stderr) == (143, "interrupted (SIGTERM)\n"), done.stderr[-2000:]
    assert done.stdout == ""


def test_sigterm_once_the_command_runs_says_so_and_exits_143(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", SIGTERM_ONCE_IT_RUNS, str(tmp_path)], capture_output=True, text=True, timeout=120,
                          preexec_fn=_default_signals)
    assert (done.returncode, done.stderr) == (143, "interrupted (SIGTERM)\n"), done.stderr[-2000:]


def test_a_library_user_s_process_keeps_its_sigterm() -> None:
    check = "import signal, kfp_tune; print(signal.getsignal(signal.SIGTERM) == signal.SIG_DFL)"
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120, preexec_fn=_default_signals)
    assert done.stdout.strip() == "True", done.stderr[-2000:]
