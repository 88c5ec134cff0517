"""A record written by a newer kfp-tune is named so, never as damaged (the upgrade QA pass: an older
kfp-tune told the user to "repair or remove" a newer run's result.json, and its status showed a
best trial that was not the best, saying only that a record was damaged)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

import kfp_tune
from conftest import quad_run_to_its_end, quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core import records as records_module
from kfp_tune.core.records import RECORD_VERSION, DamagedRecord, NewerRecord, UnreadableRecord, check_record, left_out_warning

KEY = "experiments/e/trials/t-1/result.json"
NEWER_ADVICE = f"upgrade kfp-tune ({kfp_tune.__version__} reads record version"


@pytest.mark.parametrize("version", range(1, RECORD_VERSION + 1))
def test_every_version_up_to_this_ones_is_read(version):
    record = {"kind": "TrialResult", "version": version}
    assert check_record(record, KEY, "TrialResult") is record


@pytest.mark.parametrize("ahead", [1, 7])
def test_a_newer_version_is_named_as_newer_not_damaged(ahead):
    version = RECORD_VERSION + ahead
    with pytest.raises(NewerRecord) as info:
        check_record({"kind": "TrialResult", "version": version}, KEY, "TrialResult")
    message = str(info.value)
    assert not isinstance(info.value, DamagedRecord) and isinstance(info.value, UnreadableRecord)
    assert message.startswith(f"record {KEY} was written by a newer kfp-tune (record version {version}): ")
    assert message.endswith(f"{NEWER_ADVICE} {RECORD_VERSION}) to read it; nothing was changed")
    assert "damaged" not in message and "remove" not in message
    assert info.value.key == KEY and info.value.version == version


@pytest.mark.parametrize("version", [0, -1, None, True, "2", 1.5])
def test_a_version_that_is_no_version_is_damaged(version):
    with pytest.raises(DamagedRecord, match=r"it has version .*; this kfp-tune reads version"):
        check_record({"kind": "TrialResult", "version": version}, KEY, "TrialResult")


def test_after_a_bump_the_older_versions_are_still_read(monkeypatch):
    """What a bump of RECORD_VERSION must keep: the stores already written stay readable, and the
    version after it is the newer one."""
    monkeypatch.setattr(records_module, "RECORD_VERSION", RECORD_VERSION + 1)
    for version in range(1, RECORD_VERSION + 2):
        record = {"kind": "TrialResult", "version": version}
        assert check_record(record, KEY, "TrialResult") is record
    with pytest.raises(NewerRecord, match=rf"reads record version 1 to {RECORD_VERSION + 1}\) to read it"):
        check_record({"kind": "TrialResult", "version": RECORD_VERSION + 2}, KEY, "TrialResult")


def test_a_readers_warning_says_the_best_may_be_missing_only_for_a_newer_record():
    newer = NewerRecord(KEY, RECORD_VERSION + 1)
    line = left_out_warning(newer.key, newer.problem)
    assert line == f"warning: {newer}; left out, so the counts and the best trial shown may be incomplete"
    assert left_out_warning(KEY, "not JSON") == f"warning: record {KEY} is damaged: not JSON; left out"


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``quad``, 4 trials run to the end by ``kfp-tune run --engine inline`` (seeded)."""
    return quad_run_to_its_end(tmp_path_factory.mktemp("newer"), 4)


@pytest.fixture
def newer_best(finished: Path, tmp_path: Path) -> tuple[Path, Path, str]:
    """A copy of the store whose best trial's result.json a newer kfp-tune wrote: (spec, store, that trial)."""
    store = Path(shutil.copytree(finished / "store", tmp_path / "store"))
    results = {path: json.loads(path.read_text()) for path in (store / "experiments" / "quad" / "trials").glob("*/result.json")}
    best = min(results, key=lambda path: results[path]["metrics"]["loss"])
    best.write_text(json.dumps({**results[best], "version": RECORD_VERSION + 1}))
    larger = tmp_path / "quad.yaml"  # a resume that has trials left to run
    larger.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 6, "spec.parallelTrialCount": 1})))
    return larger, store, best.parent.name


def test_a_run_is_refused_with_upgrade_advice_and_nothing_changes(newer_best, capsys):
    spec, store, trial = newer_best
    before = {p: p.read_bytes() for p in store.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main(["run", str(spec), "--engine", "inline", "--store", str(store)]) == 1
    err = capsys.readouterr().err
    key = f"experiments/quad/trials/{trial}/result.json"
    assert f"error: record {key} was written by a newer kfp-tune (record version {RECORD_VERSION + 1}): {NEWER_ADVICE}" in err
    assert "nothing was changed" in err and "damaged" not in err and "remove" not in err
    assert {p: p.read_bytes() for p in store.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("command", ["status", "trials"])
def test_a_reader_leaves_it_out_saying_the_best_may_be_missing(newer_best, command, capsys):
    """Exit 0 with the other trials shown, as for a damaged record (and as ``kubectl get`` shows
    what the API server can read): the warning says what may be missing."""
    _, store, trial = newer_best
    capsys.readouterr()
    assert main([command, "quad", "--store", str(store)]) == 0
    out, err = capsys.readouterr()
    assert f"warning: record experiments/quad/trials/{trial}/result.json was written by a newer kfp-tune" in err
    assert "left out, so the counts and the best trial shown may be incomplete" in err
    assert "damaged" not in err and "remove" not in err
    assert out


def test_the_client_logs_it_as_newer_too(newer_best, caplog):
    from kfp_tune import Client

    _, store, trial = newer_best
    with caplog.at_level("WARNING", logger="kfp_tune.client"):
        Client(str(store)).get_experiment("quad")
    messages = [r.getMessage() for r in caplog.records if trial in r.getMessage()]
    assert len(messages) == 1 and "was written by a newer kfp-tune" in messages[0] and "damaged" not in messages[0]
    assert messages[0].endswith("may be incomplete")


def test_trials_json_lists_a_newer_record_under_newer_not_damaged(newer_best, capsys):
    _, store, trial = newer_best
    capsys.readouterr()
    assert main(["trials", "quad", "--store", str(store), "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert "damaged" not in rows[trial] and rows[trial]["newer"].startswith("result.json: written by a newer kfp-tune")
    assert not [name for name, row in rows.items() if name != trial and ("newer" in row or "damaged" in row)]
    assert main(["trials", "quad", "--store", str(store)]) == 0
    (line,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith(trial)]
    assert "(newer record)" in line and "damaged" not in line


def test_list_names_a_newer_experiment_as_newer_not_unreadable(newer_best, capsys):
    _, store, _ = newer_best
    head = store / "experiments" / "quad" / "experiment.json"
    head.write_text(json.dumps({**json.loads(head.read_text()), "version": RECORD_VERSION + 1}))
    capsys.readouterr()
    assert main(["list", "--store", str(store)]) == 0
    err = capsys.readouterr().err
    assert f"warning: experiment quad was written by a newer kfp-tune (record version {RECORD_VERSION + 1}): {NEWER_ADVICE}" in err
    assert "cannot be read" not in err and "damaged" not in err and err.rstrip().endswith("left out")
