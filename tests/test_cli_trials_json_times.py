"""``kfp-tune trials --json`` gave no start or end time of a trial (QA newcomer, session 38,
finding 8), which Katib's Trial has (``status.startTime``, ``status.completionTime``): each row
now has ``startTime`` and ``completionTime``, ISO-8601 UTC from the trial's own records, null
while not known (not started, not ended)."""

from __future__ import annotations

import json
import re
from datetime import datetime

import yaml

from conftest import quadratic_experiment
from kfp_tune import cli

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _trials_json(store: str, capsys) -> list[dict]:
    assert cli.main(["trials", "quad", "--store", store, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_each_trial_row_has_its_start_and_completion_time(tmp_path, capsys):
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1})))
    store = str(tmp_path / "store")
    assert cli.main(["run", str(path), "--engine", "inline", "--store", store]) == 0
    capsys.readouterr()

    rows = _trials_json(store, capsys)

    assert len(rows) == 2
    for row in rows:
        assert ISO_UTC.match(row["startTime"]), row
        assert ISO_UTC.match(row["completionTime"]), row
        assert datetime.fromisoformat(row["startTime"][:-1]) <= datetime.fromisoformat(row["completionTime"][:-1]), row


def test_a_trial_not_started_or_not_ended_has_null_times(tmp_path, capsys):
    """The records a run writes as a trial starts and ends, removed as if it had not got there
    yet: its times are null, not "" nor another trial's."""
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1})))
    store = tmp_path / "store"
    assert cli.main(["run", str(path), "--engine", "inline", "--store", str(store)]) == 0
    capsys.readouterr()
    first, second = sorted((folder for folder in store.rglob("trials/*") if folder.is_dir()), key=lambda f: f.name)
    for name in ("ended.json", "result.json"):
        (first / name).unlink()
    for name in ("started.json", "beat.json", "ended.json", "result.json"):
        (second / name).unlink(missing_ok=True)

    rows = {row["name"]: row for row in _trials_json(str(store), capsys)}

    assert ISO_UTC.match(rows[first.name]["startTime"]) and rows[first.name]["completionTime"] is None, rows[first.name]
    assert rows[second.name]["startTime"] is None and rows[second.name]["completionTime"] is None, rows[second.name]
