"""Retried steps: the same round, the same trial, started once."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import ClassVar

import pytest

from faults import CountingLauncher, StepKilled, ledger_counts, ledger_experiment
from kfp_tune import steps
from kfp_tune.core import claims
from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.interfaces import LaunchOutcome
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import ExperimentView, load_state
from kfp_tune.launchers.local import LocalLauncher


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def any_store(request):
    """A local folder, and S3 on a real server: one run at a time holds on both."""
    return request.getfixturevalue("local_store" if request.param == "local" else "s3_store")


def _start(store, tmp_path: Path, **overrides):
    experiment = load_experiment(ledger_experiment(tmp_path / "ledger.txt", **overrides))
    records = ExperimentRecords(store, experiment.name)
    names = steps.suggest(records, "run-a-r000", 3, experiment, run_id="run-a")
    return experiment, records, names


def test_suggest_retried_returns_the_same_trials_and_creates_no_more(local_store, tmp_path):
    _, records, names = _start(local_store, tmp_path)
    again = steps.suggest(records, "run-a-r000", 3, run_id="run-a")
    assert again == names and len(names) == 2
    assert len(load_state(records).trials) == 2


def test_launch_trial_retried_starts_the_trial_once(any_store, tmp_path):
    _, records, names = _start(any_store, tmp_path)
    launcher = CountingLauncher(LocalLauncher())
    first = steps.launch_trial(records, launcher, names[0], run_id="run-a")
    second = steps.launch_trial(records, launcher, names[0], run_id="run-a")
    assert first == second == "Succeeded"
    assert launcher.starts[names[0]] == 1 and ledger_counts(tmp_path / "ledger.txt")[names[0]] == 1


def test_launch_that_died_after_starting_is_not_started_again(local_store, tmp_path):
    """The first attempt dies after the trial started and before its end was recorded; the
    retry cannot re-attach to a local process, so the trial ends Killed (TrialStale) and gives
    its budget back: how it ended is not known, and the launch's death is not its failure."""
    _, records, names = _start(local_store, tmp_path)
    launcher = CountingLauncher(LocalLauncher(), die_after_start={names[0]})
    with pytest.raises(StepKilled):
        steps.launch_trial(records, launcher, names[0], run_id="run-a")
    assert steps.launch_trial(records, launcher, names[0], run_id="run-a") == "Failed"
    assert launcher.starts[names[0]] == 1
    result = steps.collect_metrics(records, names[0], run_id="run-a")
    assert (result.status, result.reason) == ("Killed", "TrialStale")
    state = ExperimentView(records).state
    assert state.trial(names[0]).given_back and state.budget_used == len(state.trials) - 1


def test_a_launcher_that_can_reattach_is_asked_to(local_store, tmp_path):
    _, records, names = _start(local_store, tmp_path)

    class Reattaching(CountingLauncher):
        reattached: ClassVar[list[str]] = []

        def reattach(self, trial):
            self.reattached.append(trial.trial)
            return LaunchOutcome("Succeeded", logs={"main": "loss=0.25\n"})

    launcher = Reattaching(LocalLauncher(), die_after_start={names[0]})
    with pytest.raises(StepKilled):
        steps.launch_trial(records, launcher, names[0], run_id="run-a")
    assert steps.launch_trial(records, launcher, names[0], run_id="run-a") == "Succeeded"
    assert launcher.reattached == [names[0]] and launcher.starts[names[0]] == 1
    assert steps.collect_metrics(records, names[0], run_id="run-a").metrics["loss"] == 0.25


def test_two_launches_of_one_trial_at_once_start_it_once(any_store, tmp_path):
    _, records, names = _start(any_store, tmp_path, sleep=0.5)
    launcher = CountingLauncher(LocalLauncher())
    outcomes: list[object] = []

    def launch() -> None:
        try:
            outcomes.append(steps.launch_trial(records, launcher, names[0], run_id="run-a"))
        except KfpTuneError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=launch) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert launcher.starts[names[0]] == 1 and ledger_counts(tmp_path / "ledger.txt")[names[0]] == 1
    assert "Succeeded" in outcomes
    refused = [o for o in outcomes if isinstance(o, KfpTuneError)]
    assert all("not started twice" in str(o) for o in refused)


def test_a_step_of_a_run_that_was_taken_over_stops(any_store, tmp_path):
    experiment, records, names = _start(any_store, tmp_path)
    steps.suggest(records, "run-b-r000", 3, experiment, run_id="run-b", take_over=True)
    with pytest.raises(KfpTuneError, match="now driven by run 'run-b'"):
        steps.launch_trial(records, LocalLauncher(), names[0], run_id="run-a")
    assert load_state(records).trial(names[0]).started is None


