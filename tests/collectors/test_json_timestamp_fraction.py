"""A JSON line's numeric ``timestamp`` is seconds since 1970, its fraction a fraction of a second.
Katib formats the number and reads the digits after its ``.`` as nanoseconds (``.25`` is 25 ns,
``.9`` is 9 ns), so of two values within one second its ``latest`` can be the other one. kfp-tune
keeps the reading that is a time; the guide says how Katib differs (its Metric strategies)."""

from __future__ import annotations

from kfp_tune.collectors.formats import json_time, parse_json_lines
from kfp_tune.core.observation import latest_log


def test_the_fraction_is_part_of_a_second():
    assert json_time(1704067202.25) == 1_704_067_202_250_000
    assert json_time(1704067202.9) == 1_704_067_202_900_000
    assert json_time(1704067202) == 1_704_067_202_000_000


def test_latest_within_one_second_is_the_later_time_not_katibs_digit_order():
    """The QA reproduction: Katib's latest is 0.7 (25 ns is after 9 ns); here 0.1, at .9 s."""
    logs = parse_json_lines(['{"loss": "0.7", "timestamp": 1704067202.25}', '{"loss": "0.1", "timestamp": 1704067202.9}'], ["loss"])
    assert latest_log(logs).value == 0.1
