"""The StdOut collector: Katib's default and custom metric formats, strict number parsing."""

from __future__ import annotations

from kfp_tune.collectors.stdout import parse_metric_lines


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
