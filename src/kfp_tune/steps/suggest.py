"""The suggest step: a round's new trials, named and stored before anything runs them."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from kfp_tune.algorithms.base import Problem, Suggestions
from kfp_tune.core import claims
from kfp_tune.core.decision import decide
from kfp_tune.core.naming import trial_name
from kfp_tune.core.records import ExperimentRecords, utc_now
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import ExperimentState, ExperimentView
from kfp_tune.core.vocabulary import RecordKind
from kfp_tune.steps.designer import next_suggestions, problem_of
from kfp_tune.steps.prepare import prepare
from kfp_tune.steps.schedule import round_size


def suggest(
    records: ExperimentRecords,
    round_id: str,
    rounds_left: int,
    experiment: Experiment | None = None,
    run_id: str | None = None,
    take_over: bool = False,
    view: ExperimentView | None = None,
    n: int | None = None,
) -> list[str]:
    """Create this round's trials and return their names; a retry returns the same names.

    ``round_id``: ``<run id>-r<digits>`` (``steps.schedule.round_id``); a run knows its own rounds
    by that form (``steps.schedule.made_by_run``: an interrupted run gives back only their
    unstarted trials, slots adopt only theirs). ``rounds_left`` counts this round. With
    ``experiment`` given (the first round of a run), the run claims the experiment (``run_id``, see
    :mod:`kfp_tune.core.claims`), and the experiment is created or its resume checked; the trials a
    dead run left unfinished join this round. ``n``: how many new trials (default: the budget left
    spread over the rounds left); ``n=0`` with ``experiment`` only prepares the run, for
    launch-trial's slots to suggest one at a time."""
    if experiment is not None:
        prepare(records, experiment, run_id, take_over)
    if run_id is not None:
        claims.check(records, run_id)
    if n == 0:
        return []
    saved = records.read(records.round_key(round_id), RecordKind.ROUND)
    if saved is not None:
        return list(saved.get("adopted", [])) + [t["name"] for t in saved["trials"]]
    first_round_of_run = run_id is not None and experiment is not None
    view = view or ExperimentView(records)
    state = view.state
    before = decide(state, rounds_left=1)
    adopted = adopt_orphans(state) if first_round_of_run and not before.finished else []
    if n is None:
        n = round_size(state.experiment, state.budget_used, rounds_left)
    n = 0 if before.finished else max(0, n - len(adopted))
    limit = state.experiment.spec.max_trial_count
    if limit is not None:  # a trial_count of the caller's never goes past maxTrialCount, as Katib never does
        n = min(n, max(0, limit - state.budget_used))
    record = new_trials(view, round_id, n, adopted)
    return list(record.get("adopted", [])) + [t["name"] for t in record["trials"]]


def new_trials(view: ExperimentView, round_id: str, n: int, adopted: list[str] | None = None) -> dict[str, Any]:
    """Ask the algorithm for ``n`` new trials (from every finished trial, the others pending) and
    store them as the round ``round_id`` (write-once: a retry gets the stored round). Returns the
    round record; fewer than ``n`` trials when the algorithm says it is exhausted or waiting."""
    with view.lock:
        state = view.state
        problem = problem_of(state.experiment, state.uid)
        assignments: list[dict[str, str]] = []
        labels: list[dict[str, str]] = []
        exhausted = waiting = False
        seq = call_seq(state)
        if n > 0:
            result = _suggestions_unless_abandoned(state, problem, n, seq)
            assignments = [problem.space.format(a) for a in result.assignments]
            labels = result.labels or []
            exhausted, waiting = result.exhausted, result.waiting
        first = 1 + max((t.index for t in state.trials[-1:]), default=-1)
        entries = [
            {"name": trial_name(state.experiment.name, state.uid, first + i), "index": first + i, "assignment": a}
            for i, a in enumerate(assignments)
        ]
        for entry, trial_labels in zip(entries, labels, strict=False):
            if trial_labels:  # only an algorithm that labels its trials adds the key
                entry["labels"] = dict(trial_labels)
        payload = {
            "round": round_id, "seq": seq, "created": utc_now(), "requested": n, "exhausted": exhausted,
            "trials": entries, "adopted": list(adopted or []),
        }
        if waiting and not assignments and not exhausted:
            return payload  # nothing to store: the same call, with the same seed, is made again later
        return view.record_round(round_id, payload)


