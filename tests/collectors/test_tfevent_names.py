"""TensorFlowEvent metric names as Katib's tfevent_loader reads them: a plain name is the tag
(or the tag's last parts), and a ``<folder>/<tag>`` name (``eval/accuracy``) is the tag
``accuracy`` in event files under a folder ``eval`` (``_should_consider``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import quadratic_experiment
from kfp_tune.collectors.files import collect_tfevent
from kfp_tune.collectors.formats import event_metrics
from kfp_tune.collectors.observe import Follower, collector_source
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.observation import MetricLog, Observation
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState


def _write_events(folder: Path, tag: str, values: list[float], wall: float = 1_700_000_000.0) -> Path:
    """One event file in ``folder`` with a scalar ``tag`` at steps 0, 1, ..., a second apart
    from ``wall``; its path."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(folder))
    for step, value in enumerate(values):
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])
        writer.add_event(event_pb2.Event(wall_time=wall + step, step=step, summary=summary))
    writer.close()
    (path,) = folder.glob("*tfevents*")
    return path


def _experiment(path: str, objective: str, additional: list[str]) -> Experiment:
    return load_experiment(quadratic_experiment(**{
        "spec.objective": {"type": "maximize", "objectiveMetricName": objective, "additionalMetricNames": additional},
        "spec.metricsCollectorSpec": {"collector": {"kind": "TensorFlowEvent"}, "source": {"fileSystemPath": {"path": path, "kind": "Directory"}}},
    }))


@pytest.mark.parametrize(
    ("tag", "name", "folder", "matches"),
    [
        ("accuracy", "accuracy", "/logs/eval", True),
        ("train/loss", "loss", "/logs", True),  # kfp-tune's: the tag's last parts
        ("eval/accuracy", "eval/accuracy", "/logs", True),  # the tag already holds the qualified name
        ("accuracy", "eval/accuracy", "/logs/eval", True),  # Katib's <folder>/<tag>
        ("accuracy", "eval/accuracy", "/logs/train", False),
        ("accuracy", "eval/accuracy", "/logs", False),
        ("accuracy", "test/accuracy", "/mnist-with-summaries-logs/test", True),  # the collector's own folder counts
        ("accuracy", "a/eval/accuracy", "/logs/a/eval", True),
        ("accuracy", "a/eval/accuracy", "/logs/b/eval", False),
        ("accuracy", "eval/accuracy", "/logs/myeval", False),  # whole folder names (Katib: a string suffix)
        ("accuracy_top5", "eval/accuracy", "/logs/eval", False),  # the whole tag (Katib: a prefix)
        ("loss", "eval/accuracy", "/logs/eval", False),
    ],
)
def test_a_tag_is_a_metric_by_its_name_or_by_katibs_folder_qualified_name(tag, name, folder, matches):
    assert event_metrics(tag, [name], folder) == ([name] if matches else [])


def test_folder_qualified_names_read_the_tag_in_that_folder_only(local_store, tmp_path):
    """The QA reproduction: objective ``eval/accuracy``, a Directory collector at /logs, the
    trial writes ``accuracy`` under /logs/train and /logs/eval."""
    experiment = _experiment("/logs", "eval/accuracy", ["train/accuracy", "accuracy"])
    records = ExperimentRecords(local_store, "quad")
    trial = TrialState(name="quad-t1", index=0, round="", assignment={}, created="")
    for sub, values in (("train", [0.5, 0.75]), ("eval", [0.25, 0.375])):
        written = _write_events(tmp_path / sub, "accuracy", values)
        local_store.put(records.metrics_file_key(trial.name, f"{sub}/{written.name}"), written.read_bytes())
    observation = Observation.from_logs(collect_tfevent(records, experiment, trial), ["eval/accuracy", "train/accuracy", "accuracy"])
    assert observation.values({"eval/accuracy": "max", "train/accuracy": "max", "accuracy": "max"}) == {
        "eval/accuracy": 0.375, "train/accuracy": 0.75, "accuracy": 0.75,
    }
    assert observation.to_dict()["accuracy"]["count"] == 4  # a plain name takes the tag in every folder


def test_the_collector_sidecar_reads_folder_qualified_names_as_it_follows(tmp_path):
    """The follower (sidecar on a cluster, thread locally) sees the files at ``local``; the
    folder that counts is the one the trial wrote to, under the collector's path."""
    experiment = _experiment("/mnist-with-summaries-logs", "test/accuracy", ["train/accuracy"])
    _write_events(tmp_path / "train", "accuracy", [0.5])
    _write_events(tmp_path / "test", "accuracy", [0.25])
    observed = Follower(collector_source(experiment), local=tmp_path).poll(final=True)
    assert sorted((log for logs in observed.values() for log in logs), key=lambda log: log.name) == [MetricLog("test/accuracy", 0.25, 0, time_us=1_700_000_000_000_000), MetricLog("train/accuracy", 0.5, 0, time_us=1_700_000_000_000_000)]


