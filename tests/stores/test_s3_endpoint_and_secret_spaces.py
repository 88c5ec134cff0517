"""White space in the S3 settings, said where it is (review D of the store fixes, findings 6 and
8): an endpoint with a space inside it was passed to the minio client, whose refusal then named
the bucket and the keys, never the endpoint; a secret key with a space inside it was refused,
though it is never sent (only the signature's key), and MinIO and SeaweedFS take one."""

from __future__ import annotations

import pytest

from kfp_tune.core.errors import StoreInputError
from kfp_tune.stores.s3 import S3Settings, S3Store

KEY = "AKQA3SECRETISH"
SECRET = "wJal/+rXUt nFEMI"


def _env(**values: str) -> dict[str, str]:
    return {"KFP_TUNE_S3_ENDPOINT": "http://127.0.0.1:9000", "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": "plain-secret", **values}


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1 :9000", "http://minio service:9000", "http://h:90\t00"])
def test_an_endpoint_with_white_space_inside_is_refused_naming_the_variable(endpoint: str) -> None:
    with pytest.raises(StoreInputError) as info:
        S3Settings.from_env(_env(KFP_TUNE_S3_ENDPOINT=endpoint))
    message = str(info.value)
    assert "from $KFP_TUNE_S3_ENDPOINT" in message and "it has white space in it" in message, message


def test_an_endpoint_ending_with_white_space_after_its_slash_is_said_so() -> None:
    with pytest.raises(StoreInputError) as info:
        S3Settings.from_env(_env(KFP_TUNE_S3_ENDPOINT="http://127.0.0.1:9000/ "))
    assert "it ends with white space (a space or newline pasted with it?)" in str(info.value), str(info.value)


def test_minio_s_refusal_names_the_endpoint_among_what_to_check() -> None:
    store = S3Store("10.0.0.1", "x", S3Settings(endpoint="127.0.0.1:9", secure=False, access_key=KEY, secret_key="s"))
    with pytest.raises(StoreInputError) as info:
        store.list("experiments/")
    assert "check KFP_TUNE_S3_ENDPOINT or the s3_endpoint parameter, the bucket name" in str(info.value), str(info.value)


def test_a_secret_key_with_a_space_inside_is_taken() -> None:
    assert S3Settings.from_env(_env(AWS_SECRET_ACCESS_KEY=SECRET)).secret_key == SECRET


@pytest.mark.parametrize(("value", "said"), [(" " + SECRET, "begins or ends with white space"), (SECRET + "\t", "begins or ends with white space"),
                                             ("wJal\nrXUt", "has a line break in it")])
def test_a_secret_key_with_white_space_at_its_ends_or_a_line_break_is_refused(value: str, said: str) -> None:
    with pytest.raises(StoreInputError) as info:
        S3Settings.from_env(_env(AWS_SECRET_ACCESS_KEY=value))
    message = str(info.value)
    assert f"AWS_SECRET_ACCESS_KEY {said}" in message and "wJal" not in message, message


@pytest.mark.parametrize("variable", ["AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN"])
def test_a_key_sent_in_a_header_with_a_space_inside_is_still_refused(variable: str) -> None:
    with pytest.raises(StoreInputError, match=f"{variable} has white space in it"):
        S3Settings.from_env(_env(**{variable: "AKQA 3SECRET"}))
