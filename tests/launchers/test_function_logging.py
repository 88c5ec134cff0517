"""What a function trial logs through a ``logging`` handler made before the trial ran (Katib's
tune-train-from-func notebook calls ``logging.basicConfig`` in the function, and runs it once
locally before ``tune()``): the handler holds the stream of that moment, not the trial's
capture, yet the lines are the trial's output, as a container's stdout and stderr are, for
Katib's StdOut collector. Each trial sees only its own thread's lines; the screen shows each
line once; the handler is left as it was once no trial runs."""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from kfp_tune.core.interfaces import LaunchOutcome, TrialRun
from kfp_tune.core.space import Parameter, SearchSpace
from kfp_tune.launchers.function import FunctionLauncher

SPACE = SearchSpace((Parameter("x", "double", low=0.0, high=1.0),))
FORMAT = "%(levelname)s %(message)s"


def trial(name: str, x: str) -> TrialRun:
    return TrialRun(experiment="exp", trial=name, manifest={}, assignment={"x": x}, primary_container="main")


@pytest.fixture
def screen() -> io.StringIO:
    """The notebook's stderr, as it is when the handler is made (made sys.stderr in the test's
    own phase: pytest sets its capture again between a fixture's set-up and the test)."""
    return io.StringIO()


@pytest.fixture
def notebook_logger() -> Iterator[logging.Logger]:
    """The notebook's logger, at INFO; its handlers removed after the test."""
    logger = logging.getLogger("kfp_tune_tests.notebook")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield logger
    finally:
        for handler in logger.handlers[:]:
            logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
        logger.propagate = True


def made_before(logger: logging.Logger, screen: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> logging.StreamHandler[Any]:
    """The notebook's earlier cell: sys.stderr is the screen, and basicConfig's handler is made on it."""
    monkeypatch.setattr(sys, "stderr", screen)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    logger.addHandler(handler)
    return handler


def test_a_handler_made_before_the_trial_is_its_output_each_line_once_on_screen(notebook_logger: logging.Logger, screen: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    made_before(notebook_logger, screen, monkeypatch)
    def objective(params: dict[str, Any]) -> None:
        notebook_logger.info("Epoch 1/1. loss=%s", params["x"])

    outcome = FunctionLauncher(objective, SPACE, "loss").run(trial("exp-a", "0.25"))
    assert [(m.name, m.value) for m in outcome.pushed] == [("loss", 0.25)], outcome.message
    assert outcome.logs == {"main": "INFO Epoch 1/1. loss=0.25\n"}
    assert screen.getvalue() == "INFO Epoch 1/1. loss=0.25\n", "shown once, as before"


def test_parallel_trials_each_get_their_own_logged_lines(notebook_logger: logging.Logger, screen: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    made_before(notebook_logger, screen, monkeypatch)
    both_logged_once = threading.Barrier(2, timeout=60)  # both trials run at once: each logs, waits for the other, logs again

    def objective(params: dict[str, Any]) -> None:
        notebook_logger.info("loss=%s", params["x"])
        both_logged_once.wait()
        notebook_logger.info("loss=%s", params["x"])

    launcher = FunctionLauncher(objective, SPACE, "loss")
    outcomes: dict[str, LaunchOutcome] = {}
    threads = [threading.Thread(target=lambda n=name, x=x: outcomes.__setitem__(n, launcher.run(trial(n, x))))
               for name, x in (("exp-a", "0.25"), ("exp-b", "0.75"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {name: [m.value for m in o.pushed] for name, o in outcomes.items()} == {"exp-a": [0.25, 0.25], "exp-b": [0.75, 0.75]}
    assert outcomes["exp-a"].logs == {"main": "INFO loss=0.25\nINFO loss=0.25\n"}
    assert outcomes["exp-b"].logs == {"main": "INFO loss=0.75\nINFO loss=0.75\n"}
    assert sorted(screen.getvalue().splitlines()) == ["INFO loss=0.25"] * 2 + ["INFO loss=0.75"] * 2


def test_the_handler_is_left_as_it_was_once_no_trial_runs(notebook_logger: logging.Logger, screen: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    handler = made_before(notebook_logger, screen, monkeypatch)
    formatter, filters, level, root = handler.formatter, handler.filters[:], handler.level, logging.root.handlers[:]
    seen: list[object] = []

    def objective(params: dict[str, Any]) -> float:
        seen.extend([handler.stream, sys.stderr])
        notebook_logger.info("working")
        return 0.5

    FunctionLauncher(objective, SPACE, "loss").run(trial("exp-a", "0.25"))
    assert seen[0] is seen[1] is not screen, "during the trial: the stand-in it shares with sys.stderr"
    assert handler.stream is screen and sys.stderr is screen
    assert (handler.formatter, handler.filters, handler.level, logging.root.handlers) == (formatter, filters, level, root)
    notebook_logger.info("after")
    assert screen.getvalue() == "INFO working\nINFO after\n"


def test_a_handler_on_the_process_stderr_counts_too(monkeypatch: pytest.MonkeyPatch, screen: io.StringIO) -> None:
    """A handler on ``sys.__stderr__`` (the kernel's own stderr, beside a notebook's) writes to
    what a container's log holds."""
    monkeypatch.setattr(sys, "stderr", screen)
    process_stderr = io.StringIO()
    monkeypatch.setattr(sys, "__stderr__", process_stderr)
    logger = logging.getLogger("kfp_tune_tests.process")
    handler = logging.StreamHandler(sys.__stderr__)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        outcome = FunctionLauncher(lambda p: logger.info("loss=%s", p["x"]), SPACE, "loss").run(trial("exp-a", "0.5"))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
        logger.propagate = True
    assert [m.value for m in outcome.pushed] == [0.5], outcome.message
    assert handler.stream is process_stderr and process_stderr.getvalue() == "loss=0.5\n" and screen.getvalue() == ""


def test_a_handler_on_another_stream_is_not_the_trials_output(screen: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", screen)
    elsewhere = io.StringIO()
    logger = logging.getLogger("kfp_tune_tests.elsewhere")
    handler = logging.StreamHandler(elsewhere)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        outcome = FunctionLauncher(lambda p: logger.info("loss=%s", p["x"]), SPACE, "loss").run(trial("exp-a", "0.5"))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
        logger.propagate = True
    assert outcome.pushed == [] and outcome.logs == {} and handler.stream is elsewhere
    assert elsewhere.getvalue() == "loss=0.5\n"
