"""A KFP run macro in ``--param s3_endpoint`` (QA of session 37): '[[RunUUID]]' was refused by
the endpoint check as no endpoint ("'[' and ']' only around an IPv6 address") without a word of
the macro, and '{{$.scheduledTime...}}' was refused with the advice for experiment names (a
fresh experiment per run). Both now say it is KFP's run macro and that the endpoint must be
literal, before anything is sent (the fake KFP API gets no request)."""

from __future__ import annotations

import pytest

from conftest import REPO

DIGITS = str(REPO / "images" / "sklearn-digits" / "experiment.yaml")


@pytest.mark.parametrize(("endpoint", "macro"), [
    ("http://minio-[[RunUUID]]:9000", "[[RunUUID]]"),
    ("http://[[ScheduledTime.20060102]].minio:9000", "[[ScheduledTime.20060102]]"),
    ("http://minio:9000/[[Index]]", "[[Index]]"),
    ("http://{{$.scheduledTime.strftime('%Y')}}.minio:9000", "{{$.scheduledTime.strftime('%Y')}}"),
])
@pytest.mark.parametrize("command", ["submit", "schedule"])
def test_a_macro_in_s3_endpoint_is_refused_as_a_macro(fake_kfp_host, capsys, endpoint, macro, command):
    from kfp_tune.cli import main

    cron = ["--cron", "0 0 2 * * *"] if command == "schedule" else []
    argv = [command, DIGITS, "--host", fake_kfp_host.url, *cron, "--param", f"s3_endpoint={endpoint}"]
    assert main(argv) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith(f"error: --param s3_endpoint: holds {macro!r}, KFP's run macro"), err
    assert "the S3 endpoint must be literal" in err, err
    assert "fresh experiment" not in err and "IPv6" not in err, err
    assert fake_kfp_host.requests == []


LITERAL = {
    "s3_endpoint": ("http://minio-[[RunUUID]]:9000", "the S3 endpoint must be literal"),
    "store_secret": ("s3-[[RunUUID]]", "the store's Secret must be named literally"),
    "launcher_config": ('{"kind": "kubernetes", "namespace": "t-[[Index]]"}', "the launcher config must be literal"),
}


@pytest.mark.parametrize("name", sorted(LITERAL))
@pytest.mark.parametrize("call", ["submit", "schedule"])
def test_python_api_says_a_macro_in_a_literal_parameter_as_the_cli_does(fake_kfp_host, name, call):
    """Review A of session 38, finding 2: the endpoint's wording was the CLI's alone, so
    submit() / schedule() (and --param store_secret / launcher_config) gave the advice for
    experiment names, a fresh experiment per run, which no secret, endpoint or launcher config
    takes. One rule (kfp_macro_problems) now says each parameter's own, for both."""
    from kfp_tune.pipelines import submit as submitting

    value, literal = LITERAL[name]
    cron = {"cron": "0 0 2 * * *"} if call == "schedule" else {}
    with pytest.raises(submitting.ArgumentsRefused) as refused:
        getattr(submitting, call)(DIGITS, host=fake_kfp_host.url, arguments={name: value}, **cron)
    said = " ".join(str(refused.value).split())
    assert f"arguments.{name}: holds " in said and "KFP's run macro" in said, said
    assert literal in said, said
    assert "fresh experiment" not in said and "each night" not in said, said
    assert fake_kfp_host.requests == []


@pytest.mark.parametrize("name", ["store_secret", "launcher_config"])
def test_cli_says_a_macro_in_store_secret_or_launcher_config_as_a_literal(fake_kfp_host, capsys, name):
    from kfp_tune.cli import main

    value, literal = LITERAL[name]
    assert main(["schedule", DIGITS, "--host", fake_kfp_host.url, "--cron", "0 0 2 * * *", "--param", f"{name}={value}"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith(f"error: --param {name}: holds "), err
    assert literal in err and "fresh experiment" not in err, err
    assert fake_kfp_host.requests == []


@pytest.mark.parametrize("name", ["experiment_name", "store_uri"])
def test_python_api_keeps_the_fresh_experiment_advice_for_names_and_stores(fake_kfp_host, name):
    from kfp_tune.pipelines import submit as submitting

    value = "d-[[ScheduledTime.20060102]]" if name == "experiment_name" else "s3://mlpipeline/kfp-tune/[[Index]]"
    with pytest.raises(submitting.ArgumentsRefused) as refused:
        submitting.schedule(DIGITS, host=fake_kfp_host.url, cron="0 0 2 * * *", arguments={name: value})
    said = " ".join(str(refused.value).split())
    assert "fresh_experiment=True" in said and "must be literal" not in said, said
