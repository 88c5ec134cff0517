"""A TensorFlow restart in an event file: a training resumed from its step-S checkpoint writes on
from S, and Katib's reader (tensorboard's ``EventAccumulator``, ``purge_orphaned_data`` on)
drops the abandoned run's values: after a ``SessionLog`` START in a file of version 2, every
old-style scalar at S or after; in a file without a version, an out-of-order step drops its own
tags' scalars. kfp-tune read every value, so ``min`` could be a value of the discarded run."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import quadratic_experiment
from kfp_tune.collectors.files import collect_tfevent
from kfp_tune.collectors.formats import read_event_scalars
from kfp_tune.collectors.observe import Follower, collector_source
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.observation import Observation
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState

WALL = 1_700_000_000.0


def _scalar(step: int, **values: float) -> object:
    from tensorboard.compat.proto import event_pb2, summary_pb2

    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=v) for tag, v in values.items()])
    return event_pb2.Event(wall_time=WALL + step, step=step, summary=summary)


def _tensor(step: int, tag: str, value: float) -> object:
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.util import tensor_util

    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, tensor=tensor_util.make_tensor_proto(np.float32(value)))])
    return event_pb2.Event(wall_time=WALL + step, step=step, summary=summary)


def _start(step: int) -> object:
    from tensorboard.compat.proto import event_pb2

    return event_pb2.Event(wall_time=WALL + step, step=step, session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START))


def _write(path: Path, events: list[Any], version: str | None = "brain.Event:2") -> Path:
    """An event file at ``path``: a ``file_version`` event first when ``version`` is given (as
    every writer puts it), then ``events``."""
    from tensorboard.compat.proto import event_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter

    buffer = io.BytesIO()
    writer = RecordWriter(buffer)
    if version is not None:
        writer.write(event_pb2.Event(wall_time=WALL, file_version=version).SerializeToString())
    for event in events:
        writer.write(event.SerializeToString())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return path


def _the_qa_events() -> list[object]:
    """The QA reproduction: steps 1-3 at 0.5, 0.4, 0.3, then a restart from step 2's checkpoint, steps 2-3 at 0.9, 0.8."""
    return [_scalar(1, loss=0.5), _scalar(2, loss=0.4), _scalar(3, loss=0.3), _start(2), _scalar(2, loss=0.9), _scalar(3, loss=0.8)]


def _read(path: Path, names: list[str]) -> list[tuple[str, int, float]]:
    return [(m.name, m.step or 0, round(m.value, 3)) for m in read_event_scalars(path, names, "/logs")]


def _experiment() -> Experiment:
    return load_experiment(quadratic_experiment(**{
        "spec.objective": {"type": "minimize", "objectiveMetricName": "loss"},
        "spec.metricsCollectorSpec": {"collector": {"kind": "TensorFlowEvent"}, "source": {"fileSystemPath": {"path": "/logs", "kind": "Directory"}}},
    }))


def test_a_session_start_drops_the_abandoned_runs_values_at_its_step_and_after(tmp_path):
    path = _write(tmp_path / "events.out.tfevents.1", _the_qa_events())
    assert _read(path, ["loss"]) == [("loss", 1, 0.5), ("loss", 2, 0.9), ("loss", 3, 0.8)]


def test_the_trials_objective_is_katibs_min_not_a_value_of_the_discarded_run(local_store, tmp_path):
    """With ``minimize`` Katib's objective is 0.5; kfp-tune's was 0.3, written before the restart."""
    records = ExperimentRecords(local_store, "quad")
    trial = TrialState(name="quad-t1", index=0, round="", assignment={}, created="")
    written = _write(tmp_path / "events.out.tfevents.1", _the_qa_events())
    local_store.put(records.metrics_file_key(trial.name, written.name), written.read_bytes())
    observation = Observation.from_logs(collect_tfevent(records, _experiment(), trial), ["loss"])
    assert observation.values({"loss": "min"}) == {"loss": 0.5}


def test_the_follower_drops_them_too(tmp_path):
    """The sidecar's and local early stopping's reading: the file's last content is the purged one."""
    _write(tmp_path / "logs" / "events.out.tfevents.1", _the_qa_events()[:3])
    follower = Follower(collector_source(_experiment()), local=tmp_path / "logs")
    assert [round(m.value, 3) for logs in follower.poll().values() for m in logs] == [0.5, 0.4, 0.3]
    _write(tmp_path / "logs" / "events.out.tfevents.1", _the_qa_events())
    assert [round(m.value, 3) for logs in follower.poll(final=True).values() for m in logs] == [0.5, 0.9, 0.8]


