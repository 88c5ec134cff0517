"""A boolean is never a metric value (``float(True)`` is 1.0): Katib's JSON parser takes only
string values, so ``{"loss": true}`` reports nothing there. Each path treats it as it treats
other non-numbers: the File (JSON) and TensorFlowEvent readers drop it, ``report_metrics``
refuses it."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import quadratic_experiment
from kfp_tune import report_metrics
from kfp_tune.collectors.files import collect_file
from kfp_tune.collectors.formats import parse_json_lines, read_event_scalars
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.observation import MetricLog, Observation
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import TrialState


def test_json_lines_drop_a_boolean_as_they_drop_other_non_numbers():
    lines = ['{"loss": true}', '{"loss": false}', '{"loss": "abc"}', '{"loss": null}', '{"loss": "0.5"}', '{"loss": 0.25}']
    assert parse_json_lines(lines, ["loss"]) == [MetricLog("loss", 0.5, 0), MetricLog("loss", 0.25, 1)]


def test_a_json_line_holding_an_integer_too_long_to_read_is_skipped_as_other_unreadable_lines():
    """A 5,000-digit number (past Python's 4,300-digit limit; Go's decoder fails on it too) ended
    the trial's collection with 'unexpected ValueError'; the line is skipped, the others read."""
    lines = ['{"loss": 1' + "0" * 5000 + "}", "[" * 100_000 + "]" * 100_000, '{"loss": 0.5}']
    assert parse_json_lines(lines, ["loss"]) == [MetricLog("loss", 0.5, 0)]


@pytest.mark.parametrize("stamp", ["1e308", "-1e308", "1" + "0" * 300, "253402300800"])
def test_a_json_lines_timestamp_past_any_date_leaves_its_values_untimed(stamp):
    """``{"accuracy": 0.6, "timestamp": 1e308}`` stopped the run (OverflowError), at every resume."""
    (metric,) = parse_json_lines(['{"accuracy": 0.6, "timestamp": ' + stamp + "}"], ["accuracy"])
    assert (metric.name, metric.value, metric.time_us) == ("accuracy", 0.6, None)


def test_a_json_file_whose_only_value_is_a_boolean_reports_no_objective(local_store):
    """The QA reproduction: a File collector in JSON format given ``{"loss": true}``; the
    objective is missing, so collect-metrics makes the trial MetricsUnavailable."""
    experiment = load_experiment(quadratic_experiment(**{"spec.metricsCollectorSpec": {
        "collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/katib/metrics.json", "kind": "File", "format": "JSON"}}}}))
    records = ExperimentRecords(local_store, "quad")
    trial = TrialState(name="quad-t1", index=0, round="", assignment={}, created="")
    local_store.put(records.metrics_file_key(trial.name, "metrics.json"), b'{"loss": true, "accuracy": "0.5"}\n')
    observation = Observation.from_logs(collect_file(records, experiment, trial), ["loss", "accuracy"])
    assert observation.values({}) == {"accuracy": 0.5}


@pytest.mark.parametrize("value", [True, False, np.bool_(True), np.array(False), pytest.param("torch", id="a-torch-bool-tensor")])
def test_report_metrics_refuses_a_boolean_and_writes_nothing(local_store, monkeypatch, value):
    monkeypatch.setenv("KFP_TUNE_STORE", local_store.uri)
    monkeypatch.setenv("KFP_TUNE_EXPERIMENT", "quad")
    monkeypatch.setenv("KFP_TUNE_TRIAL", "quad-t1")
    if value == "torch":  # PyTorch's dtypes have no NumPy kind; float() of it is 1.0
        value = pytest.importorskip("torch").tensor(True)
    with pytest.raises(ValueError, match=r"report_metrics: loss=.*(True|False).* is a boolean, not a number"):
        report_metrics({"accuracy": 0.5, "loss": value})
    assert local_store.list(ExperimentRecords(local_store, "quad").reports_prefix("quad-t1")) == []


@pytest.mark.parametrize(("value", "why"), [("abc", "is not a number"), (None, "is not a number"), (float("nan"), "is not a finite number"), pytest.param(10**400, "is not a finite number", id="an-int-beyond-a-float")])
def test_report_metrics_names_the_metric_for_any_other_non_number(local_store, monkeypatch, value, why):
    monkeypatch.setenv("KFP_TUNE_STORE", local_store.uri)
    monkeypatch.setenv("KFP_TUNE_EXPERIMENT", "quad")
    monkeypatch.setenv("KFP_TUNE_TRIAL", "quad-t1")
    with pytest.raises(ValueError, match=f"report_metrics: loss={value!r} {why}"):
        report_metrics({"loss": value})
    assert local_store.list(ExperimentRecords(local_store, "quad").reports_prefix("quad-t1")) == []


def test_an_event_file_drops_a_boolean_tensor(tmp_path):
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    from tensorboard.util import tensor_util

    writer = EventFileWriter(str(tmp_path))
    for step, value in enumerate([np.array(True), np.array(0.25, dtype=np.float32)]):
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="loss", tensor=tensor_util.make_tensor_proto(value))])
        writer.add_event(event_pb2.Event(wall_time=1_700_000_000.0 + step, step=step, summary=summary))
    writer.close()
    (path,) = tmp_path.glob("*tfevents*")
    assert read_event_scalars(path, ["loss"], str(tmp_path)) == [MetricLog("loss", 0.25, 1, time_us=1_700_000_001_000_000)]
