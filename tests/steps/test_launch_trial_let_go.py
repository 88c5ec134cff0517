"""launch_trial once its run was interrupted: a launcher that returns (a function trial's call,
which cannot be stopped) or stops with the trial's output after the experiment was deleted, or
deleted and made again under its name, writes nothing into the store; its outcome, or its
output, is discarded and RunInterrupted raised. Into the same experiment, both are recorded as
before (the run's grace period). The tune() path, with a real stop button, is
tests/test_tune_stop_button.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.errors import RunInterrupted
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords, TrialEnded
from kfp_tune.core.state import ExperimentView
from kfp_tune.core.vocabulary import MAX_TTL_SECONDS, TRIAL_TTL_VARIABLE, LaunchPhase
from kfp_tune.steps.launch_trial import launch_trial
from kfp_tune.steps.suggest import new_trials
from kfp_tune.stores import LocalStore

OUTPUT = {"main": "epoch 1\n"}


def stored(records: ExperimentRecords) -> dict[str, bytes | None]:
    return {key: records.store.get(key) for key in records.store.list(records.root + "/")}


def delete_it(records: ExperimentRecords) -> None:
    records.store.delete(records.store.list(records.root + "/"))


def make_it_again(records: ExperimentRecords) -> None:
    delete_it(records)
    steps.prepare(records, load_experiment(quadratic_experiment()), "run-2")


class InterruptedMeanwhile(Launcher):
    """Runs the trial while the run is interrupted and ``meanwhile`` happens to the store; then
    returns it Succeeded, or (``stopped``) raises RunInterrupted with its output, as the local
    launcher does for a trial it stopped."""

    can_interrupt = True

    def __init__(self, records: ExperimentRecords, meanwhile: Callable[[ExperimentRecords], None], stopped: bool):
        self.records, self.meanwhile, self.stopped = records, meanwhile, stopped
        self.interrupted = ""
        self.left: dict[str, bytes | None] = {}
        """The store's records once the run was interrupted and ``meanwhile`` happened."""

    def run(self, trial: TrialRun) -> LaunchOutcome:
        self.interrupted = "SIGINT"
        self.meanwhile(self.records)
        self.left = stored(self.records)
        if self.stopped:
            raise RunInterrupted("SIGINT", logs=OUTPUT)
        return LaunchOutcome(LaunchPhase.SUCCEEDED, logs=OUTPUT)


def launched(
    tmp_path: Any, meanwhile: Callable[[ExperimentRecords], None], stopped: bool
) -> tuple[ExperimentRecords, str, InterruptedMeanwhile, Callable[[], Any]]:
    records = ExperimentRecords(LocalStore(tmp_path), "quad")
    steps.prepare(records, load_experiment(quadratic_experiment()), "run-1")
    view = ExperimentView(records)
    name = str(new_trials(view, "run-1-0", 1)["trials"][0]["name"])
    launcher = InterruptedMeanwhile(records, meanwhile, stopped)
    return records, name, launcher, lambda: launch_trial(records, launcher, name, run_id="run-1", view=view, interrupted=lambda: launcher.interrupted)


@pytest.fixture(autouse=True)
def no_heartbeat_while_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The trial's heartbeat beats once as it starts, and not again while the launcher runs."""
    monkeypatch.setenv(TRIAL_TTL_VARIABLE, str(MAX_TTL_SECONDS))


@pytest.mark.parametrize("stopped", [False, True], ids=["returned", "stopped-with-its-output"])
@pytest.mark.parametrize("meanwhile", [delete_it, make_it_again], ids=["deleted", "made-again"])
def test_nothing_of_the_trial_is_written_into_an_experiment_deleted_or_made_again_since(tmp_path: Any, meanwhile: Any, stopped: bool) -> None:
    records, name, launcher, launch = launched(tmp_path, meanwhile, stopped)
    with pytest.raises(RunInterrupted):
        launch()
    assert stored(records) == launcher.left
    assert not any(name in key for key in launcher.left)


@pytest.mark.parametrize("stopped", [False, True], ids=["returned", "stopped-with-its-output"])
def test_into_the_same_experiment_the_trials_end_and_output_are_recorded_as_before(tmp_path: Any, stopped: bool) -> None:
    records, name, _, launch = launched(tmp_path, lambda records: None, stopped)
    if stopped:
        with pytest.raises(RunInterrupted):
            launch()
    else:
        assert launch() == LaunchPhase.SUCCEEDED
        ended = records.read_typed(records.trial_key(name, TrialEnded.FILE), TrialEnded)
        assert ended is not None and ended.phase == LaunchPhase.SUCCEEDED
    assert records.read_text(records.log_key(name, "main")) == OUTPUT["main"]
