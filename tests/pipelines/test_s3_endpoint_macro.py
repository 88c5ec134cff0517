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
