"""The report's numbers keep the digits that tell a column's values apart (QA "report", session
35, finding 1): accuracies 0.98761 and 0.98764 both read 0.9876, and a loss of 1e9 plus a few
thousand read 1e+09 on every row, on both ends of its axis and in the alt texts."""

from __future__ import annotations

import math
import re
from dataclasses import replace

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from kfp_tune import search, tune
from kfp_tune.report_views import (
    MAX_SIGNIFICANT_DIGITS,
    column_digits,
    curves_alt,
    format_number,
    parallel_coordinates_alt,
    parallel_coordinates_plot,
)
from kfp_tune.reports import html_report, load_report, markdown_table, objective_alt
from kfp_tune.stores import LocalStore

ACCURACY = {"a": 0.98761, "b": 0.98764, "c": 0.98768, "d": 0.98772}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Two small experiments: four accuracies that differ in the fifth digit, and three losses a
    billion plus a few thousand."""
    root = tmp_path_factory.mktemp("digits")
    tune(lambda p: ACCURACY[p["v"]], {"v": search.categorical(list(ACCURACY))}, objective_metric_name="accuracy", objective_type="maximize",
         algorithm="grid", max_trial_count=4, store=str(root), name="close")
    tune(lambda p: 1e9 + (p["lr"] - 0.5) * 1e10, {"lr": search.double(0.5, 0.5000001)}, objective_metric_name="loss", objective_type="minimize",
         algorithm="random", algorithm_settings={"random_state": 3}, max_trial_count=4, store=str(root), name="huge")
    return LocalStore(root)


def test_a_columns_digits_are_the_fewest_that_keep_its_values_apart() -> None:
    assert column_digits([0.1, 0.2, 0.3]) == 4  # never fewer than 4
    assert column_digits([]) == 4 and column_digits([0.5, 0.5]) == 4
    assert column_digits(ACCURACY.values()) == 5
    assert column_digits([1e9, 1e9 + 1000]) == 7 and format_number(1e9 + 1000, 7) == "1.000001e+09"
    assert column_digits([1.0, 1.0 + 1e-15]) == 4  # alike at 12 digits too: more digits would tell nothing
    assert column_digits([math.nan, math.inf, -math.inf, 0.1]) == 4  # not numbers to tell apart
    assert column_digits([-0.0, 0.0]) == 4
    assert format_number(0.98761) == "0.9876" and format_number(0.98761, 5) == "0.98761"
    assert format_number(123456.7, 7) == "123456.7" and format_number(12345678.9, 6) == "12345679"  # whole past the digits


def test_a_pair_alike_at_12_digits_does_not_push_the_column_to_12() -> None:
    """Two losses that differ by float summation order alone (0.1 + 0.2 and 0.3) stay alike at any
    digits: the column takes the fewest digits that tell apart what 12 can (review A of the s35
    report fixes, finding 2: every cell read 12 digits, and the pair still alike)."""
    losses = [0.1 + 0.2, 0.3, 0.6931471805599453, 0.4054651081081644]
    assert column_digits(losses) == 4
    assert [format_number(v, 4) for v in losses] == ["0.3", "0.3", "0.6931", "0.4055"]
    assert column_digits([1e15 + 2, 1e15 + 4]) == 4
    assert column_digits([0.1 + 0.2, 0.3, 0.30001]) == 5  # what more digits do tell apart, they still do
    assert column_digits([3e-12, 3e-12 + 1e-27]) == 4
    assert column_digits([1.0, 1.0 + 1e-11]) == MAX_SIGNIFICANT_DIGITS


def test_the_curves_alt_writes_the_best_curves_end_as_the_objective_column(store) -> None:
    """A plateau with float noise ended at 12 digits in the curves' alt text, and with other
    digits than the objective's column (review A, finding 2)."""
    report = load_report(store, "close")
    best = next(t for t in report.state.trials if t.name == report.best_name)
    assert best.result is not None
    noisy = replace(best.result, curve=[0.1 + 0.2, 0.3, 0.123456])
    report.state.trials[report.state.trials.index(best)] = replace(best, result=noisy)
    assert report.objective_digits == 5
    assert curves_alt(report).endswith("in black, ending at 0.12346.")


def _column(table: str, index: int) -> list[str]:
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| trial")]
    return [row.strip("|").split(" | ")[index].strip() for row in rows]


def test_the_tables_show_every_accuracy_apart_and_the_best_ties_none(store) -> None:
    report = load_report(store, "close")
    table, page = markdown_table(report), html_report(report)
    shown = _column(table, 2)
    assert sorted(shown) == ["0.98761", "0.98764", "0.98768", "0.98772"]
    for value in shown:
        assert f">{value}<" in page
    best_row = next(line for line in table.splitlines() if "(best)" in line)
    assert "| 0.98772 |" in best_row
    assert "reaching 0.98772 at" in objective_alt(report)


def test_a_billion_plus_offsets_reads_apart_in_the_table_the_axis_and_the_alt_texts(store) -> None:
    report = load_report(store, "huge")
    table = markdown_table(report)
    losses, rates = _column(table, 2), _column(table, 3)
    assert len(set(losses)) == len(set(rates)) == len(report.state.trials) == 4, table
    assert all(loss.startswith("1.000") and loss.endswith("e+09") for loss in losses), losses
    alt = parallel_coordinates_alt(report)
    ends = re.search(r"loss \(from (\S+) to (\S+)\)", alt)
    assert ends is not None and ends.group(1) != ends.group(2), alt
    best = min(t.metrics["loss"] for t in report.state.trials)
    assert f"reaching {format_number(best, column_digits(t.metrics['loss'] for t in report.state.trials))} at" in objective_alt(report)
    assert f"reaching {format_number(best)} at" not in objective_alt(report)  # 1e+09, as every loss read
    figure = parallel_coordinates_plot(report)
    FigureCanvasAgg(figure).draw()
    texts = [t.get_text() for t in figure.axes[0].texts]
    # lr's axis (0.5 to 0.5000001) and the objective's: each end labelled apart from the other
    assert "0.5" in texts and "0.5000001" in texts, texts
    assert ends.group(1) in texts and ends.group(2) in texts, texts


def test_kfp_tune_trials_keeps_at_least_six_digits_and_never_shows_two_values_alike(store, capsys) -> None:
    """``trials`` takes the same rule with the 6 digits it always showed as its least: the
    billion-sized losses read apart there too (they read 1e+09 on every row)."""
    from kfp_tune.cli import main

    assert main(["trials", "huge", "--store", store.uri]) == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines()[1:] if line.strip()]
    losses = [row[2] for row in lines]
    assert len(losses) == 4 and len(set(losses)) == 4 and not any(loss == "1e+09" for loss in losses), losses
    assert main(["trials", "close", "--store", store.uri]) == 0
    shown = sorted(line.split()[2] for line in capsys.readouterr().out.splitlines()[1:] if line.strip())
    assert shown == ["0.98761", "0.98764", "0.98768", "0.98772"]
