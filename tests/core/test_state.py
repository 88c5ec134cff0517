"""The experiment's state as a view: write-through, snapshot chunks that a fresh process reads
instead of every record, and records that stay the truth when a chunk is damaged."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune.core.errors import StoreError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import DamagedRecord, ExperimentRecords, TrialEnded, TrialResult, TrialStarted, left_out_warning
from kfp_tune.core.state import SNAPSHOT_CHUNK, ExperimentView
from kfp_tune.core.vocabulary import LaunchPhase, TrialStatus
from kfp_tune.steps import init_experiment
from kfp_tune.stores import LocalStore
from pass_through_store import PassThroughStore

TRIALS = 150  # 150 rounds + 450 trial records: one chunk of 500 and 100 records beyond it


class CountingStore(PassThroughStore):
    """The local store, counting reads."""

    def __init__(self, inner: LocalStore):
        super().__init__(inner)
        self.gets = 0

    def before(self, operation: str, subject: str) -> None:
        self.gets += operation == "get"


def _grow(store: Any, trials: int = TRIALS) -> ExperimentView:
    """An experiment of ``trials`` finished trials, one round each, written through one view."""
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": trials}))
    records = ExperimentRecords(store, experiment.name)
    init_experiment(records, experiment)
    view = ExperimentView(records)
    for i in range(trials):
        name = f"quad-t{i:04d}"
        view.record_round(f"run-1-t{i:06d}", {"round": f"run-1-t{i:06d}", "seq": i, "created": "now", "requested": 1, "exhausted": False,
                                               "trials": [{"name": name, "index": i, "assignment": {"x": str(i / trials), "y": "0.5"}}], "adopted": []})
        view.record_trial(name, TrialStarted(name, "now", 0.0, "run-1", "a"))
        view.record_trial(name, TrialEnded(name, LaunchPhase.SUCCEEDED))
        view.record_trial(name, TrialResult(name, TrialStatus.SUCCEEDED, metrics={"loss": float(i)}, curve=(float(i),)))
    return view


def _summary(view: ExperimentView) -> list[tuple[str, int, str, dict[str, float]]]:
    return [(t.name, t.index, str(t.status), t.metrics) for t in view.state.trials]


def test_a_view_is_current_with_what_it_writes_without_reading_it_back(tmp_path):
    store = CountingStore(LocalStore(tmp_path))
    view = _grow(store)
    reads_while_writing = store.gets
    assert len(view.state.trials) == TRIALS and all(t.status == "Succeeded" for t in view.state.trials)
    assert reads_while_writing < 10, "a view never re-reads the records it wrote"


def test_a_fresh_process_catches_up_from_snapshot_chunks(tmp_path):
    written = _summary(_grow(LocalStore(tmp_path)))
    chunks = LocalStore(tmp_path).list("experiments/quad/snapshots/")
    assert len(chunks) == (TRIALS * 4) // SNAPSHOT_CHUNK == 1
    store = CountingStore(LocalStore(tmp_path))
    fresh = ExperimentView(ExperimentRecords(store, "quad"))
    assert _summary(fresh) == written
    # one read for the experiment, one per chunk, one per record no chunk holds
    assert store.gets == 1 + len(chunks) + (TRIALS * 4 - SNAPSHOT_CHUNK)


def test_the_records_stay_the_truth_when_a_chunk_is_damaged(tmp_path, caplog):
    written = _summary(_grow(LocalStore(tmp_path)))
    (chunk,) = LocalStore(tmp_path).list("experiments/quad/snapshots/")
    LocalStore(tmp_path).put(chunk, b"{ not json")
    with caplog.at_level(logging.WARNING):
        assert _summary(ExperimentView(ExperimentRecords(LocalStore(tmp_path), "quad"))) == written
    assert "snapshot chunk" in caplog.text and "ignored" in caplog.text


def test_a_chunk_entry_that_disagrees_with_its_record_is_not_trusted_blindly(tmp_path):
    """A chunk entry that fails its checks is dropped and the record itself read; a chunk never
    invents a record whose key is not in the store."""
    import json

    written = _summary(_grow(LocalStore(tmp_path)))
    store = LocalStore(tmp_path)
    (chunk,) = store.list("experiments/quad/snapshots/")
    data = json.loads(store.get(chunk))
    result_key = next(k for k in data["records"] if k.endswith("/result.json"))
    data["records"][result_key]["status"] = "Bogus"
    data["records"]["experiments/quad/trials/ghost/result.json"] = dict(data["records"][next(k for k in data["records"] if k.endswith("/result.json") and k != result_key)])
    store.put(chunk, json.dumps(data).encode())
    assert _summary(ExperimentView(ExperimentRecords(store, "quad"))) == written


def test_refresh_folds_in_what_another_process_wrote(tmp_path):
    view = _grow(LocalStore(tmp_path))
    other = ExperimentView(ExperimentRecords(LocalStore(tmp_path), "quad"))
    other.record_round("run-2-t000150", {"round": "run-2-t000150", "seq": TRIALS, "created": "now", "requested": 1, "exhausted": False,
                                          "trials": [{"name": "quad-late", "index": TRIALS, "assignment": {"x": "0.9", "y": "0.1"}}], "adopted": []})
    assert view.state.by_name.get("quad-late") is None
    assert view.refresh().trial("quad-late").status == "Created"


def test_a_damaged_record_is_reported_with_its_key(tmp_path):
    view = _grow(LocalStore(tmp_path))
    key = view.records.trial_key("quad-t0149", "result")
    LocalStore(tmp_path).put(key, b'{"kind": "TrialResult", "version": 1, "trial": "quad-t0149", "status": "Succeeded", "metrics": {"loss": "high"}}')
    with pytest.raises(StoreError, match=re.escape("quad-t0149/result.json is damaged: metrics")):
        ExperimentView(ExperimentRecords(LocalStore(tmp_path), "quad")).state  # noqa: B018


def test_a_trial_whose_round_record_is_gone_is_damage_not_a_silent_gap(tmp_path):
    """Its records were parked for a round that never came: the trial was neither counted nor
    shown, nothing said so, and a run spent its budget again."""
    _grow(LocalStore(tmp_path), trials=4)
    store = LocalStore(tmp_path)
    round_key = "experiments/quad/rounds/run-1-t000001.json"
    round_data = store.get(round_key)
    store.delete([round_key])
    folder = "experiments/quad/trials/quad-t0001/"
    with pytest.raises(DamagedRecord) as info:
        ExperimentView(ExperimentRecords(store, "quad")).state  # noqa: B018
    assert info.value.key == folder and str(info.value) == (
        f"folder {folder} is damaged: trial 'quad-t0001' has records (ended.json, result.json, started.json) but no round record holds it; "
        "the round record that made it is missing from experiments/quad/rounds/ (lost, or deleted by hand): restore it from a backup, "
        "or remove the trial's folder (the trial is then forgotten; its budget is spent again only if the experiment resumes)"
    )
    reader = ExperimentView(ExperimentRecords(store, "quad"), lenient=True)
    assert [t.name for t in reader.state.trials] == ["quad-t0000", "quad-t0002", "quad-t0003"]  # the rest still shows
    assert list(reader.damaged) == [folder]  # once per trial, not once per record
    assert left_out_warning(folder, reader.damaged[folder]).startswith(f"warning: folder {folder} is damaged: trial 'quad-t0001' has records")
    store.delete([f"{folder}ended.json"])  # as a refusal naming one record at a time told: the same trial, the same folder named
    with pytest.raises(DamagedRecord, match=re.escape(f"folder {folder} is damaged: trial 'quad-t0001' has records (result.json, started.json)")):
        ExperimentView(ExperimentRecords(store, "quad")).state  # noqa: B018
    store.put(round_key, round_data)  # put back: the trial is read again, and no longer listed
    assert len(reader.refresh().trials) == 4 and reader.damaged == {}


class RoundLateStore(CountingStore):
    """A listing that is no snapshot: the experiment's first listing misses one round (its page
    was listed before another process wrote it), though its trial's records, written after it, show."""

    def __init__(self, inner: LocalStore, late: str):
        super().__init__(inner)
        self.late, self.missed = late, False

    def list(self, prefix: str) -> list[str]:
        keys = self.inner.list(prefix)
        if not self.missed and self.late in keys:
            self.missed = True
            return [k for k in keys if k != self.late]
        return keys


