"""The experiment status kfp-tune writes (``status.json``, ``kfp-tune status``) has Katib's
shape: the conditions Katib's controller sets, ``currentOptimalTrial`` with the best trial's
assignments and observation, the trial counts and the per-status trial lists. Tools written
for Katib's ``Experiment.status`` read it as they are; an interrupted run says so and how to
resume."""

from __future__ import annotations

from typing import Any

from conftest import quadratic_experiment
from kfp_tune.core.decision import STATUS_COUNT_FIELDS, STATUS_LIST_FIELDS, decide, interrupted, status_document
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import TrialResult, TrialStarted
from kfp_tune.core.state import TRIAL_INTERRUPTED, ExperimentState, TrialState
from kfp_tune.core.vocabulary import TrialStatus

CREATED = "2026-11-30T10:00:00Z"
NOW = "2026-11-30T11:00:00Z"


def result(name: str, status: TrialStatus, loss: float | None = None, reason: str = "") -> TrialResult:
    if loss is None:
        return TrialResult(trial=name, status=status, reason=reason)
    observation = {"loss": {"min": loss, "max": loss + 1, "latest": loss + 0.5, "count": 3}}
    return TrialResult(trial=name, status=status, reason=reason, observation=observation, metrics={"loss": loss})


def state(*trials: TrialState, **overrides: Any) -> ExperimentState:
    experiment = load_experiment(quadratic_experiment(**overrides))
    return ExperimentState(experiment=experiment, uid="uid-1", created=CREATED, trials=list(trials), by_name={t.name: t for t in trials})


def trial(name: str, index: int, result: TrialResult | None = None, running: bool = False) -> TrialState:
    started = TrialStarted(trial=name, time="", at=0.0, run="r", attempt="a") if running or result else None
    return TrialState(name=name, index=index, round="r1", assignment={"x": f"0.{index}", "y": "0.5"}, created=CREATED, started=started, result=result)


def test_a_running_experiment():
    s = state(
        trial("quad-a", 1, result("quad-a", TrialStatus.SUCCEEDED, 0.5)),
        trial("quad-b", 2, running=True),
        trial("quad-c", 3),
        **{"spec.maxTrialCount": 10},
    )
    doc = status_document(s, decide(s, rounds_left=3), NOW)
    assert doc["phase"] == "Running" and doc["completionTime"] is None and doc["startTime"] == CREATED
    assert doc["conditions"] == [
        {"type": "Created", "status": "True", "reason": "ExperimentCreated", "message": "Experiment is created", "lastUpdateTime": CREATED, "lastTransitionTime": CREATED},
        # Running became True as the experiment was created, with Katib's reason: neither time moves with each write (setCondition)
        {"type": "Running", "status": "True", "reason": "ExperimentRunning", "message": "Experiment is running", "lastUpdateTime": CREATED, "lastTransitionTime": CREATED},
    ]
    assert (doc["trials"], doc["trialsSucceeded"], doc["trialsRunning"], doc["trialsPending"]) == (3, 1, 1, 1)
    assert (doc["succeededTrialList"], doc["runningTrialList"], doc["pendingTrialList"]) == (["quad-a"], ["quad-b"], ["quad-c"])


LATER = "2026-11-30T12:00:00Z"


def _running(doc: dict[str, Any]) -> dict[str, Any]:
    (condition,) = (c for c in doc["conditions"] if c["type"] == "Running")
    return condition


def test_the_running_condition_s_times_stay_while_it_is_unchanged_as_katibs_set_condition_keeps_them():
    """Katib's setCondition (experiments/v1beta1/util.go) does nothing when a condition's status
    and reason are the same, and keeps lastTransitionTime when only the reason changes. The
    Running condition moved both times to every write's ``now``."""
    s = state(trial("quad-a", 1, result("quad-a", TrialStatus.SUCCEEDED, 0.5)), trial("quad-b", 2, running=True), **{"spec.maxTrialCount": 10})
    previous = status_document(s, decide(s, rounds_left=3), NOW)
    _running(previous)["lastUpdateTime"] = NOW  # a reason set after the creation keeps its own time
    again = _running(status_document(s, decide(s, rounds_left=3), LATER, previous))
    assert (again["lastUpdateTime"], again["lastTransitionTime"]) == (NOW, CREATED)
    used_up = _running(status_document(s, decide(s, rounds_left=0), LATER, previous))  # the reason changes, the status does not
    assert (used_up["reason"], used_up["lastUpdateTime"], used_up["lastTransitionTime"]) == ("ExperimentRunRoundsUsedUp", LATER, CREATED)
    back = _running(status_document(s, decide(s, rounds_left=3), "2026-11-30T13:00:00Z", status_document(s, decide(s, rounds_left=0), LATER, previous)))
    assert (back["reason"], back["lastUpdateTime"], back["lastTransitionTime"]) == ("ExperimentRunning", "2026-11-30T13:00:00Z", CREATED)


