"""How a tuning step's dataset reaches its trials and a trial's model comes back: staged in the
store once per content, bound to the experiment by the first run that stages it, read by a trial
where it runs (a folder store in place, an S3 store fetched once); a later run that brings other
data is refused while the experiment has trials measured on the old."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

import pytest
from memory_store import MemoryStore

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.errors import ExperimentConflict, StoreError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.steps.trial_artifacts import (
    TRIAL_MODEL,
    ArtifactError,
    bind_inputs,
    fetch_model,
    file_input,
    input_path,
    inputs_to_bind,
    keep_model,
    model_files,
    model_key,
    record_run_inputs,
    save_model,
    stage_input,
    tuned_inputs,
    value_input,
)
from kfp_tune.stores import LocalStore, open_store, register_scheme


def inside_trial(monkeypatch: pytest.MonkeyPatch, store_uri: str, experiment: str, trial: str) -> None:
    """The env the launcher gives a trial."""
    monkeypatch.setenv("KFP_TUNE_STORE", store_uri)
    monkeypatch.setenv("KFP_TUNE_EXPERIMENT", experiment)
    monkeypatch.setenv("KFP_TUNE_TRIAL", trial)


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def brings(records: ExperimentRecords, run: str, path: Path, uri: str = "") -> list[str]:
    """What stage-inputs does for run ``run``: the dataset stored, and recorded for the run."""
    brought = file_input("dataset", path, uri)
    files = stage_input(records, brought)
    record_run_inputs(records, run, [brought])
    return files


def starts(records: ExperimentRecords, run: str, trials: int = 0) -> list[str]:
    """What suggest does for run ``run``: claim, create or resume, bind the run's inputs; then
    ``trials`` new trials."""
    experiment = load_experiment(quadratic_experiment(**{"metadata.name": records.experiment}))
    names = steps.suggest(records, f"{run}-r000", 1, experiment, run_id=run, n=trials)
    steps.close_run(records, run)
    return names


def test_an_input_is_stored_once_per_content_and_each_trial_reads_the_experiment_s(tmp_path, monkeypatch):
    store = LocalStore(tmp_path / "store")
    records = ExperimentRecords(store, "exp")
    folder = tmp_path / "tuesday"
    (folder / "parts").mkdir(parents=True)
    (folder / "parts" / "p0.csv").write_bytes(b"x\n3\n")
    (folder / "README").write_bytes(b"two parts")
    copy = tmp_path / "tuesday-again"
    copy.mkdir()
    (copy / "parts").mkdir()
    (copy / "parts" / "p0.csv").write_bytes(b"x\n3\n")
    (copy / "README").write_bytes(b"two parts")

    assert brings(records, "run-1", folder, "minio://bucket/tuesday") == ["README", "parts/p0.csv"]
    [trial] = starts(records, "run-1", trials=1)
    assert brings(records, "run-2", copy) == ["README", "parts/p0.csv"]  # the same content, from elsewhere
    starts(records, "run-2")
    staged = [p for p in (tmp_path / "store" / "artifacts" / "exp" / "inputs").rglob("p0.csv")]
    assert len(staged) == 1  # stored once, however many runs staged it
    assert list(tuned_inputs(records)) == ["dataset"] and tuned_inputs(records)["dataset"]["uri"] == "minio://bucket/tuesday"

    inside_trial(monkeypatch, str(store.root), "exp", trial)
    path = input_path("dataset")
    assert path.is_dir() and tree(path) == tree(folder)
    # a single file comes back as that file, and differs from a folder holding it
    single = tmp_path / "monday.csv"
    single.write_bytes(b"a,b\n1,2\n")
    holder = tmp_path / "holder"
    holder.mkdir()
    (holder / "monday.csv").write_bytes(single.read_bytes())
    assert file_input("dataset", single).digest != file_input("dataset", holder).digest
    other = ExperimentRecords(store, "other")
    brings(other, "run-3", single)
    [first] = starts(other, "run-3", trials=1)
    inside_trial(monkeypatch, str(store.root), "other", first)
    assert input_path().is_file() and input_path().read_bytes() == single.read_bytes()


def test_a_run_that_brings_other_data_is_refused_once_a_trial_was_measured_on_the_old(tmp_path):
    """QA pipe1.py: run on target 1.5, then on target 4.0 with the same experiment_name handed
    on the old best, measured on 1.5, without running a trial. Until a trial exists the data may
    still change (the first run failed before any)."""
    records = ExperimentRecords(LocalStore(tmp_path / "store"), "quad-a")
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps({"target": 1.5}))
    new.write_text(json.dumps({"target": 4.0}))

    brings(records, "run-1", new)
    starts(records, "run-1")  # no trial yet
    brings(records, "run-2", old, "minio://runs/2/data")
    starts(records, "run-2", trials=2)  # the run's data replaces the first's: nothing was measured on it
    assert tuned_inputs(records)["dataset"]["digest"] == file_input("dataset", old).digest

    newer = file_input("dataset", new, "minio://runs/3/data")
    with pytest.raises(ExperimentConflict) as refused:
        inputs_to_bind(records, {"dataset": newer.entry()})
    message = str(refused.value)
    assert message.startswith("experiment 'quad-a' was tuned on other inputs: its 2 trial(s) read 'dataset' sha256-")
    assert "(from minio://runs/2/data)" in message and "(from minio://runs/3/data)" in message
    assert "fresh_experiment=True" in message and "another experiment_name" in message
    # suggest refuses it too, under the claim, and gives the claim back
    brings(records, "run-3", new)
    with pytest.raises(ExperimentConflict, match="was tuned on other inputs"):
        starts(records, "run-3", trials=1)
    assert tuned_inputs(records)["dataset"]["digest"] == file_input("dataset", old).digest
    assert starts(records, "run-4") == []  # a run that brings nothing resumes on the experiment's data
    brings(records, "run-5", old)
    assert starts(records, "run-5", trials=1)  # the same data resumes (with the trials the others left)


def test_an_experiment_whose_trials_ran_with_no_inputs_recorded_takes_the_first_it_is_given(tmp_path, caplog):
    """Its trials ran under ``kfp-tune run`` or an earlier version: what they read is unknown, so
    the first inputs a run brings are bound, with a warning, and any later change is refused."""
    records = ExperimentRecords(LocalStore(tmp_path / "store"), "quad")
    starts(records, "run-1", trials=1)
    data, other = tmp_path / "data.csv", tmp_path / "other.csv"
    data.write_bytes(b"1\n")
    other.write_bytes(b"2\n")
    brings(records, "run-2", data)
    with caplog.at_level("WARNING", logger="kfp_tune.steps.trial_artifacts"):
        bind_inputs(records, "run-2")
    assert "experiment quad: its 1 trial(s) ran with no inputs recorded; it is tuned on 'dataset' sha256-" in caplog.text
    assert tuned_inputs(records)["dataset"]["digest"] == file_input("dataset", data).digest
    brings(records, "run-3", other)
    with pytest.raises(ExperimentConflict, match=r"its 1 trial\(s\) read 'dataset' sha256-"):
        bind_inputs(records, "run-3")


def test_a_trial_of_an_experiment_that_staged_nothing_is_told_so(tmp_path, monkeypatch):
    store = LocalStore(tmp_path / "store")
    records = ExperimentRecords(store, "exp")
    [trial] = starts(records, "run-1", trials=1)
    inside_trial(monkeypatch, str(store.root), "exp", trial)
    with pytest.raises(ArtifactError, match=rf"experiment 'exp' \(trial '{trial}'\) has no staged input 'dataset'"):
        input_path("dataset")


def test_outside_a_trial_the_helpers_say_what_is_missing(monkeypatch, tmp_path):
    for name in ("KFP_TUNE_STORE", "KFP_TUNE_EXPERIMENT", "KFP_TUNE_TRIAL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ArtifactError, match="save_model: KFP_TUNE_STORE, KFP_TUNE_EXPERIMENT, KFP_TUNE_TRIAL not set"):
        save_model(tmp_path)
    with pytest.raises(ArtifactError, match="input_path: KFP_TUNE_STORE"):
        input_path()


def test_in_a_function_trial_run_in_process_the_helpers_say_it_has_no_artifact_store(monkeypatch, tmp_path):
    """save_model in a kfp_tune.tune() trial said 'KFP_TUNE_STORE, KFP_TUNE_EXPERIMENT,
    KFP_TUNE_TRIAL not set: call it from a trial that kfp-tune launched', but tune() launched it:
    such a trial has no store of its own for a model or an input, whatever the env names."""
    import warnings

    from kfp_tune import search, tune

    model = tmp_path / "model.txt"
    model.write_text("weights")
    inside_trial(monkeypatch, str(tmp_path / "elsewhere"), "other", "other-t1")  # some other trial's variables: not this one's place

    def objective(params):
        if params["which"] == "save_model":
            save_model(model)
        else:
            input_path()
        return 1.0

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # none succeeded: tune() warns so
        result = tune(objective, {"which": search.categorical(["save_model", "input_path"])}, algorithm="grid", store=str(tmp_path / "store"), name="fn")
    for trial in result.trials:
        assert trial.status == "Failed"
        assert f"ArtifactError: {trial.parameters['which']}: a function's trial that kfp_tune.tune() runs in this process has no artifact store" in trial.message
        assert "save_model and input_path are for the trials kfp-tune launches as processes of their own" in trial.message
    assert len(result.trials) == 2 and not (tmp_path / "elsewhere").exists()


def test_a_thread_that_a_function_trial_starts_never_acts_on_the_trial_the_environment_names(monkeypatch, tmp_path):
    """A thread a kfp_tune.tune() trial starts does not inherit its trial (a ContextVar): the
    helpers read KFP_TUNE_* instead, set here as an outer trial's, and save_model overwrote
    that trial's model, report_metrics added to its reports. While function trials run in this
    process, a thread with no trial is refused, whichever way it was started."""
    import threading
    import warnings
    from concurrent.futures import ThreadPoolExecutor

    from kfp_tune import Client, report_metrics, search, tune

    model = tmp_path / "model.txt"
    model.write_text("weights")
    inside_trial(monkeypatch, str(tmp_path / "elsewhere"), "other", "other-t1")
    helpers = {"save_model": lambda: save_model(model), "input_path": input_path, "report_metrics": lambda: report_metrics({"objective": 0.25})}

    def objective(params):
        errors = []

        def work():
            try:
                helpers[params["helper"]]()
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")

        if params["start"] == "thread":
            thread = threading.Thread(target=work)
            thread.start()
            thread.join()
        else:
            with ThreadPoolExecutor(1) as pool:
                pool.submit(work).result()
        print("\n".join(errors))
        return 1.0

    space = {"helper": search.categorical(list(helpers)), "start": search.categorical(["thread", "pool"])}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = tune(objective, space, algorithm="grid", store=str(tmp_path / "store"), name="fn")
    assert len(result.trials) == 6 and not (tmp_path / "elsewhere").exists()
    logs = Client(str(tmp_path / "store"))
    for trial in result.trials:
        printed = logs.get_trial_logs(("fn", trial.name))
        helper = trial.parameters["helper"]
        assert f"{helper}: this thread runs no trial while kfp_tune.tune() runs function trials in this process" in printed, printed
        assert "the KFP_TUNE_* variables, which may name some other trial, are not used then" in printed
        if helper == "report_metrics":
            assert "call it from the trial function's own thread, or start the thread's work in a copy of the trial's context" in printed
        else:
            assert "has no artifact store to keep a model in or read a staged input from" in printed


def test_a_thread_started_in_a_copy_of_the_trials_context_reports_as_the_trial(monkeypatch, tmp_path):
    """What report_metrics' refusal advises works: a thread (or a pool's task) run in
    contextvars.copy_context(), made in the trial's thread, reports to that trial."""
    import contextvars
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from kfp_tune import report_metrics, search, tune

    inside_trial(monkeypatch, str(tmp_path / "elsewhere"), "other", "other-t1")

    def objective(params):
        work = lambda: report_metrics({"objective": params["x"] / 2})  # noqa: E731
        if params["start"] == "thread":
            thread = threading.Thread(target=contextvars.copy_context().run, args=(work,))
            thread.start()
            thread.join()
        else:
            with ThreadPoolExecutor(1) as pool:
                pool.submit(contextvars.copy_context().run, work).result()

    result = tune(objective, {"x": search.discrete([1, 3]), "start": search.categorical(["thread", "pool"])}, algorithm="grid",
                  store=str(tmp_path / "store"), name="fn")
    assert sorted((t.status, t.parameters["start"], t.metrics["objective"]) for t in result.trials) == [
        ("Succeeded", "pool", 0.5), ("Succeeded", "pool", 1.5), ("Succeeded", "thread", 0.5), ("Succeeded", "thread", 1.5)]
    assert not (tmp_path / "elsewhere").exists()


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


