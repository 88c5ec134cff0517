"""``kfp-tune list``'s hint of the stores next to an empty one (stores.stores_beside), as 6b9ce71
left it: one store whose look failed (an experiment folder that is a link: DamagedRecord) wiped
out the whole hint."""

from __future__ import annotations

import os
from collections import Counter

from memory_store import MemoryStore

from kfp_tune.cli import main
from kfp_tune.core.errors import StoreError
from kfp_tune.stores import stores_beside


class Bucket(MemoryStore):
    """A bucket's objects (full keys), seen from the store at ``prefix``, as S3Store browses it,
    counting its requests (one listing per call: none here passes 1,000 names a level)."""

    def __init__(self, objects: dict[str, bytes], prefix: str = "", requests: Counter[str] | None = None, refusing: str = "") -> None:
        super().__init__(f"s3://data/{prefix}".rstrip("/"))
        self.objects, self.prefix, self.refusing = objects, prefix, refusing
        self.requests: Counter[str] = Counter() if requests is None else requests

    def get(self, key: str) -> bytes | None:
        self.requests["GET"] += 1
        if self.refusing and self.prefix == self.refusing:
            raise StoreError(f"S3 read of {key} failed: AccessDenied")
        return self.objects.get(f"{self.prefix}/{key}" if self.prefix else key)

    def _names_in(self, full: str) -> list[str]:
        self.requests["LIST"] += 1
        return sorted({key[len(full):].split("/", 1)[0] for key in self.objects if key.startswith(full) and "/" in key[len(full):]})

    def prefixes_beside(self) -> list[str]:
        if not self.prefix:
            return []
        parent = self.prefix.rpartition("/")[0]
        full = f"{parent}/" if parent else ""
        return [f"s3://data/{full}{name}" for name in self._names_in(full) if f"{full}{name}" != self.prefix]

    def prefixes_under(self) -> list[str]:
        full = f"{self.prefix}/" if self.prefix else ""
        return [f"s3://data/{full}{name}" for name in self._names_in(full)]

    def folders(self, prefix: str) -> list[str]:
        return self._names_in(f"{self.prefix}/{prefix.rstrip('/')}/" if self.prefix else f"{prefix.rstrip('/')}/")

    def open_beside(self, uri: str) -> Bucket:
        return Bucket(self.objects, uri.removeprefix("s3://data").strip("/"), self.requests, self.refusing)


def test_a_prefix_whose_record_read_is_refused_is_a_no_for_that_prefix_only():
    objects = {"teamA/experiments/e1/experiment.json": b"{}", "teamAB/experiments/e2/experiment.json": b"{}"}
    assert stores_beside(Bucket(objects, "teamAA", refusing="teamAB")) == ["s3://data/teamA"]


def test_a_linked_experiment_folder_beside_is_a_no_for_that_folder_only(tmp_path, capsys):
    """lroot/teamAB/experiments/e2 is a link (the store follows none: DamagedRecord): teamA is
    still named, beside lroot/teamAA and under lroot."""
    root = tmp_path / "lroot"
    (root / "teamA" / "experiments" / "e1").mkdir(parents=True)
    (root / "teamA" / "experiments" / "e1" / "experiment.json").write_text("{}")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "experiment.json").write_text("{}")
    (root / "teamAB" / "experiments").mkdir(parents=True)
    os.symlink(tmp_path / "elsewhere", root / "teamAB" / "experiments" / "e2")
    (root / "teamAA").mkdir()
    for store in (root / "teamAA", root):
        assert main(["list", "--store", str(store)]) == 0
        assert capsys.readouterr().out == f"no experiments in {store.as_uri()}; did you mean: {(root / 'teamA').as_uri()}?\n"
