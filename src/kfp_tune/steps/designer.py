"""The adapter between an experiment's history and an algorithm (OSS Vizier's designer idea):
the algorithm is rebuilt from every finished trial on each call, with the running ones as
pending, and what it returns is checked against its contract before anything is stored."""

from __future__ import annotations

import bisect
import dataclasses
import traceback
from typing import Any

import numpy as np

from kfp_tune.algorithms import registry
from kfp_tune.algorithms.base import READ_ONLY_INPUTS, FinishedTrial, PendingAssignment, Problem, Suggestions, changes_read_only_inputs
from kfp_tune.core.catalogue import ALGORITHMS, experiment_space, parse_settings
from kfp_tune.core.errors import FieldError, KfpTuneError, SpecError
from kfp_tune.core.naming import NEW_EXPERIMENT_NAMING
from kfp_tune.core.space import SearchSpace
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import ExperimentState, TrialState
from kfp_tune.core.vocabulary import ObjectiveType


def problem_of(experiment: Experiment, uid: str = "") -> Problem:
    spec = experiment.spec
    assert spec.objective is not None and spec.algorithm is not None
    entry = ALGORITHMS[spec.algorithm.algorithm_name]
    settings, _ = parse_settings(entry, [(s.name, s.value) for s in spec.algorithm.algorithm_settings], "")
    return Problem(
        space=registry.problem_space(spec.algorithm.algorithm_name, experiment_space(spec), settings),
        objective_type=ObjectiveType(spec.objective.type),
        objective_metric=spec.objective.objective_metric_name,
        settings=settings,
        max_trial_count=spec.max_trial_count,
        algorithm_settings=tuple((s.name, str(s.value)) for s in spec.algorithm.algorithm_settings),
        nas_config=spec.nas_config.to_dict() if spec.nas_config is not None else None,
        seed=_checked_seed(experiment, settings, uid),
    )


def _checked_seed(experiment: Experiment, settings: dict[str, Any], uid: str) -> int:
    """:func:`experiment_seed`, a ``random_state`` it cannot use refused naming the setting (a
    plug-in's own declaration of it may take text or a negative number)."""
    try:
        return experiment_seed(settings, uid)
    except ValueError:
        given = [index for index, s in enumerate(experiment.spec.algorithm.algorithm_settings) if s.name == "random_state"]  # type: ignore[union-attr]
        where = f"spec.algorithm.algorithmSettings[{given[-1]}].value" if given else "spec.algorithm.algorithmSettings"
        raise SpecError([FieldError(where, f"random_state: expected an integer >= 0 (the experiment's seed, Problem.seed), got {settings['random_state']!r}")]) from None


def experiment_seed(settings: dict[str, Any], uid: str) -> int:
    """``random_state`` when given, else a number derived from the experiment's uid. A plug-in
    algorithm is seeded by the setting of that name it declares (its parsed value: an int, or
    text or a float that is a whole number); ValueError for one that is no integer >= 0."""
    seed = settings.get("random_state")
    if seed is None:
        return int(uid or "0", 36) % (2**31)
    if isinstance(seed, bool) or not isinstance(seed, (int, float, str, np.integer)):
        raise ValueError(f"random_state {seed!r}")
    if isinstance(seed, float) and not seed.is_integer():
        raise ValueError(f"random_state {seed!r}")
    value = int(seed.strip()) if isinstance(seed, str) else int(seed)  # ValueError for text that is no integer
    if value < 0:
        raise ValueError(f"random_state {seed!r}")
    return value


def history_of(state: ExperimentState, space: SearchSpace) -> tuple[tuple[FinishedTrial, ...], list[PendingAssignment]]:
    """(finished trials in index order, assignments still pending) in the algorithms' terms. A
    finished trial is converted once and kept in the state's memo, so this costs what changed
    since the last call, not the whole history; the history is handed out as a tuple, so that
    no caller (an algorithm that appends to what it was given) changes the memo the next call
    reads. The copy costs 4.5 microseconds at 2,000 trials (random's own suggestion there: about
    5 ms), so the cost per trial stays flat."""
    tally = state.tally
    if tally is None:  # a state built by hand: convert everything
        return tuple(_finished(state, space, t) for t in state.trials if t.is_terminal), [_pending(space, t) for t in state.trials if not t.is_terminal]
    # one space per experiment (its hash is checked on resume), so the conversions keep
    memo = state.memo.setdefault("history", {"done": 0, "trials": [], "indexes": []})
    for name in tally.finished[memo["done"]:]:
        trial = state.by_name[name]
        position = bisect.bisect(memo["indexes"], trial.index)
        memo["indexes"].insert(position, trial.index)
        memo["trials"].insert(position, _finished(state, space, trial))
    memo["done"] = len(tally.finished)
    return tuple(memo["trials"]), [_pending(space, t) for t in tally.active.values()]


