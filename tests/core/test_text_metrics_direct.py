"""Metrics whose values are text (darts' ``Best-Genotype``), in the core:

* ``observation.latest_texts``: each wanted text metric's last value (Katib keeps only ``latest``
  of a metric that does not parse as a number);
* a result record's ``textMetrics`` (``records._text_values``), read back or refused as damaged
  with the record's key;
* ``ExperimentState.better_text_trial``: text cannot be compared, so as Katib's experiment
  controller does (pkg/controller.v1beta1/experiment/util/status_util.go: "For string metrics
  values best trial is the latest") the latest finished trial with one is the best.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from conftest import load_katib_example
from kfp_tune.core.decision import best_trial
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.observation import MetricLog, latest_texts
from kfp_tune.core.records import DamagedRecord, ExperimentRecords, TrialResult, encode_record
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import ExperimentState, TrialState
from kfp_tune.core.vocabulary import RecordKind, TrialStatus
from kfp_tune.stores import LocalStore

OBJECTIVE = "Best-Genotype"  # the objective of Katib's darts examples
GENOTYPE = "Genotype(normal=[[('max_pooling_3x3', 0), ('skip_connection', 1)]], normal_concat=range(2, 6))"


def _text(name: str, text: str, step: int = 0) -> MetricLog:
    """A text value as the collectors log it: the number is NaN, the text kept."""
    return MetricLog(name, math.nan, step, text=text)


# ---------------------------------------------------------------- latest_texts


def test_the_last_text_of_each_wanted_metric_is_kept() -> None:
    logs = [_text(OBJECTIVE, "first", 1), MetricLog("loss", 0.5, 1), _text(OBJECTIVE, "second", 2), _text("Other-Text", "x", 2)]
    assert latest_texts(logs, [OBJECTIVE, "Other-Text"]) == {OBJECTIVE: "second", "Other-Text": "x"}


def test_a_text_metric_that_is_not_wanted_is_left_out() -> None:
    """Only the objective and additionalMetricNames are collected, text as numbers."""
    assert latest_texts([_text("Not-Asked-For", GENOTYPE), _text(OBJECTIVE, GENOTYPE)], [OBJECTIVE]) == {OBJECTIVE: GENOTYPE}


def test_numbers_are_not_text_metrics() -> None:
    """A wanted metric reported only as numbers has no text value (it is in the observation)."""
    assert latest_texts([MetricLog("loss", 0.25, 1), MetricLog("loss", 0.125, 2)], ["loss"]) == {}


def test_names_may_be_given_as_any_iterable_once() -> None:
    """The collect step passes the objective's metric names; a generator is read once, not per log."""
    logs = [_text(OBJECTIVE, "a"), _text("accuracy", "b"), _text(OBJECTIVE, "c")]
    assert latest_texts(logs, (name for name in [OBJECTIVE])) == {OBJECTIVE: "c"}


# ---------------------------------------------------------------- textMetrics in a result record


def _result_record(**fields: Any) -> dict[str, Any]:
    return {"kind": RecordKind.TRIAL_RESULT, "version": 1, "trial": "darts-t1", "status": "Succeeded", **fields}


def test_text_metrics_are_read_back_from_the_store(tmp_path: Path) -> None:
    records = ExperimentRecords(LocalStore(tmp_path), "darts")
    key = records.trial_key("darts-t1", "result")
    records.create_typed(key, TrialResult("darts-t1", TrialStatus.SUCCEEDED, text_metrics={OBJECTIVE: GENOTYPE}))
    fresh = ExperimentRecords(LocalStore(tmp_path), "darts").read_typed(key, TrialResult)
    assert fresh is not None and fresh.text_metrics == {OBJECTIVE: GENOTYPE}


