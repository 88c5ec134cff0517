"""A FIFO named like a record in a local folder store is refused, never read: the store opened a
key with a blocking open, so ``kfp-tune list`` of a store whose neighbour held a FIFO named
experiment.json waited forever for a writer that never came."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from kfp_tune.cli import main
from kfp_tune.core.records import DamagedRecord
from kfp_tune.stores.local import LocalStore

HANG_WAIT_SECONDS = 30.0
"""How long a call may take before it is taken to hang: a hang detector, not a timing assertion
(the call takes milliseconds)."""

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")


def returns(call: Callable[[], object], fifo: Path) -> list[object]:
    """What ``call`` returned or raised, run in a thread; fails the test if it hangs (after
    opening ``fifo`` for writing, which releases a reader blocked on it)."""
    outcome: list[object] = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:  # handed to the test to judge
            outcome.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, daemon=True).start()
    if not done.wait(HANG_WAIT_SECONDS):
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # a writer came and went: the read ends
        done.wait(HANG_WAIT_SECONDS)
        pytest.fail(f"the call waited on the FIFO {fifo}")
    return outcome


def test_a_fifo_named_like_a_record_is_damage_not_a_hang(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    fifo = store.root / "experiments" / "e2" / "experiment.json"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)

    [outcome] = returns(lambda: store.get("experiments/e2/experiment.json"), fifo)

    assert isinstance(outcome, DamagedRecord), outcome
    assert "not a regular file" in str(outcome) and "experiments/e2/experiment.json" in str(outcome) and store.uri in str(outcome)


def test_a_folder_named_like_a_record_is_damage(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    (store.root / "experiments" / "e3" / "experiment.json").mkdir(parents=True)

    with pytest.raises(DamagedRecord, match="not a regular file"):
        store.get("experiments/e3/experiment.json")


def test_list_beside_a_neighbour_holding_a_fifo_returns_with_its_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    LocalStore(tmp_path / "teamA").put("experiments/e1/experiment.json", b"{}")
    (tmp_path / "teamAA").mkdir()
    fifo = tmp_path / "teamAB" / "experiments" / "e2" / "experiment.json"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)

    [code] = returns(lambda: main(["list", "--store", str(tmp_path / "teamAA")]), fifo)

    assert code == 0
    out = capsys.readouterr().out
    assert "no experiments in" in out and (tmp_path / "teamA").as_uri() in out
