"""The note of a stopped ``tune()`` (:class:`kfp_tune.api.TuneInterrupted`) counts every trial the
stop recorded Killed: those it stopped while running and those the run had made but not started
yet, as ``kfp-tune run``'s closing line does and as the resumed call's result shows them (QA
notebook, session 36, finding 8: the note said '0 running trial(s) recorded Killed' and the
result then showed a Killed trial). The state is built in-process (a stand-in for the inline
runner that makes the trials, then ends the run as an interrupt does), so no timing decides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kfp_tune import search, tune
from kfp_tune.api import TuneInterrupted


def _interrupted_with(monkeypatch: pytest.MonkeyPatch, started: int, unstarted: int) -> None:
    """run_inline replaced: run ``run-a`` claims the experiment, makes ``started + unstarted``
    trials, starts ``started`` of them, and is interrupted (SIGINT) there, ending as a real run
    does (steps.decide_stop.interrupt_run)."""
    import kfp_tune.api
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

    monkeypatch.setattr(kfp_tune.api, "run_inline", interrupted)


def _tune(store: Path) -> Any:
    return tune(lambda p: p["x"] ** 2, {"x": search.double(-1, 1)}, algorithm="random", algorithm_settings={"random_state": 3},
                max_trial_count=4, parallel_trial_count=2, store=str(store), name="half")


def test_the_note_counts_the_trials_made_but_not_started_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _interrupted_with(monkeypatch, started=0, unstarted=1)
    with pytest.raises(TuneInterrupted) as stopped:
        _tune(tmp_path / "store")
    assert stopped.value.__notes__[0] == (
        f"tune() stopped (SIGINT): experiment 'half' in {(tmp_path / 'store').as_uri()} is left unfinished, "
        "1 trial(s) recorded Killed, their budget given back: no trial was running, 1 made but not started; "
        "the same call resumes it: tune(..., name='half')")
    monkeypatch.undo()
    with pytest.warns(UserWarning, match="interrupted trial"):
        result = _tune(tmp_path / "store")
    assert sum(t.status == "Killed" for t in result.trials) == 1  # what the note said


def test_the_note_counts_both_kinds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _interrupted_with(monkeypatch, started=1, unstarted=1)
    with pytest.raises(TuneInterrupted) as stopped:
        _tune(tmp_path / "store")
    assert "is left unfinished, 2 trial(s) recorded Killed, their budget given back: 1 stopped while running, 1 made but not started; " \
        in stopped.value.__notes__[0]


def test_with_none_left_unstarted_the_note_counts_the_running_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _interrupted_with(monkeypatch, started=2, unstarted=0)
    with pytest.raises(TuneInterrupted) as stopped:
        _tune(tmp_path / "store")
    assert "is left unfinished, 2 running trial(s) stopped and recorded Killed, their budget given back; " in stopped.value.__notes__[0]
