"""The HTML report for everyone (WCAG 2.2 A/AA, as axe-core checks it in a browser): the page
says its language and has one main landmark, the trial table's scrolling box takes the keyboard,
every plot says in words what it shows, the plots' colours stand out from the white page (3:1,
WCAG 1.4.11) and no status is told by its colour alone (WCAG 1.4.1), and the words are Katib's
(parallelTrialCount, trials running at once), not kfp-tune's internals (slots, records, the
trial TTL unexplained). The page is parsed, not searched for substrings, where its structure matters."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from matplotlib.colors import to_rgb, to_rgba
from test_report_views import Written, write_experiment

from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.report_views import (
    LAST_HEARD,
    OTHER_STATUS_LOOK,
    SILENT_HATCH,
    STATUS_LOOKS,
    TIMELINE_TITLE,
    objective_colour_map,
    parallel_coordinates_plot,
    slot_timeline,
    status_look,
    timeline_plot,
    views,
)
from kfp_tune.reports import BEST_VIEW_ROWS, ExperimentReport, html_report, load_report, objective_plot

WHITE = (1.0, 1.0, 1.0)


def _luminance(rgb: tuple[float, float, float]) -> float:
    """WCAG 2's relative luminance of an sRGB colour (channels 0 to 1)."""
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: Any, b: Any = WHITE) -> float:
    """WCAG 2's contrast ratio of two colours (any matplotlib colour; an RGBA one is first laid
    over white at its opacity, as the page shows it)."""

    def shown(colour: Any) -> tuple[float, float, float]:
        r, g, b, alpha = to_rgba(colour)
        return (r * alpha + 1 - alpha, g * alpha + 1 - alpha, b * alpha + 1 - alpha)

    high, low = sorted((_luminance(shown(a)), _luminance(shown(b))), reverse=True)
    return (high + 0.05) / (low + 0.05)


