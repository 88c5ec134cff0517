"""A function trial's flush reaches the real stream: while trials run, ``sys.stdout`` and
``sys.stderr`` stand in for the streams that were there (to keep each trial's prints), and a
notebook or a pipe behind them shows what was printed only once it is flushed. Fails with the
stand-in's flush doing nothing (a mutant of launchers/function.py nothing caught)."""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest

from kfp_tune.core.interfaces import TrialRun
from kfp_tune.core.space import Parameter, SearchSpace
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.launchers.function import FunctionLauncher, captured_output


class Counted(io.StringIO):
    """A stream that counts its flushes, with what it held at each."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[str] = []

    def flush(self) -> None:
        self.flushed.append(self.getvalue())
        super().flush()


@pytest.mark.parametrize("name", ["stdout", "stderr"])
def test_a_flush_inside_captured_output_flushes_the_stream_behind_it(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    inner = Counted()
    monkeypatch.setattr(sys, name, inner)
    with captured_output() as buffer:
        stream = getattr(sys, name)
        assert stream is not inner  # the stand-in, keeping this thread's prints
        stream.write("epoch 1\n")
        stream.flush()
    assert inner.flushed == ["epoch 1\n"] and buffer.getvalue() == "epoch 1\n"
    assert getattr(sys, name) is inner


def test_a_trial_printing_with_flush_flushes_the_real_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    inner = Counted()
    monkeypatch.setattr(sys, "stdout", inner)

    def objective(params: dict[str, Any]) -> None:
        print("loss=0.25", flush=True)

    trial = TrialRun(experiment="exp", trial="exp-t1", manifest={}, assignment={"x": "0.25"}, primary_container="main")
    outcome = FunctionLauncher(objective, SearchSpace((Parameter("x", "double", low=0.0, high=1.0),)), "loss").run(trial)
    assert outcome.phase == LaunchPhase.SUCCEEDED and outcome.logs == {"main": "loss=0.25\n"}
    assert inner.flushed == ["loss=0.25\n"]
