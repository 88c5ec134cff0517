"""Early stopping (medianstop): the rule, and trials stopped while they run."""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path

import numpy as np
import pytest
from start_order import CLAIM_PLACE

from conftest import quadratic_experiment
from kfp_tune.algorithms.early_stopping import MedianStop
from kfp_tune.core.decision import COUNTS_AS_FAILED
from kfp_tune.core.interfaces import LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import load_state
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher, local


def test_katibs_rule_on_hand_computed_cases():
    """Katib's medianstop: the threshold is the mean over the succeeded trials of each one's
    average over its first start_step values; the running trial's best value over its first
    start_step reports is compared once there is a start_step-th report."""
    rule = MedianStop({"min_trials_required": 2, "start_step": 2})
    completed = [[4.0, 2.0, 1.0], [6.0, 4.0, 2.0], [10.0, 8.0, 7.0]]
    # averages of the first 2 values: 3, 5, 9; their mean: 17/3 = 5.667 (the median, 5, is not used)
    assert rule.threshold(completed) == pytest.approx(17 / 3)
    assert rule.should_stop("minimize", completed, [9.0, 5.8])  # best 5.8 > 5.667
    assert not rule.should_stop("minimize", completed, [9.0, 5.5])  # best 5.5 < 5.667 (a median rule would stop it)
    assert not rule.should_stop("minimize", completed, [9.0])  # before start_step
    assert not rule.should_stop("minimize", completed[:1], [99.0, 99.0])  # too few succeeded trials
    assert not rule.should_stop("minimize", completed, [5.666, 5.8]) and rule.should_stop("minimize", completed, [5.667, 5.8])  # around 17/3
    # maximize: stop when the best so far is LESS than the threshold
    assert rule.should_stop("maximize", completed, [1.0, 5.6])
    assert not rule.should_stop("maximize", completed, [1.0, 5.7])


def test_the_threshold_is_the_mean_of_the_averages_not_their_median():
    rule = MedianStop({"min_trials_required": 3, "start_step": 1})
    completed = [[1.0], [1.2], [1000.0]]  # median 1.2, mean 334.07
    assert rule.threshold(completed) == pytest.approx(1002.2 / 3)
    assert not rule.should_stop("minimize", completed, [5.0])  # 5 < 334.07: Katib lets it run
    assert rule.should_stop("minimize", completed, [400.0])


def test_completed_trials_count_their_first_start_step_values_only():
    rule = MedianStop({"min_trials_required": 2, "start_step": 3})
    # first three values: averages 2 and 4 -> threshold 3; what comes later does not count,
    # and a trial with fewer reports than start_step averages what it has (Katib slices)
    completed = [[1.0, 2.0, 3.0, 100.0, 100.0], [4.0, 4.0]]
    assert rule.threshold(completed) == pytest.approx(3.0)
    assert rule.should_stop("minimize", completed, [3.5, 3.2, 3.1])
    assert not rule.should_stop("minimize", completed, [3.5, 2.9, 3.1])


def test_a_trial_is_judged_once_at_start_step_by_its_best_value_so_far():
    """Katib's collector checks the rule at the start_step-th report only, with the best value
    reported so far: these series are where that differs from a rule on the latest value, or
    from one that goes on checking the best so far at every later report."""
    rule = MedianStop({"min_trials_required": 1, "start_step": 4})
    completed = [[0.5, 0.5, 0.5, 0.5]]  # threshold 0.5
    late_bloomer = [0.1, 0.1, 0.1, 0.1, 0.9]  # maximize: worse at report 4, best so far 0.9 at report 5
    assert rule.should_stop("maximize", completed, late_bloomer[:4])
    assert rule.should_stop("maximize", completed, late_bloomer)  # decided at report 4, whenever it is looked at
    early_peak = [0.9, 0.1, 0.1, 0.1, 0.1, 0.1]  # latest 0.1 < 0.5, but its best so far at report 4 is 0.9
    assert not rule.should_stop("maximize", completed, early_peak[:4])
    assert not rule.should_stop("maximize", completed, early_peak)
    # minimize, the same two ways round
    assert rule.should_stop("minimize", completed, [0.9, 0.9, 0.9, 0.9, 0.1])
    assert not rule.should_stop("minimize", completed, [0.1, 0.9, 0.9, 0.9, 0.9])


def test_a_succeeded_trial_without_values_does_not_count():
    rule = MedianStop({"min_trials_required": 2, "start_step": 1})
    assert rule.threshold([[1.0], []]) is None
    assert not rule.should_stop("minimize", [[1.0], []], [5.0])


def test_katibs_defaults_and_checks():
    rule = MedianStop({})
    assert (rule.min_trials_required, rule.start_step) == (3, 4)
    for settings in ({"min_trials_required": 0}, {"start_step": 0}):
        with pytest.raises(ValueError, match="must be at least 1"):
            MedianStop(settings)


class LockstepLauncher(LocalLauncher):
    """Writes how many reports the trial's early stopping rule has read to ``seen`` after each
    look, and the curve trials with ``lockstep=`` wait for it before their next report: the
    rule sees every report, however late a poll comes on a loaded machine."""

    def __init__(self, seen: Path):
        super().__init__()
        self.seen = seen

    def run(self, trial: TrialRun) -> LaunchOutcome:
        self.seen.write_text("0")  # one trial at a time (parallelTrialCount 1)
        rule = trial.should_stop

        def look(output: str) -> bool:
            if rule is not None and rule(output):
                return True  # the trial waits on, with no report past the ones judged, until stopped
            self.seen.write_text(str(output.count("loss=")))
            return False

        return super().run(dataclasses.replace(trial, should_stop=look))


