"""Where an experiment's records live in a store, and how they are read and written.

Layout under ``experiments/<name>/``::

    experiment.json                 the spec, uid and search-space hash
    rounds/<round>.json             one round's trials: name, index, assignments (write-once)
    trials/<trial>/started.json     launch-trial began (write-once)
    trials/<trial>/ended.json       how the run ended: phase, exit code (write-once)
    trials/<trial>/logs/<c>.log     the primary container's output
    trials/<trial>/pushed.json      metrics the trial pushed (Push collector)
    trials/<trial>/result.json      final status and observation (write-once)
    decisions/<round>.json          decide-stop's decision for a round (write-once)
    status.json                     the experiment status, Katib-shaped (rewritten; derived)
    snapshots/<seq>.json            a chunk of the write-once records above, cached (derived;
                                    ignored when damaged, and the records read instead)

Every JSON record carries ``kind`` and ``version``; a record of an unknown version or that does not
parse is reported, never skipped, so a damaged store cannot silently reset an experiment.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kfp_tune.core.errors import StoreError
from kfp_tune.core.interfaces import Store
from kfp_tune.core.vocabulary import LaunchPhase, RecordKind, TrialStatus

RECORD_VERSION = 1
_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _part(text: str) -> str:
    if not _SAFE_PART.match(text) or ".." in text:
        raise StoreError(f"unsafe name for a store key: {text!r}")
    return text


class ExperimentRecords:
    """Typed access to one experiment's records in a store."""

    def __init__(self, store: Store, experiment: str):
        self.store = store
        self.experiment = _part(experiment)
        self.root = f"experiments/{self.experiment}"

    # --- keys ----------------------------------------------------------------------------
    def experiment_key(self) -> str:
        return f"{self.root}/experiment.json"

    def round_key(self, round_id: str) -> str:
        return f"{self.root}/rounds/{_part(round_id)}.json"

    def decision_key(self, round_id: str) -> str:
        return f"{self.root}/decisions/{_part(round_id)}.json"

    def status_key(self) -> str:
        return f"{self.root}/status.json"

    def trials_prefix(self) -> str:
        return f"{self.root}/trials/"

    def trial_key(self, trial: str, record: str) -> str:
        return f"{self.root}/trials/{_part(trial)}/{record}.json"

    def log_key(self, trial: str, name: str) -> str:
        return f"{self.root}/trials/{_part(trial)}/logs/{_part(name)}.log"

    def reports_prefix(self, trial: str) -> str:
        """Where ``report_metrics`` calls from inside a trial land, one record each."""
        return f"{self.root}/trials/{_part(trial)}/reports/"

    def report_key(self, trial: str, stamp: str) -> str:
        return f"{self.reports_prefix(trial)}{_part(stamp)}.json"

    def metrics_files_prefix(self, trial: str) -> str:
        return f"{self.root}/trials/{_part(trial)}/metrics-files/"

    def metrics_file_key(self, trial: str, relative_path: str) -> str:
        """Where a metrics file the trial wrote is kept (its path under the collector's path)."""
        return self.metrics_files_prefix(trial) + "/".join(_part(p) for p in relative_path.split("/"))

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
        if self.store.create(key, encode_record(record)):
            return record
        stored = self.read(key, kind)
        assert stored is not None, f"{key} exists but cannot be read back"
        return stored

    def read_typed(self, key: str, record_type: type[R]) -> R | None:
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


def decode_record(data: bytes, key: str, kind: str) -> dict[str, Any]:
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StoreError(f"record {key} is damaged (not JSON: {exc}); refusing to go on") from None
    return check_record(record, key, kind)


def check_record(record: Any, key: str, kind: str) -> dict[str, Any]:
    """The record, if it is a ``kind`` record of this version; StoreError naming the key if not."""
    if not isinstance(record, dict) or record.get("kind") != kind:
        raise StoreError(f"record {key} is not a {kind} record (kind {record.get('kind') if isinstance(record, dict) else None!r})")
    if record.get("version") != RECORD_VERSION:
        raise StoreError(
            f"record {key} has version {record.get('version')!r}; this kfp-tune reads version {RECORD_VERSION}"
        )
    return record


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
        raise StoreError(f"record {key} is damaged: no {name!r}")
    if value is not None and default is not None and not isinstance(value, types):
        raise StoreError(f"record {key} is damaged: {name!r} is {value!r}")
    if value is None and default is ...:
        raise StoreError(f"record {key} is damaged: {name!r} is null")
    return value


