"""The contract every suggestion algorithm follows.

An algorithm is rebuilt from the full history on every call (OSS Vizier's designer idea): it
gets the problem, every finished trial, the trials still pending, how many suggestions are
wanted and a seeded random generator, and it returns exactly that many new assignments, or
fewer with ``exhausted=True`` when the space has no more to give. Nothing it keeps between
calls is the truth, so a fresh process or pod can always resume. A trial given back (its run
interrupted, or never created) is in the history but counts as never suggested (:func:`spent`):
its point or place is asked for again, also when trials suggested after it have finished (an
algorithm that finds its place by counting the trials that used budget would skip it).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import math
import re
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np
from threadpoolctl import ThreadpoolController

from kfp_tune.core.space import SearchSpace, Value
from kfp_tune.core.vocabulary import ObjectiveType, TrialStatus


@dataclass(frozen=True)
class Problem:
    """What an algorithm may know about the experiment, free of any platform detail."""

    space: SearchSpace
    objective_type: ObjectiveType
    objective_metric: str
    settings: dict[str, Any] = field(default_factory=dict)
    max_trial_count: int | None = None
    algorithm_settings: tuple[tuple[str, str], ...] = ()
    """``spec.algorithm.algorithmSettings`` as the spec wrote them, (name, text) in order: for an
    algorithm that hands them to the trial verbatim (darts); the others read ``settings``."""
    nas_config: dict[str, Any] | None = None
    """``spec.nasConfig`` as Katib's JSON (camelCase keys) for an architecture search algorithm,
    whose space holds only the ``text`` values it makes for each trial; None otherwise."""
    seed: int = 0
    """The experiment's seed (``random_state``, else one derived from its uid): for sequences
    that must stay the same across rounds. Per-round randomness comes from the ``rng`` argument."""

    def loss(self, trial: FinishedTrial) -> float | None:
        """The trial's objective as a value to minimise (negated for maximize); None when it has
        no finite objective (failed, metrics unavailable)."""
        if trial.objective is None or not math.isfinite(trial.objective):
            return None
        return trial.objective if self.objective_type == ObjectiveType.MINIMIZE else -trial.objective


@dataclass(frozen=True)
class FinishedTrial:
    """A trial that has ended, as algorithms see it (read-only: its dicts are the experiment's).

    ``objective`` is the objective metric after its strategy, or None when the trial failed or
    reported no (finite) objective value."""

    name: str
    assignment: dict[str, Value]
    status: TrialStatus
    objective: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    """What the algorithm labelled the trial with when it suggested it (see ``Suggestions.labels``)."""
    given_back: bool = False
    """Killed when its run was interrupted, or never created: it used no budget, and an
    algorithm whose schedule has a place for it fills that place again (hyperband's rung
    member, grid's point, sobol's point of its sequence, even when trials after it finished),
    with ``Suggestions.repeats`` when the point is the same. It is as if
    it had never been suggested: not a result, and its point not taken (:func:`spent`)."""


class PendingAssignment(dict[str, Value]):
    """A pending trial's assignment (a plain dict to every algorithm), with its trial's name and
    labels for an algorithm that keeps a lineage in them (pbt)."""

    def __init__(self, assignment: dict[str, Value], name: str = "", labels: dict[str, str] | None = None):
        super().__init__(assignment)
        self.name = name
        self.labels: dict[str, str] = dict(labels or {})


@dataclass(frozen=True)
class Suggestions:
    """Exactly ``n`` new assignments; or fewer, saying why: ``exhausted`` (the space has no more,
    ever) or ``waiting`` (more once the pending trials and these have finished, as hyperband's
    rungs need)."""

    assignments: list[dict[str, Value]]
    exhausted: bool = False
    waiting: bool = False
    labels: list[dict[str, str]] | None = None
    """Labels for each new trial, in order (Kubernetes label names and values; pbt's generation
    and parent): stored with the trial, put on its resource, and given back in its
    ``FinishedTrial.labels`` / ``PendingAssignment.labels``. None: no labels."""
    repeats: bool = False
    """These points may repeat earlier ones on purpose (pbt's exploit copies a better member's
    hyperparameters, and the trial differs in the checkpoint it starts from; bayesianoptimization
    measures a point again when the losses are noisy), so they are not held to the rule that no
    point is suggested twice."""


class Algorithm(Protocol):
    """A suggestion algorithm plug-in. Instances are built per call from parsed settings."""

    @property
    def name(self) -> str:
        """The name it is registered under. Declared read-only, so both ways an algorithm writes
        it satisfy the Protocol for mypy: ``name = "my-name"`` and ``name: ClassVar[str] = ...``
        (declared ``ClassVar[str]`` here, mypy refused the first, blaming ``register``'s argument)."""
        ...

    def suggest(
        self,
        problem: Problem,
        history: Sequence[FinishedTrial],
        pending: Sequence[dict[str, Value]],
        n: int,
        rng: np.random.Generator,
    ) -> Suggestions:
        """``n`` new assignments (:class:`Suggestions`) from ``history`` (every finished trial,
        in order) with ``pending`` (the assignments of the trials still running) taken.

        ``history`` and ``pending`` are read-only, their trials and assignments included: the
        suggest step hands tuples, and what they hold is the experiment's for later calls. To
        add to them (a constant liar's fake results for the pending points), work on a copy:
        ``list(history) + lies``. ``AlgorithmContract`` checks they are left as they were."""
        ...


_Method = TypeVar("_Method", bound=Callable[..., Any])


_blas_limit_lock = threading.Lock()
_blas_limit_holders = 0
"""How many suggestions are inside :func:`one_blas_thread` now (engines of two experiments in one
process): the first sets the limit, the last takes it off."""
_blas_threads_before: list[tuple[Any, int]] = []
"""Each BLAS library the first holder limited, with its thread count before."""


def one_blas_thread(*needed_modules: str) -> Callable[[_Method], _Method]:
    """A decorator: the method runs with each BLAS library (OpenBLAS, MKL; OpenMP is left alone)
    at one thread, the thread counts before put back after. For an algorithm whose suggestion
    does dense linear algebra (a Gaussian process): its matrices are too small for a second
    thread to pay, and on a busy machine OpenBLAS's spinning threads fight the engine's slot
    threads for the cores (300 trials of bayesianoptimization on 2 busy cores: 6:52 with two
    threads, 0:38 with one; "Suggestion time as the history grows" in docs/benchmarks.md).

    ``needed_modules`` are imported before the limit, as a limit holds only for the libraries
    loaded when it is set (importing skopt can load scipy's). The limit is the process's while a
    suggestion runs, as OpenBLAS's thread count is: an objective running on another thread
    (tune()'s slots) computes with one BLAS thread for those milliseconds. A count someone else
    set meanwhile (an objective's own threadpool_limits) is left as it is, not overwritten; but an
    objective's threadpool_limits entered during a suggestion puts back, when it leaves, the one
    thread it found there."""

    def decorate(method: _Method) -> _Method:
        @functools.wraps(method)
        def limited(*args: Any, **kwargs: Any) -> Any:
            for module in needed_modules:
                importlib.import_module(module)
            _limit_blas_to_one_thread()
            try:
                return method(*args, **kwargs)
            finally:
                _put_blas_threads_back()

        return limited  # type: ignore[return-value]

    return decorate


def _limit_blas_to_one_thread() -> None:
    global _blas_limit_holders
    with _blas_limit_lock:
        if _blas_limit_holders == 0:
            libraries = ThreadpoolController().select(user_api="blas").lib_controllers
            _blas_threads_before[:] = [(library, library.num_threads) for library in libraries]
            for library, _ in _blas_threads_before:
                library.set_num_threads(1)
        _blas_limit_holders += 1


def _put_blas_threads_back() -> None:
    """The last holder puts back each library's count, where it is still the one set: a count
    set meanwhile by someone else is theirs."""
    global _blas_limit_holders
    with _blas_limit_lock:
        _blas_limit_holders -= 1
        if _blas_limit_holders == 0:
            for library, before in _blas_threads_before:
                if library.num_threads == 1:
                    library.set_num_threads(before)
            _blas_threads_before.clear()


READ_ONLY_INPUTS = "history and pending are read-only (the suggest step hands tuples): to add to one, add to a copy, list(history) + more"
"""Said when an algorithm fails changing (or adding a list to) the tuples the suggest step hands it."""


_CHANGING_A_TUPLE = re.compile(
    r"'tuple' object has no attribute '(append|extend|insert|pop|remove|clear|sort|reverse|copy)'"
    r"|'tuple' object (does not|doesn't) support item (assignment|deletion)"
    r'|can only concatenate (tuple \(not "list"\) to tuple|list \(not "tuple"\) to list)'
)
"""What Python says when code written for lists changes a tuple (a list's methods, ``copy`` among
them as a list's way to a copy; item or slice assignment and deletion) or adds a list to one."""


def changes_read_only_inputs(exc: BaseException) -> bool:
    """Whether an algorithm's exception is what changing the ``history`` or ``pending`` tuple it
    was handed raises (``append``, item assignment, ``history + [...]``): only those messages, so
    a bug of its own that merely names a tuple (``'tuple' object is not callable``) gets no hint."""
    return isinstance(exc, (AttributeError, TypeError)) and _CHANGING_A_TUPLE.fullmatch(str(exc)) is not None


def spent(history: Sequence[FinishedTrial]) -> list[FinishedTrial]:
    """The finished trials that used their budget, in order: a trial given back
    (:attr:`FinishedTrial.given_back`) is left out, as if it had never been suggested, so its point
    (or its place in the algorithm's schedule) is asked for again and the search is not cut short
    by it. ``kfp_tune.algorithms.testing.GivenBackContract`` holds every algorithm to this."""
    return [t for t in history if not t.given_back]


def marked_repeats(result: Suggestions, history: Sequence[FinishedTrial], key: Callable[[dict[str, Value]], Hashable]) -> Suggestions:
    """``result``, with ``repeats`` set when it suggests again the point of a trial given back
    (points compared by ``key``): the designer refuses any other point a trial already had."""
    again = {key(t.assignment) for t in history if t.given_back}
    if result.repeats or not again or not any(key(a) in again for a in result.assignments):
        return result
    return dataclasses.replace(result, repeats=True)
