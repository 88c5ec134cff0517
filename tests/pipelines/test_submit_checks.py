"""What kfp_tune.submit / schedule refuse before anything is sent, and what they keep: the
options only an experiment's compiling uses, given with a ready pipeline; a cron KFP's
robfig/cron v1.2.0 would not parse; structured run arguments of a ready pipeline. Through the
real kfp.Client against the fake KFP API server (tests/support/fake_kfp.py)."""

# No `from __future__ import annotations`: KFP reads the annotations of the components defined here.

import pytest
from kfp import dsl

import kfp_tune
from conftest import quadratic_experiment
from kfp_tune.core.errors import SpecError
from kfp_tune.pipelines import compile_pipeline
from kfp_tune.pipelines.submit import CRON_DESCRIPTORS, check_cron, go_duration_nanoseconds


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


@dsl.component
def bowl(x: float, y: float) -> float:
    return (x - 0.3) ** 2 + (y - 0.6) ** 2


def test_rounds_for_a_ready_pipeline_is_refused_with_advice_that_fits_it(fake_kfp_host, compiled):
    """QA: the rounds refusal told every ready pipeline to be rebuilt with compile_pipeline or
    tuning_step rounds=, also a component_trials pipeline, which has no rounds (one loop
    iteration per trial): for one of those it now says to leave rounds out."""
    from kfp_tune.pipelines import component_trials

    trials = component_trials(quadratic_experiment(), bowl)
    said = _refused(lambda **kw: kfp_tune.submit(trials, host=fake_kfp_host.url, **kw), rounds=3)["rounds"]
    assert "component_trials pipeline, which has no rounds" in said and "leave rounds out" in said and "rounds=N" not in said
    said = _refused(lambda **kw: kfp_tune.submit(compiled, host=fake_kfp_host.url, **kw), rounds=3)["rounds"]
    assert "tuning_step(experiment, rounds=N)" in said and "(component_trials takes none)" in said
    assert fake_kfp_host.requests == []


@pytest.mark.parametrize(
    "cron, expected",
    [
        ("@DAILY", "write '@daily': the descriptors are lower case"),
        ("@Hourly", "write '@hourly'"),
        ("@daily ", "write '@daily'"),
        (" @daily", "expected the descriptor with nothing before it, e.g. '@daily'"),
        ("\t@hourly", "expected the descriptor with nothing before it"),
        ("@every  6h", "@every ' 6h': expected a positive duration as Go writes it, e.g. 30m, 6h or 1h30m (one space after @every"),
        ("@every 6h ", "(one space after @every, none after the duration)"),
        ("@every\t6h", "write '@every 6h': lower case, one space, then the duration"),
        ("@EVERY 6h", "write '@every 6h'"),
        ("@every 6", "@every '6': expected a positive duration"),
        ("@every 1mh", "@every '1mh': expected a positive duration"),
        ("@every -1h", "@every '-1h': expected a positive duration"),
        ("@every 2562048h", "@every '2562048h': expected a positive duration"),  # past Go's int64 nanoseconds
        ("0\x1c0 2 * * *", "expected six fields"),  # \x1c is Python's whitespace, not Go's: five fields for robfig/cron
        (5, "expected KFP's cron, six fields"),
        ("0 0 2 * * *" + " " * 190, "expected KFP's cron, six fields"),  # 201 characters
    ],
)
def test_check_cron_refuses_what_kfp_s_robfig_cron_does_not_parse_naming_cron(cron, expected):
    """robfig/cron v1.2.0 (KFP's go.mod) reads a descriptor only where the text starts with @,
    matches it case-sensitively, and takes exactly "@every " and a Go duration; the text is sent
    as it is, so each of these would be refused by the KFP API, or never run."""
    with pytest.raises(SpecError) as refused:
        check_cron(cron)
    (error,) = refused.value.errors
    assert error.path == "cron" and expected in error.message


@pytest.mark.parametrize(
    "cron", [*CRON_DESCRIPTORS, "@every 6h", "@every 1h30m", "@every 1.5h", "@every .5s", "@every +90s", "@every 1μs", "@every 1µs", " 0 0 2 * * * ", "0\t0 2 * * sun"],
)
def test_check_cron_takes_what_robfig_cron_parses(cron):
    check_cron(cron)


def test_go_duration_reads_as_go_s_time_parse_duration():
    assert go_duration_nanoseconds("1h30m") == 5400 * 10**9
    assert go_duration_nanoseconds("1.5s") == go_duration_nanoseconds("1500ms") == 1_500_000_000
    assert go_duration_nanoseconds("-2m") == -120 * 10**9 and go_duration_nanoseconds("0") == go_duration_nanoseconds("-0") == 0
    assert go_duration_nanoseconds("2562047h") == 2562047 * 3600 * 10**9
    for refused in ("", "+", "1", ".s", "1 h", "1h ", "1d", "٣h", "2562048h", "0x"):
        assert go_duration_nanoseconds(refused) is None, refused
