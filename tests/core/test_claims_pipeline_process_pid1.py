"""A kfp.local pipeline's Python that is PID 1 of its namespace (``docker run IMAGE python
pipeline.py``, a Kubernetes Job or CI pod, ``unshare``) was never found: the ancestor walk stopped
at pid 1, so its steps recorded no driver and a second run still took the experiment over during
a step of the user's own longer than the grace (review A of session 37, finding 3). PID 1 is now
taken when it is a Python process and the direct parent of the step's outermost wrapper."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from kfp_tune.core import claims

EXECUTOR = claims.KFP_EXECUTOR_MODULE


def _fake_tree(monkeypatch: pytest.MonkeyPatch, top_is_python: bool) -> None:
    """This process (30) a step; its wrapper (20) a shell naming the executor; the wrapper's parent pid 1."""
    commands = {30: f"python -m {EXECUTOR} --executor_input {{}}", 20: f"sh -ec ... python -m {EXECUTOR}", 1: "python pipeline.py"}
    monkeypatch.setattr(claims, "_pid_space", lambda: ("boot", "4026531836"))
    monkeypatch.setattr(claims.os, "getpid", lambda: 30)
    monkeypatch.setattr(claims.os, "getppid", lambda: 20)
    monkeypatch.setattr(claims, "_command_line", lambda pid: commands.get(pid, ""))
    monkeypatch.setattr(claims, "_parent", lambda pid: {30: 20, 20: 1, 1: 0}.get(pid, 0))
    monkeypatch.setattr(claims, "_runs_python", lambda pid: pid == 1 and top_is_python)
    monkeypatch.setattr(claims, "process_identity", lambda pid: f"host/{pid}")


def test_a_pipelines_python_that_is_pid_1_is_found(monkeypatch):
    _fake_tree(monkeypatch, top_is_python=True)
    assert claims.pipeline_process.__wrapped__() == "host/1"


def test_a_pid_1_that_is_no_python_is_not_taken_for_it(monkeypatch):
    """An init (tini, systemd, a shell) that adopted the step's wrappers is no pipeline's process."""
    _fake_tree(monkeypatch, top_is_python=False)
    assert claims.pipeline_process.__wrapped__() == ""


SHOW = "from kfp_tune.core import claims; print(claims.pipeline_process())"
DRIVER = (  # its own command line must not name the executor (it would be taken for a wrapper): the step's comes from MARK
    "import os, subprocess, sys\nmark = os.environ['MARK']\n"
    f"subprocess.run(['sh', '-ec', '\"$@\"\\ntrue', mark, sys.executable, '-c', {SHOW!r}, mark], check=True)\n"
)


def test_in_a_pid_namespace_of_its_own_the_steps_find_the_pipelines_python_as_pid_1():
    """As ``unshare -fp --mount-proc python pipeline.py`` (or a container) runs it, where this
    machine allows a PID namespace (as root, or in a user namespace)."""
    for prefix in (["unshare", "-fp", "--mount-proc"], ["unshare", "-Urfp", "--mount-proc"]):
        try:
            done = subprocess.run([*prefix, sys.executable, "-c", DRIVER], capture_output=True, text=True, timeout=120, env={**os.environ, "MARK": EXECUTOR})
        except FileNotFoundError:
            pytest.skip("no unshare here")
        if done.returncode == 0:
            break
    else:
        pytest.skip(f"no PID namespace of its own here: {done.stderr.strip()[-300:]}")
    assert done.stdout.strip().startswith(f"{socket.gethostname()}/1 boot="), done.stdout + done.stderr
