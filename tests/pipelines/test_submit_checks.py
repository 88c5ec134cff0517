"""What kfp_tune.submit / schedule refuse before anything is sent, and what they keep: the
options only an experiment's compiling uses, given with a ready pipeline; structured run
arguments of a ready pipeline. Through the
real kfp.Client against the fake KFP API server (tests/support/fake_kfp.py)."""

# No `from __future__ import annotations`: KFP reads the annotations of the components defined here.

import pytest
from kfp import dsl

import kfp_tune
from conftest import quadratic_experiment
from kfp_tune.core.errors import SpecError
from kfp_tune.pipelines import compile_pipeline


@pytest.fixture
def compiled(tmp_path):
    return compile_pipeline(quadratic_experiment(), tmp_path / "quad.yaml")


def _refused(call, **options) -> dict[str, str]:
    with pytest.raises(SpecError) as refused:
        call(**options)
    return {e.path: e.message for e in refused.value.errors}


def test_a_compiled_pipeline_refuses_the_options_only_compiling_uses_and_says_where_they_go(fake_kfp_host, compiled):
    """Before, submit and schedule dropped store_uri, rounds and object_store without a word for
    a compiled pipeline: the run kept its records in the package's default store, while
    ``kfp-tune submit --store`` refuses the same for a compiled pipeline."""
    options = dict(store_uri="s3://team-bucket/tuning", rounds=3, object_store="minio")
    for call in (
        lambda **kw: kfp_tune.submit(str(compiled), host=fake_kfp_host.url, **kw),
        lambda **kw: kfp_tune.schedule(compiled, "0 0 2 * * *", host=fake_kfp_host.url, **kw),
    ):
        errors = _refused(call, **options)
        assert sorted(errors) == ["object_store", "rounds", "store_uri"]
        assert "arguments={'store_uri': ...}" in errors["store_uri"]
        assert "arguments={'s3_endpoint': 'http://minio-service.kubeflow:9000'}" in errors["object_store"]
        assert "rounds=N" in errors["rounds"]
        assert list(_refused(call, store_uri="s3://team-bucket/tuning")) == ["store_uri"]
    assert fake_kfp_host.requests == []
    # what the message says works: the store as the run argument, the default object store as good as none
    submitted = kfp_tune.submit(compiled, host=fake_kfp_host.url, object_store="seaweedfs", arguments={"store_uri": "s3://team-bucket/tuning"})
    assert submitted.store == "s3://team-bucket/tuning"
    assert fake_kfp_host.runs[submitted.id]["runtime_config"]["parameters"] == {"store_uri": "s3://team-bucket/tuning"}


@dsl.component
def echo(config: dict, items: list) -> str:
    return f"{config} {items}"


@dsl.pipeline(name="structured")
def structured(config: dict, items: list):
    echo(config=config, items=items)


def test_a_pipeline_function_without_a_store_says_so_and_keeps_its_structured_arguments(fake_kfp_host):
    errors = _refused(lambda **kw: kfp_tune.submit(structured, host=fake_kfp_host.url, **kw), store_uri="s3://team-bucket/tuning")
    assert "it has no store_uri parameter" in errors["store_uri"]
    assert fake_kfp_host.requests == []
    arguments = {"config": {"lr": 0.1, "layers": [2, 3]}, "items": [1, "two"]}
    submitted = kfp_tune.submit(structured, host=fake_kfp_host.url, arguments=arguments)
    assert fake_kfp_host.runs[submitted.id]["runtime_config"]["parameters"] == arguments
    submitted = kfp_tune.submit(structured, host=fake_kfp_host.url, arguments={"config": '{"lr": 0.1}', "items": "[1]"})  # --param's text
    assert fake_kfp_host.runs[submitted.id]["runtime_config"]["parameters"] == {"config": {"lr": 0.1}, "items": [1]}
