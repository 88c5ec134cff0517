"""Early stopping for trials that are KFP components (kfp_tune.steps.trial_reporter), on a real
local store and without KFP: a component trial reports its curve with TrialReporter, should_stop
applies the experiment's medianstop as the continuous pipeline does, and record-trial (or the
exit handler, when the task failed after the stop) records the stopped trial EarlyStopped with
the metrics it reported."""

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune import TrialReporter
from kfp_tune.core.errors import InputError
from kfp_tune.core.naming import per_run_experiment_name
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import ExperimentView, TrialState
from kfp_tune.core.vocabulary import EARLY_STOP_REASON, LaunchPhase, TrialStatus
from kfp_tune.pipelines.component_trials import with_component_template
from kfp_tune.report_views import curves_plot
from kfp_tune.reports import load_report
from kfp_tune.steps.component_trials import close_this_runs_unreported
from kfp_tune.steps.entrypoints import claim_trial_step, record_trial_step, suggest_step
from kfp_tune.stores import LocalStore, open_store

RUN = "run-1"
INPUTS = {"quality": ("quality", "str")}
START_STEP = 2
"""The medianstop setting of these tests' experiment: the rule is judged on this many reports."""
GOOD = [1.0, 0.8, 0.6, 0.5]
"""A completed trial's curve (loss, minimized)."""
BAD = [10.0, 8.0, 6.0, 5.0]
"""A curve far above the good ones at every step."""


def experiment(early_stopping: bool = True) -> dict[str, Any]:
    """Grid over six labels (drawn in a random order, as Katib's grid does); medianstop judging after
    START_STEP reports once two trials have completed. No trialTemplate (a component's)."""
    doc = quadratic_experiment(**{"spec.maxTrialCount": 6, "spec.parallelTrialCount": 2, "spec.maxFailedTrialCount": 3})
    doc["metadata"]["name"] = "curves"
    doc["spec"]["algorithm"] = {"algorithmName": "grid"}
    doc["spec"]["parameters"] = [{"name": "quality", "parameterType": "categorical", "feasibleSpace": {"list": ["a", "b", "c", "d", "e", "f"]}}]
    if early_stopping:
        doc["spec"]["earlyStopping"] = {
            "algorithmName": "medianstop",
            "algorithmSettings": [{"name": "min_trials_required", "value": "2"}, {"name": "start_step", "value": str(START_STEP)}],
        }
    del doc["spec"]["trialTemplate"]
    return doc


def started(store: Path, doc: dict[str, Any], fresh: bool = False) -> None:
    """The experiment created and claimed by RUN, as the pipeline's first step does."""
    spec = json.dumps(with_component_template(json.loads(json.dumps(doc)), "curve-trial"))
    suggest_step(str(store), doc["metadata"]["name"], RUN, 0, 1, spec, trial_count=0, fresh_experiment=fresh)


def claim(store: Path) -> tuple[str, TrialReporter]:
    """The next trial, and the reporter its component builds from its kfp_tune_trial input."""
    should_run, name, _, place = claim_trial_step(str(store), "curves", RUN, INPUTS, with_place=True)
    assert should_run is True
    return name, TrialReporter(place)


def completed(store: Path, curve: list[float]) -> str:
    """A trial that reported ``curve`` with no stop asked, recorded by record-trial."""
    name, reporter = claim(store)
    for step, loss in enumerate(curve):
        reporter.report({"loss": loss}, step=step)
    assert record_trial_step(str(store), "curves", RUN, name, {"loss": curve[-1]}) == "Succeeded"
    return name


def trial(store: Path, name: str) -> TrialState:
    return ExperimentView(ExperimentRecords(LocalStore(store), "curves")).state.trial(name)


def run_until_stopped(reporter: TrialReporter, curve: list[float]) -> list[bool]:
    """A component's loop: report each step, ask, break when told; what each ask answered."""
    answers = []
    for step, loss in enumerate(curve):
        reporter.report({"loss": loss}, step=step)
        answers.append(reporter.should_stop())
        if answers[-1]:
            break
    return answers


