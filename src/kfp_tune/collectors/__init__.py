"""Metrics collectors: read what a trial reported, from what launch-trial stored.

A collector is a function ``(records, experiment, trial) -> [MetricLog]``. The kind comes from
``spec.metricsCollectorSpec.collector.kind``, as in Katib.
"""

from __future__ import annotations

from typing import Callable

from kfp_tune.collectors.files import collect_file, collect_tfevent
from kfp_tune.collectors.push import collect_pushed
from kfp_tune.collectors.stdout import collect_stdout
from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.observation import MetricLog
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState

Collector = Callable[[ExperimentRecords, Experiment, TrialState], list[MetricLog]]

COLLECTORS: dict[str, Collector] = {
    "StdOut": collect_stdout,
    "Push": collect_pushed,
    "File": collect_file,
    "TensorFlowEvent": collect_tfevent,
}


def collector_for(experiment: Experiment) -> Collector:
    kind = experiment.spec.collector_kind
    try:
        return COLLECTORS[kind]
    except KeyError:
        raise KfpTuneError(f"the {kind} metrics collector is not implemented in this version yet") from None


__all__ = ["Collector", "collector_for", "collect_stdout", "collect_pushed", "collect_file", "collect_tfevent", "COLLECTORS"]
