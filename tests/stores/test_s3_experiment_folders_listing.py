"""How ``list`` finds the experiments of an S3 store (review C of session 37, finding 2): by a
delimiter listing of ``experiments/`` (every page) and one small look per folder for its
experiment record, not by listing every key of every trial (about seven a trial). Counted keys
and requests on a real S3 server (SeaweedFS)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from kfp_tune.client import experiment_folders
from kfp_tune.stores.retry import RetryingStore
from kfp_tune.stores.s3 import S3Store

TRIAL_KEYS = 200
"""Keys put under each experiment's trials/: what a full listing would have to read."""


def _counting(store: S3Store) -> Counter[str]:
    """Count the S3 listing requests (each list_objects call) and the keys they give."""
    counts: Counter[str] = Counter()
    listing = store._client.list_objects

    def counted(*args: Any, **kwargs: Any) -> Any:
        counts["listings"] += 1
        for item in listing(*args, **kwargs):
            counts["keys"] += 1
            yield item
    store._client.list_objects = counted  # type: ignore[method-assign]
    return counts


def test_experiment_folders_on_s3_reads_no_trial_keys(s3_store: S3Store) -> None:
    for name in ("alpha", "beta", "gamma"):
        s3_store.put(f"experiments/{name}/experiment.json", b"{}")
        for index in range(TRIAL_KEYS):
            s3_store.put(f"experiments/{name}/trials/{name}-{index:04d}/result.json", b"{}")
    s3_store.put("experiments/notes/README.md", b"no experiment here")  # no experiment record: left out
    s3_store.put("experiments/quad_backup/experiment.json", b"{}")  # a record, but not an experiment's name
    s3_store.put("experiments/alphabet/experiment.json.old", b"{}")  # a key that only starts like a record
    counts = _counting(s3_store)
    names, misnamed = experiment_folders(RetryingStore(s3_store))
    assert names == ["alpha", "beta", "gamma"], names
    assert list(misnamed) == ["quad_backup"] and "not named as an experiment is" in misnamed["quad_backup"]
    # one delimiter listing of experiments/ (6 folders), then one look per folder (its record)
    assert counts["listings"] == 1 + 6, counts
    assert counts["keys"] < 20, counts  # the old recursive listing gave 3 * 200 + 6 keys


def test_experiment_folders_on_s3_follows_every_page_of_folders(s3_store: S3Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """More than a delimiter listing's first page (1,000 folders): every one is found. The server's
    pages are the client's to follow; here a client that gives 1,500 folders stands for them."""
    full = s3_store._key("experiments") + "/"
    folders = [f"{full}exp-{index:04d}/" for index in range(1500)]

    class Item:
        def __init__(self, object_name: str) -> None:
            self.object_name = object_name

    def list_objects(bucket: str, prefix: str = "", recursive: bool = False, **kwargs: Any) -> Any:
        if prefix == full and not recursive:
            return iter(Item(name) for name in folders)
        assert prefix.startswith(full) and prefix.endswith("/experiment.json"), prefix
        return iter([Item(prefix)])
    monkeypatch.setattr(s3_store._client, "list_objects", list_objects)
    names, misnamed = experiment_folders(s3_store)
    assert len(names) == 1500 and names[-1] == "exp-1499" and not misnamed
