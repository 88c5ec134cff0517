"""Artifacts that cross between a user's pipeline and the trials of a tuning step
(:func:`kfp_tune.pipelines.tuning_step`): an upstream dataset staged for every trial, and the
model each trial may save.

Both travel through the store, the one place every step and every trial can reach (a trial
learns where it is from ``KFP_TUNE_STORE``, ``KFP_TUNE_EXPERIMENT`` and ``KFP_TUNE_TRIAL``, as
for ``report_metrics``). Layout (its keys are built in :mod:`kfp_tune.core.records`), beside
``experiments/`` rather than under it, so that the records' listings, which every step repeats,
do not grow with dataset or model files::

    artifacts/<experiment>/inputs.json                  the inputs the trials read: name -> digest, URI
    artifacts/<experiment>/inputs/<digest>/<input>.json its files (written after them)
    artifacts/<experiment>/inputs/<digest>/<input>/...  the files
    artifacts/<experiment>/inputs/runs/<run>.json       what a run staged (``<run>``: a hash of its id)
    artifacts/<experiment>/models/<trial>.json          written after the files: the model's file list
    artifacts/<experiment>/models/<trial>/...           the files, by their paths under what was saved

An input is stored under the digest of its files (their paths and contents), so the same data
staged by many runs is stored once. An experiment is tuned on one set of inputs: the first run
that stages some binds them (``inputs.json``, under its claim, before any trial); a later run
that brings other inputs is refused while the experiment has trials measured on the old ones
(:func:`inputs_to_bind`), as Katib refuses any change to a created Experiment's trial template
but its budgets (pkg/webhook/v1beta1/experiment/validator/validator.go, ``ValidateExperiment``):
its best trial would otherwise be handed on as the best for data it never saw. Files are read
whole into memory: meant for datasets and models of up to a few hundred MB; keep larger ones in
storage of your own and pass a pointer.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import os
import shutil
import stat
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from kfp_tune.core.errors import ExperimentConflict, ExperimentNotFound, KfpTuneError
from kfp_tune.core.records import ExperimentRecords, utc_now
from kfp_tune.launchers.scratch import INPUT_COPY_PREFIX, hold_folder, own_folder, sweep_input_copies

STAGED_INPUT = "StagedInput"
"""An input's files, under its digest."""
RUN_INPUTS = "RunInputs"
"""What one run staged: each input's digest and URI."""
TUNED_INPUTS = "TunedInputs"
"""The inputs an experiment's trials read (``inputs.json``)."""
TRIAL_MODEL = "TrialModel"

INPUTS_CACHE_PREFIX = "kfp-tune-inputs-"
"""One user's copies of the inputs fetched from a store that is not a folder here (S3, a
plug-in's): ``kfp-tune-inputs-<uid>`` under the temporary folder, shared by that user's trials."""
PRIVATE_FOLDER_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
OTHERS_BITS = 0o077
"""What the group and everyone else may do: nothing, in a folder that holds a trial's input."""

log = logging.getLogger(__name__)


class ArtifactError(KfpTuneError):
    """An input or a model cannot be staged, found or saved; the message says which and why."""


def model_key(records: ExperimentRecords, trial: str) -> str:
    """The manifest of the model trial ``trial`` saved."""
    return records.model_manifest_key(_name(trial))


def _name(text: str) -> str:
    """One part of a key: a name with no '/' (inputs and trials are named by kfp-tune)."""
    if not text or "/" in text or text in (".", "..") or "\x00" in text:
        raise ArtifactError(f"{text!r} cannot name an artifact in the store")
    return text


def _relative(path: str) -> str:
    """A file's path below what was saved, checked to stay below it."""
    parts = path.split("/")
    if any(part in ("", ".", "..") or "\x00" in part or "\\" in part for part in parts):
        raise ArtifactError(f"file {path!r} has a name the store does not keep")
    return path