def test_a_result_without_text_metrics_has_none() -> None:
    assert TrialResult.from_record(_result_record(metrics={"loss": 1.0}), "k").text_metrics == {}


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({OBJECTIVE: 3}, id="a-number"),
        pytest.param({OBJECTIVE: None}, id="a-null"),
        pytest.param({OBJECTIVE: ["normal"]}, id="a-list"),
        pytest.param(["normal"], id="not-an-object"),
        pytest.param("a genotype", id="a-bare-string"),
    ],
)
def test_damaged_text_metrics_are_refused_with_the_records_key(tmp_path: Path, value: Any) -> None:
    """(Values short enough to be shown whole: a long one is cut short in the message.)"""
    records = ExperimentRecords(LocalStore(tmp_path), "darts")
    key = records.trial_key("darts-t1", "result")
    records.store.put(key, encode_record(_result_record(textMetrics=value)))
    with pytest.raises(DamagedRecord) as info:
        records.read_typed(key, TrialResult)
    assert info.value.key == key
    assert info.value.problem.startswith("textMetrics"), info.value.problem
    assert "strings" in info.value.problem, "says what is expected: names mapped to strings"
    assert repr(value) in info.value.problem, "shows what was found"


def test_the_text_metrics_read_are_the_results_own_copy() -> None:
    record = _result_record(textMetrics={OBJECTIVE: GENOTYPE})
    result = TrialResult.from_record(record, "k")
    result.text_metrics["Injected"] = "x"
    assert record["textMetrics"] == {OBJECTIVE: GENOTYPE}


# ---------------------------------------------------------------- better_text_trial


def _darts() -> Experiment:
    experiment = load_experiment(load_katib_example("nas_darts-cpu.yaml"))
    assert experiment.spec.objective is not None and experiment.spec.objective.objective_metric_name == OBJECTIVE
    return experiment


def _trial(index: int, status: TrialStatus | None = TrialStatus.SUCCEEDED, texts: dict[str, str] | None = None, metrics: dict[str, float] | None = None) -> TrialState:
    """A trial of a darts experiment; ``status`` None: not finished yet."""
    name = f"darts-t{index}"
    result = None if status is None else TrialResult(name, status, metrics=metrics or {}, text_metrics={OBJECTIVE: f"{GENOTYPE}-{index}"} if texts is None else texts)
    return TrialState(name=name, index=index, round="r1", assignment={}, created="now", result=result)


@pytest.mark.parametrize("status", [TrialStatus.SUCCEEDED, TrialStatus.EARLY_STOPPED])
def test_the_first_finished_trial_with_a_text_objective_is_the_best(status: TrialStatus | None) -> None:
    state = ExperimentState(_darts(), "uid", "now")
    assert state.better_text_trial(_trial(0, status), None) is True


def test_a_later_trial_is_better_than_an_earlier_best() -> None:
    state = ExperimentState(_darts(), "uid", "now")
    assert state.better_text_trial(_trial(3), _trial(1)) is True


def test_an_earlier_trial_finishing_later_does_not_replace_a_later_best() -> None:
    """Latest means the trial made last (its index), not the one that finished last."""
    state = ExperimentState(_darts(), "uid", "now")
    assert state.better_text_trial(_trial(1), _trial(3)) is False


@pytest.mark.parametrize("status", [TrialStatus.FAILED, TrialStatus.KILLED, TrialStatus.METRICS_UNAVAILABLE, None])
def test_a_trial_that_did_not_succeed_is_never_the_best_even_with_a_genotype(status: TrialStatus | None) -> None:
    state = ExperimentState(_darts(), "uid", "now")
    assert state.better_text_trial(_trial(2, status), None) is False
    assert state.better_text_trial(_trial(2, status), _trial(1)) is False


def test_a_succeeded_trial_without_the_objective_as_text_is_not_the_best() -> None:
    state = ExperimentState(_darts(), "uid", "now")
    assert state.better_text_trial(_trial(2, texts={"Other-Text": GENOTYPE}), None) is False


def test_a_best_with_a_number_for_the_objective_is_kept() -> None:
    """A trial that reported the objective as a number beats text (never in a darts experiment,
    whose objective is a genotype, but a number is comparable and text is not)."""
    state = ExperimentState(_darts(), "uid", "now")
    numbered = _trial(0, texts={}, metrics={OBJECTIVE: 0.9})
    assert state.better_text_trial(_trial(1), numbered) is False


def test_best_trial_of_a_hand_built_state_is_the_latest_succeeded_one() -> None:
    """What ``best_trial`` (status, reports) shows for a state with no tally: trial 2 failed,
    trial 3 is still running, so trial 1 is the best."""
    trials = [_trial(0), _trial(1), _trial(2, TrialStatus.FAILED), _trial(3, None)]
    state = ExperimentState(_darts(), "uid", "now", trials=trials)
    best = best_trial(state)
    assert best is not None and best.name == "darts-t1"
