"""Where an experiment's records live in a store, and how they are read and written.

Layout under ``experiments/<name>/``::

    experiment.json                 the spec, uid and search-space hash
    rounds/<round>.json             one round's trials: name, index, assignments (write-once)
    trials/<trial>/started.json     launch-trial began, the stop rules it is judged by, and where
                                    its launcher makes its resources (write-once)
    trials/<trial>/beat.json        the launch-trial that follows the trial is alive (rewritten)
    trials/<trial>/ended.json       how the run ended: phase, exit code (write-once)
    trials/<trial>/logs/<c>.log     the primary container's output
    trials/<trial>/pushed.json      metrics the trial pushed (Push collector)
    trials/<trial>/reports/<stamp>.json   one ``report_metrics`` call (or the collector's read)
    trials/<trial>/result.json      final status and observation (write-once)
    decisions/<round>.json          decide-stop's decision for a round (write-once)
    outcomes/<label>.json           the first finished decision under a maxTrialCount (write-once)
    runs/<seq>.json                 a run's claim (``core.claims``); ``<seq>.beat.json`` and
                                    ``<seq>.end.json`` its signs of life and its end
    runs/calls/<job>.json           which call of a pipeline run tunes the experiment (write-once;
                                    ``<job>``: a hash of the pipeline run's id)
    places/<i>/<generation>.json    one-trial mode's place i of parallelTrialCount: its latest
                                    generation names the trial holding it (write-once; the
                                    taker of a generation deletes those two and more below it)
    status.json                     the experiment status, Katib-shaped (rewritten; derived)
    snapshots/<seq>.json            a chunk of the write-once records above, cached (derived;
                                    ignored when damaged, and the records read instead)

and beside it, under ``artifacts/<experiment>/``, what a tuning step's trials read and save
(:mod:`kfp_tune.steps.trial_artifacts`)::

    inputs.json                     the inputs the experiment's trials read: name -> digest, URI
    inputs/<digest>/<input>.json    an input's files, stored once per content (``<digest>``: of
                                    the files); the files under ``inputs/<digest>/<input>/``
    inputs/runs/<run>.json          what a run staged (``<run>``: a hash of the run's id)
    models/<trial>.json             the model a trial saved; its files under ``models/<trial>/``

The keys are built and taken apart here only (:class:`ExperimentRecords`), so the layout is
spelled out once.

Every JSON record carries ``kind`` and ``version``; a record that does not parse, of another
kind, or with a version or a field missing or of the wrong type is reported with its key
(:class:`DamagedRecord`); one of a version above :data:`RECORD_VERSION` was written by a newer
kfp-tune and is named so (:class:`NewerRecord`: upgrade to read it; it is not damaged). A run never
skips either, so a damaged store cannot silently reset an experiment and an older kfp-tune cannot
misread a newer one's records; readers (status, reports) leave it out, say so, and show the rest.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kfp_tune.core.errors import StoreError, clipped
from kfp_tune.core.interfaces import Store
from kfp_tune.core.naming import short_hash
from kfp_tune.core.version import VERSION
from kfp_tune.core.vocabulary import Comparison, LaunchPhase, RecordKind, TrialStatus

RECORD_VERSION = 1
"""The version of the records this kfp-tune writes; it reads every version from 1 to this one.

