"""A refused store URI, path or setting quotes the value that was wrong, so the user sees which
of several settings (or which part of the URI) to fix without reading the code."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from kfp_tune.core.errors import StoreInputError
from kfp_tune.stores import check_environment, check_store_uri, open_store


@pytest.mark.parametrize("raw", ["soon", "-1", "1e999"])
def test_a_bad_seconds_setting_is_quoted(raw: str) -> None:
    with pytest.raises(StoreInputError) as info:
        check_environment({"KFP_TUNE_RUN_TTL_SECONDS": "60", "KFP_TUNE_STORE_RETRY_SECONDS": raw})
    assert str(info.value) == f"$KFP_TUNE_STORE_RETRY_SECONDS: expected a number of seconds, 0 or more, got {raw!r}"


@pytest.mark.parametrize("bucket", ["Team-Bucket", "ab", "my..bucket"])
def test_a_bad_bucket_name_is_quoted_apart_from_the_uri(bucket: str) -> None:
    with pytest.raises(StoreInputError) as info:
        check_store_uri(f"s3://{bucket}/exp")
    assert f": {bucket!r} is not an S3 bucket name" in str(info.value)


def test_the_host_a_file_uri_was_read_as_is_quoted() -> None:
    with pytest.raises(StoreInputError) as info:
        check_store_uri("file://fileserver/share/runs")
    assert "'fileserver' is read as a host name" in str(info.value)


def test_a_path_too_long_to_use_is_refused_naming_it_and_why(tmp_path: Path) -> None:
    """The operating system's reason is passed on, and the path is quoted (cut short)."""
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    folder = tmp_path / ("r" * (limit + 1))
    with pytest.raises(StoreInputError) as info:
        open_store(str(folder))
    message = str(info.value)
    assert message.startswith("store '" + str(tmp_path)[:16]), message
    assert message.endswith(f": not a usable path: {os.strerror(errno.ENAMETOOLONG)}"), message
    assert os.listdir(tmp_path) == [], "nothing was created"
