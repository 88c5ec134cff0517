"""Each metrics collector kind with the source it needs to be valid (a File collector's path, a
Custom collector's container), for tests that try every kind against a kind of trial."""

from __future__ import annotations

from typing import Any

SOURCES: dict[str, dict[str, Any]] = {
    "File": {"source": {"fileSystemPath": {"path": "/var/log/metrics.log", "kind": "File"}}},
    "TensorFlowEvent": {"source": {"fileSystemPath": {"path": "/logs", "kind": "Directory"}}},
    "PrometheusMetric": {},
    "Custom": {"collector": {"kind": "Custom", "customCollector": {"name": "reporter", "image": "busybox:1.36"}}},
    "StdOut": {},
    "Push": {},
}
"""The metricsCollectorSpec beside ``collector.kind`` that makes each kind valid."""


def collector(kind: str) -> dict[str, Any]:
    """The override (for ``conftest.merge``) that gives an experiment this collector."""
    return {"spec.metricsCollectorSpec": {"collector": {"kind": kind}, **SOURCES[kind]}}