def test_an_unqualified_tag_in_another_folder_still_leaves_the_objective_unreported(local_store, tmp_path):
    experiment = _experiment("/logs", "eval/accuracy", [])
    records = ExperimentRecords(local_store, "quad")
    trial = TrialState(name="quad-t1", index=0, round="", assignment={}, created="")
    written = _write_events(tmp_path / "train", "accuracy", [0.5])
    local_store.put(records.metrics_file_key(trial.name, f"train/{written.name}"), written.read_bytes())
    assert collect_tfevent(records, experiment, trial) == []


def test_latest_is_the_value_with_the_latest_wall_time_as_in_katib(local_store, tmp_path):
    """Two event files, read in path order (a/ then b/), whose times run the other way (a
    training that went on in a new folder after a restart): Katib files each scalar at its
    event's wall time and takes the latest; kfp-tune took the last one read."""
    experiment = _experiment("/logs", "accuracy", [])
    records = ExperimentRecords(local_store, "quad")
    trial = TrialState(name="quad-t1", index=0, round="", assignment={}, created="")
    for sub, values, wall in (("a", [0.75], 1_700_000_100.0), ("b", [0.25], 1_700_000_000.0)):
        written = _write_events(tmp_path / sub, "accuracy", values, wall)
        local_store.put(records.metrics_file_key(trial.name, f"{sub}/{written.name}"), written.read_bytes())
    logs = collect_tfevent(records, experiment, trial)
    assert [log.value for log in logs] == [0.75, 0.25]  # read in path order
    assert Observation.from_logs(logs, ["accuracy"]).values({"accuracy": "latest"}) == {"accuracy": 0.75}


def _write_tags(folder: Path, series: dict[str, list[float]]) -> Path:
    """One event file in ``folder``, each tag's values at steps 0, 1, ... (interleaved, as one
    writer logs train and test scalars in turn); its path."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(folder))
    for step in range(max(len(v) for v in series.values())):
        for tag, values in series.items():
            summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=values[step])])
            writer.add_event(event_pb2.Event(wall_time=1_700_000_000.0 + step, step=step, summary=summary))
    writer.close()
    (path,) = folder.glob("*tfevents*")
    return path


def _collect(local_store, tmp_path: Path, objective: str, series: dict[str, list[float]]) -> list[MetricLog]:
    """What the collector reads for ``objective`` from a trial of its own that wrote ``series``."""
    experiment = _experiment("/logs", objective, [])
    records = ExperimentRecords(local_store, "quad")
    trial = TrialState(name=f"quad-{tmp_path.name}", index=0, round="", assignment={}, created="")
    written = _write_tags(tmp_path / "run", series)
    local_store.put(records.metrics_file_key(trial.name, written.name), written.read_bytes())
    return collect_tfevent(records, experiment, trial)


def test_a_metric_never_mixes_two_scoped_tags_of_one_writer(local_store, tmp_path, caplog):
    """The QA reproduction (gent.sh tf-scoped): one writer logs ``train/accuracy`` (high) and
    ``test/accuracy`` (low); the metric ``accuracy`` took both, an alternating series. Katib
    (``_should_consider``: the tag must start with the name) reads neither; kfp-tune refuses to
    guess, and says which tags it left out."""
    series = {"train/accuracy": [0.875, 0.9375], "test/accuracy": [0.5, 0.625]}
    with caplog.at_level("WARNING"):
        assert _collect(local_store, tmp_path, "accuracy", series) == []
    assert "'test/accuracy', 'train/accuracy'" in caplog.text and "'accuracy'" in caplog.text
    assert [m.value for m in _collect(local_store, tmp_path / "b", "test/accuracy", series)] == [0.5, 0.625]


def test_a_tag_that_is_the_metric_wins_over_tags_that_end_with_it(local_store, tmp_path):
    series = {"accuracy": [0.625, 0.75], "train/accuracy": [0.875, 0.9375]}
    assert [m.value for m in _collect(local_store, tmp_path, "accuracy", series)] == [0.625, 0.75]


def test_one_scoped_tag_is_still_read_by_its_last_part(local_store, tmp_path):
    assert [m.value for m in _collect(local_store, tmp_path, "loss", {"train/loss": [0.5, 0.25]})] == [0.5, 0.25]