def _finished(state: ExperimentState, space: SearchSpace, trial: TrialState) -> FinishedTrial:
    return FinishedTrial(trial.name, space.parse(trial.assignment), trial.status, state.objective_value(trial), trial.metrics, dict(trial.labels), trial.given_back)


def _pending(space: SearchSpace, trial: TrialState) -> PendingAssignment:
    return PendingAssignment(space.parse(trial.assignment), trial.name, trial.labels)


def call_rng(problem: Problem, call_seq: int) -> np.random.Generator:
    """The random stream of suggest call ``call_seq``: its own for each call, the same on a rerun
    of that call (the experiment's seed and the call's number, not the clock)."""
    return np.random.default_rng([problem.seed, call_seq])


class AlgorithmError(KfpTuneError):
    """An algorithm broke its contract (:class:`kfp_tune.algorithms.base.Algorithm`): an
    exception from it, or an answer the suggest step refuses. Its message names the algorithm."""


def next_suggestions(state: ExperimentState, problem: Problem, n: int, call_seq: int) -> Suggestions:
    """``n`` new assignments for the experiment (fewer only when the algorithm says why), made
    from every finished trial with the unfinished ones pending, and checked. ``call_seq`` numbers
    the calls, so each gets its own random stream and a rerun gets the same one."""
    history, pending = history_of(state, problem.space)
    name = state.experiment.spec.algorithm.algorithm_name  # type: ignore[union-attr]
    who = f"algorithm {name!r}"
    rng = call_rng(problem, call_seq)  # kfp-tune's own: an error here is not the algorithm's
    try:
        algorithm = registry.create(name, problem.settings)
        who = f"algorithm {name!r} ({type(algorithm).__module__}.{type(algorithm).__qualname__})"
        result = algorithm.suggest(problem, history, tuple(pending), n, rng)
    except KfpTuneError:
        raise  # says what is wrong itself (an algorithm not implemented, darts without a nasConfig)
    except ModuleNotFoundError as exc:
        if not _imported_by_kfp_tune(exc):
            raise _algorithm_failed(who, exc) from exc
        raise  # kfp-tune's own dependency (scipy for 'random'): not the algorithm's, the CLI names the package
    except MemoryError as exc:
        if _is_built_in(who, name):  # kfp-tune's own algorithm: the settings asked for more than the machine has
            raise _settings_too_large(who, problem, exc) from exc
        raise _algorithm_failed(who, exc) from exc
    except Exception as exc:  # the algorithm's defect (often a plug-in's): named, and not called kfp-tune's
        raise _algorithm_failed(who, exc) from exc
    if not isinstance(result, Suggestions):
        raise AlgorithmError(f"{who} returned {type(result).__name__}; expected kfp_tune.algorithms.Suggestions")
    result = _python_values(result)
    if result.exhausted and registry.search_end(name) == "never":
        endless = next((p.name for p in problem.space if p.count() is None), None)
        if endless is not None:  # the space cannot have run out: the claim is the algorithm's, and breaks its declaration
            raise AlgorithmError(
                f"{who} said exhausted, though it registered ends='never' and the search space has no end (parameter {endless!r} is continuous): "
                "the experiment would end as if the space had no more points; an algorithm whose schedule ends registers ends='after-its-schedule'"
            )
    seen = set() if result.repeats else _points(state, problem.space)
    check_suggestions(problem, result.assignments, result.exhausted or result.waiting, n, seen, repeats=result.repeats, who=who)
    check_labels(result, who)
    return result


def _python_values(result: Suggestions) -> Suggestions:
    """The suggestions with numpy scalars (``rng.integers`` gives ``np.int64``) as their Python
    values, as they would be stored: a value in range is not refused for its numpy type. Anything
    else is left for :func:`check_suggestions` to judge."""
    if not any(isinstance(a, dict) and any(isinstance(v, np.generic) for v in a.values()) for a in result.assignments):
        return result
    converted = [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in a.items()} if isinstance(a, dict) else a for a in result.assignments]
    return dataclasses.replace(result, assignments=converted)


def _algorithm_failed(who: str, exc: Exception) -> AlgorithmError:
    """The algorithm's own defect (often a plug-in's), named as such, with where it was raised."""
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    read_only = f" ({READ_ONLY_INPUTS})" if changes_read_only_inputs(exc) else ""
    return AlgorithmError(
        f"{who} raised {type(exc).__name__}: {str(exc)[:300]} (at {frame.filename}:{frame.lineno}, in {frame.name}){read_only}: "
        "the error is in that algorithm, not in kfp-tune"
    )


