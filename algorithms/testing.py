"""The contract every suggestion algorithm must keep, as pytest tests you can run on your own.

Shipped in the package (as Optuna ships its sampler tests) so a plug-in author can check a new
algorithm the same way the built-in ones are checked::

    from kfp_tune.algorithms.testing import AlgorithmContract

    class TestMyAlgorithm(AlgorithmContract):
        algorithm_name = "random"          # a name registered with kfp_tune.algorithms.register
        settings = {"random_state": 1}
        adaptive = False                   # random search ignores the objective values

    class TestMyAlgorithmMaximizing(TestMyAlgorithm):
        objective_type = "maximize"        # run the contract for both directions

What it checks, on a mixed space (doubles, log doubles, ints, discrete, categorical):

- progress: asked for n points with no history, it gives n distinct feasible points and does
  not say the space is exhausted; on a finite space smaller than n, it gives the whole space
  (unless ``covers_finite_space = False``);
- every batch is n new, distinct, feasible points of the right types (fewer only as a flag
  below allows), the same for the same seed, none for n = 0;
- the same in two fresh interpreters (as every pipeline step is a fresh process), started side
  by side at two PYTHONHASHSEEDs that order every set of the problem's strings apart
  (:func:`fresh_hash_seeds`), each importing the plug-in as ``import kfp_tune`` does
  (installed) or as this suite's module does (imported by hand): once per algorithm and
  settings in a process (what it can and cannot catch: its test's docstring);
- ``history`` and ``pending``, handed as tuples as the suggest step hands them, are left as
  they were (read-only, trials and assignments included);
- a finite space ends cleanly: no point twice, every point (unless ``covers_finite_space =
  False``), then ``exhausted`` and nothing more;
- a history of failures only is handled;
- direction: two runs with the same seeds that differ only in whether low or high values of
  the numeric parameters are better (the values reported sign-flipped for maximize, so the
  better points are the same in both directions): an adaptive algorithm's later suggestions
  must sit lower in the first run than in the second; a non-adaptive one (``adaptive = False``)
  must suggest exactly the same points in both runs.

- trials given back (:class:`GivenBackContract`, which it includes): a trial Killed because its
  run was interrupted, or never created, used no budget: a history of only such trials is like
  no history, a point given again is marked ``repeats``, on a finite space giving trials back
  never cuts the search short (as many trials use budget before ``exhausted`` as with none
  given back), and a non-adaptive algorithm asked again with the seed that gave a point whose
  trial was given back (the others of its batch finished) offers that point again.

The flags below (``adaptive``, ``covers_finite_space``, ``waits_for_results``,
``ends_on_its_own``, ``stepped_doubles``, ``repeats_points``) declare what an algorithm legitimately does
differently; each relaxes only what its own docstring says. ``covers_finite_space`` and
``ends_on_its_own`` default to what the algorithm declared when it registered
(``register(..., ends=...)``), so a plug-in says it once; a suite may still set them.

An algorithm that searches a ``spec.nasConfig`` (its trials get values it makes from the
nasConfig, not points of ``spec.parameters``) cannot take the mixed space: it runs
:class:`GivenBackContract` alone, with :meth:`GivenBackContract.given_back_problem` giving its
problems (enas, darts and regularized-evolution do, in their test files).

:class:`EarlyStoppingContract` does the same for an early-stopping rule, asked as a run asks
it (a Katib-shaped rule through the stop rules its ``katib_rules`` fixes)::

    class TestMyRule(EarlyStoppingContract):
        rule_name = "medianstop"           # a name registered with early_stopping.register
        settings = {"min_trials_required": 2, "start_step": 2}
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib
import importlib.util
import inspect
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from kfp_tune.algorithms import early_stopping, registry
from kfp_tune.algorithms.base import READ_ONLY_INPUTS, FinishedTrial, Problem, Suggestions, changes_read_only_inputs, spent
from kfp_tune.algorithms.unit_cube import encode_value
from kfp_tune.core.catalogue import ALGORITHMS, EARLY_STOPPING, CatalogueEntry, parse_settings
from kfp_tune.core.records import StopRule
from kfp_tune.core.space import Parameter, SearchSpace, Value
from kfp_tune.core.vocabulary import ObjectiveType, TrialStatus


def mixed_space(stepped: bool = False) -> SearchSpace:
    """double (uniform and log), stepped double, int, discrete and categorical.

    ``stepped`` gives every double a step, for algorithms that need a finite grid."""
    return SearchSpace(
        (
            Parameter("lr", "double", 1e-4, 1e-1, step=1e-4 if stepped else None, distribution="logUniform", decimals=4 if stepped else None),
            Parameter("momentum", "double", 0.5, 0.9, step=0.05 if stepped else None, decimals=2 if stepped else None),
            Parameter("dropout", "double", 0.0, 0.5, step=0.1, decimals=1),
            Parameter("layers", "int", 1, 8),
            Parameter("batch", "discrete", choices=("16", "32", "64")),
            Parameter("optimizer", "categorical", choices=("sgd", "adam", "ftrl")),
        )
    )


def finite_space() -> SearchSpace:
    """12 points: 3 ints x 2 categories x 2 stepped doubles."""
    return SearchSpace(
        (
            Parameter("layers", "int", 1, 3),
            Parameter("b", "categorical", choices=("x", "y")),
            Parameter("c", "double", 0.0, 0.5, step=0.5, decimals=1),
        )
    )


def infeasible(space: SearchSpace, assignment: Any) -> str:
    """What the contract says of a point the space does not hold: the point and why (a value out
    of range, a parameter missing, a numpy scalar where a Python value is expected)."""
    why = space.problem(assignment) or "feasible"
    numpy = [name for name, value in assignment.items() if type(value).__module__ == "numpy"] if isinstance(assignment, dict) else []
    hint = f" (numpy values for {', '.join(repr(n) for n in numpy)}: give Python float / int / str, by float(), int() or .item())" if numpy else ""
    return f"infeasible {assignment}: {why}{hint}"


def _twice(keys: Sequence[Any], names: Sequence[str]) -> list[dict[str, Any]]:
    """The points among ``keys`` given more than once, as dicts."""
    seen: set[Any] = set()
    out = []
    for key in keys:
        if key in seen:
            out.append(dict(zip(names, key, strict=True)))
        seen.add(key)
    return out


def _wrong_type(assignment: dict[str, Any], name: str, expected: str) -> str:
    value = assignment[name]
    return f"parameter types: {name!r} is {value!r} ({type(value).__module__}.{type(value).__qualname__}); expected a Python {expected}, in {assignment}" + (
        " (convert numpy values with float(), int() or .item())" if type(value).__module__ == "numpy" else ""
    )


def objective(assignment: dict[str, Value]) -> float:
    """A deterministic objective over any space (for building histories)."""
    total = 0.0
    for index, (_, value) in enumerate(sorted(assignment.items())):
        number = float(value) if not isinstance(value, str) or _is_number(value) else float(len(value))
        total += (index + 1) * (number - 0.3) ** 2
    return total


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class GivenBackContract:
    """How an algorithm treats trials given back (``FinishedTrial.given_back``: Killed because
    the user interrupted the run, or never created): they used no budget, so they are as if never
    suggested (:func:`kfp_tune.algorithms.base.spent`). Part of :class:`AlgorithmContract`; an
    algorithm over a ``spec.nasConfig`` subclasses it alone, with ``algorithm_name`` and
    :meth:`given_back_problem` (its problems over a nasConfig).

    Why it matters: an experiment whose algorithm says ``exhausted`` ends once nothing runs
    (ExperimentSuggestionEndReached); an algorithm that counted a given-back trial as tried would
    end a run that was interrupted, or resumed, with the given-back trials never run again."""

    algorithm_name: ClassVar[str] = ""
    settings: ClassVar[dict[str, Any]] = {}
    objective_type: ClassVar[str] = "minimize"
    adaptive: ClassVar[bool] = True
    """Whether suggestions depend on the objective values seen (random, grid and sobol: no).
    Adaptive algorithms must lean towards the better region; others must ignore the values, and
    (:meth:`test_a_point_given_back_amid_others_is_offered_again`) offer a given-back point again."""
    repeats_points: ClassVar[bool] = False
    """Whether it suggests points already tried on purpose (pbt: an exploited child copies a
    better member's hyperparameters, a failed trial is run again, and a finite space never
    ends it): the checks that no point comes twice, and that a finite space ends, are left out."""

    def registered_name(self) -> str:
        """``algorithm_name``, once it is known to be registered: one clear failure, not a
        KeyError in every test, for a suite whose plug-in was not imported."""
        return _registered(type(self).__name__, "algorithm_name", self.algorithm_name, registry.is_implemented(self.algorithm_name), "kfp_tune.algorithms.register")

    def problem_settings(self) -> dict[str, Any]:
        return _parsed(ALGORITHMS[self.registered_name()], self.settings)

    def given_back_problem(self, finite: bool) -> Problem:
        """The problem the given-back checks run on: one whose space is larger than any batch
        asked for, or (``finite``) one the algorithm exhausts within a few dozen trials."""
        space = registry.problem_space(self.registered_name(), finite_space() if finite else mixed_space(), self.problem_settings())
        return Problem(space=space, objective_type=ObjectiveType(self.objective_type), objective_metric="loss", settings=self.problem_settings())

    def ask(self, problem: Problem, history: Sequence[FinishedTrial], pending: Sequence[dict[str, Value]], n: int, seed: int = 0) -> Suggestions:
        """The algorithm's answer, built afresh from its settings and asked as the suggest step
        asks it: ``history`` and ``pending`` handed as tuples (read-only)."""
        algorithm = registry.create(self.registered_name(), problem.settings)
        try:
            return algorithm.suggest(problem, tuple(history), tuple(pending), n, np.random.default_rng(seed))
        except Exception as exc:
            if not changes_read_only_inputs(exc):
                raise
            raise AssertionError(f"suggest raised {type(exc).__name__}: {exc}; {READ_ONLY_INPUTS}") from exc

    def reported(self, loss: float) -> float:
        """The objective value a trial reports for a loss: the loss itself when minimizing, its
        negative when maximizing, so "better" is the same point in both directions."""
        return loss if self.objective_type == "minimize" else -loss

    def test_a_history_of_given_back_trials_is_like_no_history(self) -> None:
        problem = self.given_back_problem(finite=False)
        fresh = self.ask(problem, [], [], 4, seed=3)
        assert fresh.assignments, "nothing suggested from an empty history"
        back = [_given_back(f"g{index}", assignment, fresh, index) for index, assignment in enumerate(fresh.assignments)]
        again = self.ask(problem, back, [], 4, seed=3)
        assert (len(again.assignments), again.exhausted, again.waiting) == (len(fresh.assignments), fresh.exhausted, fresh.waiting), (
            f"from {len(back)} trials given back it gave {len(again.assignments)} point(s) (exhausted={again.exhausted}, waiting={again.waiting}), "
            f"from no history {len(fresh.assignments)} (exhausted={fresh.exhausted}, waiting={fresh.waiting}): a trial given back used no budget "
            "and must not count as tried"
        )
        _check_repeats_marked(problem, back, again)

    def test_a_point_given_back_amid_others_is_offered_again(self) -> None:
        """A non-adaptive algorithm's answer depends on the seed and the points taken alone. The
        first of a batch is given back, the others finish: asked again with the seed that gave
        the batch, it must offer that point again, as the place it held is free. One that counts
        trials instead (sobol skipping as many points of its sequence as trials used budget)
        skips the point: a resumed run never tries it, and only a point given back last came
        back. Adaptive algorithms learned from the finished trials, so the check leaves them out."""
        problem = self.given_back_problem(finite=False)  # first: it says when the plug-in is not registered
        if self.adaptive or self.repeats_points:
            return
        first = self.ask(problem, [], [], 4, seed=5)
        assert len(first.assignments) > 1, "fewer than two points from an empty history: the check says nothing"
        back = _given_back("g0", first.assignments[0], first, 0)
        finished = [
            FinishedTrial(f"t{index}", assignment, TrialStatus.SUCCEEDED, self.reported(objective(assignment)))
            for index, assignment in enumerate(first.assignments[1:], 1)
        ]
        again = self.ask(problem, [back, *finished], [], 4, seed=5)
        keys = [problem.space.key(a) for a in again.assignments]
        assert problem.space.key(back.assignment) in keys, (
            f"the point of trial g0, given back while the {len(finished)} after it finished, was not offered again "
            f"(got {again.assignments}): a given-back trial's point or place must be asked for again"
        )
        _check_repeats_marked(problem, [back, *finished], again)

    def test_trials_given_back_do_not_cut_the_search_short(self) -> None:
        if self.repeats_points:  # it never ends on its own: the check above is the one that applies
            return
        problem = self.given_back_problem(finite=True)
        whole, _ = self._run_to_the_end(problem, give_back=False)
        cut, given = self._run_to_the_end(problem, give_back=True)
        assert given, "no trial was given back: the check says nothing"
        keys = [problem.space.key(t.assignment) for t in cut]
        assert len(keys) == len(set(keys)), "a point was tried twice"
        assert len(cut) == len(whole), (
            f"with {given} trial(s) given back the algorithm said exhausted after {len(cut)} trial(s) that used budget, "
            f"without any given back after {len(whole)}: a given-back trial's point or place must be asked for again"
        )

    def _run_to_the_end(self, problem: Problem, give_back: bool) -> tuple[list[FinishedTrial], int]:
        """Rounds of 3 until the algorithm says exhausted, each trial finished before the next
        round; with ``give_back``, the first trial of every other round is given back (each point
        once). A round that said exhausted but had a trial given back does not end the run, as it
        does not end an experiment (``core.state.ExperimentState.exhausted``): the algorithm is
        asked again. Returns (the trials that used budget, how many were given back)."""
        history: list[FinishedTrial] = []
        given: set[Any] = set()
        for round_index in range(60):
            result = self.ask(problem, history, [], 3, seed=round_index)
            _check_repeats_marked(problem, history, result)
            gave_back = False
            for index, assignment in enumerate(result.assignments):
                key = problem.space.key(assignment)
                if give_back and index == 0 and round_index % 2 == 0 and key not in given:
                    given.add(key)
                    history.append(_given_back(f"t{len(history)}", assignment, result, index))
                    gave_back = True
                else:
                    value = self.reported(objective(assignment))
                    labels = result.labels[index] if result.labels else {}
                    history.append(FinishedTrial(f"t{len(history)}", assignment, TrialStatus.SUCCEEDED, value, {"loss": value}, labels))
            if result.exhausted and not gave_back:
                break
        else:
            raise AssertionError("never said exhausted")
        final = self.ask(problem, history, [], 2, seed=99)
        assert final.assignments == [] and final.exhausted, f"said exhausted, then gave {len(final.assignments)} more point(s)"
        return spent(history), len(given)


def _flag(name: str, value: object) -> bool:
    """``value`` as a contract flag set on an instance: a bool (a property that reads a flag set
    on an instance would take any truthy value for True)."""
    if not isinstance(value, bool):
        raise TypeError(f"AlgorithmContract.{name} is True or False, got {value!r} ({type(value).__name__})")
    return value


class AlgorithmContract(GivenBackContract):
    """Subclass with ``algorithm_name`` (and optionally ``settings``) to check an algorithm;
    a second subclass with ``objective_type = "maximize"`` checks the other direction."""

    stepped_doubles: ClassVar[bool] = False
    """Set for algorithms that need a step on every double (grid)."""
    waits_for_results: ClassVar[bool] = False
    """Whether it may give fewer points than asked, with ``waiting=True``, until running trials
    end (hyperband's rungs). It must still give at least one point from an empty history."""

    @property
    def covers_finite_space(self) -> bool:
        """Whether the algorithm tries every point of a finite space before it says it is exhausted
        (hyperband does not: it ends after its brackets). By default what its registration
        declares (:func:`kfp_tune.algorithms.registry.search_end`): ``"on-a-finite-space"`` or
        nothing declared, yes; ``"after-its-schedule"`` (its schedule may end first) or
        ``"never"``, no. A suite may set it (``covers_finite_space = True`` for grid, whose
        schedule is every point): in its class body, on the class, or on an instance
        (``setup_method``, a fixture), for that instance only."""
        set_here = self.__dict__.get("covers_finite_space")
        return set_here if set_here is not None else registry.search_end(self.registered_name()) not in ("after-its-schedule", "never")

    @covers_finite_space.setter
    def covers_finite_space(self, value: bool) -> None:
        self.__dict__["covers_finite_space"] = _flag("covers_finite_space", value)

    @property
    def ends_on_its_own(self) -> bool:
        """Whether it has a finite schedule of its own and says ``exhausted`` when that is done,
        even on an infinite space (hyperband, after its last bracket). By default whether its
        registration declares ``ends="after-its-schedule"``; a suite may set it, as
        :attr:`covers_finite_space`."""
        set_here = self.__dict__.get("ends_on_its_own")
        return set_here if set_here is not None else registry.search_end(self.registered_name()) == "after-its-schedule"

    @ends_on_its_own.setter
    def ends_on_its_own(self, value: bool) -> None:
        self.__dict__["ends_on_its_own"] = _flag("ends_on_its_own", value)

    direction_trials: ClassVar[int] = 24
    """How many trials each run of the direction check finishes (in batches of 4) before its
    last batch: enough for model-based algorithms to be past their random start-up trials."""

    def space(self) -> SearchSpace:
        return self.adjust(mixed_space(stepped=self.stepped_doubles))

    def adjust(self, space: SearchSpace) -> SearchSpace:
        """The space the algorithm searches (a hook for algorithms that own a parameter)."""
        return registry.problem_space(self.registered_name(), space, self.problem_settings())

    def given_back_problem(self, finite: bool) -> Problem:
        return self.problem(self.adjust(finite_space()) if finite else self.space())

    # --- helpers -------------------------------------------------------------------------
    def problem(self, space: SearchSpace) -> Problem:
        return Problem(space=space, objective_type=ObjectiveType(self.objective_type), objective_metric="loss", settings=self.problem_settings())

    def suggest(self, space: SearchSpace, history: list[FinishedTrial], pending: list[dict[str, Value]], n: int, seed: int = 0) -> Suggestions:
        return self.ask(self.problem(space), history, pending, n, seed)

    def history(self, space: SearchSpace, count: int, seed: int = 99) -> list[FinishedTrial]:
        """Finished trials from the algorithm's own suggestions, with some failures mixed in."""
        out: list[FinishedTrial] = []
        while len(out) < count:
            batch = self.suggest(space, out, [], min(4, count - len(out)), seed=seed + len(out))
            for assignment in batch.assignments:
                index = len(out)
                if index % 5 == 3:
                    out.append(FinishedTrial(f"t{index}", assignment, TrialStatus.FAILED))
                elif index % 7 == 5:
                    out.append(FinishedTrial(f"t{index}", assignment, TrialStatus.METRICS_UNAVAILABLE))
                else:
                    value = self.reported(objective(assignment))
                    out.append(FinishedTrial(f"t{index}", assignment, TrialStatus.SUCCEEDED, value, {"loss": value}))
            if batch.exhausted:
                break
        return out

    # --- the contract --------------------------------------------------------------------
    def test_makes_progress_from_an_empty_history(self) -> None:
        space = self.space()
        result = self.suggest(space, [], [], 6, seed=3)
        assert not result.exhausted, "said the space is exhausted before anything was tried"
        count = len(result.assignments)
        if result.waiting and self.waits_for_results:
            assert 1 <= count <= 6, f"{count} points while waiting: nothing to wait for yet"
        else:
            assert count == 6 and not result.waiting, f"asked for 6 points, got {count} (waiting={result.waiting})"
        keys = [space.key(a) for a in result.assignments]
        assert len(set(keys)) == count or self.repeats_points, "a point suggested twice in one batch"
        for assignment in result.assignments:
            assert space.contains(assignment), infeasible(space, assignment)
        if self.covers_finite_space:
            small = self.adjust(finite_space())
            everything = self.suggest(small, [], [], 20, seed=4)
            keys = [small.key(a) for a in everything.assignments]
            assert len(keys) == len(set(keys)) == 12, f"asked for more than the space holds, got {len(set(keys))} of its 12 points"
            outside = [a for a in everything.assignments if not small.contains(a)]
            assert not outside, f"makes progress from an empty history: on the finite space, {infeasible(small, outside[0])}" if outside else ""

    def test_returns_exactly_n_feasible_new_points(self) -> None:
        space = self.space()
        history = self.history(space, 12)
        pending = self.suggest(space, history, [], 3, seed=5).assignments
        result = self.suggest(space, history, pending, 6, seed=6)
        allowed = (result.waiting and self.waits_for_results) or (result.exhausted and self.ends_on_its_own)
        if allowed:
            assert len(result.assignments) <= 6, f"exactly n feasible new points: asked for 6, got {len(result.assignments)} (waiting={result.waiting}, exhausted={result.exhausted})"
        else:
            assert len(result.assignments) == 6 and not result.exhausted, (
                f"asked for 6 points of an infinite space, got {len(result.assignments)} (exhausted={result.exhausted}, waiting={result.waiting})"
            )
        taken = {space.key(t.assignment) for t in history} | {space.key(a) for a in pending}
        keys = [space.key(a) for a in result.assignments]
        if not self.repeats_points:
            assert len(set(keys)) == len(keys), "a point suggested twice in one batch"
            assert not taken & set(keys), "a point already tried or pending suggested again"
        for assignment in result.assignments:
            assert space.contains(assignment), infeasible(space, assignment)

    def test_values_have_the_parameter_types(self) -> None:
        space = self.space()
        for assignment in self.suggest(space, [], [], 5).assignments:
            for name in ("lr", "momentum", "dropout"):
                assert isinstance(assignment[name], float), _wrong_type(assignment, name, "float")
            assert isinstance(assignment["layers"], int) and not isinstance(assignment["layers"], bool), _wrong_type(assignment, "layers", "int")
            for name, choices in (("batch", ("16", "32", "64")), ("optimizer", ("sgd", "adam", "ftrl"))):
                assert assignment[name] in choices, f"parameter types: {name!r} is {assignment[name]!r}; expected one of {choices} (str), in {assignment}"
            dropout = float(assignment["dropout"])  # a float: checked above
            assert abs(dropout * 10 - round(dropout * 10)) < 1e-9, f"parameter types: 'dropout' is {dropout!r}; expected a multiple of its step 0.1, in {assignment}"

    def test_same_seed_same_suggestions(self) -> None:
        space = self.space()
        history = self.history(space, 8)
        first = self.suggest(space, history, [], 4, seed=42)
        second = self.suggest(space, history, [], 4, seed=42)
        assert [space.key(a) for a in first.assignments] == [space.key(a) for a in second.assignments], (
            f"same seed, same suggestions: two calls with seed 42 and the same history of {len(history)} trials gave {first.assignments} first, "
            f"then {second.assignments}; an answer must depend only on the history, the problem and the rng handed over "
            "(no state kept between calls: a counter, a cache, a generator of its own)"
        )

    def test_zero_asked_zero_given(self) -> None:
        given = self.suggest(self.space(), [], [], 0).assignments
        assert given == [], f"zero asked, zero given: asked for 0 points, got {len(given)}: {given}"

    def test_finite_space_ends_cleanly(self) -> None:
        space = self.adjust(finite_space())
        history: list[FinishedTrial] = []
        for round_index in range(20):
            result = self.suggest(space, history, [], 5, seed=round_index)
            if self.repeats_points:  # it never ends on its own: it keeps giving feasible points
                assert len(result.assignments) == 5 and not result.exhausted, (
                    f"a finite space ends cleanly: an algorithm that repeats points must keep giving them; asked for 5 in round {round_index}, "
                    f"got {len(result.assignments)} (exhausted={result.exhausted})"
                )
                for assignment in result.assignments:
                    assert space.contains(assignment), f"a finite space ends cleanly: {infeasible(space, assignment)}"
            for assignment in result.assignments:
                value = objective(assignment)
                history.append(FinishedTrial(f"t{len(history)}", assignment, TrialStatus.SUCCEEDED, value, {"loss": value}))
            if result.exhausted:
                break
        else:
            if self.repeats_points:
                return
            keys = [space.key(t.assignment) for t in history]
            twice = _twice(keys, space.names)
            raise AssertionError(
                f"a finite space ends cleanly: 20 calls asking for 5 points each never said exhausted, on a space of 12 points "
                f"({len(set(keys))} of them given)" + (f"; points suggested twice: {twice}" if twice else "")
            )
        keys = [space.key(t.assignment) for t in history]
        twice = _twice(keys, space.names)
        assert not twice, f"a finite space ends cleanly: points suggested twice (already tried, in the history handed over): {twice}"
        if self.covers_finite_space:
            assert len(keys) == 12, (
                f"a finite space ends cleanly: said exhausted after {len(keys)} of the space's 12 points; an algorithm registered "
                "ends='on-a-finite-space' (or declaring nothing) tries every point first (ends='after-its-schedule' may end sooner)"
            )
        again = self.suggest(space, history, [], 3)
        assert again.assignments == [] and again.exhausted, (
            f"a finite space ends cleanly: asked again once every point was tried, got {len(again.assignments)} point(s) (exhausted={again.exhausted}); "
            "expected none, and exhausted=True"
        )

    def test_leaves_history_and_pending_as_they_were(self) -> None:
        """The history is the experiment's own finished trials, kept for the next call in the
        same process (the inline engine): an algorithm that changed one (an assignment, its
        metrics or labels) or a pending assignment would change what every later call sees, and
        only where the engine runs the suggest steps in one process."""
        space = self.space()
        first = self.suggest(space, [], [], 13, seed=5)  # points, labels and dicts never handed to it yet
        assert len(first.assignments) > 1, "fewer than two points from an empty history: the check says nothing"
        cut = len(first.assignments) * 3 // 4
        history = [self._finished(f"t{index}", assignment, first, index) for index, assignment in enumerate(first.assignments[:cut])]
        pending = first.assignments[cut:]
        before = copy.deepcopy((history, pending))
        self.suggest(space, history, pending, 4, seed=6)
        changed = [f"history[{i}] ({was.name})" for i, (was, now) in enumerate(zip(before[0], history, strict=True)) if was != now]
        changed += [f"pending[{i}]" for i, (was, now) in enumerate(zip(before[1], pending, strict=True)) if was != now]
        assert not changed, f"suggest changed {', '.join(changed)} in place: {READ_ONLY_INPUTS}"

    def _finished(self, name: str, assignment: dict[str, Value], result: Suggestions, index: int) -> FinishedTrial:
        """A suggestion's trial, finished: failed every fifth, else succeeded with its loss and labels."""
        labels = dict(result.labels[index]) if result.labels else {}
        if index % 5 == 3:
            return FinishedTrial(name, assignment, TrialStatus.FAILED, labels=labels)
        value = self.reported(objective(assignment))
        return FinishedTrial(name, assignment, TrialStatus.SUCCEEDED, value, {"loss": value}, labels)

    def test_same_suggestions_in_a_fresh_interpreter(self) -> None:
        """Every pipeline step is a fresh process (a kfp.local subprocess, a pod), so a seeded
        experiment repeats its trials, and a resumed one goes on as it would have, only if an
        answer depends on nothing but the history, the problem and ``rng``: not on the order a
        set of strings iterates in (PYTHONHASHSEED), object ids or anything kept in the process.
        Two fresh interpreters answer the question (:func:`reference_suggestions`) that this one
        answers, once per algorithm and settings in a process, at the two PYTHONHASHSEEDs of
        :func:`fresh_hash_seeds`; the three answers must be the same. Each imports kfp_tune,
        which loads the installed plug-ins; when that does not register the same class under
        ``algorithm_name`` (a plug-in imported by hand), it imports the module that defines this
        suite, as this suite's module imports the plug-in.

        What it catches: an answer that depends on the order of a set (or a dict built from one)
        of the problem's own strings (its parameter names, a parameter's choices), every time,
        whatever this process's PYTHONHASHSEED, as the two seeds order each such set apart at
        every place; of other strings (the plug-in's own), most of the time but not always (two
        seeds order a set of three strings alike about one time in five; this process is a third
        try, at its own seed); state kept in the process, when this process's earlier calls
        changed it; ``id()`` and other randomness, most of the time; a plug-in a step would not
        have. What it cannot: a dependence that shows only after another history (it asks after
        one, fixed), only on another machine or Python (CPU count, library versions, the BLAS's
        rounding), or only in a later call of one process (every call of a run builds the
        algorithm afresh, but a module's own cache is the plug-in's to keep sound)."""
        name = self.registered_name()
        size = 3 if self.waits_for_results else 12  # hyperband (r_l 3, eta 3) gives nothing after 12 of its trials: it waits for its rung
        request = {
            "algorithm_name": name,
            "settings": self.settings,
            "stepped_doubles": self.stepped_doubles,
            "history_size": size,
            "algorithm_class": _class_name(name, self.problem_settings()),
            "suite": type(self).__name__,
            "suite_module": type(self).__module__,
            "suite_file": _source_file(type(self)),
        }
        here, fresh = _answers_here_and_fresh(request, fresh_hash_seeds(self.space()))
        assert here, f"nothing suggested after a history of {size}: the check says nothing"
        for hash_seed, there in fresh.items():
            differ = next((index for index, (one, other) in enumerate(zip(here, there, strict=False)) if one != other), min(len(here), len(there)))
            assert there == here, (
                f"{name!r} suggested other points in a fresh interpreter (PYTHONHASHSEED={hash_seed}) for the same history and seed: "
                f"{len(here)} point(s) here, {len(there)} there, the first difference at suggestion {differ} "
                f"(here {here[differ] if differ < len(here) else None}, there {there[differ] if differ < len(there) else None}). "
                "Every pipeline step is a fresh process: a seeded experiment would not repeat its trials. An answer must depend only on "
                "the history, the problem and rng (not on the order of a set of strings, id() or state kept in the process)"
            )

    def test_history_of_only_failures_is_handled(self) -> None:
        space = self.space()
        failed = [FinishedTrial(f"f{i}", a, TrialStatus.FAILED) for i, a in enumerate(self.suggest(space, [], [], 4).assignments)]
        result = self.suggest(space, failed, [], 3, seed=1)
        assert len(result.assignments) == 3 or (result.waiting and self.waits_for_results) or (result.exhausted and self.ends_on_its_own), (
            f"a history of only failures is handled: asked for 3 points after 4 failed trials, got {len(result.assignments)} "
            f"(waiting={result.waiting}, exhausted={result.exhausted})"
        )


    def test_respects_the_objective_direction(self) -> None:
        """Two seeded runs that differ only in which half of the numeric range is better. Their
        first batch (no history yet) is the same; every later suggestion can differ only
        through the objective values, so the difference between the runs measures the lean."""
        space = self.space()
        low_first = self._direction_run(space, better_low=True)
        high_first = self._direction_run(space, better_low=False)
        if not self.adaptive:
            assert [space.key(a) for a in low_first] == [space.key(a) for a in high_first], (
                "declared not adaptive, but the objective values changed the suggestions"
            )
            return
        assert low_first and high_first, "no suggestions after the first batch"
        lean_low = float(np.mean([self.position(space, a) for a in low_first]))
        lean_high = float(np.mean([self.position(space, a) for a in high_first]))
        assert lean_low < lean_high, (
            f"{self.objective_type}: suggestions went to mean position {lean_low:.3f} when low values were better "
            f"and {lean_high:.3f} when high ones were: the algorithm does not follow the objective's direction"
        )

    @staticmethod
    def position(space: SearchSpace, assignment: dict[str, Value]) -> float:
        """Where an assignment sits in its numeric parameters' ranges: 0 at the low ends, 1 at
        the high ends (in log space for log parameters)."""
        numeric = [p for p in space if p.type in ("double", "int")]
        return float(np.mean([encode_value(p, assignment[p.name]) for p in numeric]))

    def _direction_run(self, space: SearchSpace, better_low: bool) -> list[dict[str, Value]]:
        """Every suggestion after the first batch, in a run whose loss is the position (or one
        minus it), reported with the sign of the objective type."""
        history: list[FinishedTrial] = []
        later: list[dict[str, Value]] = []
        for round_index in range(self.direction_trials // 4 + 1):
            result = self.suggest(space, history, [], 4, seed=round_index)
            if round_index:
                later += result.assignments
            for assignment in result.assignments:
                position = self.position(space, assignment)
                value = self.reported(position if better_low else 1.0 - position)
                history.append(FinishedTrial(f"t{len(history)}", assignment, TrialStatus.SUCCEEDED, value, {"loss": value}))
            if result.exhausted:
                break
        return later


def _given_back(name: str, assignment: dict[str, Value], result: Suggestions, index: int) -> FinishedTrial:
    """The trial of a suggestion, given back (Killed by an interrupted run), with its labels."""
    labels = result.labels[index] if result.labels else {}
    return FinishedTrial(name, assignment, TrialStatus.KILLED, labels=labels, given_back=True)


def _check_repeats_marked(problem: Problem, history: list[FinishedTrial], result: Suggestions) -> None:
    """A point given back and suggested again must come with ``repeats``: the designer refuses
    any point a trial already had otherwise."""
    again = {problem.space.key(t.assignment) for t in history if t.given_back}
    repeated = [a for a in result.assignments if problem.space.key(a) in again]
    assert not repeated or result.repeats, (
        f"suggested the point of a given-back trial again ({repeated[0]}) without repeats=True: the suggest step refuses it as a point suggested twice"
    )


def _registered(suite: str, attribute: str, name: str, registered: bool, register: str) -> str:
    if not name:
        raise AssertionError(f"{suite}: set {attribute} to the name your plug-in registers with {register}")
    if not registered:
        raise AssertionError(
            f"{suite}: {name!r} is not registered: import your plug-in module (the one that calls {register}) "
            "in the test module or a conftest.py, or install its distribution, whose kfp_tune.plugins entry point names it"
        )
    return name


def _parsed(entry: CatalogueEntry, settings: dict[str, Any]) -> dict[str, Any]:
    parsed, errors = parse_settings(entry, [(k, str(v)) for k, v in settings.items()], "settings")
    assert not errors, f"the suite's settings {settings!r} are refused: {'; '.join(f'{path}: {message}' for path, message in errors)}"
    return parsed


class EarlyStoppingContract:
    """Subclass with ``rule_name`` (and optionally ``settings``) to check an early-stopping rule
    as the running-trial monitor asks it (:func:`kfp_tune.algorithms.early_stopping.trial_judge`):
    built from parsed settings, then ``should_stop(objective_type, completed curves, the running
    trial's values so far)``, or, for a Katib-shaped rule (``katib_rules``, as medianstop), the
    stop rules ``katib_rules`` fixes from the completed curves as the trial starts, applied to
    its values. Each check runs for both objective types.

    What it checks: the answer is a bool, the same for the same question, and leaves its inputs
    as they were; a trial that reported nothing is not stopped; a trial at least as good as every
    completed trial at every step is never stopped; (unless ``stops_bad_trials = False``) a
    trial far worse than every completed one is stopped by its last report; and a Katib-shaped
    rule's ``should_stop``, which a run never asks, answers as its ``katib_rules`` do."""

    rule_name: ClassVar[str] = ""
    settings: ClassVar[dict[str, Any]] = {}
    stops_bad_trials: ClassVar[bool] = True
    """Whether, with ``settings``, the rule stops a trial far worse than each of 20 completed
    ones by its 50th report (False for a rule that only ever stops on something else)."""
    steps: ClassVar[int] = 50
    """Reports per curve."""

    def rule(self) -> early_stopping.EarlyStoppingRule:
        name = _registered(type(self).__name__, "rule_name", self.rule_name, self.rule_name in early_stopping.RULES, "kfp_tune.algorithms.early_stopping.register")
        return early_stopping.create(name, _parsed(EARLY_STOPPING[name], self.settings))

    def curves(self, objective_type: str, shift: float) -> list[list[float]]:
        """20 completed trials' curves of a loss falling with the step, as reported (negated
        for maximize); ``shift`` is added to the loss of each."""
        sign = 1.0 if objective_type == "minimize" else -1.0
        return [[sign * (1.0 + 0.05 * trial + shift + 1.0 / (1 + step)) for step in range(self.steps)] for trial in range(20)]

    def answers(self, objective_type: str, completed: list[list[float]], current: list[float]) -> list[bool]:
        """The answer after each report of ``current``, from a rule built for the trial and asked
        as a run asks it (``trial_judge``: a Katib-shaped rule's rules fixed as it starts)."""
        judge, curves = early_stopping.trial_judge(self.rule(), "loss", objective_type, completed)
        return [judge.should_stop(objective_type, curves, current[:count]) for count in range(1, len(current) + 1)]

    def test_answers_a_bool_the_same_each_time_and_leaves_its_inputs_alone(self) -> None:
        for objective_type in ("minimize", "maximize"):
            completed, current = self.curves(objective_type, 0.0), self.curves(objective_type, 0.5)[0]
            before = ([list(c) for c in completed], list(current))
            first = self.answers(objective_type, completed, current)
            assert all(isinstance(answer, bool) for answer in first), f"{objective_type}: should_stop returned {first[:3]}...; expected True or False"
            assert self.answers(objective_type, completed, current) == first, f"{objective_type}: the same question got another answer"
            assert (completed, current) == before, f"{objective_type}: should_stop changed the curves it was given"

    def test_a_trial_with_no_reports_is_not_stopped(self) -> None:
        for objective_type in ("minimize", "maximize"):
            judge, curves = early_stopping.trial_judge(self.rule(), "loss", objective_type, self.curves(objective_type, 0.0))
            assert judge.should_stop(objective_type, curves, []) is False, f"{objective_type}: stopped before any report"

    def test_a_trial_better_than_every_completed_one_is_never_stopped(self) -> None:
        for objective_type in ("minimize", "maximize"):
            best = self.curves(objective_type, -1.0)[0]  # below every completed loss at every step
            stopped = [count for count, answer in enumerate(self.answers(objective_type, self.curves(objective_type, 0.0), best), 1) if answer]
            assert not stopped, f"{objective_type}: a trial better than every completed one was stopped at report {stopped[0]}"

    def test_a_trial_far_worse_than_every_completed_one_is_stopped(self) -> None:
        if not self.stops_bad_trials:
            return
        for objective_type in ("minimize", "maximize"):
            worst = self.curves(objective_type, 10.0)[-1]
            assert any(self.answers(objective_type, self.curves(objective_type, 0.0), worst)), (
                f"{objective_type}: a trial far worse than each of 20 completed ones was never stopped in {self.steps} reports "
                "(set stops_bad_trials = False if the rule never stops on the objective)"
            )


    def test_a_katib_shaped_rule_says_the_same_through_should_stop(self) -> None:
        """A run judges a Katib-shaped rule's trials by the rules ``katib_rules`` fixes and never
        asks its ``should_stop`` (``early_stopping.katib_shaped``): a ``should_stop`` that
        answers otherwise is a second meaning no run follows."""
        rule = self.rule()
        shaped = early_stopping.katib_shaped(rule)
        if shaped is None:  # judged by its should_stop, which the checks above ask
            return
        for objective_type in ("minimize", "maximize"):
            completed = self.curves(objective_type, 0.0)
            rules = shaped.katib_rules("loss", objective_type, completed)
            assert isinstance(rules, list) and all(isinstance(one, StopRule) for one in rules), (
                f"{objective_type}: katib_rules returned {rules!r}; expected a list of kfp_tune.core.records.StopRule"
            )
            for shift in (-1.0, 0.0, 0.5, 10.0):
                current = self.curves(objective_type, shift)[0]
                for count in range(len(current) + 1):
                    by_rules = early_stopping.rules_reached(rules, objective_type, current[:count])
                    asked = rule.should_stop(objective_type, completed, current[:count])
                    assert asked == by_rules, (
                        f"{objective_type}: after {count} report(s) should_stop answered {asked!r} and the rules katib_rules fixes {rules} "
                        f"answer {by_rules}; a run judges the trial by those rules and never asks should_stop. To decide in should_stop, "
                        "override it without katib_rules in the same class (the run then asks should_stop); to keep Katib's fixed "
                        "rules, make should_stop apply them (early_stopping.rules_reached)"
                    )


def reference_suggestions(name: str, settings: dict[str, Any], history_size: int, stepped_doubles: bool | None = None) -> list[dict[str, str]]:
    """What an algorithm suggests after a fixed history: compare across processes to check that
    suggestions depend on nothing but the history and the seed. ``stepped_doubles``: as the
    contract's flag (None: for grid only)."""

    class Contract(AlgorithmContract):
        algorithm_name = name

    Contract.settings = settings
    Contract.stepped_doubles = name == "grid" if stepped_doubles is None else stepped_doubles
    contract = Contract()
    space = contract.space()
    history = contract.history(space, history_size)
    return [space.format(a) for a in contract.suggest(space, history, [], 4, seed=7).assignments]


FIRST_FRESH_HASH_SEED = 1
"""The PYTHONHASHSEED of the first fresh interpreter (:func:`fresh_hash_seeds` picks the second's)."""
_LAST_HASH_SEED_TRIED = 2000
"""Where :func:`fresh_hash_seeds` stops looking (for the contract's problem on CPython 3.11 it
finds 67)."""


def fresh_hash_seeds(space: SearchSpace) -> tuple[str, str]:
    """The PYTHONHASHSEEDs of the contract's two fresh interpreters: :data:`FIRST_FRESH_HASH_SEED`,
    and the first above it under which every set of ``space``'s strings (its parameter names;
    each parameter's choices), made in either order, iterates in another order at every place.
    An answer that depends on the order of such a set then differs between the two, whatever this
    process's seed: the verdict is the same every run. Asked of small interpreters (no site, about
    20 ms of CPU each, so some 1.5 s for the contract's problem on CPython 3.11), once per process
    and set of strings: CPython's string hash is not the same in every version (3.11 changed it),
    so no seed is written down."""
    sets = tuple(tuple(strings) for strings in ([p.name for p in space], *(p.choices for p in space)) if len(strings) > 1)
    return str(FIRST_FRESH_HASH_SEED), _second_hash_seed(sets)


@functools.cache
def _second_hash_seed(sets: tuple[tuple[str, ...], ...]) -> str:
    """The first seed above :data:`FIRST_FRESH_HASH_SEED` that orders each of ``sets`` apart from it."""
    orders = _set_orders(FIRST_FRESH_HASH_SEED, sets)
    for seed in range(FIRST_FRESH_HASH_SEED + 1, _LAST_HASH_SEED_TRIED):
        other = _set_orders(seed, sets)
        if all(one != another for one, another in zip(orders, other, strict=True)):
            return str(seed)
    return str(FIRST_FRESH_HASH_SEED + 1)  # no seed orders them all apart (a Python whose hash ignores the seed): any other


def _set_orders(seed: int, sets: tuple[tuple[str, ...], ...]) -> list[str]:
    """Each set of ``sets`` as an interpreter at ``seed`` iterates it, made in the given order and
    in the reverse one (they differ where two strings collide), flattened: one string a place."""
    code = "import json, sys; print(json.dumps([x for s in json.loads(sys.argv[1]) for made in (s, s[::-1]) for x in set(made)]))"
    done = subprocess.run([sys.executable, "-S", "-c", code, json.dumps(sets)], env={**os.environ, "PYTHONHASHSEED": str(seed)}, capture_output=True, text=True, check=True)
    return list(json.loads(done.stdout))


_ANSWERS: dict[str, tuple[list[dict[str, str]], dict[str, list[dict[str, str]]]]] = {}
"""(this process's answer, each fresh interpreter's by its PYTHONHASHSEED) for each request made
in this process: its fresh interpreters start once per algorithm and settings, whichever
direction's suite asks first (the question is the same: :func:`reference_suggestions` minimizes).
Under pytest-xdist, once per worker that runs one of them."""


def _answers_here_and_fresh(request: dict[str, Any], hash_seeds: Sequence[str]) -> tuple[list[dict[str, str]], dict[str, list[dict[str, str]]]]:
    """(the suggestions of ``request`` here, those of a new interpreter of this Python with this
    process's module search path at each of ``hash_seeds``, by seed). The interpreters run side by
    side."""
    text = json.dumps(request, default=str)
    key = json.dumps({k: v for k, v in request.items() if not k.startswith("suite")}, sort_keys=True, default=str)
    if key in _ANSWERS:
        return _ANSWERS[key]
    here = reference_suggestions(request["algorithm_name"], request["settings"], request["history_size"], stepped_doubles=request["stepped_doubles"])
    search_path = list(dict.fromkeys(os.getcwd() if entry == "" else entry for entry in sys.path))
    code = "import sys; from kfp_tune.algorithms.testing import answer_in_this_interpreter as a; a(sys.argv[1], sys.argv[2])"
    fresh: dict[str, list[dict[str, str]]] = {}
    with tempfile.TemporaryDirectory(prefix="kfp-tune-contract-") as folder:
        started = []
        for hash_seed in hash_seeds:
            environment = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": os.pathsep.join(search_path)}
            answer_file = Path(folder) / f"answer-{hash_seed}.json"
            command = [sys.executable, "-c", code, text, str(answer_file)]
            started.append((hash_seed, answer_file, subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)))
        try:
            for hash_seed, answer_file, child in started:
                _, errors = child.communicate(timeout=600)
                if child.returncode != 0 or not answer_file.exists():
                    raise AssertionError(
                        f"{request['suite']}: a fresh interpreter (PYTHONHASHSEED={hash_seed}) asking {request['algorithm_name']!r} failed "
                        f"(exit {child.returncode}):\n{errors[-3000:]}"
                    )
                answer = json.loads(answer_file.read_text())
                if "not_registered" in answer:
                    raise AssertionError(f"{request['suite']}: {answer['not_registered']}")
                fresh[hash_seed] = answer["suggestions"]
        finally:
            for _, _, child in started:
                if child.poll() is None:
                    child.kill()
                    child.communicate()
    _ANSWERS[key] = (here, fresh)
    return _ANSWERS[key]


def answer_in_this_interpreter(request_text: str, answer_path: str) -> None:
    """The fresh interpreter's side of ``test_same_suggestions_in_a_fresh_interpreter``: writes
    ``{"suggestions": [...]}`` to ``answer_path``, or ``{"not_registered": why}`` when neither
    ``import kfp_tune`` (installed plug-ins) nor importing the suite's module registers the class
    the suite checked under its name."""
    request = json.loads(request_text)
    name, wanted = request["algorithm_name"], request["algorithm_class"]
    settings = request["settings"]
    found = _class_name(name, _parsed(ALGORITHMS[name], settings)) if registry.is_implemented(name) else None
    if found != wanted:
        _import_suite_module(request["suite_module"], request["suite_file"])
        found = _class_name(name, _parsed(ALGORITHMS[name], settings)) if registry.is_implemented(name) else None
    if found != wanted:
        there = "not registered" if found is None else f"{found}, not {wanted}"
        answer: dict[str, Any] = {
            "not_registered": f"in a fresh interpreter, as each pipeline step is, {name!r} is {there}, after import kfp_tune (which loads "
            f"installed plug-ins) and importing the suite's module {request['suite_module']!r}: install the plug-in (a kfp_tune.plugins "
            "entry point), or register it when its module is imported, and import that module at the top of the suite's module"
        }
    else:
        answer = {"suggestions": reference_suggestions(name, settings, request["history_size"], stepped_doubles=request["stepped_doubles"])}
    Path(answer_path).write_text(json.dumps(answer))


def _class_name(name: str, settings: dict[str, Any]) -> str:
    """The class of the algorithm ``name`` builds from parsed ``settings``, module and name."""
    algorithm_class = type(registry.create(name, settings))
    return f"{algorithm_class.__module__}.{algorithm_class.__qualname__}"


def _source_file(suite: type) -> str:
    try:
        return inspect.getfile(suite)
    except (TypeError, OSError):
        return ""


def _import_suite_module(module: str, source: str) -> None:
    """The suite's module, by its name, else from its file (pytest's importlib mode names a test
    module by its path, which may not be importable); a module that cannot be imported is left:
    the caller says the name is not registered."""
    if module == "__main__":
        return
    with contextlib.suppress(Exception):
        importlib.import_module(module)
        return
    if not source:
        return
    with contextlib.suppress(Exception):
        spec = importlib.util.spec_from_file_location(module, source)
        if spec is not None and spec.loader is not None:
            loaded = importlib.util.module_from_spec(spec)
            sys.modules[module] = loaded
            spec.loader.exec_module(loaded)
