"""Two processes of one run: a KFP retry of the launch-trials step (the same run id,
``claims.call_run_id``) while the first pod still runs (a lost node, whose container goes on).
Each process is a slots run of its own here, with a view of its own (what it read from the
store), in a thread of this one.

The retry adopted the trial it found running, then found the budget taken by a trial the first
process had started since, and stopped with the experiment Running; its run ended, and the first
process, whose trial then ended, crashed recording it (ExperimentBusy), leaving it Running with
its resource gone: the next run ran it again. Now the retry follows that trial too and decides
with it counted, and a process whose run was ended or taken over while its trial ran still
records the trial's end, then stops with ExperimentBusy saying so.

The trials wait on events; a bound on a wait only turns a regression's hang into a failure."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.client import Client
from kfp_tune.core import claims
from kfp_tune.core.errors import ExperimentBusy, KfpTuneError
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords, TrialEnded, TrialStarted
from kfp_tune.core.state import ExperimentView
from kfp_tune.core.vocabulary import LaunchPhase, TrialStatus
from kfp_tune.steps import slots
from kfp_tune.steps.slots import SlotsResult, run_slots
from kfp_tune.steps.suggest import new_trials
from kfp_tune.stores import LocalStore
from slot_launchers import HANG_BOUND_SECONDS, SUCCEEDED, Instant


class Gated(Launcher):
    """Each trial runs until the test opens its gate; ``started`` tells the test it runs."""

    def __init__(self) -> None:
        self.runs: list[str] = []
        self.started = {1: threading.Event(), 2: threading.Event()}
        self.gates = {1: threading.Event(), 2: threading.Event()}

    def run(self, trial: TrialRun) -> LaunchOutcome:
        self.runs.append(trial.trial)
        number = len(self.runs)
        self.started[number].set()
        self.gates[number].wait(HANG_BOUND_SECONDS)
        return SUCCEEDED


def _records(tmp_path: Any, trials: int) -> tuple[Any, ExperimentRecords]:
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": trials, "spec.parallelTrialCount": 1}))
    records = ExperimentRecords(LocalStore(tmp_path), experiment.name)
    steps.prepare(records, experiment, "run-1")
    return experiment, records


def _in_thread(run: Any, outcome: dict[str, Any], done: threading.Event) -> threading.Thread:
    def target() -> None:
        try:
            outcome["result"] = run()
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            done.set()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def _gated_run_in_thread(records: ExperimentRecords) -> tuple[Gated, dict[str, Any], threading.Thread]:
    """Run-1's slots run (adopting) on a Gated launcher, in a thread: the launcher, what the run
    returned or raised, and its thread."""
    launcher = Gated()
    outcome: dict[str, Any] = {}
    thread = _in_thread(lambda: run_slots(ExperimentView(records), launcher, "run-1", adopt=True), outcome, threading.Event())
    return launcher, outcome, thread


def test_a_retry_beside_the_first_process_follows_the_trial_it_started_since(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """maxTrialCount 2, one slot. The first process runs trial 1; the retry starts, adopts it and
    waits for it; the first process ends it and starts trial 2, the budget's last. The retry
    must follow trial 2 to its end (not re-create it) and decide with both trials counted: it
    stopped at once with the experiment Running, and its caller then ended the run under the
    first process's trial."""
    _, records = _records(tmp_path, trials=2)
    first_launcher, retry_launcher = Gated(), Gated()
    waits: list[str] = []
    retry_waits = threading.Event()
    retry_moved = threading.Event()
    real_wait = claims.wait_for_attempt

    def wait_for_attempt(records: ExperimentRecords, trial: str, started: TrialStarted, poll: float = 2.0) -> Any:
        """The retry's wait for the first process's attempt; for trial 1 it reads the end only
        once trial 2 runs (as when the retry's poll comes after the first process started it)."""
        waits.append(trial)
        if len(waits) == 1:
            retry_waits.set()
            first_launcher.started[2].wait(HANG_BOUND_SECONDS)
        else:
            retry_moved.set()
        return real_wait(records, trial, started, poll=0.05)

    monkeypatch.setattr(claims, "wait_for_attempt", wait_for_attempt)
    first: dict[str, Any] = {}
    retry: dict[str, Any] = {}
    first_done = threading.Event()
    first_thread = _in_thread(lambda: run_slots(ExperimentView(records), first_launcher, "run-1", adopt=True), first, first_done)
    assert first_launcher.started[1].wait(HANG_BOUND_SECONDS)
    retry_thread = _in_thread(lambda: run_slots(ExperimentView(records), retry_launcher, "run-1", adopt=True), retry, retry_moved)
    assert retry_waits.wait(HANG_BOUND_SECONDS)  # it adopted trial 1, and waits for the first process's attempt
    first_launcher.gates[1].set()
    assert first_launcher.started[2].wait(HANG_BOUND_SECONDS)
    assert retry_moved.wait(HANG_BOUND_SECONDS)  # waiting for trial 2, or (the defect) stopped without it
    first_launcher.gates[2].set()
    first_thread.join(HANG_BOUND_SECONDS)
    retry_thread.join(HANG_BOUND_SECONDS)
    assert "error" not in first and "error" not in retry, (first, retry)
    assert retry_launcher.runs == []  # it followed both trials, and created neither again
    assert waits == [t.name for t in ExperimentView(records).state.trials]
    result: SlotsResult = retry["result"]
    assert (result.decision.phase, result.decision.reason) == ("Succeeded", "ExperimentMaxTrialsReached")
    assert result.decision.counts["Succeeded"] == 2 and result.decision.counts["Running"] == 0
    state = ExperimentView(records).state
    assert [t.status for t in state.trials] == [TrialStatus.SUCCEEDED, TrialStatus.SUCCEEDED]
    assert first["result"].decision.finished


