"""Metrics collectors: read what a trial reported, from what launch-trial stored.

A collector is a function ``(records, experiment, trial) -> [MetricLog]``
(:class:`kfp_tune.core.interfaces.Collector`). The kind comes from
``spec.metricsCollectorSpec.collector.kind``, as in Katib.
"""

from __future__ import annotations

from kfp_tune.collectors.files import collect_file, collect_tfevent
from kfp_tune.collectors.push import collect_pushed
from kfp_tune.collectors.stdout import collect_stdout
from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.interfaces import Collector
from kfp_tune.core.spec import Experiment
from kfp_tune.core.vocabulary import CollectorKind

COLLECTORS: dict[CollectorKind, Collector] = {
    CollectorKind.STDOUT: collect_stdout,
    CollectorKind.PUSH: collect_pushed,
    CollectorKind.FILE: collect_file,
    CollectorKind.TENSORFLOW_EVENT: collect_tfevent,
}
"""The collectors this version implements, by Katib's kind."""

EARLY_STOPPING_COLLECTORS: frozenset[CollectorKind] = frozenset({CollectorKind.STDOUT})
"""The ones whose metrics can be read while a trial runs, as early stopping needs."""


def collector_for(experiment: Experiment) -> Collector:
    kind = experiment.spec.collector_kind
    try:
        return COLLECTORS[CollectorKind(kind)]
    except (KeyError, ValueError):  # ValueError: not a kind Katib knows
        raise KfpTuneError(f"the {kind} metrics collector is not implemented in this version yet") from None


__all__ = ["COLLECTORS", "EARLY_STOPPING_COLLECTORS", "collect_file", "collect_pushed", "collect_stdout", "collect_tfevent", "collector_for"]
