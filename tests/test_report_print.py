"""A printed (or PDF'd) report shows every column of the trial table (QA "report", session 35,
finding 2): on paper there is no scrolling box, and Chromium cut the table at the page's edge,
4 of 8 parameter columns and the whole ``why`` column gone without a sign."""

from __future__ import annotations

import re

from kfp_tune.reports import REPORT_CLASS, REPORT_STYLE


def _print_rules() -> dict[str, dict[str, str]]:
    """The ``@media print`` block's rules: selector -> property -> value."""
    found = re.search(r"@media print\{((?:[^{}]*\{[^{}]*\})*)\}", REPORT_STYLE)
    assert found is not None, REPORT_STYLE
    rules: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", found.group(1)):
        declarations = dict(part.split(":", 1) for part in body.split(";") if part)
        for selector in selectors.split(","):
            rules.setdefault(selector.strip(), {}).update(declarations)
    return rules


def test_printing_wraps_the_table_to_the_page_instead_of_cutting_it() -> None:
    rules = _print_rules()
    scope = f".{REPORT_CLASS}"
    assert all(selector.startswith(scope + " ") for selector in rules), rules  # restyles nothing of a host page
    assert rules[f"{scope} div.trials"]["overflow"] == "visible"  # no scrolling box on paper
    assert rules[f"{scope} table"]["width"] == "100%"
    screen = re.search(r"\.kfp-tune-report table\{[^}]*font-size:(\d+)px", REPORT_STYLE)
    assert screen is not None and int(rules[f"{scope} table"]["font-size"].removesuffix("px")) < int(screen.group(1))
    for cell in (f"{scope} td", f"{scope} th"):
        assert rules[cell]["overflow-wrap"] == "anywhere"  # a 60-character value or a long message breaks
    for cell in (f"{scope} td.number", f"{scope} td.status"):  # those few characters wide stay whole: 0.5 15 5 read as three numbers
        assert rules[cell]["white-space"] == "nowrap" and rules[cell]["overflow-wrap"] == "normal"
    assert rules[f"{scope} img"]["break-inside"] == "avoid"  # a plot is not split over two pages


def test_a_metric_number_cell_is_right_aligned_and_classed_for_print(tmp_path) -> None:
    from kfp_tune import search, tune
    from kfp_tune.reports import html_report, load_report
    from kfp_tune.stores import LocalStore

    tune(lambda p: {"loss": float(p["x"]) + 0.25}, {"x": search.categorical(["0.25", "0.5"]), "lr": search.double(0.125, 0.375, step=0.25)},
         objective_metric_name="loss", algorithm="grid", max_trial_count=4, store=str(tmp_path), name="cells")
    page = html_report(load_report(LocalStore(tmp_path), "cells"))
    assert '<td class="number">0.5</td>' in page and '<td class="number">0.75</td>' in page  # the loss
    assert '<td class="number">0.125</td>' in page  # a double parameter's
    assert '<td class="status">Succeeded</td>' in page and "<td>0.25</td>" in page  # the choice's cell is text
    assert ".kfp-tune-report td.number{text-align:right}" in REPORT_STYLE
