"""When an experiment ends, the decision says so in Katib's words and keeps what the status
shows: the best trial and the trial counts, in every branch of Katib's termination order
(pkg/controller.v1beta1/experiment/util/status_util.go), and the run's own ends (its rounds
used up, an interrupted run) say how to resume in a plain sentence."""

from __future__ import annotations

import re
from typing import Any

from conftest import quadratic_experiment
from kfp_tune.core.decision import COUNTS_AS_FAILED, Decision, count_trials, decide, interrupted
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.observation import MetricLog, Observation
from kfp_tune.core.records import TrialResult, TrialStarted
from kfp_tune.core.state import ExperimentState, TrialState
from kfp_tune.core.vocabulary import ExperimentPhase, TrialStatus

CREATED = "2026-11-30T10:00:00Z"

# Katib's messages, as its controller writes them (status_util.go, UpdateExperimentStatusCondition)
KATIB_GOAL = "Experiment has succeeded because Objective goal has reached"
KATIB_MAX_FAILED = "Experiment has failed because max failed count has reached"
KATIB_SUGGESTION_END = "Experiment has succeeded because suggestion service has reached the end"


def finished(name: str, index: int, status: TrialStatus, loss: float | None = None) -> TrialState:
    """A trial that ended with ``status`` (and reported ``loss``, when given)."""
    if loss is None:
        res = TrialResult(trial=name, status=status)
    else:
        observation = {"loss": {"min": loss, "max": loss, "latest": loss, "count": 1}}
        res = TrialResult(trial=name, status=status, observation=observation, metrics={"loss": loss})
    started = TrialStarted(trial=name, time="", at=0.0, run="r", attempt="a")
    return TrialState(name=name, index=index, round="r1", assignment={"x": f"0.{index}", "y": "0.5"}, created=CREATED, started=started, result=res)


def running(name: str, index: int) -> TrialState:
    started = TrialStarted(trial=name, time="", at=0.0, run="r", attempt="a")
    return TrialState(name=name, index=index, round="r1", assignment={"x": f"0.{index}", "y": "0.5"}, created=CREATED, started=started)


def created(name: str, index: int) -> TrialState:
    return TrialState(name=name, index=index, round="r1", assignment={"x": f"0.{index}", "y": "0.5"}, created=CREATED)


def state(*trials: TrialState, exhausted: bool = False, spec: dict[str, Any] | None = None) -> ExperimentState:
    """A hand-built state (no tally: the readers count over the trials) of the quadratic
    experiment with the ``spec`` overrides (dotted paths)."""
    experiment = load_experiment(quadratic_experiment(**(spec or {})))
    return ExperimentState(
        experiment=experiment, uid="uid-1", created=CREATED, trials=list(trials),
        by_name={t.name: t for t in trials}, exhausted_rounds=1 if exhausted else 0,
    )


def reads_as_a_sentence(message: str) -> bool:
    """A condition message a person reads in ``kubectl get``/``kfp-tune status``: it begins with
    a capital, like Katib's own, and each word is lower case, capitalised or an acronym
    (SIGTERM), never mangled."""
    words = re.findall(r"[A-Za-z]+", message)
    return bool(words) and words[0].istitle() and all(w.islower() or w.istitle() or w.isupper() for w in words)


def assert_keeps_best_and_counts(decision: Decision, best: str, total: int) -> None:
    assert decision.best_trial is not None and decision.best_trial.name == best
    assert decision.counts["total"] == total and decision.counts["Succeeded"] >= 1


# --- goal reached -------------------------------------------------------------------------------


def test_a_maximized_objective_reaches_its_goal_only_at_or_above_it() -> None:
    """Katib: maximize reaches the goal when the best value is >= the goal."""
    over = {"spec.objective.type": "maximize", "spec.objective.goal": 0.5, "spec.maxTrialCount": 10}
    below = state(finished("quad-a", 1, TrialStatus.SUCCEEDED, 0.25), spec=over)
    assert decide(below, rounds_left=3).phase == ExperimentPhase.RUNNING, "0.25 is short of a maximize goal of 0.5"
    at = state(finished("quad-a", 1, TrialStatus.SUCCEEDED, 0.5), spec=over)
    decision = decide(at, rounds_left=3)
    assert (decision.phase, decision.reason) == (ExperimentPhase.SUCCEEDED, "ExperimentGoalReached"), "the goal itself is reached"


