"""Artifacts that cross between a user's pipeline and the trials of a tuning step
(:func:`kfp_tune.pipelines.tuning_step`): an upstream dataset staged for every trial, and the
model each trial may save.

Both travel through the store, the one place every step and every trial can reach (a trial
learns where it is from ``KFP_TUNE_STORE``, ``KFP_TUNE_EXPERIMENT`` and ``KFP_TUNE_TRIAL``, as
for ``report_metrics``). Layout (its keys are built in :mod:`kfp_tune.core.records`), beside
``experiments/`` rather than under it, so that the records' listings, which every step repeats,
do not grow with dataset or model files::

    artifacts/<experiment>/inputs/<run>/<input>.json   what a run staged: its files, the artifact's URI
    artifacts/<experiment>/inputs/<run>/<input>/...    the files
    artifacts/<experiment>/models/<trial>.json         written after the files: the model's file list
    artifacts/<experiment>/models/<trial>/...          the files, by their paths under what was saved

``<run>`` is a hash of the pipeline run's id: a run's trials read that run's input (a trial
finds its run in its ``started`` record), so a recurring run that brings new data never changes
what an earlier run's trials read. Files are read whole into memory: meant for datasets and
models of up to a few hundred MB; keep larger ones in storage of your own and pass a pointer.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.records import ExperimentRecords, TrialStarted

STAGED_INPUT = "StagedInput"
TRIAL_MODEL = "TrialModel"


class ArtifactError(KfpTuneError):
    """An input or a model cannot be staged, found or saved; the message says which and why."""


def input_key(records: ExperimentRecords, run_id: str, name: str) -> str:
    """The manifest of input ``name`` as run ``run_id`` staged it."""
    return records.input_manifest_key(run_id, _name(name))


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


def _fetch(records: ExperimentRecords, manifest: str, record: dict[str, Any], dest: Path) -> None:
    """The files a manifest lists, written below ``dest``."""
    folder = manifest[: -len(".json")]
    for relative in record["files"]:
        data = records.store.get(f"{folder}/{_relative(relative)}")
        if data is None:
            raise ArtifactError(f"{folder}/{relative} is listed in {manifest} but missing from the store")
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


# --- inputs: the step that stages them, the trial that reads them --------------------------


def stage_input(records: ExperimentRecords, run_id: str, name: str, path: str | Path, uri: str = "") -> list[str]:
    """Copy an upstream artifact (a file or a folder at ``path``; ``uri``: where KFP keeps it,
    recorded for lineage) into the store for run ``run_id``'s trials; the files staged."""
    return _put_files(records, input_key(records, run_id, name), STAGED_INPUT, Path(path), {"name": name, "uri": uri})


def input_path(name: str = "dataset") -> Path:
    """Inside a trial: the local path of input ``name`` that the tuning step's run staged (a
    file when the upstream artifact is a file, else a folder). Read it, never write to it.

    A store that is a folder on this machine is read in place; from an S3 store the files are
    fetched once per run into the temporary folder and shared by the run's trials here."""
    from kfp_tune.stores import LocalStore

    records, trial = _trial_place("input_path")
    started = records.read_typed(records.trial_key(trial, TrialStarted.FILE), TrialStarted)
    if started is None or not started.run:
        raise ArtifactError(f"input_path: trial {trial!r} has no started record with its run; call it from a trial kfp-tune launched")
    manifest = input_key(records, started.run, name)
    record = _read_manifest(records, manifest, STAGED_INPUT)
    if record is None:
        raise ArtifactError(
            f"input_path: the run of experiment {records.experiment!r} that started trial {trial!r} staged no input {name!r}: "
            f"pass the artifact to the tuning step's {name!r} input"
        )
    first = record["files"][0] if record["single"] and record["files"] else ""
    store = records.store
    if isinstance(store, LocalStore):
        folder = store.root / manifest[: -len(".json")]
    else:
        folder = Path(tempfile.gettempdir()) / "kfp-tune-inputs" / records.experiment / Path(manifest).parent.name / name
        if not folder.is_dir():  # fetched aside, then moved into place whole: trials may race to fetch it
            aside = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=_made(folder.parent)))
            _fetch(records, manifest, record, aside)
            try:
                aside.rename(folder)
            except OSError:  # another trial moved its copy in first
                shutil.rmtree(aside, ignore_errors=True)
    return folder / first if first else folder


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _trial_place(caller: str) -> tuple[ExperimentRecords, str]:
    """The running trial's experiment records and name, from the env its launcher set."""
    from kfp_tune.stores import TrialPlaceMissing, open_trial_place

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
