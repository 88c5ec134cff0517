"""What FunctionLauncher keeps of a trial's prints at the edges: a trial that printed and then
returned something that is not a result keeps its prints as its log; a last line printed
without a newline does not run into the traceback; the objective still sees the real stream
(its encoding, ``isatty``) and, where there is none (``pythonw``), printing and flushing work."""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest

from kfp_tune.core.interfaces import TrialRun
from kfp_tune.core.space import Parameter, SearchSpace
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.launchers.function import FunctionLauncher

SPACE = SearchSpace((Parameter("x", "double", low=0.0, high=1.0),))


def run(objective: Any) -> Any:
    trial = TrialRun(experiment="exp", trial="exp-t1", manifest={}, assignment={"x": "0.25"}, primary_container="main")
    return FunctionLauncher(objective, SPACE, "loss").run(trial)


def test_a_result_that_is_not_one_keeps_what_was_printed_as_the_log() -> None:
    outcome = run(lambda params: print("epoch 1 done") or "0.5")
    assert (outcome.phase, outcome.reason) == (LaunchPhase.FAILED, "InvalidResult")
    assert outcome.logs == {"main": "epoch 1 done\n"}
    assert run(lambda params: "0.5").logs == {}, "nothing printed: no log"


def test_a_trial_that_returned_nothing_and_printed_nothing_is_told_how_to_report() -> None:
    outcome = run(lambda params: None)
    assert (outcome.phase, outcome.reason, outcome.pushed) == (LaunchPhase.SUCCEEDED, "", []), "a container that exits 0: MetricsUnavailable"
    assert '(print(f"loss={value}")); no output was read from its thread: what is read is what that thread prints' in outcome.message
    assert outcome.message.endswith("return the metrics, or report them with kfp_tune.report_metrics"), outcome.message
    assert "it printed" not in outcome.message, "nothing was printed: no 'it printed' part"


def test_a_last_line_without_a_newline_stays_apart_from_the_traceback() -> None:
    def crashes(params: dict[str, Any]) -> None:
        print("loss=0.5 partial", end="")
        raise RuntimeError("diverged")

    log = run(crashes).logs["main"]
    assert log.startswith("loss=0.5 partial\nTraceback (most recent call last)"), log


def test_a_result_after_a_print_without_a_newline_is_on_its_own_line() -> None:
    assert run(lambda params: print("epoch 3", end="") or 0.25).logs == {"main": "epoch 3\nloss=0.25\n"}


class Terminal(io.StringIO):
    """A stream that says it is a terminal, with an encoding of its own."""

    encoding = "iso-8859-15"

    def isatty(self) -> bool:
        return True


def test_the_objective_sees_the_real_streams_attributes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", Terminal())
    seen: dict[str, Any] = {}

    def objective(params: dict[str, Any]) -> float:
        seen.update(encoding=sys.stdout.encoding, tty=sys.stdout.isatty())
        return 0.5

    assert run(objective).phase == LaunchPhase.SUCCEEDED
    assert seen == {"encoding": "iso-8859-15", "tty": True}


def test_without_a_stream_printing_and_flushing_still_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", None)

    def objective(params: dict[str, Any]) -> None:
        print("loss=0.125", flush=True)

    outcome = run(objective)
    assert outcome.phase == LaunchPhase.SUCCEEDED, outcome.message
    assert outcome.logs == {"main": "loss=0.125\n"}
