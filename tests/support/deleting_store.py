"""A store where another process's delete of ``quad`` takes its first steps at one point of a
reader's requests: the race of a read beside a delete, made deterministic (no timing)."""

from __future__ import annotations

from kfp_tune.core.records import ExperimentRecords, RecordKind
from kfp_tune.core.state import DELETING
from kfp_tune.stores import LocalStore
from pass_through_store import PassThroughStore

HEAD = "experiments/quad/experiment.json"


class DeletingStore(PassThroughStore):
    """The local store, where another process's delete of ``quad`` runs its first steps (the
    mark, then ``doomed``) at one point of a reader's requests: inside the reader's listing of the
    experiment (``at="list"``), or at its first read of another record after that listing
    (``at="read"``)."""

    def __init__(self, inner: LocalStore, at: str, doomed: list[str], mark: bool = True):
        super().__init__(inner)
        self.at, self.doomed, self.mark = at, doomed, mark
        self.listed = False
        self.done = False

    def _delete_part(self) -> None:
        if self.done:
            return
        self.done = True
        if self.mark:
            records = ExperimentRecords(self.inner, "quad")
            stored = records.read(HEAD, RecordKind.EXPERIMENT)
            assert stored is not None
            payload = {k: v for k, v in stored.items() if k not in ("kind", "version")}
            records.write(HEAD, RecordKind.EXPERIMENT, {**payload, DELETING: "2026-12-07T01:59:44Z"})
        self.inner.delete(self.doomed)

    def get(self, key: str) -> bytes | None:
        if self.at == "read" and self.listed and key != HEAD:
            self._delete_part()
        return self.inner.get(key)

    def list(self, prefix: str) -> list[str]:
        if prefix == "experiments/quad/":
            if self.at == "list":
                self._delete_part()
            keys = self.inner.list(prefix)
            self.listed = True
            return keys
        return self.inner.list(prefix)