def _metric_values(value: Any, key: str) -> dict[str, float]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) for k, v in value.items()):
        raise StoreError(f"record {key} is damaged: metrics must map names to numbers, got {value!r}")
    return {k: float(v) for k, v in value.items()}


@dataclass(frozen=True)
class TrialStarted:
    """``trials/<trial>/started.json``: launch-trial began this trial (write-once)."""

    KIND = RecordKind.TRIAL_STARTED
    trial: str
    time: str
    at: float
    run: str
    attempt: str
    owner: str = ""
    """``host/pid`` of the process that follows the trial: when it is gone from this machine, a
    retry knows at once that the attempt died."""

    @classmethod
    def from_record(cls, record: dict[str, Any], key: str) -> TrialStarted:
        return cls(
            trial=_field(record, "trial", str, key), time=_field(record, "time", str, key, ""),
            at=float(_field(record, "at", (int, float), key, 0.0)), run=_field(record, "run", str, key, ""),
            attempt=_field(record, "attempt", str, key, ""), owner=_field(record, "owner", str, key, "") or "",
        )

    def to_payload(self) -> dict[str, Any]:
        return {"trial": self.trial, "time": self.time, "at": self.at, "run": self.run, "attempt": self.attempt, "owner": self.owner}


@dataclass(frozen=True)
class TrialEnded:
    """``trials/<trial>/ended.json``: how the trial's run ended, before metrics (write-once)."""

    KIND = RecordKind.TRIAL_ENDED
    trial: str
    phase: LaunchPhase
    reason: str = ""
    message: str = ""
    exit_code: int | None = None
    time: str = ""

    @classmethod
    def from_record(cls, record: dict[str, Any], key: str) -> TrialEnded:
        phase = _field(record, "phase", str, key)
        if phase not in LaunchPhase._value2member_map_:
            raise StoreError(f"record {key} is damaged: phase {phase!r} is not one of {[p.value for p in LaunchPhase]}")
        exit_code = record.get("exitCode")
        return cls(
            trial=_field(record, "trial", str, key), phase=LaunchPhase(phase), reason=_field(record, "reason", str, key, "") or "",
            message=_field(record, "message", str, key, "") or "", exit_code=exit_code if isinstance(exit_code, int) else None,
            time=_field(record, "time", str, key, ""),
        )

    def to_payload(self) -> dict[str, Any]:
        return {"trial": self.trial, "phase": self.phase, "reason": self.reason, "message": self.message, "exitCode": self.exit_code, "time": self.time}


@dataclass(frozen=True)
class TrialResult:
    """``trials/<trial>/result.json``: the trial's final status and metrics (write-once).

    ``metrics`` are after metricStrategies; ``curve`` is the objective's values in report order
    (what medianstop compares); ``observation`` is Katib's per-metric min / max / latest."""

    KIND = RecordKind.TRIAL_RESULT
    trial: str
    status: TrialStatus
    reason: str = ""
    message: str = ""
    observation: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    curve: tuple[float, ...] = ()
    time: str = ""

    @classmethod
    def from_record(cls, record: dict[str, Any], key: str) -> TrialResult:
        status = _field(record, "status", str, key)
        if status not in TrialStatus._value2member_map_ or not TrialStatus(status).is_terminal:
            raise StoreError(f"record {key} is damaged: status {status!r} is not a final trial status")
        curve = record.get("curve") or []
        if not isinstance(curve, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in curve):
            raise StoreError(f"record {key} is damaged: curve must be a list of numbers")
        observation = record.get("observation") or {}
        if not isinstance(observation, dict):
            raise StoreError(f"record {key} is damaged: observation is {observation!r}")
        return cls(
            trial=_field(record, "trial", str, key), status=TrialStatus(status), reason=_field(record, "reason", str, key, "") or "",
            message=_field(record, "message", str, key, "") or "", observation=observation,
            metrics=_metric_values(record.get("metrics") or {}, key), curve=tuple(float(v) for v in curve), time=_field(record, "time", str, key, ""),
        )

    def to_payload(self) -> dict[str, Any]:
        return {
            "trial": self.trial, "status": self.status, "reason": self.reason, "message": self.message,
            "observation": self.observation, "metrics": self.metrics, "curve": list(self.curve), "time": self.time,
        }


R = TypeVar("R", TrialStarted, TrialEnded, TrialResult)
