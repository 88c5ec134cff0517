"""collect-metrics behaviours no other test pinned (found alive by a mutation pass)."""

from __future__ import annotations

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.vocabulary import TrialStatus


class PrintsLoss(Launcher):
    """A trial that succeeds printing one objective value."""

    def run(self, trial: TrialRun) -> LaunchOutcome:
        return LaunchOutcome("Succeeded", logs={"main": "loss=0.25\n"})


def test_collect_metrics_run_again_for_a_collected_trial_returns_its_result_without_collecting(local_store):
    """A retried collect-metrics step finds the trial's result recorded: it returns that result
    and reads nothing again (a collector that would now see other metrics is never asked)."""
    experiment = load_experiment(quadratic_experiment())
    records = ExperimentRecords(local_store, experiment.name)
    [name] = steps.suggest(records, "r0", 1, experiment, n=1)
    steps.launch_trial(records, PrintsLoss(), name)
    first = steps.collect_metrics(records, name)
    assert (first.status, first.metrics) == (TrialStatus.SUCCEEDED, {"loss": 0.25})

    def must_not_collect(*args: object) -> list:
        raise AssertionError("collect-metrics collected a trial that has its result")

    assert steps.collect_metrics(records, name, collect=must_not_collect) == first
