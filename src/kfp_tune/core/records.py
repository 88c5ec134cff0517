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

Every JSON record carries ``kind`` and ``version``; a record of an unknown version or that does not
parse is reported, never skipped, so a damaged store cannot silently reset an experiment.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from typing import Any

from kfp_tune.core.errors import StoreError
from kfp_tune.core.interfaces import Store

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
        existing = self.read(key, kind)
        if existing is not None:
            return existing
        record = {"kind": kind, "version": RECORD_VERSION, **payload}
        if self.store.create(key, encode_record(record)):
            return record
        stored = self.read(key, kind)
        assert stored is not None, f"{key} exists but cannot be read back"
        return stored

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
