"""The Store contract (kfp_tune.stores.testing) over every store kfp-tune ships: a local folder,
S3 on a real SeaweedFS server (loopback; the session's ``seaweed`` fixture), and both behind
RetryingStore, as open_store hands S3 out."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfp_tune.stores import LocalStore
from kfp_tune.stores.retry import RetryingStore
from kfp_tune.stores.s3 import S3Store
from kfp_tune.stores.testing import StoreContract


class TestLocalStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> LocalStore:
        return LocalStore(tmp_path / "store")


class TestRetryingLocalStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> RetryingStore:
        return RetryingStore(LocalStore(tmp_path / "store"), deadline=5.0)


@pytest.mark.s3
class TestS3Store(StoreContract):
    """A bucket of its own per test, under a key prefix (s3://bucket/some/prefix)."""

    @pytest.fixture
    def store(self, s3_store: S3Store) -> S3Store:
        return s3_store


@pytest.mark.s3
class TestS3StoreAtBucketRoot(StoreContract):
    """No key prefix: keys are the bucket's object names as they are."""

    @pytest.fixture
    def store(self, s3_env: dict[str, str], s3_bucket: str) -> S3Store:
        return S3Store.from_uri(f"s3://{s3_bucket}")


@pytest.mark.s3
class TestRetryingS3Store(StoreContract):
    @pytest.fixture
    def store(self, s3_store: S3Store) -> RetryingStore:
        return RetryingStore(s3_store, deadline=5.0)
