"""Katib's admission checks for the PrometheusMetric and Custom collectors
(``validateMetricsCollector`` in Katib's experiment validator), as a user meets them: through
the experiment's validation, each at its field with what was given. Katib's defaults (port
8080, path ``/metrics``, scheme HTTP) fill in what is absent, a 0 port too."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import quadratic_experiment, validation_errors
from kfp_tune.core.collector_checks import collector_problems
from kfp_tune.core.spec import parse_experiment

HTTP_GET = "spec.metricsCollectorSpec.source.httpGet"
CUSTOM = "spec.metricsCollectorSpec.collector.customCollector"
FILE_SYSTEM_PATH = "spec.metricsCollectorSpec.source.fileSystemPath"


def problems(collector: dict[str, Any], source: Any = None) -> dict[str, str]:
    """path -> message of what validation refuses in this collector; each is also what
    collector_problems says (every command refuses them through the experiment's validation)."""
    mc = {"collector": collector, **({"source": source} if source is not None else {})}
    doc = quadratic_experiment(**{"spec.metricsCollectorSpec": mc})
    errors = validation_errors(doc)
    assert [(p.path, p.message) for p in collector_problems(parse_experiment(doc).spec)] == [(e.path, e.message) for e in errors]
    return {e.path: e.message for e in errors}


def prometheus(http_get: Any) -> dict[str, str]:
    return problems({"kind": "PrometheusMetric"}, {"httpGet": http_get})


# --- PrometheusMetric ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "http_get",
    [
        {}, {"port": 9100, "path": "/m"}, {"port": 0}, {"port": "9100"}, {"port": 1}, {"port": 65535}, {"scheme": "https"}, {"scheme": "HTTP"},
        {"port": "+8080"},  # Go's strconv.Atoi, which Katib reads the port with, takes a sign
        {"scheme": ""}, {"scheme": None},  # Katib does not check the scheme; kfp-tune's collector reads both as HTTP
    ],
)
def test_ports_paths_and_schemes_katib_accepts(http_get: dict[str, Any]) -> None:
    assert prometheus(http_get) == {}


def test_no_source_at_all_takes_katibs_defaults() -> None:
    assert problems({"kind": "PrometheusMetric"}) == {}


@pytest.mark.parametrize(
    "port",
    [
        "http-metrics", -1, 65536, True, 1.5, "80a", [8080],
        "²", "٨٠", " 8080", "8_080",  # not ASCII digits as strconv.Atoi reads them ("²" crashed int())
        "00", "+0",  # Katib defaults only the text "0" to 8080; Atoi reads these as 0
    ],
)
def test_a_port_that_is_no_port_number_is_refused_and_quoted_back(port: Any) -> None:
    assert prometheus({"port": port}) == {f"{HTTP_GET}.port": f"must be a port number from 1 to 65535 for the PrometheusMetric collector, got {port!r}"}


@pytest.mark.parametrize("path", ["metrics", 5])
def test_a_path_not_starting_with_a_slash_is_refused_and_quoted_back(path: Any) -> None:
    assert prometheus({"path": path}) == {f"{HTTP_GET}.path": f"must start with '/' for the PrometheusMetric collector, got {path!r}"}


@pytest.mark.parametrize("scheme", ["ftp", 443, 0, False])
def test_a_scheme_other_than_http_or_https_is_refused(scheme: Any) -> None:
    assert prometheus({"scheme": scheme}) == {f"{HTTP_GET}.scheme": f"expected HTTP or HTTPS, got {scheme!r}"}


def test_every_field_is_checked_past_a_bad_one() -> None:
    assert list(prometheus({"port": -1, "path": "metrics", "scheme": "ftp"})) == [f"{HTTP_GET}.port", f"{HTTP_GET}.path", f"{HTTP_GET}.scheme"]


def test_an_http_get_that_is_no_mapping_is_one_error_at_it() -> None:
    assert prometheus("localhost:8080/metrics") == {HTTP_GET: "expected a mapping (port, path), got 'localhost:8080/metrics'"}


