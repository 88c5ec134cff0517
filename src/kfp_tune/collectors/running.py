"""A running trial's metrics so far, whatever its collector, for early stopping.

- StdOut: the primary container's output so far (what the launcher hands the monitor), its
  whole lines only: a launcher that asks once the trial has ended ends the output with a
  newline, so that its last line counts then
  (:func:`~kfp_tune.collectors.formats.whole_lines`). A launcher that follows the output as a
  file grows (the local one) hands over only what was appended since its last look
  (:meth:`StopTest.appended`): each look then costs the new bytes only, as Katib's collector
  tails the file line by line (cmd/metricscollector/v1beta1/file-metricscollector/main.go,
  watchMetricsFile).
- File, TensorFlowEvent, PrometheusMetric: what the kfp-tune collector following the trial has
  stored (the sidecar on a cluster, the local launcher's follower on this machine).
- Push and Custom: the ``ReportedMetrics`` records the trial (Push) or the user's collector
  container (Custom) wrote so far.
"""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from kfp_tune.collectors.formats import whole_lines
from kfp_tune.collectors.observe import STAMP_PREFIX, CollectedReader
from kfp_tune.collectors.push import reported_logs
from kfp_tune.collectors.stdout import parse_output
from kfp_tune.core.errors import KfpTuneError, TrialMachineryFailed
from kfp_tune.core.interfaces import LaunchOutcome
from kfp_tune.core.observation import MetricLog
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.vocabulary import CollectorKind, RecordKind

REPORTED_KINDS = frozenset({CollectorKind.PUSH, CollectorKind.CUSTOM})
"""Kinds whose metrics are ``ReportedMetrics`` records that someone else wrote."""


class RunningMetrics:
    """A running trial's metrics so far; kept across polls, it reads each stored record once."""

    def __init__(self, records: ExperimentRecords, experiment: Experiment, trial: str):
        self.records, self.experiment, self.trial = records, experiment, trial
        self.kind = experiment.spec.collector_kind
        self._collected = CollectedReader(records, trial)
        self._reported: dict[str, list[MetricLog]] = {}
        self._pending: list[str] = []
        """Output after the last newline handed to :meth:`read_appended`, in the pieces it came in
        (joined only once its newline comes: a long line with none is not copied at each look)."""
        self._parsed: list[MetricLog] = []
        self._steps: dict[str, int] = {}

    @property
    def reads_output(self) -> bool:
        """Whether the metrics come from the primary container's output (else it is not read)."""
        return self.kind == CollectorKind.STDOUT

    def read(self, output: str = "") -> list[MetricLog]:
        """The trial's metrics so far; ``output``: its primary container's output so far, of
        which a last line without its newline is not read yet (it may be half written)."""
        if self.kind == CollectorKind.STDOUT:
            return parse_output(self.experiment, whole_lines(output, ended=False))
        return self._read_stored()

    def read_appended(self, text: str) -> list[MetricLog]:
        """As :meth:`read`, given only what the output gained since the last call (the calls'
        texts, in order, are the output): only the new whole lines are parsed, the ones before
        are kept parsed, each metric's steps counted on from them."""
        if self.kind != CollectorKind.STDOUT:
            return self._read_stored()
        if "\n" not in text:
            if text:
                self._pending.append(text)
            return list(self._parsed)
        cut = text.rfind("\n") + 1
        lines = "".join([*self._pending, text[:cut]])
        self._pending = [text[cut:]] if cut < len(text) else []
        for metric in parse_output(self.experiment, lines):
            step = self._steps.get(metric.name, 0)
            self._steps[metric.name] = step + 1
            self._parsed.append(dataclasses.replace(metric, step=step))
        return list(self._parsed)

    def _read_stored(self) -> list[MetricLog]:
        if self.kind in REPORTED_KINDS:
            return self._read_reported()
        return self._collected.read_as_reported()

    def _read_reported(self) -> list[MetricLog]:
        prefix = self.records.reports_prefix(self.trial)
        out = []
        for key in self.records.store.list(prefix):
            if key[len(prefix):].startswith(STAMP_PREFIX):
                continue
            if key not in self._reported:
                record = self.records.read(key, RecordKind.REPORTED_METRICS)
                self._reported[key] = [] if record is None else reported_logs(record, key)
            out.extend(self._reported[key])
        return out


