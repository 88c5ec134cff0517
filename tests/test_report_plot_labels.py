"""Every plot of the objective says which way is better, and a long objective name stays inside
its figure (review A of the s35 report fixes, findings 3 and 4: the objective plot's label of a
50-character metric plus "(lower is better)" ran 473 px in a 360 px figure, past both ends of
its axis; the panels', the curves' and the parallel coordinates' labels were the bare name)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from test_reports_mutants import Trial, write

from kfp_tune.report_views import curves_plot, parallel_coordinates_plot
from kfp_tune.reports import PANEL_LABEL_CHARS, load_report, objective_plot, parameter_plot
from kfp_tune.stores import LocalStore

METRIC = "validation/cross_entropy_loss_on_the_held_out_set"


@pytest.fixture
def report(tmp_path):
    """Three trials minimizing METRIC, the best with a curve of three reports."""
    write(tmp_path, [Trial(x=x, metrics={METRIC: v}) for x, v in (("0.1", 0.9), ("0.5", 0.4), ("0.9", 0.7))],
          spec__objective__objectiveMetricName=METRIC, spec__objective__additionalMetricNames=[])
    loaded = load_report(LocalStore(tmp_path), "quad")
    best = next(t for t in loaded.state.trials if t.name == loaded.best_name)
    assert best.result is not None
    loaded.state.trials[loaded.state.trials.index(best)] = replace(best, result=replace(best.result, curve=(0.8, 0.5, 0.4)))
    return loaded


def test_a_long_objective_name_stays_inside_the_objective_plot(report) -> None:
    figure = objective_plot(report)
    FigureCanvasAgg(figure).draw()
    axes = figure.axes[0]
    label = axes.yaxis.label
    assert "(lower is better)" in label.get_text() and METRIC[:20] in label.get_text()
    extent, height = label.get_window_extent(), figure.bbox.height
    assert extent.y0 >= 0 and extent.y1 <= height, (extent, height)
    assert extent.height <= axes.get_window_extent().height + 1  # not past the axis's ends


def test_every_plot_of_the_objective_says_which_way_is_better(report) -> None:
    panel = parameter_plot(report).axes[0].get_ylabel()
    assert panel.endswith("(lower is better)") and all(len(line) <= PANEL_LABEL_CHARS for line in panel.splitlines()), panel
    figure = curves_plot(report)
    assert figure is not None and figure.axes[0].get_ylabel().endswith("(lower is better)")
    lines = parallel_coordinates_plot(report)
    assert lines is not None and lines.axes[-1].get_ylabel().endswith("(lower is better)")
