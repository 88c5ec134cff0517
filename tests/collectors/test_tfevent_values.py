"""Values in a TensorFlow event file that are no number: a ``tf.summary.text`` (a string tensor),
a complex, a quantized or a damaged tensor, under a tag read for a metric. Katib never reads
one as a number, and never stops collecting for it; each is left out here, and the trial's
numbers in the same file are read, both at the end of the trial and by the follower (the
cluster's sidecar, local early stopping)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from conftest import quadratic_experiment
from kfp_tune.collectors.files import collect_tfevent
from kfp_tune.collectors.formats import read_event_scalars
from kfp_tune.collectors.observe import Follower, collector_source
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.observation import MetricLog
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState

WALL = 1_700_000_000.0


def _tensor(value: object) -> object:
    from tensorboard.util import tensor_util

    return tensor_util.make_tensor_proto(value)


def _raw_tensor(dtype: int, **fields: object) -> object:
    """A scalar TensorProto of ``dtype`` holding ``fields`` as they are (no NumPy array makes it)."""
    from tensorboard.compat.proto import tensor_pb2, tensor_shape_pb2

    return tensor_pb2.TensorProto(dtype=dtype, tensor_shape=tensor_shape_pb2.TensorShapeProto(), **fields)


def _write(folder: Path, values: list[tuple[str, object]]) -> Path:
    """One event file in ``folder``: each (tag, tensor proto) at its own step, from 0, a second apart."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(folder))
    for step, (tag, tensor) in enumerate(values):
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, tensor=tensor)])
        writer.add_event(event_pb2.Event(wall_time=WALL + step, step=step, summary=summary))
    writer.close()
    (path,) = folder.glob("*tfevents*")
    return path


def _experiment() -> Experiment:
    return load_experiment(quadratic_experiment(**{
        "spec.objective": {"type": "minimize", "objectiveMetricName": "loss"},
        "spec.metricsCollectorSpec": {"collector": {"kind": "TensorFlowEvent"}, "source": {"fileSystemPath": {"path": "/logs", "kind": "Directory"}}},
    }))


def _the_qa_file(folder: Path) -> Path:
    """The QA reproduction's trial: ``loss=0.5`` (a float32 tensor), then a text summary under ``notes/loss``."""
    return _write(folder, [("loss", _tensor(np.float32(0.5))), ("notes/loss", _tensor(np.array("loss went down", dtype=object)))])


def _odd_tensors() -> list[tuple[str, object]]:
    from tensorboard.compat.proto import types_pb2

    return [
        ("loss", _tensor(np.array("see the table", dtype=object))),  # a string under the metric's own tag
        ("eval/loss", _tensor(np.array("0.25", dtype=object))),  # a string holding a number is text still (Katib: "b'0.25'")
        ("loss", _tensor(np.complex64(1 + 2j))),
        ("loss", _raw_tensor(types_pb2.DT_QINT8, int_val=[3])),  # NumPy makes a record of it, no number
        ("loss", _raw_tensor(types_pb2.DT_BFLOAT16, half_val=[16128])),  # no NumPy type here
        ("loss", _raw_tensor(types_pb2.DT_VARIANT)),  # no type the reader knows
        ("loss", _raw_tensor(types_pb2.DT_FLOAT, tensor_content=b"abc")),  # damaged: 3 bytes of a float32
        ("loss", _raw_tensor(types_pb2.DT_FLOAT)),  # damaged: no value at all
        ("loss", _tensor(np.float64(0.125))),
        ("loss", _tensor(np.int64(2))),
        ("loss", _tensor(np.uint8(3))),
        ("loss", _tensor(np.float16(0.5))),
    ]


def test_a_text_tensor_under_a_metrics_tag_is_skipped_and_the_numbers_read(tmp_path):
    """The direct reproduction: ``could not convert string to float: b'loss went down'``."""
    path = _the_qa_file(tmp_path)
    assert read_event_scalars(path, ["loss"], "/logs") == [MetricLog("loss", 0.5, 0, time_us=1_700_000_000_000_000)]


def test_every_tensor_that_is_no_real_number_is_skipped_and_named(tmp_path):
    path = _write(tmp_path, _odd_tensors())
    skipped: dict[str, set[str]] = {}
    logs = read_event_scalars(path, ["loss"], "/logs", skipped=skipped)
    assert [(log.step, log.value) for log in logs] == [(8, 0.125), (9, 2.0), (10, 3.0), (11, 0.5)]
    assert skipped == {"loss": {"loss", "eval/loss"}}


def test_the_end_of_trial_read_collects_the_trial_and_says_what_it_left_out(local_store, tmp_path, caplog):
    """The run stopped with 'unexpected ValueError', the trial stayed Running, and every resume
    stopped the same way; the trial's ``loss=0.5`` is its objective now."""
    records = ExperimentRecords(local_store, "quad")
    trial = TrialState(name="quad-t1", index=0, round="", assignment={}, created="")
    written = _the_qa_file(tmp_path)
    local_store.put(records.metrics_file_key(trial.name, written.name), written.read_bytes())
    with caplog.at_level(logging.WARNING, logger="kfp_tune.collectors.files"):
        logs = collect_tfevent(records, _experiment(), trial)
    assert [(log.name, log.value) for log in logs] == [("loss", 0.5)]
    (message,) = [r.getMessage() for r in caplog.records if r.name == "kfp_tune.collectors.files"]
    assert "quad-t1" in message and "'notes/loss'" in message and "not a number" in message


def test_the_follower_stores_the_files_numbers_and_says_once_what_it_left_out(tmp_path, caplog):
    """The sidecar (and local early stopping) took the error for a file still being written, so
    it stored no value of the file at all."""
    _the_qa_file(tmp_path / "logs")
    follower = Follower(collector_source(_experiment()), local=tmp_path / "logs")
    with caplog.at_level(logging.WARNING, logger="kfp_tune.collectors.observe"):
        first = follower.poll()
        second = follower.poll(final=True)
    assert [log for logs in first.values() for log in logs] == [MetricLog("loss", 0.5, 0, time_us=1_700_000_000_000_000)]
    assert second == first
    told = [r.getMessage() for r in caplog.records if r.name == "kfp_tune.collectors.observe"]
    assert len(told) == 1 and "'notes/loss'" in told[0]


@pytest.mark.parametrize("when", ["while-running", "ended"])
def test_the_follower_skips_every_odd_tensor(tmp_path, when):
    _write(tmp_path / "logs", _odd_tensors())
    observed = Follower(collector_source(_experiment()), local=tmp_path / "logs").poll(final=when == "ended")
    assert [(log.step, log.value) for logs in observed.values() for log in logs] == [(8, 0.125), (9, 2.0), (10, 3.0), (11, 0.5)]
