"""The file formats Katib's File and TensorFlowEvent collectors read: JSON lines and TensorFlow
event files. Shared by the readers of stored metrics files (:mod:`.files`) and the collector that
follows them while a trial runs (:mod:`.observe`)."""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from pathlib import Path

from kfp_tune.core.observation import MetricLog
from kfp_tune.core.spec import Experiment

TEXT_OBJECTIVE_ALGORITHMS = frozenset({"darts"})
"""Algorithms whose objective metric is text, not a number: a DARTS trial reports the
architecture it found (``Best-Genotype=Genotype(normal=[...], ...)``)."""


def text_metrics(experiment: Experiment) -> frozenset[str]:
    """The metrics whose values are kept as text: the objective of an algorithm in
    :data:`TEXT_OBJECTIVE_ALGORITHMS`. Every other metric is a number, and a value that is not
    one is dropped, as before (Katib would store it, and then take it for the best)."""
    spec = experiment.spec
    if spec.algorithm is None or spec.objective is None or spec.algorithm.algorithm_name not in TEXT_OBJECTIVE_ALGORITHMS:
        return frozenset()
    return frozenset({spec.objective.objective_metric_name})


def text_log(name: str, text: str, step: int | None) -> MetricLog:
    """One value of a text metric (NaN as its number, so no numeric reader counts it)."""
    return MetricLog(name, math.nan, step, text=text)


def parse_json_lines(lines: list[str], names: list[str], texts: Collection[str] = ()) -> list[MetricLog]:
    """Katib's JSON format: one object per line; a wanted metric's value is a number or a string
    holding one, or for a metric in ``texts`` a non-empty string, kept as it is; each metric's
    steps count its own values."""
    wanted = set(names)
    steps: dict[str, int] = {}
    out: list[MetricLog] = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(record, dict):
            continue
        for name in names:
            if name not in record or name not in wanted:
                continue
            if name in texts:
                if isinstance(record[name], str) and record[name].strip():
                    out.append(text_log(name, record[name], steps.get(name, 0)))
                    steps[name] = steps.get(name, 0) + 1
                continue
            try:
                value = float(record[name])
            except (TypeError, ValueError):
                continue
            if math.isfinite(value):
                out.append(MetricLog(name, value, steps.get(name, 0)))
                steps[name] = steps.get(name, 0) + 1
    return out


def read_event_scalars(path: Path, names: list[str]) -> list[MetricLog]:
    """Scalars for the wanted metrics in one event file, in file order."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.util import tensor_util

    out = []
    for event in EventFileLoader(str(path)).Load():
        if not event.HasField("summary"):
            continue
        for value in event.summary.value:
            name = next((n for n in names if value.tag == n or value.tag.endswith("/" + n)), None)
            if name is None:
                continue
            if value.HasField("simple_value"):
                number = float(value.simple_value)
            elif value.HasField("tensor"):
                array = tensor_util.make_ndarray(value.tensor)
                if array.size != 1:
                    continue
                number = float(array.reshape(-1)[0])
            else:
                continue
            if math.isfinite(number):
                out.append(MetricLog(name, number, int(event.step)))
    return out
