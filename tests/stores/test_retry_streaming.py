"""The store a run opens is its store under retries (:class:`RetryingStore`): it passes a
streaming store's file calls on (a checkpoint of gigabytes never held whole; the S3 case is in
tests/launchers/test_checkpoint_parent_copies.py), and gives any other store the file's bytes
through get / put, so a checkpoint is kept and copied on every store."""

from __future__ import annotations

from kfp_tune.core.interfaces import Streaming
from kfp_tune.stores import LocalStore
from kfp_tune.stores.retry import RetryingStore


def test_a_store_without_streaming_gets_the_files_bytes_through_the_retries(tmp_path) -> None:
    inner = LocalStore(tmp_path / "store")
    assert not isinstance(inner, Streaming)
    store = RetryingStore(inner, deadline=0)
    assert isinstance(store, Streaming)
    source = tmp_path / "weights.bin"
    source.write_bytes(b"\x00\x01weights")
    store.upload_file("exp/trials/t/checkpoint/weights.bin", source)
    assert inner.get("exp/trials/t/checkpoint/weights.bin") == b"\x00\x01weights"
    copy = tmp_path / "copy.bin"
    assert store.download_file("exp/trials/t/checkpoint/weights.bin", copy) and copy.read_bytes() == b"\x00\x01weights"
    assert store.download_file("exp/trials/t/checkpoint/none.bin", tmp_path / "none.bin") is False
    assert not (tmp_path / "none.bin").exists()
