"""Katib's admission checks for the PrometheusMetric and Custom collectors
(``validateMetricsCollector`` in Katib's experiment validator), as field errors.

Called by the experiment validator (:mod:`kfp_tune.core.validation`), so every command refuses
them the same way before anything runs. Which collectors a trial whose pods another controller
makes at run time can have (:func:`pod_collector_problem`, :func:`unreachable_push_problem`), in
the same words for validation and the Kubernetes launcher. And where Katib would take the
collector differently (:func:`collector_notes`, notes of :mod:`kfp_tune.core.portability`).
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


KIND_FIELD = f"{PATH}.collector.kind"
ADDED_TO_THE_POD: dict[str, str] = {
    CollectorKind.FILE.value: "its own collector container and the metrics folder",
    CollectorKind.TENSORFLOW_EVENT.value: "its own collector container and the metrics folder",
    CollectorKind.PROMETHEUS_METRIC.value: "its own collector container (which scrapes the trial's endpoint)",
    CollectorKind.CUSTOM.value: "the customCollector container",
}
"""The collectors that run in the trial's primary pod, and what of theirs kfp-tune adds to the pod
templates of the trial's resource as it prepares the trial. Katib adds them instead with a pod
webhook as each pod is created (pkg/webhook/v1beta1/pod/inject_webhook.go, Mutate), which
kfp-tune has no counterpart of: a trial whose pods another controller makes at run time (Argo,
Tekton) gets none of them."""
WORKS_WITHOUT_THE_POD = "the primary container's output (read from its pod's log) and the trial's own reports (kfp_tune.report_metrics) reach kfp-tune without it: use StdOut or Push"
FROM_THE_TRAINING_RUNTIME = "a TrainJob's pods come from its training runtime, whose pod templates the trial does not hold"
"""Why a TrainJob trial has no pod template of its own for a collector (:func:`pod_collector_problem`'s ``why``)."""
RUN_TIME_CONTROLLERS = {"argoproj.io": "Argo", "tekton.dev": "Tekton"}
"""The API groups of the kinds kfp-tune knows whose pods are made at run time, not from pod
templates, and the controller that makes them."""


def made_at_run_time(api_version: str, kind: str, primary_container_name: str) -> str:
    """Why a trial of this kind has no pod template kfp-tune can add a collector to."""
    controller = RUN_TIME_CONTROLLERS.get(api_version.rpartition("/")[0])
    if controller is not None:
        return f"a {kind} has none ({controller} makes its pods at run time)"
    return f"its trialSpec shows no container named {shown(primary_container_name)} (its controller makes the pod at run time)"


def pod_collector_problem(collector_kind: str, trial_kind: str, why: str) -> str | None:
    """Why the collector cannot collect a trial whose pods are made at run time (``why``, from
    :func:`made_at_run_time`), saying what works instead; None for a collector that needs
    nothing in the pod."""
    added = ADDED_TO_THE_POD.get(collector_kind)
    if added is None:
        return None
    return (
        f"{collector_kind} cannot collect the metrics of a trial of kind {trial_kind}: kfp-tune adds {added} to the pod templates "
        f"of the trial's resource, and {why}; Katib adds its collector with a pod webhook as each pod is created, which kfp-tune has no "
        f"counterpart of; {WORKS_WITHOUT_THE_POD}"
    )


def unreachable_push_problem(where: str) -> str:
    """Why a Push trial could not report: kfp-tune gives its place in the store to no container
    of its pods; ``where`` says why not."""
    return (
        "Push needs the trial's place in the store (KFP_TUNE_STORE, KFP_TUNE_EXPERIMENT, KFP_TUNE_TRIAL) in the primary container's "
        f"env, which kfp-tune gives only to a container (or step) written inline in the trialSpec, and {where}: write it there, or use StdOut"
    )


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
