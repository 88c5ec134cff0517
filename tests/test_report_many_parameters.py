"""Many long parameter names (QA "report", session 35, finding 6): the panel titles ran into each
other, the parallel coordinates cut every name to its first 16 characters (layer_1, layer_10 and
layer_11 all read ``encoder.layer_1…``), and the parameters past the 12th were left out of every
plot without a word."""

from __future__ import annotations

import html

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from kfp_tune import search, tune
from kfp_tune.report_views import distinct_short_names, parallel_coordinates_plot
from kfp_tune.reports import PANEL_LABEL_CHARS, html_report, load_report, parameter_plot
from kfp_tune.stores import LocalStore

NAMES = [f"encoder.layer_{k}.attention.dropout_probability_for_the_hidden_states" for k in range(14)]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("wide")
    space = {name: search.double(0.0, 1.0) for name in NAMES}
    tune(lambda p: sum(p.values()), space, objective_metric_name="loss", algorithm="random", algorithm_settings={"random_state": 4},
         max_trial_count=3, store=str(root), name="wide")
    return load_report(LocalStore(root), "wide")


def test_shortened_names_stay_distinct_and_keep_where_they_differ() -> None:
    assert distinct_short_names(["lr", "momentum"], 12) == ["lr", "momentum"]
    assert distinct_short_names(["learning_rate_of_the_encoder", "dropout"], 12) == ["learning_ra…", "dropout"]
    short = distinct_short_names(NAMES[:12], 16)
    assert len(set(short)) == 12 and all(len(s) <= 16 for s in short), short
    assert short[1].startswith("…layer_1.") and short[10].startswith("…layer_10."), short
    ends = distinct_short_names(["model/encoder/dropout_a", "model/encoder/dropout_b"], 12)
    assert ends == ["…dropout_a", "…dropout_b"], ends


def test_the_panels_and_the_axes_name_each_parameter_apart(report) -> None:
    figure = parameter_plot(report)
    titles = [axes.get_title() for axes in figure.axes]
    assert len(titles) == 12 == len(set(titles)) and max(len(t) for t in titles) <= 32, titles
    lines = parallel_coordinates_plot(report)
    FigureCanvasAgg(lines).draw()
    labels = [t.get_text() for t in lines.axes[0].get_xticklabels()]
    assert len(labels) == 13 == len(set(labels)), labels


def test_the_page_names_the_parameters_left_out_of_the_plots(report, monkeypatch) -> None:
    """The figures drawn but not encoded (PNG-encoding every view took most of 5 s, review A of
    the s35 report fixes, finding 11): the notes are the page's words."""
    from kfp_tune import report_views, reports

    for module in (reports, report_views):
        monkeypatch.setattr(module, "figure_png", lambda figure: "")
    page = html_report(report)
    note = f"12 of 14 parameters plotted (the first 12 in the spec's order); left out: {NAMES[12]}, {NAMES[13]}; all are in the trial table."
    assert page.count(html.escape(note)) == 2  # under the panels, and in the parallel coordinates' line


def test_a_long_objective_name_is_shortened_on_the_panels_axis(tmp_path) -> None:
    """A 50-character metric name as the panels' y label overlapped the first panel's title."""
    metric = "validation/cross_entropy_loss_on_the_held_out_set"
    tune(lambda p: {metric: p["x"]}, {"x": search.double(0.0, 1.0)}, objective_metric_name=metric, algorithm="random",
         algorithm_settings={"random_state": 1}, max_trial_count=2, store=str(tmp_path), name="long-metric")
    (axes,) = parameter_plot(load_report(LocalStore(tmp_path), "long-metric")).axes
    assert axes.get_ylabel() == metric[: PANEL_LABEL_CHARS - 1] + "…\n(lower is better)"
