"""Katib's ``latest`` is the value with the latest time, not the last one read: the collectors
file each value under its line's RFC 3339 timestamp (TEXT) or its ``timestamp`` (JSON), a value
with none under Go's zero time, and the trial controller's getMetrics keeps the value with the
latest time, of equal times the last in the DB's order (trial_controller_util.go)."""

from __future__ import annotations

import pytest

from conftest import quadratic_experiment
from kfp_tune.collectors.files import collect_file
from kfp_tune.collectors.formats import parse_json_lines, rfc3339_microseconds
from kfp_tune.collectors.observe import ObservationWriter
from kfp_tune.collectors.stdout import parse_metric_lines
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.observation import MetricLog, Observation, latest_texts
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import TrialState

NEW_YEAR_2024_US = 1_704_067_200 * 1_000_000


@pytest.mark.parametrize(
    ("text", "microseconds"),
    [
        ("2024-01-01T00:00:05Z", NEW_YEAR_2024_US + 5_000_000),
        ("2024-01-01T00:00:05.123456789Z", NEW_YEAR_2024_US + 5_123_456),  # cut to microseconds, as Katib's DB keeps it
        ("2024-01-01T02:00:05.5+02:00", NEW_YEAR_2024_US + 5_500_000),
        ("2023-12-31T23:30:00-00:30", NEW_YEAR_2024_US),
        ("2024-01-01 00:00:05Z", None),
        ("2024-01-01T00:00:05", None),  # no zone
        ("2024-13-01T00:00:05Z", None),
        ("2024-01-01T00:00:60Z", None),
        ("2024-01-01T00:00:05+24:00", None),
        ("epoch=3", None),
    ],
)
def test_rfc3339_times_are_read_as_katibs_collectors_read_them(text, microseconds):
    assert rfc3339_microseconds(text) == microseconds


def test_latest_is_the_value_with_the_latest_line_time():
    """The QA reproduction: Katib's latest is 0.4 (05 s), not the line read last (01 s)."""
    logs = parse_metric_lines(["2024-01-01T00:00:05Z loss=0.4", "2024-01-01T00:00:01Z loss=0.8"], ["loss"])
    assert [log.time_us for log in logs] == [NEW_YEAR_2024_US + 5_000_000, NEW_YEAR_2024_US + 1_000_000]
    assert Observation.from_logs(logs, ["loss"]).to_dict() == {"loss": {"min": 0.4, "max": 0.8, "latest": 0.4, "count": 2}}


def test_a_line_without_a_time_is_earlier_than_any_line_with_one_and_equal_times_go_by_order():
    """Katib files an untimed value at Go's zero time, so a timed value read before it stays the
    latest; of untimed (or equally timed) values the one reported last is."""
    timed_first = parse_metric_lines(["2024-01-01T00:00:01Z loss=0.8", "loss=0.3", " 2024-01-01T00:00:09Z loss=0.6"], ["loss"])
    assert Observation.from_logs(timed_first, ["loss"]).values({}) == {"loss": 0.8}  # the last line's time is not at its start
    same_time = parse_metric_lines(["2024-01-01T00:00:01Z loss=0.8", "2024-01-01T00:00:01Z loss=0.5"], ["loss"])
    assert Observation.from_logs(same_time, ["loss"]).values({}) == {"loss": 0.5}
    untimed = parse_metric_lines(["loss=0.8", "loss=0.5"], ["loss"])
    assert Observation.from_logs(untimed, ["loss"]).values({}) == {"loss": 0.5}


def test_json_lines_take_their_time_from_the_timestamp_key():
    lines = [
        '{"loss": "0.4", "timestamp": "2024-01-01T00:00:05Z"}',
        '{"loss": 0.8, "timestamp": 1704067201.5}',
        '{"loss": 0.9, "timestamp": true}',
    ]
    logs = parse_json_lines(lines, ["loss"])
    assert [log.time_us for log in logs] == [NEW_YEAR_2024_US + 5_000_000, NEW_YEAR_2024_US + 1_500_000, None]
    assert Observation.from_logs(logs, ["loss"]).values({}) == {"loss": 0.4}


def test_a_text_metrics_latest_value_is_by_time_too():
    logs = [MetricLog("genotype", float("nan"), 0, text="B", time_us=5), MetricLog("genotype", float("nan"), 1, text="A", time_us=1)]
    assert latest_texts(logs, ["genotype"]) == {"genotype": "B"}


def test_times_survive_the_collectors_stored_observations(local_store):
    """On a cluster without a shared volume collect-metrics reads what the sidecar stored: the
    times go with the values."""
    experiment = load_experiment(quadratic_experiment(**{"spec.metricsCollectorSpec": {
        "collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/var/log/katib/metrics.log", "kind": "File"}}}}))
    records = ExperimentRecords(local_store, "quad")
    trial = TrialState(name="quad-t1", index=0, round="", assignment={}, created="")
    logs = parse_metric_lines(["2024-01-01T00:00:05Z loss=0.4", "2024-01-01T00:00:01Z loss=0.8"], ["loss"])
    ObservationWriter(records, trial.name).write({"metrics.log": logs})
    collected = collect_file(records, experiment, trial)
    assert collected == logs
    assert Observation.from_logs(collected, ["loss"]).values({}) == {"loss": 0.4}