class _Page(HTMLParser):
    """Each element's tag, attributes and its open ancestors' tags; each image with the heading before it."""

    VOID = frozenset({"meta", "img", "br", "hr", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None], tuple[str, ...]]] = []
        self.open: list[str] = []
        self.heading = ""
        self.in_heading = False
        self.images: list[tuple[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.elements.append((tag, found, tuple(self.open)))
        if tag == "img":
            self.images.append((self.heading, found.get("alt") or ""))
        if tag in ("h1", "h2"):
            self.heading, self.in_heading = "", True
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, (tag, self.open)  # well nested
        self.open.pop()
        self.in_heading = self.in_heading and tag not in ("h1", "h2")

    def handle_data(self, data: str) -> None:
        if self.in_heading:
            self.heading += data
        if "style" not in self.open and "title" not in self.open:
            self.text.append(data)


def _parsed(page: str) -> _Page:
    parsed = _Page()
    parsed.feed(page)
    parsed.close()
    assert parsed.open == []
    return parsed


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    return write_experiment(tmp_path_factory.mktemp("a11y"), trials=30, seed=13, running=2)


@pytest.fixture(scope="module")
def report(written: Written) -> ExperimentReport:
    return load_report(written.store, written.name)


def test_the_page_says_its_language_and_holds_everything_in_one_main(report: ExperimentReport) -> None:
    """No ``lang`` (WCAG 3.1.1: a screen reader guessed the language) and no main landmark before."""
    parsed = _parsed(html_report(report))
    (html,) = [attrs for tag, attrs, _ in parsed.elements if tag == "html"]
    assert html.get("lang") == "en"
    mains = [(attrs, ancestors) for tag, attrs, ancestors in parsed.elements if tag == "main"]
    assert len(mains) == 1 and mains[0][1] == ("html", "body") and "kfp-tune-report" in str(mains[0][0].get("class"))
    shown = [(tag, ancestors) for tag, _, ancestors in parsed.elements if tag in ("h1", "h2", "p", "img", "table")]
    assert shown and all("main" in ancestors for _, ancestors in shown)


def test_the_trial_tables_scrolling_box_takes_the_keyboard_and_is_named(report: ExperimentReport) -> None:
    """The box scrolls sideways (overflow-x: auto); without a tabindex a keyboard could not
    scroll it (WCAG 2.1.1)."""
    parsed = _parsed(html_report(report))
    boxes = [attrs for tag, attrs, _ in parsed.elements if tag == "div" and "trials" in str(attrs.get("class")).split()]
    shown = 2 if len(report.state.trials) > BEST_VIEW_ROWS else 1  # the best trials' table first, then every trial's
    assert len(boxes) == shown and len({str(box.get("aria-label")) for box in boxes}) == shown  # each named apart
    assert all(box.get("tabindex") == "0" and box.get("role") == "region" for box in boxes)
    assert "Trials table" in str(boxes[-1].get("aria-label"))
    tables = [ancestors for tag, _, ancestors in parsed.elements if tag == "table"]
    assert len(tables) == shown and all(table[-1] == "div" for table in tables)  # each table is its box's own child


def test_every_plot_says_in_words_what_it_shows(written: Written, report: ExperimentReport) -> None:
    """Each image's alt text was its heading, which says nothing of what it shows."""
    parsed = _parsed(html_report(report))
    assert len(parsed.images) == 6
    for heading, alt in parsed.images:
        assert alt and heading and alt != heading and heading not in alt and len(alt) > 40, (heading, alt)
        assert re.search(r"\d", alt), alt  # numbers read off the data
    alts = dict(parsed.images)
    statuses = list(written.statuses.values())
    timeline = alts[TIMELINE_TITLE]
    assert f"{len(written.statuses)} trial(s)" in timeline and f"parallelTrialCount {written.slots}" in timeline
    for status in {s for s in statuses if s != "Running"}:
        assert f"{statuses.count(status)} {status}," in timeline or f"{statuses.count(status)} {status}." in timeline, timeline
    assert f"{statuses.count('Running')} Running (" in timeline
    best = report.best_name
    assert best is not None and all(best in alts[title] for title in ("Objective per trial", "Parallel coordinates"))
    scored = [t for t in report.state.trials if report.state.objective_value(t) is not None]
    assert f"{len(scored)} of {len(statuses)} trial(s)" in alts["Objective per trial"]
    stopped = [t for t in scored if t.status == "EarlyStopped"]
    assert stopped and f"; {len(stopped)} early stopped, at the value they were stopped at;" in alts["Objective per trial"]
    assert f"; {len(statuses) - len(scored)} without an objective" in alts["Objective per trial"]
    assert all(p.name in alts["Parameters against the objective"] for p in report.state.experiment.spec.parameters)


def test_every_status_has_a_colour_of_3_to_1_on_white_and_its_own_hatch_and_dashes() -> None:
    """EarlyStopped (#ccbb44), MetricsUnavailable (#bbbbbb) and Created (#66ccee) were under 2:1
    on white, and EarlyStopped and MetricsUnavailable 1.02:1 to each other, told apart by colour alone."""
    assert set(STATUS_LOOKS) == {s.value for s in TrialStatus}
    looks = [*STATUS_LOOKS.values(), OTHER_STATUS_LOOK]
    assert all(contrast(look.colour) >= 3.0 for look in looks), [(look.colour, contrast(look.colour)) for look in looks]
    # the cues besides colour: a hatch for bars and dashes for lines, each a status's own
    hatches = [look.hatch for look in looks] + [status_look(TrialStatus.RUNNING.value).hatch + SILENT_HATCH]
    assert len(set(hatches)) == len(hatches)
    assert len({str(look.dashes) for look in looks}) == len(looks)


def test_the_timeline_draws_each_status_with_its_colour_and_hatch_and_a_legend_for_each(report: ExperimentReport) -> None:
    silent = dataclasses.replace(report, made_at=report.made_at + 10 * 86400)  # long after: the running trials' runs are silent
    bars = slot_timeline(silent)
    figure = timeline_plot(bars)
    axes = figure.axes[0]
    expected: dict[str, str] = {}  # each bar's legend label -> its hatch
    for bar in bars:
        silent_run = bar.running == LAST_HEARD
        label = f"{bar.status} ({LAST_HEARD})" if silent_run else bar.status
        expected[label] = status_look(bar.status).hatch + (SILENT_HATCH if silent_run else "")
    assert any(label.startswith("Running (") for label in expected) and len(set(expected.values())) == len(expected) > 2
    for patch in axes.patches:
        status = str(patch.get_gid()).removeprefix("slot-bar-")
        assert to_rgb(patch.get_facecolor()) == to_rgb(status_look(status).colour) and contrast(patch.get_facecolor()) >= 3.0
        assert (patch.get_hatch() or "") in {h for label, h in expected.items() if label.split(" ")[0] == status}
    legend = axes.get_legend()
    shown = {text.get_text(): handle.get_hatch() or "" for text, handle in zip(legend.get_texts(), legend.legend_handles, strict=True)}
    assert shown == expected


@pytest.mark.parametrize("minimize", [True, False])
def test_the_objectives_colours_stay_3_to_1_on_white_the_better_the_darker(minimize: bool) -> None:
    """Viridis' light end (#fde725, 1.26:1 on white) was the best trials' colour."""
    colours = objective_colour_map(minimize)
    ends = [colours(0.0), colours(1.0)]
    assert all(contrast(end) >= 3.0 for end in ends), [contrast(end) for end in ends]
    better, worse = (ends[0], ends[1]) if minimize else (ends[1], ends[0])
    assert _luminance(to_rgb(better)) < _luminance(to_rgb(worse))


def test_every_parallel_coordinates_line_stands_out_from_the_page_and_the_best_are_on_top(tmp_path: Path) -> None:
    """As drawn, at the lines' opacity; the better trials drawn last, so on top where lines cross."""
    few = write_experiment(tmp_path, trials=24, seed=21)
    report = load_report(few.store, few.name)
    figure = parallel_coordinates_plot(report)
    (lines,) = [c for c in figure.axes[0].collections if c.get_gid() == "trials"]
    colours = [(*rgba[:3], lines.get_alpha()) for rgba in lines.get_colors()]
    assert len(colours) == sum(report.state.objective_value(t) is not None for t in report.state.trials) > 2
    assert min(contrast(c) for c in colours) >= 3.0, min(contrast(c) for c in colours)
    darkness = [-_luminance(to_rgb(c[:3])) for c in colours]
    assert darkness == sorted(darkness)  # worst first, the best last


def test_the_objective_plot_marks_trials_without_an_objective_3_to_1_on_white(report: ExperimentReport) -> None:
    figure = objective_plot(report)
    (marks,) = [c for axes in figure.axes for c in axes.collections if c.get_gid() == "objective-none"]
    assert all(contrast(colour) >= 3.0 for colour in marks.get_facecolors())


JARGON = re.compile(r"\bslots?\b|\brecords?\b|\bTTL\b|heard from", re.IGNORECASE)
"""kfp-tune's internal words, which a Katib user does not know."""


def test_the_page_speaks_in_katibs_terms(report: ExperimentReport) -> None:
    """The timeline was "Trials per slot over time", a ``slot`` axis, "the trial TTL", "records"
    and "its run not heard from"; it now names parallelTrialCount and the trials running at once."""
    silent = dataclasses.replace(report, made_at=report.made_at + 10 * 86400)
    parsed = _parsed(html_report(silent))
    words = " ".join([*parsed.text, *(alt for _, alt in parsed.images)])
    found = JARGON.findall(words)
    assert found == [], found
    timeline = next(view for view in views(silent) if view.title == TIMELINE_TITLE)
    assert "parallelTrialCount" in timeline.about and "running at once" in timeline.about
    assert "running at once" in timeline.figure.axes[0].get_ylabel()
    figure_words = [t.get_text() for t in timeline.figure.axes[0].get_legend().get_texts()]
    assert not [w for w in figure_words if JARGON.search(w)], figure_words
