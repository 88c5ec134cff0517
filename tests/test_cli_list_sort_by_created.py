"""kfp-tune list --sort-by created (QA "schedule", session 37, finding 5): a recurring run with a
fresh experiment per run leaves NAME-<6 characters> experiments whose names are hashes, so the
listing by name put last night's anywhere; --sort-by created lists the newest first."""

from __future__ import annotations

import importlib
import json

import pytest

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.steps.entrypoints import suggest_step

prepare = importlib.import_module("kfp_tune.steps.prepare")  # the module (kfp_tune.steps.prepare is also a function's name)
NIGHTS = ["2026-12-01T02:00:03Z", "2026-12-03T02:00:01Z", "2026-12-02T02:00:07Z", "2026-12-04T02:00:02Z"]


@pytest.fixture
def nightly_store(tmp_path, monkeypatch):
    """Four firings of a fresh-per-run schedule of 'nightly', on the nights NIGHTS, in that order."""
    store = str(tmp_path / "store")
    spec = json.dumps(quadratic_experiment(**{"metadata.name": "nightly", "spec.maxTrialCount": 2, "spec.parallelTrialCount": 1}))
    made = {}
    for number, night in enumerate(NIGHTS):
        monkeypatch.setattr(prepare, "utc_now", lambda night=night: night)
        suggest_step(store, "nightly", f"run-{number}", 0, 1, experiment_spec=spec, trial_count=0, fresh_experiment=True)
        (name,) = set(_names(store, capsys=None)) - set(made)
        made[name] = night
    return store, made


def _names(store, capsys, *flags):
    from kfp_tune.client import Client

    if capsys is None:
        return [e["metadata"]["name"] for e in Client(store).list_experiments()]
    capsys.readouterr()
    assert main(["list", "--store", store, "--json", *flags]) == 0
    return [row["name"] for row in json.loads(capsys.readouterr().out)]


def test_list_sort_by_created_lists_the_newest_first(nightly_store, capsys):
    store, made = nightly_store
    newest_first = sorted(made, key=made.get, reverse=True)
    assert sorted(made) != newest_first  # the names' order is not the nights' (else this test proves nothing)
    assert _names(store, capsys) == sorted(made)  # by name, as before
    assert _names(store, capsys, "--sort-by", "name") == sorted(made)
    assert _names(store, capsys, "--sort-by", "created") == newest_first
    capsys.readouterr()
    assert main(["list", "--store", store, "--sort-by", "created"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:]] == newest_first
    assert lines[1].rstrip().endswith("2026-12-04T02:00:02Z"), lines


def test_list_sort_by_something_else_is_refused(tmp_path, capsys):
    assert main(["list", "--store", str(tmp_path), "--sort-by", "best"]) == 2
    assert "--sort-by: invalid choice: 'best' (choose from 'name', 'created')" in capsys.readouterr().err