def _files_of(path: Path) -> tuple[dict[str, Path], bool]:
    """({path below ``path``: file}, whether ``path`` is one file). ArtifactError when it is
    neither a file nor a folder."""
    if path.is_file():
        return {_relative(path.name): path}, True
    if path.is_dir():
        return {_relative(p.relative_to(path).as_posix()): p for p in sorted(path.rglob("*")) if p.is_file()}, False
    raise ArtifactError(f"{str(path)!r} is neither a file nor a folder")


def _put_files(records: ExperimentRecords, manifest: str, kind: str, path: Path, extra: dict[str, Any]) -> list[str]:
    """The files under ``path`` beside ``manifest`` (its name less ``.json``), then the
    manifest, so a reader that finds the manifest finds every file it lists."""
    files, single = _files_of(path)
    folder = manifest[: -len(".json")]
    for relative, file in files.items():
        records.store.put(f"{folder}/{relative}", file.read_bytes())
    records.write(manifest, kind, {"files": sorted(files), "single": single, **extra})
    return sorted(files)


def _read_manifest(records: ExperimentRecords, manifest: str, kind: str) -> dict[str, Any] | None:
    """The manifest at ``manifest``, or None; ArtifactError naming it when it is damaged."""
    record = records.read(manifest, kind)
    if record is None:
        return None
    files = record.get("files")
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files) or not isinstance(record.get("single"), bool):
        raise ArtifactError(f"{manifest} is damaged: expected a list of file names in 'files' and a boolean 'single'")
    return record


def _fetch(records: ExperimentRecords, manifest: str, record: dict[str, Any], dest: Path, private: bool = False) -> None:
    """The files a manifest lists, written below ``dest``; ``private`` (a trial's copy of an
    input, in a folder of its user's own): folders 0700, files 0600, no link followed."""
    folder = manifest[: -len(".json")]
    for relative in record["files"]:
        data = records.store.get(f"{folder}/{_relative(relative)}")
        if data is None:
            raise ArtifactError(f"{folder}/{relative} is listed in {manifest} but missing from the store")
        if private:
            _write_private(dest, relative, data)
            continue
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _write_private(dest: Path, relative: str, data: bytes) -> None:
    """``data`` as file ``relative`` below ``dest``, readable by its user only, through no link."""
    folder = dest
    for part in relative.split("/")[:-1]:
        folder = folder / part
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=PRIVATE_FOLDER_MODE)
    written = os.open(dest / relative, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, PRIVATE_FILE_MODE)
    with os.fdopen(written, "wb") as out:
        out.write(data)


# --- inputs: the step that stages them, the run that binds them, the trial that reads them --


@dataclass(frozen=True)
class RunInput:
    """One input a run brings, told by its digest, and where it came from. A staged input has
    the ``path`` of its file or folder; one that is only compared (a component trial's input,
    which KFP hands to each trial itself) has none."""

    name: str
    digest: str
    uri: str = ""
    path: Path | None = None

    def entry(self) -> dict[str, str]:
        return {"digest": self.digest, "uri": self.uri}


def _digest(parts: dict[str, bytes]) -> str:
    """A digest of named parts (name -> the part's SHA-256), whatever their order."""
    whole = hashlib.sha256()
    for name, part in sorted(parts.items()):
        whole.update(name.encode() + b"\0" + part)
    return "sha256-" + whole.hexdigest()[:32]


def _file_digest(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.digest()


def file_input(name: str, path: str | Path, uri: str = "") -> RunInput:
    """An upstream artifact (a file or a folder at ``path``) as a run brings it, told by the
    digest of its files (their paths below ``path`` and their contents; a file and a folder
    holding it differ); ``uri``: where KFP keeps it, recorded for lineage."""
    files, single = _files_of(Path(path))
    parts = {f"/{relative}": _file_digest(file) for relative, file in files.items()}
    parts[""] = b"file" if single else b"folder"
    return RunInput(_name(name), _digest(parts), uri, Path(path))


def value_input(name: str, value: Any) -> RunInput:
    """A value every trial gets (a component trial's setting), told by its digest."""
    return RunInput(_name(name), _digest({"": hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).digest()}))


