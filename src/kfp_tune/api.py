"""``kfp_tune.tune``: tune a Python function with the same steps and store as a pipeline run."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import inspect
import logging
import math
import numbers
import os
import re
import threading
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any, ClassVar, cast, overload

from kfp_tune.collectors.push import reports_in_this_thread
from kfp_tune.collectors.stdout import DEFAULT_FORMAT_NAME
from kfp_tune.core.catalogue import DEFAULT_ALGORITHM
from kfp_tune.core.decision import trials_killed_by_interrupt
from kfp_tune.core.errors import ExperimentConflict, FieldError, RunInterrupted, SpecError, shown
from kfp_tune.core.interfaces import LaunchOutcome, Store, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.naming import dns_label
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.space import SearchSpace
from kfp_tune.core.spec import (
    AlgorithmSpec,
    CollectorSpec,
    Experiment,
    ExperimentSpec,
    MetricsCollectorSpec,
    NameValue,
    ObjectiveSpec,
    ObjectMeta,
    TrialParameterSpec,
    TrialTemplate,
)
from kfp_tune.core.state import ExperimentView
from kfp_tune.core.vocabulary import FUNCTION_TRIAL_KIND, TERMINAL_STATUSES, LaunchPhase, TrialStatus
from kfp_tune.inline_runner import MAX_LOCAL_SLOTS, run_inline
from kfp_tune.launchers.function import CallersLine, FunctionLauncher, calls_left_running
from kfp_tune.search import NAMED_TEXT_SINCE, as_given, categorical_objects, fixed_values, is_searched, to_parameters
from kfp_tune.stores import as_store, is_store, open_store, refuse_empty_store

if TYPE_CHECKING:
    from kfp_tune.remote import RemoteTuning

FUNCTION_CONTAINER = "objective"
PARAMETER_NAME = re.compile(r"[^\s'\"{}$\\]+")
"""A parameter name ``tune()`` takes: one word, nothing that ends a ``${trialParameters.x}``."""

_ARGUMENTS = (
    ("metadata.name", "name"),
    ("spec.objective.objectiveMetricName", "objective_metric_name"),
    ("spec.objective.additionalMetricNames", "additional_metric_names"),
    ("spec.objective.type", "objective_type"),
    ("spec.objective.goal", "goal"),
    ("spec.objective", "objective_metric_name"),
    ("spec.algorithm.algorithmSettings", "algorithm_settings"),
    ("spec.algorithm.algorithmName", "algorithm"),
    ("spec.algorithm", "algorithm"),
    ("spec.maxTrialCount", "max_trial_count"),
    ("spec.parallelTrialCount", "parallel_trial_count"),
    ("spec.maxFailedTrialCount", "max_failed_trial_count"),
    ("spec.parameters", "parameters"),
)
"""Which ``tune()`` argument each part of the experiment it builds comes from."""


class TuneArgumentError(SpecError, ValueError):
    """A ``tune()`` argument that cannot be used. ``errors`` keep Katib's field paths; the
    message names the argument each came from."""

    argument_names: ClassVar[Mapping[str, str]] = {}
    """The caller's name of an argument whose name is not ``kfp_tune.tune``'s (KatibClient's ``objective_goal``)."""

    def __init__(self, errors: list[FieldError], parameters: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None):
        super().__init__(errors)
        self.args = ("tune(): " + "; ".join(self._told(e, parameters or {}, settings or {}) for e in self.errors),)

    def _told(self, error: FieldError, parameters: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
        """The problem as the argument it came from, then its field in the experiment (none
        for an argument that makes no field: the store)."""
        argument = _argument_path(_setting_path(_parameter_path(error.path, parameters), settings), self.argument_names)
        return f"{argument}: {error.message}" if argument == error.path else f"{argument} ({error.path}): {error.message}"


class TuneArgumentTypeError(TuneArgumentError, TypeError):
    """A ``tune()`` argument of the wrong type (``max_trial_count="3"``): a TuneArgumentError as
    every refused argument is, and the TypeError it was before, for callers that catch that."""


def _refused(path: str, message: str, kind: type[TuneArgumentError] = TuneArgumentError) -> TuneArgumentError:
    """A ``tune()`` argument refused before the experiment is built: ``path`` is its field in
    the experiment (``spec.maxTrialCount``), or the argument's name where it makes none."""
    return kind([FieldError(path, message)])


class ObjectiveArgumentError(TypeError, ValueError):
    """An objective ``tune()`` cannot call with the parameters dict (not callable, or taking
    other arguments): the TypeError ``kfp_tune.tune`` raises, and the ValueError Katib's SDK
    raises for it (utils.py, ``validate_objective_function``), which ``KatibClient.tune``
    users catch."""


def _argument_path(path: str, argument_names: Mapping[str, str]) -> str:
    """A Katib field path as the ``tune()`` argument it came from (by the caller's name of it,
    ``argument_names``): ``spec.parameters[1].feasibleSpace.max`` becomes ``parameters['lr'].max``
    when the second parameter is ``lr``."""
    for prefix, argument in _ARGUMENTS:
        if path == prefix or path.startswith((prefix + ".", prefix + "[")):
            return argument_names.get(argument, argument) + path[len(prefix):]
    return path


def _check_tune_arguments(arguments: dict[str, Any]) -> None:
    """TuneArgumentError (TuneArgumentTypeError for a wrong type), naming the argument, for what ``tune()`` cannot use, before
    anything is created: a run must not start (and say Succeeded) on a mistaken call."""
    objective = arguments["objective"]
    if not callable(objective):
        raise ObjectiveArgumentError(f"tune(): objective must be a function taking the parameters as a dict, got {type(objective).__name__} {shown(objective)}")
    _check_objective_shape(objective)
    if not isinstance(arguments["parameters"], Mapping) or not arguments["parameters"]:
        raise _refused("spec.parameters", "expected a non-empty dict of name: kfp_tune.search.double/int/categorical/discrete(...), "
                       f"got {shown(arguments['parameters'])}", TuneArgumentTypeError)
    if not any(is_searched(value) for value in arguments["parameters"].values()):
        raise _refused("spec.parameters", "expected at least one to search (kfp_tune.search.double/int/categorical/discrete(...)); every value "
                       f"is fixed: {shown(dict(arguments['parameters']))} (Katib refuses an experiment without spec.parameters too)")
    for key, value in arguments["parameters"].items():
        if not isinstance(key, str) or not key:
            raise _refused("spec.parameters", f"expected every name a non-empty string, got {shown(key)}", TuneArgumentTypeError)
        if is_searched(value) and not PARAMETER_NAME.fullmatch(key):
            raise _refused("spec.parameters", f"the name {shown(key)} cannot be used: a name is put in the trial's placeholders and "
                           "tables, so no spaces, quotes, braces, '$' or backslashes (e.g. 'learning_rate')")
    for key, path in (("objective_metric_name", "spec.objective.objectiveMetricName"), ("objective_type", "spec.objective.type"),
                      ("algorithm", "spec.algorithm.algorithmName")):
        if not isinstance(arguments[key], str) or not arguments[key]:
            raise _refused(path, f"expected a non-empty string, got {shown(arguments[key])}", TuneArgumentTypeError)
    _check_function_algorithm(arguments["algorithm"])
    refuse_empty_store(arguments["store"], "tune(): store")  # else taken as not given: the default store, silently (as kfp-tune --store '' is refused)
    store = arguments["store"]
    if store is not None and not isinstance(store, (str, os.PathLike)) and not is_store(store):
        raise _refused("store", f"expected a URI, a folder, a Store object (kfp_tune.core.interfaces.Store) or None, got {shown(store)}", TuneArgumentTypeError)
    if arguments["name"] is not None and not isinstance(arguments["name"], str):  # the experiment's metadata.name, not a path
        raise _refused("metadata.name", f"expected the experiment's name, a string (e.g. 'lr-search'), or None, got {shown(arguments['name'])}",
                       TuneArgumentTypeError)
    settings = arguments["algorithm_settings"]
    if settings is not None and not isinstance(settings, Mapping):
        raise _refused("spec.algorithm.algorithmSettings", f"expected a dict of name: value or None, got {shown(settings)}", TuneArgumentTypeError)
    names = arguments["additional_metric_names"]
    if names is not None and (not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names)):
        raise _refused("spec.objective.additionalMetricNames", f"expected a list of strings or None, got {shown(names)}", TuneArgumentTypeError)
    for key, path, required in (("max_trial_count", "spec.maxTrialCount", False), ("parallel_trial_count", "spec.parallelTrialCount", True),
                                ("max_failed_trial_count", "spec.maxFailedTrialCount", False)):
        value = arguments[key]
        if value is None and not required:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise _refused(path, f"expected an integer{'' if required else ' or None'}, got {shown(value)}", TuneArgumentTypeError)
    if arguments["parallel_trial_count"] > MAX_LOCAL_SLOTS:
        raise _refused("spec.parallelTrialCount", f"expected at most {MAX_LOCAL_SLOTS} (a thread each, in this process), got {arguments['parallel_trial_count']}")
    goal = arguments["goal"]
    if goal is not None and not is_finite_number(goal):
        raise _refused("spec.objective.goal", f"expected a finite number or None, got {shown(goal)}")


_SEARCH_HELPERS = {"double": "search.double(min, max)", "int": "search.int(min, max)", "categorical": "search.categorical([...])",
                   "discrete": "search.discrete([...])"}
"""The call each ``search`` helper needs, for a helper given uncalled."""


def _number_text(value: Any) -> str:
    """A number as the helper call to write would hold it: ``10``, ``0.01``."""
    return str(int(value)) if isinstance(value, numbers.Integral) else repr(float(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _range_call(low: Any, high: Any, step: Any = None) -> str:
    """``search.int(1, 9)`` or ``search.double(0.01, 10)``, by whether both ends are integers."""
    helper = "int" if isinstance(low, numbers.Integral) and isinstance(high, numbers.Integral) else "double"
    stepped = "" if step is None or step == 1 else f", step={_number_text(step)}"
    return f"search.{helper}({_number_text(low)}, {_number_text(high)}{stepped})"


def search_lookalike(value: Any) -> str | None:
    """The ``search`` helper call that searches what a fixed ``parameters`` value looks like a
    search space of (a two-number tuple, a list, a ``range``, a ``{"min", "max"}`` dict, a helper
    left uncalled, a scipy.stats distribution); None for a value that reads as a constant
    (a number, a string, a bool, None, anything else)."""
    from kfp_tune import search

    if isinstance(value, tuple) and len(value) == 2 and all(_is_number(v) for v in value):
        if value[0] < value[1]:
            return _range_call(*value)
        # (64, 32): no range tune() takes; (224, 224): a shape, nothing to search
        return f"search.categorical({shown(list(value))})" if value[0] > value[1] else None
    if isinstance(value, list):
        helper = "discrete" if all(_is_number(v) for v in value) else "categorical"
        return f"search.{helper}({shown(value)})" if _searchable_list(value) else None
    if isinstance(value, range):
        return _range_call(min(value), max(value), abs(value.step)) if len(value) > 1 else None
    if isinstance(value, Mapping) and {"min", "max"} <= set(value) and all(_is_number(value[k]) for k in ("min", "max")):
        return _range_call(value["min"], value["max"]) if value["min"] < value["max"] else None
    for helper, call in _SEARCH_HELPERS.items():
        if value is getattr(search, helper, None):
            return call
    if type(value).__module__.startswith("scipy.stats") and hasattr(value, "rvs") and hasattr(value, "support"):
        return _distribution_call(value)
    return None


def _searchable_list(values: list[Any]) -> bool:
    """Whether ``search.categorical(values)`` is one tune() takes: at least two values, none
    given twice or equal to another ([64, 64, 32] is a constant, say layer sizes)."""
    from kfp_tune import search

    if len(values) < 2:
        return False
    try:
        texts = search.categorical(values).feasible_space.list or []
    except (TypeError, ValueError):
        return False
    return len(set(texts)) == len(texts)


def _distribution_call(frozen: Any) -> str:
    """The helper call for a scipy.stats frozen distribution: its support's ends where finite,
    and Katib's name for its distribution where Katib has one."""
    distribution = {"loguniform": "logUniform", "reciprocal": "logUniform", "norm": "normal", "lognorm": "logNormal"}.get(
        getattr(getattr(frozen, "dist", None), "name", ""), "")
    try:
        low, high = frozen.support()
        finite = math.isfinite(float(low)) and math.isfinite(float(high))
    except (TypeError, ValueError):
        low, high, finite = None, None, False
    is_discrete = type(frozen).__name__.startswith("rv_discrete")
    named = f", distribution={distribution!r}" if distribution else ""
    if not finite:
        return f"search.{'int' if is_discrete else 'double'}(min, max{named})"
    if is_discrete:
        return f"search.int({int(low)}, {int(high)}{named})"
    return f"search.double({float(low)!r}, {float(high)!r}{named})"


def _warn_of_lookalikes(parameters: Mapping[str, Any], caller: str, stacklevel: int) -> None:
    """One UserWarning for each fixed value that looks like a search space (:func:`search_lookalike`),
    before anything runs: it is passed to every trial as it is, as Katib's SDK passes it, which is
    allowed, but seldom what a tuple of two numbers or an uncalled helper was meant for."""
    for name, value in parameters.items():
        if is_searched(value):
            continue
        call = search_lookalike(value)
        if call is not None:
            told = f"search.{value.__name__} itself, not called" if call in _SEARCH_HELPERS.values() else shown(value)
            if isinstance(value, tuple) and call.startswith("search.categorical("):  # (64, 32): no range
                taken, searched = "one tuple passed to every trial as it is", "to search among its values"
            else:
                taken, searched = "passed to every trial as it is", "to search it"
            warnings.warn(f"{caller}: parameters[{name!r}] is fixed to {told}, {taken}; {searched}, use {call}", UserWarning, stacklevel=stacklevel + 1)


def is_finite_number(value: Any) -> bool:
    """Whether ``value`` is a number an objective's goal can be (Katib's ``Goal *float64``): a
    real, not a bool, finite as a float."""
    return not isinstance(value, bool) and isinstance(value, numbers.Real) and _finite_float(value)


def _finite_float(value: numbers.Real) -> bool:
    """Whether ``value`` is a finite float: an int beyond a float's range (10**400) is not, where
    ``float()`` raises OverflowError for it."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


NOT_FOR_FUNCTIONS = {
    "pbt": "keeps each trial's checkpoint and starts a child from its parent's, which a function's trial has no place for: "
           "write the Experiment as YAML (images/pbt-digits is an example)",
}
"""Algorithms ``tune()`` cannot run a function's trials with, and why (architecture searches,
which search ``spec.nasConfig``, are told apart by the catalogue)."""


def _check_function_algorithm(algorithm: str) -> None:
    """TuneArgumentError naming the algorithms a function's trials can use, for one they cannot."""
    from kfp_tune.core.catalogue import ALGORITHMS
    from kfp_tune.core.plugin_failures import failed_plugins_note

    usable = sorted(name for name, entry in ALGORITHMS.items() if not entry.trial_values and name not in NOT_FOR_FUNCTIONS)
    if algorithm in NOT_FOR_FUNCTIONS:
        raise _refused("spec.algorithm.algorithmName", f"{algorithm!r} {NOT_FOR_FUNCTIONS[algorithm]}; tune() takes one of {usable}")
    entry = ALGORITHMS.get(algorithm)
    if entry is not None and entry.trial_values:
        raise _refused("spec.algorithm.algorithmName", f"{algorithm!r} searches neural architectures (spec.nasConfig), not parameters: write the "
                       f"Experiment as YAML (images/enas-digits, images/darts-digits); tune() takes one of {usable}")
    if entry is None:
        raise _refused("spec.algorithm.algorithmName", f"unknown algorithm {algorithm!r}; expected one of {usable}{failed_plugins_note()}")


def _check_objective_shape(objective: Callable[..., Any]) -> None:
    """The objective is called once per trial with the parameters dict and what it returns is
    read: refuse one that cannot be (async, a generator, another number of arguments) before
    any trial fails for it, as ``tune(host=)`` and Katib's SDK do."""
    name = getattr(objective, "__name__", type(objective).__name__)
    called = _called_function(objective)
    if inspect.iscoroutinefunction(called) or inspect.isasyncgenfunction(called) or inspect.isgeneratorfunction(called):
        shown_name = name if called is objective else getattr(called, "__qualname__", name)
        raise TypeError(f"tune(): objective {shown_name} must be a plain function (not async, not a generator): each trial calls it once and reads what it returns")
    try:
        signature = inspect.signature(objective)
    except (TypeError, ValueError):  # a builtin or C callable without a signature: its call will tell
        return
    try:
        signature.bind({})
    except TypeError:
        raise ObjectiveArgumentError(f"tune(): objective {name}{signature} must take one argument, the parameters dict") from None


def _called_function(objective: Callable[..., Any]) -> Callable[..., Any]:
    """What a call of ``objective`` runs: through ``functools.partial`` and an object's ``__call__``
    (``inspect.iscoroutinefunction`` looks through neither an object nor a partial of one), so an
    object with ``async def __call__`` is refused as an ``async def`` is, not by every trial
    ('returned coroutine'). Katib's SDK checks only the call's arguments
    (sdk/python/v1beta1/kubeflow/katib/utils/utils.py, ``validate_objective_function``), then
    writes the source of a function into the trial (``get_exec_script_from_objective``), which an
    object has none of."""
    called = objective
    for _ in range(100):  # a partial of an object whose __call__ is a partial ...; never a loop
        if isinstance(called, functools.partial):
            called = called.func
        elif not inspect.isroutine(called) and not inspect.isclass(called) and callable(called):
            called = type(called).__call__
        else:
            break
    return called


@dataclass(frozen=True)
class Trial:
    """One trial of a :class:`TuneResult`: its searched parameters as the function got them (typed), its
    metrics (after their strategy; none for a Failed or Killed trial, which has no observation in
    Katib: what it reported is in ``Client(result.store).get_trial_metrics``) and its status, as
    Katib names it (Succeeded, Failed, MetricsUnavailable, EarlyStopped, Killed)."""

    name: str
    parameters: dict[str, Any]
    metrics: dict[str, float]
    status: str
    message: str = ""
    """Why it ended as it did, when it did not succeed: "TrialFailed. Job reason: Error: Trial has
    failed. Job message: KeyError: 'lr'" for an objective that raised (its output is in the
    trial's log); empty for a trial that succeeded."""


@dataclass(frozen=True, repr=False)
class TuneResult:
    """What :func:`tune` gives back: the experiment's name, its status and reason as Katib
    words them (Succeeded / ExperimentMaxTrialsReached, ...), the best trial (None when no
    trial reported the objective), every trial in the order created, the store's URI
    (``kfp_tune.Client(result.store)`` reads the rest: logs, metrics per step), and what was
    searched for and how, so that a minimized accuracy does not read as an answer: ``objective``,
    the direction and the metric (``"minimize accuracy"``), and ``algorithm``."""

    experiment: str
    status: str
    reason: str
    best_trial: Trial | None
    trials: list[Trial] = field(default_factory=list)
    store: str = ""
    objective: str = ""
    algorithm: str = ""

    def _summary(self) -> list[tuple[str, str]]:
        """(label, text) rows, for ``repr`` and the notebook's table: what ``kfp-tune run`` ends
        with, in its words, so a cell ending in ``result`` reads as the run's end does."""
        from kfp_tune.reports import trial_breakdown

        counts = Counter(t.status for t in self.trials)
        ended = trial_breakdown(counts[TrialStatus.SUCCEEDED], counts[TrialStatus.EARLY_STOPPED], counts[TrialStatus.FAILED], counts[TrialStatus.KILLED],
                                metrics_unavailable=counts[TrialStatus.METRICS_UNAVAILABLE])
        running = sum(n for status, n in counts.items() if status not in TERMINAL_STATUSES)
        rows = [("status", f"{self.status} ({self.reason})" if self.reason else self.status)]
        if self.objective:  # the HTML report's words for the direction
            better = "higher is better" if self.objective.startswith("maximize") else "lower is better"
            rows.append(("objective", f"{self.objective} ({better})"))
        if self.algorithm:
            rows.append(("algorithm", self.algorithm))
        rows.append(("trials", f"{len(self.trials)} ({ended}, {running} not finished)"))
        best = self.best_trial
        if best is None:
            rows.append(("best trial", "none: no trial reported the objective"))
        else:
            rows += [("best trial", best.name), ("metrics", _named_values(best.metrics)), ("parameters", _named_values(best.parameters))]
        return [*rows, ("store", self.store)]

    def __repr__(self) -> str:
        lines = [f"{label}: {text}" for label, text in self._summary()]
        return f"<TuneResult {self.experiment}\n" + "".join(f"  {line}\n" for line in lines[:-1]) + f"  {lines[-1]}>"

    def _repr_html_(self) -> str:
        """A notebook's view of it: a small table, every value escaped (a parameter value is the
        user's text), no script."""
        rows = "".join(f"<tr><th style=\"text-align:left\">{escape(label)}</th><td style=\"text-align:left\">{escape(text)}</td></tr>"
                       for label, text in self._summary())
        return f"<table><caption style=\"text-align:left\">TuneResult <b>{escape(self.experiment)}</b></caption>{rows}</table>"


def _named_values(values: Mapping[str, Any]) -> str:
    """``name=value, ...``, numbers to the HTML report's precision (``report_views.format_number``)."""
    from kfp_tune.report_views import format_number

    def text(value: Any) -> str:
        return format_number(float(value)) if isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral)) else str(value)

    return ", ".join(f"{name}={text(value)}" for name, value in values.items())


