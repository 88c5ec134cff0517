"""Progress where stderr is no terminal (``kfp-tune run ... 2>file``, nohup, CI): tqdm turns its
bar off there, so a run said nothing until it ended; it prints plain lines instead."""

from __future__ import annotations

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


def _ended(name: str, status: TrialStatus, loss: float | None) -> TrialState:
    metrics = {} if loss is None else {"loss": loss}
    return TrialState(name, 0, "r0", {}, "", result=TrialResult(trial=name, status=status, metrics=metrics))


def test_a_line_per_ended_trial_and_fast_ones_together() -> None:
    now = [0.0]
    lines: list[str] = []
    progress = PlainProgress("loss", lines.append, every=5.0, clock=lambda: now[0])
    a, b, c = _ended("q-a", TrialStatus.SUCCEEDED, 0.5), _ended("q-b", TrialStatus.FAILED, None), _ended("q-c", TrialStatus.SUCCEEDED, 0.25)
    progress.update(0, {"best": {}, "total": 3, "ended": [], "running": 2})
    assert lines == []
    progress.update(1, {"best": {"loss": 0.5}, "total": 3, "ended": [a], "running": 2})
    assert lines == ["trial q-a Succeeded loss=0.5 (1/3 done, 2 running, best loss=0.5)"]
    now[0] = 1.0  # within 5 s of the last line: kept, then told together
    progress.update(3, {"best": {"loss": 0.25}, "total": 3, "ended": [a, b, c], "running": 0})
    assert len(lines) == 1
    now[0] = 6.0
    progress.update(3, {"best": {"loss": 0.25}, "total": 3, "ended": [a, b, c], "running": 0})
    assert lines[1:] == ["2 trials ended (1 Failed, 1 Succeeded): q-b, q-c (3/3 done, 0 running, best loss=0.25)"]
    progress.flush()  # nothing left to tell
    assert len(lines) == 2


@pytest.mark.parametrize("engine", ["inline", "kfp-local"])
def test_a_run_whose_stderr_is_a_file_prints_progress_lines(tmp_path: Path, engine: str) -> None:
    path = tmp_path / "quad.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 3, "spec.parallelTrialCount": 1})))
    with open(tmp_path / "err.txt", "w") as err:
        result = subprocess.run([KFP_TUNE, "run", str(path), "--engine", engine, "--store", str(tmp_path / "store")],
                                stdout=subprocess.PIPE, stderr=err, text=True, timeout=300)
    assert result.returncode == 0, (tmp_path / "err.txt").read_text()
    lines = (tmp_path / "err.txt").read_text().splitlines()
    line = re.compile(r"^(trial quad-\w+ Succeeded loss=\S+|\d trials ended \(\d Succeeded\): .+) \((\d)/3 done, \d running, best loss=\S+\)$")
    told = [m for m in map(line.match, lines) if m]
    assert told and told[-1].group(2) == "3", lines