def test_a_model_kept_for_a_trial_comes_back_with_its_nested_folders(tmp_path):
    """keep_model (a component trial's task) and fetch_model with a file two folders down: each
    folder on the way is made when it is fetched."""
    records = ExperimentRecords(LocalStore(tmp_path / "store"), "exp")
    model = tmp_path / "model"
    (model / "a" / "b").mkdir(parents=True)
    (model / "a" / "b" / "c.txt").write_text("deep")
    (model / "top.txt").write_text("top")
    assert keep_model(records, "exp-t1", model) == ["a/b/c.txt", "top.txt"]
    assert fetch_model(records, "exp-t1", tmp_path / "out") == ["a/b/c.txt", "top.txt"]
    assert tree(tmp_path / "out") == {"a/b/c.txt": b"deep", "top.txt": b"top"}


def test_a_damaged_model_manifest_is_named(tmp_path):
    """A manifest whose 'files' is one name, not a list of them, would be read letter by letter."""
    records = ExperimentRecords(LocalStore(tmp_path / "store"), "exp")
    manifest = model_key(records, "exp-t1")
    records.write(manifest, TRIAL_MODEL, {"files": "model.pkl", "single": True, "trial": "exp-t1"})
    expected = rf"{manifest} is damaged: expected a list of file names in 'files' and a boolean 'single'"
    with pytest.raises(ArtifactError, match=expected):
        model_files(records, "exp-t1")
    with pytest.raises(ArtifactError, match=expected):
        fetch_model(records, "exp-t1", tmp_path / "out")


