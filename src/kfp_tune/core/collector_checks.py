"""Katib's admission checks for the PrometheusMetric and Custom collectors
(``validateMetricsCollector`` in Katib's experiment validator), as field errors.

Called by the experiment validator (:mod:`kfp_tune.core.validation`), so every command refuses
them the same way before anything runs.
"""

from __future__ import annotations

import posixpath
from typing import Any

from kfp_tune.core.errors import FieldError, shown
from kfp_tune.core.spec import ExperimentSpec

PATH = "spec.metricsCollectorSpec"


def collector_problems(spec: ExperimentSpec) -> list[FieldError]:
    """What Katib refuses in a PrometheusMetric or Custom collector: a port that is not a
    positive number, a path not starting with ``/`` (Katib's defaults, 8080 and ``/metrics``,
    fill in what is absent); a Custom collector with no container, or with a
    ``fileSystemPath`` that is not absolute or of kind File or Directory."""
    mc = spec.metrics_collector_spec
    kind = spec.collector_kind
    source = mc.source if mc is not None else None
    problems: list[FieldError] = []
    if kind == "PrometheusMetric":
        http_get: Any = (source.model_extra or {}).get("httpGet") if source is not None else None
        if http_get is not None and not isinstance(http_get, dict):
            return [FieldError(f"{PATH}.source.httpGet", f"expected a mapping (port, path), got {shown(http_get)}")]
        http_get = http_get or {}
        port = http_get.get("port") or 8080  # Katib's default, for a 0 port too
        if isinstance(port, bool) or not isinstance(port, (int, str)) or not str(port).isdigit() or not 0 < int(port) < 65536:
            problems.append(FieldError(f"{PATH}.source.httpGet.port", f"must be a port number from 1 to 65535 for the PrometheusMetric collector, got {shown(port)}"))
        path = http_get.get("path") or "/metrics"
        if not isinstance(path, str) or not path.startswith("/"):
            problems.append(FieldError(f"{PATH}.source.httpGet.path", f"must start with '/' for the PrometheusMetric collector, got {shown(path)}"))
        scheme = http_get.get("scheme", "HTTP")
        if not isinstance(scheme, str) or scheme.upper() not in ("HTTP", "HTTPS"):
            problems.append(FieldError(f"{PATH}.source.httpGet.scheme", f"expected HTTP or HTTPS, got {shown(scheme)}"))
    elif kind == "Custom":
        container: Any = (mc.collector.model_extra or {}).get("customCollector") if mc is not None and mc.collector is not None else None
        where = f"{PATH}.collector.customCollector"
        if not container:
            problems.append(FieldError(where, "required for the Custom collector: the collector's container (image, args, ...)"))
        elif not isinstance(container, dict):
            problems.append(FieldError(where, f"expected a container (a mapping), got {shown(container)}"))
        elif not isinstance(container.get("image"), str) or not container.get("image"):
            problems.append(FieldError(f"{where}.image", "required: the collector container's image"))
        fsp = source.file_system_path if source is not None else None
        if fsp is not None and (not posixpath.isabs(fsp.path or "") or fsp.kind not in ("File", "Directory")):
            problems.append(FieldError(f"{PATH}.source.fileSystemPath", "expected an absolute path of kind File or Directory for the Custom collector"))
    return problems
