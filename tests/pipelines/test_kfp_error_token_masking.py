"""The masking of tokens in the KFP API's words hid ordinary words after "bearer" / "basic"
("Failed basic validation of pipeline spec" read "Failed basic *** of pipeline spec") and masked
kfp's 'placeholder' api_key (kfp.Client(credentials=...) before its first request) wherever the
server's words said it (review B of session 38, finding 5, of b6d9930). Now only the client's own
token and what looks like a token are masked: a JWT, or after Bearer / Basic / token= / token:
a value of 20 or more characters holding a digit, or base64 with its padding."""

from __future__ import annotations

import json

import pytest

from kfp_tune.core.errors import KfpTuneError
from kfp_tune.pipelines.submit import HealthCheckAnswer, kfp_api_errors

HOST = "http://127.0.0.1:9"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlMTIz"


def _said(words: str, secrets: tuple[str, ...] = ()) -> str:
    """What kfp-tune says of a 500 whose body holds ``words``, the client's token ``secrets``."""
    with pytest.raises(KfpTuneError) as info, kfp_api_errors(HOST):
        raise HealthCheckAnswer(500, "Internal Server Error", json.dumps({"error": words}), secrets)
    message = str(info.value)
    assert message.startswith(f"KFP API at {HOST} answered 500 Internal Server Error: "), message
    return message.split("Internal Server Error: ", 1)[1]


@pytest.mark.parametrize("words", [
    "Failed basic validation of pipeline spec: missing root",
    "Bearer authentication required",
    "basic auth is disabled; token: required",
    "token=expired for run 3f2a9c1e-0b7d-4a57-9d0e-1c2b3a4d5e6f",
])
def test_ordinary_words_after_bearer_or_basic_are_kept(words):
    assert _said(words) == words


@pytest.mark.parametrize(("words", "kept"), [
    (f"denied for token Bearer {JWT}", "denied for token Bearer ***"),
    (f"bad JWT {JWT} given", "bad JWT *** given"),
    ("Authorization: Bearer ya29a0AfB8x2Q7kLmN3pR5sT", "Authorization: Bearer ***"),
    ("Authorization: Basic dXNlcjpwYXNzd29yZA== refused", "Authorization: Basic *** refused"),
    ("invalid token=AbCdEf1234567890GhIjKl", "invalid token=***"),
])
def test_token_looking_values_are_masked(words, kept):
    assert _said(words) == kept


def test_the_clients_own_token_is_masked_however_it_looks():
    assert _said("user sekrit-word refused", secrets=("sekrit-word",)) == "user *** refused"


def test_kfps_placeholder_api_key_is_no_secret():
    words = "pipeline spec placeholder value missing"
    assert _said(words, secrets=("placeholder",)) == words
