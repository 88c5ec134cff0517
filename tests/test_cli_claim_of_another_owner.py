"""kfp-tune run's store refusal when the experiment's newest claim, made since the run began, is
another process's (another machine got to the claim first): not this run's claim, so the refusal
is the user's settings, exit 2, not a refusal mid-run (exit 1). A mutation pass showed the owner
check unpinned at the CLI (core.claims.held_by_this_process has a unit test)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import kfp_tune.cli
from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.errors import StoreInputError
from kfp_tune.stores.local import LocalStore

DENIED = "S3 write of s3://shared/teamA/{key} failed: AccessDenied (check what the bucket's policy grants them on 'shared')"
OTHER_OWNER = "other-machine/4242"


class BeatenToTheClaim(LocalStore):
    """A store where another machine's run writes the claim this run was writing (its record,
    with that machine as its holder), and then refuses this run's write."""

    def create(self, key: str, data: bytes) -> bool:
        if "/runs/" in key:
            super().create(key, json.dumps({**json.loads(data), "run": "elsewhere-run", "holder": OTHER_OWNER}).encode())
            raise StoreInputError(DENIED.format(key=key))
        return super().create(key, data)


def test_a_refusal_after_another_owner_claimed_the_experiment_since_the_run_began_is_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1})))
    store = BeatenToTheClaim(tmp_path / "store")
    monkeypatch.setattr(kfp_tune.cli, "_open_store", lambda uri, look=False: store)
    assert main(["run", str(path), "--engine", "inline", "--store", "s3://shared/teamA"]) == 2
    err = capsys.readouterr().err
    assert "failed: AccessDenied" in err and "after it had started" not in err, err
    held = [json.loads(record.read_text()) for record in (tmp_path / "store").rglob("runs/*.json")]
    assert [record["holder"] for record in held] == [OTHER_OWNER]  # the newest claim is the other machine's
