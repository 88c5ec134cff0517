"""kfp-tune submit / schedule as a user runs them (the command in a subprocess, bounded by a
timeout, so a hang fails the test rather than the suite): the host as given, a token file, and
the order in which input is checked and the host contacted (tests/support/fake_kfp.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

DIGITS = str(REPO / "images" / "sklearn-digits" / "experiment.yaml")
KFP_TUNE = str(Path(sys.executable).parent / "kfp-tune")
TOKEN = "kfptune-bearer-5e0a"
UNREACHABLE = "http://127.0.0.1:9"


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    return str(path)


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "KF_PIPELINES_ENDPOINT"}
    return subprocess.run([KFP_TUNE, *args], capture_output=True, text=True, timeout=60, env={**environ, **(env or {})})


@pytest.mark.parametrize("command", [["submit"], ["schedule", "--cron", "@daily"]])
def test_a_host_without_a_scheme_is_refused_naming_where_it_came_from(fake_kfp_host, command):
    """kfp.Client warns of it (and takes https://); the CLI re-showed each warning while still
    recording them, so the list it looped over grew without end (100% CPU, gigabytes)."""
    bare = fake_kfp_host.url.removeprefix("http://")
    result = _cli(command[0], DIGITS, "--host", bare, *command[1:])
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: --host {bare}: expected http:// or https://") and f"http://{bare}" in result.stderr
    result = _cli(command[0], DIGITS, *command[1:], env={"KF_PIPELINES_ENDPOINT": bare})
    assert result.returncode == 2 and result.stderr.startswith("error: $KF_PIPELINES_ENDPOINT: expected http:// or https://"), result.stderr
    assert bare not in result.stderr  # the variable's value is not repeated
    assert fake_kfp_host.requests == []


def test_a_warning_met_while_submitting_is_shown_once():
    """Each warning of a kind submit tells (here TrialsNamespaceWarning), met from two lines, is
    the CLI's own 'warning:' line once: not re-recorded while shown (the loop that never ended),
    not Python's 'file:line: Category:' form. (A UserWarning passed the old test whatever
    _submitting did: Python shows one once by itself.)"""
    code = (
        "import warnings\n"
        "from kfp_tune.cli import _submitting\n"
        "from kfp_tune.pipelines.submit import TrialsNamespaceWarning\n"
        "with _submitting():\n"
        "    warnings.warn('kfptune-first', TrialsNamespaceWarning)\n"
        "    warnings.warn('kfptune-second', TrialsNamespaceWarning)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["warning: kfptune-first", "warning: kfptune-second"], result.stderr


def test_an_unreachable_host_with_a_token_file_is_the_same_clear_error(token_file):
    result = _cli("submit", DIGITS, "--host", UNREACHABLE, "--token-file", token_file)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: KFP API at {UNREACHABLE} could not be reached"), result.stderr
    assert TOKEN not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["no-such-experiment.yaml"], "error: no such experiment file: no-such-experiment.yaml"),
        ([DIGITS, "--param", "nosuch=1"], "error: --param nosuch: not a parameter of this pipeline"),
    ],
)
def test_input_is_checked_before_a_token_client_contacts_the_host(fake_kfp_host, token_file, args, message):
    """With --token-file, kfp.Client was built (and asked the host for its health) before the
    experiment and --param were checked: a usage error came out as an unexpected MaxRetryError."""
    for host in (UNREACHABLE, fake_kfp_host.url):
        result = _cli("submit", *args, "--host", host, "--token-file", token_file)
        assert result.returncode == 2 and result.stderr.startswith(message), result.stderr
        assert TOKEN not in result.stdout + result.stderr
    assert fake_kfp_host.requests == []
