"""S3's other bucket naming rules, and a region or key with stray white space, are the user's
settings: refused before anything runs, exit 2, in kfp-tune's words. Before, an IP-shaped bucket
or one with ``.-`` came out as "failed: ValueError" (exit 1), ``xn--bucket`` reached the server,
compile and submit took them, ``AWS_REGION="us-east-1 "`` was "a defect in kfp-tune", and a key
with a trailing newline (a Secret made with ``echo``) "failed: ValueError" (QA s3, session 36,
finding 3). Keys are never repeated.

A key from the environment is taken as it is, as botocore's EnvProvider takes it (no strip), so
white space in one is refused, not stripped.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.errors import StoreInputError
from kfp_tune.stores import check_store_uri
from kfp_tune.stores.s3 import S3Settings

KEY = "AKQA3SECRETISH"
SECRET = "SKqa3-never-shown"


@pytest.mark.parametrize(
    ("bucket", "why"),
    [
        ("10.0.0.1", "shaped as an IP address"),
        ("192.168.1.10", "shaped as an IP address"),
        ("my.-bucket", "'.-' or '-.'"),
        ("my-.bucket", "'.-' or '-.'"),
        ("xn--bucket", "starts with 'xn--'"),
        ("data-s3alias", "ends with '-s3alias' or '--ol-s3'"),
        ("data--ol-s3", "ends with '-s3alias' or '--ol-s3'"),
    ],
)
def test_s3_s_other_bucket_rules_are_refused_naming_the_rule(bucket: str, why: str) -> None:
    with pytest.raises(StoreInputError) as info:
        check_store_uri(f"s3://{bucket}/x")
    message = str(info.value)
    assert f"{bucket!r} is not an S3 bucket name" in message and why in message, message


@pytest.mark.parametrize("bucket", ["10.0.0.1x", "my.bucket-1", "a-b.c-d", "my-xn--bucket", "s3alias-data", "1.2.3"])
def test_names_that_only_look_like_those_are_buckets(bucket: str) -> None:
    assert check_store_uri(f"s3://{bucket}/x") == f"s3://{bucket}/x"


def _experiment(tmp_path: Path) -> Path:
    spec = tmp_path / "quad.yaml"
    spec.write_text(yaml.safe_dump(quadratic_experiment()))
    return spec


@pytest.mark.parametrize("command", ["list", "compile", "submit --store", "submit --param"])
def test_every_command_refuses_an_ip_shaped_bucket_before_anything_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    spec = str(_experiment(tmp_path))
    uri = "s3://10.0.0.1/x"
    argv = {
        "list": ["list", "--store", uri],
        "compile": ["compile", spec, "-o", str(tmp_path / "p.yaml"), "--store", uri],
        "submit --store": ["submit", spec, "--host", "http://127.0.0.1:9", "--store", uri],
        "submit --param": ["submit", spec, "--host", "http://127.0.0.1:9", "--param", f"store_uri={uri}"],
    }[command]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and "shaped as an IP address" in err and "ValueError" not in err, err
    assert not (tmp_path / "p.yaml").exists()


def _env(**values: str) -> dict[str, str]:
    return {"KFP_TUNE_S3_ENDPOINT": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET, **values}


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("AWS_ACCESS_KEY_ID", KEY + "\n", "AWS_ACCESS_KEY_ID ends with a newline (a Secret made with `echo`?"),
        ("AWS_SECRET_ACCESS_KEY", SECRET + "\n", "AWS_SECRET_ACCESS_KEY ends with a newline (a Secret made with `echo`?"),
        ("AWS_SESSION_TOKEN", "tok" + SECRET + "\n", "AWS_SESSION_TOKEN ends with a newline (a Secret made with `echo`?"),
        ("AWS_ACCESS_KEY_ID", " " + KEY, "AWS_ACCESS_KEY_ID has white space in it"),
        ("AWS_SECRET_ACCESS_KEY", SECRET + " ", "AWS_SECRET_ACCESS_KEY begins or ends with white space"),
    ],
)
def test_a_key_with_white_space_is_refused_naming_the_variable_never_the_key(variable: str, value: str, said: str) -> None:
    with pytest.raises(StoreInputError) as info:
        S3Settings.from_env(_env(**{variable: value}))
    message = str(info.value)
    assert said in message, message
    assert KEY not in message and SECRET not in message


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("AWS_REGION", "us-east-1 ", "AWS_REGION 'us-east-1 ' is not a region name: it has white space in it"),
        ("AWS_DEFAULT_REGION", "eu-west-3\n", "AWS_DEFAULT_REGION 'eu-west-3\\n' is not a region name: it ends with a newline"),
        ("AWS_REGION", "us/east", "AWS_REGION 'us/east' is not a region name (letters, digits, '-' or '_', such as us-east-1)"),
    ],
)
def test_a_region_that_is_not_one_is_refused_naming_the_variable(variable: str, value: str, said: str) -> None:
    with pytest.raises(StoreInputError) as info:
        S3Settings.from_env(_env(**{variable: value}))
    assert said in str(info.value), str(info.value)


@pytest.mark.parametrize("region", ["eu-west-3", "EU-WEST-1", "us-gov-west-1"])
def test_a_region_name_is_taken(region: str) -> None:
    assert S3Settings.from_env(_env(AWS_REGION=region)).region == region


@pytest.mark.parametrize(
    ("variable", "value"),
    [("AWS_REGION", "us-east-1 "), ("AWS_ACCESS_KEY_ID", KEY + "\n"), ("AWS_SESSION_TOKEN", "tok\n")],
)
def test_list_with_such_a_value_is_exit_2_in_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str, value: str) -> None:
    for name, setting in _env(**{variable: value}, KFP_TUNE_STORE_RETRY_SECONDS="0").items():
        monkeypatch.setenv(name, setting)
    code = main(["list", "--store", "s3://bucket/team"])
    err = capsys.readouterr().err
    assert code == 2 and variable in err and len(err.strip().splitlines()) == 1, err
    assert "defect" not in err and "ValueError" not in err and KEY not in err and SECRET not in err, err


def test_minio_s_own_refusal_is_the_user_s_setting_in_kfp_tune_s_words() -> None:
    """A store made by hand (S3Store with its own settings) skips the flag checks: the minio
    client's ValueError (an IP-shaped bucket, a key with a newline in the Authorization header,
    whose text holds the key) is still exit 2 in kfp-tune's words, the key never repeated."""
    from kfp_tune.stores.s3 import S3Store

    store = S3Store("10.0.0.1", "x", S3Settings(endpoint="127.0.0.1:9", secure=False, access_key=KEY + "\n", secret_key=SECRET))
    with pytest.raises(StoreInputError) as info:
        store.list("experiments/")
    message = str(info.value)
    assert "the minio client refused the request as given" in message and "ValueError" not in message and KEY not in message, message
    with pytest.raises(StoreInputError, match="invalid region"):
        S3Store("bucket", "x", S3Settings(endpoint="127.0.0.1:9", secure=False, region="us-east-1 "))


def test_an_endpoint_ending_with_white_space_is_refused_saying_so() -> None:
    """QA s3, session 36, finding 4's tail: ``KFP_TUNE_S3_ENDPOINT="http://host:port "`` was
    refused "expected http://host:port or https://host", the space shown only by the quotes."""
    with pytest.raises(StoreInputError) as info:
        S3Settings.from_env(_env(KFP_TUNE_S3_ENDPOINT="http://127.0.0.1:9000 "))
    assert "it ends with white space (a space or newline pasted with it?)" in str(info.value), str(info.value)