def test_a_run_that_takes_over_collects_the_trial_the_old_run_finished(local_store, tmp_path):
    """``--take-over`` of a run still alive: the new run had read the trial as started; the old
    one finished it and recorded its end. The new run waits for that end and collects the
    trial's metrics (it failed the trial, 'has not ended; run launch-trial for it first',
    because its view never read the end the other run wrote)."""
    experiment, records, names = _start(local_store, tmp_path)
    taking_over = ExperimentView(records)

    class ReadMidTrial(CountingLauncher):
        def run(self, trial):
            taking_over.refresh()  # the new run reads the experiment while the trial runs
            return super().run(trial)

    assert steps.launch_trial(records, ReadMidTrial(LocalLauncher()), names[0], run_id="run-a") == "Succeeded"
    assert taking_over.state.trial(names[0]).ended is None
    steps.suggest(records, "run-b-r000", 3, experiment, run_id="run-b", take_over=True)
    launcher = CountingLauncher(LocalLauncher())
    assert steps.launch_trial(records, launcher, names[0], run_id="run-b", view=taking_over) == "Succeeded"
    result = steps.collect_metrics(records, names[0], run_id="run-b", view=taking_over)
    assert result.status == "Succeeded" and "loss" in result.metrics and launcher.starts[names[0]] == 0


def test_claim_lapses_without_signs_of_life(any_store, tmp_path, monkeypatch):
    experiment, records, _ = _start(any_store, tmp_path)
    with pytest.raises(KfpTuneError, match="is being run by run 'run-a'"):
        steps.suggest(records, "run-b-r000", 3, experiment, run_id="run-b")
    real = time.time
    monkeypatch.setattr(claims.time, "time", lambda: real() + claims.DEFAULT_TTL + 1)
    steps.suggest(records, "run-b-r000", 3, experiment, run_id="run-b")
    assert claims.latest_claim(records).run == "run-b"


def test_the_resume_note_says_a_trial_its_run_still_follows_is_collected_not_given_back(local_store, tmp_path):
    """``--take-over`` of a live run: its note said "2 trial(s) the stopped run was running, to
    record Killed and give back ..., 8 new trial(s) left", and the run then waited for those
    trials, collected them Succeeded (as the run taken over records their ends) and made 6 new
    ones. The note read while the trial runs, its attempt alive, now says it is waited for and
    collected, its budget kept; a trial whose attempt died is still to be given back."""
    from kfp_tune.reports import resume_note

    experiment, records, names = _start(local_store, tmp_path)
    total = experiment.spec.max_trial_count
    assert total is not None
    notes = []

    class NoteMidTrial(CountingLauncher):
        def run(self, trial):
            notes.append(resume_note(local_store, experiment.name))  # what a run taking over says now
            return super().run(trial)

    assert steps.launch_trial(records, NoteMidTrial(LocalLauncher()), names[0], run_id="run-a") == "Succeeded"
    assert notes == [
        f"resuming experiment {experiment.name}: 0 trial(s) done (0 succeeded, 0 failed), 1 trial(s) the run taken over is still following, "
        "to wait for and collect as they end (recorded Killed and given back if that run stops following first; if it is gone, that is known up "
        "to 120 s after its last sign of life, KFP_TUNE_TRIAL_TTL_SECONDS, and this run waits till then), "
        f"1 trial(s) made and not started yet, to start, {total - 2} new trial(s) left of maxTrialCount {total}"
    ]
    with pytest.raises(StepKilled):
        steps.launch_trial(records, CountingLauncher(LocalLauncher(), die_after_start={names[1]}), names[1], run_id="run-a")
    assert resume_note(local_store, experiment.name) == (  # the first one's end is recorded: it is collected
        f"resuming experiment {experiment.name}: 0 trial(s) done (0 succeeded, 0 failed), 1 trial(s) that ended and are not collected yet, "
        "to collect, 1 trial(s) the stopped run was running, to record Killed and give back (a trial of a killed run may still be running: "
        f"its result will not be recorded; a local trial's processes are listed by grep -lza '^KFP_TUNE_EXPERIMENT={experiment.name}$' "
        f"/proc/[0-9]*/environ), {total - 1} new trial(s) left of maxTrialCount {total}"
    )
    assert steps.collect_metrics(records, names[0], run_id="run-a").status == "Succeeded"
    assert resume_note(local_store, experiment.name) == (
        f"resuming experiment {experiment.name}: 1 trial(s) done (1 succeeded, 0 failed), 1 trial(s) the stopped run was running, "
        "to record Killed and give back (a trial of a killed run may still be running: its result will not be recorded; a local trial's "
        f"processes are listed by grep -lza '^KFP_TUNE_EXPERIMENT={experiment.name}$' /proc/[0-9]*/environ), {total - 1} new trial(s) left of maxTrialCount {total}"
    )
