"""A '[' or ']' in a store URI or an S3 endpoint (urlsplit's "Invalid IPv6 URL") is the user's
mistake, refused naming where it came from and what was expected, never a defect, and the
credentials around it are not repeated."""

from __future__ import annotations

import pytest

from kfp_tune.cli import main
from kfp_tune.core.errors import StoreInputError
from kfp_tune.stores import check_store_uri, open_store
from kfp_tune.stores.s3 import S3Settings, S3Store, check_s3_endpoint

ENDPOINT_EXPECTED = "expected http://host:port or https://host ('[' and ']' only around an IPv6 address: http://[::1]:9000)"


@pytest.mark.parametrize("uri", ["s3://[bucket/x", "s3://bucket]/x", "file://[x/runs", "s3://[::1/x"])
def test_a_bracket_in_a_store_uri_is_refused_saying_what_was_expected(uri: str, capsys):
    with pytest.raises(StoreInputError) as refused:
        check_store_uri(uri)
    assert str(refused.value) == (
        f"store URI {uri!r}: '[' and ']' may only enclose an IPv6 address, which no store URI holds; expected s3://bucket/prefix, file:///path or a folder path"
    )
    with pytest.raises(StoreInputError):
        S3Store.from_uri(uri, S3Settings("minio:9000", secure=False))
    assert main(["list", "--store", uri]) == 2
    assert capsys.readouterr().err == f"error: --store: {refused.value}\n"


@pytest.mark.parametrize("raw", ["http://[minio:9000", "minio]:9000", "https://AKIAEXAMPLE:secret@[minio:9000"])
def test_a_bracket_in_the_s3_endpoint_is_refused_naming_its_source(raw: str, monkeypatch, capsys):
    with pytest.raises(StoreInputError) as refused:
        check_s3_endpoint(raw)
    assert str(refused.value).endswith(f" from the s3_endpoint parameter: {ENDPOINT_EXPECTED}")
    assert "AKIAEXAMPLE" not in str(refused.value) and "secret" not in str(refused.value)
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", raw)
    with pytest.raises(StoreInputError, match=r"from \$KFP_TUNE_S3_ENDPOINT: "):
        open_store("s3://bucket/x")
    assert main(["list", "--store", "s3://bucket/x"]) == 2  # was 1: "unexpected ValueError: Invalid IPv6 URL (a defect in kfp-tune)"
    err = capsys.readouterr().err
    assert err.startswith("error: S3 endpoint ") and err.endswith(f" from $KFP_TUNE_S3_ENDPOINT: {ENDPOINT_EXPECTED}\n") and "secret" not in err, err
    assert check_s3_endpoint("http://[::1]:9000") == "http://[::1]:9000"  # an IPv6 address is one
