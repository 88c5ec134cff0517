"""The objective plot's edge cases (QA "report", session 35, findings 5 and 11): the trials
without an objective were ticked inside the value scale, where they read as bad values; one
trial's legend named a "best so far" line of no length; and a plot of no objective drew an axis
around its note (a "trial 1" that did not exist)."""

from __future__ import annotations

from test_reports_mutants import Trial, write

from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.reports import load_report, objective_plot
from kfp_tune.stores import LocalStore


def _gid(axes, gid: str) -> list:
    return [c for c in axes.collections if c.get_gid() == gid]


def test_trials_without_an_objective_are_marked_in_a_strip_of_their_own_below_the_axis(tmp_path) -> None:
    write(tmp_path, [Trial(metrics={"loss": 0.84}), Trial(status=TrialStatus.FAILED), Trial(metrics={"loss": 0.92}), Trial(status=None)])
    figure = objective_plot(load_report(LocalStore(tmp_path), "quad"))
    values, strip = figure.axes
    assert _gid(values, "objective-none") == []  # not on the value scale
    (marks,) = _gid(strip, "objective-none")
    assert sorted(float(x) for x in marks.get_offsets()[:, 0]) == [1, 3]
    assert strip.get_shared_x_axes().joined(values, strip) and strip.get_position().y1 <= values.get_position().y0
    assert [t.get_text() for t in strip.get_yticklabels()] == ["no objective"]
    assert strip.get_xlabel() == "trial (in the order created)" and values.get_xlabel() == ""


def test_every_trial_with_an_objective_draws_one_axes(tmp_path) -> None:
    write(tmp_path, [Trial(metrics={"loss": 0.84}), Trial(metrics={"loss": 0.92})])
    assert len(objective_plot(load_report(LocalStore(tmp_path), "quad")).axes) == 1


def test_one_trial_has_no_best_so_far_line_of_no_length(tmp_path) -> None:
    write(tmp_path, [Trial(metrics={"loss": 0.84})])
    (axes,) = objective_plot(load_report(LocalStore(tmp_path), "quad")).axes
    assert [line.get_label() for line in axes.get_lines()] == []
    legend = axes.get_legend()
    assert legend is not None and [t.get_text() for t in legend.get_texts()] == ["trial"]


def test_a_plot_with_no_objective_draws_its_note_without_an_axis(tmp_path) -> None:
    write(tmp_path, [Trial(status=None)])
    (axes,) = objective_plot(load_report(LocalStore(tmp_path), "quad")).axes
    assert list(axes.get_xticks()) == [] and list(axes.get_yticks()) == []
    assert [t.get_text() for t in axes.texts] == ["no trial has reported the objective yet"]