def stage_input(records: ExperimentRecords, brought: RunInput) -> list[str]:
    """Copy a run's input into the store under its digest, unless the same content is stored
    there already; the files it holds."""
    manifest = records.input_manifest_key(brought.digest, brought.name)
    stored = _read_manifest(records, manifest, STAGED_INPUT)
    if stored is not None:
        return list(stored["files"])
    assert brought.path is not None, f"input {brought.name!r} has no files to stage"
    return _put_files(records, manifest, STAGED_INPUT, brought.path, {"name": brought.name, "digest": brought.digest, "uri": brought.uri})


def record_run_inputs(records: ExperimentRecords, run_id: str, brought: list[RunInput]) -> None:
    """What run ``run_id`` brings, for its first step to bind (:func:`bind_inputs`)."""
    records.write(records.run_inputs_key(run_id), RUN_INPUTS, {"run": run_id, "inputs": {b.name: b.entry() for b in brought}, "time": utc_now()})


def tuned_inputs(records: ExperimentRecords) -> dict[str, dict[str, str]]:
    """The inputs the experiment's trials read: name -> ``{"digest", "uri"}`` ({} when none)."""
    record = records.read(records.tuned_inputs_key(), TUNED_INPUTS)
    inputs = (record or {}).get("inputs") or {}
    if not isinstance(inputs, dict) or not all(isinstance(e, dict) and isinstance(e.get("digest"), str) for e in inputs.values()):
        raise ArtifactError(f"{records.tuned_inputs_key()} is damaged: expected each input's digest")
    return inputs


def _trials_made(records: ExperimentRecords) -> int:
    from kfp_tune.core.state import load_state

    try:
        return len(load_state(records).trials)
    except ExperimentNotFound:
        return 0


def _shown(inputs: dict[str, dict[str, str]]) -> str:
    return ", ".join(f"{name!r} {entry['digest'][:19]}" + (f" (from {entry['uri']})" if entry.get("uri") else "") for name, entry in sorted(inputs.items())) or "none"


def inputs_to_bind(records: ExperimentRecords, brought: dict[str, dict[str, str]]) -> bool:
    """Whether a run that brings ``brought`` (name -> digest, URI) binds them to the experiment:
    False when they are the inputs it is tuned on (or the run brings none: it resumes on those);
    True when it is tuned on none yet (an experiment whose trials ran with no inputs recorded,
    by ``kfp-tune run`` or an earlier version, takes them, with a warning), or on others that no
    trial was measured on. ExperimentConflict naming both when trials were measured on others."""
    if not brought:
        return False
    tuned = tuned_inputs(records)
    if {n: e["digest"] for n, e in tuned.items()} == {n: e["digest"] for n, e in brought.items()}:
        return False
    trials = _trials_made(records)
    if trials and not tuned:
        log.warning("experiment %s: its %d trial(s) ran with no inputs recorded; it is tuned on %s from now on", records.experiment, trials, _shown(brought))
    if trials == 0 or not tuned:
        return True
    raise ExperimentConflict(
        f"experiment {records.experiment!r} was tuned on other inputs: its {trials} trial(s) read {_shown(tuned)}, and this run brings "
        f"{_shown(brought)}. An experiment resumes on the data its trials were measured on, or its best trial would be handed on for "
        "data it never saw. To tune on these inputs, give the step fresh_experiment=True (an experiment of its own per run) or "
        "another experiment_name; to resume this experiment, pass it the same data"
    )