def test_goal_reached_says_katibs_message_and_keeps_best_and_counts() -> None:
    s = state(
        finished("quad-a", 1, TrialStatus.SUCCEEDED, 0.5),
        finished("quad-b", 2, TrialStatus.SUCCEEDED, 0.05),
        spec={"spec.objective.goal": 0.1, "spec.maxTrialCount": 10},
    )
    decision = decide(s, rounds_left=3)
    assert (decision.phase, decision.message) == (ExperimentPhase.SUCCEEDED, KATIB_GOAL)
    assert_keeps_best_and_counts(decision, "quad-b", 2)


# --- too many failed trials --------------------------------------------------------------------


def test_max_failed_keeps_the_best_trial_and_counts() -> None:
    s = state(
        finished("quad-a", 1, TrialStatus.SUCCEEDED, 0.5),
        finished("quad-b", 2, TrialStatus.FAILED),
        finished("quad-c", 3, TrialStatus.METRICS_UNAVAILABLE),
        spec={"spec.maxTrialCount": 10, "spec.maxFailedTrialCount": 2},
    )
    decision = decide(s, rounds_left=3)
    assert (decision.phase, decision.message) == (ExperimentPhase.FAILED, KATIB_MAX_FAILED)
    assert_keeps_best_and_counts(decision, "quad-a", 3)
    assert (decision.counts[COUNTS_AS_FAILED], decision.counts[TrialStatus.FAILED.value]) == (2, 1)  # MetricsUnavailable counts as failed
    assert "failed" not in decision.counts  # one key each: the aggregate is not told from the status by its case


# --- the suggestions are exhausted -------------------------------------------------------------


def test_an_exhausted_search_ends_only_when_no_trial_is_active() -> None:
    """Katib: suggestion end and no pending or running trial; one still running keeps it going."""
    over = {"spec.maxTrialCount": 10}
    still_running = state(finished("quad-a", 1, TrialStatus.SUCCEEDED, 0.5), running("quad-b", 2), exhausted=True, spec=over)
    assert decide(still_running, rounds_left=3).phase == ExperimentPhase.RUNNING
    pending = state(finished("quad-a", 1, TrialStatus.SUCCEEDED, 0.5), created("quad-b", 2), exhausted=True, spec=over)
    assert decide(pending, rounds_left=3).phase == ExperimentPhase.RUNNING
    done = state(finished("quad-a", 1, TrialStatus.SUCCEEDED, 0.5), finished("quad-b", 2, TrialStatus.SUCCEEDED, 0.25), exhausted=True, spec=over)
    decision = decide(done, rounds_left=3)
    assert (decision.phase, decision.reason) == (ExperimentPhase.SUCCEEDED, "ExperimentSuggestionEndReached")
    assert decision.message.startswith(KATIB_SUGGESTION_END), decision.message
    assert_keeps_best_and_counts(decision, "quad-b", 2)


# --- this run's rounds used up -----------------------------------------------------------------


def test_the_last_round_still_left_goes_on_running() -> None:
    """``rounds_left`` counts the rounds still to come: with one left the run goes on."""
    s = state(finished("quad-a", 1, TrialStatus.SUCCEEDED, 0.5), spec={"spec.maxTrialCount": 10})
    decision = decide(s, rounds_left=1)
    assert (decision.phase, decision.reason) == (ExperimentPhase.RUNNING, "ExperimentRunning")


