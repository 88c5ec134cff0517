"""A password written into a URL is never repeated, even when the URL is mistyped: without the
colon of ``://`` (``http//user:pass@host``), without a scheme, with a ``/`` in the password,
or as the folder a mistyped store URI would have been. A QA pass found each of these echoed
back whole by ``--host``, ``--store``, ``status`` and ``submit_function(host=)``."""

from __future__ import annotations

from pathlib import Path

import pytest

import kfp_tune
from conftest import REPO
from kfp_tune import search
from kfp_tune.cli import main
from kfp_tune.core.errors import StoreInputError, masked_url
from kfp_tune.remote import RemoteArgumentError
from kfp_tune.stores import check_store_uri

SECRET = "kfptune-url-S3cr3t"
EXPERIMENT = str(REPO / "images" / "sklearn-digits" / "experiment.yaml")


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (f"http//alice:{SECRET}@kfp.example", "http//***@kfp.example"),
        (f"http:/alice:{SECRET}@kfp.example", "http:/***@kfp.example"),
        (f"alice:{SECRET}@kfp.example:8080/x", "***@kfp.example:8080/x"),
        (f"s3//alice:{SECRET}@bucket/x", "s3//***@bucket/x"),
        (f"s3://AKIA:{SECRET}/abc@bucket/x", "s3://***@bucket/x"),  # an AWS secret key's '/'
        (f"https//AKIA:{SECRET}/a@b@bucket", "https//***@bucket"),
        (f"file:///tmp/s3/alice%3A{SECRET}%40bucket/x", "file:///tmp/s3/***@bucket/x"),  # the folder such a store would be
        (f"git+https://alice:{SECRET}@github.com/x/y?ref=main", "git+https://***@github.com/x/y?***"),
        (f"http://me:{SECRET}@kfp.example:8080/pipeline?token=abc#x", "http://***@kfp.example:8080/pipeline?***#***"),
    ],
)
def test_a_credential_in_a_mistyped_url_is_masked(url: str, masked: str) -> None:
    assert masked_url(url) == masked
    assert SECRET not in masked_url(url)


@pytest.mark.parametrize(
    "url",
    ["https://pypi.example/pkg@1.0", "s3://bucket/run@2", "./runs/a@b", "http://host:8080/p@x", "http://[::1]:8080/a", "kfp.example", "http//kfp.example"],
)
def test_an_at_sign_that_is_no_credential_is_shown_as_given(url: str) -> None:
    assert masked_url(url) == url


def test_a_mistyped_host_with_a_password_is_refused_without_repeating_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["submit", EXPERIMENT, "--host", f"http//alice:{SECRET}@kfp.example"]) == 2
    err = capsys.readouterr().err
    assert SECRET not in err and "alice" not in err
    assert err.startswith("error: --host http//***@kfp.example: expected http:// or https:// before the host, e.g. http://***@kfp.example ")


def objective(parameters: dict) -> float:
    return float(parameters["x"]) ** 2


def test_submit_function_masks_a_mistyped_host() -> None:
    with pytest.raises(RemoteArgumentError) as info:
        kfp_tune.submit_function(objective, {"x": search.double(0, 1)}, objective_metric_name="loss", host=f"http//alice:{SECRET}@kfp.example")
    assert "tune(): host: http//***@kfp.example: expected http:// or https:// before the host, e.g. http://***@kfp.example " in str(info.value)
    assert SECRET not in str(info.value)


@pytest.mark.parametrize("call", ["submit", "schedule"])
def test_python_submit_and_schedule_refuse_a_host_without_a_scheme_as_the_cli_does(call: str) -> None:
    """QA py_submit.py: ``kfp_tune.submit(..., host="localhost:8080")`` went on to kfp.Client,
    which takes https:// and warns; the CLI refused it (its own check). check_host refuses it for
    every path now, naming ``host`` and the host, a mistyped one with a password masked."""
    from kfp_tune.core.errors import SpecError

    extra = {"cron": "@daily"} if call == "schedule" else {}
    for host, shown_host, example in (
        ("127.0.0.1:9", "127.0.0.1:9", "http://127.0.0.1:9"),
        (f"http//alice:{SECRET}@kfp.example", "http//***@kfp.example", "http://***@kfp.example"),
    ):
        with pytest.raises(SpecError) as info:
            getattr(kfp_tune, call)(EXPERIMENT, host=host, **extra)
        assert f"host {shown_host}: expected http:// or https:// before the host, e.g. {example} " in str(info.value)
        assert SECRET not in str(info.value) and "alice" not in str(info.value)


@pytest.mark.parametrize("uri", [f"s3//alice:{SECRET}@bucket/x", f"s3:/alice:{SECRET}@bucket/x", f"alice:{SECRET}@bucket"])
def test_a_store_uri_with_a_mistyped_scheme_and_credentials_is_refused_not_made_a_folder(
    uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """It was a folder path (the guide: a path is a local folder), so ``status`` read a folder
    named after the secret and printed it in its file:// URI; now it is refused, exit 2."""
    with pytest.raises(StoreInputError) as info:
        check_store_uri(uri)
    assert "this reads as a URI whose '://' is mistyped, with credentials in it" in str(info.value) and SECRET not in str(info.value)
    monkeypatch.chdir(tmp_path)
    for argv in (["status", "quad", "--store", uri], ["submit", EXPERIMENT, "--store", uri]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: --store: store URI {masked_url(uri)!r}: expected s3://bucket/prefix") and SECRET not in err
    assert list(tmp_path.iterdir()) == []


def test_a_folder_store_named_like_credentials_is_masked_where_its_uri_is_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = f"./alice:{SECRET}@bucket"
    (tmp_path / folder).mkdir()
    assert check_store_uri(folder) == folder  # a folder path the user wrote as one: still a folder
    assert main(["status", "quad", "--store", folder]) == 2
    err = capsys.readouterr().err
    assert err == f"error: no experiment 'quad' in {tmp_path.as_uri()}/***@bucket\n"
    assert main(["list", "--store", folder]) == 0
    assert capsys.readouterr().out == f"no experiments in {tmp_path.as_uri()}/***@bucket\n"


def test_a_katib_clients_repr_shows_its_host_without_a_password_or_token(tmp_path: Path) -> None:
    """A notebook cell that ends with the client shows its repr: a host given with ``user:pass@``
    or a token in its query string was shown whole."""
    for host in (f"http://alice:{SECRET}@kfp.example", f"https://kfp.example/pipeline?token={SECRET}"):
        shown = repr(kfp_tune.KatibClient(host=host, store=str(tmp_path / "store")))
        assert SECRET not in shown and "kfp.example" in shown, shown
