"""Metric values reported by a trial, and what Katib keeps of them: min, max and latest."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MetricLog:
    """One reported value of one metric, in the order the trial reported it."""

    name: str
    value: float
    step: int | None = None
    text: str | None = None
    """The value as the trial wrote it, for a metric whose values are text (darts'
    ``Best-Genotype``); ``value`` is then NaN, so nothing that reads numbers ever counts it."""


def is_boolean(value: object) -> bool:
    """Whether a reported value is a boolean (Python's, or a NumPy one): never a metric value,
    though ``float(True)`` is 1.0. Katib's collectors take a value as text (``"True"``), which
    is no number either."""
    if isinstance(value, bool):
        return True
    dtype = getattr(value, "dtype", None)
    return getattr(dtype, "kind", None) == "b"


@dataclass(frozen=True)
class MetricSummary:
    min: float
    max: float
    latest: float
    count: int

    def value(self, strategy: str) -> float:
        """The value Katib uses for a metric under its strategy (min, max or latest)."""
        return {"min": self.min, "max": self.max, "latest": self.latest}[strategy]

    def to_dict(self) -> dict[str, float | int]:
        return {"min": self.min, "max": self.max, "latest": self.latest, "count": self.count}


@dataclass(frozen=True)
class Observation:
    """What a trial reported, per metric. Non-finite values never get here."""

    metrics: dict[str, MetricSummary] = field(default_factory=dict)

    @classmethod
    def from_logs(cls, logs: Iterable[MetricLog], names: Iterable[str]) -> Observation:
        wanted = set(names)
        collected: dict[str, list[float]] = {}
        for log in logs:
            if log.name in wanted and math.isfinite(log.value):
                collected.setdefault(log.name, []).append(log.value)
        return cls(
            {
                name: MetricSummary(min(vals), max(vals), vals[-1], len(vals))
                for name, vals in collected.items()
            }
        )

    def values(self, strategies: Mapping[str, str]) -> dict[str, float]:
        """Each metric's value after its strategy (metric name -> value)."""
        return {name: s.value(strategies.get(name, "latest")) for name, s in self.metrics.items()}

    def to_dict(self) -> dict[str, dict[str, float | int]]:
        return {name: s.to_dict() for name, s in self.metrics.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, float]]) -> Observation:
        return cls(
            {
                name: MetricSummary(float(d["min"]), float(d["max"]), float(d["latest"]), int(d.get("count", 1)))
                for name, d in data.items()
            }
        )


def latest_texts(logs: Iterable[MetricLog], names: Iterable[str]) -> dict[str, str]:
    """Each wanted text metric's last value (Katib's ``latest``: text has no min nor max)."""
    wanted = set(names)
    return {log.name: log.text for log in logs if log.text is not None and log.name in wanted}
