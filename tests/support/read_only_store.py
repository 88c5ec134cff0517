"""A folder store whose key may read and list, not write nor delete: an S3 policy of Read, List
(an analyst's key), refused as the S3 store words AccessDenied."""

from __future__ import annotations

from kfp_tune.core.errors import StoreInputError
from kfp_tune.stores.local import LocalStore

REFUSAL = "S3 write of s3://shared/teamA/{key} at http://127.0.0.1:18333 failed: AccessDenied (the credentials are valid but may not do this)"


class ReadOnlyStore(LocalStore):
    """Reads and lists as the folder store does; every write and delete refused, naming the key."""

    def put(self, key: str, data: bytes) -> None:
        raise StoreInputError(REFUSAL.format(key=key))

    def create(self, key: str, data: bytes) -> bool:
        raise StoreInputError(REFUSAL.format(key=key))

    def delete(self, keys: list[str]) -> None:
        raise StoreInputError(REFUSAL.format(key=keys[0] if keys else ""))