ABANDON_LOOK_SECONDS = 0.1
"""How often a suggestion being computed under :func:`abandoned_when` looks whether to give up."""


class SuggestionAbandoned(Exception):
    """The suggestion was given up while the algorithm computed it (the run was interrupted):
    nothing of it is recorded. Internal to the slots, never shown to a user."""


_abandoning = threading.local()


@contextlib.contextmanager
def abandoned_when(give_up: Callable[[], object]) -> Iterator[None]:
    """While inside, :func:`new_trials` in this thread computes the algorithm's suggestion in a
    daemon worker thread and gives it up (:class:`SuggestionAbandoned`, nothing recorded) once
    ``give_up()`` is true. An interrupted run must end in the time its notice says, not when a
    long suggestion (enas: minutes) returns; the worker is left to finish unseen and is not
    waited for when the process exits."""
    before = getattr(_abandoning, "give_up", None)
    _abandoning.give_up = give_up
    try:
        yield
    finally:
        _abandoning.give_up = before


def _suggestions_unless_abandoned(state: ExperimentState, problem: Problem, n: int, seq: int) -> Suggestions:
    """:func:`next_suggestions`, in a worker thread the caller stops waiting for once the
    :func:`abandoned_when` check says so; in this thread when no check is set."""
    give_up: Callable[[], object] | None = getattr(_abandoning, "give_up", None)
    if give_up is None:
        return next_suggestions(state, problem, n, seq)
    outcome: list[Suggestions | BaseException] = []
    done = threading.Event()

    def compute() -> None:
        try:
            outcome.append(next_suggestions(state, problem, n, seq))
        except BaseException as exc:  # handed to the caller; dropped unseen once abandoned
            outcome.append(exc)
        finally:
            done.set()

    threading.Thread(target=compute, name=f"suggestion of {threading.current_thread().name}", daemon=True).start()
    while not done.wait(ABANDON_LOOK_SECONDS):
        if give_up():
            raise SuggestionAbandoned()
    if give_up():  # it returned, but after the interrupt: nothing is written after it
        raise SuggestionAbandoned()
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


def call_seq(state: ExperimentState) -> int:
    """The sequence number of the next suggest call, which seeds its random stream
    (``designer.call_rng``): the number of rounds made so far, except that a round all of whose
    trials were given back (an interrupt killed them, or they were never created) counts as never
    made, as its trials count as never suggested. Its number is taken again, the smallest first,
    so a seeded run resumed after an interrupt makes the trials the uninterrupted run makes; a run
    that gave nothing back numbers its calls 0, 1, 2, ... as it always has."""
    if state.given_back == 0:
        return len(state.rounds)
    given_back: set[int] = set()
    taken: set[int] = set()
    rounds_given_back = 0
    for record in state.rounds.values():
        trials = [state.by_name[entry["name"]] for entry in record.get("trials", []) if entry["name"] in state.by_name]
        seq = record.get("seq")
        if trials and all(trial.given_back for trial in trials):
            rounds_given_back += 1
            if isinstance(seq, int):
                given_back.add(seq)
        elif isinstance(seq, int):
            taken.add(seq)
    free = sorted(given_back - taken)
    return free[0] if free else len(state.rounds) - rounds_given_back


def adopt_orphans(state: ExperimentState) -> list[str]:
    """The unfinished trials of runs that are gone (the caller holds the experiment's claim):
    each is finished by this run's launch-trial and collect-metrics. One that never started
    starts now; one that was running is waited for, re-attached or ends Failed (TrialStale) as
    launch-trial decides, never run twice; one that ended without a result gets it."""
    return [trial.name for trial in state.trials if not trial.is_terminal]
