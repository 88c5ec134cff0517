"""Metric strategies over a trial's reports."""

from __future__ import annotations

import math

import pytest

from kfp_tune.core.observation import MetricLog, MetricSummary, Observation, go_float, metric_text


def test_observation_strategies():
    obs = Observation.from_logs([MetricLog("loss", v) for v in (0.5, 0.2, 0.4)] + [MetricLog("acc", 0.7)], ["loss", "acc"])
    assert obs.values({"loss": "min", "acc": "max"}) == {"loss": 0.2, "acc": 0.7}
    assert obs.values({"loss": "max"})["loss"] == 0.5
    assert obs.values({"loss": "latest"})["loss"] == 0.4
    assert Observation.from_dict(obs.to_dict()) == obs


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (92.0, "92"), (5, "5"), (0.1, "0.1"), (1e-05, "1e-05"), (-0.0, "-0"), (0.0, "0"),
        (1e16, "10000000000000000"), (-12345678901234567890.0, "-12345678901234567168"), (1e21, "1e+21"),
        (1.5e300, "1.5e+300"), (math.inf, "inf"), (-math.inf, "-inf"), (math.nan, "nan"),
    ],
)
def test_metric_text_writes_a_whole_number_below_1e21_in_its_integer_digits(number, text):
    """Katib serves the text a trial printed, so ``int(latest)`` works on a value printed as an
    integer: a whole number of 1e16 or more read '1e+16' here (ValueError)."""
    assert metric_text(number) == text
    if text.lstrip("-").isdigit():
        assert int(text) == number


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("0.5", 0.5), ("-1e-3", -0.001), ("1.", 1.0), (".5", 0.5), ("+7", 7.0),
        ("1_23.50_0_0e+1_2", 1.235e14), ("1_000", 1000.0),  # Go's strconv tests: _ between digits
        ("0x1p-2", 0.25), ("-0x1.8p1", -3.0), ("0x_1_2.3_4_5p+1_2", 74565.0), ("0X.8P1", 1.0),
        ("1e-400", 0.0),
    ],
)
def test_go_float_reads_what_gos_parsefloat_reads(text, number):
    assert go_float(text) == number


@pytest.mark.parametrize(
    "text",
    ["\u0663", "\uff13", "\u0661.5", " 1", "1 ", "", ".", "1e", "0x1A", "0x1p", "0x", "_1", "1__0", "1_.5", "1._5", "1.5_e3", "1e_3", "0x_.8p1", "0x1p_2", "+nan", "infin", "1,5"],
)
def test_go_float_refuses_what_gos_parsefloat_refuses(text):
    """Python's float() takes "\u0663" (3), "\uff13" and spaces around; Go does not."""
    with pytest.raises(ValueError, match=r"strconv\.ParseFloat"):
        go_float(text)


def test_go_float_reads_gos_special_values_and_beyond_range_as_infinite():
    assert math.isnan(go_float("NaN")) and go_float("-Infinity") == -math.inf and go_float("+inf") == math.inf
    assert go_float("1e999") == math.inf and go_float("-0x1p+99999") == -math.inf


def test_from_logs_counts_only_the_wanted_metrics_finite_values():
    """An unwanted metric, a NaN and a text metric's value (NaN, with its text) count for nothing."""
    logs = [MetricLog("loss", 0.5, 0), MetricLog("accuracy", 0.9, 0), MetricLog("loss", math.nan, 1), MetricLog("loss", math.nan, 2, text="Genotype(...)"), MetricLog("loss", 0.25, 3)]
    assert Observation.from_logs(logs, ["loss"]).metrics == {"loss": MetricSummary(0.25, 0.5, 0.25, 2)}
    assert Observation.from_logs([MetricLog("accuracy", 0.9, 0), MetricLog("loss", math.nan, 0)], ["loss"]).metrics == {}


def test_from_dict_without_a_count_reads_one():
    """A summary written before count was kept is one value."""
    assert Observation.from_dict({"loss": {"min": 0.5, "max": 0.5, "latest": 0.5}}).metrics["loss"].count == 1
