"""A run killed outright (SIGKILL), then the same experiment run again; and two runs at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from faults import ledger_counts, ledger_experiment
from kfp_tune.core import claims
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import load_state
from kfp_tune.stores import LocalStore


def _write(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _cli(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "kfp_tune.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})}, start_new_session=True, **kwargs,
    )


def _wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def _state(store_dir: Path, name: str):
    return load_state(ExperimentRecords(LocalStore(store_dir), name))


def test_sigkilled_run_resumes_at_once_without_losing_or_repeating_a_trial(tmp_path):
    """SIGKILL a run mid-way, then the same command again: it resumes at once (the claim's owner
    and the running trials' owner are gone from this machine, so neither the run's claim TTL
    nor the trials' is waited for), and no trial is lost or run twice."""
    ledger = tmp_path / "ledger.txt"
    store = tmp_path / "store"
    # 6 trials, 2 slots, each 1.5 s: killed after 2 have finished while others run
    # (maxFailedTrialCount 6: the trials the kill interrupts end TrialStale, and count as failed)
    doc = ledger_experiment(ledger, name="killed", sleep=1.5, **{"spec.maxTrialCount": 6, "spec.parallelTrialCount": 2, "spec.maxFailedTrialCount": 6})
    path = _write(tmp_path, doc)
    first = _cli("run", str(path), "--engine", "inline", "--store", str(store))

    def two_done_one_running() -> bool:
        try:
            state = _state(store, "killed")
        except Exception:
            return False
        return sum(t.is_terminal for t in state.trials) >= 2 and sum(t.started is not None and t.ended is None for t in state.trials) >= 1

    _wait_for(two_done_one_running)
    os.killpg(first.pid, signal.SIGKILL)  # the runner and its trial processes, as a lost node would
    first.wait()
    before = _state(store, "killed")
    finished_before = {t.name: t.result for t in before.trials if t.is_terminal}
    running_before = {t.name for t in before.trials if t.started is not None and t.ended is None}
    assert finished_before and running_before

    started = time.monotonic()
    second = _cli("run", str(path), "--engine", "inline", "--store", str(store), "--json")
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    # far less than the claim's TTL (900 s) or a trial's (120 s): nothing waited for a lapse
    assert time.monotonic() - started < 100, "the second run waited for a claim or a trial to lapse"
    after = _state(store, "killed")
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["status"] == "Succeeded" and summary["trials"] == 6

    assert len(after.trials) == 6, "the total never exceeds maxTrialCount"
    assert all(t.is_terminal for t in after.trials)
    for name, result in finished_before.items():
        assert after.trial(name).result == result, "finished trials are reused as they were"
    for name in running_before:
        assert (after.trial(name).status, after.trial(name).result.reason) == ("Failed", "TrialStale")
    counts = ledger_counts(ledger)
    assert max(counts.values()) == 1, f"a trial ran twice: {counts}"
    new = {t.name for t in after.trials} - set(finished_before) - running_before
    assert new and new <= set(counts) and all(after.trial(n).status == "Succeeded" for n in new)


def test_a_second_run_of_a_running_experiment_is_refused(tmp_path):
    ledger = tmp_path / "ledger.txt"
    store = tmp_path / "store"
    path = _write(tmp_path, ledger_experiment(ledger, name="busy", sleep=1.0, **{"spec.maxTrialCount": 4, "spec.parallelTrialCount": 1}))
    first = _cli("run", str(path), "--engine", "inline", "--store", str(store))
    _wait_for(lambda: ledger.exists())
    second = subprocess.run([sys.executable, "-m", "kfp_tune.cli", "run", str(path), "--engine", "inline", "--store", str(store)],
                            capture_output=True, text=True, timeout=60)
    _, first_err = first.communicate(timeout=120)
    assert first.returncode == 0, first_err
    assert second.returncode == 1
    assert "is being run by run" in second.stderr and "--take-over" in second.stderr
    state = _state(store, "busy")
    assert len(state.trials) == 4 and all(t.status == "Succeeded" for t in state.trials)
    assert max(ledger_counts(ledger).values()) == 1
    assert claims.latest_claim(ExperimentRecords(LocalStore(store), "busy")).ended, "a run that ends releases its claim"


def _claim_in_process(args: tuple[str, str]) -> str:
    store_dir, run_id = args
    records = ExperimentRecords(LocalStore(store_dir), "race")
    try:
        claims.claim(records, run_id)
        return "won"
    except Exception as exc:
        return type(exc).__name__


def test_runs_racing_for_an_experiment_one_wins(tmp_path):
    from concurrent.futures import ProcessPoolExecutor

    for attempt in range(5):
        store_dir = str(tmp_path / f"store{attempt}")
        with ProcessPoolExecutor(4) as pool:
            outcomes = list(pool.map(_claim_in_process, [(store_dir, f"run-{i}") for i in range(4)]))
        assert outcomes.count("won") == 1, outcomes
        assert set(outcomes) == {"won", "ExperimentBusy"}
