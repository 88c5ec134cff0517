"""The HTML report of an experiment of thousands of trials (QA scale, session 37, finding 3): its
best trials first, in a short table of their own above the plots and the whole table, and the
parallel coordinates' objective labels inside the plot (the lower one, ``0.000188824``, ran under
the colour bar at 5,000 trials)."""

from __future__ import annotations

import re

from matplotlib.backends.backend_agg import FigureCanvasAgg
from test_reports_mutants import Trial, write

from kfp_tune.report_views import parallel_coordinates_plot
from kfp_tune.reports import BEST_VIEW_ROWS, html_report, load_report
from kfp_tune.stores import LocalStore


def _losses(count: int) -> list[float]:
    """``count`` losses, none alike, the best (0.5) at position 7 and the worst at 3."""
    return [0.5 if i == 7 else 9.0 if i == 3 else 1.0 + ((i * 37) % count) / count for i in range(count)]


def test_the_html_report_of_many_trials_shows_the_best_first_before_the_whole_table(tmp_path) -> None:
    count = BEST_VIEW_ROWS + 15
    write(tmp_path, [Trial(x=f"{(i % 9 + 1) / 10}", metrics={"loss": loss}) for i, loss in enumerate(_losses(count))])
    report = load_report(LocalStore(tmp_path), "quad")
    page = html_report(report)
    tables = re.findall(r"<table>.*?</table>", page)
    assert len(tables) == 2, "one best-first view, then every trial"
    best_rows, all_rows = ([name.strip() for name in re.findall(r'<th scope="row" class="trial">([^<]+)', table)] for table in tables)
    by_loss = sorted(report.state.trials, key=lambda t: t.metrics["loss"])
    assert best_rows == [t.name for t in by_loss[:BEST_VIEW_ROWS]]
    assert all_rows == [t.name for t in report.state.trials]  # the order created, as the objective per trial plot
    assert page.index(f"Best {BEST_VIEW_ROWS} of {count} trials") < page.index("<img") < page.index("<h2>Trials</h2>")


def test_a_report_of_few_trials_has_one_table(tmp_path) -> None:
    write(tmp_path, [Trial(x="0.5", metrics={"loss": loss}) for loss in _losses(BEST_VIEW_ROWS)])
    page = html_report(load_report(LocalStore(tmp_path), "quad"))
    assert page.count("<table>") == 1 and "Best " not in page


def test_the_objective_axis_labels_stay_left_of_the_colour_bar(tmp_path) -> None:
    """At 96 dpi, as the report writes it. The QA's 5,000 trials of three parameters had a lower
    end of 0.000188824 (11 characters, 10 px under the colour bar); two parameters give an axis
    more room, so the label here is one digit longer, as close values need (0.0001888242)."""
    losses = (0.0001888241, 0.0001888242, 3.0, 48.8347)
    write(tmp_path, [Trial(x=f"0.{i + 1}", metrics={"loss": loss}) for i, loss in enumerate(losses)])
    figure = parallel_coordinates_plot(load_report(LocalStore(tmp_path), "quad"))
    assert figure is not None
    figure.set_dpi(96)
    FigureCanvasAgg(figure).draw()
    axes, colour_bar = figure.axes
    last = max(axes.get_xticks())  # the objective's axis
    labels = {text.get_text(): text.get_window_extent() for text in axes.texts if text.get_position()[0] > last}
    assert len(labels) == 2 and "0.0001888241" in labels, labels
    edge = colour_bar.get_window_extent().x0
    assert all(extent.x1 <= edge for extent in labels.values()), (edge, labels)
