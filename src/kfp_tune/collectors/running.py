"""A running trial's metrics so far, whatever its collector, for early stopping.

- StdOut: the primary container's output so far (what the launcher hands the monitor), its
  whole lines only: a launcher that asks once the trial has ended ends the output with a
  newline, so that its last line counts then
  (:func:`~kfp_tune.collectors.formats.whole_lines`).
- File, TensorFlowEvent, PrometheusMetric: what the kfp-tune collector following the trial has
  stored (the sidecar on a cluster, the local launcher's follower on this machine).
- Push and Custom: the ``ReportedMetrics`` records the trial (Push) or the user's collector
  container (Custom) wrote so far.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from kfp_tune.collectors.formats import whole_lines
from kfp_tune.collectors.observe import STAMP_PREFIX, CollectedReader
from kfp_tune.collectors.stdout import parse_output
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

    def read(self, output: str = "") -> list[MetricLog]:
        """The trial's metrics so far; ``output``: its primary container's output so far, of
        which a last line without its newline is not read yet (it may be half written)."""
        if self.kind == CollectorKind.STDOUT:
            return parse_output(self.experiment, whole_lines(output, ended=False))
        if self.kind in REPORTED_KINDS:
            return self._read_reported()
        return self._collected.read()

    def _read_reported(self) -> list[MetricLog]:
        prefix = self.records.reports_prefix(self.trial)
        out = []
        for key in self.records.store.list(prefix):
            if key[len(prefix):].startswith(STAMP_PREFIX):
                continue
            if key not in self._reported:
                record = self.records.read(key, RecordKind.REPORTED_METRICS)
                self._reported[key] = [MetricLog(m["name"], float(m["value"]), m.get("step")) for m in (record or {}).get("metrics") or []]
            out.extend(self._reported[key])
        return out


class Rule(Protocol):
    """What :func:`stop_test` needs of a rule (:mod:`kfp_tune.algorithms.early_stopping`)."""

    def should_stop(self, objective_type: str, completed: Sequence[Sequence[float]], current: Sequence[float]) -> bool: ...


def stop_test(
    records: ExperimentRecords, experiment: Experiment, trial: str, rule: Rule, completed: Sequence[Sequence[float]]
) -> Callable[[str], bool]:
    """The running trial's stop test (``TrialRun.should_stop``): its objective values so far,
    in report order, against the completed trials' curves, by the experiment's rule."""
    assert experiment.spec.objective is not None
    metric, objective_type = experiment.spec.objective.objective_metric_name, experiment.spec.objective.type
    running = RunningMetrics(records, experiment, trial)
    curves = [list(c) for c in completed]

    def should_stop(output: str) -> bool:
        current = [m.value for m in running.read(output) if m.name == metric and m.text is None]
        return bool(rule.should_stop(objective_type, curves, current))

    return should_stop