def test_a_start_drops_every_scalar_tag_but_no_tensor(tmp_path):
    """As tensorboard: the purge is of old-style scalars (``simple_value``) only; a tensor (TF2's summaries) stays."""
    events = [_scalar(1, loss=0.5, acc=0.1), _tensor(1, "val", 0.7), _scalar(2, loss=0.4, acc=0.2), _tensor(2, "val", 0.6), _start(1), _scalar(1, loss=0.9, acc=0.3)]
    path = _write(tmp_path / "events.out.tfevents.1", events)
    assert _read(path, ["loss", "acc", "val"]) == [("val", 1, 0.7), ("val", 2, 0.6), ("loss", 1, 0.9), ("acc", 1, 0.3)]


def test_in_a_file_without_a_version_an_out_of_order_step_drops_its_own_tags_only(tmp_path):
    events = [_scalar(1, loss=0.5), _scalar(1, acc=0.1), _scalar(2, loss=0.4), _scalar(2, acc=0.2), _scalar(1, loss=0.9)]
    path = _write(tmp_path / "events.out.tfevents.1", events, version=None)
    assert _read(path, ["loss", "acc"]) == [("acc", 1, 0.1), ("acc", 2, 0.2), ("loss", 1, 0.9)]


def test_in_a_file_without_a_version_any_event_sets_the_step_an_out_of_order_one_is_judged_by(tmp_path):
    """A START (no summary) at step 1 lowers the step seen, so the next step-1 scalar is in order: nothing is dropped."""
    events = [_scalar(1, loss=0.5), _scalar(2, loss=0.4), _start(1), _scalar(1, loss=0.9)]
    path = _write(tmp_path / "events.out.tfevents.1", events, version=None)
    assert _read(path, ["loss"]) == [("loss", 1, 0.5), ("loss", 2, 0.4), ("loss", 1, 0.9)]


def test_a_start_in_a_file_of_version_one_is_no_restart_but_its_steps_are(tmp_path):
    events = [_scalar(1, loss=0.5), _scalar(2, loss=0.4), _start(1), _scalar(3, loss=0.3)]
    path = _write(tmp_path / "events.out.tfevents.1", events, version="brain.Event:1")
    assert _read(path, ["loss"]) == [("loss", 1, 0.5), ("loss", 2, 0.4), ("loss", 3, 0.3)]


def _random_events(rng: random.Random) -> list[object]:
    """Scalar tags ``a``/``b``, tensor tag ``t``, steps that go on, jump back, and restart."""
    events: list[object] = []
    step = 0
    for _ in range(rng.randint(1, 25)):
        step = max(0, step + rng.choice([1, 1, 1, 0, -1, -3]))
        kind = rng.random()
        if kind < 0.15:
            events.append(_start(step))
        elif kind < 0.3:
            events.append(_tensor(step, "t", round(rng.random(), 3)))
        elif kind < 0.4:
            events.append(_scalar(step, a=round(rng.random(), 3), b=round(rng.random(), 3)))
        else:
            events.append(_scalar(step, **{rng.choice("ab"): round(rng.random(), 3)}))
    return events


@pytest.mark.parametrize("version", ["brain.Event:2", None, "brain.Event:1", "brain.Event:x"])
def test_the_values_kept_are_those_katibs_event_accumulator_keeps(tmp_path, version):
    """tensorboard's EventAccumulator, read as Katib's tfevent_loader reads it, is the oracle:
    200 seeded random files of each version."""
    from tensorboard.backend.event_processing.event_accumulator import SCALARS, TENSORS, EventAccumulator
    from tensorboard.util import tensor_util

    rng = random.Random(20261206)
    for index in range(200):
        path = _write(tmp_path / f"{index}" / "events.out.tfevents.1", _random_events(rng), version)
        accumulator = EventAccumulator(str(path), size_guidance={SCALARS: 0, TENSORS: 0})
        accumulator.Reload()
        tags = accumulator.Tags()
        katib = {tag: [(e.step, round(e.value, 3)) for e in accumulator.Scalars(tag)] for tag in tags[SCALARS]}
        katib.update({tag: [(e.step, round(float(tensor_util.make_ndarray(e.tensor_proto)), 3)) for e in accumulator.Tensors(tag)] for tag in tags[TENSORS]})
        ours: dict[str, list[tuple[int, float]]] = {}
        for name, step, value in _read(path, ["a", "b", "t"]):
            ours.setdefault(name, []).append((step, value))
        assert ours == {tag: values for tag, values in katib.items() if values}, f"file {index}"
