"""A damaged or wrongly typed record in a real store (a local folder; one case on S3): the
readers (``status``, ``trials``, ``report``) name its key and what is wrong and still show every
other trial; ``run`` refuses with exit 2 naming the key, before it claims or starts anything,
and never rewrites the record (docs/guarantees.md: reported, never skipped by a run)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core import claims
from kfp_tune.core.interfaces import Store
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import load_state
from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers.local import LocalLauncher
from kfp_tune.stores import LocalStore

NAME, TRIALS = "hurt", 4


def _doc(**overrides: Any) -> dict[str, Any]:
    return quadratic_experiment(**{"metadata.name": NAME, "spec.maxTrialCount": TRIALS, "spec.parallelTrialCount": 2, **overrides})


@pytest.fixture(scope="module")
def finished_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An experiment whose 4 trials all succeeded, run once for the module."""
    folder = tmp_path_factory.mktemp("finished") / "store"
    decision = run_inline(LocalStore(folder), load_experiment(_doc()), LocalLauncher())
    assert decision.reason == "ExperimentMaxTrialsReached"
    return folder


def _json(store: Store, key: str) -> dict[str, Any]:
    data = store.get(key)
    assert data is not None
    return json.loads(data)


def _put_json(store: Store, key: str, record: Any) -> None:
    store.put(key, json.dumps(record).encode())


def _with(key_of: Callable[[ExperimentRecords, list[str]], str], change: Callable[[Store, str, ExperimentRecords, list[str]], None]) -> Callable[..., str]:
    def damage(store: Store, records: ExperimentRecords, names: list[str]) -> str:
        key = key_of(records, names)
        change(store, key, records, names)
        return key
    return damage


def _result(records: ExperimentRecords, names: list[str]) -> str:
    return records.trial_key(names[1], "result")


def _edit(edit: Callable[[dict[str, Any]], None]) -> Callable[[Store, str, ExperimentRecords, list[str]], None]:
    def change(store: Store, key: str, records: ExperimentRecords, names: list[str]) -> None:
        record = _json(store, key)
        edit(record)
        _put_json(store, key, record)
    return change


def _round_of_second(records: ExperimentRecords, names: list[str]) -> str:
    return next(k for k in records.store.list(f"{records.root}/rounds/") if names[1] in records.store.get(k).decode())