def function_experiment(
    name: str,
    parameters: Mapping[str, Any],
    objective_metric_name: str,
    objective_type: str,
    algorithm: str,
    algorithm_settings: Mapping[str, Any] | None,
    max_trial_count: int | None,
    parallel_trial_count: int,
    max_failed_trial_count: int | None,
    goal: float | None,
    additional_metric_names: list[str] | None = None,
    namespace: str | None = None,
) -> Experiment:
    """The Katib Experiment a ``tune`` call stands for, with a template that records the call;
    ``namespace`` is its ``metadata.namespace`` (``KatibClient.tune``'s, as Katib's sets it)."""
    params = to_parameters(parameters)
    trial_spec = {
        "apiVersion": "kfp-tune.kubeflow.org/v1alpha1",
        "kind": FUNCTION_TRIAL_KIND,
        "spec": {
            "containers": [
                {"name": FUNCTION_CONTAINER, "args": [f"{p.name}=${{trialParameters.{p.name}}}" for p in params]}
            ]
        },
    }
    experiment = Experiment(
        metadata=ObjectMeta(name=name, namespace=namespace or None),
        spec=ExperimentSpec(
            parameters=params,
            objective=ObjectiveSpec(
                type=objective_type,
                goal=goal,
                objective_metric_name=objective_metric_name,
                additional_metric_names=list(additional_metric_names or []),
            ),
            algorithm=AlgorithmSpec(
                algorithm_name=algorithm,
                algorithm_settings=[NameValue(name=k, value=str(v)) for k, v in (algorithm_settings or {}).items()],
            ),
            trial_template=TrialTemplate(
                primary_container_name=FUNCTION_CONTAINER,
                trial_parameters=[TrialParameterSpec(name=p.name, reference=p.name) for p in params],
                trial_spec=trial_spec,
                # read by no launcher (the function's return or exception decides), but valid
                success_condition='status.conditions.#(type=="Returned")#|#(status=="True")#',
                failure_condition='status.conditions.#(type=="Raised")#|#(status=="True")#',
            ),
            parallel_trial_count=parallel_trial_count,
            max_trial_count=max_trial_count,
            max_failed_trial_count=max_failed_trial_count,
            metrics_collector_spec=MetricsCollectorSpec(collector=CollectorSpec(kind="Push")),
        ),
    )
    return load_experiment(experiment)


