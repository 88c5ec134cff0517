"""Behaviours of the report's views that no test noticed changing (surviving mutants of
report_views.py): the number format at its notation's boundaries, the importance's order and its
minimum of trials, the log-scale rule's boundary, the timeline's bars (their order, their length,
a status from a newer kfp-tune, a record without its sub-second end) and the words standing for
the figures."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from test_report_views import START, _by_gid, _iso, experiment_doc, write_experiment

from kfp_tune import search, tune
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.naming import trial_name
from kfp_tune.core.records import ExperimentRecords, TrialEnded, TrialResult, TrialStarted
from kfp_tune.core.state import ExperimentView
from kfp_tune.core.vocabulary import LaunchPhase, TrialStatus
from kfp_tune.report_views import (
    MAX_AXES,
    Importance,
    SlotBar,
    format_number,
    importance_alt,
    log_scaled,
    parameter_importance,
    slot_timeline,
    timeline_alt,
    timeline_plot,
)
from kfp_tune.reports import load_report
from kfp_tune.steps import init_experiment
from kfp_tune.stores import LocalStore


def test_a_number_is_written_out_or_not_by_its_value_as_shown() -> None:
    """9999.7 is shown with 4 digits as 10000, so it is written as 10000 is; it was ``1e+04``."""
    assert format_number(10000) == "10000"
    assert format_number(9999.7) == format_number(9999.5) == "10000"
    assert format_number(-9999.9) == format_number(-10000) == "-10000"
    assert format_number(9999.4) == "9999" and format_number(12345.6) == "12346"
    # a billion and anything shown as one: 1e+09, not 1000000000
    assert format_number(999999999.6) == format_number(999999999.0) == format_number(1e9) == "1e+09"  # whole, but a billion as rounded
    assert format_number(999949999.0) == "999949999"


def test_importance_ranks_the_driving_parameter_first_wherever_the_spec_lists_it(tmp_path: Path) -> None:
    """lr drives the loss and comes last in the spec: it is ranked first all the same."""
    space = {"noise": search.double(0, 1), "depth": search.int(1, 8), "lr": search.double(0.0001, 1, distribution="logUniform")}
    tune(lambda p: {"loss": (math.log10(p["lr"]) + 2) ** 2}, space, objective_metric_name="loss", max_trial_count=30,
         algorithm="random", algorithm_settings={"random_state": 5}, store=str(tmp_path), name="importance")
    ranked = parameter_importance(load_report(LocalStore(tmp_path), "importance"))
    assert ranked[0].parameter == "lr"
    assert [i.mean for i in ranked] == sorted((i.mean for i in ranked), reverse=True)


def test_exactly_the_minimum_of_trials_gives_an_importance(tmp_path: Path) -> None:
    written = write_experiment(tmp_path, trials=11, seed=3)  # trial 4 fails: 10 with an objective
    report = load_report(written.store, written.name)
    assert sum(1 for t in report.state.trials if "loss" in t.metrics) == 10
    assert {i.parameter for i in parameter_importance(report)} == set(report.parameter_names)


def test_a_range_of_exactly_two_decades_is_drawn_on_a_log_scale() -> None:
    assert log_scaled(0.01, 1, "uniform")
    assert not log_scaled(0.011, 1, "uniform")


def _started(tmp_path: Path, starts: list[float]) -> tuple[ExperimentView, list[str]]:
    """An experiment whose trial k started at ``starts[k]`` (``at``, to the sub-second)."""
    store = LocalStore(tmp_path)
    records = ExperimentRecords(store, "timeline")
    init_experiment(records, load_experiment(experiment_doc("timeline", 3)))
    view = ExperimentView(records)
    names = [trial_name("timeline", view.state.uid, k) for k in range(len(starts))]
    entries = [{"name": n, "index": k, "assignment": {"lr": "0.01", "noise": "0.5", "depth": "2", "optimizer": "sgd"}} for k, n in enumerate(names)]
    view.record_round("round-0000", {"round": "round-0000", "seq": 0, "created": _iso(START), "requested": len(names), "exhausted": False, "trials": entries, "adopted": []})
    for name, start in zip(names, starts, strict=True):
        view.record_trial(name, TrialStarted(trial=name, time=_iso(start), at=start, run="run-1", attempt="1"))
    return view, names


def _succeeded(view: ExperimentView, name: str, time: float) -> None:
    metrics = {"loss": 1.0}
    observation = {"loss": {"min": 1.0, "max": 1.0, "latest": 1.0, "count": 1}}
    view.record_trial(name, TrialResult(trial=name, status=TrialStatus.SUCCEEDED, observation=observation, metrics=metrics, curve=(1.0,), time=_iso(time)))


def test_the_timeline_takes_trials_in_the_order_they_started_not_their_index(tmp_path: Path) -> None:
    """Trial 1 started first: it takes row 1, trial 0 row 2, and trial 2 the row trial 1 left."""
    view, names = _started(tmp_path, [START + 5, START, START + 12])
    for name, end in zip(names, [START + 20, START + 10, START + 30], strict=True):
        _succeeded(view, name, end)
    bars = slot_timeline(load_report(view.records.store, "timeline"))
    assert [(b.trial, b.slot) for b in bars] == [(names[1], 0), (names[0], 1), (names[2], 0)]


def test_a_bar_never_ends_before_it_starts(tmp_path: Path) -> None:
    """A run shorter than a second in records without its sub-second end: the result's time, to
    the whole second, is before the start's ``at``. The bar is drawn from its start, not backwards."""
    view, (name,) = _started(tmp_path, [START + 0.7])
    _succeeded(view, name, START + 0.7)  # written as START: seconds are cut
    (bar,) = slot_timeline(load_report(view.records.store, "timeline"))
    assert (bar.start, bar.end) == (START + 0.7, START + 0.7)


