"""The StdOut collector: Katib's default and custom metric formats, strict number parsing."""

from __future__ import annotations

from kfp_tune.collectors.stdout import parse_metric_lines
from kfp_tune.core.observation import Observation


def test_katib_default_regex_reads_name_value_pairs():
    lines = [
        "epoch=1 loss=0.52 accuracy=0.81",
        "Validation-accuracy=0.9 irrelevant=3",
        "epoch=2 loss=4.2e-1 accuracy=+0.85",
        "no metrics here",
        "loss = 0.30",
    ]
    logs = parse_metric_lines(lines, ["loss", "accuracy", "Validation-accuracy"])
    assert [(m.name, m.value) for m in logs] == [
        ("loss", 0.52), ("accuracy", 0.81), ("Validation-accuracy", 0.9), ("loss", 0.42), ("accuracy", 0.85), ("loss", 0.30),
    ]
    assert [m.step for m in logs if m.name == "loss"] == [0, 1, 2]


def test_non_finite_and_garbage_values_never_become_metrics():
    logs = parse_metric_lines(["loss=nan", "loss=inf", "loss=1e309", "loss=", "loss=abc", "loss=0.5"], ["loss"])
    assert [(m.name, m.value) for m in logs] == [("loss", 0.5)]


def test_custom_metrics_format_from_katibs_file_example():
    fmt = r"{metricName: ([\w|-]+), metricValue: ((-?\d+)(\.\d+)?)}"
    logs = parse_metric_lines(["{metricName: accuracy, metricValue: 0.9123}", "{metricName: loss, metricValue: -1.5}"], ["accuracy", "loss"], [fmt])
    assert [(m.name, m.value) for m in logs] == [("accuracy", 0.9123), ("loss", -1.5)]


def test_a_series_keeps_its_report_order_so_min_max_and_latest_differ():
    """What metricStrategies choose from: the latest is the last line printed, not the last by
    size (0.2, 0.9, 0.5: min 0.2, max 0.9, latest 0.5)."""
    logs = parse_metric_lines(["loss=0.2 accuracy=0.6", "loss=0.9", "accuracy=0.4", "loss=0.5 accuracy=0.5"], ["loss", "accuracy"])
    observation = Observation.from_logs(logs, ["loss", "accuracy"])
    assert observation.to_dict() == {
        "loss": {"min": 0.2, "max": 0.9, "latest": 0.5, "count": 3},
        "accuracy": {"min": 0.4, "max": 0.6, "latest": 0.5, "count": 3},
    }
    assert observation.values({"loss": "min", "accuracy": "max"}) == {"loss": 0.2, "accuracy": 0.6}
    assert observation.values({"loss": "max", "accuracy": "min"}) == {"loss": 0.9, "accuracy": 0.4}
    assert observation.values({"loss": "latest", "accuracy": "latest"}) == {"loss": 0.5, "accuracy": 0.5}