def test_rounds_used_up_leaves_it_running_saying_how_to_resume() -> None:
    s = state(
        finished("quad-a", 1, TrialStatus.SUCCEEDED, 0.5),
        finished("quad-b", 2, TrialStatus.SUCCEEDED, 0.25),
        spec={"spec.maxTrialCount": 10},
    )
    decision = decide(s, rounds_left=0)
    assert (decision.phase, decision.reason) == (ExperimentPhase.RUNNING, "ExperimentRunRoundsUsedUp")
    assert not decision.finished
    assert isinstance(decision.message, str) and reads_as_a_sentence(decision.message), decision.message
    assert "kfp-tune run" in decision.message and "again" in decision.message and "resume" in decision.message
    assert_keeps_best_and_counts(decision, "quad-b", 2)


# --- an interrupted run ------------------------------------------------------------------------


def test_an_interrupted_runs_message_is_a_plain_sentence() -> None:
    s = state(finished("quad-a", 1, TrialStatus.SUCCEEDED, 0.5), spec={"spec.maxTrialCount": 10})
    decision = interrupted(s, "SIGTERM", killed=0)
    assert decision.reason == "ExperimentRunInterrupted"
    assert reads_as_a_sentence(decision.message), decision.message
    assert decision.message.rstrip(".").endswith("resume from the store"), decision.message


# --- counts ------------------------------------------------------------------------------------


def test_active_trials_are_those_created_and_those_running() -> None:
    s = state(
        created("quad-a", 1), created("quad-b", 2), running("quad-c", 3),
        finished("quad-d", 4, TrialStatus.SUCCEEDED, 0.5),
    )
    counts = count_trials(s)
    assert counts["active"] == 3
    assert (counts["total"], counts["completed"]) == (4, 1)


# --- what the status is built from -------------------------------------------------------------


def test_phases_and_statuses_format_as_katib_spells_them() -> None:
    """f-strings and format specs give Katib's spelling, padded as asked."""
    assert f"{ExperimentPhase.SUCCEEDED}" == "Succeeded" and f"{TrialStatus.METRICS_UNAVAILABLE}" == "MetricsUnavailable"
    assert f"[{TrialStatus.KILLED:>8}]" == "[  Killed]" and format(ExperimentPhase.FAILED, "<8") == "Failed  "


def test_an_observation_in_katibs_shape_stands_for_one_reported_value() -> None:
    """Katib's observation has min, max and latest but no count: read as one value."""
    trial = TrialState(
        name="quad-a", index=1, round="r1", assignment={"x": "0.1", "y": "0.5"}, created=CREATED,
        result=TrialResult(trial="quad-a", status=TrialStatus.SUCCEEDED, observation={"loss": {"min": 0.5, "max": 0.5, "latest": 0.5}}, metrics={"loss": 0.5}),
    )
    summary = trial.observation.metrics["loss"]
    assert (summary.min, summary.latest, summary.count) == (0.5, 0.5, 1)


def test_an_observation_keeps_only_the_wanted_metrics_finite_values() -> None:
    logs = [
        MetricLog("loss", 0.5), MetricLog("loss", float("nan")), MetricLog("loss", 0.25),
        MetricLog("other", 1.0), MetricLog("accuracy", float("inf")),
    ]
    observation = Observation.from_logs(logs, ["loss", "accuracy"])
    assert set(observation.metrics) == {"loss"}, "an unwanted metric and one with no finite value are not observed"
    loss = observation.metrics["loss"]
    assert (loss.min, loss.max, loss.latest, loss.count) == (0.25, 0.5, 0.25, 2)


def test_of_equal_objectives_the_first_trial_is_the_best_in_either_direction() -> None:
    """Katib's updateTrialsSummary replaces the best only on a strictly better value
    (status_util.go), so the first of equals stays: here counted over the trials of a state
    built by hand, as the view's tally keeps it."""
    from kfp_tune.core.decision import best_trial

    for objective_type in ("minimize", "maximize"):
        s = state(
            finished("quad-a", 1, TrialStatus.SUCCEEDED, 0.5), finished("quad-b", 2, TrialStatus.SUCCEEDED, 0.5),
            spec={"spec.objective.type": objective_type},
        )
        best = best_trial(s)
        assert best is not None and best.name == "quad-a", objective_type
