"""An S3 store whose server refuses every request with one error code: the refusal's message,
as a user reads it, without a server to set up the refusal on."""

from __future__ import annotations

from collections.abc import Callable

import urllib3
from minio.error import S3Error

from kfp_tune.stores.s3 import S3Settings, S3Store


def refusing_store(code: str, settings: S3Settings, bucket: str = "nosuchbucket") -> S3Store:
    """A store of ``bucket`` (prefix teamA) whose server refuses every request with ``code`` (403)."""
    store = S3Store(bucket, "teamA", settings)
    error = S3Error(urllib3.response.HTTPResponse(body=b"", status=403), code, f"{code} message", f"/{bucket}/k", "r-1", "h-1", bucket, "k")

    class Refusing:
        def __getattr__(self, name: str) -> Callable[..., None]:
            def call(*args: object, **kwargs: object) -> None:
                raise error

            return call

    store._client = Refusing()  # type: ignore[assignment]
    return store
