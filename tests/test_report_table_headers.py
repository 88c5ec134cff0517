"""The HTML trial table's header cells (QA "report", session 35, finding 9; WCAG technique H63):
the trial's name heads its row, so that a screen reader moving down a column names the trial,
not a row number, and each column's header says it heads a column."""

from __future__ import annotations

from html.parser import HTMLParser

from kfp_tune import search, tune
from kfp_tune.reports import html_report, load_report
from kfp_tune.stores import LocalStore


class _Cells(HTMLParser):
    """Each table row's cells: (tag, scope, text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[tuple[str, str | None, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.rows[-1].append((tag, dict(attrs).get("scope"), ""))

    def handle_data(self, data: str) -> None:
        if self.rows and self.rows[-1]:
            tag, scope, text = self.rows[-1][-1]
            self.rows[-1][-1] = (tag, scope, text + data)


def test_the_trials_name_heads_its_row_and_each_header_its_column(tmp_path) -> None:
    tune(lambda p: {"loss": p["x"]}, {"x": search.double(0.0, 1.0)}, objective_metric_name="loss", algorithm="random",
         algorithm_settings={"random_state": 2}, max_trial_count=3, store=str(tmp_path), name="heads")
    report = load_report(LocalStore(tmp_path), "heads")
    cells = _Cells()
    cells.feed(html_report(report))
    header, *rows = cells.rows
    assert [(tag, scope) for tag, scope, _ in header] == [("th", "col")] * 4
    assert [text for _, _, text in header] == ["trial", "status", "loss", "x"]
    names = [t.name for t in report.state.trials]
    assert len(rows) == len(names)
    for row, name in zip(rows, names, strict=True):
        assert row[0][:2] == ("th", "row") and row[0][2].startswith(name)
        assert {tag for tag, _, _ in row[1:]} == {"td"}