# What a type checker or an IDE reads of a call: a TuneResult for trials in this process, a
# RemoteTuning with host= or client=; a Kubeflow-only option without them is an error there, as here.
@overload
def tune(
    objective: Callable[[dict[str, Any]], Any],
    parameters: Mapping[str, Any],
    objective_metric_name: str = "objective",
    objective_type: str = "minimize",
    algorithm: str = DEFAULT_ALGORITHM,
    algorithm_settings: Mapping[str, Any] | None = None,
    max_trial_count: int | None = 10,
    parallel_trial_count: int = 1,
    max_failed_trial_count: int | None = None,
    goal: float | None = None,
    store: str | os.PathLike[str] | Store | None = None,
    name: str | None = None,
    additional_metric_names: list[str] | None = None,
    take_over: bool = False,
    *,
    host: None = None,
    client: None = None,
) -> TuneResult: ...


@overload
def tune(
    objective: Callable[[dict[str, Any]], Any],
    parameters: Mapping[str, Any],
    objective_metric_name: str = "objective",
    objective_type: str = "minimize",
    algorithm: str = DEFAULT_ALGORITHM,
    algorithm_settings: Mapping[str, Any] | None = None,
    max_trial_count: int | None = 10,
    parallel_trial_count: int = 1,
    max_failed_trial_count: int | None = None,
    goal: float | None = None,
    store: str | os.PathLike[str] | Store | None = None,
    name: str | None = None,
    additional_metric_names: list[str] | None = None,
    take_over: bool = False,
    *,
    host: str,
    client: Any = None,
    base_image: str | None = None,
    namespace: str | None = None,
    resources_per_trial: Any = None,
    env_per_trial: Any = None,
    packages_to_install: list[str] | None = None,
    pip_index_urls: list[str] | None = None,
    trial_active_deadline_seconds: int | None = None,
    retain_trials: bool | None = None,
    kfp_experiment: str | None = None,
    run_name: str | None = None,
    object_store: str | None = None,
    service_account: str | None = None,
) -> RemoteTuning: ...


@overload
def tune(
    objective: Callable[[dict[str, Any]], Any],
    parameters: Mapping[str, Any],
    objective_metric_name: str = "objective",
    objective_type: str = "minimize",
    algorithm: str = DEFAULT_ALGORITHM,
    algorithm_settings: Mapping[str, Any] | None = None,
    max_trial_count: int | None = 10,
    parallel_trial_count: int = 1,
    max_failed_trial_count: int | None = None,
    goal: float | None = None,
    store: str | os.PathLike[str] | Store | None = None,
    name: str | None = None,
    additional_metric_names: list[str] | None = None,
    take_over: bool = False,
    *,
    host: None = None,
    client: Any,
    base_image: str | None = None,
    namespace: str | None = None,
    resources_per_trial: Any = None,
    env_per_trial: Any = None,
    packages_to_install: list[str] | None = None,
    pip_index_urls: list[str] | None = None,
    trial_active_deadline_seconds: int | None = None,
    retain_trials: bool | None = None,
    kfp_experiment: str | None = None,
    run_name: str | None = None,
    object_store: str | None = None,
    service_account: str | None = None,
) -> RemoteTuning: ...