Bump it when what a record MEANS changes, not only when its fields do: an older kfp-tune reads a
record of a version it knows as it always did, so a new meaning under the same version is misread
without a word. Version 1's meaning changed twice without a bump, and stays so (stores already
hold both): since a3e2e44 (2026-12-04) a Killed trial that a stop interrupted is given back,
where an older reader of the same result counts it as used; since dde3229 (2026-12-05) the
experiment record names its ``revision`` (``revisions/<n>.json``) and, since c789030, holds the
budgets its last run was given (``applied``), where an older writer replaces the spec and keeps
both fields as they were, dropping a ``kfp-tune edit`` (``steps.prepare._rewritten_by_older``
tells such a record and warns). After a bump, keep reading every older version, giving each its own
meaning (``record["version"]``), and add it to the versions tests/core/test_records_contract.py
reads. An older kfp-tune then refuses the new records as written by a newer one
(:class:`NewerRecord`) instead of misreading them, as a Kubernetes API server refuses an object
of an API version it does not serve (Katib's objects: manifests/v1beta1/components/crd/
experiment.yaml, ``versions``)."""
_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
HEARTBEAT_RECORD = "beat"
"""A trial's heartbeat record's name (``trials/<trial>/beat.json``, see ``core.claims``)."""
PUSHED_RECORD = "pushed"
"""The record of what an in-process trial returned (``trials/<trial>/pushed.json``, Push)."""
_RUN_BEAT, _RUN_END = ".beat", ".end"
_CLAIM = re.compile(r"/runs/(\d{6})\.json$")
_PLACE = re.compile(r"/places/(\d{3,})/(\d{6,})\.json$")  # place 1000 and on, generation 1000000 and on: wider


def _part(text: str) -> str:
    if not _SAFE_PART.match(text) or ".." in text:
        raise StoreError(f"unsafe name for a store key: {text!r}")
    return text


EXPERIMENTS_PREFIX = "experiments/"
"""Where a store keeps its experiments, one folder each (``experiments/<name>/``)."""


class ExperimentRecords:
    """Typed access to one experiment's records in a store."""

    def __init__(self, store: Store, experiment: str):
        self.store = store
        self.experiment = _part(experiment)
        self.root = f"{EXPERIMENTS_PREFIX}{self.experiment}"

    # --- keys ----------------------------------------------------------------------------
    def experiment_key(self) -> str:
        return f"{self.root}/experiment.json"

    def revision_key(self, revision: int) -> str:
        """Taken (created once) by the edit that makes the experiment record's ``revision``:
        of two edits read from one revision, one is written (``steps.prepare.write_edit``)."""
        return f"{self.root}/revisions/{revision:06d}.json"

    def rounds_prefix(self) -> str:
        return f"{self.root}/rounds/"

    def round_key(self, round_id: str) -> str:
        return f"{self.rounds_prefix()}{_part(round_id)}.json"

    def round_of(self, key: str) -> str | None:
        """The round id a round record's key names; None for any other key."""
        prefix = self.rounds_prefix()
        if not key.startswith(prefix) or not key.endswith(".json"):
            return None
        return key[len(prefix):-len(".json")]

    def decision_key(self, round_id: str) -> str:
        return f"{self.root}/decisions/{_part(round_id)}.json"

    def outcome_key(self, max_trial_count: int | None) -> str:
        """Where the experiment's first finished decision under this maxTrialCount is kept: a
        restart (a larger maxTrialCount, Katib's LongRunning) starts under a new key."""
        return f"{self.outcomes_prefix()}{outcome_label(max_trial_count)}.json"

    def outcomes_prefix(self) -> str:
        return f"{self.root}/outcomes/"

    def outcome_of(self, key: str) -> str | None:
        """The label an outcome record's key names (:func:`outcome_label`); None for any other key."""
        prefix = self.outcomes_prefix()
        return key[len(prefix):-len(".json")] if key.startswith(prefix) and key.endswith(".json") else None

    def status_key(self) -> str:
        return f"{self.root}/status.json"

    def trials_prefix(self) -> str:
        return f"{self.root}/trials/"

    def trial_prefix(self, trial: str) -> str:
        """The trial's folder: its records, logs and files."""
        return f"{self.trials_prefix()}{_part(trial)}/"

    def trial_key(self, trial: str, record: str) -> str:
        """One of a trial's JSON records: a typed one's ``FILE`` (``TrialStarted.FILE``),
        ``HEARTBEAT_RECORD`` or ``PUSHED_RECORD``."""
        return f"{self.trial_prefix(trial)}{record}.json"

    def heartbeat_key(self, trial: str) -> str:
        return self.trial_key(trial, HEARTBEAT_RECORD)

    def pushed_key(self, trial: str) -> str:
        return self.trial_key(trial, PUSHED_RECORD)

    def trial_of(self, key: str) -> str | None:
        """The trial whose folder holds ``key`` (any of its records, logs or files); None for a
        key outside ``trials/``."""
        prefix = self.trials_prefix()
        return key[len(prefix):].split("/", 1)[0] if key.startswith(prefix) else None

    def typed_record_of(self, key: str) -> tuple[str, TrialRecordType] | None:
        """(trial, record class) when ``key`` is one of a trial's typed write-once records
        (:data:`TRIAL_RECORD_TYPES`); None for any other key."""
        prefix = self.trials_prefix()
        if not key.startswith(prefix) or not key.endswith(".json"):
            return None
        parts = key[len(prefix):-len(".json")].split("/")
        record_type = TRIAL_RECORD_TYPES.get(parts[1]) if len(parts) == 2 else None
        return None if record_type is None else (parts[0], record_type)

    def logs_prefix(self, trial: str) -> str:
        """The folder of the trial's logs (``<container>.log`` each)."""
        return f"{self.trial_prefix(trial)}logs/"

    def log_key(self, trial: str, name: str) -> str:
        return f"{self.logs_prefix(trial)}{_part(name)}.log"

    def reports_prefix(self, trial: str) -> str:
        """Where ``report_metrics`` calls from inside a trial land, one record each."""
        return f"{self.trial_prefix(trial)}reports/"

    def report_key(self, trial: str, stamp: str) -> str:
        return f"{self.reports_prefix(trial)}{_part(stamp)}.json"

    def metrics_files_prefix(self, trial: str) -> str:
        return f"{self.trial_prefix(trial)}metrics-files/"

    def metrics_file_key(self, trial: str, relative_path: str) -> str:
        """Where a metrics file the trial wrote is kept (its path under the collector's path)."""
        return self.metrics_files_prefix(trial) + "/".join(_part(p) for p in relative_path.split("/"))

    def snapshots_prefix(self) -> str:
        return f"{self.root}/snapshots/"

    def snapshot_key(self, seq: int) -> str:
        return f"{self.snapshots_prefix()}{seq:06d}.json"

    def runs_prefix(self) -> str:
        return f"{self.root}/runs/"

    def claim_key(self, seq: int) -> str:
        """Run number ``seq``'s claim (see :mod:`kfp_tune.core.claims`)."""
        return f"{self.runs_prefix()}{seq:06d}.json"

    def run_heartbeat_key(self, seq: int) -> str:
        return f"{self.runs_prefix()}{seq:06d}{_RUN_BEAT}.json"

    def run_end_key(self, seq: int) -> str:
        return f"{self.runs_prefix()}{seq:06d}{_RUN_END}.json"

    def run_call_key(self, job_id: str) -> str:
        """Which call of pipeline run ``job_id`` tunes the experiment (see ``core.claims.mark_call``)."""
        return f"{self.runs_prefix()}calls/{short_hash(job_id, 12)}.json"

    def places_prefix(self) -> str:
        return f"{self.root}/places/"

    def place_prefix(self, index: int) -> str:
        """Place ``index``'s generations (``steps.launch_trial.wait_for_place``)."""
        return f"{self.places_prefix()}{index:03d}/"

    def place_key(self, index: int, generation: int) -> str:
        """Generation ``generation`` of place ``index``, taken once by the trial it names."""
        return f"{self.place_prefix(index)}{generation:06d}.json"

    @staticmethod
    def place_of(key: str) -> tuple[int, int] | None:
        """(place index, generation) a place record's key names; None for any other key."""
        found = _PLACE.search(key)
        return (int(found.group(1)), int(found.group(2))) if found else None

    @staticmethod
    def claim_seq_of(key: str) -> int | None:
        """The run number a claim's key names; None for any other key (a heartbeat, an end)."""
        found = _CLAIM.search(key)
        return int(found.group(1)) if found else None

    def artifacts_root(self) -> str:
        """Beside ``experiments/``, so that the records' listings do not grow with artifacts."""
        return f"artifacts/{self.experiment}"

    def tuned_inputs_key(self) -> str:
        """The inputs the experiment's trials read (bound by the first run that staged some)."""
        return f"{self.artifacts_root()}/inputs.json"

    def input_manifest_key(self, digest: str, name: str) -> str:
        """The manifest of input ``name`` (a checked name, no '/') whose files have ``digest``."""
        return f"{self.artifacts_root()}/inputs/{_part(digest)}/{name}.json"

    def run_inputs_key(self, run_id: str) -> str:
        """What run ``run_id`` staged: each input's name, digest and URI."""
        return f"{self.artifacts_root()}/inputs/runs/{short_hash(run_id, 12)}.json"

    def model_manifest_key(self, trial: str) -> str:
        """The manifest of the model trial ``trial`` (a checked name, no '/') saved."""
        return f"{self.artifacts_root()}/models/{trial}.json"

    # --- JSON records --------------------------------------------------------------------
    def read(self, key: str, kind: str) -> dict[str, Any] | None:
        """The record at key, or None if absent; StoreError if damaged or of another version."""
        data = self.store.get(key)
        if data is None:
            return None
        return decode_record(data, key, kind)

    def write(self, key: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        record = {"kind": kind, "version": RECORD_VERSION, **payload}
        self.store.put(key, encode_record(record))
        return record

    def write_once(self, key: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Write a record only if none is there; return the one that is stored.

        The store's atomic create decides: of two writers racing (a retried step, or two
        runs), exactly one record is written and both get that one back."""
        record = {"kind": kind, "version": RECORD_VERSION, **payload}
        if self._create(key, record):
            return record
        stored = self.read(key, kind)
        assert stored is not None, f"{key} exists but cannot be read back"
        return stored

    def create(self, key: str, record: TypedRecord) -> bool:
        """Write a typed record only if none is there: whether this call wrote it (the store's
        atomic create decides; of two writers racing, exactly one gets True). For a record whose
        loser does not read the winner's back (a place: the loser reads the places again)."""
        return self._create(key, {"kind": record.KIND, "version": RECORD_VERSION, **record.to_payload()})

    def _create(self, key: str, record: dict[str, Any]) -> bool:
        return self.store.create(key, encode_record(record))

    def read_typed(self, key: str, record_type: type[Typed]) -> Typed | None:
        """The typed record at key, or None if absent; StoreError if damaged."""
        record = self.read(key, record_type.KIND)
        return None if record is None else record_type.from_record(record, key)

    def create_typed(self, key: str, record: R) -> R:
        """Write a typed record once (see :meth:`write_once`); the stored one is returned."""
        stored = self.write_once(key, record.KIND, record.to_payload())
        return type(record).from_record(stored, key)

    def read_text(self, key: str) -> str | None:
        data = self.store.get(key)
        return None if data is None else data.decode("utf-8", errors="replace")

    def write_text(self, key: str, text: str) -> None:
        self.store.put(key, text.encode("utf-8"))


def encode_record(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, sort_keys=True, indent=1, allow_nan=False) + "\n").encode("utf-8")