def test_the_checks_are_for_prometheus_only() -> None:
    """A StdOut collector's source is not an endpoint: an httpGet there is not checked as one."""
    assert problems({"kind": "StdOut"}, {"httpGet": {"port": -1}}) == {}


# --- Custom ----------------------------------------------------------------------------------------


def test_a_custom_collector_with_its_container_and_an_absolute_file_is_accepted() -> None:
    for kind in ("File", "Directory"):
        assert problems({"kind": "Custom", "customCollector": {"name": "c", "image": "c:1"}}, {"fileSystemPath": {"path": "/out/m", "kind": kind}}) == {}


@pytest.mark.parametrize("container", [None, {}])
def test_a_custom_collector_needs_its_container(container: Any) -> None:
    collector = {"kind": "Custom"} if container is None else {"kind": "Custom", "customCollector": container}
    assert problems(collector) == {CUSTOM: "required for the Custom collector: the collector's container (image, args, ...)"}


def test_a_custom_collector_that_is_no_mapping_is_quoted_back() -> None:
    assert problems({"kind": "Custom", "customCollector": "collector:1"}) == {CUSTOM: "expected a container (a mapping), got 'collector:1'"}


@pytest.mark.parametrize("image", [None, "", 3])
def test_a_custom_collectors_container_needs_an_image(image: Any) -> None:
    container = {"name": "c"} if image is None else {"name": "c", "image": image}
    assert problems({"kind": "Custom", "customCollector": container}) == {f"{CUSTOM}.image": "required: the collector container's image"}


@pytest.mark.parametrize("file_system_path", [{"path": "rel/m.log", "kind": "File"}, {"path": "/out/m.log", "kind": "Socket"}, {"kind": "File"}])
def test_a_custom_collectors_file_must_be_absolute_and_a_file_or_directory(file_system_path: dict[str, str]) -> None:
    got = problems({"kind": "Custom", "customCollector": {"name": "c", "image": "c:1"}}, {"fileSystemPath": file_system_path})
    assert got == {FILE_SYSTEM_PATH: "expected an absolute path of kind File or Directory for the Custom collector"}


def test_a_custom_collectors_container_and_file_are_both_reported() -> None:
    got = problems({"kind": "Custom"}, {"fileSystemPath": {"path": "rel", "kind": "File"}})
    assert list(got) == [CUSTOM, FILE_SYSTEM_PATH]


def _notes(mc: dict[str, Any]) -> dict[str, str]:
    from kfp_tune.core.loading import load_experiment
    from kfp_tune.core.portability import katib_notes

    return {n.path: n.message for n in katib_notes(load_experiment(quadratic_experiment(**{"spec.metricsCollectorSpec": mc})))}


@pytest.mark.parametrize("pattern", [r"(\w+)=([\d.]+);x", r"([\w;]+)=([\d.]+)"])
def test_a_metrics_format_with_a_semicolon_is_noted(pattern: str) -> None:
    """Katib's webhook joins the filters with ';' (getMetricsCollectorArgs) and its collector
    splits them on ';': this one runs there as two regexes, or stops the collector."""
    notes = _notes({"source": {"filter": {"metricsFormat": [r"(\w+):([\d.]+)", pattern]}}})
    (message,) = notes.values()
    assert list(notes) == ["spec.metricsCollectorSpec.source.filter.metricsFormat[1]"]
    assert " and ".join(repr(part) for part in pattern.split(";")) in message and "kfp-tune runs it whole" in message
    assert _notes({"source": {"filter": {"metricsFormat": [r"(\w+):([\d.]+)"]}}}) == {}


def test_a_collector_kind_katibs_shipped_config_lacks_is_noted(tmp_path, capsys) -> None:
    import yaml

    from kfp_tune.cli import main

    notes = _notes({"collector": {"kind": "PrometheusMetric"}})
    assert list(notes) == ["spec.metricsCollectorSpec.collector.kind"]
    assert "StdOut, File, TensorFlowEvent" in notes["spec.metricsCollectorSpec.collector.kind"]
    for kind in ("StdOut", "File", "TensorFlowEvent"):
        source = {} if kind == "StdOut" else {"source": {"fileSystemPath": {"path": "/logs", "kind": "Directory" if kind == "TensorFlowEvent" else "File"}}}
        assert _notes({"collector": {"kind": kind}, **source}) == {}
    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.metricsCollectorSpec": {"collector": {"kind": "PrometheusMetric"}}})))
    assert main(["validate", str(path)]) == 0
    assert "note: spec.metricsCollectorSpec.collector.kind: Katib's webhook refuses PrometheusMetric" in capsys.readouterr().err


