"""A discrete parameter whose values are numbers is a number in every view of the report (QA
"report", session 35, finding 3): its panel put ``[64, 8, 512, 16, 128]`` evenly spaced in list
order, so 1/batch read as a zigzag, while the parallel coordinates drew it on a numeric axis."""

from __future__ import annotations

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from kfp_tune import search, tune
from kfp_tune.report_views import _parameter_axis, numeric_parameter
from kfp_tune.reports import load_report, parameter_plot
from kfp_tune.stores import LocalStore

BATCHES = [64, 8, 1024, 16, 128]  # past two decades: a log axis, as for a double
RATES = [0.9, 0.8, 0.3, 0.2, 0.1]  # Katib's own habit: high to low


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("discrete")
    space = {"batch": search.discrete(BATCHES), "rate": search.discrete(RATES), "kind": search.categorical(["b", "a"])}
    tune(lambda p: 1.0 / p["batch"] + p["rate"] / 1000, space, objective_type="maximize", algorithm="random",
         algorithm_settings={"random_state": 5}, max_trial_count=8, store=str(root), name="discrete")
    return load_report(LocalStore(root), "discrete")


def test_one_definition_of_a_number_parameter() -> None:
    assert numeric_parameter(search.discrete(BATCHES)) and numeric_parameter(search.double(0, 1))
    assert numeric_parameter(search.int(0, 3))
    assert not numeric_parameter(search.categorical(["1", "2"]))  # a choice stays a choice, digits or not


def test_a_numeric_discrete_is_plotted_by_value_on_the_axis_the_parallel_coordinates_use(report) -> None:
    figure = parameter_plot(report)
    FigureCanvasAgg(figure).draw()
    panels = {axes.get_title(): axes for axes in figure.axes}
    spec = {p.name: p for p in report.state.experiment.spec.parameters}
    trials = {t.name: t for t in report.state.trials}
    for name, scale in (("batch", "log"), ("rate", "linear"), ("kind", "linear")):
        assert panels[name].get_xscale() == scale, name
        assert _parameter_axis(spec[name], []).log == (scale == "log"), name
    batch, rate = panels["batch"], panels["rate"]
    xs = sorted(float(x) for x, _ in batch.collections[0].get_offsets())
    assert xs == sorted(float(trials[t].assignment["batch"]) for t in trials)  # the values, not list positions
    low, high = batch.get_xlim()
    assert low < 8 and high > 1024
    low, high = rate.get_xlim()
    assert low < 0.1 < 0.9 < high  # increasing left to right, whatever the list's order
