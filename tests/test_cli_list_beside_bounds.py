"""``kfp-tune list``'s hint of the stores next to an empty one (stores.stores_beside), as 6b9ce71
left it: one store whose look failed (an experiment folder that is a link: DamagedRecord) wiped
out the whole hint; a prefix of data that is no bucket's root (``s3://data/raw`` holding 2,500
``raw/pNNNNN/``) cost a look into each of 1,000 prefixes under it, some 1,000 requests a ``list``;
and a folder store read the experiment record in only 3 folders of ``experiments/``."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from memory_store import MemoryStore

from kfp_tune.cli import main
from kfp_tune.core.errors import StoreError
from kfp_tune.stores import PREFIXES_UNDER_CHECKED, STORES_UNDER_CHECKED, stores_beside


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


def data_bucket(parts: int) -> dict[str, bytes]:
    """``raw/`` holding ``parts`` data prefixes; ``team/`` an experiment."""
    objects = {f"raw/p{number:05d}/part-0.bin": b"x" for number in range(parts)}
    objects["team/experiments/e1/experiment.json"] = b"{}"
    return objects


def test_a_prefix_of_data_that_is_no_buckets_root_is_looked_under_within_a_small_bound():
    raw = Bucket(data_bucket(2500), "raw")
    assert stores_beside(raw) == []
    assert raw.requests == Counter({"LIST": 2 + PREFIXES_UNDER_CHECKED}), "the listing beside, the one under, a look into 20"
    assert PREFIXES_UNDER_CHECKED == 20


def test_under_a_prefix_with_a_close_name_beside_it_nothing_is_looked_into():
    objects = data_bucket(0) | {f"teamx/p{number:05d}/part-0.bin": b"x" for number in range(50)}
    teamx = Bucket(objects, "teamx")
    assert stores_beside(teamx) == ["s3://data/team"]
    assert teamx.requests == Counter({"LIST": 1 + 1, "GET": 1}), "the listing beside, a look into team/"


def test_a_close_name_beside_that_holds_no_experiment_does_not_stop_the_look_under():
    objects = {"teams/teamA/experiments/e1/experiment.json": b"{}", "teams-old/README.md": b"x"}
    teams = Bucket(objects, "teams")
    assert stores_beside(teams) == ["s3://data/teams/teamA"], "teams-old/ is close but empty: teams/ is a prefix of team prefixes"
    assert teams.requests == Counter({"LIST": 1 + 1 + 1 + 1, "GET": 1}), "the listing beside, a look into teams-old/, the listing under, a look into teamA/"


def test_a_buckets_root_still_looks_into_the_first_thousand_prefixes_under_it():
    objects = {f"p{number:04d}/part-0.bin": b"x" for number in range(STORES_UNDER_CHECKED - 1)} | {"zteam/experiments/e1/experiment.json": b"{}"}
    root = Bucket(objects)
    assert stores_beside(root) == ["s3://data/zteam"]
    assert root.requests["LIST"] == 1 + STORES_UNDER_CHECKED


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


def test_a_folder_store_reads_the_record_in_every_folder_of_experiments(tmp_path: Path, capsys):
    experiments = tmp_path / "runs" / "experiments"
    for name in ("a-notes", "b-old", "c-old"):
        (experiments / name).mkdir(parents=True)
        (experiments / name / "README.md").write_text("no experiment\n")
    (experiments / "d").mkdir()
    (experiments / "d" / "experiment.json").write_text("{}")
    (tmp_path / "rune").mkdir()
    assert main(["list", "--store", str(tmp_path / "rune")]) == 0
    assert capsys.readouterr().out == f"no experiments in {(tmp_path / 'rune').as_uri()}; did you mean: {(tmp_path / 'runs').as_uri()}?\n"
