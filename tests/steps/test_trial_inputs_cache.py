"""Where a trial's input from a store that is not a folder here (S3, a plug-in's) is kept on its
machine: a cache of this user's own (``kfp-tune-inputs-<uid>`` in the temporary folder, 0700,
its copies 0600) that another local user can neither read nor plant files in. A cache folder
that fails the check (another user's, a link, open to others) is never used: the input is
fetched into a private folder of the process instead, with one warning naming the folder and
why. The other user is played by chown (as root) or by the folder's mode."""

from __future__ import annotations

import atexit
import logging
import os
import stat
import tempfile
from pathlib import Path

import pytest
from memory_store import MemoryStore

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.steps.trial_artifacts import file_input, input_path, record_run_inputs, stage_input
from kfp_tune.stores import open_store, register_scheme

OTHER_UID = 65534
"""nobody: the other user of the machine."""
LOGGER = "kfp_tune.steps.trial_artifacts"


class CountingMemoryStore(MemoryStore):
    """A store that is not a folder here, which counts the reads of each input file."""

    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self.reads: dict[str, int] = {}

    def get(self, key: str) -> bytes | None:
        if "/inputs/sha256-" in key and not key.endswith(".json"):
            self.reads[key] = self.reads.get(key, 0) + 1
        return super().get(key)


class Place:
    """A staged dataset (a folder of one file) of experiment ``exp`` in a memory store, two
    trials to read it, and a shared temporary folder (mode 1777, as /tmp) standing in for the
    machine's."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, single: bool = False) -> None:
        self.opened: dict[str, CountingMemoryStore] = {}
        register_scheme("memcount", lambda uri: self.opened.setdefault(uri, CountingMemoryStore(uri)))
        self.uri = "memcount://team"
        self.monkeypatch = monkeypatch
        records = ExperimentRecords(open_store(self.uri), "exp")
        if single:
            self.data = tmp_path / "train.csv"
            self.data.write_bytes(b"label,x\n1,0.5\n")
        else:
            self.data = tmp_path / "data"
            self.data.mkdir()
            (self.data / "train.csv").write_bytes(b"label,x\n1,0.5\n")
        brought = file_input("dataset", self.data)
        stage_input(records, brought)
        record_run_inputs(records, "run-1", [brought])
        experiment = load_experiment(quadratic_experiment(**{"metadata.name": "exp"}))
        self.trials = steps.suggest(records, "run-1-r000", 1, experiment, run_id="run-1", n=2)
        steps.close_run(records, "run-1")
        self.digest = brought.digest
        self.tmp = tmp_path / "tmp"
        self.tmp.mkdir()
        os.chmod(self.tmp, 0o1777)
        monkeypatch.setattr(tempfile, "tempdir", str(self.tmp))
        self.cache = self.tmp / f"kfp-tune-inputs-{os.getuid()}"
        self.planted_at = self.cache / "exp" / self.digest / "dataset"

    def as_trial(self, which: int) -> None:
        for name, value in (("KFP_TUNE_STORE", self.uri), ("KFP_TUNE_EXPERIMENT", "exp"), ("KFP_TUNE_TRIAL", self.trials[which])):
            self.monkeypatch.setenv(name, value)

    def reads(self) -> int:
        return sum(self.opened[self.uri].reads.values())

    def level(self, name: str) -> Path:
        """A folder the cache keeps the input in, by its level."""
        return {"cache": self.cache, "experiment": self.cache / "exp", "digest": self.planted_at.parent, "input": self.planted_at}[name]

    def plant(self, top: Path) -> None:
        """The other user's dataset, where the cache would keep this one: the levels above
        ``top`` private, ``top`` and those below it open to everyone."""
        private_folders(self.planted_at)
        (self.planted_at / "train.csv").write_bytes(b"label,x\n0,POISONED\n")
        for folder in [top, *(p for p in top.rglob("*") if p.is_dir())]:
            os.chmod(folder, 0o777)


def private_folders(path: Path) -> None:
    """``path`` and the folders above it up to the temporary folder made, each 0700."""
    for folder in reversed([path, *path.parents]):
        if folder.is_relative_to(Path(tempfile.gettempdir())) and folder != Path(tempfile.gettempdir()):
            folder.mkdir(mode=0o700, exist_ok=True)
            os.chmod(folder, 0o700)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]


def test_the_cache_is_the_user_s_own_folder_and_its_copies_are_private(tmp_path, monkeypatch, clean_plugin_registries, caplog):
    """Under umask 022 the copies used to be 0644 in 0755 folders of a shared ``kfp-tune-inputs``:
    every user of the machine could read the dataset. A second trial still reads the first's copy."""
    before = os.umask(0o022)
    try:
        place = Place(tmp_path, monkeypatch)
        place.as_trial(0)
        first = input_path()
    finally:
        os.umask(before)
    assert first == place.cache / "exp" / place.digest / "dataset"
    assert (first / "train.csv").read_bytes() == (place.data / "train.csv").read_bytes()
    for level in (place.cache, place.cache / "exp", first.parent, first):
        assert level.stat().st_uid == os.getuid() and mode(level) == 0o700, level
    assert mode(first / "train.csv") == 0o600
    assert place.reads() == 1
    place.as_trial(1)
    assert input_path() == first and place.reads() == 1
    assert warnings(caplog) == []
    assert [p.name for p in first.parent.iterdir()] == ["dataset"]  # nothing left aside