# case -> (damage, what the problem must mention, whether the second trial is still listed, and
# whether it still counts as Succeeded: only its result record says so)
CASES: dict[str, tuple[Callable[..., str], str, bool, bool]] = {
    "not-json": (_with(_result, lambda s, k, r, n: s.put(k, s.get(k)[:40])), "not JSON", True, False),
    "metric-is-a-string": (_with(_result, _edit(lambda r: r["metrics"].update(loss=str(r["metrics"]["loss"])))), "metrics", True, False),
    "missing-status": (_with(_result, _edit(lambda r: r.pop("status"))), "'status'", True, False),
    "observation-is-text": (_with(_result, _edit(lambda r: r["observation"]["loss"].update(latest="high"))), "observation of 'loss'", True, False),
    "record-of-the-wrong-kind": (
        _with(_result, lambda s, k, r, n: s.put(k, s.get(r.trial_key(n[1], "started")))), "TrialStarted", True, False,
    ),
    "record-of-another-trial": (
        _with(_result, lambda s, k, r, n: s.put(k, s.get(r.trial_key(n[2], "result")))), "record of trial", True, False,
    ),
    "started-at-is-text": (_with(lambda r, n: r.trial_key(n[1], "started"), _edit(lambda r: r.update(at="yesterday"))), "'at'", True, True),
    "round-index-is-text": (_with(_round_of_second, _edit(lambda r: r["trials"][0].update(index="one"))), "trials[0].index", False, False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_damaged_record_is_named_the_rest_still_shows_and_no_run_starts(finished_store, tmp_path, capsys, case):
    damage, problem, listed, still_succeeded = CASES[case]
    folder = tmp_path / "store"
    shutil.copytree(finished_store, folder)
    store = LocalStore(folder)
    records = ExperimentRecords(store, NAME)
    names = [t.name for t in load_state(records).trials]
    key = damage(store, records, names)
    damaged_bytes = store.get(key)
    runs_before = store.list(f"{records.root}/runs/")
    others = [n for n in names if n != names[1]]

    assert main(["status", NAME, "--store", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert key in err and problem in err and "Traceback" not in err
    assert f"trials: {TRIALS if listed else TRIALS - 1} ({TRIALS if still_succeeded else TRIALS - 1} succeeded" in out

    assert main(["status", NAME, "--store", str(folder), "--json"]) == 0  # Katib's .status, the damage on stderr
    out, err = capsys.readouterr()
    status = json.loads(out)
    assert key in err and problem in err and "Traceback" not in err
    assert status["trials"] == (TRIALS if listed else TRIALS - 1)
    assert status["trialsSucceeded"] == (TRIALS if still_succeeded else TRIALS - 1)

    assert main(["trials", NAME, "--store", str(folder), "--json"]) == 0
    out, err = capsys.readouterr()
    rows = {r["name"]: r for r in json.loads(out)}
    assert key in err
    assert all(rows[n]["status"] == TrialStatus.SUCCEEDED and "damaged" not in rows[n] for n in others), "the other trials show as they are"
    if listed:
        assert problem in rows[names[1]]["damaged"], rows[names[1]]
    else:
        assert names[1] not in rows

    assert main(["report", NAME, "--store", str(folder), "-o", str(tmp_path / "report")]) == 0
    assert key in capsys.readouterr().err
    table = (tmp_path / "report" / f"{NAME}.md").read_text()
    assert all(n in table for n in others)

    experiment_file = tmp_path / "experiment.yaml"
    experiment_file.write_text(yaml.safe_dump(_doc()))
    assert main(["run", str(experiment_file), "--engine", "inline", "--store", str(folder)]) == 2
    err = capsys.readouterr().err
    assert key in err and problem in err and "Traceback" not in err
    assert store.get(key) == damaged_bytes, "the damaged record is left as it is"
    assert store.list(f"{records.root}/runs/") == runs_before, "the run was refused before it claimed the experiment"
    claims.refuse_if_busy(records)


def test_a_damaged_experiment_record_is_named_by_the_readers(finished_store, tmp_path, capsys):
    """Without the spec nothing can be shown: the readers stop, naming the key (exit 1, no
    traceback)."""
    folder = tmp_path / "store"
    shutil.copytree(finished_store, folder)
    key = ExperimentRecords(LocalStore(folder), NAME).experiment_key()
    record = _json(LocalStore(folder), key)
    record["spec"]["parameters"] = "x"
    _put_json(LocalStore(folder), key, record)
    for command in (["status", NAME], ["trials", NAME], ["report", NAME, "-o", str(tmp_path / "report")]):
        assert main([*command, "--store", str(folder)]) == 1
        err = capsys.readouterr().err
        assert f"record {key} is damaged" in err and "Traceback" not in err


def test_a_damaged_claim_refuses_the_run_and_readers_still_work(finished_store, tmp_path, capsys):
    folder = tmp_path / "store"
    shutil.copytree(finished_store, folder)
    records = ExperimentRecords(LocalStore(folder), NAME)
    key = next(k for k in records.store.list(f"{records.root}/runs/") if k.endswith("/runs/000001.json"))
    _put_json(records.store, key, {"kind": "RunClaim", "version": 1, "run": 7})
    experiment_file = tmp_path / "experiment.yaml"
    experiment_file.write_text(yaml.safe_dump(_doc(**{"spec.maxTrialCount": TRIALS + 1})))
    assert main(["run", str(experiment_file), "--engine", "inline", "--store", str(folder)]) == 2
    assert key in capsys.readouterr().err
    assert len(load_state(records).trials) == TRIALS, "nothing ran"
    assert main(["status", NAME, "--store", str(folder)]) == 0


def test_the_exit_handler_releases_the_claim_even_when_the_records_are_damaged(finished_store, tmp_path):
    """The pipeline's exit handler (close_run) gives the run's claim back however the run
    ended, also when it cannot read the experiment's records."""
    from kfp_tune.steps.decide_stop import close_run

    folder = tmp_path / "store"
    shutil.copytree(finished_store, folder)
    records = ExperimentRecords(LocalStore(folder), NAME)
    names = [t.name for t in load_state(records).trials]
    records.store.put(records.trial_key(names[0], "result"), b"{")
    claims.claim(records, "run-held")
    close_run(records, "run-held")
    current = claims.latest_claim(records)
    assert current is not None and current.run == "run-held" and current.ended


@pytest.mark.s3
def test_a_damaged_record_on_s3_is_named_and_the_rest_still_shows(s3_env, s3_bucket, tmp_path, capsys):
    """The same through a real S3 server (SeaweedFS): a metric stored as a string."""
    from kfp_tune.stores import open_store

    uri = f"s3://{s3_bucket}/kfp-tune"
    store = open_store(uri)
    run_inline(store, load_experiment(_doc()), LocalLauncher())
    records = ExperimentRecords(store, NAME)
    names = [t.name for t in load_state(records).trials]
    key = records.trial_key(names[1], "result")
    record = _json(store, key)
    record["metrics"]["loss"] = "0.1"
    _put_json(store, key, record)

    assert main(["trials", NAME, "--store", uri, "--json"]) == 0
    out, err = capsys.readouterr()
    rows = {r["name"]: r for r in json.loads(out)}
    assert key in err and "metrics" in rows[names[1]]["damaged"]
    assert all(rows[n]["status"] == TrialStatus.SUCCEEDED for n in names if n != names[1])
    experiment_file = tmp_path / "experiment.yaml"
    experiment_file.write_text(yaml.safe_dump(_doc()))
    assert main(["run", str(experiment_file), "--engine", "inline", "--store", uri]) == 2
    assert key in capsys.readouterr().err
    claims.refuse_if_busy(records)
