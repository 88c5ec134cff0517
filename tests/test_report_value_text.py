"""A metric's value on a progress line (and decide-stop's) is written as ``kfp-tune trials`` writes
it with its 6 digits (review A of the s35 report fixes, finding 8: progress.value_text and
cli._metric_value were the same 6-digit formatter, and only the second moved to format_number,
so a loss of 12345678.9 read 1.23457e+07 on the line and 12345679 in trials)."""

from __future__ import annotations

import math

import pytest

from kfp_tune.progress import value_text
from kfp_tune.report_views import TRIALS_DIGITS, format_number


@pytest.mark.parametrize("value", [12345678.9, 0.987612345, 1e9 + 1000, 123456.7, 0.0, -0.0, 2.5e-7, math.nan, -math.inf])
def test_a_value_reads_as_trials_writes_it(value: float) -> None:
    assert value_text(value) == format_number(value, TRIALS_DIGITS)


def test_the_numbers_and_a_text_metric() -> None:
    assert value_text(12345678.9) == "12345679" and value_text(0.987612345) == "0.987612"
    assert value_text("conv3x3-conv5x5") == "conv3x3-conv5x5"  # darts' genotype, as written