class EarlyStoppingRuleError(TrialMachineryFailed):
    """An early-stopping rule (often a plug-in's) raised while it was built or asked: the rule's
    defect, named as a plug-in algorithm's is (``AlgorithmError``), not the trial's. Katib's
    trials never fail for their early-stopping service: its error there stops new trials (the
    suggestion controller retries ``GetEarlyStoppingRules``) and the experiment stays Running.
    So the run stops with this error, a trial the rule was judging while it ran is given back
    (Killed, as :class:`~kfp_tune.core.errors.TrialMachineryFailed` says: neither budget counts
    it), and a run after the fix resumes the experiment. One that had already ended when the
    rule was asked keeps its own end (``outcome``), as if no rule had been asked: it is not
    trained again."""

    outcome: LaunchOutcome | None = None
    """How the trial ended, when it had ended before the rule was asked about it (its launcher
    sets it, logs and metrics files included): recorded as it is, not given back."""


JUDGED_TRIALS = "the trials it was judging while they ran are given back (one that had ended keeps how it ended)"
"""What becomes of the trials a rule was judging when it failed, as its error says."""


def rule_failed(who: str, exc: BaseException, judging: bool = True) -> EarlyStoppingRuleError:
    """The rule's own exception, named with where it was raised (``who``: :func:`rule_who`);
    ``judging``: raised while it judged a running trial (else as a trial was about to start)."""
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    trials = JUDGED_TRIALS if judging else "the trial about to start with it was not started"
    return EarlyStoppingRuleError(
        f"{who} raised {type(exc).__name__}: {str(exc)[:300]} (at {frame.filename}:{frame.lineno}, in {frame.name}): "
        f"the error is in that rule, not in kfp-tune nor in the trial; {trials}, and a run after the fix resumes the experiment"
    )


def rule_who(name: str, rule: object | None = None) -> str:
    """The rule as its errors name it: its experiment's name for it, and its class once built."""
    if rule is None:
        return f"early-stopping rule {name!r}"
    return f"early-stopping rule {name!r} ({type(rule).__module__}.{type(rule).__qualname__})"


class Rule(Protocol):
    """What :func:`stop_test` needs of a rule (:mod:`kfp_tune.algorithms.early_stopping`)."""

    def should_stop(self, objective_type: str, completed: Sequence[Sequence[float]], current: Sequence[float]) -> bool: ...


class StopTest:
    """The running trial's stop test (``TrialRun.should_stop``): its objective values so far,
    in report order, against the completed trials' curves, by the experiment's rule.

    Called with the whole output so far (what a pod's log gives), or, by a launcher that
    follows a growing file, :meth:`appended` with what came since its last look; a launcher
    uses one or the other for a trial, not both."""

    def __init__(self, running: RunningMetrics, rule: Rule, completed: Sequence[Sequence[float]]):
        objective = running.experiment.spec.objective
        assert objective is not None
        self.running, self.rule = running, rule
        self.metric, self.objective_type = objective.objective_metric_name, objective.type
        self.curves = [list(c) for c in completed]
        early = running.experiment.spec.early_stopping
        self.who = rule_who(early.algorithm_name if early is not None else "?", rule)

    @property
    def reads_output(self) -> bool:
        """Whether the test reads the output at all (StdOut): a launcher need not read it else."""
        return self.running.reads_output

    def __call__(self, output: str) -> bool:
        return self._judge(self.running.read(output))

    def appended(self, text: str) -> bool:
        """Judge, given what the output gained since the last call (``"\n"`` once the trial has
        ended, when its last line had none: it is whole then)."""
        return self._judge(self.running.read_appended(text))

    def _judge(self, metrics: Sequence[MetricLog]) -> bool:
        current = [m.value for m in metrics if m.name == self.metric and m.text is None]
        return ask_rule(self.rule, self.who, self.objective_type, self.curves, current)


def ask_rule(rule: Rule, who: str, objective_type: str, completed: Sequence[Sequence[float]], current: Sequence[float]) -> bool:
    """The rule's answer for a trial that reported ``current``; its exception, or an answer that
    is no bool, is :class:`EarlyStoppingRuleError` naming it (``who``), never the trial's failure."""
    try:
        answer = rule.should_stop(objective_type, completed, current)
    except KfpTuneError:
        raise  # says what is wrong itself
    except Exception as exc:  # the rule's defect (often a plug-in's): named, and not called kfp-tune's
        raise rule_failed(who, exc) from exc
    if not isinstance(answer, (bool, np.bool_)):  # bool("no") is True: held to its contract, as suggestions are
        raise EarlyStoppingRuleError(
            f"{who} answered {answer!r} ({type(answer).__name__}); expected True or False: the error is in that rule, not in kfp-tune "
            f"nor in the trial; {JUDGED_TRIALS}, and a run after the fix resumes the experiment"
        )
    return bool(answer)


def stop_test(records: ExperimentRecords, experiment: Experiment, trial: str, rule: Rule, completed: Sequence[Sequence[float]]) -> StopTest:
    """The running trial's stop test (:class:`StopTest`)."""
    return StopTest(RunningMetrics(records, experiment, trial), rule, completed)