def test_a_round_missing_from_a_listing_taken_while_others_write_is_not_damage(tmp_path):
    """Only a record left without its round after a complete read is damage: a run whose
    listing raced another process's round must neither refuse nor lose the trial."""
    written = _summary(_grow(LocalStore(tmp_path), trials=4))
    store = RoundLateStore(LocalStore(tmp_path), "experiments/quad/rounds/run-1-t000002.json")
    assert _summary(ExperimentView(ExperimentRecords(store, "quad"))) == written
    assert store.missed


class FailingSnapshots(CountingStore):
    """The local store, refusing the first three snapshot chunks (a store blip)."""

    def __init__(self, inner: LocalStore):
        super().__init__(inner)
        self.refused = 0

    def create(self, key: str, data: bytes) -> bool:
        if "/snapshots/" in key and self.refused < 3:
            self.refused += 1
            raise StoreError(f"create {key}: connection reset")
        return self.inner.create(key, data)


def test_a_chunk_that_fails_to_write_does_not_stop_the_writes_and_is_written_later(tmp_path, caplog):
    """A chunk is best effort: the write that triggered it goes on, with a warning, and the chunk
    is written at a later record."""
    store = FailingSnapshots(LocalStore(tmp_path))
    with caplog.at_level(logging.WARNING):
        _grow(store)
    assert store.refused == 3 and "not written" in caplog.text
    assert len(store.inner.list("experiments/quad/snapshots/")) == 1
    assert len(ExperimentView(ExperimentRecords(LocalStore(tmp_path), "quad")).state.trials) == TRIALS
