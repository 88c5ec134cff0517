"""Katib's admission checks for the PrometheusMetric and Custom collectors
(``validateMetricsCollector`` in Katib's experiment validator), as field errors.

Called by the experiment validator (:mod:`kfp_tune.core.validation`), so every command refuses
them the same way before anything runs. And where Katib would take the collector differently
(:func:`collector_notes`, notes of :mod:`kfp_tune.core.portability`).
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from kfp_tune.core.errors import FieldError, shown
from kfp_tune.core.spec import Experiment, ExperimentSpec
from kfp_tune.core.vocabulary import CollectorKind

PATH = "spec.metricsCollectorSpec"
DEFAULT_PORT = 8080
"""The port Katib's PrometheusMetric collector scrapes when none is given."""
GO_INT_TEXT = re.compile(r"[+-]?[0-9]+")
"""An integer's text as Go's strconv.Atoi reads it (Katib's webhook for a port, its goptuna
converter for cmaes's random_state): ASCII digits with an optional sign, no spaces, no "_"
(not "²" or Arabic-Indic digits, which str.isdigit and int() take)."""


def katib_port(port: Any) -> Any:
    """``httpGet.port`` as Katib's defaulting leaves it: a Kubernetes IntOrString whose text is
    ``0`` (absent, the number 0 or the string "0" alike) becomes :data:`DEFAULT_PORT`
    (Experiment.setDefaultMetricsCollector, pkg/apis/controller/experiments/v1beta1/
    experiment_defaults.go); any other value, "" included, is checked as it was given."""
    return DEFAULT_PORT if port is None or (not isinstance(port, bool) and str(port) == "0") else port


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
        port = katib_port(http_get.get("port"))  # Katib's default, for a "0" port too
        if isinstance(port, bool) or not isinstance(port, (int, str)) or not GO_INT_TEXT.fullmatch(str(port)) or not 0 < int(port) < 65536:
            problems.append(FieldError(f"{PATH}.source.httpGet.port", f"must be a port number from 1 to 65535 for the PrometheusMetric collector, got {shown(port)}"))
        path = http_get.get("path") or "/metrics"
        if not isinstance(path, str) or not path.startswith("/"):
            problems.append(FieldError(f"{PATH}.source.httpGet.path", f"must start with '/' for the PrometheusMetric collector, got {shown(path)}"))
        scheme = http_get.get("scheme")
        scheme = "HTTP" if scheme is None or scheme == "" else scheme  # Katib does not check it; kfp-tune's collector reads "" and null as HTTP
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


KATIB_CONFIG_COLLECTORS = (CollectorKind.STDOUT, CollectorKind.FILE, CollectorKind.TENSORFLOW_EVENT)
"""The collectors Katib's shipped katib-config has an image for (manifests/v1beta1/installs/*/
katib-config.yaml, runtime.metricsCollectors); Katib's webhook refuses an experiment whose kind
it injects and that configuration lacks (validator.go, validateMetricsCollector, through
katibconfig.GetMetricsCollectorConfigData)."""

FORMATS_SEPARATOR = ";"
"""Katib's webhook joins the metricsFormat filters with it for its collector's ``-f`` argument
(pod/inject_webhook.go, getMetricsCollectorArgs), which splits them on it again
(file-metricscollector/main.go)."""


def collector_notes(experiment: Experiment) -> list[FieldError]:
    """Where Katib would take the metrics collector differently: a kind its default katib-config
    has no image for, and a metricsFormat filter with a ``;``, which Katib's collector reads as
    two filters (each compiled alone: a part that is no regex makes it panic)."""
    mc = experiment.spec.metrics_collector_spec
    kind = experiment.spec.collector_kind
    notes: list[FieldError] = []
    if kind == CollectorKind.PROMETHEUS_METRIC:
        notes.append(
            FieldError(
                f"{PATH}.collector.kind",
                f"Katib's webhook refuses {kind} unless katib-config's runtime.metricsCollectors gives it an image, and the shipped "
                f"katib-config lists only {', '.join(KATIB_CONFIG_COLLECTORS)} (GetMetricsCollectorConfigData); kfp-tune scrapes the endpoint itself",
            )
        )
    formats = mc.source.filter.metrics_format if mc is not None and mc.source is not None and mc.source.filter is not None else []
    if kind in (CollectorKind.STDOUT, CollectorKind.FILE):
        for index, pattern in enumerate(formats or []):
            if FORMATS_SEPARATOR in pattern:
                parts = " and ".join(shown(part) for part in pattern.split(FORMATS_SEPARATOR))
                notes.append(
                    FieldError(
                        f"{PATH}.source.filter.metricsFormat[{index}]",
                        f"Katib's webhook joins the filters with ';' and its collector splits them on ';' again, so Katib runs this one as "
                        f"{parts}, each alone (one that is no regex stops its collector); kfp-tune runs it whole",
                    )
                )
    return notes
