"""Random faults all through an experiment of several rounds; the invariants hold at the end."""

from __future__ import annotations

from collections import Counter

import pytest

from faults import CountingLauncher, FlakyStore, StepKilled, ledger_counts, ledger_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import load_state
from kfp_tune.core.vocabulary import TERMINAL_STATUSES as TERMINAL
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers.local import LocalLauncher
from kfp_tune.steps.slots import Checkpoint
from kfp_tune.stores import LocalStore
from kfp_tune.stores.retry import RetryingStore

MAX_TRIALS = 12


def _snapshot(store) -> list[tuple]:
    state = load_state(ExperimentRecords(store, "chaos"))
    return [(t.name, t.index, t.status, t.assignment, t.result) for t in state.trials]


def test_chaos_store_errors_trial_crashes_and_killed_steps(tmp_path):
    ledger = tmp_path / "ledger.txt"
    doc = ledger_experiment(
        ledger, name="chaos", fail_below=0.2,  # trials with x < 0.2 crash
        **{"spec.maxTrialCount": MAX_TRIALS, "spec.parallelTrialCount": 3, "spec.maxFailedTrialCount": MAX_TRIALS},
    )
    experiment = load_experiment(doc)
    base = LocalStore(tmp_path / "store")
    launcher = CountingLauncher(LocalLauncher(), die_rate=0.2, seed=5)  # a launch-trial step dies after starting
    stores = []
    killed = 0
    for attempt in range(30):
        flaky = FlakyStore(base, rate=0.05, seed=attempt)
        stores.append(flaky)
        store = RetryingStore(flaky, first_delay=0.0, sleep=lambda _: None)
        try:
            decision = run_inline(store, experiment, launcher, take_over=True, checkpoint=Checkpoint(trials=6))
        except StepKilled:
            killed += 1
            continue
        if decision.phase != "Running":
            break
    assert decision.phase == "Succeeded" and decision.reason == "ExperimentMaxTrialsReached", decision
    assert killed >= 1 and sum(s.failures for s in stores) >= 10, "the faults happened"

    state = load_state(ExperimentRecords(base, "chaos"))
    assert state.budget_used == MAX_TRIALS, "the given-back trials aside, exactly the budget"
    assert sum(t.is_terminal and not t.given_back for t in state.trials) == MAX_TRIALS
    assert all(t.status in TERMINAL for t in state.trials), "exactly one terminal state per trial"
    assert max(launcher.starts.values()) == 1, f"a trial was launched twice: {launcher.starts}"
    assert max(ledger_counts(ledger).values()) == 1
    assert {"Succeeded", "Failed"} <= {t.status for t in state.trials}
    counted = [tuple(sorted(t.assignment.items())) for t in state.trials if not t.given_back]
    assert len(set(counted)) == len(counted), "no point suggested twice among the trials that count"
    # a given-back trial's point may be offered again (cd64de7: it counts as never suggested, so a
    # seeded run makes the trials an uninterrupted one makes): repeats are of such points only
    _check_against_the_trials_own_outputs(state, ledger_counts(ledger), ExperimentRecords(base, "chaos"))
    # reading through a store that fails a fifth of its operations gives what a clean read gives
    assert _snapshot(RetryingStore(FlakyStore(base, rate=0.2, seed=99), first_delay=0.0, sleep=lambda _: None)) == _snapshot(base)


def _loss(x: float, y: float) -> float:
    """What tests/trials/quadratic.py reports (its lowest value, to 6 decimals)."""
    return (x - 0.3) ** 2 + (y - 0.7) ** 2


def _check_against_the_trials_own_outputs(state, ran: Counter[str], records: ExperimentRecords) -> None:
    """Each trial's recorded outcome follows from its assignment and whether it ran, not from
    another read of the same records: x < 0.2 crashes (exit 3), the rest report ``_loss``; a
    trial that ends TrialStale had its launch killed, and gave its budget back; every other
    trial ran exactly once."""
    assert state.budget_used == MAX_TRIALS
    assert set(ran) <= {t.name for t in state.trials}, "the ledger names a trial the store does not know"
    succeeded = {}
    for trial in state.trials:
        x, y = float(trial.assignment["x"]), float(trial.assignment["y"])
        stale = trial.result.reason == "TrialStale"
        if not stale:
            assert ran[trial.name] == 1, f"{trial.name} ended {trial.status} without running once"
        if stale:
            assert trial.status == "Killed" and trial.given_back
        elif x < 0.2:
            assert trial.status == "Failed" and "exit code 3" in trial.result.message, trial.result
            assert "crashed on purpose" in (records.read_text(records.log_key(trial.name, "main")) or "")
        else:
            assert trial.status == "Succeeded", trial.result
            assert trial.metrics["loss"] == pytest.approx(_loss(x, y), abs=1e-6)
            succeeded[trial.name] = _loss(x, y)
    assert succeeded, "no trial succeeded: nothing to check the best trial with"
    status = records.read(records.status_key(), "ExperimentStatus")["status"]
    assert status["currentOptimalTrial"]["bestTrialName"] == min(succeeded, key=succeeded.__getitem__)
    stale = sum(t.given_back for t in state.trials)
    assert stale >= 1, "a killed launch left a trial to give back"
    assert (status["trialsSucceeded"], status["trialsFailed"], status["trialsKilled"]) == (len(succeeded), MAX_TRIALS - len(succeeded), stale)
