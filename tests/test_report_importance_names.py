"""The parameter-importance plot names each parameter apart and says which it leaves out (review A
of the s35 report fixes, finding 7: it cut names to their first 24 characters, so
``model.transformer.encoder.layer_1…`` and ``…layer_10…`` read alike, and it dropped the
parameters past the 12 most important without a word, as the other plots no longer do)."""

from __future__ import annotations

from test_reports_mutants import Trial, write

from kfp_tune import report_views
from kfp_tune.report_views import Importance, importance_plot, views
from kfp_tune.reports import load_report
from kfp_tune.stores import LocalStore

NAMES = [f"model.transformer.encoder.layer_{k}.attention.dropout" for k in range(14)]
IMPORTANCES = [Importance(name, mean=1.0 - k / 20, spread=0.01) for k, name in enumerate(NAMES)]


def test_the_bars_are_labelled_apart() -> None:
    labels = [t.get_text() for t in importance_plot(IMPORTANCES).axes[0].get_yticklabels()]
    assert len(labels) == 12 == len(set(labels)), labels
    assert all(len(label) <= 24 for label in labels), labels


def test_the_parameters_left_out_are_named_in_the_views_words(tmp_path, monkeypatch) -> None:
    note = report_views.importance_left_out_note(IMPORTANCES)
    assert note == f"12 of 14 parameters shown, the most important; left out: {NAMES[12]}, {NAMES[13]}; all are in the trial table."
    assert report_views.importance_left_out_note(IMPORTANCES[:12]) is None
    write(tmp_path, [Trial(x="0.1", metrics={"loss": 0.9}), Trial(x="0.5", metrics={"loss": 0.4})])
    monkeypatch.setattr(report_views, "parameter_importance", lambda report: IMPORTANCES)
    (view,) = [v for v in views(load_report(LocalStore(tmp_path), "quad")) if v.title == "Parameter importance"]
    assert view.about.endswith(" " + note)