def tune(
    objective: Callable[[dict[str, Any]], Any],
    parameters: Mapping[str, Any],
    objective_metric_name: str = "objective",
    objective_type: str = "minimize",
    algorithm: str = DEFAULT_ALGORITHM,
    algorithm_settings: Mapping[str, Any] | None = None,
    max_trial_count: int | None = 10,
    parallel_trial_count: int = 1,
    max_failed_trial_count: int | None = None,
    goal: float | None = None,
    store: str | os.PathLike[str] | Store | None = None,
    name: str | None = None,
    additional_metric_names: list[str] | None = None,
    take_over: bool = False,
    *,
    host: str | None = None,
    client: Any = None,
    base_image: str | None = None,
    namespace: str | None = None,
    resources_per_trial: Any = None,
    env_per_trial: Any = None,
    packages_to_install: list[str] | None = None,
    pip_index_urls: list[str] | None = None,
    trial_active_deadline_seconds: int | None = None,
    retain_trials: bool | None = None,
    kfp_experiment: str | None = None,
    run_name: str | None = None,
    object_store: str | None = None,
    service_account: str | None = None,
) -> TuneResult | RemoteTuning:
    """Tune ``objective(params) -> float | dict[str, float]`` over ``parameters``.

    Trials run in this process (``parallel_trial_count`` threads) through the same suggest /
    launch / collect / decide steps and store records as a pipeline run, and a
    :class:`TuneResult` comes back. With ``host`` or ``client`` they run on Kubeflow instead,
    each a Job running the function's source in ``base_image``, and a
    :class:`kfp_tune.remote.RemoteTuning` comes back at once (``.wait()`` gives the TuneResult);
    the options after ``host`` are for that case only (:func:`kfp_tune.remote.submit_function`).

    Args:
        objective: called once per trial with ``{name: value}`` (typed: a number as a number,
            a categorical value as the very object given, where the records keep its text); returns the objective
            as a number, or a dict of metric name -> number, or None having printed Katib's
            ``name=value`` lines or called :func:`kfp_tune.report_metrics`. An exception or
            ``sys.exit(n)`` fails the trial.
        parameters: ``{name: kfp_tune.search.double/int/categorical/discrete(...)}`` (or
            ``kubeflow.katib.search``'s); any other value is fixed, passed to the function as
            given and not searched, as Katib's SDK passes it (JSON only with ``host``); one
            that looks like a search space (``(0.01, 10)``, a list, a ``range``, an uncalled
            ``search.double``) gets a UserWarning naming the helper call that searches it.
        objective_metric_name: the metric the search optimizes.
        objective_type: "minimize" (the default, as Optuna's; Katib's SDK defaults to "maximize")
            or "maximize".
        algorithm: a Katib algorithm name; bayesianoptimization unless given. Its first 10
            trials (its n_initial_points setting) are random draws (the first the space's
            centre) before its Gaussian process picks the next, so a tune() with the default
            max_trial_count (10) is a random search: give more trials, or a smaller
            n_initial_points in ``algorithm_settings``, for the model to choose any. pbt and the
            architecture searches need Experiment YAML.
        algorithm_settings: Katib's settings for it, ``{name: value}``.
        max_trial_count: trials in all (None: until the goal, or the algorithm's space ends).
        parallel_trial_count: trials at a time.
        max_failed_trial_count: failed trials that end the experiment Failed (None: no limit,
            as in Katib; then ``tune()`` warns when no trial succeeded).
        goal: the objective value that ends the experiment when a trial reaches it.
        store: a folder or ``s3://bucket/prefix`` (or a plug-in's scheme), or a Store object, as
            ``Client`` takes; ``$KFP_TUNE_STORE``, else ``./kfp-tune-runs``.
        name: the experiment's name. Default: the function's name and a timestamp, so each call
            is a new experiment; a name the store holds resumes that experiment (with a warning).
        additional_metric_names: more metrics to keep per trial.
        take_over: resume the experiment ``name`` even while another run looks as if it drives
            it (its claim is not ended and was heard from within its TTL), as ``kfp-tune run
            --take-over`` does: for when that run is known to be gone, since a run that is
            still alive stops at its next step and its running trials end Killed. Without it
            such a call is refused (ExperimentBusy). Trials in this process only; a run on
            Kubeflow takes the pipeline parameter ``take_over``.
        host: the KFP API's URL, to run the trials on Kubeflow.
        client: a ``kfp.Client``, in place of ``host``."""
    arguments = dict(locals())
    from kfp_tune.core.supported_os import refuse_unsupported_platform

    refuse_unsupported_platform()  # Windows: UnsupportedPlatform before anything is written
    if not isinstance(take_over, bool):
        raise _refused("take_over", f"expected True or False, got {shown(take_over)}", TuneArgumentTypeError)
    if host is not None or client is not None:
        if take_over:
            raise _refused("take_over", "only for trials in this process; a run on Kubeflow takes the pipeline parameter take_over "
                           "(kfp-tune submit --param take_over=true)", TuneArgumentTypeError)
        return submit_tuning(arguments)
    given = [key for key in _REMOTE_ONLY if arguments[key] is not None]
    if given:
        raise _refused(given[0], "only for trials on Kubeflow: pass host= (the KFP API's URL) or client= with it", TuneArgumentTypeError)
    try:
        return tune_here(arguments)
    except ExperimentConflict as exc:
        arguments = _categoricals_as_stored(arguments)  # as the run compared them
        said = _conflict_in_tune_words(exc, arguments)
        note = _default_algorithm_note(arguments)
        if said is None and not note:
            raise
        raise ExperimentConflict(f"{said or exc}. {note}" if note else str(said)) from None


_BUDGETS = (("maxTrialCount", "max_trial_count"), ("parallelTrialCount", "parallel_trial_count"), ("maxFailedTrialCount", "max_failed_trial_count"))
"""The budgets a resumed experiment may change (Katib's editable fields), as ``tune()`` names them."""


def _conflict_in_tune_words(refusal: ExperimentConflict, arguments: Mapping[str, Any]) -> str | None:
    """The refusal to resume experiment ``name=`` with these arguments, said in ``tune()``'s
    terms: the arguments that changed with their stored and given values, where the step's words
    are Katib's YAML paths and its advice a YAML user's (``spec.resumePolicy: LongRunning in its
    YAML``). None where the stored experiment cannot be compared (the step's words stand)."""
    from kfp_tune.core.errors import KfpTuneError
    from kfp_tune.core.state import load_state, read_experiment_record

    name = arguments["name"]
    if name is None:
        return None
    store = as_store(arguments["store"])
    try:
        head = read_experiment_record(ExperimentRecords(store, name))
        stored = ((head or {}).get("spec") or {}).get("spec")
        given = _function_experiment_of(arguments).to_dict()["spec"]
        if not isinstance(stored, dict):
            return None
        frozen, budgets = _arguments_changed(stored, given, _categoricals_as_given(arguments["parameters"]))
        ended = ended_when_stopped(store, name) if budgets and not frozen else None
        used = load_state(ExperimentRecords(store, name)).budget_used if budgets and not frozen and ended is None else 0
    except (KfpTuneError, ValueError, TypeError, AttributeError):  # a damaged record: the step's refusal says enough
        return None
    where = f"tune(): experiment {name!r} in {store.uri}"
    unmatchable, why = _stored_unmatchable(stored, given)
    if unmatchable:
        return (f"{where} was stored by an older kfp-tune (before {NAMED_TEXT_SINCE}), which kept the values of {unmatchable} as their str(), "
                f"{why}, so they cannot be matched to this call's: {', '.join(frozen)}; pass "
                f"another name= to start a new experiment, or delete that one (kfp_tune.Client({store.uri!r}).delete_experiment({name!r}, "
                "confirm=True)) and call again")
    if frozen:
        return (f"{where} was made with other arguments: {', '.join(frozen)}; only max_trial_count, parallel_trial_count and "
                "max_failed_trial_count may change under the same name; pass another name= to start a new experiment, or the "
                "arguments it was made with to resume it or get its result")
    asked, had = given.get("maxTrialCount"), stored.get("maxTrialCount")
    if ended is None and "maxTrialCount" in dict(budgets) and asked is not None and asked <= used:  # Katib: above the trials it has
        return (f"{where} already has {used} trial(s) (trials killed by an interrupted run do not count): max_trial_count ({had!r} stored, "
                f"{asked} given) must be greater than {used} to resume it with another budget; tune(..., max_trial_count={had!r}) resumes it as it was")
    if ended is None or not budgets:
        return None
    phase, reason = ended
    more = "maxTrialCount" in dict(budgets) and (asked is None or (had is not None and asked > had))
    as_stored = ", ".join(f"{argument}={stored.get(key)!r}" for key, argument in _BUDGETS if key in dict(budgets))
    more_trials = "To run more trials, start a new experiment: pass another name=; " if more else ""
    return (f"{where} has completed ({phase}, {reason}) and is not run again with other budgets: "
            f"{', '.join(text for _, text in budgets)} (as in Katib, a completed experiment stays completed). "
            f"{more_trials}tune(..., {as_stored}) returns its result")


