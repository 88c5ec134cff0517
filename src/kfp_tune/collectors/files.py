"""Katib's File and TensorFlowEvent collectors: metrics the trial wrote to files.

The launcher gives the trial a per-trial place for ``fileSystemPath.path`` and stores what it
wrote under the trial (``metrics-files/``); these read it back from the store. On a cluster with
no shared metrics volume, the collector sidecar stored the observations instead, as it read them
(:mod:`kfp_tune.collectors.observe`): with no metrics file stored, those are the trial's metrics.

- File, format TEXT: lines read as StdOut's are (``metricsFormat`` or Katib's default regex).
- File, format JSON: one JSON object per line; a wanted metric's value is a number or a string
  holding one (Katib's JSON format).
- TensorFlowEvent: every event file (``*tfevents*``) under the directory, read with the
  ``tensorboard`` package (no TensorFlow); a scalar whose tag is the metric's name, or ends with
  ``/<name>``, or (Katib's ``<folder>/<tag>`` names) whose tag is the name's last part in an
  event file under that folder, is a value of that metric at the event's step
  (:func:`~kfp_tune.collectors.formats.event_metrics`); never of two tags of one file by their
  last parts (``train/accuracy`` and ``test/accuracy`` for ``accuracy``: neither is read).
"""

from __future__ import annotations

import logging
import posixpath
import tempfile
from collections.abc import Iterator
from pathlib import Path

from kfp_tune.collectors.formats import file_lines, parse_json_lines, read_event_scalars, text_metrics
from kfp_tune.collectors.stdout import parse_metric_lines
from kfp_tune.core.observation import MetricLog
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState

log = logging.getLogger(__name__)


def _files(records: ExperimentRecords, trial: TrialState) -> Iterator[tuple[str, bytes]]:
    prefix = records.metrics_files_prefix(trial.name)
    for key in records.store.list(prefix):
        data = records.store.get(key)
        if data is not None:
            yield key[len(prefix):], data


def collect_file(records: ExperimentRecords, experiment: Experiment, trial: TrialState) -> list[MetricLog]:
    """The File collector's read of the trial's stored files, in the order of their names, each
    split into its own lines: a file without a final newline must not run its last line into the
    next file's first (``loss=0.5`` and ``1 epoch done`` read as ``loss=0.51``)."""
    mc = experiment.spec.metrics_collector_spec
    assert mc is not None and mc.source is not None and mc.source.file_system_path is not None
    files = sorted(_files(records, trial))
    if not files:
        return collect_stored(records, experiment, trial)
    lines = [line for _, data in files for line in file_lines(data.decode("utf-8", errors="replace"))]
    assert experiment.spec.objective is not None
    names = experiment.spec.objective.metric_names
    texts = text_metrics(experiment)
    if (mc.source.file_system_path.format or "TEXT") == "JSON":
        return parse_json_lines(lines, names, texts)
    formats = mc.source.filter.metrics_format if mc.source.filter else []
    return parse_metric_lines(lines, names, formats, texts)


def collect_tfevent(records: ExperimentRecords, experiment: Experiment, trial: TrialState) -> list[MetricLog]:
    assert experiment.spec.objective is not None
    names = experiment.spec.objective.metric_names
    mc = experiment.spec.metrics_collector_spec
    fsp = mc.source.file_system_path if mc is not None and mc.source is not None else None
    directory = (fsp.path or "") if fsp is not None else ""
    files = sorted(_files(records, trial))
    if not files:
        return collect_stored(records, experiment, trial)
    out: list[MetricLog] = []
    refused: dict[str, set[str]] = {}
    skipped: dict[str, set[str]] = {}
    with tempfile.TemporaryDirectory(prefix="kfp-tune-tfevents-") as folder:
        for relative, data in files:
            if "tfevents" not in posixpath.basename(relative):
                continue
            local = Path(folder) / relative.replace("/", "__")
            local.write_bytes(data)
            out.extend(read_event_scalars(local, names, posixpath.join(directory, posixpath.dirname(relative)), refused, skipped))
    for name, tags in sorted(refused.items()):
        log.warning(
            "trial %s: the metric %r is the last part of the tags %s in one event file; kfp-tune reads none of them for it rather than "
            "mix two series (Katib reads none: its tags must start with the name); name the metric by the whole tag",
            trial.name, name, ", ".join(repr(t) for t in sorted(tags)),
        )
    _tell_skipped(trial.name, skipped)
    return out


def _tell_skipped(trial: str, skipped: dict[str, set[str]]) -> None:
    """Say which tags held values that are no numbers (:func:`~kfp_tune.collectors.formats.read_event_scalars`),
    so a metric found missing is explained."""
    for name, tags in sorted(skipped.items()):
        log.warning(
            "trial %s: the tag(s) %s, read for the metric %r, hold values that are not a number (a text or other tensor); they are "
            "left out, as Katib leaves them out",
            trial, ", ".join(repr(t) for t in sorted(tags)), name,
        )


def collect_stored(records: ExperimentRecords, experiment: Experiment, trial: TrialState) -> list[MetricLog]:
    """What kfp-tune's own collector stored while the trial ran (the sidecar on a cluster, the
    local launcher's follower), for the experiment's metrics: all the PrometheusMetric collector
    has, and the File and TensorFlowEvent collectors' when no metrics file was kept."""
    from kfp_tune.collectors.observe import read_collected

    assert experiment.spec.objective is not None
    names = set(experiment.spec.objective.metric_names)
    return [m for m in read_collected(records, trial.name) if m.name in names]