class UnreadableRecord(StoreError):
    """A record that is there but that this kfp-tune cannot read: damaged, or written by a newer
    kfp-tune. A run refuses to go on (it never skips or rewrites it); readers (``lenient``) leave
    it out, list it with its key and ``problem``, and show the rest (:func:`left_out_warning`)."""

    def __init__(self, message: str, key: str, problem: str):
        super().__init__(message)
        self.key, self.problem = key, problem


class DamagedRecord(UnreadableRecord):
    """A record that is there but cannot be read: not JSON, of another kind, of no version this
    kfp-tune knows and none above it, or a field missing or of the wrong type. Names the key and
    what is wrong, so the user can find the file."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"{named(key)} is damaged: {problem}", key, problem)


def named(key: str) -> str:
    """A damaged key as a user finds it: a record, or a folder (a key ending in '/': a trial's,
    whose records no round record holds)."""
    return f"folder {key}" if key.endswith("/") else f"record {key}"


NEWER_PROBLEM = "written by a newer kfp-tune"
"""How a :class:`NewerRecord`'s ``problem`` starts: what tells a reader's warning it apart."""


class NewerRecord(UnreadableRecord):
    """A record of a version above :data:`RECORD_VERSION`: a newer kfp-tune wrote it. Nothing is
    wrong with it, so the user is told to upgrade, never to repair or remove it; an older reader
    cannot know what its fields mean now, so it is not read (a run is refused)."""

    def __init__(self, key: str, version: int):
        problem = (
            f"{NEWER_PROBLEM} (record version {version}): upgrade kfp-tune ({VERSION} reads record version {_readable_versions()}) "
            "to read it; nothing was changed"
        )
        super().__init__(f"record {key} was {problem}", key, problem)
        self.version = version


def _readable_versions() -> str:
    return "1" if RECORD_VERSION == 1 else f"1 to {RECORD_VERSION}"


def is_newer_problem(problem: str) -> bool:
    """Whether a left-out record's ``problem`` (a lenient view's ``damaged``: key -> problem) is
    a :class:`NewerRecord`'s, not damage."""
    return problem.startswith(NEWER_PROBLEM)