@pytest.mark.parametrize("name", ["a/b", "..", ".", ""])
def test_a_name_that_is_not_one_part_of_a_key_cannot_name_an_artifact(tmp_path, name):
    """A trial's or an input's name is one part of a store key: one with '/' or '..' would put
    its files elsewhere in the store."""
    (tmp_path / "data.csv").write_text("x\n")
    with pytest.raises(ArtifactError, match=rf"^{re.escape(repr(name))} cannot name an artifact in the store$"):
        model_key(ExperimentRecords(LocalStore(tmp_path / "store"), "exp"), name)
    with pytest.raises(ArtifactError, match=rf"^{re.escape(repr(name))} cannot name an artifact in the store$"):
        file_input(name, tmp_path / "data.csv")


def test_a_values_digest_does_not_depend_on_the_order_of_its_keys():
    """A component trial's settings given as a dict in another order are the same input, not
    other data that would refuse the experiment's resumption."""
    assert value_input("settings", {"a": 1, "b": [2, 3]}).digest == value_input("settings", {"b": [2, 3], "a": 1}).digest
    assert value_input("settings", {"a": 1}).digest != value_input("settings", {"a": 2}).digest


def test_inputs_bound_before_the_experiment_is_created_may_still_change(tmp_path):
    """A first run that bound its dataset and failed before it created the experiment: no trial
    was measured on it, so a run with other data binds those."""
    records = ExperimentRecords(LocalStore(tmp_path / "store"), "exp")
    (tmp_path / "old.csv").write_text("1\n")
    (tmp_path / "new.csv").write_text("2\n")
    brings(records, "run-1", tmp_path / "old.csv")
    bind_inputs(records, "run-1")
    assert records.read(records.experiment_key(), "Experiment") is None  # no experiment yet
    brings(records, "run-2", tmp_path / "new.csv")
    bind_inputs(records, "run-2")
    assert tuned_inputs(records)["dataset"]["digest"] == file_input("dataset", tmp_path / "new.csv").digest


