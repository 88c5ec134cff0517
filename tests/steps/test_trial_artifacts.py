"""How a tuning step's dataset reaches its trials and a trial's model comes back: staged in the
store by the step, read by the trial where it runs (a folder store in place, an S3 store fetched
once), each run's trials reading what their own run staged."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from kfp_tune.core.records import ExperimentRecords, TrialStarted
from kfp_tune.steps.trial_artifacts import ArtifactError, fetch_model, input_path, model_files, save_model, stage_input
from kfp_tune.stores import LocalStore


def started(records: ExperimentRecords, trial: str, run: str) -> None:
    """The record launch-trial writes before it starts a trial: which run started it."""
    records.create_typed(records.trial_key(trial, "started"), TrialStarted(trial=trial, time="", at=0.0, run=run, attempt="a1"))


def inside_trial(monkeypatch: pytest.MonkeyPatch, store_uri: str, experiment: str, trial: str) -> None:
    """The env the launcher gives a trial."""
    monkeypatch.setenv("KFP_TUNE_STORE", store_uri)
    monkeypatch.setenv("KFP_TUNE_EXPERIMENT", experiment)
    monkeypatch.setenv("KFP_TUNE_TRIAL", trial)


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_each_run_s_trials_read_the_dataset_their_run_staged(tmp_path, monkeypatch):
    store = LocalStore(tmp_path / "store")
    records = ExperimentRecords(store, "exp")
    first, second = tmp_path / "monday.csv", tmp_path / "tuesday"
    first.write_bytes(b"a,b\n1,2\n")
    (second / "parts").mkdir(parents=True)
    (second / "parts" / "p0.csv").write_bytes(b"x\n3\n")
    (second / "README").write_bytes(b"two parts")
    assert stage_input(records, "run-mon", "dataset", first, "minio://bucket/monday.csv") == ["monday.csv"]
    assert stage_input(records, "run-tue", "dataset", second) == ["README", "parts/p0.csv"]
    started(records, "exp-t1", "run-mon")
    started(records, "exp-t2", "run-tue")

    inside_trial(monkeypatch, str(store.root), "exp", "exp-t1")
    path = input_path("dataset")
    assert path.is_file() and path.name == "monday.csv" and path.read_bytes() == first.read_bytes()
    inside_trial(monkeypatch, str(store.root), "exp", "exp-t2")
    path = input_path()
    assert path.is_dir() and tree(path) == tree(second)


def test_a_trial_of_a_run_that_staged_nothing_is_told_so(tmp_path, monkeypatch):
    store = LocalStore(tmp_path / "store")
    records = ExperimentRecords(store, "exp")
    started(records, "exp-t1", "run-1")
    inside_trial(monkeypatch, str(store.root), "exp", "exp-t1")
    with pytest.raises(ArtifactError, match=r"experiment 'exp' that started trial 'exp-t1' staged no input 'dataset'"):
        input_path("dataset")


def test_outside_a_trial_the_helpers_say_what_is_missing(monkeypatch, tmp_path):
    for name in ("KFP_TUNE_STORE", "KFP_TUNE_EXPERIMENT", "KFP_TUNE_TRIAL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ArtifactError, match="save_model: KFP_TUNE_STORE, KFP_TUNE_EXPERIMENT, KFP_TUNE_TRIAL not set"):
        save_model(tmp_path)
    with pytest.raises(ArtifactError, match="input_path: KFP_TUNE_STORE"):
        input_path()


def test_a_saved_model_comes_back_file_for_file(tmp_path, monkeypatch):
    store = LocalStore(tmp_path / "store")
    records = ExperimentRecords(store, "exp")
    model = tmp_path / "model"
    (model / "assets").mkdir(parents=True)
    (model / "assets" / "vocab.txt").write_bytes(b"a\nb\n")
    (model / "weights.bin").write_bytes(bytes(range(256)) * 8)
    inside_trial(monkeypatch, str(store.root), "exp", "exp-t1")
    assert save_model(model) == ["assets/vocab.txt", "weights.bin"]
    assert model_files(records, "exp-t1") == ["assets/vocab.txt", "weights.bin"]
    assert model_files(records, "exp-t2") is None
    assert fetch_model(records, "exp-t1", tmp_path / "out") == ["assets/vocab.txt", "weights.bin"]
    assert tree(tmp_path / "out") == tree(model)
    # no key of a model or an input lands among the experiment's records, which every step lists
    assert not store.list("experiments/")


@pytest.mark.s3
def test_from_an_s3_store_the_input_is_fetched_once_per_run(tmp_path, monkeypatch, s3_env, s3_bucket):
    from kfp_tune.stores import open_store

    uri = f"s3://{s3_bucket}/tuning"
    records = ExperimentRecords(open_store(uri), "exp")
    dataset = tmp_path / "data"
    dataset.mkdir()
    (dataset / "train.csv").write_bytes(b"1,2,3\n")
    stage_input(records, "run-1", "dataset", dataset)
    started(records, "exp-t1", "run-1")
    started(records, "exp-t2", "run-1")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    inside_trial(monkeypatch, uri, "exp", "exp-t1")
    first = input_path()
    assert first.is_relative_to(tmp_path / "tmp") and tree(first) == tree(dataset)
    (first / "train.csv").write_bytes(b"changed here")  # a second trial of the run reads this copy, not the store's
    inside_trial(monkeypatch, uri, "exp", "exp-t2")
    assert input_path() == first and (first / "train.csv").read_bytes() == b"changed here"
