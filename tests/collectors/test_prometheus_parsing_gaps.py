"""The PrometheusMetric collector's endpoint check, sample choice and resumed series in cases no
other test pinned (found alive by a mutation pass; the scrape itself: test_prometheus.py)."""

from __future__ import annotations

import pytest

from kfp_tune.collectors.prometheus import Endpoint, PrometheusSeries, parse_exposition
from kfp_tune.core.observation import MetricLog


def test_the_highest_port_is_accepted_and_the_next_refused():
    assert Endpoint.from_http_get({"port": 65535}).url() == "http://localhost:65535/metrics"
    with pytest.raises(ValueError, match=r"httpGet\.port: expected a port from 1 to 65535, got 65536"):
        Endpoint.from_http_get({"port": 65536})


def test_the_sample_without_labels_is_read_beside_labelled_ones():
    text = 'loss{phase="train"} 0.9\nloss 0.5\nloss{phase="eval"} 0.7\n'
    assert parse_exposition(text, ["loss"]) == {"loss": (0.5, None)}


def test_a_metric_with_only_labelled_samples_is_read_when_it_has_one_and_left_out_when_several():
    assert parse_exposition('loss{phase="train"} 0.9\n', ["loss"]) == {"loss": (0.9, None)}
    assert parse_exposition('loss{phase="train"} 0.9\nloss{phase="eval"} 0.7\naccuracy 0.6\n', ["loss", "accuracy"]) == {"accuracy": (0.6, None)}


def test_a_restarted_sidecar_stores_an_unchanged_value_neither_again_nor_later():
    """The value stored before the restart, scraped again and again, is that observation each
    time: no new one, the first scrape nor the next; a changed value goes on at the next step."""
    series = PrometheusSeries.resumed(["loss"], [MetricLog("loss", 0.5, 3)])
    assert series.add_scrape("loss 0.5\n") == []
    assert series.add_scrape("loss 0.5\n") == []
    assert series.add_scrape("loss 0.4\n") == [MetricLog("loss", 0.4, 4)]
    assert series.observations == [MetricLog("loss", 0.5, 3), MetricLog("loss", 0.4, 4)]
