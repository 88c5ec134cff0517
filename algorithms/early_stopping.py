"""Early-stopping rules, under Katib's ``earlyStopping.algorithmName``: a plug-in family beside
the suggestion algorithms. A rule sees the objective values a running trial has reported so far
and those of the completed trials, and says whether to stop the running one now; or, Katib-shaped
(:class:`KatibShapedRule`, as medianstop), fixes a trial's stop rules as it starts
(:func:`katib_shaped` says which way a rule is asked).

A plug-in adds one with :func:`register` (from the module its ``kfp_tune.plugins`` entry point
names, :mod:`kfp_tune.plugins`); :class:`kfp_tune.algorithms.testing.EarlyStoppingContract`
checks it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from kfp_tune.algorithms.registry import new_entry
from kfp_tune.core.catalogue import EARLY_STOPPING, Setting
from kfp_tune.core.errors import NotImplementedAlgorithm
from kfp_tune.core.records import StopRule
from kfp_tune.core.vocabulary import Comparison, ObjectiveType


class EarlyStoppingRule(Protocol):
    """An early-stopping rule plug-in, built per trial from parsed settings.

    The running-trial monitor asks ``should_stop`` after each report, unless the rule is
    Katib-shaped (:func:`katib_shaped`): then it asks ``katib_rules`` once, as the trial starts,
    and judges the trial by those rules alone, never calling ``should_stop``."""

    name: str

    def should_stop(self, objective_type: str, completed: Sequence[Sequence[float]], current: Sequence[float]) -> bool:
        """``completed``: each completed trial's objective values in report order; ``current``:
        the running trial's so far."""
        ...


@runtime_checkable
class KatibShapedRule(Protocol):
    """A rule that can say, as Katib's early stopping services do, the stop rules it fixes for a
    trial created now (recorded with the trial, shown as its ``spec.earlyStoppingRules``); the
    trial is then judged by those (:func:`rules_reached`) whatever completes while it runs, and
    the rule's ``should_stop`` is not asked. So that a rule means one thing, its ``should_stop``
    must answer as its rules do (``EarlyStoppingContract`` checks it; :class:`MedianStop`'s
    is built on them). A subclass that overrides ``should_stop`` but not ``katib_rules`` (a
    tweak of medianstop) is judged by its ``should_stop``: :func:`katib_shaped`."""

    def katib_rules(self, metric: str, objective_type: str, completed: Sequence[Sequence[float]]) -> list[StopRule]: ...


def katib_shaped(rule: EarlyStoppingRule) -> KatibShapedRule | None:
    """The rule, when a trial is judged by its ``katib_rules`` (fixed as the trial starts); None
    when by its ``should_stop``. A rule with ``katib_rules`` is judged by them, unless its class
    overrides ``should_stop`` below the class that defines ``katib_rules``: the author of a
    subclass of :class:`MedianStop` that changes only ``should_stop`` means that to decide, and
    the inherited rules would silently overrule it."""
    if not isinstance(rule, KatibShapedRule):
        return None
    classes = type(rule).__mro__

    def defined_at(attribute: str) -> int:
        """How far down the class hierarchy ``attribute`` is defined (0: the rule's own class)."""
        return next((depth for depth, cls in enumerate(classes) if attribute in vars(cls)), len(classes))

    if defined_at("should_stop") < defined_at("katib_rules"):
        return None
    return rule


def trial_judge(rule: EarlyStoppingRule, metric: str, objective_type: str, completed: Sequence[Sequence[float]]) -> tuple[EarlyStoppingRule, list[list[float]]]:
    """What judges a trial that starts now with ``completed`` curves, and the completed curves to
    hand it with each report: a Katib-shaped rule's ``katib_rules`` fixed now (:class:`FixedRules`,
    which needs no curves), else the rule itself with ``completed``. The running-trial monitor
    (:mod:`kfp_tune.steps.early_stopping`) and ``EarlyStoppingContract`` both ask through this."""
    shaped = katib_shaped(rule)
    if shaped is not None:
        return FixedRules(shaped.katib_rules(metric, objective_type, completed)), []
    return rule, [list(curve) for curve in completed]


def rule_reached(rule: StopRule, objective_type: str, values: Sequence[float]) -> bool:
    """Whether the objective's reports ``values`` (in order) reach ``rule``, as Katib's metrics
    collector applies it (file-metricscollector main.go, ``updateStopRules``): the best value so
    far (max for maximize, min for minimize), compared at the ``start_step``-th report only; a
    rule with ``start_step`` 0 at every report."""
    limit = float(rule.value)
    counts = [rule.start_step] if rule.start_step > 0 else range(1, len(values) + 1)
    for count in counts:
        if count > len(values):
            return False
        head = values[:count]
        best = max(head) if objective_type == ObjectiveType.MAXIMIZE else min(head)
        if (rule.comparison == Comparison.LESS and best < limit) or (rule.comparison == Comparison.GREATER and best > limit) or (
            rule.comparison == Comparison.EQUAL and best == limit
        ):
            return True
    return False


def rules_reached(rules: Sequence[StopRule], objective_type: str, values: Sequence[float]) -> bool:
    """Whether the trial stops: every rule reached (Katib's collector stops the trial once it has
    struck off the last of its rules); never with no rules."""
    return bool(rules) and all(rule_reached(rule, objective_type, values) for rule in rules)


