"""Katib's File and TensorFlowEvent collectors: metrics the trial wrote to files.

The launcher gives the trial a per-trial place for ``fileSystemPath.path`` and stores what it
wrote under the trial (``metrics-files/``); these read it back from the store:

- File, format TEXT: lines read as StdOut's are (``metricsFormat`` or Katib's default regex).
- File, format JSON: one JSON object per line; a wanted metric's value is a number or a string
  holding one (Katib's JSON format).
- TensorFlowEvent: every event file (``*tfevents*``) under the directory, read with the
  ``tensorboard`` package (no TensorFlow); a scalar whose tag is the metric's name, or ends with
  ``/<name>``, is a value of that metric at the event's step.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from kfp_tune.collectors.stdout import parse_metric_lines
from kfp_tune.core.observation import MetricLog
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState


def _files(records: ExperimentRecords, trial: TrialState) -> Iterator[tuple[str, bytes]]:
    prefix = records.metrics_files_prefix(trial.name)
    for key in records.store.list(prefix):
        data = records.store.get(key)
        if data is not None:
            yield key[len(prefix):], data


def parse_json_lines(lines: list[str], names: list[str]) -> list[MetricLog]:
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
            try:
                value = float(record[name])
            except (TypeError, ValueError):
                continue
            if math.isfinite(value):
                out.append(MetricLog(name, value, steps.get(name, 0)))
                steps[name] = steps.get(name, 0) + 1
    return out


def collect_file(records: ExperimentRecords, experiment: Experiment, trial: TrialState) -> list[MetricLog]:
    mc = experiment.spec.metrics_collector_spec
    assert mc is not None and mc.source is not None and mc.source.file_system_path is not None
    text = "".join(data.decode("utf-8", errors="replace") for _, data in sorted(_files(records, trial)))
    assert experiment.spec.objective is not None
    names = experiment.spec.objective.metric_names
    if (mc.source.file_system_path.format or "TEXT") == "JSON":
        return parse_json_lines(text.splitlines(), names)
    formats = mc.source.filter.metrics_format if mc.source.filter else []
    return parse_metric_lines(text.splitlines(), names, formats)


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


def collect_tfevent(records: ExperimentRecords, experiment: Experiment, trial: TrialState) -> list[MetricLog]:
    assert experiment.spec.objective is not None
    names = experiment.spec.objective.metric_names
    out: list[MetricLog] = []
    with tempfile.TemporaryDirectory(prefix="kfp-tune-tfevents-") as folder:
        for relative, data in sorted(_files(records, trial)):
            if "tfevents" not in os.path.basename(relative):
                continue
            local = Path(folder) / relative.replace("/", "__")
            local.write_bytes(data)
            out.extend(read_event_scalars(local, names))
    return out
