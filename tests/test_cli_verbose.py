"""``kfp-tune -v run``: the steps' log lines reach the terminal with either engine, written above
the progress bar, never onto its line; kfp.local's own output stays in its log, which -v keeps
and names. (Before, -v and -vv changed nothing under kfp-local: every step's line went to a log
removed when the run succeeded.)"""

from __future__ import annotations

import fcntl
import logging
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import yaml

from conftest import quadratic_experiment

KFP_TUNE = str(Path(sys.executable).parent / "kfp-tune")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _experiment(tmp_path: Path) -> str:
    path = tmp_path / "quad.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 3, "spec.parallelTrialCount": 1})))
    return str(path)


def _run(tmp_path: Path, *flags: str, store: str = "store") -> tuple[int, str]:
    with open(tmp_path / "err.txt", "w") as err:
        result = subprocess.run([KFP_TUNE, *flags, "run", _experiment(tmp_path), "--engine", "kfp-local", "--store", str(tmp_path / store)],
                                stdout=subprocess.PIPE, stderr=err, text=True, timeout=300)
    return result.returncode, (tmp_path / "err.txt").read_text()


def test_verbose_kfp_local_run_shows_the_steps_lines_and_keeps_its_log(tmp_path: Path) -> None:
    code, err = _run(tmp_path, "-v")
    assert code == 0, err
    lines = err.splitlines()
    ran = [line for line in lines if re.match(r"^INFO step launch-trial: trial quad-\w+", line)]
    assert len({line.split()[4].rstrip(":") for line in ran}) == 3, err  # each of the 3 trials, from the step that ran it
    assert any(line.startswith("INFO step decide-stop") for line in lines), err
    assert not any(noise in err for noise in ("KFP Executor", "Executing task", "executor_input", "Streamed logs")), err
    told = re.search(r"kfp\.local's whole log: (\S+) \(kept after the run", err)
    assert told, err
    log = Path(told.group(1))
    assert log.is_file() and list(log.parent.iterdir()) == [log], "the log stays, the rest of the scratch folder goes"
    text = log.read_text()
    assert "Executing task" in text  # kfp.local's own lines are in the log
    assert "RuntimeWarning" not in text and "have no effect in the current local runner" not in text, text[:2000]
    log.unlink()
    log.parent.rmdir()

    code, quiet = _run(tmp_path, store="store2")  # without -v: as quiet as before, nothing kept
    assert code == 0, quiet
    assert "INFO" not in quiet and "whole log" not in quiet


def test_a_step_s_traceback_goes_with_the_executor_line_before_it() -> None:
    """-v shows a step's error whole: the indented lines after a KFP executor line (a traceback's
    frames, a step's plain print) go on that step's record at its level, until kfp.local's own
    next line; those after the executor's own noise, and kfp.local's lines, are left out."""
    from kfp_tune.pipelines.local_run import StepLines

    log = [
        "Executing task 'launch-trial'",
        "    [KFP Executor 2025-01-01 10:00:00,000 INFO]: Looking for component `launch_trial` in --component_module_path",
        "    executor input that follows the noise",
        "    [KFP Executor 2025-01-01 10:00:01,000 ERROR]: trial quad-1 failed",
        "    Traceback (most recent call last):",
        '      File "train.py", line 3, in <module>',
        "    ValueError: boom",
        "Task 'launch-trial' finished with status FAILURE",
        "    an indented line kfp.local wrote after its own",
    ]
    lines = StepLines()
    shown = [lines.feed(line + "\n") for line in log]
    assert shown == [
        None, None, None,
        (logging.ERROR, "launch-trial", "trial quad-1 failed"),
        (logging.ERROR, "launch-trial", "Traceback (most recent call last):"),
        (logging.ERROR, "launch-trial", '  File "train.py", line 3, in <module>'),
        (logging.ERROR, "launch-trial", "ValueError: boom"),
        None, None,
    ]


def test_local_run_as_a_program_gives_no_runpy_warning(tmp_path: Path) -> None:
    """kfp_tune.pipelines imported local_run, so ``python -m kfp_tune.pipelines.local_run`` began
    every kfp.local log with runpy's 'found in sys.modules' RuntimeWarning."""
    result = subprocess.run([sys.executable, "-W", "always", "-m", "kfp_tune.pipelines.local_run"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode != 0  # no arguments: refused; what matters is what came before
    assert "RuntimeWarning" not in result.stderr and "found in sys.modules" not in result.stderr, result.stderr


def test_only_kfp_locals_display_name_notice_is_silenced() -> None:
    """The UI's names and each step's own CPU and memory requests (every step has them) are for a
    cluster; a limit, which changes what a run gets, is still told."""
    import warnings

    from kfp_tune.pipelines.local_run import quiet_display_name_notices

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet_display_name_notices()
        for settings in ("['display_name']", "['display_name', 'cpu_request', 'memory_request']", "['memory_request']",
                         "['display_name', 'cpu_limit']", "['cpu_request', 'memory_limit']"):
            warnings.warn_explicit(f"Task 'suggest': settings {settings} have no effect in the current local runner and will be ignored.",
                                   UserWarning, "task_executor.py", 100, module="kfp.local.orchestrator.task_executor")
    assert [str(w.message) for w in caught] == [
        "Task 'suggest': settings ['display_name', 'cpu_limit'] have no effect in the current local runner and will be ignored.",
        "Task 'suggest': settings ['cpu_request', 'memory_limit'] have no effect in the current local runner and will be ignored.",
    ]


def test_verbose_lines_are_written_above_the_progress_bar_not_on_it(tmp_path: Path) -> None:
    """On a terminal a log line landed on the bar's line ('| 0/3 [00:00<?, ?trial/s]INFO kfp_tune...')."""
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a terminal 120 columns wide
    child = subprocess.Popen([KFP_TUNE, "-v", "run", _experiment(tmp_path), "--engine", "inline", "--store", str(tmp_path / "store")],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=secondary)
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal's other end closed: the run ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    assert child.wait(timeout=300) == 0
    screen = ANSI.sub("", b"".join(chunks).decode(errors="replace"))
    assert "trial/s" in screen, screen  # the bar showed
    logged = [line for line in screen.split("\n") if "INFO kfp_tune" in line]
    assert logged, screen
    for line in logged:
        assert line.rstrip("\r").split("\r")[-1].startswith("INFO kfp_tune"), repr(line)  # the terminal ends lines with \r\n