def left_out_warning(key: str, problem: str) -> str:
    """A reader's warning about a record it left out (a lenient view's ``damaged``: key ->
    problem): a newer one says the counts and the best trial shown may be incomplete, since it
    may hold the best."""
    if is_newer_problem(problem):
        return f"warning: record {key} was {problem}; left out, so the counts and the best trial shown may be incomplete"
    return f"warning: {named(key)} is damaged: {problem}; left out"


def payload_of(record: dict[str, Any]) -> dict[str, Any]:
    """A record as read, less the ``kind`` and ``version`` that :meth:`ExperimentRecords.write`
    adds: what to write it back with, changed."""
    return {k: v for k, v in record.items() if k not in ("kind", "version")}


def decode_record(data: bytes, key: str, kind: str) -> dict[str, Any]:
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DamagedRecord(key, f"not JSON ({exc})") from None
    except ValueError:  # an integer of more digits than Python converts (4,300): no record kfp-tune writes
        raise DamagedRecord(key, "not JSON kfp-tune reads (an integer of more than 4,300 digits)") from None
    except RecursionError:
        raise DamagedRecord(key, "not JSON (nested too deeply)") from None
    return check_record(record, key, kind)


def outcome_label(max_trial_count: int | None) -> str:
    """The name an experiment's outcome under this maxTrialCount is kept by (see
    ``ExperimentRecords.outcome_key``)."""
    return f"max-{'none' if max_trial_count is None else int(max_trial_count)}"


