"""Early stopping follows a StdOut trial's output as it grows: the local launcher hands the stop
test each printed byte once (what came since its last look), not the whole output at every look,
and the metrics read piece by piece are those read from the whole."""

from __future__ import annotations

import random
import shlex
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune.collectors.running import RunningMetrics, StopTest
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.launchers import local
from kfp_tune.launchers.local import LocalLauncher
from kfp_tune.steps import init_experiment

UNREAD_PARAMETERS = [{"name": "X", "value": "${trialParameters.x}"}, {"name": "Y", "value": "${trialParameters.y}"}]
"""Every parameter reaches the trial, as Katib requires, in variables the trial does not read."""


class Never:
    """An early stopping rule that never stops a trial."""

    def should_stop(self, objective_type: str, completed: Sequence[Sequence[float]], current: Sequence[float]) -> bool:
        return False


class Counting(StopTest):
    """The stop test, counting the characters it is handed, and saying (a file per line) how
    many whole lines it has seen, for the trial to print its next one."""

    def __init__(self, running: RunningMetrics, folder: Path):
        super().__init__(running, Never(), [[0.5]])
        self.folder, self.handed, self.text = folder, 0, ""

    def _saw(self, text: str) -> None:
        self.handed += len(text)
        self.text += text
        (self.folder / f"seen-{self.text.count(chr(10))}").touch()

    def __call__(self, output: str) -> bool:
        self._saw(output)
        return super().__call__(output)

    def appended(self, text: str) -> bool:
        self._saw(text)
        return super().appended(text)


# Prints a report, then waits until the stop test has seen it, five times over.
LOCKSTEP = textwrap.dedent("""
    import pathlib, sys, time
    here = pathlib.Path(sys.argv[1])
    for step in range(5):
        print(f"epoch {step} loss={1 - step / 10}", flush=True)
        deadline = time.monotonic() + 120
        while not (here / f"seen-{step + 1}").exists():
            if time.monotonic() > deadline:
                sys.exit(3)
            time.sleep(0.01)
""")


def test_early_stopping_is_handed_each_printed_byte_once(local_store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The QA report: every look re-read and re-parsed all the output so far (a 160 MB trial
    took 40 s with early stopping, 29 s without); Katib's collector tails the output."""
    monkeypatch.setattr(local, "POLL_SECONDS", 0.02)
    doc = quadratic_experiment(**{
        "spec.trialTemplate.trialSpec.spec.template.spec.containers": [
            {"name": "main", "env": UNREAD_PARAMETERS, "image": "python:3.11", "command": ["python3", "-c", shlex.quote(LOCKSTEP), shlex.quote(str(tmp_path))]}
        ],
    })
    experiment = load_experiment(doc)
    records = ExperimentRecords(local_store, experiment.name)
    init_experiment(records, experiment)
    trial = TrialState(name="quad-t1", index=0, round="", assignment={"x": "0.5", "y": "0.5"}, created="")
    counting = Counting(RunningMetrics(records, experiment, trial.name), tmp_path)
    outcome = LocalLauncher(env={"KFP_TUNE_STORE": local_store.uri}).run(trial_run(experiment, trial, should_stop=counting))
    assert outcome.phase == LaunchPhase.SUCCEEDED, outcome
    assert counting.text == outcome.logs["main"]
    assert counting.handed == len(outcome.logs["main"])
    assert [m.value for m in counting.running.read_appended("") if m.name == "loss"] == [1.0, 0.9, 0.8, 0.7, 0.6]


def test_reading_the_output_piece_by_piece_finds_what_reading_it_whole_does(local_store: Any) -> None:
    """Pieces cut anywhere (in a line, in a UTF-8 character's text): the same metrics, steps
    counted on across pieces, a last line without its newline not read."""
    experiment = load_experiment(quadratic_experiment())
    records = ExperimentRecords(local_store, experiment.name)
    output = "".join(f"époque {i} loss={1 / (i + 1):.4f} accuracy=0.{i}\n" for i in range(40)) + "loss=0.001"
    draw = random.Random(7)
    cuts = sorted(draw.sample(range(1, len(output)), 25))
    running = RunningMetrics(records, experiment, "t")
    for start, end in zip([0, *cuts], [*cuts, len(output)], strict=True):
        read = running.read_appended(output[start:end])
    assert read == RunningMetrics(records, experiment, "t").read(output)
    assert len(read) == 80