def bind_inputs(records: ExperimentRecords, run_id: str) -> None:
    """Under the run's claim, before its first trial: the inputs run ``run_id`` staged become the
    experiment's, unless they are already (:func:`inputs_to_bind` refuses other ones). A run
    that staged none (``kfp-tune run``, a step with no dataset) resumes on the experiment's."""
    record = records.read(records.run_inputs_key(run_id), RUN_INPUTS)
    brought = dict((record or {}).get("inputs") or {})
    if inputs_to_bind(records, brought):
        records.write(records.tuned_inputs_key(), TUNED_INPUTS, {"inputs": brought, "run": run_id, "time": utc_now()})


def input_path(name: str = "dataset") -> Path:
    """Inside a trial: the local path of input ``name`` that the experiment is tuned on (a file
    when the upstream artifact is a file, else a folder), as the tuning step staged it. Read
    it, never write to it.

    A store that is a folder on this machine is read in place; from an S3 store the files are
    fetched once per content into the user's own cache in the temporary folder
    (``kfp-tune-inputs-<uid>/<experiment>/<digest>/<name>``, folders 0700, files 0600), shared by
    that user's trials there and hidden from the machine's other users. Each of its folders must
    be this user's, no link and closed to others; one that is not (another user made it first, or
    left it open) is never read or written: the input is then fetched into a folder of this
    process's own (``kfp-tune-input-copy-*``, one per process, so fetched once per process),
    with a warning naming the folder and why. The folder is removed when the process ends; one
    it could not remove (the process was stopped with SIGTERM or SIGKILL, as the local launcher
    stops a trial) is removed by the next run's sweep, or the next such folder's
    (:func:`~kfp_tune.launchers.scratch.sweep_input_copies`). An
    upstream artifact that is an empty folder is an empty folder here, from either store, as
    kfp.local hands it to a component; the folders below it that hold no file are not kept
    (the store keeps files, as KFP's object store does)."""
    from kfp_tune.stores import LocalStore

    records, trial = _trial_place("input_path")
    entry = tuned_inputs(records).get(name)
    if entry is None:
        raise ArtifactError(
            f"input_path: experiment {records.experiment!r} (trial {trial!r}) has no staged input {name!r}: "
            f"pass the artifact to the tuning step's {name!r} input"
        )
    manifest = records.input_manifest_key(entry["digest"], _name(name))
    record = _read_manifest(records, manifest, STAGED_INPUT)
    if record is None:
        raise ArtifactError(f"input_path: input {name!r} of experiment {records.experiment!r} is missing from the store ({manifest})")
    first = record["files"][0] if record["single"] and record["files"] else ""
    store = records.store
    if isinstance(store, LocalStore):
        folder = store.root / manifest[: -len(".json")]
        if not record["files"]:  # staged from an empty folder: no file made its folder in the store
            try:
                _made(folder)
            except OSError as exc:
                raise ArtifactError(f"input_path: cannot make the empty folder of input {name!r} in {store.uri}: {exc.strerror or exc}") from None
    else:
        folder = _local_copy(records, manifest, record, entry["digest"], name)
    return folder / first if first else folder


class _NotPrivate(Exception):
    """A folder that cannot hold a trial's input unseen and untouched by the machine's other users."""

    def __init__(self, folder: Path, why: str) -> None:
        super().__init__(f"{folder} {why}")
        self.folder = folder
        self.why = why


_own_copies: dict[Path, Path] = {}
"""This process's own folder for inputs, by the temporary folder it is in."""
_own_copy_locks: dict[Path, BinaryIO] = {}
"""The lock each of them holds while this process lives, by the temporary folder it is in."""
_warned: set[tuple[Path, str]] = set()
_own_copies_lock = threading.Lock()