def test_a_model_path_that_is_neither_a_file_nor_a_folder_is_named(tmp_path, monkeypatch):
    store = LocalStore(tmp_path / "store")
    inside_trial(monkeypatch, str(store.root), "exp", "exp-t1")
    missing = tmp_path / "model.pt"
    with pytest.raises(ArtifactError, match=rf"{str(missing)!r} is neither a file nor a folder"):
        save_model(missing)
    assert model_files(ExperimentRecords(store, "exp"), "exp-t1") is None


@pytest.mark.s3
def test_from_an_s3_store_the_input_is_fetched_once_per_content(tmp_path, monkeypatch, s3_env, s3_bucket):
    from kfp_tune.stores import open_store

    uri = f"s3://{s3_bucket}/tuning"
    records = ExperimentRecords(open_store(uri), "exp")
    dataset = tmp_path / "data"
    dataset.mkdir()
    (dataset / "train.csv").write_bytes(b"1,2,3\n")
    brings(records, "run-1", dataset)
    first_trial, second_trial = starts(records, "run-1", trials=2)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    inside_trial(monkeypatch, uri, "exp", first_trial)
    first = input_path()
    assert first.is_relative_to(tmp_path / "tmp") and tree(first) == tree(dataset)
    (first / "train.csv").write_bytes(b"changed here")  # a second trial here reads this copy, not the store's
    inside_trial(monkeypatch, uri, "exp", second_trial)
    assert input_path() == first and (first / "train.csv").read_bytes() == b"changed here"


