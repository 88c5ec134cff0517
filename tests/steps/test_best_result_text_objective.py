"""best-trial's and decide-stop's ``metrics`` for an experiment whose objective is text (darts's
genotype): a mutation pass showed nothing checked that such a best trial gives no metrics."""

from __future__ import annotations

from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import TrialResult
from kfp_tune.core.state import ExperimentState, TrialState
from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.steps.best_result import best_trial_metrics

GENOTYPE = "Genotype(normal=[[('max_pooling_3x3',1)]],normal_concat=range(2,3))"


def test_a_best_trial_whose_objective_is_text_gives_no_metrics_whatever_numbers_it_reported():
    """The metrics are documented empty when there is no best result, a text objective included:
    the trial's other metric (a number) must not stand in for a result the step cannot hand on."""
    experiment = load_experiment(quadratic_experiment(**{"spec.objective.objectiveMetricName": "Best-Genotype", "spec.objective.additionalMetricNames": ["Best-Accuracy"]}))
    result = TrialResult(trial="quad-a", status=TrialStatus.SUCCEEDED, metrics={"Best-Accuracy": 0.9}, text_metrics={"Best-Genotype": GENOTYPE})
    trial = TrialState("quad-a", 0, "r0", {}, "", result=result)
    state = ExperimentState(experiment, "uid-1", "", trials=[trial])
    assert state.better_text_trial(trial, None)  # it is the best trial, as Katib takes the latest
    assert best_trial_metrics(state, trial) == {}
