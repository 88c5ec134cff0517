"""S3Store.delete names a key it could not delete as get and put name theirs: the store's URI
(bucket and prefix) once, then the key. Before, a failed request showed the prefix twice
(``s3://bucket/pre/pre/experiments/...``)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from kfp_tune.core.errors import StoreError
from kfp_tune.stores.s3 import S3Settings, S3Store

KEY = "experiments/x/a.json"


class RefusingClient:
    """A minio client whose server refuses the multi-object delete outright."""

    def remove_objects(self, bucket: str, batch: object) -> object:
        raise ConnectionRefusedError(111, "Connection refused")

    def get_object(self, bucket: str, name: str) -> object:
        raise ConnectionRefusedError(111, "Connection refused")


class PartlyDeletingClient:
    """A minio client whose server answers the delete with an error for each object."""

    def remove_objects(self, bucket: str, batch: list) -> object:
        return iter([SimpleNamespace(name=item.name, code="AccessDenied") for item in batch])


def store_with(client: object, prefix: str) -> S3Store:
    store = S3Store.from_uri(f"s3://bucket/{prefix}", S3Settings(endpoint="127.0.0.1:9", secure=False, access_key="id", secret_key="secret"))
    store._client = client  # type: ignore[assignment]
    return store


@pytest.mark.parametrize("prefix", ["pre", "team/exp", ""])
def test_a_failed_delete_names_the_key_under_the_prefix_once_as_get_does(prefix: str) -> None:
    store = store_with(RefusingClient(), prefix)
    where = f"{store.uri}/{KEY}"
    with pytest.raises(StoreError) as deleting:
        store.delete([KEY])
    with pytest.raises(StoreError) as getting:
        store.get(KEY)
    assert str(deleting.value).startswith(f"S3 delete in {where} at http://127.0.0.1:9 failed: "), deleting.value
    assert str(getting.value).startswith(f"S3 read of {where} at "), getting.value


def test_an_object_the_server_would_not_delete_is_named_once() -> None:
    store = store_with(PartlyDeletingClient(), "pre")
    with pytest.raises(StoreError) as info:
        store.delete([KEY, "experiments/x/b.json"])
    assert str(info.value) == f"S3 delete of s3://bucket/pre/{KEY} at http://127.0.0.1:9 failed: AccessDenied (2 object(s) not deleted)"
