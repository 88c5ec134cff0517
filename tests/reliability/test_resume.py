"""A run killed outright (SIGKILL), then the same experiment run again; and two runs at once.
Trials are held at a gate (tests/support/faults.py) while the test acts, not timed by sleeps."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from faults import ledger_counts, ledger_experiment, open_gate
from kfp_tune.core import claims
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import load_state
from kfp_tune.stores import LocalStore

LONG_TTLS = {"KFP_TUNE_RUN_TTL_SECONDS": "3600", "KFP_TUNE_TRIAL_TTL_SECONDS": "3600"}
"""An hour: a run that waited for a claim or a trial to lapse would not end within the test's
deadline, so finishing at all shows that nothing was waited for."""
DEADLINE = 300.0
"""Seconds a test waits for what must happen; reached only when something is broken."""


def _write(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _cli(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.Popen:
    """``kfp-tune`` in its own process group (killed with its group at the end of the test)."""
    return subprocess.Popen(
        [sys.executable, "-m", "kfp_tune.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})}, start_new_session=True, **kwargs,
    )


def _finish(process: subprocess.Popen) -> tuple[str, str]:
    """The process's output once it has ended; killed (and the test failed) past DEADLINE."""
    try:
        return process.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        _kill(process)
        raise AssertionError(f"{process.args} did not end within {DEADLINE:.0f} s") from None


def _kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()


def _wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {DEADLINE:.0f} s")
        time.sleep(0.05)


def _state(store_dir: Path, name: str):
    return load_state(ExperimentRecords(LocalStore(store_dir), name))


def _started(ledger: Path) -> list[str]:
    return [name for name, _ in sorted(ledger_counts(ledger).items())] if ledger.exists() else []


def test_sigkilled_run_resumes_at_once_without_losing_or_repeating_a_trial(tmp_path):
    """SIGKILL a run while two trials have finished and two are running, then the same command
    again: it resumes at once (the run's claim and its running trials name a process that is
    gone from this machine, so neither TTL, an hour here, is waited for), and no trial is lost
    or run twice. Trials wait at a gate, so the test decides which have finished at the kill."""
    ledger, gate, store = tmp_path / "ledger.txt", tmp_path / "gate", tmp_path / "store"
    # 6 trials, 2 slots; maxFailedTrialCount 1: the trials the kill interrupts end TrialStale, and are given back, not failed
    doc = ledger_experiment(ledger, name="killed", gate=gate, **{"spec.maxTrialCount": 6, "spec.parallelTrialCount": 2, "spec.maxFailedTrialCount": 1})
    path = _write(tmp_path, doc)
    first = _cli("run", str(path), "--engine", "inline", "--store", str(store), env=LONG_TTLS)
    try:
        _wait_for(lambda: len(_started(ledger)) == 2, "the first two trials start")
        finished = _started(ledger)
        for name in finished:
            open_gate(gate, name)
        # both recorded as ended, and the two slots have started the next two (held at the gate)
        _wait_for(lambda: len(_started(ledger)) == 4 and all(_state(store, "killed").trial(n).is_terminal for n in finished), "two trials end, two more start")
        held = sorted(set(_started(ledger)) - set(finished))
        _wait_for(lambda: all(_state(store, "killed").trial(n).started is not None for n in held), "the held trials are recorded as started")
        os.killpg(first.pid, signal.SIGKILL)  # the runner, as a lost node would (its trials run on, held at the gate)
        first.wait()
    finally:
        _kill(first)
    before = _state(store, "killed")
    assert sorted(t.name for t in before.trials if t.is_terminal) == sorted(finished)
    assert sorted(t.name for t in before.trials if t.started is not None and t.ended is None) == held
    finished_before = {name: before.trial(name).result for name in finished}

    open_gate(gate)  # the trials to come, and the orphans of the killed run, may finish
    second = _cli("run", str(path), "--engine", "inline", "--store", str(store), "--json", env=LONG_TTLS)
    out, err = _finish(second)
    assert second.returncode == 0, err
    after = _state(store, "killed")
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["status"] == "Succeeded" and summary["given_back"] == 2 and summary["failed"] == 0

    assert after.budget_used == 6 and len(after.trials) == 8, "the total never exceeds maxTrialCount, the given-back trials aside"
    assert all(t.is_terminal for t in after.trials)
    for name, result in finished_before.items():
        assert after.trial(name).result == result, "finished trials are reused as they were"
    for name in held:  # how they ended is unknown: Killed and given back, not Failed (maxFailedTrialCount 1 would fail the experiment)
        assert (after.trial(name).status, after.trial(name).result.reason, after.trial(name).given_back) == ("Killed", "TrialStale", True)
    counts = ledger_counts(ledger)
    assert max(counts.values()) == 1, f"a trial ran twice: {counts}"
    new = {t.name for t in after.trials} - set(finished) - set(held)
    assert len(new) == 4 and new <= set(counts) and all(after.trial(n).status == "Succeeded" for n in new)


def test_a_second_run_of_a_running_experiment_is_refused(tmp_path):
    """The first run's first trial is held at a gate until the second run has been refused:
    the first run is running when the second one asks, however slowly either starts."""
    ledger, gate, store = tmp_path / "ledger.txt", tmp_path / "gate", tmp_path / "store"
    path = _write(tmp_path, ledger_experiment(ledger, name="busy", gate=gate, **{"spec.maxTrialCount": 4, "spec.parallelTrialCount": 1}))
    first = _cli("run", str(path), "--engine", "inline", "--store", str(store))
    try:
        _wait_for(lambda: len(_started(ledger)) == 1, "the first run starts a trial")
        second = subprocess.run([sys.executable, "-m", "kfp_tune.cli", "run", str(path), "--engine", "inline", "--store", str(store)],
                                capture_output=True, text=True, timeout=DEADLINE)
        open_gate(gate)
        _, first_err = _finish(first)
    finally:
        _kill(first)
    assert first.returncode == 0, first_err
    assert second.returncode == 1
    # the first run is a process of this machine: named, with how to stop it; not its TTL or --take-over (two runs at once)
    pid = f"process {first.pid} on this machine: wait for it to end, or stop it (Ctrl-C where it runs, or kill {first.pid}: its running trials are given back)"
    assert "is being run by run" in second.stderr and pid in second.stderr and "--take-over" not in second.stderr
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
