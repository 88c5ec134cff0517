"""``kfp-tune logs`` of a finished trial that kept no log (a trial stopped before it printed
anything) printed nothing and exited 0, as if the log were there and empty; an empty log, a
trial that printed nothing, printed nothing with no word either. The first now says on stderr
which trial (its status and reason) kept no log and why that can be, exit 1 as for a log not
there yet; the second says on stderr that the log is empty, exit 0 (the log is there)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune import Client, search, tune
from kfp_tune.cli import main
from kfp_tune.client import NoLogYet
from kfp_tune.core.errors import RunInterrupted


def _stopped_before_it_printed(store: Path) -> str:
    """A tune() whose only trial is stopped (a KeyboardInterrupt in its call, as the stop
    button's) before it printed a line: Killed, RunInterrupted, and no log kept."""
    def objective(params: dict[str, Any]) -> float:
        raise KeyboardInterrupt

    with pytest.raises(RunInterrupted):
        tune(objective, {"x": search.double(0, 1)}, max_trial_count=1, name="stopped", store=str(store))
    (trial,) = Client(str(store)).list_trials("stopped")
    assert not (store / "experiments" / "stopped" / "trials" / trial.metadata.name / "logs").exists()
    return str(trial.metadata.name)


def test_a_trial_that_kept_no_log_says_so_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trial = _stopped_before_it_printed(tmp_path)
    capsys.readouterr()
    assert main(["logs", "stopped", trial, "--store", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"error: trial '{trial}' (Killed: RunInterrupted) kept no log: "), err
    assert "stopped before it printed anything" in err and err.endswith("\n") and err.count("\n") == 1, err
    assert main(["logs", "stopped", "--store", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"==> {trial} (Killed) <==" and lines[1].startswith(f"(no log: trial '{trial}' (Killed: RunInterrupted) kept no log: "), lines
    with pytest.raises(NoLogYet, match="kept no log"):
        Client(str(tmp_path)).get_trial_logs(("stopped", trial))


def test_a_trial_whose_log_is_empty_says_so_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A command that printed nothing and failed: its log is kept, and empty."""
    silent = tmp_path / "silent.py"
    silent.write_text("import sys\nsys.exit(3)\n")
    experiment = quadratic_experiment(**{"spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1})
    container = experiment["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["command"] = [sys.executable, str(silent)]
    path = tmp_path / "silent.yaml"
    path.write_text(yaml.safe_dump(experiment))
    store = str(tmp_path / "store")
    assert main(["run", str(path), "--engine", "inline", "--store", store]) == 1
    (trial,) = [t.metadata.name for t in Client(store).list_trials("quad")]
    capsys.readouterr()
    assert main(["logs", "quad", trial, "--store", store]) == 0
    out, err = capsys.readouterr()
    assert out == "" and err == f"trial '{trial}' (Failed: TrialFailed. Job reason: Error): its log is empty: it printed nothing\n", err
    assert main(["logs", "quad", "--store", store]) == 0
    assert capsys.readouterr().out == f"==> {trial} (Failed) <==\n(its log is empty: it printed nothing)\n"
