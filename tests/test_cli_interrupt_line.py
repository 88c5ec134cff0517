"""The closing line of an interrupted ``kfp-tune run``: it counts every trial the interrupt
recorded Killed, the ones it stopped while running and the ones the run had made but not
started yet, as the resumed run's "interrupted trial(s) given back" does. The state is built
in-process (a stand-in for the inline runner that makes it, then ends the run as an interrupt
does), so no timing decides what is running."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main


def _interrupted_with(monkeypatch: pytest.MonkeyPatch, started: int, unstarted: int) -> None:
    """run_inline replaced: run ``run-a`` claims the experiment, makes ``started + unstarted`` trials,
    starts ``started`` of them, and is interrupted (SIGINT) there, ending as a real run does
    (steps.decide_stop.interrupt_run)."""
    import kfp_tune.inline_runner
    from kfp_tune import steps
    from kfp_tune.core.errors import RunInterrupted
    from kfp_tune.core.records import ExperimentRecords, TrialStarted
    from kfp_tune.core.state import ExperimentView
    from kfp_tune.steps.decide_stop import interrupt_run

    def interrupted(store: Any, experiment: Any, *args: Any, **kwargs: Any) -> None:
        records = ExperimentRecords(store, experiment.name)
        made = steps.suggest(records, "run-a-r0", 1, experiment, run_id="run-a", take_over=True, n=started + unstarted)
        view = ExperimentView(records)
        for name in made[:started]:
            view.record_trial(name, TrialStarted(trial=name, time="", at=0.0, run="run-a", attempt=f"a-{name}"))
        raise RunInterrupted("SIGINT", interrupt_run(view, "run-a", "SIGINT", set()))

    monkeypatch.setattr(kfp_tune.inline_runner, "run_inline", interrupted)


def _run(tmp_path: Path) -> int:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment()))
    return main(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "store")])


def test_the_closing_line_counts_the_trials_made_but_not_started_too(tmp_path, capsys, monkeypatch):
    """One trial running and one made but not started at the signal: both are recorded Killed,
    and the line said "1 running trial(s) stopped and recorded Killed" while the resumed run
    said "2 interrupted trial(s) given back"."""
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.core.state import load_state
    from kfp_tune.stores import as_store

    _interrupted_with(monkeypatch, started=1, unstarted=1)
    assert _run(tmp_path) == 128 + 2
    err = capsys.readouterr().err
    state = load_state(ExperimentRecords(as_store(str(tmp_path / "store")), "quad"))
    assert state.given_back == 2  # what the resumed run counts
    assert ("interrupted (SIGINT): 2 trial(s) recorded Killed, their budget given back: 1 stopped while running, "
            "1 made but not started; the experiment is free for another run. Run the same command to resume.") in err, err


def test_with_no_trial_left_unstarted_the_line_is_as_before(tmp_path, capsys, monkeypatch):
    _interrupted_with(monkeypatch, started=2, unstarted=0)
    assert _run(tmp_path) == 128 + 2
    err = capsys.readouterr().err
    assert ("interrupted (SIGINT): 2 running trial(s) stopped and recorded Killed, their budget given back; "
            "the experiment is free for another run. Run the same command to resume.") in err, err
