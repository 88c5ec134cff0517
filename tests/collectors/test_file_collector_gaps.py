"""What the File and TensorFlowEvent collectors read that no other test pinned down (a
mutation-testing pass found each change below unnoticed): the collector's own path as the folder
of ``<folder>/<tag>`` names, the sidecar's stored observations when no event file was kept, a
metrics file with a byte that is not UTF-8, and the steps of a text metric in JSON lines."""

from __future__ import annotations

from pathlib import Path

from conftest import folder_module, quadratic_experiment
from kfp_tune.collectors.files import collect_file, collect_tfevent
from kfp_tune.collectors.formats import parse_json_lines
from kfp_tune.collectors.observe import ObservationWriter
from kfp_tune.collectors.stdout import parse_metric_lines
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.observation import MetricLog
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState

_write_events = folder_module(Path(__file__).parent, "test_tfevent_names")._write_events
"""The event file writer the TensorFlowEvent name tests use."""

TRIAL = TrialState(name="quad-t1", index=0, round="", assignment={}, created="")


def _experiment(kind: str, path: str, path_kind: str, objective: str) -> Experiment:
    return load_experiment(quadratic_experiment(**{
        "spec.objective": {"type": "maximize", "objectiveMetricName": objective},
        "spec.metricsCollectorSpec": {"collector": {"kind": kind}, "source": {"fileSystemPath": {"path": path, "kind": path_kind}}},
    }))


def _found(logs: list[MetricLog]) -> list[tuple[str, float, int | None]]:
    return [(m.name, m.value, m.step) for m in logs]


def test_a_folder_qualified_name_reads_event_files_straight_in_the_collectors_own_folder(local_store, tmp_path: Path):
    """Katib's tfevent_loader ``_should_consider`` takes the folder from the event file's path
    (os.path.dirname), the collector's path included: with the collector at ``/logs/eval``, the
    metric ``eval/accuracy`` is the tag ``accuracy`` of a file kept at the folder's top."""
    records = ExperimentRecords(local_store, "quad")
    written = _write_events(tmp_path / "events", "accuracy", [0.25, 0.5])
    local_store.put(records.metrics_file_key(TRIAL.name, written.name), written.read_bytes())
    logs = collect_tfevent(records, _experiment("TensorFlowEvent", "/logs/eval", "Directory", "eval/accuracy"), TRIAL)
    assert _found(logs) == [("eval/accuracy", 0.25, 0), ("eval/accuracy", 0.5, 1)]


def test_with_no_event_file_kept_the_sidecars_stored_observations_are_the_metrics(local_store):
    """On a cluster with no shared metrics volume only the collector sidecar's records are
    there: those are the trial's metrics, the experiment's only."""
    records = ExperimentRecords(local_store, "quad")
    ObservationWriter(records, TRIAL.name).write({"events/run.tfevents": [MetricLog("accuracy", 0.5, 0), MetricLog("other", 7.0, 0), MetricLog("accuracy", 0.75, 1)]})
    logs = collect_tfevent(records, _experiment("TensorFlowEvent", "/logs", "Directory", "accuracy"), TRIAL)
    assert _found(logs) == [("accuracy", 0.5, 0), ("accuracy", 0.75, 1)]


def test_a_metrics_file_with_a_byte_that_is_not_utf8_is_still_read(local_store):
    """A trial that prints Latin-1 (``café``) loses that character, not its metrics."""
    records = ExperimentRecords(local_store, "quad")
    local_store.put(records.metrics_file_key(TRIAL.name, "metrics.log"), b"caf\xe9 done\naccuracy=0.9\n")
    logs = collect_file(records, _experiment("File", "/var/log/metrics.log", "File", "accuracy"), TRIAL)
    assert _found(logs) == [("accuracy", 0.9, 0)]


def test_a_text_metrics_steps_in_json_lines_count_from_zero():
    logs = parse_json_lines(['{"genotype": "Genotype(a)"}', '{"genotype": "Genotype(b)"}'], ["genotype"], {"genotype"})
    assert [(m.name, m.text, m.step) for m in logs] == [("genotype", "Genotype(a)", 0), ("genotype", "Genotype(b)", 1)]


def test_json_and_text_values_are_numbers_as_katibs_go_reads_them():
    """Katib reads a value with strconv.ParseFloat: a hexadecimal float is a number, a digit
    other than ASCII (Python's float() reads "\u0663" as 3) is not; an integer too large for a
    float is no value (not an error)."""
    lines = ['{"loss": "0x1p-2"}', '{"loss": "\u0663"}', '{"loss": " 0.5 "}', '{"loss": 1' + "0" * 400 + "}", '{"loss": "1_000"}']
    assert [m.value for m in parse_json_lines(lines, ["loss"])] == [0.25, 0.5, 1000.0]
    text = ["loss: 0x1p-2", "loss: \u0663", "loss: \uff13", "loss: 2_5"]
    assert [m.value for m in parse_metric_lines(text, ["loss"], [r"(\w+):\s*(\S+)"])] == [0.25, 25.0]


def test_a_json_line_that_is_not_an_object_is_skipped_and_the_others_read():
    """Katib's collector fails on such a line and the trial gets no metrics; kfp-tune reads the
    rest (the guide's File collector says so)."""
    lines = ['{"loss": "0.5"}', "Training finished", "[0.4]", '"0.3"', "null", '{"loss": NaN}', "   ", '{"loss": "0.25"}']
    assert [(m.value, m.step) for m in parse_json_lines(lines, ["loss"])] == [(0.5, 0), (0.25, 1)]


def test_json_values_that_are_not_finite_are_dropped_and_count_no_step():
    lines = ['{"loss": NaN}', '{"loss": Infinity}', '{"loss": -Infinity}', '{"loss": 1e999}', '{"loss": "1e999"}', '{"loss": "nan"}', '{"loss": 0.5}']
    assert parse_json_lines(lines, ["loss"]) == [MetricLog("loss", 0.5, 0)]