@pytest.mark.parametrize("ended_by", ["the same run elsewhere", "a run that took over"])
def test_a_trial_that_ends_after_its_run_ended_is_recorded_and_the_process_stops(tmp_path: Any, ended_by: str) -> None:
    """While the first process's trial runs, its run is ended by another process of it (the
    retry, as the inline runner or the exit handler releases the claim) or taken over. The trial
    then ends: its result is recorded (the next run found it unfinished, and ran it again), no
    other trial starts, and the run stops with ExperimentBusy naming the trial, not a crash."""
    experiment, records = _records(tmp_path, trials=3)
    launcher, outcome, thread = _gated_run_in_thread(records)
    assert launcher.started[1].wait(HANG_BOUND_SECONDS)
    if ended_by == "a run that took over":
        steps.prepare(records, experiment, "run-2", take_over=True)
        ended = "experiment 'quad' is now driven by run 'run-2', not by run 'run-1'"
    else:
        claims.release(records, "run-1", "Running")
        ended = "run 'run-1' of experiment 'quad' has already ended"
    launcher.gates[1].set()
    thread.join(HANG_BOUND_SECONDS)
    trial = launcher.runs[0]
    state = ExperimentView(records).state
    assert state.trial(trial).status == TrialStatus.SUCCEEDED and state.trial(trial).metrics["loss"] == 0.5
    assert launcher.runs == [trial]
    error = outcome.get("error")
    assert isinstance(error, ExperimentBusy), outcome
    assert str(error) == f"{ended}; trial {trial!r}, which this process followed, ended meanwhile and is recorded Succeeded; this process stops"


def test_a_trial_end_another_process_recorded_first_is_kept_not_doubled(tmp_path: Any) -> None:
    """The run ended while the trial ran, and another process (the retry that followed it)
    recorded its result first: the first process's record of it is that result, read back."""
    _, records = _records(tmp_path, trials=3)
    launcher, outcome, thread = _gated_run_in_thread(records)
    assert launcher.started[1].wait(HANG_BOUND_SECONDS)
    trial = launcher.runs[0]
    retry = ExperimentView(records)
    retry.refresh()
    retry.record_trial(trial, TrialEnded.now(trial, LaunchPhase.SUCCEEDED, "", "", 0))
    first_result = steps.collect_metrics(records, trial, view=retry)
    claims.release(records, "run-1", "Running")
    launcher.gates[1].set()
    thread.join(HANG_BOUND_SECONDS)
    assert isinstance(outcome.get("error"), ExperimentBusy), outcome
    state = ExperimentView(records).state
    assert state.trial(trial).result == first_result
    assert len([key for key in records.store.list(records.trial_prefix(trial)) if key.endswith("/result.json")]) == 1


def test_the_last_slot_reads_the_store_again_before_it_stops(tmp_path: Any) -> None:
    """The retry's view (as it last read the store) says the budget is used: 2 trials of 2. Since
    then the budget was raised to 3 and the other process of the run made trial 3, not started
    yet. Stopping on the view it had, the retry decided Succeeded under a budget that was no
    longer the experiment's and left trial 3 Created; it reads the store once more, and runs it."""
    _, records = _records(tmp_path, trials=2)
    retry_view = ExperimentView(records)
    for index in range(2):
        name = new_trials(retry_view, f"run-1-t{index:06d}", 1)["trials"][0]["name"]
        steps.launch_trial(records, Instant(), name, run_id="run-1", view=retry_view)
        steps.collect_metrics(records, name, run_id="run-1", view=retry_view)
        if index == 0:  # edited while the experiment runs
            Client(str(tmp_path)).edit_experiment_budget("quad", max_trial_count=3)
    assert retry_view.state.experiment.spec.max_trial_count == 2
    third = new_trials(ExperimentView(records), "run-1-t000002", 1)["trials"][0]["name"]
    launcher = Instant()
    result = run_slots(retry_view, launcher, "run-1")
    assert launcher.runs == [third]
    assert result.decision.finished and result.decision.counts["Succeeded"] == 3


def test_an_algorithm_waiting_on_trials_another_process_of_the_run_made_gets_them_followed(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The algorithm waits for running trials (hyperband between rungs), none runs here, and one
    of this run that another process made is unfinished: this slot follows it, where the run
    stopped at once ('waiting for running trials, and none is running'). The stand-in algorithm
    waits for ever, so the run ends with that error once the trial is done."""
    _, records = _records(tmp_path, trials=4)
    made = new_trials(ExperimentView(records), "run-1-t000000", 1)["trials"][0]["name"]
    monkeypatch.setattr(slots, "new_trials", lambda view, round_id, n, adopted=None: {"round": round_id, "trials": [], "exhausted": False})
    launcher = Instant()
    with pytest.raises(KfpTuneError, match="the algorithm is waiting for running trials, and none is running"):
        run_slots(ExperimentView(records), launcher, "run-1")
    assert launcher.runs == [made]
    assert ExperimentView(records).state.trial(made).status == TrialStatus.SUCCEEDED
