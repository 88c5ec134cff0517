"""A JSON line holding ``NaN``, ``Infinity`` or ``-Infinity`` (Python's ``json.dumps`` writes them
for a diverged training's ``float("nan")``) is no JSON to Go's decoder, so Katib's File
collector reads none of it. Python's decoder took it, and its other metrics were read, while the
guide said such a line is skipped: it is skipped now, as every line that is no JSON object."""

from __future__ import annotations

import json

import pytest

from conftest import quadratic_experiment
from kfp_tune.collectors.files import collect_file
from kfp_tune.collectors.formats import parse_json_lines
from kfp_tune.collectors.observe import Follower, collector_source
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.observation import MetricLog
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import TrialState


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_line_with_a_non_finite_constant_is_skipped_whole(constant):
    lines = ['{"acc": "0.8", "loss": 0.5}', '{"acc": "0.9", "loss": ' + constant + "}", '{"acc": 0.7}']
    assert parse_json_lines(lines, ["loss", "acc"]) == [MetricLog("loss", 0.5, 0), MetricLog("acc", 0.8, 0), MetricLog("acc", 0.7, 1)]


def test_a_constant_of_a_metric_not_wanted_skips_the_line_too():
    """Go's decoder fails on the line whatever key holds it."""
    assert parse_json_lines([json.dumps({"loss": 0.25, "grad_norm": float("inf")})], ["loss"]) == []


def test_the_words_as_strings_are_values_that_are_no_numbers_and_the_line_is_read():
    """``"NaN"`` is a JSON string: the line is JSON, the value no finite number, the others read."""
    assert parse_json_lines(['{"loss": "NaN", "acc": "0.5"}'], ["loss", "acc"]) == [MetricLog("acc", 0.5, 0)]


def _experiment():
    return load_experiment(quadratic_experiment(**{"spec.metricsCollectorSpec": {
        "collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/katib/metrics.json", "kind": "File", "format": "JSON"}}}}))


DIVERGED = json.dumps({"loss": 0.5, "accuracy": "0.6"}) + "\n" + json.dumps({"loss": float("nan"), "accuracy": "0.9"}) + "\n"
"""What a training that diverged at its second epoch writes with ``json.dumps``."""


def test_the_end_of_trial_read_skips_the_line(local_store):
    records = ExperimentRecords(local_store, "quad")
    trial = TrialState(name="quad-t1", index=0, round="", assignment={}, created="")
    local_store.put(records.metrics_file_key(trial.name, "metrics.json"), DIVERGED.encode())
    assert [(m.name, m.value) for m in collect_file(records, _experiment(), trial)] == [("loss", 0.5), ("accuracy", 0.6)]


def test_the_follower_skips_the_line(tmp_path):
    (tmp_path / "metrics.json").write_text(DIVERGED)
    observed = Follower(collector_source(_experiment()), local=tmp_path / "metrics.json").poll(final=True)
    assert [(m.name, m.value) for logs in observed.values() for m in logs] == [("loss", 0.5), ("accuracy", 0.6)]
