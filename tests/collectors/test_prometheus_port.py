"""The PrometheusMetric collector's ``source.httpGet.port`` as Katib defaults it: the port is a
Kubernetes IntOrString, and Katib puts 8080 in place of one whose text is ``0``, the number 0 or
the string "0" alike (Experiment.setDefaultMetricsCollector, pkg/apis/controller/experiments/
v1beta1/experiment_defaults.go); anything else must read as a positive integer (validateMetricsCollector,
pkg/webhook/v1beta1/experiment/validator/validator.go), an empty string too."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import quadratic_experiment, validation_errors
from kfp_tune.collectors.observe import collector_source
from kfp_tune.collectors.prometheus import DEFAULT_PORT, Endpoint
from kfp_tune.core.loading import load_experiment


def _experiment(http_get: dict[str, Any]) -> dict[str, Any]:
    return quadratic_experiment(**{"spec.metricsCollectorSpec": {"collector": {"kind": "PrometheusMetric"}, "source": {"httpGet": http_get}}})


@pytest.mark.parametrize("http_get", [{}, {"port": None}, {"port": 0}, {"port": "0"}])
def test_a_port_katib_defaults_is_scraped_on_8080_and_accepted(http_get: dict[str, Any]) -> None:
    assert Endpoint.from_http_get(http_get).port == DEFAULT_PORT == 8080
    experiment = load_experiment(_experiment({**http_get, "path": "/stats"}))  # validation accepts it
    endpoint = collector_source(experiment).endpoint
    assert endpoint is not None and endpoint.url() == "http://localhost:8080/stats"


@pytest.mark.parametrize("port", ["", "00", "-0"])
def test_a_port_whose_text_is_not_0_is_not_defaulted_and_is_refused(port: str) -> None:
    """Katib defaults only the text "0"; "" (not an integer) and "00" or "-0" (integers, not
    positive) reach its validator and are refused."""
    with pytest.raises(ValueError, match=r"httpGet\.port: expected a port"):
        Endpoint.from_http_get({"port": port})
    assert [(e.path, e.message) for e in validation_errors(_experiment({"port": port}))] == [
        ("spec.metricsCollectorSpec.source.httpGet.port", f"must be a port number from 1 to 65535 for the PrometheusMetric collector, got {port!r}")
    ]
