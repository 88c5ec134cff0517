"""Metric values reported by a trial, and what Katib keeps of them: min, max and latest."""

from __future__ import annotations

import math
import re
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
    time_us: int | None = None
    """When the trial says it reported the value (a TEXT line's leading RFC3339 timestamp, a
    JSON line's ``timestamp``), in microseconds since 1970-01-01 UTC, the precision Katib's DB
    keeps; None when it says nothing. ``latest`` is the value with the latest time."""


KATIB_ZERO_TIME_US = -62_135_596_800 * 1_000_000
"""The time Katib files a value under when the trial gave none (Go's zero time,
0001-01-01T00:00:00Z), in microseconds since 1970: any value with a time is later."""


def reported_at(log: MetricLog) -> int:
    """A value's time as Katib's ``latest`` orders it: none is before every time."""
    return KATIB_ZERO_TIME_US if log.time_us is None else log.time_us


def latest_log(logs: Iterable[MetricLog]) -> MetricLog | None:
    """Katib's ``latest`` (trial_controller_util.go ``getMetrics``, over the DB's observation
    log ordered by time): the value with the latest time, and of values at the same time (or
    with none) the one reported last."""
    latest: MetricLog | None = None
    for log in logs:
        if latest is None or reported_at(log) >= reported_at(latest):
            latest = log
    return latest


_DIGITS = r"[0-9](?:_?[0-9])*"
_HEX_DIGITS = r"[0-9a-fA-F](?:_?[0-9a-fA-F])*"
_GO_DECIMAL = re.compile(rf"[+-]?(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][+-]?{_DIGITS})?")
_GO_HEX = re.compile(rf"[+-]?0[xX](?:_?{_HEX_DIGITS}(?:\.(?:{_HEX_DIGITS})?)?|\.{_HEX_DIGITS})[pP][+-]?{_DIGITS}")
_GO_SPECIAL = {"nan": math.nan, "inf": math.inf, "+inf": math.inf, "-inf": -math.inf, "infinity": math.inf, "+infinity": math.inf, "-infinity": -math.inf}


def metric_text(value: float) -> str:
    """A collected value as the text Katib's API serves (``observation.metrics[].latest``, a
    ``MetricLog``'s value). Katib keeps the text the trial wrote (``a=92`` gives ``92``, ``d=+5``
    ``+5``); kfp-tune keeps the number, so this is its shortest text, with no ``.0`` on a whole
    number: ``92``, ``5``, ``0.1``, ``1e-05``, so ``int(latest)`` works as on Katib for a value
    written as an integer. A whole number below 1e21 is written in its integer digits
    (``10000000000000000``, where the shortest text is ``1e+16``), ``-0`` as Katib keeps a
    printed ``-0``."""
    number = float(value)
    if math.isfinite(number) and number.is_integer() and abs(number) < 1e21:
        return "-0" if number == 0 and math.copysign(1.0, number) < 0 else str(int(number))
    return repr(number)


def go_float(text: str) -> float:
    """A number written as text, as Go's ``strconv.ParseFloat(text, 64)`` reads it, which is how
    Katib reads a metric's value (trial_controller_util.go ``getMetrics``, its collectors' stop
    rules): ASCII digits only (Python's ``float`` also takes ``"٣"``), ``_`` only between digits,
    hexadecimal with a ``p`` exponent (``0x1p-2`` is 0.25, which ``float`` refuses), no spaces
    around it, ``nan``, ``inf`` and ``infinity`` in any case (only the last two with a sign).
    ValueError for anything else; a number beyond a float's range is infinite, as Go returns it
    (with ErrRange: neither Katib nor kfp-tune counts it)."""
    if _GO_DECIMAL.fullmatch(text):
        return float(text.replace("_", ""))
    if _GO_HEX.fullmatch(text):
        try:
            return float.fromhex(text.replace("_", ""))
        except OverflowError:
            return -math.inf if text.startswith("-") else math.inf
    special = _GO_SPECIAL.get(text.lower())
    if special is None:
        raise ValueError(f"{text!r} is not a number as Go's strconv.ParseFloat reads one")
    return special


def is_boolean(value: object) -> bool:
    """Whether a reported value is a boolean (Python's, or a NumPy one): never a metric value,
    though ``float(True)`` is 1.0. Katib's collectors take a value as text (``"True"``), which
    is no number either."""
    if isinstance(value, bool):
        return True
    dtype = getattr(value, "dtype", None)
    return getattr(dtype, "kind", None) == "b" or str(dtype) == "torch.bool"  # PyTorch's dtypes have no kind


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
        collected: dict[str, list[MetricLog]] = {}
        for log in logs:
            if log.name in wanted and math.isfinite(log.value):
                collected.setdefault(log.name, []).append(log)
        summaries = {}
        for name, found in collected.items():
            values = [log.value for log in found]
            latest = latest_log(found)
            assert latest is not None
            summaries[name] = MetricSummary(min(values), max(values), latest.value, len(values))
        return cls(summaries)

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
    """Each wanted text metric's latest value (Katib's ``latest``: text has no min nor max)."""
    wanted = set(names)
    by_name: dict[str, list[MetricLog]] = {}
    for log in logs:
        if log.text is not None and log.name in wanted:
            by_name.setdefault(log.name, []).append(log)
    out = {}
    for name, found in by_name.items():
        latest = latest_log(found)
        assert latest is not None and latest.text is not None
        out[name] = latest.text
    return out
