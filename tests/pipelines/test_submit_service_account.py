"""``submit`` and ``schedule --service-account``: a Kubernetes service account's name is a DNS-1123
subdomain (dots allowed, as ``pipeline.runner``); anything else is refused naming the flag before
any request reaches the KFP host (tests/support/fake_kfp.py), where it would fail only once the
run's pods are created."""

from __future__ import annotations

import pytest

from conftest import REPO
from kfp_tune.cli import main

DIGITS = str(REPO / "images" / "sklearn-digits" / "experiment.yaml")
COMMANDS = {"submit": [], "schedule": ["--cron", "@daily"]}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_service_account_with_dots_is_sent(fake_kfp_host, capsys, command):
    argv = [command, DIGITS, "--host", fake_kfp_host.url, "--service-account", "pipeline.runner", *COMMANDS[command]]
    assert main(argv) == 0, capsys.readouterr().err
    [sent] = fake_kfp_host.posted("runs" if command == "submit" else "recurringruns")
    assert sent["service_account"] == "pipeline.runner"


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("account", ["Bad_SA", "runner-", ".runner", "pipeline..runner", "a" * 254])
def test_a_service_account_that_is_no_kubernetes_name_is_refused_before_the_host_is_asked(fake_kfp_host, capsys, command, account):
    argv = [command, DIGITS, "--host", fake_kfp_host.url, "--service-account", account, *COMMANDS[command]]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --service-account: expected a Kubernetes name, a DNS-1123 subdomain"), err
    assert fake_kfp_host.requests == []
