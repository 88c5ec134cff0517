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
    for cell in (f"{scope} td.long", f"{scope} th.long"):
        assert rules[cell]["overflow-wrap"] == "anywhere"  # a 60-character value or a long message breaks
    for cell in (f"{scope} td.number", f"{scope} td.status"):  # those few characters wide stay whole: 0.5 15 5 read as three numbers
        assert rules[cell]["white-space"] == "nowrap" and rules[cell]["overflow-wrap"] == "normal"
    assert rules[f"{scope} img"]["break-inside"] == "avoid"  # a plot is not split over two pages


def _no_png(monkeypatch) -> None:
    """The figures drawn but not PNG-encoded: the table is what these tests read, and encoding
    every view takes most of their time."""
    from kfp_tune import report_views, reports

    for module in (reports, report_views):
        monkeypatch.setattr(module, "figure_png", lambda figure: "")


def test_a_metric_number_cell_is_right_aligned_and_classed_for_print(tmp_path, monkeypatch) -> None:
    _no_png(monkeypatch)
    from kfp_tune import search, tune
    from kfp_tune.reports import html_report, load_report
    from kfp_tune.stores import LocalStore

    tune(lambda p: {"loss": float(p["x"]) + 0.25}, {"x": search.categorical(["0.25", "0.5"]), "lr": search.double(0.125, 0.375, step=0.25)},
         objective_metric_name="loss", algorithm="grid", max_trial_count=4, store=str(tmp_path), name="cells")
    page = html_report(load_report(LocalStore(tmp_path), "cells"))
    assert '<td class="number">0.5</td>' in page and '<td class="number">0.75</td>' in page  # the loss
    assert '<td class="number">0.125</td>' in page  # a double parameter's
    assert '<td class="status">Succeeded</td>' in page and "<td>0.25</td>" in page  # the choice's cell is text
    assert ".kfp-tune-report td.number,.kfp-tune-report th.number{text-align:right}" in REPORT_STYLE


def test_printed_headers_and_short_values_break_only_where_a_word_cannot_fit() -> None:
    """``overflow-wrap:anywhere`` on every cell let the table's layout break any character:
    printed, the headers read ``val_accur|acy`` and ``dropou|t`` and a value ``sgd_nest|erov``
    (review A of the s35 report fixes, finding 5). Only the why text and a long word keep it."""
    rules = _print_rules()
    scope = f".{REPORT_CLASS}"
    for cell in (f"{scope} td", f"{scope} th"):
        assert rules[cell]["overflow-wrap"] == "break-word"
    for cell in (f"{scope} td.long", f"{scope} th.long"):
        assert rules[cell]["overflow-wrap"] == "anywhere"


def test_number_headers_align_with_their_cells_and_long_texts_are_classed(tmp_path, monkeypatch) -> None:
    """A number column's header is right-aligned as its cells are (and as Markdown's ``---:``
    aligns both); the Markdown right-aligns number parameters as the HTML does (review A,
    findings 5 and 6)."""
    _no_png(monkeypatch)
    from kfp_tune import search, tune
    from kfp_tune.reports import html_report, load_report, markdown_table
    from kfp_tune.stores import LocalStore

    long_value, long_name = "x" * 30, "optimizer_" + "y" * 30

    def train(p):
        if p[long_name] == long_value:
            raise RuntimeError("this trial fails")
        return {"val_accuracy": 0.5 + p["lr"], "validation_cross_entropy_loss": 1 - p["lr"]}

    tune(train, {long_name: search.categorical(["sgd_nesterov", long_value]), "lr": search.double(0.125, 0.375, step=0.25),
                 "layers": search.discrete([2, 4])},
         objective_metric_name="val_accuracy", objective_type="maximize", additional_metric_names=["validation_cross_entropy_loss"], algorithm="grid", max_trial_count=8, store=str(tmp_path), name="cells")
    report = load_report(LocalStore(tmp_path), "cells")
    page = html_report(report)
    assert '<th scope="col" class="number">val_accuracy</th>' in page and '<th scope="col" class="number">lr</th>' in page
    assert '<th scope="col" class="number">layers</th>' in page and '<th scope="col">status</th>' in page
    assert f'<th scope="col" class="long">{long_name}</th>' in page
    assert '<th scope="col" class="number long">validation_cross_entropy_loss</th>' in page  # a long name breaks in a number column too
    assert "<td>sgd_nesterov</td>" in page and f'<td class="long">{long_value}</td>' in page
    assert '<td class="long">TrialFailed.' in page  # the why text breaks anywhere
    assert ".kfp-tune-report td.number,.kfp-tune-report th.number{text-align:right}" in REPORT_STYLE
    names = next(line for line in markdown_table(report).splitlines() if line.startswith("| trial"))
    alignment = next(line for line in markdown_table(report).splitlines() if line.startswith("|---"))
    columns = dict(zip(names.strip("|").split("|"), alignment.strip("|").split("|"), strict=True))
    assert {name.strip().replace("\\_", "_"): align for name, align in columns.items()} == {
        "trial": "---", "status": "---", "val_accuracy": "---:", "validation_cross_entropy_loss": "---:", long_name: "---", "lr": "---:", "layers": "---:", "why": "---"}


def test_the_guide_gives_the_long_words_length() -> None:
    from pathlib import Path

    from kfp_tune.reports import LONG_WORD_CHARS

    guide = (Path(__file__).parents[1] / "docs" / "guide.md").read_text(encoding="utf-8")
    assert f"a word of more than {LONG_WORD_CHARS} characters anywhere" in guide