@pytest.mark.skipif(os.getuid() != 0, reason="plays the other user with chown, which needs root")
def test_a_cache_folder_another_user_made_first_is_never_used(tmp_path, monkeypatch, clean_plugin_registries, caplog):
    """The finding: another user makes the cache's folder before this one does and plants a
    dataset in it; the trial used to read the planted files without a word."""
    place = Place(tmp_path, monkeypatch)
    place.plant(place.cache)
    for path in [place.cache, *place.cache.rglob("*")]:
        os.chown(path, OTHER_UID, OTHER_UID)
    os.chmod(place.cache, 0o700)  # nothing here tells it apart but its owner
    place.as_trial(0)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        got = input_path()
        place.as_trial(1)
        again = input_path()
    assert (got / "train.csv").read_bytes() == (place.data / "train.csv").read_bytes()
    assert not got.is_relative_to(place.cache) and again == got
    assert got.stat().st_uid == os.getuid() and mode(got) == 0o700 and mode(got / "train.csv") == 0o600
    [warning] = warnings(caplog)
    assert str(place.cache) in warning and f"belongs to user {OTHER_UID}" in warning and str(got.parents[2]) in warning
    assert place.reads() == 1  # the private copy serves this process's later calls


@pytest.mark.parametrize("level", ["cache", "experiment", "digest", "input"])
def test_a_cache_folder_open_to_other_users_is_never_used(level, tmp_path, monkeypatch, clean_plugin_registries, caplog):
    """A folder of this user's at any level the cache makes, but writable by others (as an
    older shared cache was): someone may have planted files below it."""
    place = Place(tmp_path, monkeypatch)
    top = place.level(level)
    place.plant(top)
    place.as_trial(0)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        got = input_path()
    assert (got / "train.csv").read_bytes() == (place.data / "train.csv").read_bytes()
    assert not got.is_relative_to(place.cache)
    [warning] = warnings(caplog)
    assert f"{top} " in warning and "0o777" in warning