def test_a_restarted_experiment_has_been_running_since_its_restart():
    """A restart (a larger maxTrialCount) sets Running True again: its times are the restart's,
    not those of a document from before it, when Running had become False."""
    s = state(trial("quad-a", 1, result("quad-a", TrialStatus.SUCCEEDED, 0.5)), **{"spec.maxTrialCount": 10})
    before = status_document(s, decide(s, rounds_left=3), NOW)
    s.restarted = LATER
    running = _running(status_document(s, decide(s, rounds_left=3), "2026-11-30T13:00:00Z", before))
    assert (running["lastUpdateTime"], running["lastTransitionTime"]) == (LATER, LATER)


def test_every_trial_status_has_its_count_and_its_list_in_katibs_order():
    """One table per field family, keyed by TrialStatus: a status added to the vocabulary without
    its fields fails here, not silently in the document (Katib's ExperimentStatus order)."""
    assert set(STATUS_COUNT_FIELDS) == set(STATUS_LIST_FIELDS) == set(TrialStatus)
    statuses = [TrialStatus.SUCCEEDED, TrialStatus.FAILED, TrialStatus.FAILED, TrialStatus.METRICS_UNAVAILABLE, TrialStatus.EARLY_STOPPED, TrialStatus.KILLED]
    s = state(
        *(trial(f"quad-{i}", i, result(f"quad-{i}", status, 0.5 if status == TrialStatus.SUCCEEDED else None)) for i, status in enumerate(statuses)),
        trial("quad-r", 7, running=True), trial("quad-p", 8), **{"spec.maxTrialCount": 20, "spec.maxFailedTrialCount": 10},
    )
    doc = status_document(s, decide(s, rounds_left=3), NOW)
    expected = {status: [t.name for t in s.trials if t.status == status] for status in TrialStatus}
    assert {status: doc[name] for status, name in STATUS_LIST_FIELDS.items()} == expected
    assert {status: doc[name] for status, name in STATUS_COUNT_FIELDS.items()} == {status: len(names) for status, names in expected.items()}
    assert list(doc)[list(doc).index("trials"):] == ["trials", *STATUS_COUNT_FIELDS.values(), *STATUS_LIST_FIELDS.values()]


def test_a_finished_experiment_keeps_running_false_and_adds_its_end():
    s = state(
        trial("quad-a", 1, result("quad-a", TrialStatus.SUCCEEDED, 0.5)),
        trial("quad-b", 2, result("quad-b", TrialStatus.SUCCEEDED, 0.25)),
        trial("quad-c", 3, result("quad-c", TrialStatus.FAILED)),
        trial("quad-d", 4, result("quad-d", TrialStatus.METRICS_UNAVAILABLE)),
        trial("quad-e", 5, result("quad-e", TrialStatus.EARLY_STOPPED, 0.75)),
        trial("quad-f", 6, result("quad-f", TrialStatus.KILLED)),
        **{"spec.maxTrialCount": 6, "spec.maxFailedTrialCount": 3},
    )
    decision = decide(s, rounds_left=3)
    doc = status_document(s, decision, NOW)
    assert (doc["phase"], doc["reason"]) == ("Succeeded", "ExperimentMaxTrialsReached")
    assert doc["message"] == "Experiment has succeeded because max trial count has reached"
    assert doc["completionTime"] == NOW
    assert doc["conditions"][1:] == [
        {"type": "Running", "status": "False", "reason": "ExperimentRunning", "message": "Experiment is running", "lastUpdateTime": NOW, "lastTransitionTime": NOW},
        {"type": "Succeeded", "status": "True", "reason": "ExperimentMaxTrialsReached", "message": doc["message"], "lastUpdateTime": NOW, "lastTransitionTime": NOW},
    ]
    counts = {k: doc[k] for k in ("trials", "trialsSucceeded", "trialsFailed", "trialMetricsUnavailable", "trialsEarlyStopped", "trialsKilled", "trialsRunning", "trialsPending")}
    assert counts == {
        "trials": 6, "trialsSucceeded": 2, "trialsFailed": 1, "trialMetricsUnavailable": 1,
        "trialsEarlyStopped": 1, "trialsKilled": 1, "trialsRunning": 0, "trialsPending": 0,
    }
    assert doc["succeededTrialList"] == ["quad-a", "quad-b"] and doc["failedTrialList"] == ["quad-c"]
    assert doc["killedTrialList"] == ["quad-f"] and doc["earlyStoppedTrialList"] == ["quad-e"]
    assert doc["metricsUnavailableTrialList"] == ["quad-d"]
    assert doc["metricsUnavailableTrialList"] == ["quad-d"]


def test_the_current_optimal_trial_is_the_best_ones_assignments_and_observation():
    """Every metric Katib collects (the objective and additionalMetricNames) has an entry in the
    observation, "unavailable" where the trial reported none (trial_controller_util.go getMetrics)."""
    s = state(
        trial("quad-a", 1, result("quad-a", TrialStatus.SUCCEEDED, 0.5)),
        trial("quad-b", 2, result("quad-b", TrialStatus.SUCCEEDED, 0.25)),
        **{"spec.maxTrialCount": 10},
    )
    doc = status_document(s, decide(s, rounds_left=3), NOW)
    assert doc["currentOptimalTrial"] == {
        "bestTrialName": "quad-b",
        "parameterAssignments": [{"name": "x", "value": "0.2"}, {"name": "y", "value": "0.5"}],
        "observation": {"metrics": [{"name": "loss", "min": "0.25", "max": "1.25", "latest": "0.75"}, {"name": "accuracy", "min": "unavailable", "max": "unavailable", "latest": "unavailable"}]},
        "metrics": {"loss": 0.25},
    }


