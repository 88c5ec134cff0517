"""Progress where stderr is no terminal (``kfp-tune run ... 2>file``, nohup, CI): tqdm turns its
bar off there, so a run said nothing until it ended; it prints plain lines instead."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.core.records import TrialResult
from kfp_tune.core.state import TrialState
from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.progress import PlainProgress

KFP_TUNE = str(Path(sys.executable).parent / "kfp-tune")


def _ended(name: str, status: TrialStatus, loss: float | None, reason: str = "", message: str = "") -> TrialState:
    metrics = {} if loss is None else {"loss": loss}
    return TrialState(name, 0, "r0", {}, "", result=TrialResult(trial=name, status=status, metrics=metrics, reason=reason, message=message))


def test_a_line_per_ended_trial_and_fast_ones_together() -> None:
    now = [0.0]
    lines: list[str] = []
    progress = PlainProgress("loss", lines.append, every=5.0, clock=lambda: now[0])
    a, c = _ended("q-a", TrialStatus.SUCCEEDED, 0.5), _ended("q-c", TrialStatus.SUCCEEDED, 0.25)
    b = _ended("q-b", TrialStatus.FAILED, None, "Error", "exit code 1:\nValueError: boom")
    progress.update(0, {"best": {}, "total": 3, "ended": [], "running": 2})
    assert lines == []
    progress.update(1, {"best": {"loss": 0.5}, "total": 3, "ended": [a], "running": 2})
    assert lines == ["trial q-a Succeeded loss=0.5 (1/3 done, 2 running, best loss=0.5)"]
    now[0] = 1.0  # within 5 s of the last line: kept, then told together
    progress.update(3, {"best": {"loss": 0.25}, "total": 3, "ended": [a, b, c], "running": 0})
    assert len(lines) == 1
    now[0] = 6.0
    progress.update(3, {"best": {"loss": 0.25}, "total": 3, "ended": [a, b, c], "running": 0})
    assert lines[1:] == [  # the failed one's reason and message, on one line, then the count
        "trial q-b Failed (Error: exit code 1: ValueError: boom)",
        "2 trials ended (1 Failed, 1 Succeeded): q-b, q-c (3/3 done, 0 running, best loss=0.25)",
    ]
    progress.flush()  # nothing left to tell
    assert len(lines) == 3


def test_the_bar_s_notes_tell_each_trial_that_did_not_succeed_once_with_why() -> None:
    """Above a terminal's bar (tqdm.write), where a run said nothing of a failure until its end."""
    from kfp_tune.progress import FailureNotes

    lines: list[str] = []
    notes = FailureNotes("loss", lines.append)
    ok = _ended("q-a", TrialStatus.SUCCEEDED, 0.5)
    stopped = _ended("q-s", TrialStatus.EARLY_STOPPED, 0.9, "TrialEarlyStopped", "worse than the median")
    unavailable = _ended("q-m", TrialStatus.METRICS_UNAVAILABLE, None, "MetricsUnavailable", "the trial did not report the objective metric 'scor'")
    notes.update(1, {"best": {}, "ended": [ok, stopped, unavailable]})
    notes.update(2, {"best": {}, "ended": [ok, stopped, unavailable, _ended("q-b", TrialStatus.FAILED, None, "Error", "exit code 1: boom")]})
    assert lines == [
        "trial q-m MetricsUnavailable (MetricsUnavailable: the trial did not report the objective metric 'scor')",
        "trial q-b Failed (Error: exit code 1: boom)",
    ]


def test_a_run_s_plain_lines_say_why_each_trial_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """QA's e_mu.yaml: a misspelt objective, so the trials end MetricsUnavailable, and one fails.
    The plain lines gave counts only (``4 trials ended (3 Succeeded, 1 Failed): ..., and 1
    more``) and the end summary only the last failed trial's reason: no line said what the
    MetricsUnavailable trials lacked."""
    from mode_trials import modes_experiment

    from kfp_tune.cli import main

    doc = modes_experiment(**{"spec.objective.objectiveMetricName": "los", "spec.parallelTrialCount": 3})
    path = tmp_path / "mu.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "store")]) == 1  # 3 failed: maxFailedTrialCount
    err = capsys.readouterr().err
    told = [line for line in err.splitlines() if line.startswith("trial ") and "MetricsUnavailable" in line]
    assert len(told) == 2, err  # ok and silent: neither reported 'los'
    assert all("did not report the objective metric 'los'" in line for line in told), err
    assert any(line.startswith("trial ") and " Failed (" in line and "something went wrong" in line for line in err.splitlines()), err


