"""What ``kfp-tune run --json`` and ``status --json`` print (reports.summarize) in cases no other
test pinned (found alive by a mutation pass)."""

from __future__ import annotations

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.errors import TrialNotCreated
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.reports import summarize


class CannotCreate(Launcher):
    """A launcher whose API server refuses every trial: the trial is given back."""

    def run(self, trial: TrialRun) -> LaunchOutcome:
        raise TrialNotCreated(f"jobs.batch is forbidden: cannot create {trial.trial}")


class PrintsNothing(Launcher):
    """A trial that succeeds without reporting its objective: MetricsUnavailable."""

    def run(self, trial: TrialRun) -> LaunchOutcome:
        return LaunchOutcome("Succeeded", logs={"main": "done\n"})


def test_a_given_back_trial_is_counted_once_as_given_back_and_not_as_killed(local_store):
    """A given-back trial's status is Killed, but the summary counts it under given_back alone:
    killed 0, given_back 1, as many trials as there are."""
    experiment = load_experiment(quadratic_experiment())
    records = ExperimentRecords(local_store, experiment.name)
    [name] = steps.suggest(records, "r0", 1, experiment, n=1)
    with pytest.raises(TrialNotCreated):
        steps.launch_trial(records, CannotCreate(), name)
    summary = summarize(local_store, experiment.name)
    assert (summary["trials"], summary["killed"], summary["given_back"]) == (1, 0, 1)


def test_the_last_failed_trial_of_a_run_whose_trials_are_all_metrics_unavailable_is_named(local_store):
    """MetricsUnavailable counts as failed: a run whose every trial lacked its objective points at
    the last of them in last_failed_trial, with reason MetricsUnavailable."""
    experiment = load_experiment(quadratic_experiment())
    records = ExperimentRecords(local_store, experiment.name)
    names = steps.suggest(records, "r0", 2, experiment, n=2)
    for name in names:
        steps.launch_trial(records, PrintsNothing(), name)
        assert steps.collect_metrics(records, name).status == TrialStatus.METRICS_UNAVAILABLE
    summary = summarize(local_store, experiment.name)
    assert (summary["failed"], summary["metrics_unavailable"]) == (0, 2)
    failed = summary["last_failed_trial"]
    assert failed is not None and (failed["name"], failed["reason"]) == (names[-1], "MetricsUnavailable")
    assert "did not report the objective metric 'loss'" in failed["message"]