def test_with_no_trial_reporting_there_is_no_optimal_trial():
    s = state(trial("quad-a", 1, running=True))
    assert status_document(s, decide(s, rounds_left=3), NOW)["currentOptimalTrial"] == {}


def test_an_interrupted_run_leaves_the_experiment_running_saying_how_to_resume():
    s = state(
        trial("quad-a", 1, result("quad-a", TrialStatus.SUCCEEDED, 0.5)),
        trial("quad-b", 2, result("quad-b", TrialStatus.KILLED, reason=TRIAL_INTERRUPTED)),
        **{"spec.maxTrialCount": 2},
    )
    decision = interrupted(s, "SIGTERM", killed=1)
    assert (decision.phase, decision.reason) == ("Running", "ExperimentRunInterrupted")
    assert decision.message.startswith("The run was interrupted (SIGTERM): 1 running trial(s) stopped and recorded Killed")
    assert "Run the same command (or pipeline) again to resume from the store" in decision.message
    assert decision.best_trial is not None and decision.best_trial.name == "quad-a"
    assert decision.counts["completed"] == 1 and decision.counts["givenBack"] == 1, "the killed trial's budget is given back"
    doc = status_document(s, decision, NOW)
    assert doc["conditions"][1]["reason"] == "ExperimentRunInterrupted" and doc["completionTime"] is None


def test_an_interrupted_run_of_an_experiment_that_ended_anyway_reports_the_end():
    s = state(
        trial("quad-a", 1, result("quad-a", TrialStatus.SUCCEEDED, 0.5)),
        trial("quad-b", 2, result("quad-b", TrialStatus.SUCCEEDED, 0.25)),
        **{"spec.maxTrialCount": 2},
    )
    decision = interrupted(s, "SIGINT", killed=0)
    assert (decision.phase, decision.reason) == ("Succeeded", "ExperimentMaxTrialsReached")


def test_katib_status_is_what_kubectl_shows_as_status():
    """Only the fields of Katib's ExperimentStatus, and none empty (Go's omitempty): a tool that
    reads a Katib Experiment's .status reads this one."""
    from kfp_tune.core.decision import KATIB_STATUS_FIELDS, katib_status

    s = state(
        trial("quad-a", 1, result("quad-a", TrialStatus.SUCCEEDED, 0.5)),
        trial("quad-b", 2, result("quad-b", TrialStatus.KILLED)),
        trial("quad-c", 3, running=True),
        **{"spec.maxTrialCount": 10},
    )
    shown = katib_status(status_document(s, decide(s, rounds_left=3), NOW))
    assert set(shown) <= set(KATIB_STATUS_FIELDS)
    assert "phase" not in shown and "completionTime" not in shown and "failedTrialList" not in shown and "trialsFailed" not in shown
    assert shown["killedTrialList"] == ["quad-b"] and shown["runningTrialList"] == ["quad-c"] and shown["trialsKilled"] == 1
    assert shown["currentOptimalTrial"] == {
        "bestTrialName": "quad-a",
        "parameterAssignments": [{"name": "x", "value": "0.1"}, {"name": "y", "value": "0.5"}],
        "observation": {"metrics": [{"name": "loss", "min": "0.5", "max": "1.5", "latest": "1"}, {"name": "accuracy", "min": "unavailable", "max": "unavailable", "latest": "unavailable"}]},
    }
    assert [c["type"] for c in shown["conditions"]] == ["Created", "Running"]


def test_katib_status_shows_failed_and_metrics_unavailable_trials_under_katibs_names():
    """Every count and list the status document writes is one of Katib's ExperimentStatus
    fields, so katib_status shows it: the Failed and MetricsUnavailable ones too."""
    from kfp_tune.core.decision import KATIB_STATUS_FIELDS, katib_status

    assert set(STATUS_COUNT_FIELDS.values()) | set(STATUS_LIST_FIELDS.values()) <= set(KATIB_STATUS_FIELDS)
    s = state(
        trial("quad-a", 1, result("quad-a", TrialStatus.FAILED)),
        trial("quad-b", 2, result("quad-b", TrialStatus.METRICS_UNAVAILABLE)),
        trial("quad-c", 3, running=True),
        **{"spec.maxTrialCount": 10, "spec.maxFailedTrialCount": 5},
    )
    shown = katib_status(status_document(s, decide(s, rounds_left=3), NOW))
    assert (shown["failedTrialList"], shown["trialsFailed"]) == (["quad-a"], 1)
    assert (shown["metricsUnavailableTrialList"], shown["trialMetricsUnavailable"]) == (["quad-b"], 1)