def check_record(record: Any, key: str, kind: str) -> dict[str, Any]:
    """The record, if it is a ``kind`` record of a version this kfp-tune reads (1 to
    :data:`RECORD_VERSION`); NewerRecord when a newer kfp-tune wrote it, else DamagedRecord,
    each naming the key."""
    if not isinstance(record, dict):
        raise DamagedRecord(key, f"expected a record of kind {kind} (a JSON object), got a JSON {_json_type(record)}")
    if record.get("kind") != kind:
        raise DamagedRecord(key, f"expected a record of kind {kind}, got kind {_short(record.get('kind'))}")
    version = record.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > RECORD_VERSION:
        raise NewerRecord(key, version)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise DamagedRecord(key, f"it has version {_short(version)}; this kfp-tune reads version {_readable_versions()}")
    return record


def _json_type(value: Any) -> str:
    return {list: "array", str: "string", bool: "boolean", int: "number", float: "number", type(None): "null"}.get(type(value), type(value).__name__)


def _short(value: Any, limit: int = 80) -> str:
    """A value for an error message: its repr, cut short (a damaged record may hold anything)."""
    return clipped(repr(value), limit)


def round_entries(record: dict[str, Any], key: str) -> list[tuple[str, int, dict[str, str]]]:
    """A round record's trials as (name, index, assignment), each field checked, so a damaged
    round is reported with its key before any of it is folded in."""
    trials = record.get("trials")
    if not isinstance(trials, list):
        raise DamagedRecord(key, f"'trials' must be a list, got {_short(trials)}")
    if not isinstance(record.get("created"), str):
        raise DamagedRecord(key, f"'created' is {_short(record.get('created'))}, expected a string")
    out = []
    for position, entry in enumerate(trials):
        where = f"trials[{position}]"
        if not isinstance(entry, dict):
            raise DamagedRecord(key, f"{where} must be an object, got {_short(entry)}")
        name, index, assignment = entry.get("name"), entry.get("index"), entry.get("assignment")
        if not isinstance(name, str) or not _SAFE_PART.match(name) or ".." in name:
            raise DamagedRecord(key, f"{where}.name is {_short(name)}, expected a trial name")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise DamagedRecord(key, f"{where}.index is {_short(index)}, expected a whole number")
        if not isinstance(assignment, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in assignment.items()):
            raise DamagedRecord(key, f"{where}.assignment must map parameter names to strings, got {_short(assignment)}")
        out.append((name, index, dict(assignment)))
    return out