class FixedRules:
    """A trial's stop rules as they were fixed when it started, applied to its reports."""

    name = "fixed"

    def __init__(self, rules: Sequence[StopRule]):
        self.rules = tuple(rules)

    def should_stop(self, objective_type: str, completed: Sequence[Sequence[float]], current: Sequence[float]) -> bool:
        return rules_reached(self.rules, objective_type, current)


class MedianStop:
    """Katib's medianstop, as its service and its metrics collector apply it together.

    The service (``pkg/earlystopping/v1beta1/medianstop/service.py``, ``GetEarlyStoppingRules``)
    averages each succeeded trial's first ``start_step`` objective values, and once
    ``min_trials_required`` trials have succeeded it gives a trial the rule "objective LESS
    (maximize) / GREATER (minimize) than the average of those averages" (Katib calls it the
    median; it is their mean; its value is Python's ``str`` of it) from ``start_step`` on
    (:meth:`katib_rules`). Katib fixes the rule when it creates the trial: here when the trial
    starts, and it is kept in the trial's ``started`` record.

    The collector then counts the objective's reports and checks the rule once, at the
    ``start_step``-th report, with the best value reported so far (not the latest): a trial not
    stopped then runs to its end. So the decision depends only on the first ``start_step``
    values: the launchers also judge a trial that ended before they looked, on all it reported.

    Defaults and checks are Katib's: ``min_trials_required`` 3 (> 0), ``start_step`` 4 (>= 1).
    A succeeded trial that reported no objective value is left out (Katib would divide by zero)."""

    name = "medianstop"

    def __init__(self, settings: dict[str, Any]):
        self.min_trials_required = _setting(settings, "min_trials_required", 3, minimum=1)
        self.start_step = _setting(settings, "start_step", 4, minimum=1)

    def threshold(self, completed: Sequence[Sequence[float]]) -> float | None:
        """The rule's value: the mean over the completed trials of their average over their
        first ``start_step`` values; None while fewer than ``min_trials_required`` have some."""
        averages = [sum(c[: self.start_step]) / len(c[: self.start_step]) for c in completed if len(c) > 0]
        if len(averages) < self.min_trials_required:
            return None
        return sum(averages) / len(averages)  # summed in order, as Katib's service sums

    def katib_rules(self, metric: str, objective_type: str, completed: Sequence[Sequence[float]]) -> list[StopRule]:
        """The rule a trial created now gets, as Katib's Trial carries it; none while fewer than
        ``min_trials_required`` trials have succeeded (Katib's service then returns none)."""
        threshold = self.threshold(completed)
        if threshold is None:
            return []
        comparison = Comparison.LESS if objective_type == ObjectiveType.MAXIMIZE else Comparison.GREATER
        return [StopRule(metric, str(threshold), comparison, self.start_step)]

    def should_stop(self, objective_type: str, completed: Sequence[Sequence[float]], current: Sequence[float]) -> bool:
        return rules_reached(self.katib_rules("", objective_type, completed), objective_type, current)


def _setting(settings: dict[str, Any], name: str, default: int, minimum: int) -> int:
    """An integer setting, Katib's default when absent; ValueError below ``minimum``."""
    value = settings.get(name)
    number = default if value is None or value == "" else int(value)
    if number < minimum:
        raise ValueError(f"medianstop: {name} must be at least {minimum}, got {number}")
    return number


RuleFactory = Callable[[dict[str, Any]], EarlyStoppingRule]
RULES: dict[str, RuleFactory] = {"medianstop": MedianStop}
CATALOGUED = frozenset(EARLY_STOPPING)
"""Katib's early-stopping names: a plug-in may take one over, keeping its settings."""


def register(name: str, factory: RuleFactory, *, settings: Sequence[Setting] | None = None, help: str = "") -> None:
    """Make ``name`` an early-stopping rule: ``factory(parsed settings) -> EarlyStoppingRule``.

    As :func:`kfp_tune.algorithms.register`: a Katib name (``medianstop``) is taken over with
    Katib's settings (passing ``settings`` is an error); a new name is added to the catalogue
    (:data:`kfp_tune.core.catalogue.EARLY_STOPPING`) with ``settings`` (required, ``()`` for
    none, so that a misspelt Katib name is not taken for a new one), and validation knows it.

    ``factory`` builds an :class:`EarlyStoppingRule`. A rule that also has ``katib_rules`` is
    judged by the rules they fix, unless its class overrides ``should_stop`` below them
    (:func:`katib_shaped`)."""
    if name in CATALOGUED:
        if settings is not None:
            raise ValueError(f"{name!r} is Katib's early-stopping name: a plug-in that takes it over keeps Katib's settings (pass no settings)")
    else:
        EARLY_STOPPING[name] = new_entry("early-stopping", name, settings, CATALOGUED, help=help)
    RULES[name] = factory


def create(name: str, settings: dict[str, Any]) -> EarlyStoppingRule:
    factory = RULES.get(name)  # looked up first: a KeyError inside a plug-in's factory is its own
    if factory is None:
        raise NotImplementedAlgorithm(f"early stopping {name!r} is not implemented in this version yet")
    return factory(settings)