@pytest.mark.parametrize("kind", ["local", pytest.param("s3", marks=pytest.mark.s3)])
def test_an_empty_folder_reaches_each_trial_as_an_empty_folder_from_either_store(kind, tmp_path, monkeypatch, request):
    """An upstream Dataset that is an empty folder (kfp.local hands a component the folder the
    upstream made) stages no file; a trial finds an existing empty folder, not a missing path,
    whether the store is a folder or S3, and an empty file still comes back as a file."""
    from kfp_tune.stores import open_store

    if kind == "local":
        uri = str(tmp_path / "store")
    else:
        request.getfixturevalue("s3_env")
        uri = f"s3://{request.getfixturevalue('s3_bucket')}/tuning"
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    records = ExperimentRecords(open_store(uri), "exp")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert brings(records, "run-1", empty) == []
    first_trial, second_trial = starts(records, "run-1", trials=2)
    inside_trial(monkeypatch, uri, "exp", first_trial)
    path = input_path("dataset")
    assert path.is_dir() and os.listdir(path) == []
    inside_trial(monkeypatch, uri, "exp", second_trial)
    assert input_path("dataset") == path and path.is_dir() and os.listdir(path) == []

    blank = tmp_path / "blank.csv"
    blank.write_bytes(b"")
    assert file_input("dataset", blank).digest != file_input("dataset", empty).digest
    other = ExperimentRecords(records.store, "other")
    assert brings(other, "run-2", blank) == ["blank.csv"]
    [trial] = starts(other, "run-2", trials=1)
    inside_trial(monkeypatch, uri, "other", trial)
    assert input_path().is_file() and input_path().name == "blank.csv" and input_path().read_bytes() == b""


class FailingMemoryStore(MemoryStore):
    """A store that is not a folder here (as S3 or a plug-in's), whose reads of the keys in
    ``failing`` fail part-way through a fetch."""

    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self.failing: set[str] = set()

    def get(self, key: str) -> bytes | None:
        if key in self.failing:
            raise StoreError(f"read of {key} failed: connection reset")
        return super().get(key)


@pytest.mark.parametrize("fault", ["file missing", "store error"])
def test_a_fetch_that_fails_part_way_leaves_no_partial_copy_in_the_temporary_folder(fault, tmp_path, monkeypatch, clean_plugin_registries):
    """From a store that is not a local folder the input is fetched into a hidden folder beside
    its place; when a file is missing from the store or the store fails part-way, that folder
    goes (each failed trial used to leave its partial copy in /tmp), and the error is raised."""
    opened: dict[str, FailingMemoryStore] = {}
    register_scheme("memfail", lambda uri: opened.setdefault(uri, FailingMemoryStore(uri)))
    uri = "memfail://team"
    records = ExperimentRecords(open_store(uri), "exp")
    dataset = tmp_path / "data"
    dataset.mkdir()
    (dataset / "a.csv").write_bytes(b"x" * 100_000)
    (dataset / "b.csv").write_bytes(b"y" * 10)
    brings(records, "run-1", dataset)
    [trial] = starts(records, "run-1", trials=1)
    store = opened[uri]
    [lost] = [key for key in store.objects if key.endswith("/b.csv")]
    if fault == "file missing":
        del store.objects[lost]
        expected = ArtifactError
    else:
        store.failing = {lost}
        expected = StoreError
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    inside_trial(monkeypatch, uri, "exp", trial)
    for _ in range(2):
        with pytest.raises(expected, match=r"b\.csv"):
            input_path()
    assert [p.name for p in (tmp_path / "tmp").rglob(".dataset-*")] == []
    assert [p for p in (tmp_path / "tmp").rglob("*") if not p.is_dir()] == []
