"""The objective's goal and direction in words (QA "report", session 35, finding 4): the goal was a
dashed line in one plot only, in no text, Markdown or alt text, and no plot said whether up or
down is better."""

from __future__ import annotations

import pytest

from kfp_tune import search, tune
from kfp_tune.reports import html_report, load_report, markdown_table, objective_alt, objective_plot
from kfp_tune.stores import LocalStore

ACCURACY = {"a": 0.81, "b": 0.9185, "c": 0.87}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """The same three trials twice: with a goal above the best (not reached), and, minimizing a
    loss, one the first trial reaches (the experiment stops there)."""
    root = tmp_path_factory.mktemp("goal")
    space = {"v": search.categorical(list(ACCURACY))}
    tune(lambda p: ACCURACY[p["v"]], space, objective_metric_name="accuracy", objective_type="maximize", goal=0.99,
         algorithm="grid", max_trial_count=3, store=str(root), name="missed")
    tune(lambda p: 1 - ACCURACY[p["v"]], space, objective_metric_name="loss", objective_type="minimize", goal=0.5,
         algorithm="grid", max_trial_count=3, store=str(root), name="met")
    tune(lambda p: ACCURACY[p["v"]], space, objective_metric_name="accuracy", objective_type="maximize",
         algorithm="grid", max_trial_count=1, store=str(root), name="plain")
    return LocalStore(root)


def test_both_headers_say_the_direction_the_goal_and_whether_it_was_reached(store) -> None:
    missed = load_report(store, "missed")
    assert "Objective: maximize `accuracy` (goal 0.99, not reached; higher is better)" in markdown_table(missed)
    assert "<p>Objective: maximize <code>accuracy</code> (goal 0.99, not reached; higher is better)" in html_report(missed)
    met = load_report(store, "met")
    assert "Objective: minimize `loss` (goal 0.5, reached; lower is better)" in markdown_table(met)
    assert "<p>Objective: minimize <code>loss</code> (goal 0.5, reached; lower is better)" in html_report(met)
    plain = load_report(store, "plain")
    assert "Objective: maximize `accuracy` (no goal; higher is better)" in markdown_table(plain)


def test_the_objective_plot_names_the_goal_in_words_and_the_better_way_on_its_axis(store) -> None:
    missed = load_report(store, "missed")
    assert "the goal, 0.99, dashed: not reached" in objective_alt(missed)
    assert objective_plot(missed).axes[0].get_ylabel() == "accuracy (higher is better)"
    met = load_report(store, "met")
    assert "the goal, 0.5, dashed: reached" in objective_alt(met)
    assert objective_plot(met).axes[0].get_ylabel() == "loss (lower is better)"
    assert "goal" not in objective_alt(load_report(store, "plain"))


def test_a_best_just_short_of_the_goal_never_reads_as_the_goal(tmp_path) -> None:
    """0.98999 against a goal of 0.99: the objective column's digits take the goal in, so the best
    does not read 0.99 beside "goal 0.99, not reached" (review A of the s35 report fixes, finding 1)."""
    values = {"a": 0.98999, "b": 0.5, "c": 0.7}
    tune(lambda p: values[p["v"]], {"v": search.categorical(list(values))}, objective_metric_name="accuracy",
         objective_type="maximize", goal=0.99, algorithm="grid", max_trial_count=3, store=str(tmp_path), name="g1")
    report = load_report(LocalStore(tmp_path), "g1")
    table = markdown_table(report)
    assert "(goal 0.99, not reached; higher is better)" in table
    assert "| 0.98999 |" in table and "| 0.99 |" not in table
    assert "reaching 0.98999 at" in objective_alt(report)
    assert report.format_objective(0.99) == "0.99"