def test_medianstop_stops_bad_trials_while_they_run(local_store, tmp_path, monkeypatch):
    seen = tmp_path / "seen"
    doc = quadratic_experiment(
        **{
            "spec.earlyStopping": {"algorithmName": "medianstop", "algorithmSettings": [{"name": "min_trials_required", "value": "2"}, {"name": "start_step", "value": "2"}]},
            "spec.parallelTrialCount": 1,
            "spec.maxTrialCount": 6,
            "spec.trialTemplate.trialSpec.spec.template.spec.containers.0.args": ["x=${trialParameters.x}", "y=${trialParameters.y}", "mode=curve", f"lockstep={seen}"],
        }
    )
    experiment = load_experiment(doc)
    monkeypatch.setattr(local, "POLL_SECONDS", 0.05)  # a look after each report: no need to wait long
    decision = run_inline(local_store, experiment, LockstepLauncher(seen))
    state = load_state(ExperimentRecords(local_store, "quad"))
    statuses = [t.status for t in state.trials]
    assert statuses[:2] == ["Succeeded", "Succeeded"]  # nothing to compare with before min_trials_required
    stopped = [t for t in state.trials if t.status == "EarlyStopped"]
    assert stopped, statuses
    rule = MedianStop({"min_trials_required": 2, "start_step": 2})
    for trial in stopped:
        curve = list(trial.result.curve)
        assert len(curve) == 2, "stopped at its second report, the first the rule may judge"
        earlier = [list(t.result.curve) for t in state.trials if t.index < trial.index and t.status == "Succeeded"]
        assert rule.should_stop("minimize", earlier, curve)  # judged at its second report, with what had succeeded before it
        assert trial.result.reason == "TrialEarlyStopped" and "loss" in trial.metrics  # Katib's reason
    for trial in state.trials:
        if trial.status == "Succeeded":
            assert len(list(trial.result.curve)) == 10
    assert decision.reason == "ExperimentMaxTrialsReached" and decision.counts[COUNTS_AS_FAILED] == 0
    keys = [tuple(t.assignment.values()) for t in state.trials]
    assert len(set(keys)) == len(keys)
    assert np.isfinite([t.metrics["loss"] for t in state.trials]).all()


# Each case's objective, report by report; every series is non-monotone, so min, max and latest
# differ. "bad" then hangs: only early stopping ends it before the minute is up. A trial's case is
# its place in the run (good1, good2, then bad), not its grid point: grid's order is random.
EARLY = {
    "minimize": {"good1": [0.3, 0.1, 0.2], "good2": [0.4, 0.2, 0.3], "bad": [5.0, 3.0, 4.0]},
    "maximize": {"good1": [0.7, 0.9, 0.8], "good2": [0.6, 0.8, 0.7], "bad": [0.05, 0.2, 0.1]},
}
HANGING_TRIAL = CLAIM_PLACE + """
import sys, time
case = list(SERIES)[claim_place(sys.argv[2]) - 1]
for value in SERIES[case]:
    print(f"loss={value}", flush=True)
if case == "bad":
    time.sleep(60)
"""


@pytest.mark.parametrize("objective_type,stopped_value", [("minimize", 3.0), ("maximize", 0.2)])
def test_an_early_stopped_trial_keeps_its_series_and_its_strategys_value(local_store, tmp_path, objective_type, stopped_value):
    """After two completed trials, the third is stopped at its third report (its best so far is
    worse than the mean of the others' averages over three reports) and its objective is the by-type default
    strategy's value of what it reported: the min (minimize) or max (maximize), not the latest."""
    series = EARLY[objective_type]
    doc = quadratic_experiment(
        **{
            "metadata.name": "stopped",
            "spec.objective": {"type": objective_type, "objectiveMetricName": "loss"},
            "spec.algorithm": {"algorithmName": "grid"},
            "spec.earlyStopping": {"algorithmName": "medianstop", "algorithmSettings": [{"name": "min_trials_required", "value": "2"}, {"name": "start_step", "value": "3"}]},
            "spec.parallelTrialCount": 1,
            "spec.maxTrialCount": 3,
            "spec.parameters": [{"name": "case", "parameterType": "categorical", "feasibleSpace": {"list": ["p", "q", "r"]}}],
            "spec.trialTemplate.trialParameters": [{"name": "case", "reference": "case"}],
            "spec.trialTemplate.trialSpec.spec.template.spec.containers": [
                {"name": "main", "image": "python:3.11", "command": ["python3", "-c", shlex.quote(HANGING_TRIAL.replace("SERIES", repr(series))), "${trialParameters.case}", str(tmp_path / "places")]}
            ],
        }
    )
    decision = run_inline(local_store, load_experiment(doc), LocalLauncher())
    state = load_state(ExperimentRecords(local_store, "stopped"))
    by_case = {next(c for c, values in series.items() if values[0] == t.result.curve[0]): t for t in state.trials}  # each first value is its case's own
    assert [by_case[c].status for c in ("good1", "good2", "bad")] == ["Succeeded", "Succeeded", "EarlyStopped"]
    bad = by_case["bad"]
    assert tuple(bad.result.curve) == tuple(series["bad"])
    assert bad.metrics["loss"] == stopped_value
    assert decision.reason == "ExperimentMaxTrialsReached"
    assert decision.best_trial is not None and decision.best_trial.name == by_case["good1"].name
