"""A secret pasted into an ``s3://`` URI is never repeated, even when it holds an ``@`` itself:
the refusal shows only what follows the last ``@`` (the bucket and prefix), as the URI check
in ``kfp_tune.stores.check_store_uri`` does."""

from __future__ import annotations

import pytest

from kfp_tune.core.errors import StoreInputError
from kfp_tune.stores.s3 import S3Settings, S3Store

SETTINGS = S3Settings(endpoint="127.0.0.1:9", secure=False)


@pytest.mark.parametrize(
    ("uri", "secret_parts"),
    [
        ("s3://AKIAEXAMPLE:pa@ss@bucket/team", ["AKIAEXAMPLE", "pa@", "ss@", ":pa"]),
        ("s3://id:x@y@z@bucket/team", ["id:", "x@", "y@", "z@"]),
    ],
)
def test_no_part_of_a_secret_with_an_at_sign_is_shown(uri: str, secret_parts: list[str]) -> None:
    with pytest.raises(StoreInputError) as info:
        S3Store.from_uri(uri, SETTINGS)
    message = str(info.value)
    assert "'s3://***@bucket/team'" in message, "what follows the credentials is still shown"
    for part in secret_parts:
        assert part not in message, (part, message)