def _is_built_in(who: str, name: str) -> bool:
    """Whether the algorithm that ran is kfp-tune's own (its class in ``kfp_tune``), not a plug-in's."""
    return who.startswith(f"algorithm {name!r} (kfp_tune.")


def _settings_too_large(who: str, problem: Problem, exc: MemoryError) -> AlgorithmError:
    """A built-in algorithm out of memory: the cause is its settings (enas's controller_hidden_size),
    not the algorithm; nothing was made, and as in Katib the settings cannot change on resume."""
    given = ", ".join(f"{setting}={value}" for setting, value in problem.algorithm_settings) or "the defaults"
    return AlgorithmError(
        f"{who} ran out of memory ({type(exc).__name__}: {str(exc)[:300]}): its algorithmSettings ({given[:300]}) ask for more "
        "than this machine has; nothing ran for this suggestion: no trial was made. As in Katib, an experiment's algorithmSettings "
        f"cannot change once it exists: start a new experiment with smaller settings ({NEW_EXPERIMENT_NAMING}), or delete this one "
        "(kfp-tune delete) and run it again"
    )


def _imported_by_kfp_tune(exc: ModuleNotFoundError) -> bool:
    """Whether the failed import is a statement of kfp-tune's own code (a built-in algorithm, a
    helper a plug-in calls), so the module is kfp-tune's dependency, not a plug-in's: the frame
    that called into importlib is a ``kfp_tune`` module. A missing module of kfp-tune itself
    stays the algorithm's error, as before."""
    if (exc.name or "").split(".")[0] in ("", "kfp_tune"):
        return False
    importer = None
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        if str(frame.f_globals.get("__name__", "")).startswith("importlib"):
            break
        importer = frame
    name = str(importer.f_globals.get("__name__", "")) if importer is not None else ""
    return name == "kfp_tune" or name.startswith("kfp_tune.")


def _points(state: ExperimentState, space: SearchSpace) -> set[Any]:
    """Every trial's point (finished or not), each computed once and kept in the state's memo."""
    if state.tally is None:
        return {space.key(space.parse(t.assignment)) for t in state.trials}
    memo = state.memo.setdefault("points", {"done": 0, "set": set()})
    for name in state.tally.created[memo["done"]:]:
        memo["set"].add(space.key(space.parse(state.by_name[name].assignment)))
    memo["done"] = len(state.tally.created)
    points: set[Any] = memo["set"]
    return points


def check_suggestions(
    problem: Problem, out: list[dict[str, Any]], explained: bool, n: int, seen: set[Any], repeats: bool = False, who: str = "the algorithm"
) -> None:
    """Hold every algorithm to its contract, so a plug-in bug cannot corrupt the experiment:
    at most ``n``, fewer only when explained, feasible, and none of the points already ``seen``
    (every trial's, finished or pending) nor twice, unless the algorithm says it ``repeats``
    points on purpose (pbt; bayesianoptimization on noisy losses). ``who``: the algorithm, as
    the error names it."""
    space = problem.space
    if len(out) > n:
        raise AlgorithmError(f"{who} returned {len(out)} suggestions for {n} asked: more than asked is never allowed")
    if len(out) < n and not explained:
        raise AlgorithmError(f"{who} returned {len(out)} suggestions for {n} asked and said neither exhausted (the space has no more) nor waiting (for results)")
    fresh: set[Any] = set()
    for assignment in out:
        if (infeasible := space.problem(assignment)) is not None:
            raise AlgorithmError(f"{who} suggested an infeasible point {assignment!r}: {infeasible}")
        key = space.key(assignment)
        if repeats:
            continue
        if key in seen or key in fresh:
            raise AlgorithmError(f"{who} suggested a point twice: {dict(zip(space.names, key, strict=True))}")
        fresh.add(key)


def check_labels(result: Suggestions, who: str = "the algorithm") -> None:
    """Labels, when given, are one mapping of strings per suggestion (the Kubernetes launcher
    checks them as label names and values, as it does the template's own)."""
    if result.labels is None:
        return
    if len(result.labels) != len(result.assignments):
        raise AlgorithmError(f"{who} returned labels for {len(result.labels)} suggestions and {len(result.assignments)} suggestions")
    for labels in result.labels:
        if not isinstance(labels, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
            raise AlgorithmError(f"{who} returned labels {labels!r}; expected a mapping of strings to strings")
