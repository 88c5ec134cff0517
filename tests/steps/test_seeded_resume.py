"""A seeded experiment interrupted and resumed makes the trials the uninterrupted run makes: a
trial given back counts as never suggested, so the suggest call that made it is made again with
its random stream (``steps.suggest.call_seq``), not a new one. Runs in this process through the
inline engine; the launcher stands in for Ctrl-C by raising RunInterrupted, as the local one
does for a trial it stopped, and every trial's loss is a function of its point."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.errors import RunInterrupted
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords, TrialResult
from kfp_tune.core.state import TRIAL_INTERRUPTED, ExperimentView, load_state
from kfp_tune.core.vocabulary import LaunchPhase, TrialStatus
from kfp_tune.inline_runner import run_inline
from kfp_tune.steps.designer import next_suggestions, problem_of
from kfp_tune.steps.suggest import call_seq, new_trials
from kfp_tune.stores import LocalStore

MAX_TRIALS = 8


class InterruptedAfter(Launcher):
    """Each trial succeeds with the loss of its point until ``succeed`` trials have run; every
    later one is stopped as the local launcher stops a trial on Ctrl-C (``None``: never)."""

    def __init__(self, succeed: int | None = None) -> None:
        self.succeed, self.started, self.lock = succeed, 0, threading.Lock()

    def run(self, trial: TrialRun) -> LaunchOutcome:
        with self.lock:
            self.started += 1
            stopped = self.succeed is not None and self.started > self.succeed
        if stopped:
            raise RunInterrupted("SIGINT")
        x, y = float(trial.assignment["x"]), float(trial.assignment["y"])
        loss = (x - 0.3) ** 2 + (y - 0.7) ** 2
        return LaunchOutcome(LaunchPhase.SUCCEEDED, exit_code=0, logs={"main": f"loss={loss:.6f}\naccuracy=0.5\n"})


def _points(store: Path, parallel: int, interrupt_after: int | None) -> list[tuple[str, str]]:
    """The points of the trials that used their budget, in the order they were made, after a run
    (interrupted after ``interrupt_after`` trials, then resumed) of a random experiment seeded 7."""
    experiment = load_experiment(quadratic_experiment(**{
        "spec.maxTrialCount": MAX_TRIALS, "spec.parallelTrialCount": parallel,
        "spec.algorithm.algorithmSettings": [{"name": "random_state", "value": "7"}],
    }))
    if interrupt_after is not None:
        with pytest.raises(RunInterrupted):
            run_inline(LocalStore(store), experiment, InterruptedAfter(interrupt_after))
    run_inline(LocalStore(store), experiment, InterruptedAfter())
    state = load_state(ExperimentRecords(LocalStore(store), experiment.name))
    if interrupt_after is not None:
        assert state.given_back >= 1, "the interrupt gave no trial back: the test tests nothing"
    return [(t.assignment["x"], t.assignment["y"]) for t in state.trials if not t.given_back]


@pytest.mark.parametrize("interrupt_after", [0, 3])
def test_a_seeded_run_of_one_slot_resumed_after_an_interrupt_makes_the_uninterrupted_run_s_trials(tmp_path, interrupt_after):
    uninterrupted = _points(tmp_path / "whole", parallel=1, interrupt_after=None)
    assert len(uninterrupted) == MAX_TRIALS
    assert _points(tmp_path / "resumed", parallel=1, interrupt_after=interrupt_after) == uninterrupted


@pytest.mark.parametrize("interrupt_after", [1, 4])
def test_a_seeded_run_of_two_slots_resumed_after_an_interrupt_makes_the_same_points(tmp_path, interrupt_after):
    """Which slot ends first decides the order, not the points: each call's stream gives the
    same point whatever the other slot runs (random draws from no history)."""
    uninterrupted = _points(tmp_path / "whole", parallel=2, interrupt_after=None)
    resumed = _points(tmp_path / "resumed", parallel=2, interrupt_after=interrupt_after)
    assert sorted(resumed) == sorted(uninterrupted) and len(resumed) == MAX_TRIALS


def _view(tmp_path: Path, seed: str) -> ExperimentView:
    experiment = load_experiment(quadratic_experiment(**{"spec.algorithm.algorithmSettings": [{"name": "random_state", "value": seed}]}))
    records = ExperimentRecords(LocalStore(tmp_path), experiment.name)
    steps.prepare(records, experiment, "run-1")
    return ExperimentView(records)


def test_rounds_of_several_trials_that_gave_nothing_back_are_numbered_as_they_always_were(tmp_path):
    """A compiled pipeline's rounds (several trials a call): call k draws from stream k, each
    round's points those of ``next_suggestions`` with sequence number k, as before give-backs
    were counted."""
    view = _view(tmp_path, "11")
    for k in range(3):
        state = view.state
        assert call_seq(state) == k
        expected = next_suggestions(state, problem_of(state.experiment, state.uid), 3, k).assignments
        record = new_trials(view, f"r{k}", 3)
        problem = problem_of(view.state.experiment, view.state.uid)
        assert [problem.space.parse(t["assignment"]) for t in record["trials"]] == expected
        assert record["seq"] == k


def _give_back(view: ExperimentView, names: list[str]) -> None:
    """Record the trials Killed for an interrupt, as a run stopped by Ctrl-C does."""
    for name in names:
        view.record_trial(name, TrialResult(trial=name, status=TrialStatus.KILLED, reason=TRIAL_INTERRUPTED))


def test_a_round_partly_given_back_keeps_its_number_and_one_wholly_given_back_is_made_again(tmp_path):
    """Two rounds of two trials: one trial of the first given back changes nothing; both of the
    second given back, the next call is call 1 again and makes the same points."""
    view = _view(tmp_path, "5")
    first = new_trials(view, "r0", 2)
    second = new_trials(view, "r1", 2)
    _give_back(view, [first["trials"][0]["name"]])  # r0 still has a trial that used its budget
    assert call_seq(view.state) == 2
    _give_back(view, [t["name"] for t in second["trials"]])
    assert call_seq(view.state) == 1
    again = new_trials(view, "r2", 2)
    assert [t["assignment"] for t in again["trials"]] == [t["assignment"] for t in second["trials"]]
    assert call_seq(view.state) == 2
