"""Which S3 endpoint the steps use, and what a failing one's message says about where it came
from: the s3_endpoint parameter wins over $KFP_TUNE_S3_ENDPOINT (under kfp.local the tuning
step's compiled-in cluster default did, while the message pointed at the variable)."""

from __future__ import annotations

import pytest

from kfp_tune.core.errors import StoreError
from kfp_tune.stores import open_store
from kfp_tune.stores.s3 import ENDPOINT_VARIABLES, S3Settings, S3Store

REFUSED = "http://127.0.0.1:1"
"""An endpoint where nothing listens: refused at once, no waiting."""


@pytest.fixture
def local_endpoint(monkeypatch):
    for variable in ENDPOINT_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", "http://localhost:8333")


def test_a_refused_endpoint_from_the_parameter_names_it_and_the_variable_it_overrode(local_endpoint):
    store = open_store("s3://tune/kfp-tune", REFUSED, retry_seconds=0)
    with pytest.raises(StoreError) as raised:
        store.get("experiments/x.json")
    message = str(raised.value)
    assert "check the endpoint, from the s3_endpoint parameter, which wins over $KFP_TUNE_S3_ENDPOINT ('http://localhost:8333'): give s3_endpoint=\"\" to use that" in message
    assert f"at {REFUSED} failed" in message


def endpoint_source(endpoint: str | None) -> str:
    return S3Settings.from_env(endpoint=endpoint or None).endpoint_source


def test_the_endpoint_s_source_is_the_one_used(local_endpoint, monkeypatch):
    assert endpoint_source("") == "$KFP_TUNE_S3_ENDPOINT"
    assert endpoint_source("http://localhost:8333/") == "the s3_endpoint parameter"  # the same endpoint: nothing overridden
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", "http://key:s3cr3t@localhost:8333")
    assert "s3cr3t" not in endpoint_source("http://seaweedfs.kubeflow:9000")
    monkeypatch.delenv("KFP_TUNE_S3_ENDPOINT")
    assert endpoint_source("http://seaweedfs.kubeflow:9000") == "the s3_endpoint parameter"
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert endpoint_source(None) == ""  # the AWS default: the message names both places to set one


def test_a_store_made_without_open_store_names_where_its_endpoint_came_from(local_endpoint, monkeypatch):
    """The source was set on the store by open_store after it was made, so a store made from its
    settings (S3Store.from_uri, a step's own) named the old hint, both places, instead."""
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", REFUSED)
    store = S3Store.from_uri("s3://tune/kfp-tune")
    with pytest.raises(StoreError) as raised:
        store.get("experiments/x.json")
    assert "check the endpoint, from $KFP_TUNE_S3_ENDPOINT, or that the object store is up" in str(raised.value)