def test_a_worse_curve_stops_at_the_start_step_and_is_recorded_early_stopped_with_its_reports(tmp_path):
    started(tmp_path, experiment())
    completed(tmp_path, GOOD)
    completed(tmp_path, GOOD)
    name, reporter = claim(tmp_path)

    answers = run_until_stopped(reporter, BAD)

    assert answers == [False] * (START_STEP - 1) + [True]  # judged only once START_STEP values were reported
    stopped = trial(tmp_path, name)
    assert stopped.ended is not None and (stopped.ended.phase, stopped.ended.reason) == (LaunchPhase.EARLY_STOPPED, EARLY_STOP_REASON)
    assert stopped.status == TrialStatus.RUNNING  # the component still returns and record-trial records it
    assert reporter.should_stop() is True  # and stays stopped
    # the component returns its last loss: it is that report, not a new one
    assert record_trial_step(str(tmp_path), "curves", RUN, name, {"loss": BAD[START_STEP - 1]}) == "EarlyStopped"
    result = trial(tmp_path, name).result
    assert result is not None and result.status == TrialStatus.EARLY_STOPPED and (result.reason, result.message) == ("TrialEarlyStopped", "Trial is early stopped")  # Katib's medianstop SetTrialStatus
    assert result.curve == tuple(BAD[:START_STEP])
    assert result.observation["loss"]["latest"] == BAD[START_STEP - 1] and result.observation["loss"]["count"] == START_STEP


def test_a_good_curve_runs_to_its_end_and_its_returned_value_is_added(tmp_path):
    started(tmp_path, experiment())
    completed(tmp_path, GOOD)
    completed(tmp_path, GOOD)
    name, reporter = claim(tmp_path)
    better = [0.9, 0.7, 0.5, 0.4]

    assert run_until_stopped(reporter, better) == [False] * len(better)

    assert trial(tmp_path, name).ended is None
    assert record_trial_step(str(tmp_path), "curves", RUN, name, {"loss": 0.35}) == "Succeeded"
    result = trial(tmp_path, name).result
    assert result is not None and result.curve == (*better, 0.35)  # a returned value unlike the last report is one more


def test_nothing_is_stopped_before_min_trials_required_and_the_rule_is_fixed_when_the_trial_is_claimed(tmp_path):
    """Katib fixes a trial's rules when it creates it (its spec.earlyStoppingRules): a trial
    claimed with too few completed trials has none and runs to its end, even when trials
    complete before it first asks."""
    started(tmp_path, experiment())
    early, early_reporter = claim(tmp_path)
    assert trial(tmp_path, early).started.early_stopping_rules == ()  # recorded as it was claimed
    completed(tmp_path, GOOD)
    completed(tmp_path, GOOD)

    assert run_until_stopped(early_reporter, BAD) == [False] * len(BAD)  # first asked after two completed
    late, late_reporter = claim(tmp_path)
    assert [rule.to_katib() for rule in trial(tmp_path, late).started.early_stopping_rules] == [
        {"name": "loss", "value": str(sum(GOOD[:START_STEP]) / START_STEP), "comparison": "greater", "startStep": START_STEP}
    ]
    assert run_until_stopped(late_reporter, BAD)[-1] is True  # the same curve, claimed after two completed
    assert record_trial_step(str(tmp_path), "curves", RUN, early, {"loss": BAD[-1]}) == "Succeeded"
    assert record_trial_step(str(tmp_path), "curves", RUN, late, {"loss": BAD[START_STEP - 1]}) == "EarlyStopped"


def test_a_worse_curve_whose_component_never_asked_is_recorded_early_stopped(tmp_path):
    """The rule does not wait for the component to ask: record-trial judges what it reported,
    as Katib's collector judges each report, and a trial that reported what stops it ends
    EarlyStopped with all it reported."""
    started(tmp_path, experiment())
    completed(tmp_path, GOOD)
    completed(tmp_path, GOOD)
    name, reporter = claim(tmp_path)
    for step, loss in enumerate(BAD):
        reporter.report({"loss": loss}, step=step)

    assert record_trial_step(str(tmp_path), "curves", RUN, name, {"loss": BAD[-1]}) == "EarlyStopped"
    stopped = trial(tmp_path, name)
    assert stopped.ended is not None and (stopped.ended.phase, stopped.ended.reason) == (LaunchPhase.EARLY_STOPPED, EARLY_STOP_REASON)
    assert stopped.result is not None and stopped.result.curve == tuple(BAD)


