"""Stores: where everything an experiment knows lives. A local folder, or S3 (MinIO, SeaweedFS,
AWS). Both implement :class:`kfp_tune.core.interfaces.Store`."""

from __future__ import annotations

import os
from pathlib import Path

from kfp_tune.core.interfaces import Store
from kfp_tune.stores.local import LocalStore

DEFAULT_LOCAL_STORE = "./kfp-tune-runs"
"""The store used when none is given: a folder in the current directory."""


def open_store(uri: str | None = None, s3_endpoint: str | None = None) -> Store:
    """The store a URI names: ``s3://bucket/prefix`` or ``file:///path`` (or a plain path).

    S3 credentials come from the environment (see :mod:`kfp_tune.stores.s3`), never from the URI;
    so does the endpoint unless ``s3_endpoint`` names one (a pipeline parameter: it is no secret).
    Transient S3 failures are retried (:mod:`kfp_tune.stores.retry`)."""
    uri = uri or os.environ.get("KFP_TUNE_STORE") or DEFAULT_LOCAL_STORE
    if uri.startswith("s3://"):
        from kfp_tune.stores.retry import RetryingStore
        from kfp_tune.stores.s3 import S3Settings, S3Store

        return RetryingStore(S3Store.from_uri(uri, S3Settings.from_env(endpoint=s3_endpoint or None)))
    if uri.startswith("file://"):
        uri = uri[len("file://"):]
    if "://" in uri:
        raise ValueError(f"store URI {uri!r}: expected s3://bucket/prefix, file:///path or a folder path")
    return LocalStore(Path(uri))


__all__ = ["DEFAULT_LOCAL_STORE", "LocalStore", "open_store"]