def _why_not_private(folder: Path) -> str | None:
    """Why ``folder`` cannot hold a trial's input, or None when it can: a folder of this user's
    (no link to one: :func:`~kfp_tune.launchers.scratch.own_folder`) that no one else may enter."""
    try:
        info = own_folder(folder)
        seen = folder.lstat() if info is None else info
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISLNK(seen.st_mode):
        return "is a link"
    if not stat.S_ISDIR(seen.st_mode):
        return "is not a folder"
    if info is None:
        return f"belongs to user {seen.st_uid}, not to this user ({os.getuid()})"
    if info.st_mode & OTHERS_BITS:
        return f"has mode {oct(stat.S_IMODE(info.st_mode))}, which lets other users in (expected {oct(PRIVATE_FOLDER_MODE)})"
    return None


def _private_level(folder: Path) -> Path:
    """``folder`` made (0700) unless it is there, then checked (:func:`_why_not_private`)."""
    try:
        folder.mkdir(mode=PRIVATE_FOLDER_MODE)
    except FileExistsError:
        pass
    except OSError as exc:
        raise _NotPrivate(folder, f"cannot be made ({exc.strerror or exc})") from None
    why = _why_not_private(folder)
    if why is not None:
        raise _NotPrivate(folder, why)
    return folder


def _fetched_once(records: ExperimentRecords, manifest: str, record: dict[str, Any], root: Path, digest: str, name: str) -> Path:
    """Input ``name`` at ``root``/<experiment>/<digest>/<name>, fetched unless a trial of this
    user's fetched it already: written aside (a hidden folder beside its place), then moved in
    whole, so trials racing to fetch it each read a whole copy. _NotPrivate naming the first
    folder on the way that fails the check: none is used then."""
    parent = root
    for level in (root, root / records.experiment, root / records.experiment / digest):
        parent = _private_level(level)
    folder = parent / name
    if not os.path.lexists(folder):
        aside = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=parent))
        try:
            _fetch(records, manifest, record, aside, private=True)
        except BaseException:  # a file missing from the store, a store error part-way: no partial copy stays
            shutil.rmtree(aside, ignore_errors=True)
            raise
        try:
            aside.rename(folder)
        except OSError:  # another trial moved its copy in first
            shutil.rmtree(aside, ignore_errors=True)
    why = _why_not_private(folder)
    if why is not None:
        raise _NotPrivate(folder, why)
    return folder


def _own_copy_root(temporary: Path) -> Path:
    """This process's own folder for inputs under ``temporary`` (0700): made once, made again if
    it is gone or was tampered with. Removed at the process's exit; a stopped process runs no
    atexit, so the folder's lock is held while it lives
    (:func:`~kfp_tune.launchers.scratch.hold_folder`) and a sweep removes it once it is not. The
    user's folders that ended processes left here are swept before one is made."""
    made = _own_copies.get(temporary)
    if made is None or _why_not_private(made) is not None:
        with contextlib.suppress(OSError):  # a sweep never fails the trial
            sweep_input_copies(temporary)
        try:
            made = Path(tempfile.mkdtemp(prefix=INPUT_COPY_PREFIX, dir=temporary))
        except OSError as exc:
            raise ArtifactError(f"input_path: cannot make a private folder for the input in {temporary}: {exc.strerror or exc}") from None
        try:
            lock = hold_folder(made)
        except OSError as exc:
            shutil.rmtree(made, ignore_errors=True)
            raise ArtifactError(f"input_path: cannot lock the private folder {made} for the input: {exc.strerror or exc}") from None
        atexit.register(shutil.rmtree, made, ignore_errors=True)
        replaced = _own_copy_locks.pop(temporary, None)
        if replaced is not None:  # the folder it held was gone or tampered with: a sweep may take what is left
            replaced.close()
        _own_copy_locks[temporary] = lock
        _own_copies[temporary] = made
    return made


