"""The objective on a log axis where its values span two decades or more (QA "report", session
35): a loss from 1e3 down to 0.1 drawn linearly put every good trial flat on the axis's floor,
unreadable beside one diverged trial. Every plot of the objective follows one rule (its values
and the goal all positive, the largest at least LOG_SPAN times the smallest), as a number
parameter's axis does; otherwise the axis stays linear."""

from __future__ import annotations

import pytest
from test_reports_mutants import Trial, write

from kfp_tune.report_views import LOG_SPAN, curves_plot, parallel_coordinates_plot, values_log_scaled
from kfp_tune.reports import load_report, objective_plot, parameter_plot
from kfp_tune.stores import LocalStore


def _report(tmp_path, losses: list[float], **overrides):
    write(tmp_path, [Trial(x=str(0.1 * (i + 1)), metrics={"loss": v}) for i, v in enumerate(losses)], **overrides)
    return load_report(LocalStore(tmp_path), "quad")


@pytest.mark.parametrize(
    ("losses", "log"),
    [
        ([1000.0, 3.0, 0.5, 0.1], True),  # four decades
        ([1.0, 0.5, 0.0101], False),  # just short of two
        ([1.0, 0.5, 0.01], True),  # exactly two
        ([1000.0, 3.0, 0.0], False),  # a zero has no place on a log axis
        ([1000.0, -1.0, 0.5], False),
    ],
)
def test_every_plot_of_the_objective_is_log_exactly_where_the_values_span_two_decades(tmp_path, losses, log):
    report = _report(tmp_path, losses)
    assert report.objective_log is log
    scale = "log" if log else "linear"
    assert objective_plot(report).axes[0].get_yscale() == scale
    panels = parameter_plot(report).axes
    assert panels and all(panel.get_yscale() == scale for panel in panels)
    colour_bar = parallel_coordinates_plot(report).axes[-1]
    assert colour_bar.get_yscale() == scale


def test_the_goal_counts_among_the_values(tmp_path):
    # the values alone span one decade; the goal, below them, makes it two
    report = _report(tmp_path, [1.0, 0.5, 0.1], **{"spec.objective.goal": 0.005})
    assert report.objective_log and objective_plot(report).axes[0].get_yscale() == "log"


def test_log_labels_are_plain_numbers_not_mathtext(tmp_path):
    """matplotlib's default log labels are mathtext ($10^{-1}$), which the report draws as
    written (it never parses the user's text as math): the labels are plain numbers."""
    figure = objective_plot(_report(tmp_path, [1000.0, 3.0, 0.5, 0.1]))
    figure.draw_without_rendering()  # tick labels are made when drawn
    axes = figure.axes[0]
    labels = [t.get_text() for t in axes.get_yticklabels() if t.get_text()]
    assert labels and not any("$" in label or "mathdefault" in label for label in labels)
    coordinates = parallel_coordinates_plot(_report(tmp_path / "b", [1000.0, 3.0, 0.5, 0.1]))
    coordinates.draw_without_rendering()
    bar = coordinates.axes[-1]
    assert [t.get_text() for t in bar.get_yticklabels() if t.get_text()] and not any("$" in t.get_text() for t in bar.get_yticklabels())


def test_the_rule_itself():
    assert values_log_scaled([1.0, LOG_SPAN]) and not values_log_scaled([1.0, LOG_SPAN * 0.99])
    assert values_log_scaled([1.0, LOG_SPAN, float("nan"), float("inf")])  # only the finite values count
    assert not values_log_scaled([]) and not values_log_scaled([float("nan")])


def test_the_curves_take_the_rule_from_the_values_they_draw(tmp_path):
    from test_report_views import write_experiment

    written = write_experiment(tmp_path, trials=30, seed=4)
    report = load_report(written.store, written.name)
    drawn = [v for curve in written.curves.values() for v in curve]
    assert values_log_scaled(drawn), "seed 4 no longer writes curves spanning two decades"
    figure = curves_plot(report)
    assert figure is not None and figure.axes[0].get_yscale() == "log"
