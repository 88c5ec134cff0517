"""Reports a Custom collector's container writes itself (``reports/<stamp>.json``, as
:mod:`kfp_tune.collectors.custom` allows) are checked by one rule,
:func:`~kfp_tune.collectors.push.reported_logs`, for collect-metrics and early stopping alike.
Before, ``"value": null`` and an entry without a name crashed both with a raw TypeError or
KeyError, ``true`` counted as 1.0 and ``"step": "3"`` was kept as text.

A value that is not a finite number is left out with a warning, as the other collectors leave it
out (Katib's trial controller counts in min and max only what parses as a number); a report of
another shape is damaged, refused naming it and what was expected."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune.collectors.custom import collect_custom
from kfp_tune.collectors.push import collect_pushed
from kfp_tune.collectors.running import RunningMetrics
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.observation import MetricLog
from kfp_tune.core.records import DamagedRecord, ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState

TRIAL = TrialState(name="quad-t1", index=0, round="", assignment={}, created="")


def custom_experiment() -> Experiment:
    return load_experiment(quadratic_experiment(**{
        "spec.objective": {"type": "maximize", "objectiveMetricName": "accuracy"},
        "spec.metricsCollectorSpec": {"collector": {"kind": "Custom", "customCollector": {"name": "c", "image": "x", "command": ["python", "c.py"]}}},
    }))


def write_reports(records: ExperimentRecords, *reports: list[Any]) -> list[str]:
    """The reports as the container writes them, stamped in order; their keys."""
    keys = []
    for number, metrics in enumerate(reports, start=1):
        key = records.report_key(TRIAL.name, f"{number:04d}")
        records.store.put(key, json.dumps({"kind": "ReportedMetrics", "version": 1, "metrics": metrics}).encode())
        keys.append(key)
    return keys


def both_readers(records: ExperimentRecords) -> tuple[list[MetricLog], list[MetricLog]]:
    """What collect-metrics reads, and what early stopping reads, of the trial's reports."""
    experiment = custom_experiment()
    return collect_custom(records, experiment, TRIAL), RunningMetrics(records, experiment, TRIAL.name).read()


@pytest.mark.parametrize(("value", "why"), [(None, "is not a number"), ("abc", "is not a number"), (float("nan"), "is not a finite number"), pytest.param(10**400, "is not a finite number", id="an-int-beyond-a-float"), (True, "is a boolean, not a number"), (False, "is a boolean, not a number")])
def test_a_value_that_is_no_number_is_left_out_with_a_warning_naming_the_report(local_store, caplog, value, why):
    records = ExperimentRecords(local_store, "quad")
    bad, _ = write_reports(records, [{"name": "accuracy", "value": value, "step": 0}], [{"name": "accuracy", "value": 0.5, "step": 1}])
    with caplog.at_level(logging.WARNING, logger="kfp_tune.collectors.push"):
        collected, running = both_readers(records)
    assert collected == running == [MetricLog("accuracy", 0.5, 1)]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"record {bad}: accuracy={value!r} {why}; left out (a metric's value is a finite number)"] * 2


def test_a_value_written_as_text_holding_a_number_is_that_number(local_store):
    """Katib's collectors report every value as text, and its controller parses it."""
    records = ExperimentRecords(local_store, "quad")
    write_reports(records, [{"name": "accuracy", "value": "0.75", "step": 2}])
    collected, running = both_readers(records)
    assert collected == running == [MetricLog("accuracy", 0.75, 2)]


@pytest.mark.parametrize(
    ("metrics", "problem"),
    [
        ([{"value": 0.5}], "metrics[0] has no name (a non-empty string)"),
        ([{"name": "accuracy", "value": 0.5}, {"name": "", "value": 0.5}], "metrics[1] has no name (a non-empty string)"),
        ([{"name": "accuracy", "value": 0.5, "step": "3"}], "metrics[0] (accuracy) has the step '3': expected an integer or null"),
        ([{"name": "accuracy", "value": 0.5, "step": True}], "metrics[0] (accuracy) has the step True: expected an integer or null"),
        (["accuracy=0.5"], "metrics[0] must be {\"name\""),
        ({"accuracy": 0.5}, "metrics must be a list of"),
    ],
)
def test_a_report_of_another_shape_is_refused_naming_it_and_what_was_expected(local_store, metrics, problem):
    records = ExperimentRecords(local_store, "quad")
    (key,) = write_reports(records, metrics)
    experiment = custom_experiment()
    for read in (lambda: collect_custom(records, experiment, TRIAL), lambda: RunningMetrics(records, experiment, TRIAL.name).read()):
        with pytest.raises(DamagedRecord) as info:
            read()
        assert info.value.key == key
        assert str(info.value).startswith(f"record {key} is damaged: {problem}"), info.value


def test_a_step_may_be_absent_or_null(local_store):
    records = ExperimentRecords(local_store, "quad")
    write_reports(records, [{"name": "accuracy", "value": 0.25}, {"name": "accuracy", "value": 0.5, "step": None}, {"name": "accuracy", "value": 1, "step": 7}])
    collected, running = both_readers(records)
    assert collected == running == [MetricLog("accuracy", 0.25), MetricLog("accuracy", 0.5), MetricLog("accuracy", 1.0, 7)]


def test_the_push_collector_reads_reports_by_the_same_rule(local_store):
    """Push and Custom read reports alike: a trial's ``report_metrics`` never writes a boolean,
    but a report in the store is read by what it holds, not by who wrote it."""
    records = ExperimentRecords(local_store, "quad")
    write_reports(records, [{"name": "accuracy", "value": True, "step": 0}, {"name": "accuracy", "value": 0.125, "step": 1}])
    assert collect_pushed(records, custom_experiment(), TRIAL) == [MetricLog("accuracy", 0.125, 1)]
