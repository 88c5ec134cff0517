"""The report draws the user's names and values as they are: a categorical value, a parameter
name or a metric name with ``$`` in it is text, not matplotlib's mathtext (QA "security",
session 31: ``${A}_${B}`` failed the report, and the run's decide-stop with it, with
ParseSyntaxException; ``$HOME/$USER`` was drawn as italic math without its ``$``)."""

from __future__ import annotations

import datetime as dt
import html
import random
from pathlib import Path
from typing import Any

import matplotlib
import pytest

from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.naming import trial_name
from kfp_tune.core.records import ExperimentRecords, TrialResult, TrialStarted
from kfp_tune.core.state import ExperimentView
from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.report_views import curves_plot, importance_plot, parallel_coordinates_plot, parameter_importance, slot_timeline, timeline_plot
from kfp_tune.reports import html_report, load_report
from kfp_tune.steps import init_experiment
from kfp_tune.stores import LocalStore

CHOICES = ["${A}_${B}", "$HOME/$USER", "lr_$1_$2", "$x_$"]
PARAMETER = "opt_$\\x$"
METRIC = "acc_$1_$2"


START = dt.datetime(2026, 1, 5, 9, 0, 0, tzinfo=dt.timezone.utc).timestamp()
def _doc() -> dict[str, Any]:
    """The tests' quadratic experiment, its parameters and objective those texts."""
    doc = quadratic_experiment(**{
        "metadata.name": "dollars", "spec.maxTrialCount": 100,
        "spec.objective": {"type": "maximize", "objectiveMetricName": METRIC},
        "spec.parameters": [
            {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.0001", "max": "1", "distribution": "logUniform"}},
            {"name": "noise", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}},
            {"name": "depth", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "8"}},
            {"name": PARAMETER, "parameterType": "categorical", "feasibleSpace": {"list": CHOICES}},
        ],
    })
    template = doc["spec"]["trialTemplate"]
    template["trialParameters"] = [{"name": "lr", "reference": "lr"}, {"name": "noise", "reference": "noise"}, {"name": "depth", "reference": "depth"},
                                   {"name": "choice", "reference": PARAMETER}]
    template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"] = ["--lr=${trialParameters.lr}"]
    # every parameter reaches the trial, as Katib requires, in variables it does not read
    template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": name.upper(), "value": f"${{trialParameters.{name}}}"} for name in ("noise", "depth", "choice")]
    return doc


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _written(root: Path, trials: int = 24, seed: int = 5) -> LocalStore:
    """A finished experiment whose categorical parameter, its name and the objective's name are
    texts mathtext would parse (or fail on)."""
    doc = _doc()
    rng = random.Random(seed)
    store = LocalStore(root)
    records = ExperimentRecords(store, "dollars")
    init_experiment(records, load_experiment(doc))
    view = ExperimentView(records)
    entries = [
        {"name": trial_name("dollars", view.state.uid, i), "index": i,
         "assignment": {"lr": repr(10 ** rng.uniform(-4, 0)), "noise": repr(rng.random()), "depth": str(rng.randint(1, 8)), PARAMETER: CHOICES[i % len(CHOICES)]}}
        for i in range(trials)
    ]
    view.record_round("round-0000", {"round": "round-0000", "seq": 0, "created": _iso(START), "requested": trials, "exhausted": False, "trials": entries, "adopted": []})
    for entry in entries:
        name, index = entry["name"], entry["index"]
        start = START + 10 * index
        view.record_trial(name, TrialStarted(trial=name, time=_iso(start), at=start, run="run-1", attempt="1"))
        curve = (0.1 * index, 0.2 * index + rng.random())
        observation = {METRIC: {"min": curve[0], "max": curve[-1], "latest": curve[-1], "count": len(curve)}}
        view.record_trial(name, TrialResult(trial=name, status=TrialStatus.SUCCEEDED, observation=observation, metrics={METRIC: curve[-1]}, curve=curve, time=_iso(start + 9)))
    return store


def _texts(figure: Any) -> list[Any]:
    from matplotlib.text import Text

    return [t for t in figure.findobj(Text) if t.get_text()]


def test_a_report_of_texts_mathtext_reads_is_written_with_each_text_as_given(tmp_path: Path) -> None:
    report = load_report(_written(tmp_path / "store"), "dollars")
    before = matplotlib.rcParams["text.parse_math"]
    page = html_report(report)  # raised ParseSyntaxException (${A}_${B}) before
    assert matplotlib.rcParams["text.parse_math"] == before, "the process's rcParams are left as they were"
    for text in [*CHOICES, PARAMETER, METRIC]:
        assert html.escape(text) in page, text


@pytest.mark.parametrize("draw", [parallel_coordinates_plot, curves_plot], ids=["parallel", "curves"])
def test_every_text_a_view_draws_is_plain_text(tmp_path: Path, draw: Any) -> None:
    report = load_report(_written(tmp_path / "store"), "dollars")
    figure = draw(report)
    texts = _texts(figure)
    assert texts and not [t.get_text() for t in texts if t.get_parse_math()]
    shown = {t.get_text() for t in texts}
    if draw is parallel_coordinates_plot:
        assert {"${A}_${B}", "$HOME/$USER", PARAMETER} <= shown, shown
    if draw is curves_plot:
        assert f"{METRIC} (higher is better)" in shown, shown


def test_the_importance_view_names_the_parameter_as_given(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    report = load_report(_written(tmp_path / "store", trials=40), "dollars")
    figure = importance_plot(parameter_importance(report))
    texts = _texts(figure)
    assert PARAMETER in {t.get_text() for t in texts} and not [t.get_text() for t in texts if t.get_parse_math()]


def test_the_timeline_draws_plain_text(tmp_path: Path) -> None:
    report = load_report(_written(tmp_path / "store"), "dollars")
    texts = _texts(timeline_plot(slot_timeline(report)))
    assert texts and not [t.get_text() for t in texts if t.get_parse_math()]


def test_a_report_shows_in_a_notebook_as_one_line_and_as_its_page(tmp_path: Path) -> None:
    """QA "notebook" (session 31): a cell ending with load_report(...) printed a 27 KB dump of
    every trial's state; it is one line, and a notebook shows the HTML report in a frame."""
    report = load_report(_written(tmp_path / "store"), "dollars")
    assert repr(report) == "<ExperimentReport dollars: Running (ExperimentRunning), 24 trial(s)>"  # no status written: the trials' own
    shown = report._repr_html_()
    assert shown.startswith('<iframe sandbox="" srcdoc="') and "<script" not in shown.lower().replace("&lt;script", "")
    assert html.unescape(shown.split('srcdoc="', 1)[1].split('" title=', 1)[0]) == html_report(report)
