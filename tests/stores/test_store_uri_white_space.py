"""A store URI with white space at its start or end (a CI variable set with a trailing newline,
``KFP_TUNE_STORE='s3://bucket/c1\\n'``; QA automation, session 37, finding 6) was refused as
the wrong form, "expected s3://bucket/prefix, ...", though its form was right: now the refusal
names the white space, as the endpoint's and the keys' checks do. Still refused, never stripped."""

from __future__ import annotations

import pytest

from kfp_tune.core.errors import StoreInputError
from kfp_tune.stores import check_store_uri


@pytest.mark.parametrize("uri", ["s3://qabucket/c1\n", "st8 ", " file:///tmp/x", "s3://b/p\t"])
def test_a_uri_with_white_space_at_an_end_is_refused_naming_it(uri):
    with pytest.raises(StoreInputError) as refused:
        check_store_uri(uri)

    message = str(refused.value)
    assert "white space" in message
    assert "never stripped" in message


@pytest.mark.parametrize("uri", ["", "a\x00b"])
def test_an_empty_or_nul_uri_is_still_refused_as_the_wrong_form(uri):
    with pytest.raises(StoreInputError, match="expected s3://bucket/prefix"):
        check_store_uri(uri)
