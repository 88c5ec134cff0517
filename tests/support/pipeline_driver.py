"""A stand-in for the Python process that runs a pipeline under kfp.local: a real process with a
real step child, whose command line names ``kfp.dsl.executor_main`` as kfp.local's steps' do."""

from __future__ import annotations

import subprocess
import sys

STEP = [
    sys.executable, "-c", "import os, sys, time\nwhile os.getppid() == int(sys.argv[-1]):\n    time.sleep(0.2)\n",
    "--", "kfp.dsl.executor_main",
]
"""A step as kfp.local starts it (its command line names the executor); it ends once its parent,
whose pid the driver gives it last, has (even one that ended before the step read its parent)."""
DRIVER = (
    "import os, subprocess, sys, time\nstep = subprocess.Popen([*sys.argv[1:], str(os.getpid())])\nprint(step.pid, flush=True)\n"
    "sys.stdin.readline()\nstep.kill()\nstep.wait()\nprint('idle', flush=True)\ntime.sleep(600)\n"
)
"""It runs one step, then, told to, ends it and lives on idle (a kernel after its run failed)."""


class PipelineDriver:
    """The driver process, its step's pid, and its identity as a claim records it."""

    def __init__(self) -> None:
        from kfp_tune.core import claims

        self.process = subprocess.Popen([sys.executable, "-c", DRIVER, *STEP], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.pid = self.process.pid
        self.step = int(self.process.stdout.readline())
        self.identity = claims.process_identity(self.pid)

    def step_ends(self) -> None:
        """The run failed (or was interrupted) in its step; the process lives on."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == "idle"

    def end(self) -> None:
        self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
