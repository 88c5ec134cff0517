"""What the local launcher does once a trial's main process has ended, and with what it printed:
what is left of its process group is ended (as a container's processes end with its main one),
and its stored log is bounded (head and tail, and every line that names a metric).

Trials say they are ready with files the test waits on; nothing here depends on timing."""

from __future__ import annotations

import shlex
import textwrap
from pathlib import Path
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune.collectors.stdout import parse_output
from kfp_tune.core.interfaces import TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.launchers import kept_log, local
from kfp_tune.launchers.local import LocalLauncher
from kfp_tune.steps import init_experiment
from processes import gone

UNREAD_PARAMETERS = [{"name": "X", "value": "${trialParameters.x}"}, {"name": "Y", "value": "${trialParameters.y}"}]
"""Every parameter reaches the trial, as Katib requires, in variables the trial does not read."""


def shell_trial(line: str) -> TrialRun:
    """A Job trial whose command is one shell line (Katib's StdOut collector runs it with sh -c)."""
    manifest = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "t"}, "spec": {"template": {"spec": {"containers": [{"name": "main", "command": [line]}]}}}}
    return TrialRun("e", "t", manifest, {}, "main", metrics_collector={"collector": {"kind": "StdOut"}})


# A background child that notes the signal it gets, then says it is ready (its pid).
NOTES_SIGTERM = textwrap.dedent("""
    import os, pathlib, signal, sys, time
    here = pathlib.Path(sys.argv[1])
    def on_term(*_):
        (here / "got-sigterm").write_text("yes")
        sys.exit(0)
    signal.signal(signal.SIGTERM, on_term)
    (here / "pid.tmp").write_text(str(os.getpid()))
    (here / "pid.tmp").replace(here / "pid")
    time.sleep(3600)
""")


def test_what_a_trial_left_running_in_the_background_ends_with_it(folder: Path) -> None:
    """The QA reproduction: ``sleep 301 & python3 train.py`` succeeded and left the sleep
    running, adopted by init, writing to the trial's unlinked output for ever."""
    line = f"sleep 301 & echo $! > {shlex.quote(str(folder / 'pid'))}; echo loss=0.5"
    outcome = LocalLauncher().run(shell_trial(line))
    assert outcome.phase == LaunchPhase.SUCCEEDED, outcome
    assert gone(int((folder / "pid").read_text()))


def test_a_leftover_gets_sigterm_first_so_it_can_save_its_work(folder: Path) -> None:
    script = folder / "child.py"
    script.write_text(NOTES_SIGTERM)
    ready = shlex.quote(str(folder / "pid"))
    line = f"python3 {shlex.quote(str(script))} {shlex.quote(str(folder))} & while [ ! -e {ready} ]; do sleep 0.01; done; echo loss=0.5"
    outcome = LocalLauncher().run(shell_trial(line))
    assert outcome.phase == LaunchPhase.SUCCEEDED, outcome
    assert gone(int((folder / "pid").read_text()))
    assert (folder / "got-sigterm").read_text() == "yes"


def test_a_trial_that_left_nothing_behind_is_sent_no_signal(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing left of the group: no signal, so no grace period to wait either."""
    sent: list[int] = []
    monkeypatch.setattr(local, "_signal_group", lambda process, signum: sent.append(signum))
    outcome = LocalLauncher().run(shell_trial("echo loss=0.5"))
    assert outcome.phase == LaunchPhase.SUCCEEDED, outcome
    assert sent == []


def stdout_experiment(local_store: Any, program: str) -> tuple[Experiment, TrialState]:
    """A StdOut experiment (objective ``loss``) whose trial runs ``program``, in the store."""
    command = ["python3", "-c", shlex.quote(program)]
    doc = quadratic_experiment(**{
        "spec.trialTemplate.trialSpec.spec.template.spec.containers": [{"name": "main", "env": UNREAD_PARAMETERS, "image": "python:3.11", "command": command}],
    })
    experiment = load_experiment(doc)
    init_experiment(ExperimentRecords(local_store, experiment.name), experiment)
    return experiment, TrialState(name="quad-t1", index=0, round="", assignment={"x": "0.5", "y": "0.5"}, created="")


# About 3 MB: a first line, filler with one report in it, a last report and a last line.
CHATTY = textwrap.dedent("""
    import sys
    filler = "y" * 99 + "\\n"
    sys.stdout.write("first line\\n" + filler * 15000 + "loss=0.25\\n" + filler * 15000 + "loss=0.5\\nlast line\\n")
""")


def test_a_long_log_is_stored_as_its_head_and_tail_and_every_report_in_between(local_store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kept_log, "LOG_HEAD_BYTES", 2000)
    monkeypatch.setattr(kept_log, "LOG_TAIL_BYTES", 5000)
    experiment, trial = stdout_experiment(local_store, CHATTY)
    outcome = LocalLauncher(env={"KFP_TUNE_STORE": local_store.uri}).run(trial_run(experiment, trial))
    assert outcome.phase == LaunchPhase.SUCCEEDED, outcome
    log = outcome.logs["main"]
    assert len(log.encode()) <= 2000 + 5000 + 200  # a note, and the one left-out line that names a metric
    assert log.startswith("first line\n")
    assert log.endswith("loss=0.5\nlast line\n")
    note = next(line for line in log.splitlines() if "left out" in line)
    printed = len("first line\n") + 100 * 30000 + len("loss=0.25\nloss=0.5\nlast line\n")
    assert note.startswith(f"[{printed - len(log.encode()) + len(note) + 1} bytes ")
    assert [m.value for m in parse_output(experiment, log) if m.name == "loss"] == [0.25, 0.5]