def test_a_stopped_trial_whose_task_then_failed_is_closed_early_stopped_and_an_unstopped_one_failed(tmp_path):
    started(tmp_path, experiment())
    completed(tmp_path, GOOD)
    completed(tmp_path, GOOD)
    stopped, reporter = claim(tmp_path)
    assert run_until_stopped(reporter, BAD)[-1] is True
    unstopped, _ = claim(tmp_path)

    close_this_runs_unreported(ExperimentRecords(open_store(str(tmp_path)), "curves"), RUN)  # the run's exit handler

    closed = trial(tmp_path, stopped).result
    assert closed is not None and closed.status == TrialStatus.EARLY_STOPPED and closed.curve == tuple(BAD[:START_STEP])
    failed = trial(tmp_path, unstopped).result
    assert failed is not None and failed.status == TrialStatus.FAILED and failed.reason == "ComponentTrialUnreported"


def test_without_early_stopping_nothing_stops_and_the_reports_are_the_curve_in_the_report(tmp_path):
    started(tmp_path, experiment(early_stopping=False))
    completed(tmp_path, GOOD)
    completed(tmp_path, GOOD)
    name, reporter = claim(tmp_path)

    assert run_until_stopped(reporter, BAD) == [False] * len(BAD)

    assert record_trial_step(str(tmp_path), "curves", RUN, name, {"loss": BAD[-1]}) == "Succeeded"
    result = trial(tmp_path, name).result
    assert result is not None and result.curve == tuple(BAD)
    figure = curves_plot(load_report(LocalStore(tmp_path), "curves"))
    assert figure is not None
    drawn = [c for axes in figure.axes for c in axes.collections if c.get_gid() == "curves"]
    assert [list(map(float, path.vertices[:, 1])) for path in drawn[0].get_paths()] == [GOOD, GOOD, BAD]


def test_the_place_names_the_trial_and_holds_no_credentials(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-to-be-passed")
    started(tmp_path, experiment(), fresh=True)
    should_run, name, quality, place = claim_trial_step(str(tmp_path), "curves", RUN, INPUTS, fresh_experiment=True, with_place=True)

    claimed = ExperimentView(ExperimentRecords(LocalStore(tmp_path), per_run_experiment_name("curves", RUN))).state.trial(name)
    assert should_run is True and quality == claimed.assignment["quality"]  # the claimed trial's own point
    assert json.loads(place) == {"store": str(tmp_path), "s3_endpoint": "", "experiment": per_run_experiment_name("curves", RUN), "trial": name}
    assert "not-to-be-passed" not in place
    assert len(claim_trial_step(str(tmp_path), "curves", RUN, INPUTS, fresh_experiment=True)) == 3  # a component without the input: no place


def test_a_reporter_without_a_trial_does_nothing_and_a_wrong_place_is_refused(tmp_path):
    idle = TrialReporter("")
    assert idle.active is False and idle.should_stop() is False
    idle.report({"loss": 1.0}, step=0)  # a component run outside kfp-tune: nothing to record to
    with pytest.raises(ValueError, match="not a finite number"):
        idle.report({"loss": float("nan")})
    with pytest.raises(ValueError, match=r"report: loss=True is a boolean, not a number"):  # as when it is stored
        idle.report({"loss": True})
    with pytest.raises(InputError, match="kfp_tune_trial"):
        TrialReporter("x=1")
    with pytest.raises(InputError, match="store, s3_endpoint, experiment and trial"):
        TrialReporter(json.dumps({"store": str(tmp_path)}))


def test_a_reporter_given_none_is_inactive_and_one_given_no_string_is_refused_naming_the_input():
    """A component declaring ``kfp_tune_trial: Optional[str] = None`` run outside kfp-tune gets
    None: an inactive reporter, as with "" (it used to raise AttributeError from ``None.strip``)."""
    idle = TrialReporter(None)
    assert idle.active is False and idle.should_stop() is False
    idle.report({"loss": 1.0}, step=0)
    for wrong in (7, {"store": "runs"}, b"{}"):
        with pytest.raises(InputError, match=r"^kfp_tune_trial: expected the string kfp-tune binds to this input .* got a (int|dict|bytes)$"):
            TrialReporter(wrong)  # type: ignore[arg-type]


@pytest.mark.parametrize("empty", ["store", "experiment", "trial"])
def test_a_place_with_an_empty_store_experiment_or_trial_is_refused(empty):
    place = {"store": "runs", "s3_endpoint": "", "experiment": "curves", "trial": "curves-abc", empty: ""}
    with pytest.raises(InputError, match=r"^kfp_tune_trial: store, experiment and trial may not be empty"):
        TrialReporter(json.dumps(place))
