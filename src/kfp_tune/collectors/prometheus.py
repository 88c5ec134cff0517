"""Katib's PrometheusMetric collector: the trial serves its metrics in Prometheus' text format
over HTTP (``source.httpGet``; Katib's defaults: port 8080, path ``/metrics``), and the
collector scrapes it while the trial runs.

What counts as a report: Prometheus has no notion of one, a gauge simply holds a value. A scrape
records a new observation of a metric when its sample differs from the one recorded last: its
timestamp changed (a trial that exposes timestamps may report the same value twice), or, for a
sample without one, its value changed. The sample read is the one named exactly as the metric,
without labels (or the only one of that name, whatever its labels). A trial must go on serving its
last values until they have been scraped (the collector polls every few seconds): a value set
just before the process exits can be missed.

The exposition format is parsed with ``prometheus_client.parser``.
"""

from __future__ import annotations

import http.client
import math
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kfp_tune.core.collector_checks import DEFAULT_PORT, katib_port
from kfp_tune.core.observation import MetricLog

DEFAULT_PATH = "/metrics"
SCRAPE_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Endpoint:
    """Where a trial's metrics are served: ``source.httpGet`` with Katib's defaults."""

    port: int = DEFAULT_PORT
    path: str = DEFAULT_PATH
    host: str = "localhost"
    scheme: str = "http"

    @classmethod
    def from_http_get(cls, http_get: Mapping[str, Any] | None) -> Endpoint:
        """From a Kubernetes HTTPGetAction (as Katib's ``source.httpGet``); ValueError for a port
        that is not a positive number or a path that does not start with ``/`` (Katib's checks)."""
        http_get = dict(http_get or {})
        port = katib_port(http_get.get("port"))
        try:
            number = int(port)
        except (TypeError, ValueError):
            raise ValueError(f"httpGet.port: expected a port number, got {port!r} (a named port cannot be scraped here)") from None
        if not 0 < number < 65536:
            raise ValueError(f"httpGet.port: expected a port from 1 to 65535, got {port!r}")
        path = str(http_get.get("path") or DEFAULT_PATH)
        if not path.startswith("/"):
            raise ValueError(f"httpGet.path: expected a path starting with '/', got {path!r}")
        scheme = str(http_get.get("scheme") or "HTTP").lower()
        if scheme not in ("http", "https"):
            raise ValueError(f"httpGet.scheme: expected HTTP or HTTPS, got {http_get.get('scheme')!r}")
        return cls(port=number, path=path, host=str(http_get.get("host") or "localhost"), scheme=scheme)

    def url(self, host: str | None = None) -> str:
        return f"{self.scheme}://{host or self.host}:{self.port}{self.path}"


def parse_exposition(text: str, names: Sequence[str]) -> dict[str, tuple[float, float | None]]:
    """{metric: (value, timestamp or None)} for the wanted metrics in one scrape's text; a sample
    whose value is not finite, or a name with several labelled samples and none without labels,
    is left out."""
    from prometheus_client.parser import text_string_to_metric_families

    wanted = set(names)
    samples: dict[str, list[tuple[dict[str, str], float, float | None]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in wanted:
                timestamp = float(sample.timestamp) if sample.timestamp is not None else None
                samples.setdefault(sample.name, []).append((dict(sample.labels), float(sample.value), timestamp))
    out: dict[str, tuple[float, float | None]] = {}
    for name, found in samples.items():
        plain = [s for s in found if not s[0]]
        chosen = plain[0] if plain else (found[0] if len(found) == 1 else None)
        if chosen is not None and math.isfinite(chosen[1]):
            out[name] = (chosen[1], chosen[2])
    return out


def scrape(url: str, timeout: float = SCRAPE_TIMEOUT_SECONDS) -> str | None:
    """The endpoint's text, or None when it does not answer (not up yet, or gone), or not as HTTP
    (a trial that exits halfway through an answer: IncompleteRead; a port serving something
    else: BadStatusLine). Never an exception: the next poll tries again."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # http(s) only: Endpoint checks the scheme
            data: bytes = response.read()
            return data.decode("utf-8", errors="replace")
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
        return None


@dataclass
class PrometheusSeries:
    """The observations a series of scrapes makes of a trial's metrics (see the module's rule)."""

    names: Sequence[str]
    observations: list[MetricLog] = field(default_factory=list)
    _last: dict[str, tuple[float, float | None]] = field(default_factory=dict)
    _steps: dict[str, int] = field(default_factory=dict)
    _resumed: dict[str, float] = field(default_factory=dict)
    """The last stored value of each metric not scraped since :meth:`resumed`."""

    @classmethod
    def resumed(cls, names: Sequence[str], stored: Sequence[MetricLog]) -> PrometheusSeries:
        """The series an earlier collector stored (``stored``, in order), to go on after it as a
        restarted sidecar must: each metric's steps go on from its last stored step, and the first
        sample of a metric whose value is the last one stored is taken as that observation, not a
        new one (a stored record keeps no sample's timestamp)."""
        series = cls(names, observations=list(stored))
        for m in stored:
            series._steps[m.name] = (m.step if m.step is not None else series._steps.get(m.name, 0)) + 1
            series._resumed[m.name] = m.value
        return series

    def add_scrape(self, text: str) -> list[MetricLog]:
        """Fold in one scrape; returns the observations it added."""
        try:
            found = parse_exposition(text, self.names)
        except ValueError:  # not the text format (a half-written answer, another server)
            return []
        added = []
        for name in self.names:  # the objective first, as the names list it
            if name not in found:
                continue
            if name in self._resumed and found[name][0] == self._resumed.pop(name):
                self._last[name] = found[name]  # the stored observation, seen again
                continue
            if found[name] == self._last.get(name):
                continue
            value, timestamp = found[name]
            self._last[name] = (value, timestamp)
            step = self._steps.get(name, 0)
            self._steps[name] = step + 1
            added.append(MetricLog(name, value, step))
        self.observations.extend(added)
        return added
