"""The report's number format at the boundary of its two notations: whether a number is written
out or not is decided on its value as shown (to SIGNIFICANT_DIGITS)."""

from __future__ import annotations

from kfp_tune.report_views import format_number


def test_a_number_is_written_out_or_not_by_its_value_as_shown() -> None:
    """9999.7 is shown with 4 digits as 10000, so it is written as 10000 is; it was ``1e+04``."""
    assert format_number(10000) == "10000"
    assert format_number(9999.7) == format_number(9999.5) == "10000"
    assert format_number(-9999.9) == format_number(-10000) == "-10000"
    assert format_number(9999.4) == "9999" and format_number(12345.6) == "12346"
    # a billion and anything shown as one: 1e+09, not 1000000000
    assert format_number(999999999.6) == format_number(1e9) == "1e+09"
    assert format_number(999949999.0) == "999949999"
