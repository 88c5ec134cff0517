"""Katib's Custom collector: the user's own collector container (``collector.customCollector``)
runs beside the trial, and reports the trial's metrics itself.

The contract follows Katib's as closely as kfp-tune allows. In Katib the custom container
reports to Katib's database (``ReportObservationLog`` to katib-db-manager); kfp-tune has no
database, and its store plays that part, as for the Push collector:

- The container gets the trial's place in the store in its env, as a Push trial does:
  ``KFP_TUNE_STORE``, ``KFP_TUNE_EXPERIMENT``, ``KFP_TUNE_TRIAL`` (on a cluster also
  ``KFP_TUNE_S3_ENDPOINT`` and the store's credentials, by Secret reference, never as values).
- It reports with ``kfp_tune.report_metrics({"accuracy": 0.9}, step=3)`` (an image with kfp-tune
  installed), or writes the same records itself: one object per report, at
  ``<store>/experiments/<experiment>/trials/<trial>/reports/<stamp>.json`` (``stamp``: letters,
  digits, ``.``, ``_``, ``-``; records are read in stamp order; stamps starting ``collector-`` are
  kfp-tune's own), holding ``{"kind": "ReportedMetrics", "version": 1, "metrics": [{"name": ...,
  "value": ..., "step": ...}]}``. A value that is not a finite number (null, text, a boolean) is
  left out with a warning, as the other collectors leave it out; a record of another shape (an
  entry without a name, a step that is not an integer) is damaged, and collect-metrics refuses
  it naming it (:func:`~kfp_tune.collectors.push.reported_logs`).
- With ``source.fileSystemPath``, its folder (the path itself for a Directory) is a volume shared
  by the primary container and the custom container, as Katib mounts it (an ``emptyDir``).
- It starts before the trial and is stopped (SIGTERM) once the trial has ended: on a cluster it is
  a native sidecar (an init container with ``restartPolicy: Always``); locally a second process.
  On SIGTERM it should report what is left and exit within the grace period (30 s on a cluster,
  10 s locally). The pod shares its process namespace (``shareProcessNamespace``), as Katib
  sets it, so a collector written for Katib can still watch the trial's processes.
- collect-metrics then reads the records, as for Push; early stopping reads them while the trial
  runs.

Locally the container runs as a process: it needs a ``command`` (an image's entrypoint is not
known here), its env must be plain values, and its ``python`` means this Python.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

from kfp_tune.collectors.push import collect_pushed
from kfp_tune.core.spec import Experiment

FIELD = "spec.metricsCollectorSpec.collector.customCollector"
DEFAULT_NAME = "custom-metrics-collector"

collect_custom = collect_pushed
"""The custom container's reports, read as the Push collector reads a trial's."""


def custom_container(collector: Mapping[str, Any]) -> dict[str, Any]:
    """The user's collector container from a ``metricsCollectorSpec`` (Katib's camelCase dict);
    ValueError when there is none."""
    container = (collector.get("collector") or {}).get("customCollector")
    if not isinstance(container, Mapping) or not container:
        raise ValueError(f"{FIELD}: the Custom collector needs its container")
    out = dict(container)
    out.setdefault("name", DEFAULT_NAME)
    return out


def shared_folder(collector: Mapping[str, Any]) -> str:
    """The folder the trial and the custom container share (``source.fileSystemPath``: the
    path's folder, or the path for a Directory); empty when there is none."""
    fsp = ((collector.get("source") or {}).get("fileSystemPath")) or {}
    path = str(fsp.get("path") or "")
    if not path:
        return ""
    path = posixpath.normpath(path)
    return path if fsp.get("kind") == "Directory" else posixpath.dirname(path)


def missing_custom_command() -> str:
    """Why a Custom collector without ``command`` cannot run here (an image's entrypoint is not known)."""
    return f"{FIELD}.command: running the Custom collector on this machine needs its command (an image's entrypoint is not known here)"


def collector_spec(experiment: Experiment) -> dict[str, Any]:
    """The experiment's ``metricsCollectorSpec`` as Katib writes it (camelCase), ``{}`` for none."""
    mc = experiment.spec.metrics_collector_spec
    return mc.to_dict() if mc is not None else {}
