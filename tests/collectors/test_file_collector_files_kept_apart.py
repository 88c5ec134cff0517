"""Several stored metrics files of one trial are read each with its own lines: a file without a
final newline no longer runs its last line into the next file's first (``loss=0.5`` then
``1 epoch done`` read as ``loss=0.51``; two JSON objects on one line, neither read)."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune.collectors.files import collect_file
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState


def _experiment(file_format: str) -> Experiment:
    source = {"fileSystemPath": {"path": "/katib/metrics.log", "kind": "File", "format": file_format}}
    return load_experiment(quadratic_experiment(**{"spec.metricsCollectorSpec": {"collector": {"kind": "File"}, "source": source}}))


def _collect(local_store: Any, file_format: str, files: dict[str, str]) -> list[tuple[str, float, int]]:
    records = ExperimentRecords(local_store, "quad")
    trial = TrialState(name="quad-t1", index=0, round="", assignment={}, created="")
    for name, content in files.items():
        local_store.put(records.metrics_file_key(trial.name, name), content.encode())
    return [(m.name, m.value, m.step) for m in collect_file(records, _experiment(file_format), trial)]


def test_a_text_files_last_line_is_not_run_into_the_next_files_first(local_store: Any) -> None:
    found = _collect(local_store, "TEXT", {"a.log": "loss=0.75\nloss=0.5", "b.log": "1 epoch done\nloss=0.25\n"})
    assert found == [("loss", 0.75, 0), ("loss", 0.5, 1), ("loss", 0.25, 2)]


def test_json_lines_of_two_files_are_each_read(local_store: Any) -> None:
    found = _collect(local_store, "JSON", {"a.json": '{"loss": "0.5"}', "b.json": '{"loss": "0.25", "accuracy": "0.9"}\n'})
    assert found == [("loss", 0.5, 0), ("loss", 0.25, 1), ("accuracy", 0.9, 0)]


@pytest.mark.parametrize("file_format", ["TEXT", "JSON"])
def test_one_file_reads_as_before(local_store: Any, file_format: str) -> None:
    content = "loss=0.5\nloss=0.25" if file_format == "TEXT" else '{"loss": "0.5"}\n{"loss": "0.25"}'
    assert _collect(local_store, file_format, {"metrics.log": content}) == [("loss", 0.5, 0), ("loss", 0.25, 1)]
