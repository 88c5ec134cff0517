"""An experiment report as a notebook shows it, where the tests before left a changed line
unnoticed (mutation pass, session 31: rp-01, rp-03, rp-07): its one-line repr says how many
damaged records were left out, and its frame holds the whole HTML report (quotes escaped in
srcdoc, so the page does not end at its first attribute) at a height that shows it."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords, TrialStarted
from kfp_tune.reports import html_report, load_report
from kfp_tune.stores import LocalStore


def _store(tmp_path: Path, damaged: int = 0) -> LocalStore:
    """Experiment quad with three trials made, ``damaged`` of them with a started record that is not JSON."""
    store = LocalStore(tmp_path / "store")
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 3, "spec.parallelTrialCount": 3}))
    records = ExperimentRecords(store, experiment.name)
    steps.init_experiment(records, experiment)
    names = steps.suggest(records, "run-1-r000", 1, experiment, run_id="run-1", n=3)
    steps.close_run(records, "run-1")
    for name in names[:damaged]:
        store.put(records.trial_key(name, TrialStarted.FILE), b"{not json")
    return store


def test_the_repr_says_how_many_damaged_records_were_left_out(tmp_path: Path) -> None:
    report = load_report(_store(tmp_path, damaged=1), "quad")
    assert len(report.damaged) == 1
    assert repr(report).endswith(", 1 damaged record(s) left out>"), repr(report)


def test_the_repr_of_an_undamaged_report_names_none(tmp_path: Path) -> None:
    assert "damaged" not in repr(load_report(_store(tmp_path), "quad"))


class Frames(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.frames: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "iframe":
            self.frames.append(dict(attrs))


def test_the_notebook_frame_holds_the_whole_report_and_shows_it(tmp_path: Path) -> None:
    report = load_report(_store(tmp_path), "quad")
    page = html_report(report)
    assert '"' in page, "the page has quoted attributes, which srcdoc must hold escaped"
    parser = Frames()
    parser.feed(report._repr_html_())
    [frame] = parser.frames
    assert frame["srcdoc"] == page
    assert frame["title"] == "kfp-tune report: quad" and frame["sandbox"] == ""
    style = dict(part.split(":", 1) for part in (frame["style"] or "").split(";") if part)
    assert style["height"].endswith("px") and int(style["height"][: -len("px")]) >= 400, style
    assert style["width"] == "100%"