def _local_copy(records: ExperimentRecords, manifest: str, record: dict[str, Any], digest: str, name: str) -> Path:
    """The input's folder on this machine, from a store that is not a folder here: the user's
    cache (:data:`INPUTS_CACHE_PREFIX`), or this process's own folder when a folder of the cache
    fails the check, with one warning naming it and why."""
    temporary = Path(tempfile.gettempdir())
    with contextlib.suppress(OSError):  # a tempfile.tempdir set to a folder not made yet (as the old cache did); else said below
        temporary.mkdir(mode=PRIVATE_FOLDER_MODE, parents=True, exist_ok=True)
    try:
        return _fetched_once(records, manifest, record, temporary / f"{INPUTS_CACHE_PREFIX}{os.getuid()}", digest, name)
    except _NotPrivate as refused:
        with _own_copies_lock:
            own = _own_copy_root(temporary)
            if (refused.folder, refused.why) not in _warned:
                _warned.add((refused.folder, refused.why))
                log.warning(
                    "input_path: %s is not used for input %r: it %s; the input is fetched into %s instead, a folder of this "
                    "process's own, removed when it ends", refused.folder, name, refused.why, own,
                )
    try:
        return _fetched_once(records, manifest, record, own, digest, name)
    except _NotPrivate as exc:
        raise ArtifactError(f"input_path: cannot keep input {name!r} where only this user can read it: {exc}") from None


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _trial_place(caller: str) -> tuple[ExperimentRecords, str]:
    """The running trial's experiment records and name, from the env its launcher set."""
    from kfp_tune.collectors.push import NO_TRIAL_OF_THIS_THREAD, in_a_function_trial, no_trial_of_this_thread
    from kfp_tune.stores import TrialPlaceMissing, open_trial_place

    no_store = (
        "a function's trial that kfp_tune.tune() runs in this process has no artifact store to keep a model in or "
        "read a staged input from; save_model and input_path are for the trials kfp-tune launches as processes of their own "
        "(a pipeline's tuning step, kfp-tune run): here, write the model to a path of your own and read the data directly"
    )
    if in_a_function_trial():  # its variables, if set, name some other trial: this process's
        raise ArtifactError(f"{caller}: {no_store}")
    if no_trial_of_this_thread():  # a thread such a trial started: the variables name some other trial too
        raise ArtifactError(f"{caller}: {NO_TRIAL_OF_THIS_THREAD}; and {no_store}")
    try:
        return open_trial_place()
    except TrialPlaceMissing as exc:
        raise ArtifactError(f"{caller}: {exc}: call it from a trial that kfp-tune launched") from None


# --- models: the trial that saves one, the step that hands the best one on ------------------


def save_model(path: str | Path) -> list[str]:
    """Inside a trial: keep the file or folder at ``path`` as this trial's model, in the store.
    The tuning step's ``best_model`` output is the best trial's copy. Call it once, at the end
    (a second call replaces the list of files). Returns the files saved, by their paths below
    ``path`` (a file: its name)."""
    records, trial = _trial_place("save_model")
    return _put_files(records, model_key(records, trial), TRIAL_MODEL, Path(path), {"trial": trial})


def keep_model(records: ExperimentRecords, trial: str, path: str | Path) -> list[str]:
    """Keep a trial's model (a file or a folder) in the store, as :func:`save_model` does from
    inside a trial: for a step that records a trial run elsewhere (a component trial's task)."""
    return _put_files(records, model_key(records, trial), TRIAL_MODEL, Path(path), {"trial": trial})


def model_files(records: ExperimentRecords, trial: str) -> list[str] | None:
    """The files trial ``trial`` saved as its model, or None when it saved none."""
    record = _read_manifest(records, model_key(records, trial), TRIAL_MODEL)
    return None if record is None else list(record["files"])


def fetch_model(records: ExperimentRecords, trial: str, dest: str | Path) -> list[str]:
    """Write the model trial ``trial`` saved into the folder ``dest``, each file by its path
    below what was saved; the files written ([] when it saved none)."""
    manifest = model_key(records, trial)
    record = _read_manifest(records, manifest, TRIAL_MODEL)
    if record is None:
        return []
    _fetch(records, manifest, record, _made(Path(dest)))
    return list(record["files"])
