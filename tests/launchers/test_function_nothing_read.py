"""A function trial that returned nothing and from which no metric line was read: its message
says what is read (its own thread's prints, and logging handlers on stdout / stderr) and what is
not (a QueueHandler's listener, handlers another thread adds, ...), never that the function
"wrote nothing", which a line on the screen right after contradicts. A handler made while trials
run gets its real stream back when the last one ends, and one added by a trial that has ended
is read for the trials still running."""

from __future__ import annotations

import io
import logging
import logging.handlers
import queue
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from kfp_tune.core.interfaces import LaunchOutcome, TrialRun
from kfp_tune.core.space import Parameter, SearchSpace
from kfp_tune.launchers.function import FunctionLauncher

SPACE = SearchSpace((Parameter("x", "double", low=0.0, high=1.0),))


def trial(name: str, x: str = "0.5") -> TrialRun:
    return TrialRun(experiment="exp", trial=name, manifest={}, assignment={"x": x}, primary_container="main")


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    """A logger of the user's, at INFO, not propagating; its handlers removed after the test."""
    made = logging.getLogger("kfp_tune_tests.nothing_read")
    made.setLevel(logging.INFO)
    made.propagate = False
    try:
        yield made
    finally:
        for handler in made.handlers[:]:
            made.removeHandler(handler)
        made.setLevel(logging.NOTSET)
        made.propagate = True


def test_a_metric_logged_through_a_queue_handler_is_not_said_to_be_unwritten(logger: logging.Logger, monkeypatch: pytest.MonkeyPatch) -> None:
    """Python 3.12's dictConfig queue_handler set-up: the QueueListener's thread writes the line."""
    screen = io.StringIO()
    monkeypatch.setattr(sys, "stderr", screen)
    lines: queue.Queue[logging.LogRecord] = queue.Queue()
    logger.addHandler(logging.handlers.QueueHandler(lines))
    listener = logging.handlers.QueueListener(lines, logging.StreamHandler(screen))
    listener.start()
    try:
        outcome = FunctionLauncher(lambda params: logger.info("loss=%s", params["x"]), SPACE, "loss").run(trial("exp-q"))
    finally:
        listener.stop()
    assert "loss=0.5" in screen.getvalue(), "the line reached the screen, from the listener's thread"
    message = outcome.message
    assert "wrote nothing" not in message and "printed nothing" not in message, message
    assert "no output was read from its thread" in message, message
    for not_read in ("QueueHandler", "another thread adds", "threads it starts", "subprocesses", "C code"):
        assert not_read in message, (not_read, message)
    assert message.endswith("return the metrics, or report them with kfp_tune.report_metrics"), message


def test_a_function_that_printed_only_blank_lines_is_told_so() -> None:
    outcome = FunctionLauncher(lambda params: print("\n  \n"), SPACE, "loss").run(trial("exp-b"))
    assert outcome.message.endswith("; it printed only blank lines"), outcome.message


def test_a_handler_made_while_a_trial_runs_gets_its_real_stream_back(logger: logging.Logger, monkeypatch: pytest.MonkeyPatch) -> None:
    """Katib's notebook without the local run: the objective calls basicConfig (here on a logger
    of its own), so the handler is made on the stand-in sys.stderr of that moment."""
    screen = io.StringIO()
    monkeypatch.setattr(sys, "stderr", screen)
    made: list[logging.Handler] = []

    def objective(params: dict[str, Any]) -> None:
        made.append(logging.StreamHandler())
        logger.addHandler(made[0])
        logger.info("loss=%s", params["x"])

    outcome = FunctionLauncher(objective, SPACE, "loss").run(trial("exp-m"))
    assert [m.value for m in outcome.pushed] == [0.5] or "loss=0.5" in outcome.logs.get("main", ""), outcome
    (handler,) = made
    assert isinstance(handler, logging.StreamHandler) and handler.stream is screen, "the real stream, not kfp-tune's stand-in"
    assert sys.stderr is screen
    logger.info("after")
    assert screen.getvalue().count("loss=0.5") == 1 and screen.getvalue().endswith("after\n")


def test_a_handler_added_by_a_trial_that_ended_is_read_for_a_trial_still_running(logger: logging.Logger, monkeypatch: pytest.MonkeyPatch) -> None:
    """Trial a adds a handler on the process's stderr (not the stand-in) and ends while trial b
    runs: b's lines through it are b's output (re-read as a trial ends, not only as one starts)."""
    screen = io.StringIO()
    monkeypatch.setattr(sys, "stderr", screen)
    b_started, a_ended = threading.Event(), threading.Event()
    outcomes: dict[str, LaunchOutcome] = {}

    def objective(params: dict[str, Any]) -> None:
        if params["x"] == 0.25:  # trial a
            assert b_started.wait(60)
            logger.addHandler(logging.StreamHandler(screen))
            print("loss=0.25")
        else:  # trial b
            b_started.set()
            assert a_ended.wait(60)
            logger.info("loss=%s", params["x"])

    launcher = FunctionLauncher(objective, SPACE, "loss")
    b = threading.Thread(target=lambda: outcomes.__setitem__("b", launcher.run(trial("exp-b", "0.75"))))
    b.start()
    outcomes["a"] = launcher.run(trial("exp-a", "0.25"))
    a_ended.set()
    b.join(60)
    assert "loss=0.75" in outcomes["b"].logs.get("main", ""), outcomes["b"]
    assert outcomes["b"].message == "", outcomes["b"].message
    (handler,) = [h for h in logger.handlers if type(h) is logging.StreamHandler]
    assert handler.stream is screen, "given back once no trial runs"
