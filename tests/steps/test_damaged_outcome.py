"""A damaged outcome record is absent to every reader: the trials' records are the truth. The
state reader always left one out; ``kfp-tune run`` read it back through its write-once and
crashed (``KeyError: 'message'``) or reported the damaged phase (``Running``, exit 1) for an
experiment whose trials had all succeeded (mutation-testing QA pass)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import quad_run_to_its_end
from kfp_tune.cli import main
from kfp_tune.core.records import RECORD_VERSION
from kfp_tune.core.state import is_outcome

OUTCOMES = Path("experiments") / "quad" / "outcomes"
STATUS = Path("experiments") / "quad" / "status.json"


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``quad`` run to its end by ``kfp-tune run --engine inline`` (seeded): its spec and store."""
    return quad_run_to_its_end(tmp_path_factory.mktemp("damaged-outcome"), 2)


def _without(name: str) -> Callable[[dict[str, Any]], bytes]:
    return lambda record: json.dumps({k: v for k, v in record.items() if k != name}).encode()


def _with(name: str, value: Any) -> Callable[[dict[str, Any]], bytes]:
    return lambda record: json.dumps({**record, name: value}).encode()


DAMAGES = {
    "no message": _without("message"),
    "phase Running": _with("phase", "Running"),
    "reason not text": _with("reason", 7),
    "not JSON": lambda record: b"{broken",
    "another kind": _with("kind", "Decision"),
}


@pytest.fixture
def copy(finished: Path, tmp_path: Path) -> tuple[Path, Path, dict[str, Any]]:
    """A copy of the finished store: (spec, store, its outcome record as the first run wrote it)."""
    store = Path(shutil.copytree(finished / "store", tmp_path / "store"))
    (outcome,) = (store / OUTCOMES).glob("*.json")
    record = json.loads(outcome.read_text())
    assert is_outcome(record)
    return finished / "quad.yaml", store, record


def _run(spec: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["run", str(spec), "--engine", "inline", "--store", str(store)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_run_decides_again_from_the_trials_and_leaves_the_record(copy, damage, capsys, caplog):
    spec, store, record = copy
    (outcome,) = (store / OUTCOMES).glob("*.json")
    damaged = DAMAGES[damage](record)
    outcome.write_bytes(damaged)
    with caplog.at_level("WARNING", logger="kfp_tune.steps.decide_stop"):
        code, shown = _run(spec, store, capsys)
    assert code == 0, shown
    assert f"experiment quad: {record['phase']} ({record['reason']})" in shown
    assert record["message"] in shown and "error" not in shown
    status = json.loads((store / STATUS).read_text())["status"]
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions[record["phase"]]["status"] == "True" and conditions[record["phase"]]["reason"] == record["reason"]
    key = (OUTCOMES / outcome.name).as_posix()
    warnings = [r.getMessage() for r in caplog.records if r.name == "kfp_tune.steps.decide_stop"]
    assert len(warnings) == 1 and warnings[0].startswith(f"outcome record {key} is damaged (")
    assert "remove it for the next decision to record the outcome again" in warnings[0]
    assert outcome.read_bytes() == damaged  # write once: left as it is, never replaced


def test_once_the_damaged_record_is_removed_the_next_run_records_the_outcome_again(copy, capsys):
    spec, store, record = copy
    (outcome,) = (store / OUTCOMES).glob("*.json")
    outcome.write_bytes(DAMAGES["no message"](record))
    assert _run(spec, store, capsys)[0] == 0
    outcome.unlink()
    code, shown = _run(spec, store, capsys)
    assert code == 0, shown
    again = json.loads(outcome.read_text())
    assert is_outcome(again) and (again["uid"], again["phase"], again["reason"]) == (record["uid"], record["phase"], record["reason"])


def test_an_outcome_a_newer_kfp_tune_wrote_still_stops_the_run_with_upgrade_advice(copy, capsys):
    """Nothing is wrong with a newer record: it is not "damaged", and the run is refused as for
    any other newer record (tests/test_newer_records.py)."""
    spec, store, record = copy
    (outcome,) = (store / OUTCOMES).glob("*.json")
    newer = json.dumps({**record, "version": RECORD_VERSION + 1}).encode()
    outcome.write_bytes(newer)
    code, shown = _run(spec, store, capsys)
    assert code == 1
    assert f"record {(OUTCOMES / outcome.name).as_posix()} was written by a newer kfp-tune" in shown
    assert "damaged" not in shown and outcome.read_bytes() == newer
