"""One helper writes a trial's parameter value for the table and both alt texts (review A of the
s35 report fixes, finding 8: the same format_parameter call was written three times)."""

from __future__ import annotations

from test_reports_mutants import Trial, write

from kfp_tune import report_views
from kfp_tune.report_views import parallel_coordinates_alt, parameter_texts
from kfp_tune.reports import load_report, parameter_alt
from kfp_tune.stores import LocalStore


def test_the_table_and_both_alt_texts_write_a_value_alike(tmp_path, monkeypatch) -> None:
    write(tmp_path, [Trial(x="0.123456", metrics={"loss": 0.4}), Trial(x="0.123459", metrics={"loss": 0.9})])
    report = load_report(LocalStore(tmp_path), "quad")
    best = next(t for t in report.state.trials if t.name == report.best_name)
    assert report_views.parameter_text(report, best, "x") == "0.123456"  # the column's 6 digits, not 4
    assert report_views.parameter_text(report, best, "absent") == ""
    monkeypatch.setattr(report_views, "parameter_text", lambda report, trial, name: f"<{name}>")
    assert parameter_texts(report, best) == ["<x>", "<y>"]
    assert "x <x>, y <y>" in parallel_coordinates_alt(report)
    monkeypatch.setattr("kfp_tune.reports.parameter_text", report_views.parameter_text)
    assert "circled: x <x>, y <y>." in parameter_alt(report)