@pytest.mark.parametrize("level", ["cache", "experiment", "digest", "input"])
def test_a_link_at_any_level_of_the_cache_is_not_followed(level, tmp_path, monkeypatch, clean_plugin_registries, caplog):
    """A link planted where the cache keeps a folder, to a folder of this user's own that holds
    other files: it is never followed, so neither read from nor written through."""
    place = Place(tmp_path, monkeypatch)
    at = place.level(level)
    elsewhere = tmp_path / "elsewhere"
    below = elsewhere / place.planted_at.relative_to(at)  # what the cache would hold below the link
    below.mkdir(parents=True)
    (below / "train.csv").write_bytes(b"label,x\n0,POISONED\n")
    for folder in [elsewhere, *(p for p in elsewhere.rglob("*") if p.is_dir())]:
        os.chmod(folder, 0o700)
    private_folders(at.parent)
    at.symlink_to(elsewhere, target_is_directory=True)
    before = sorted(str(p) for p in elsewhere.rglob("*"))
    place.as_trial(0)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        got = input_path()
    assert (got / "train.csv").read_bytes() == (place.data / "train.csv").read_bytes()
    assert not got.is_relative_to(place.cache) and not got.resolve().is_relative_to(elsewhere.resolve())
    assert sorted(str(p) for p in elsewhere.rglob("*")) == before  # nothing written through the link
    [warning] = warnings(caplog)
    assert f"{at} " in warning and "link" in warning


def test_a_file_input_is_private_too(tmp_path, monkeypatch, clean_plugin_registries):
    place = Place(tmp_path, monkeypatch, single=True)
    place.as_trial(0)
    got = input_path()
    assert got == place.planted_at / "train.csv" and got.read_bytes() == place.data.read_bytes()
    assert mode(got) == 0o600 and mode(got.parent) == 0o700


def test_two_trials_racing_to_fetch_each_get_a_whole_copy(tmp_path, monkeypatch, clean_plugin_registries):
    """A trial whose fetch is overtaken by another trial's (here: the other fetches whole while
    this one is between its reads) reads the copy moved in first, whole, and leaves nothing aside."""
    place = Place(tmp_path, monkeypatch)
    (place.data / "more.csv").write_bytes(b"2,0.25\n")
    records = ExperimentRecords(open_store(place.uri), "other")
    brought = file_input("dataset", place.data)
    stage_input(records, brought)
    record_run_inputs(records, "run-2", [brought])
    experiment = load_experiment(quadratic_experiment(**{"metadata.name": "other"}))
    first, second = steps.suggest(records, "run-2-r000", 1, experiment, run_id="run-2", n=2)
    steps.close_run(records, "run-2")
    store = place.opened[place.uri]
    overtaken: list[Path] = []
    plain_get = store.get

    def get(key: str) -> bytes | None:
        if key.endswith("/more.csv") and not overtaken:  # the first trial, part-way: the second fetches whole
            overtaken.append(Path())
            monkeypatch.setenv("KFP_TUNE_TRIAL", second)
            overtaken[0] = input_path()
            monkeypatch.setenv("KFP_TUNE_TRIAL", first)
        return plain_get(key)

    monkeypatch.setattr(store, "get", get)
    for name, value in (("KFP_TUNE_STORE", place.uri), ("KFP_TUNE_EXPERIMENT", "other"), ("KFP_TUNE_TRIAL", first)):
        monkeypatch.setenv(name, value)
    got = input_path()
    assert got == overtaken[0] == place.cache / "other" / brought.digest / "dataset"
    assert {p.name: p.read_bytes() for p in got.iterdir()} == {p.name: p.read_bytes() for p in place.data.iterdir()}
    assert [p.name for p in got.parent.iterdir()] == ["dataset"]


def test_the_process_s_own_copy_goes_when_the_process_ends(tmp_path, monkeypatch, clean_plugin_registries):
    """The copy a trial fetched past a cache folder that failed the check is its own: removed at
    its exit, where a cache's copy stays for the next trial; the refused folder is left alone."""
    place = Place(tmp_path, monkeypatch)
    place.plant(place.cache)
    at_exit: list[tuple[object, tuple[object, ...], dict[str, object]]] = []
    monkeypatch.setattr(atexit, "register", lambda call, *args, **kwargs: at_exit.append((call, args, kwargs)))
    place.as_trial(0)
    own = input_path().parents[2]
    assert own.name.startswith("kfp-tune-input-copy-") and own.parent == place.tmp and mode(own) == 0o700
    assert len(at_exit) == 1
    for call, args, kwargs in at_exit:
        call(*args, **kwargs)  # type: ignore[operator]
    assert not own.exists() and (place.planted_at / "train.csv").read_bytes() == b"label,x\n0,POISONED\n"