def round_labels(record: dict[str, Any], key: str) -> list[dict[str, str]]:
    """The labels the algorithm gave each of a round's trials (pbt's generation and parent), in
    the order of :func:`round_entries`; ``{}`` for a trial with none (most algorithms give none,
    and their rounds have no ``labels``)."""
    out = []
    for position, entry in enumerate(record.get("trials") or []):
        labels = entry.get("labels", {}) if isinstance(entry, dict) else {}
        if not isinstance(labels, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
            raise DamagedRecord(key, f"trials[{position}].labels must map label names to strings, got {_short(labels)}")
        out.append(dict(labels))
    return out


def utc_now() -> str:
    """The timestamp records carry: UTC, to the second, ``2026-11-30T12:00:00Z``."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- typed trial records ------------------------------------------------------------------------
# The JSON stays as it was (Katib's spellings, camelCase where Katib has it); these classes are how
# code reads and writes it. ``from_record`` checks every field, so a damaged record is reported
# with its key instead of failing later, far from the store.


def _field(record: dict[str, Any], name: str, types: type | tuple[type, ...], key: str, default: Any = ...) -> Any:
    value = record.get(name, default)
    if value is ...:
        raise DamagedRecord(key, f"no {name!r}")
    if value is None and default is ...:
        raise DamagedRecord(key, f"{name!r} is null")
    if value is not None and (not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types))):
        raise DamagedRecord(key, f"{name!r} is {_short(value)}, expected {_type_names(types)}")
    return value


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _type_names(types: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "a number", float: "a number", dict: "an object", list: "an array", bool: "true or false"}
    return " or ".join(dict.fromkeys(names.get(t, t.__name__) for t in _as_tuple(types)))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _metric_values(value: Any, key: str) -> dict[str, float]:
    if not isinstance(value, dict):
        raise DamagedRecord(key, f"metrics must map names to numbers, got {_short(value)}")
    for name, number in value.items():
        if not _number(number):
            raise DamagedRecord(key, f"metrics must map names to numbers, got {name!r}: {_short(number)}")
    return {k: float(v) for k, v in value.items()}


def _text_values(value: Any, key: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(text, str) for text in value.values()):
        raise DamagedRecord(key, f"textMetrics must map names to strings, got {_short(value)}")
    return dict(value)


def _observation(value: Any, key: str) -> dict[str, Any]:
    """Katib's per-metric min / max / latest (and count), each a number."""
    if not isinstance(value, dict):
        raise DamagedRecord(key, f"observation must map metric names to their min, max and latest, got {_short(value)}")
    for name, summary in value.items():
        if not isinstance(summary, dict) or not all(_number(summary.get(part)) for part in ("min", "max", "latest")):
            raise DamagedRecord(key, f"observation of {name!r} must hold numbers min, max and latest, got {_short(summary)}")
        count = summary.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise DamagedRecord(key, f"observation of {name!r} has count {_short(count)}, expected a whole number")
    return value


@dataclass(frozen=True)
class StopRule:
    """One early stopping rule fixed for a trial, as Katib's Trial carries it in
    ``spec.earlyStoppingRules`` (``EarlyStoppingRule`` in
    pkg/apis/controller/common/v1beta1/common_types.go: the metric, the value as text, the
    comparison, and how many reports come before it is applied; 0: from the first)."""

    name: str
    value: str
    comparison: Comparison
    start_step: int = 0

    def to_katib(self) -> dict[str, Any]:
        """Katib's JSON (camelCase), as ``kubectl get trial -o json`` shows it."""
        return {"name": self.name, "value": self.value, "comparison": str(self.comparison), "startStep": self.start_step}

    @classmethod
    def from_katib(cls, data: Any, key: str, where: str) -> StopRule:
        """The rule :meth:`to_katib` wrote; DamagedRecord naming ``where`` when it is not one."""
        if not isinstance(data, dict):
            raise DamagedRecord(key, f"{where} must be an object (name, value, comparison, startStep), got {_short(data)}")
        name, value, comparison, start = data.get("name"), data.get("value"), data.get("comparison"), data.get("startStep", 0)
        if not isinstance(name, str) or not name:
            raise DamagedRecord(key, f"{where}.name is {_short(name)}, expected a metric name")
        if not isinstance(value, str) or not _number_text(value):
            raise DamagedRecord(key, f"{where}.value is {_short(value)}, expected a number as text")
        if comparison not in Comparison._value2member_map_:
            raise DamagedRecord(key, f"{where}.comparison is {_short(comparison)}, expected one of {[c.value for c in Comparison]}")
        if not isinstance(start, int) or isinstance(start, bool) or start < 0:
            raise DamagedRecord(key, f"{where}.startStep is {_short(start)}, expected a whole number")
        return cls(name, value, Comparison(comparison), start)


def _number_text(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _stop_rules(value: Any, key: str) -> tuple[StopRule, ...] | None:
    """``earlyStoppingRules`` of a started record: None when absent (a record written before it
    was kept, or an experiment without early stopping)."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise DamagedRecord(key, f"'earlyStoppingRules' is {_short(value)}, expected an array")
    return tuple(StopRule.from_katib(rule, key, f"earlyStoppingRules[{index}]") for index, rule in enumerate(value))


@dataclass(frozen=True)
class TrialStarted:
    """``trials/<trial>/started.json``: launch-trial began this trial (write-once)."""

    KIND = RecordKind.TRIAL_STARTED
    FILE = "started"
    """Its name in the trial's folder (``trials/<trial>/started.json``)."""
    trial: str
    time: str
    at: float
    run: str
    attempt: str
    owner: str = ""
    """``host/pid`` of the process that follows the trial: when it is gone from this machine, a
    retry knows at once that the attempt died."""
    early_stopping_rules: tuple[StopRule, ...] | None = None
    """The early stopping rules fixed for the trial as it started (Katib fixes them when it
    creates the trial: experiment_controller_util.go sets the Trial's ``spec.earlyStoppingRules``
    from the early stopping service's ``GetEarlyStoppingRules``): what it is judged against.
    ``()`` while the rule has too few completed trials to give one; None without early
    stopping, for a plug-in rule with no such form, and in records written before they were kept."""
    cluster_namespace: str | None = None
    """The Kubernetes namespace its launcher makes its resources in (``Launcher.namespace``); ""
    where it makes none (a local process, a function in the run's process), so that ``kfp-tune
    cleanup`` knows without a cluster that the trial left nothing there. None in records written
    before it was kept (2026-12-06): not known."""

    @classmethod
    def from_record(cls, record: dict[str, Any], key: str) -> TrialStarted:
        return cls(
            trial=_field(record, "trial", str, key), time=_field(record, "time", str, key, ""),
            at=float(_field(record, "at", (int, float), key, 0.0) or 0.0), run=_field(record, "run", str, key, ""),
            attempt=_field(record, "attempt", str, key, ""), owner=_field(record, "owner", str, key, "") or "",
            early_stopping_rules=_stop_rules(record.get("earlyStoppingRules"), key),
            cluster_namespace=_field(record, "clusterNamespace", str, key, None),
        )

    def to_payload(self) -> dict[str, Any]:
        payload = {"trial": self.trial, "time": self.time, "at": self.at, "run": self.run, "attempt": self.attempt, "owner": self.owner}
        if self.early_stopping_rules is not None:
            payload["earlyStoppingRules"] = [rule.to_katib() for rule in self.early_stopping_rules]
        if self.cluster_namespace is not None:
            payload["clusterNamespace"] = self.cluster_namespace
        return payload


@dataclass(frozen=True)
class TrialEnded:
    """``trials/<trial>/ended.json``: how the trial's run ended, before metrics (write-once)."""

    KIND = RecordKind.TRIAL_ENDED
    FILE = "ended"
    """Its name in the trial's folder (``trials/<trial>/ended.json``)."""
    trial: str
    phase: LaunchPhase
    reason: str = ""
    message: str = ""
    exit_code: int | None = None
    time: str = ""
    at: float = 0.0
    """When, in seconds since the epoch (``time`` is to the second, as Katib's times are): the
    report draws how long the trial ran from it. 0.0 in records written before it was kept."""

    @classmethod
    def from_record(cls, record: dict[str, Any], key: str) -> TrialEnded:
        phase = _field(record, "phase", str, key)
        if phase not in LaunchPhase._value2member_map_:
            raise DamagedRecord(key, f"phase {_short(phase)} is not one of {[p.value for p in LaunchPhase]}")
        exit_code = record.get("exitCode")
        if isinstance(exit_code, bool):  # an int to Python, but true is not exit code 1
            raise DamagedRecord(key, f"'exitCode' is {json.dumps(exit_code)}, expected an integer exit code or null")
        return cls(
            trial=_field(record, "trial", str, key), phase=LaunchPhase(phase), reason=_field(record, "reason", str, key, "") or "",
            message=_field(record, "message", str, key, "") or "", exit_code=exit_code if isinstance(exit_code, int) else None,
            time=_field(record, "time", str, key, ""), at=float(_field(record, "at", (int, float), key, 0.0) or 0.0),
        )

    @classmethod
    def now(cls, trial: str, phase: LaunchPhase, reason: str = "", message: str = "", exit_code: int | None = None) -> TrialEnded:
        """The trial's run ended now: ``time`` and ``at`` from one reading of the clock."""
        moment = _dt.datetime.now(_dt.timezone.utc)
        return cls(trial, phase, reason, message, exit_code, moment.isoformat(timespec="seconds").replace("+00:00", "Z"), moment.timestamp())

    def to_payload(self) -> dict[str, Any]:
        return {"trial": self.trial, "phase": self.phase, "reason": self.reason, "message": self.message, "exitCode": self.exit_code, "time": self.time, "at": self.at}


@dataclass(frozen=True)
class TrialResult:
    """``trials/<trial>/result.json``: the trial's final status and metrics (write-once).

    ``metrics`` are after metricStrategies; ``curve`` is the objective's values in report order
    (what medianstop compares); ``observation`` is Katib's per-metric min / max / latest."""

    KIND = RecordKind.TRIAL_RESULT
    FILE = "result"
    """Its name in the trial's folder (``trials/<trial>/result.json``)."""
    trial: str
    status: TrialStatus
    reason: str = ""
    message: str = ""
    observation: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    curve: tuple[float, ...] = ()
    time: str = ""
    text_metrics: dict[str, str] = field(default_factory=dict)
    """Metrics whose values are text (darts' ``Best-Genotype``): the last one reported, as
    Katib's ``latest``. Stored as ``textMetrics``, only when there is one."""

    @classmethod
    def from_record(cls, record: dict[str, Any], key: str) -> TrialResult:
        status = _field(record, "status", str, key)
        if status not in TrialStatus._value2member_map_ or not TrialStatus(status).is_terminal:
            raise DamagedRecord(key, f"status {_short(status)} is not a final trial status")
        curve = record.get("curve") or []
        if not isinstance(curve, list) or not all(_number(v) for v in curve):
            raise DamagedRecord(key, f"curve must be a list of numbers, got {_short(curve)}")
        observation = _observation(record.get("observation") or {}, key)
        return cls(
            trial=_field(record, "trial", str, key), status=TrialStatus(status), reason=_field(record, "reason", str, key, "") or "",
            message=_field(record, "message", str, key, "") or "", observation=observation,
            metrics=_metric_values(record.get("metrics") or {}, key), curve=tuple(float(v) for v in curve), time=_field(record, "time", str, key, ""),
            text_metrics=_text_values(record.get("textMetrics") or {}, key),
        )

    def to_payload(self) -> dict[str, Any]:
        return {
            "trial": self.trial, "status": self.status, "reason": self.reason, "message": self.message,
            "observation": self.observation, "metrics": self.metrics, "curve": list(self.curve), "time": self.time,
        } | ({"textMetrics": self.text_metrics} if self.text_metrics else {})


@dataclass(frozen=True)
class PlaceRecord:
    """``places/<i>/<generation>.json``: one-trial mode's place i, taken by ``trial`` at ``at``
    (epoch seconds) for generation ``generation`` (write-once; ``steps.launch_trial.wait_for_place``).
    Its kind on disk is ``TrialPlace``; ``steps.trial_reporter.TrialPlace`` is another thing: where a
    component trial's records are."""

    KIND = RecordKind.TRIAL_PLACE
    trial: str
    at: float
    """0.0 when the record holds no time a clock could have written: the place frees as one
    taken long ago."""
    run: str = ""
    owner: str = ""
    time: str = ""

    @classmethod
    def from_record(cls, record: dict[str, Any], key: str) -> PlaceRecord:
        """Only ``trial`` is checked (DamagedRecord): the rest is what a reader of the place
        may go without."""
        at = record.get("at")
        run, owner, time = (value if isinstance(value := record.get(name), str) else "" for name in ("run", "owner", "time"))
        return cls(trial=_field(record, "trial", str, key), at=float(at) if isinstance(at, (int, float)) and _number(at) else 0.0, run=run, owner=owner, time=time)

    def to_payload(self) -> dict[str, Any]:
        return {"trial": self.trial, "run": self.run, "owner": self.owner, "at": self.at, "time": self.time}


R = TypeVar("R", TrialStarted, TrialEnded, TrialResult)
Typed = TypeVar("Typed", TrialStarted, TrialEnded, TrialResult, PlaceRecord)
TypedRecord = TrialStarted | TrialEnded | TrialResult | PlaceRecord
TrialRecordType = type[TrialStarted] | type[TrialEnded] | type[TrialResult]
TRIAL_RECORD_TYPES: dict[str, TrialRecordType] = {record.FILE: record for record in (TrialStarted, TrialEnded, TrialResult)}
"""A trial's typed write-once records, by their name in its folder."""
