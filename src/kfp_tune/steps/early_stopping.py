"""Early stopping while a trial runs: the experiment's rule, fed the trial's objective so far
and the completed trials' curves.

As in Katib, a trial is judged by the rules fixed when it started (recorded in its ``started``
record, :func:`early_stopping_rules`), not by what completes while it runs; a plug-in rule with
no such form, or whose class overrides ``should_stop`` below its ``katib_rules``
(:func:`kfp_tune.algorithms.early_stopping.katib_shaped`), is asked its ``should_stop`` with
the completed trials of the moment its monitor is made.

A rule that raises (its factory, ``katib_rules`` or ``should_stop``: often a plug-in's defect)
stops the run with :class:`~kfp_tune.collectors.running.EarlyStoppingRuleError` naming it; the
trials it was judging while they ran are given back, none fails (Katib's broken early-stopping
service holds up new trials, never fails running ones), one that had already ended keeps its own
end, and a run after the fix resumes the experiment."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from kfp_tune.algorithms import early_stopping
from kfp_tune.collectors.running import Rule, ask_rule, rule_failed, rule_who, stop_test
from kfp_tune.core.catalogue import EARLY_STOPPING, parse_settings
from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.records import ExperimentRecords, StopRule
from kfp_tune.core.state import ExperimentState
from kfp_tune.core.vocabulary import TrialStatus

_T = TypeVar("_T")


def _rule(state: ExperimentState) -> early_stopping.EarlyStoppingRule | None:
    spec = state.experiment.spec
    if spec.early_stopping is None:
        return None
    settings, _ = parse_settings(
        EARLY_STOPPING[spec.early_stopping.algorithm_name],
        [(s.name, s.value) for s in spec.early_stopping.algorithm_settings],
        "",
    )
    try:
        return early_stopping.create(spec.early_stopping.algorithm_name, settings)
    except KfpTuneError:
        raise  # says what is wrong itself (a rule not implemented)
    except Exception as exc:  # the factory's defect (often a plug-in's), named: before the trial starts, so nothing fails
        raise rule_failed(rule_who(spec.early_stopping.algorithm_name), exc, judging=False) from exc


def _fixed(rule: object, state: ExperimentState, ask: Callable[[], _T]) -> _T:
    """``ask()`` (the rule's ``katib_rules``, as a trial starts), its exception named as the rule's."""
    try:
        return ask()
    except KfpTuneError:
        raise
    except Exception as exc:
        spec = state.experiment.spec
        raise rule_failed(rule_who(spec.early_stopping.algorithm_name if spec.early_stopping else "?", rule), exc, judging=False) from exc


def _completed(state: ExperimentState) -> list[list[float]]:
    return [list(t.result.curve) for t in state.trials if t.status == TrialStatus.SUCCEEDED and t.result is not None]


def early_stopping_rules(state: ExperimentState) -> tuple[StopRule, ...] | None:
    """The stop rules a trial that starts now is judged by, as Katib's Trial carries them in
    ``spec.earlyStoppingRules`` (set when Katib creates it from its early stopping service:
    experiment_controller_util.go, from medianstop's ``GetEarlyStoppingRules``); ``()`` while
    the rule has too few completed trials; None without early stopping, or for a plug-in rule
    judged by its ``should_stop`` (:func:`~kfp_tune.algorithms.early_stopping.katib_shaped`)."""
    rule = _rule(state)
    shaped = early_stopping.katib_shaped(rule) if rule is not None else None
    if shaped is None:
        return None
    objective = state.experiment.spec.objective
    assert objective is not None
    return tuple(_fixed(rule, state, lambda: shaped.katib_rules(objective.objective_metric_name, objective.type, _completed(state))))


def _judge(state: ExperimentState, trial: str) -> tuple[Rule, list[list[float]]] | None:
    """What judges the trial: the rules recorded when it started, else what would judge one
    starting now (:func:`~kfp_tune.algorithms.early_stopping.trial_judge`: a record written
    before the rules were kept, or a rule judged by its ``should_stop``)."""
    rule = _rule(state)
    if rule is None:
        return None
    started = state.trial(trial).started
    if started is not None and started.early_stopping_rules is not None:
        return early_stopping.FixedRules(started.early_stopping_rules), []
    objective = state.experiment.spec.objective
    assert objective is not None
    return _fixed(rule, state, lambda: early_stopping.trial_judge(rule, objective.objective_metric_name, objective.type, _completed(state)))


def early_stopping_monitor(state: ExperimentState, records: ExperimentRecords, trial: str) -> Callable[[str], bool] | None:
    """The running trial's stop test: its objective so far (from its output for StdOut, from
    what the collector or the trial stored for the other kinds) against its rules. A launcher
    asks it while the trial runs, and once more when the trial has ended by itself (on all it
    reported: Katib's collector judges each report as it is written, so one that ended between
    two looks is stopped as one still running would be)."""
    judge = _judge(state, trial)
    if judge is None:
        return None
    return stop_test(records, state.experiment, trial, *judge)


def stops_after_end(state: ExperimentState, trial: str, values: Sequence[float]) -> bool:
    """Whether the rules stop a trial that has ended having reported the objective ``values``
    (in order), as the monitor would have stopped it while it ran."""
    judge = _judge(state, trial)
    if judge is None:
        return False
    objective = state.experiment.spec.objective
    assert objective is not None
    rule, completed = judge
    early = state.experiment.spec.early_stopping
    return ask_rule(rule, rule_who(early.algorithm_name if early is not None else "?", rule), objective.type, completed, list(values))