@pytest.mark.parametrize("engine", ["inline", "kfp-local"])
def test_a_run_whose_stderr_is_a_file_prints_progress_lines(tmp_path: Path, engine: str) -> None:
    path = tmp_path / "quad.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 3, "spec.parallelTrialCount": 1})))
    with open(tmp_path / "err.txt", "w") as err:
        result = subprocess.run([KFP_TUNE, "run", str(path), "--engine", engine, "--store", str(tmp_path / "store")],
                                stdout=subprocess.PIPE, stderr=err, text=True, timeout=300)
    assert result.returncode == 0, (tmp_path / "err.txt").read_text()
    lines = (tmp_path / "err.txt").read_text().splitlines()
    line = re.compile(r"^(trial quad-\w+ Succeeded loss=\S+, accuracy=\S+|\d trials ended \(\d Succeeded\): .+) \((\d)/3 done, \d running, best loss=\S+\)$")
    told = [m for m in map(line.match, lines) if m]
    assert told and told[-1].group(2) == "3", lines


WAITING_TRIAL = """\
import os, sys, time
folder = sys.argv[1]
open(os.path.join(folder, str(os.getpid()) + ".started"), "w").close()
time.sleep(600)
"""


def _default_signals() -> None:
    """SIGINT as a terminal's shell leaves it (a suite started in the background ignores it)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@pytest.mark.long
@pytest.mark.parametrize("engine", ["inline", pytest.param("kfp-local", marks=pytest.mark.kfp_local)])
def test_ctrl_c_is_answered_with_the_same_plain_line_by_both_engines(tmp_path, engine):
    """The inline engine's slots logged it (``WARNING kfp_tune.steps.slots: SIGINT: ...``) where
    kfp-local's parent printed a line of other words: one notice (``steps.slots.stop_notice``),
    a plain line on both."""
    import os
    import signal
    import time

    from kfp_tune.steps.slots import stop_notice

    (tmp_path / "waiting.py").write_text(WAITING_TRIAL)
    doc = quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1})
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["command"], container["args"] = ["python3", str(tmp_path / "waiting.py")], [str(tmp_path)]
    container["env"] = [{"name": "X", "value": "${trialParameters.x}"}, {"name": "Y", "value": "${trialParameters.y}"}]  # each parameter used
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump(doc))
    child = subprocess.Popen(
        [sys.executable, "-m", "kfp_tune.cli", "run", str(tmp_path / "exp.yaml"), "--engine", engine, "--store", str(tmp_path / "store")],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=_default_signals,
    )
    deadline = time.monotonic() + 180
    while not list(tmp_path.glob("*.started")):
        assert child.poll() is None, child.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "no trial started"
        time.sleep(0.05)
    os.killpg(child.pid, signal.SIGINT)
    _, err = child.communicate(timeout=180)
    assert child.returncode == 130, err
    lines = err.splitlines()
    assert stop_notice("SIGINT", first=True) in lines, err
    assert "kfp_tune.steps.slots" not in err and "WARNING" not in err


def _run_on_a_terminal(argv: list[str], timeout: float = 300) -> tuple[int, str, str]:
    """``kfp-tune ARGV`` with stderr a pseudo-terminal, so tqdm shows its bar: the exit code,
    stdout, and what the terminal showed."""
    import os
    import pty
    import select
    import time

    leader, follower = pty.openpty()
    child = subprocess.Popen([KFP_TUNE, *argv], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower)
    os.close(follower)
    shown = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        elif child.poll() is not None:
            break
    os.close(leader)
    out = child.communicate(timeout=max(1.0, deadline - time.monotonic()))[0]
    return child.returncode, out.decode(), shown.decode(errors="replace")


def test_on_a_terminal_each_trial_that_did_not_succeed_is_told_once_above_the_bar(tmp_path: Path) -> None:
    """FailureNotes was not fed by the run: on a terminal the bar said nothing of a failure until
    the end summary, which names the last failed trial only."""
    from mode_trials import modes_experiment

    path = tmp_path / "modes.yaml"
    path.write_text(yaml.safe_dump(modes_experiment()))
    code, out, shown = _run_on_a_terminal(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "store"), "--json"])
    assert code == 0, shown
    summary = json.loads(out)  # the notes go to the terminal, with the bar: stdout is --json's alone
    assert (summary["failed"], summary["metrics_unavailable"]) == (1, 1), summary
    lines = [part for line in shown.splitlines() for part in line.split("\r")]
    failed = [line for line in lines if re.match(r"trial quad-\w+ Failed \(TrialFailed. Job reason: Error: Trial has failed. Job message: exit code 3: .*something went wrong", line)]
    unavailable = [line for line in lines if re.match(r"trial quad-\w+ MetricsUnavailable \(MetricsUnavailable: .*'loss'", line)]
    assert len(failed) == 1 and len(unavailable) == 1, shown
    assert not [line for line in lines if re.match(r"trial quad-\w+ Succeeded", line)], shown  # a success is the bar's news
