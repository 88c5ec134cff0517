"""Reporting metrics from inside a trial: Katib's Push collector, ``kfp_tune.report_metrics``.

The launcher tells a trial where it is (``KFP_TUNE_STORE``, ``KFP_TUNE_EXPERIMENT``,
``KFP_TUNE_TRIAL``; on a cluster also ``KFP_TUNE_S3_ENDPOINT`` and the store's credentials,
by Secret reference). Each call writes one record of its own, so nothing is overwritten.
"""

from __future__ import annotations

import math
import os
import time
from typing import Mapping

from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.records import ExperimentRecords

PLACE_VARIABLES = ("KFP_TUNE_STORE", "KFP_TUNE_EXPERIMENT", "KFP_TUNE_TRIAL")


def report_metrics(metrics: Mapping[str, float], step: int | None = None) -> None:
    """Record metrics for the running trial (the Push collector reads them after it ends)."""
    from kfp_tune.stores import open_store

    missing = [name for name in PLACE_VARIABLES if not os.environ.get(name)]
    if missing:
        raise KfpTuneError(f"report_metrics: {', '.join(missing)} not set: call it from a trial kfp-tune launched (Push collector)")
    values = []
    for name, value in metrics.items():
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"report_metrics: {name}={value!r} is not a finite number")
        values.append({"name": str(name), "value": number, "step": step})
    records = ExperimentRecords(open_store(os.environ["KFP_TUNE_STORE"], os.environ.get("KFP_TUNE_S3_ENDPOINT") or None), os.environ["KFP_TUNE_EXPERIMENT"])
    stamp = f"{time.time_ns():020d}-{os.urandom(3).hex()}"
    records.write_once(records.report_key(os.environ["KFP_TUNE_TRIAL"], stamp), "ReportedMetrics", {"metrics": values})
