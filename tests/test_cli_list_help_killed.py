"""``kfp-tune list --help`` says which trials its ``killed`` column counts (QA of session 37):
every Killed trial, those an interrupt recorded Killed and gave the budget of back included
(Katib's trialsKilled), where ``run``'s summary counts those apart under given back. Every
given-back trial, as the guide counts them (review A of session 38, finding 5): stale ones and
those the launcher could not create too, not only an interrupt's."""

from __future__ import annotations

import pytest

from kfp_tune.cli import main


def test_list_help_says_killed_counts_the_given_back_trials_too(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps the help
    assert "killed: every Killed trial, the given-back ones included (interrupted, stale or not created; Katib's trialsKilled" in out, out
    assert "those an interrupt gave" not in out, out