def _categoricals_as_stored(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """``arguments`` with each categorical value an older kfp-tune stored as its str() (a class's
    ``<class 'mod.Adam'>``) written so, where experiment ``name=``'s stored list holds it
    (:func:`kfp_tune.search.with_stored_texts`): the same call resumes the experiment, which it
    was refused as changed. The store is read only for a call with such a value and a name."""
    from kfp_tune.core.errors import KfpTuneError
    from kfp_tune.core.state import read_experiment_record
    from kfp_tune.search import CategoricalSpec, older_text, with_stored_texts

    parameters, name = arguments.get("parameters"), arguments.get("name")
    if not isinstance(name, str) or not isinstance(parameters, Mapping) or not any(
            isinstance(spec, CategoricalSpec) and any(older_text(v) is not None for v in spec._objects) for spec in parameters.values()):
        return dict(arguments)
    try:
        head = read_experiment_record(ExperimentRecords(as_store(arguments["store"]), name))
    except (KfpTuneError, ValueError, TypeError):  # none readable: the run says why, or starts it anew
        return dict(arguments)
    stored = (((head or {}).get("spec") or {}).get("spec") or {}).get("parameters")
    lists = {p.get("name"): (p.get("feasibleSpace") or {}).get("list") for p in stored if isinstance(p, dict)} if isinstance(stored, list) else {}
    return {**arguments, "parameters": with_stored_texts(parameters, {str(k): v for k, v in lists.items() if isinstance(v, list)})}


def _stored_unmatchable(stored: Mapping[str, Any], given: Mapping[str, Any]) -> tuple[str, str]:
    """The stored categorical parameters that differ from ``given`` and hold a value whose text an
    older kfp-tune wrote so that it cannot be matched (:func:`kfp_tune.search.unmatchable_older_text`:
    ``<function relu at 0x7f42...>``, ``<built-in function sqrt>``), named for the refusal
    (``parameters['act']``), and why; ("", "") when there is none."""
    from kfp_tune.search import unmatchable_older_text

    given_params = {p.get("name"): p for p in given.get("parameters") or [] if isinstance(p, dict)}
    names: list[str] = []
    whys: list[str] = []
    for p in stored.get("parameters") or []:
        if not isinstance(p, dict) or p.get("parameterType") != "categorical" or p == given_params.get(p.get("name")):
            continue
        found = {why for text in (p.get("feasibleSpace") or {}).get("list") or [] if isinstance(text, str) and (why := unmatchable_older_text(text))}
        if found:
            names.append(f"parameters[{p.get('name')!r}]")
            whys += sorted(found - set(whys))
    return " and ".join(names), "; or ".join(whys)


def _categoricals_as_given(parameters: Mapping[str, Any]) -> dict[str, str]:
    """Each ``search.categorical`` parameter of ``parameters`` as the call the user wrote, its
    values as given (``search.categorical([True, None])``, a function by its name), not as their text."""
    from kfp_tune.search import CategoricalSpec, categorical_text

    def written(value: Any) -> str:
        text = categorical_text(value)
        return text if text != str(value) else repr(value)  # a function or class by its name

    return {name: f"search.categorical([{', '.join(written(v) for v in spec._objects)}])" for name, spec in parameters.items()
            if isinstance(spec, CategoricalSpec) and spec._objects}


def _arguments_changed(stored: Mapping[str, Any], given: Mapping[str, Any],
                       given_calls: Mapping[str, str] | None = None) -> tuple[list[str], list[tuple[str, str]]]:
    """What differs between two experiments' specs made by ``tune()``, as its arguments: those
    a resume cannot change (``parameters['y'] added``, ``objective_type ('minimize' stored,
    'maximize' given)``), and the budgets that changed, each (field, text). ``given_calls``: a
    given parameter as the user wrote it (:func:`_categoricals_as_given`), in place of its spec's text."""
    calls: dict[Any, str] = dict(given_calls or {})
    frozen: list[str] = []

    def compared(argument: str, before: Any, after: Any) -> None:
        if before != after:
            frozen.append(f"{argument} ({before!r} stored, {after!r} given)")

    before_params = {p.get("name"): p for p in stored.get("parameters") or [] if isinstance(p, dict)}
    after_params = {p.get("name"): p for p in given.get("parameters") or [] if isinstance(p, dict)}
    for name in before_params:
        if name not in after_params:
            frozen.append(f"parameters[{name!r}] removed")
        elif before_params[name] != after_params[name]:
            given_call = calls.get(name) or _helper_call(after_params[name])
            frozen.append(f"parameters[{name!r}] ({_helper_call(before_params[name])} stored, {given_call} given)")
    frozen += [f"parameters[{name!r}] added ({calls.get(name) or _helper_call(after_params[name])})" for name in after_params if name not in before_params]
    before_objective, after_objective = stored.get("objective") or {}, given.get("objective") or {}
    for key, argument in (("objectiveMetricName", "objective_metric_name"), ("type", "objective_type"), ("goal", "goal"),
                          ("additionalMetricNames", "additional_metric_names")):
        compared(argument, before_objective.get(key), after_objective.get(key))
    before_algorithm, after_algorithm = stored.get("algorithm") or {}, given.get("algorithm") or {}
    compared("algorithm", before_algorithm.get("algorithmName"), after_algorithm.get("algorithmName"))
    compared("algorithm_settings", _settings(before_algorithm), _settings(after_algorithm))
    budgets = [(key, f"{argument} ({stored.get(key)!r} stored, {given.get(key)!r} given)") for key, argument in _BUDGETS
               if stored.get(key) != given.get(key)]
    return frozen, budgets


def _settings(algorithm: Mapping[str, Any]) -> dict[str, Any]:
    """A stored ``algorithmSettings`` list as the dict ``tune()`` took: ``{'random_state': '5'}``."""
    return {str(s.get("name")): s.get("value") for s in algorithm.get("algorithmSettings") or [] if isinstance(s, dict)}


def _helper_call(parameter: Mapping[str, Any]) -> str:
    """A stored parameter as the ``search`` call that makes it: ``search.double(0, 1)``."""
    kind, space = parameter.get("parameterType"), parameter.get("feasibleSpace") or {}
    if kind in ("categorical", "discrete"):
        return f"search.{kind}({space.get('list')!r})"
    extra = "".join(f", {key}={space[key]!r}" if key == "distribution" else f", {key}={space[key]}"
                    for key in ("step", "distribution") if space.get(key) not in (None, "uniform"))
    return f"search.{kind}({space.get('min')}, {space.get('max')}{extra})"


DEFAULT_ALGORITHM_SINCE = "2026-12-01"
"""When ``tune()``'s default algorithm became bayesianoptimization (random before)."""


def _default_algorithm_note(arguments: Mapping[str, Any]) -> str:
    """What a refused resume of a ``tune()`` experiment adds when the experiment was made with
    another algorithm, this call's is the default, and the same call with the stored algorithm
    would resume it (the algorithm is all that differs; a completed experiment takes the
    budget): a call from before the default changed (random) resumes only with that algorithm
    given. A call that passed the default by name cannot be told from one that left it out (only
    the value is seen): the note says what to pass either way. "" when that is not the case."""
    name = arguments["name"]
    if arguments["algorithm"] != DEFAULT_ALGORITHM or name is None:
        return ""
    from kfp_tune.core.errors import KfpTuneError
    from kfp_tune.core.state import read_experiment_record
    from kfp_tune.steps.prepare import resume_refusal

    records = ExperimentRecords(as_store(arguments["store"]), name)
    try:
        head = read_experiment_record(records)
        stored = ((((head or {}).get("spec") or {}).get("spec") or {}).get("algorithm") or {}).get("algorithmName")
        if not isinstance(stored, str) or stored == DEFAULT_ALGORITHM:
            return ""
        if resume_refusal(records, _function_experiment_of({**arguments, "algorithm": stored})) is not None:
            return ""
    except (KfpTuneError, ValueError):  # a damaged record, an algorithm tune() does not take: the refusal says enough
        return ""
    return (f"tune()'s default algorithm is {DEFAULT_ALGORITHM} since {DEFAULT_ALGORITHM_SINCE}: "
            f"pass algorithm={stored!r} to resume it")


KATIB_CLIENT_TUNE = "KatibClient.tune"
"""``tune_here``'s caller when ``KatibClient.tune`` runs the trials here: its warnings begin so."""


def tune_here(arguments: Mapping[str, Any], searched_as_text: bool = False,
              check_experiment: Callable[[Experiment, SearchSpace], None] | None = None, caller: str = "tune()") -> TuneResult:
    """``tune()``'s trials in this process from its arguments: every argument checked, then run
    to the end. ``KatibClient.tune`` without a host runs through here too, with
    ``searched_as_text``: the searched values go to the function as the trial's strings, as
    Katib's SDK substitutes them into its call (``'${trialParameters.lr}'``), not typed.
    ``check_experiment``: the caller's own refusal of the experiment and its space, once both
    are checked and before anything runs. Warnings name the line that called ``tune()`` (or
    ``KatibClient.tune``) and begin with ``caller``, the call the user made, as its errors do."""
    from kfp_tune.core.supported_os import refuse_unsupported_platform

    refuse_unsupported_platform()  # Windows: UnsupportedPlatform before anything is written
    caller_of_tune = CallersLine.of_caller(2)  # the user's line, as stacklevel=3 names it below
    _check_tune_arguments(dict(arguments))
    arguments = _categoricals_as_stored(arguments)
    objective, parameters, objective_metric_name = arguments["objective"], arguments["parameters"], arguments["objective_metric_name"]
    experiment = _function_experiment_of(arguments)
    _warn_of_lookalikes(parameters, caller, stacklevel=3)
    target = as_store(arguments["store"])  # a Store object as Client takes one (a plug-in's, an in-memory one), or its URI
    from kfp_tune.core.catalogue import experiment_space
    from kfp_tune.core.portability import before_run_notes, unread_setting_notes

    for note in unread_setting_notes(experiment):  # what run and submit print, which a notebook never sees: a misspelt seed runs unseeded
        warnings.warn(f"{caller}: algorithm_settings: {note.message}", stacklevel=3)
    for note in before_run_notes(experiment):  # a finite space smaller than the budget: the run ends early, said before it starts
        warnings.warn(f"{caller}: {TUNE_ARGUMENT_OF.get(note.path, note.path)}: {note.message}", stacklevel=3)
    space = experiment_space(experiment.spec)
    if check_experiment is not None:
        check_experiment(experiment, space)
    launcher = FunctionTrials(objective, parameters, space, objective_metric_name,
                              metric_names=experiment.spec.objective.metric_names if experiment.spec.objective else (), searched_as_text=searched_as_text)
    from kfp_tune.stores.retry import unretried

    # a call the stop lets go keeps what it printed; no retry window: the stop goes on whatever the store says
    launcher.keeps_stopped_output_in(ExperimentRecords(unretried(target), experiment.name))
    launcher.warned_at = caller_of_tune
    take_over = bool(arguments.get("take_over", False))
    from kfp_tune.remote import no_trial_succeeded
    from kfp_tune.steps.decide_stop import only_reported

    # the start, with the per-trial lines (slots): shown where the notebook or program has set up logging (INFO)
    budget = experiment.spec.max_trial_count
    logging.getLogger(__name__).info(
        "%s: experiment %r, algorithm %s, %s (%d at a time), records in %s", caller, experiment.name, arguments["algorithm"],
        f"{budget} trial(s)" if budget is not None else "trials until the goal or the search space ends", experiment.spec.parallel_trial_count,
        getattr(target, "uri", str(target)))

    # the stop button before the run (its checks of the store) or after it (the result read back)
    # is said as one during the run: the experiment's name and the call that resumes it or returns its result
    try:
        _warn_if_resumed(target, experiment, take_over, caller)
        if not only_reported(target, experiment.name, lambda said: caller_of_tune.warn(f"{caller}: {said}"), take_over):  # completed: read back, nothing written (a stale status rewritten)
            run_inline(target, experiment, launcher, take_over=take_over)
        result = tune_result(target, experiment.name, {} if searched_as_text else launcher.objects)
        warning = no_trial_succeeded(result, katib_client=caller == KATIB_CLIENT_TUNE)
    except KeyboardInterrupt as exc:  # RunInterrupted from the run: which experiment it left, how to resume it, what still runs
        in_the_run = isinstance(exc, RunInterrupted)  # else no trial was stopped, none given back
        stopped = exc if isinstance(exc, RunInterrupted) else RunInterrupted("SIGINT")
        raise TuneInterrupted(stopped, experiment.name, getattr(target, "uri", str(target)), arguments["name"] is not None, launcher.running_calls,
                              ended=_ended_for_the_note(stopped, target, experiment.name),
                              unstarted=unstarted_given_back(target, experiment.name) if in_the_run and not stopped.unrecorded else 0) from None
    if warning:
        warnings.warn(warning, stacklevel=3)
    return result


def ended_when_stopped(store: Store, experiment_name: str) -> tuple[str, str] | None:
    """(phase, reason) when the experiment's status says it has ended (Succeeded or Failed), else
    None: the one rule by which a stop is said (``tune()``'s :class:`TuneInterrupted`, ``kfp-tune
    run``'s exit and lines), read once the stop is recorded (``RunInterrupted.unrecorded`` empty;
    else the status may be from before it). Whatever trials the stop recorded Killed: Katib's
    outcome is final (a goal or maxFailedTrialCount reached stays so, as
    ``decision.interrupted`` keeps it), so a stop that killed trials still running after the end
    does not leave the experiment unfinished. The saved status record, as ``kfp-tune status``
    shows it; absent or unreadable (an older writer's, damaged), the phase its trials give, as
    ``status`` then shows (:func:`kfp_tune.reports.load_report`). StoreError when the store
    cannot be read."""
    from kfp_tune.core.records import UnreadableRecord
    from kfp_tune.core.vocabulary import ExperimentPhase
    from kfp_tune.reports import load_report

    records = ExperimentRecords(store, experiment_name)
    try:
        saved = records.read(records.status_key(), "ExperimentStatus")
    except UnreadableRecord:  # load_report says what the trials give instead
        saved = None
    status = saved.get("status") if saved is not None else None
    said = [status.get(k) for k in ("phase", "reason", "message")] if isinstance(status, dict) else []
    if said and all(isinstance(v, str) for v in said):  # the record load_report would show (one read, not the whole experiment)
        phase, reason = str(said[0]), str(said[1])
    else:
        report = load_report(store, experiment_name)
        phase, reason = report.phase, report.reason
    return (phase, reason) if phase in (ExperimentPhase.SUCCEEDED, ExperimentPhase.FAILED) else None


def unstarted_given_back(store: Store, name: str) -> int:
    """How many trials the interrupted run (the experiment's newest claim) had made and not
    started, which its end recorded Killed too (``steps.decide_stop.give_back_unstarted``); 0
    if the store cannot say, the count then being the running ones alone."""
    from kfp_tune.core import claims
    from kfp_tune.core.errors import StoreError
    from kfp_tune.core.records import DamagedRecord
    from kfp_tune.core.state import TRIAL_INTERRUPTED, load_state
    from kfp_tune.steps.schedule import made_by_run
    from kfp_tune.stores.retry import unretried

    records = ExperimentRecords(unretried(store), name)  # it has just answered: no retry window before the note
    try:
        current = claims.latest_claim(records)
        if current is None:
            return 0
        trials = load_state(records).trials
    except (StoreError, DamagedRecord):
        return 0
    return sum(
        1 for t in trials
        if t.started is None and t.result is not None and t.result.reason == TRIAL_INTERRUPTED and made_by_run(t.round, current.run)
    )


def _ended_for_the_note(stopped: RunInterrupted, store: Store, experiment_name: str) -> tuple[str, str] | None:
    """:func:`ended_when_stopped` for :class:`TuneInterrupted`'s note, read without the store's
    retry window (it has just answered); unknown (the stop unrecorded, the store down or
    refusing, no experiment yet) is None: the stop is what the caller must see, not a read error."""
    from kfp_tune.core.errors import KfpTuneError
    from kfp_tune.stores.retry import unretried

    if stopped.unrecorded:
        return None
    try:
        return ended_when_stopped(unretried(store), experiment_name)
    except KfpTuneError:
        return None


class TuneInterrupted(RunInterrupted):
    """A ``tune()`` its user stopped (the notebook's stop button, Ctrl-C). Its text stays the
    signal's name, as any RunInterrupted's; a note under it (shown with the traceback, in a
    notebook too) says which experiment it left unfinished and the call that resumes it
    (without ``name=`` a call makes a new one, so running the cell again would not), and what
    becomes of the function's calls still running, which Python cannot stop. ``experiment``:
    the experiment's name. ``ended``: (phase, reason) when the experiment's status says it had
    ended (:func:`ended_when_stopped`), trials still running stopped or not: the note says so,
    the trials the stop recorded Killed, and that the same call returns its result (a stop at
    the very end still stops the caller's program, as any Ctrl-C). ``unstarted``: the trials the
    run had made but not started, which the stop recorded Killed too (:func:`unstarted_given_back`):
    the note counts them, as the resumed call's result shows them."""

    def __init__(self, stopped: RunInterrupted, experiment: str, store: str, named: bool, running_calls: int,
                 ended: tuple[str, str] | None = None, unstarted: int = 0):
        super().__init__(stopped.signal_name, stopped.killed, stopped.logs, stopped.unrecorded)
        self.experiment = experiment
        self.ended = ended
        if ended is not None:
            phase, reason = ended
            outcome = f"{phase} ({reason})" if reason else phase
            again = (f"the same call returns its result: tune(..., name={experiment!r})" if named else
                     f"a call without name= starts a new experiment: tune(..., name={experiment!r}) returns this one's result")
            killed = (f"{stopped.killed} trial(s) still running stopped and recorded Killed (the experiment's outcome stands)" if stopped.killed else
                      "no trial stopped")
            said = [f"tune() stopped ({stopped.signal_name}) once experiment {experiment!r} in {store} had ended: {outcome}, {killed}; {again}"]
        else:
            resume = (f"the same call resumes it: tune(..., name={experiment!r})" if named else
                      f"a call without name= starts a new experiment: resume this one with tune(..., name={experiment!r})")
            said = [f"tune() stopped ({stopped.signal_name}): experiment {experiment!r} in {store} is left unfinished, "
                    f"{trials_killed_by_interrupt(stopped.killed, unstarted)}; {resume}"]
        if running_calls:
            said.append(calls_left_running(running_calls))
        if stopped.unrecorded:
            said.append(stopped.unrecorded)
        self.__notes__ = said  # add_note's list (Python 3.11), a line each; IPython shows it on 3.10 too


def _function_experiment_of(arguments: Mapping[str, Any]) -> Experiment:
    """The Experiment a ``tune()`` call's checked arguments make (TuneArgumentError where the
    spec they make is invalid)."""
    objective, parameters = arguments["objective"], arguments["parameters"]
    name = arguments["name"] if arguments["name"] is not None else _default_name(objective)
    max_trial_count, max_failed_trial_count = arguments["max_trial_count"], arguments["max_failed_trial_count"]
    goal, additional_metric_names = arguments["goal"], arguments["additional_metric_names"]
    try:
        return function_experiment(
            name, parameters, arguments["objective_metric_name"], arguments["objective_type"], arguments["algorithm"], arguments["algorithm_settings"],
            int(max_trial_count) if max_trial_count is not None else None, int(arguments["parallel_trial_count"]),
            int(max_failed_trial_count) if max_failed_trial_count is not None else None,
            float(goal) if goal is not None else None, list(additional_metric_names) if additional_metric_names is not None else None,
            namespace=arguments.get("namespace"),  # KatibClient.tune's; tune() refuses one without a host
        )
    except SpecError as exc:
        raise TuneArgumentError(exc.errors, parameters, arguments["algorithm_settings"]) from None


class FunctionTrials(FunctionLauncher):
    """A function's trials as ``tune()`` runs them in this process: the fixed values of
    ``parameters`` go to the function beside the searched ones, in the order given, as Katib's
    SDK passes them (``utils.get_trial_substitutions_from_dict``), and what it reports with
    :func:`kfp_tune.report_metrics` while it runs is the trial's (Katib's Push collector), before
    what it returns or prints. ``searched_as_text``: the searched values as the trial's strings
    ('0.155'), as Katib's SDK gives them (``KatibClient.tune``); else typed (``tune()``)."""

    def __init__(self, objective: Callable[[dict[str, Any]], Any], parameters: Mapping[str, Any], space: SearchSpace,
                 objective_metric: str, metric_names: Sequence[str] = (), searched_as_text: bool = False):
        super().__init__(self._call, space, objective_metric, metric_names, objects=categorical_objects(parameters))
        self.function, self.order, self.fixed = objective, list(parameters), fixed_values(parameters)
        self.searched_as_text = searched_as_text
        self._local = threading.local()

    def run(self, trial: TrialRun) -> LaunchOutcome:
        self._local.assignment = trial.assignment  # the trial's strings, for searched_as_text
        self._local.returned = None
        with reports_in_this_thread() as reports:
            self._local.reports = reports
            outcome = super().run(trial)
        caller = "KatibClient.tune:" if self.searched_as_text else "tune():"
        if reports:  # Push: its reports are its metrics, the objective's or not
            pushed = [*reports, *outcome.pushed]
            self.warn_once_if_objective_missing(trial.trial, {m.name: m.value for m in pushed}, caller, how="reported with kfp_tune.report_metrics")
            return dataclasses.replace(outcome, pushed=pushed)
        returned = getattr(self._local, "returned", None)
        printed_objective = any(m.name == self.objective_metric for m in outcome.pushed)
        if returned is None and outcome.phase == LaunchPhase.SUCCEEDED and not printed_objective and DEFAULT_FORMAT_NAME.fullmatch(self.objective_metric):
            printed = "".join(outcome.logs.values())  # a name the format cannot carry: the trial's message says why
            self.warn_once_if_objective_missing(trial.trial, self.printed_metrics(printed), caller, how="printed")
        self.warn_once_if_objective_missing(trial.trial, returned, caller)
        named = isinstance(returned, numbers.Real) or (isinstance(returned, Mapping) and self.objective_metric in returned)
        if outcome.pushed and not named and all(m.name != self.objective_metric for m in outcome.pushed):
            # returned or printed, what Katib's StdOut collector reads (on Kubeflow the trial prints what it
            # returns): without the objective it reports the objective unavailable in place of the rest
            return dataclasses.replace(outcome, pushed=[])
        return outcome

    def _call(self, searched: dict[str, Any]) -> Any:
        if self.searched_as_text:
            searched = dict(self._local.assignment)
        returned = self.function({name: self.fixed[name] if name in self.fixed else searched[name] for name in self.order})
        self._local.returned = returned  # a NaN objective is left out of the metrics, yet named: reported, as Katib reads it
        if returned is None and self._local.reports:
            return {}  # it reported its metrics: nothing printed is read, as Katib's Push collector reads no output
        return returned


def _warn_if_resumed(store: Any, experiment: Experiment, take_over: bool = False, caller: str = "tune()") -> None:
    """A ``name=`` that the store already holds resumes that experiment, or only reports it when
    it has completed (the function is not part of the experiment, so a changed one is not
    noticed): say so, so that a notebook run again after a fix does not show the old result
    unawares. Only once the resume is allowed: the pre-flight ``kfp-tune run`` makes first
    (steps.prepare) refuses a busy experiment, or a changed spec that Katib's webhook refuses
    (pkg/webhook/v1beta1/experiment/validator/validator.go, ``ValidateExperiment``: only the
    budgets editable, and a completed experiment restartable only under resumePolicy
    LongRunning or FromVolume), with that error alone: not after a warning that it would only
    be reported."""
    from kfp_tune.core.records import DamagedRecord
    from kfp_tune.reports import run_note
    from kfp_tune.steps import prepare

    prepare(ExperimentRecords(store, experiment.name), experiment, take_over=take_over)
    try:
        note, starts_anew = run_note(store, experiment.name)
    except DamagedRecord:
        return  # the run refuses it, saying why
    if note:
        advice = "" if starts_anew else "; to start a new experiment, pass another name="  # deleted meanwhile: a new one already
        warnings.warn(f"{caller}: {note}{advice}", stacklevel=4)  # the line that called tune(), through tune_here


TUNE_ARGUMENT_OF = {"spec.maxTrialCount": "max_trial_count"}
"""The tune() argument a note about a spec field is said of."""


_REMOTE_ONLY = (
    "base_image", "namespace", "resources_per_trial", "env_per_trial", "packages_to_install", "pip_index_urls",
    "trial_active_deadline_seconds", "retain_trials", "kfp_experiment", "run_name", "object_store", "service_account",
)
"""``tune()``'s options that only mean something when the trials run on Kubeflow."""


def _default_name(objective: Any) -> str:
    """The function's name, a timestamp and a random suffix: each call a new experiment."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return dns_label(f"{getattr(objective, '__name__', 'objective')}-{stamp}-{os.urandom(2).hex()}", 50)


def remote_experiment(arguments: dict[str, Any]) -> Experiment:
    """The Katib Experiment of a ``tune(host=)`` / ``submit_function`` call, every argument
    checked first (TypeError, ValueError or TuneArgumentError naming it)."""
    from kfp_tune.remote import BASE_IMAGE, PIP_INDEX_URLS, RemoteArgumentError, function_job_experiment

    checked = {
        "store": None, "name": None, "additional_metric_names": None, "max_failed_trial_count": None, "goal": None, "algorithm_settings": None,
        **arguments,
    }
    if checked["store"] is not None and not isinstance(checked["store"], (str, os.PathLike)):
        raise _refused("store", f"expected the store's URI (e.g. s3://mlpipeline/kfp-tune) or None, got {shown(checked['store'])}", TuneArgumentTypeError)
    _check_tune_arguments({**checked, "store": None})
    name = checked["name"]
    parameters = checked["parameters"]
    try:
        return function_job_experiment(
            checked["objective"], parameters, name=_default_name(checked["objective"]) if name is None else name,
            objective_metric_name=checked["objective_metric_name"], objective_type=checked["objective_type"], algorithm=checked["algorithm"],
            algorithm_settings=checked["algorithm_settings"],
            max_trial_count=None if checked["max_trial_count"] is None else int(checked["max_trial_count"]),
            parallel_trial_count=int(checked["parallel_trial_count"]),
            max_failed_trial_count=None if checked["max_failed_trial_count"] is None else int(checked["max_failed_trial_count"]),
            goal=None if checked["goal"] is None else float(checked["goal"]),
            additional_metric_names=checked["additional_metric_names"],
            base_image=BASE_IMAGE if checked.get("base_image") is None else checked["base_image"],
            namespace=checked.get("namespace"),
            resources_per_trial=checked.get("resources_per_trial"),
            env_per_trial=checked.get("env_per_trial"),
            packages_to_install=checked.get("packages_to_install"),
            pip_index_urls=PIP_INDEX_URLS if checked.get("pip_index_urls") is None else checked["pip_index_urls"],
            trial_active_deadline_seconds=checked.get("trial_active_deadline_seconds"),
            retain_trials=False if checked.get("retain_trials") is None else checked["retain_trials"],
            metrics_collector=checked.get("metrics_collector") or "StdOut",  # KatibClient.tune's metrics_collector_config kind
            searched_as_text=bool(checked.get("searched_as_text")),  # KatibClient.tune: the values as Katib's SDK gives them
        )
    except SpecError as exc:
        raise TuneArgumentError(exc.errors, parameters, checked["algorithm_settings"]) from None
    except RemoteArgumentError as exc:
        raise RemoteArgumentError(f"tune(): {exc}") from None


def submit_tuning(arguments: Mapping[str, Any]) -> RemoteTuning:
    """``tune(host=)``'s run on Kubeflow from its arguments: the platform and every argument
    checked, then the experiment sent. ``KatibClient.tune`` with a host sends through here too,
    adding ``metrics_collector`` (its ``metrics_collector_config`` kind) and ``searched_as_text``
    (the function gets the trial's strings, as from Katib's SDK)."""
    from kfp_tune.core.supported_os import refuse_unsupported_platform
    from kfp_tune.remote import submit_experiment

    refuse_unsupported_platform()  # Windows: UnsupportedPlatform before anything is sent
    experiment = remote_experiment(dict(arguments))  # refuses a Store object: the run on Kubeflow needs the store's URI
    if not arguments.get("searched_as_text"):  # tune(host=), not KatibClient.tune, whose warnings name it
        _warn_of_lookalikes(arguments["parameters"], "tune()", stacklevel=3)
    store = arguments.get("store")
    return submit_experiment(
        experiment, host=arguments.get("host"), namespace=arguments.get("namespace"),
        store=None if store is None else os.fspath(cast("str | os.PathLike[str]", store)), kfp_experiment=arguments.get("kfp_experiment"),
        run_name=arguments.get("run_name"), object_store=arguments.get("object_store"), service_account=arguments.get("service_account"),
        client=arguments.get("client"), reader=read_result if arguments.get("searched_as_text") else functools.partial(read_result, objects=categorical_objects(arguments["parameters"])),
    )


def submit_function(
    objective: Callable[..., Any],
    parameters: Mapping[str, Any],
    host: str | None = None,
    name: str | None = None,
    objective_metric_name: str = "objective",
    objective_type: str = "minimize",
    algorithm: str = DEFAULT_ALGORITHM,
    algorithm_settings: Mapping[str, Any] | None = None,
    max_trial_count: int | None = 10,
    parallel_trial_count: int = 1,
    max_failed_trial_count: int | None = None,
    goal: float | None = None,
    additional_metric_names: Sequence[str] | None = None,
    base_image: str | None = None,
    namespace: str | None = None,
    resources_per_trial: Any = None,
    env_per_trial: Any = None,
    packages_to_install: Sequence[str] | None = None,
    pip_index_urls: Sequence[str] | None = None,
    trial_active_deadline_seconds: int | None = None,
    retain_trials: bool = False,
    store: str | None = None,
    kfp_experiment: str | None = None,
    run_name: str | None = None,
    object_store: str | None = None,
    service_account: str | None = None,
    client: Any = None,
) -> RemoteTuning:
    """Tune ``objective`` on a Kubeflow Pipelines host: each trial a Job running the function's
    source in ``base_image`` (see the module's docs for the rule the function must follow).
    The arguments are ``tune()``'s and Katib SDK ``tune()``'s; ``store`` is where the run keeps
    its records (default ``s3://mlpipeline/kfp-tune`` in KFP's own object store, and with
    ``namespace=NS`` ``s3://mlpipeline/private/NS/kfp-tune``, the prefix multi-user KFP lets
    that namespace write: :func:`kfp_tune.pipelines.submit.cluster_store_default`); ``client``: a
    ``kfp.Client`` with your own authentication. Every argument is checked before anything is
    sent. Returns a :class:`kfp_tune.remote.RemoteTuning` to wait on. ``base_image`` defaults to
    Katib's (:data:`kfp_tune.remote.BASE_IMAGE`), ``pip_index_urls`` to PyPI's."""
    from kfp_tune.remote import submit_experiment

    experiment = remote_experiment(dict(locals()))
    _warn_of_lookalikes(parameters, "submit_function()", stacklevel=2)
    return submit_experiment(
        experiment, host=host, namespace=namespace, store=store, kfp_experiment=kfp_experiment, run_name=run_name,
        object_store=object_store, service_account=service_account, client=client, reader=functools.partial(read_result, objects=categorical_objects(parameters)),
    )


def read_result(store_uri: str, experiment_name: str, objects: Mapping[str, Mapping[str, Any]] | None = None,
                retry_seconds: float | None = None) -> TuneResult:
    """The TuneResult of an experiment in the store at ``store_uri`` (a remote run's handle reads it
    so); ``retry_seconds``: how long an unreachable store is waited for (default: the store's own)."""
    return tune_result(open_store(store_uri, retry_seconds=retry_seconds), experiment_name, objects)


def _parameter_path(path: str, parameters: Mapping[str, Any]) -> str:
    """``spec.parameters[1].feasibleSpace.max`` as ``spec.parameters['lr'].max``: the caller wrote a dict."""
    import re

    match = re.match(r"^spec\.parameters\[(\d+)\](?:\.feasibleSpace)?", path)
    names = [name for name, value in parameters.items() if is_searched(value)]
    if match is None or int(match.group(1)) >= len(names):
        return path
    return f"spec.parameters[{names[int(match.group(1))]!r}]" + path[match.end():]


def _setting_path(path: str, settings: Mapping[str, Any]) -> str:
    """``spec.algorithm.algorithmSettings[0].value`` (``.name``: an unknown setting) as
    ``spec.algorithm.algorithmSettings['random_state']``: the caller wrote a dict, whose items
    make the list in their order."""
    import re

    match = re.match(r"^spec\.algorithm\.algorithmSettings\[(\d+)\](?:\.value|\.name)?", path)
    names = list(settings)
    if match is None or int(match.group(1)) >= len(names):
        return path
    return f"spec.algorithm.algorithmSettings[{names[int(match.group(1))]!r}]" + path[match.end():]


def tune_result(store: Any, experiment_name: str, objects: Mapping[str, Mapping[str, Any]] | None = None) -> TuneResult:
    """A TuneResult read back from the store (typed parameter values; a categorical one the
    object given for its text, by ``objects``: :func:`kfp_tune.search.categorical_objects`)."""
    from kfp_tune.core.catalogue import experiment_space
    from kfp_tune.core.decision import best_trial
    from kfp_tune.reports import damaged_lines, load_report, trial_ending

    records = ExperimentRecords(store, experiment_name)
    # the saved status, or the one the trials give when it is damaged (a derived record: said,
    # never a KeyError); a damaged trial record raises, as load_state does
    report = load_report(store, experiment_name, ExperimentView(records))
    for line in damaged_lines(report.damaged):
        logging.getLogger(__name__).warning("%s", line)
    state, phase, reason = report.state, report.phase, report.reason
    space = experiment_space(state.experiment.spec)
    # what a Failed or Killed trial reported is no observation (Katib's, and Client's get_trial): not among its metrics
    trials = [Trial(t.name, as_given(space.to_python(t.assignment), objects or {}), t.metrics if t.status.observed else {}, str(t.status), trial_ending(t)) for t in state.trials]
    best = best_trial(state)
    best_out = next((t for t in trials if best is not None and t.name == best.name), None)
    spec = state.experiment.spec
    objective = f"{spec.objective.type} {spec.objective.objective_metric_name}" if spec.objective else ""
    algorithm = spec.algorithm.algorithm_name if spec.algorithm else ""
    return TuneResult(experiment_name, phase, reason, best_out, trials, store.uri, objective=objective, algorithm=algorithm)