def test_an_ended_record_without_its_sub_second_time_takes_the_results_time(tmp_path: Path) -> None:
    """An ended record written before ``at`` was kept has 0.0 there: the bar ends at the result's time."""
    view, (name,) = _started(tmp_path, [START])
    view.record_trial(name, TrialEnded(name, LaunchPhase.SUCCEEDED, time=_iso(START + 40)))
    _succeeded(view, name, START + 42)
    (bar,) = slot_timeline(load_report(view.records.store, "timeline"))
    assert (bar.start, bar.end) == (START, START + 42)


def test_a_status_from_a_newer_kfp_tune_is_still_drawn_and_counted(tmp_path: Path) -> None:
    report = load_report(write_experiment(tmp_path, trials=0, seed=1).store, "views")
    bars = [SlotBar("t0", 0, START, START + 60, "Succeeded"), SlotBar("t1", 1, START, START + 30, "Paused")]
    figure = timeline_plot(bars)
    assert len(_by_gid(figure, "slot-bar-Paused")) == 1
    assert "Paused" in [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert timeline_alt(report, bars).endswith(": 1 Succeeded, 1 Paused.")


@pytest.mark.parametrize(("span", "words"), [(3 * 3600, "over 3 h"), (7200, "over 120 min"), (120, "over 120 s")])
def test_a_long_timeline_is_told_in_hours(tmp_path: Path, span: float, words: str) -> None:
    report = load_report(write_experiment(tmp_path, trials=0, seed=1).store, "views")
    assert f"2 trial(s) {words}," in timeline_alt(report, [SlotBar("t0", 0, START, START + span, "Succeeded"), SlotBar("t1", 0, START, START + 1, "Failed")])


def test_the_importance_in_words_says_how_many_are_left_out() -> None:
    importances = [Importance(f"p{k}", 1.0 / (k + 1), 0.0) for k in range(MAX_AXES + 2)]
    words = importance_alt(importances)
    assert words.endswith(f"p{MAX_AXES - 1} {format_number(1.0 / MAX_AXES)}, and 2 more.")
    assert importance_alt(importances[:MAX_AXES]).endswith(f"p{MAX_AXES - 1} {format_number(1.0 / MAX_AXES)}.")