def test_the_kind_none_is_invalid_as_katib_has_it_since_v0_18_saying_it_is_push_now() -> None:
    """Katib renamed None to Push in v0.18 (kubeflow/katib#2369) and its webhook refuses None as
    an invalid kind; kfp-tune refuses it as such (validate exits 2), saying what to use."""
    errors = validation_errors(quadratic_experiment(**{"spec.metricsCollectorSpec": {"collector": {"kind": "None"}}}))
    [message] = [e.message for e in errors if e.path == "spec.metricsCollectorSpec.collector.kind"]
    assert message.startswith("expected one of ['StdOut', 'File', 'TensorFlowEvent', 'PrometheusMetric', 'Custom', 'Push'], got 'None'"), message
    assert "before v0.18 for Push" in message and "kfp_tune.report_metrics" in message


@pytest.mark.parametrize("collector", [{}, {"kind": ""}, {"customCollector": {"image": "collector:1"}}], ids=["empty", "empty-kind", "no-kind"])
def test_a_collector_given_without_a_kind_is_refused_as_katib_refuses_it(collector: dict[str, Any]) -> None:
    """Katib defaults only a collector left out (experiment_defaults.go, setDefaultMetricsCollector:
    ``Collector == nil``); ``collector: {}`` has the empty kind, which its webhook refuses
    ("invalid metrics collector kind: "). It is no StdOut collector."""
    errors = validation_errors(quadratic_experiment(**{"spec.metricsCollectorSpec": {"collector": collector}}))
    assert {e.path: e.message for e in errors} == {
        "spec.metricsCollectorSpec.collector.kind": "expected one of ['StdOut', 'File', 'TensorFlowEvent', 'PrometheusMetric', 'Custom', 'Push'], got ''"
    }
    assert validation_errors(quadratic_experiment(**{"spec.metricsCollectorSpec": {"collector": None}})) == []  # left out: StdOut


@pytest.mark.parametrize(("pattern", "refused"), [(r"(loss=([0-9.]+))", True), (r"([\w-]+)=([0-9.]+)", False), (r"(\w+)\s*:\s*(\d+)", False)])
def test_a_metrics_format_needs_two_groups_one_after_the_other_as_katib_reads_its_text(pattern: str, refused: bool) -> None:
    """Katib's webhook matches the text against .*\\(.*\\).*\\(.*\\).*: nested groups count two to
    re but not to Katib."""
    source = {"filter": {"metricsFormat": [pattern]}}
    errors = validation_errors(quadratic_experiment(**{"spec.metricsCollectorSpec": {"collector": {"kind": "StdOut"}, "source": source}}))
    got = [e.message for e in errors if e.path == "spec.metricsCollectorSpec.source.filter.metricsFormat[0]"]
    assert bool(got) == refused, got


def test_a_push_collectors_unused_filter_is_not_checked_as_in_katib():
    """Katib's webhook returns before its filter checks for Push (validateMetricsCollector): a
    Push trial reads no output, so a Katib experiment with a filter that is no regex is accepted
    there and must be here; StdOut's filter is read, so it stays refused."""
    source = {"filter": {"metricsFormat": ["(unclosed"]}}
    push = quadratic_experiment(**{"spec.metricsCollectorSpec": {"collector": {"kind": "Push"}, "source": source}})
    assert validation_errors(push) == []
    stdout = quadratic_experiment(**{"spec.metricsCollectorSpec": {"collector": {"kind": "StdOut"}, "source": source}})
    assert [(e.path, e.message.split(":")[0]) for e in validation_errors(stdout)] == [
        ("spec.metricsCollectorSpec.source.filter.metricsFormat[0]", "not a regular expression Katib can run")
    ]
