"""The trial table (Markdown) and the HTML report decide-stop shows in the KFP UI."""

from __future__ import annotations

import base64
import html
import itertools
import re
from html.parser import HTMLParser

import pytest

from kfp_tune import search, tune
from kfp_tune.reports import html_report, load_report, markdown_table
from kfp_tune.stores import LocalStore

HOSTILE = '<script>alert(1)</script>|x\n**y**'


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished experiment: 8 trials, one parameter a categorical with a hostile choice, one
    trial failing."""
    store = tmp_path_factory.mktemp("report")

    def objective(params):
        if params["kind"] == "boom":
            raise RuntimeError("this trial fails")
        return {"loss": (params["lr"] - 0.01) ** 2 + (0.5 if params["kind"] == HOSTILE else 0.0), "seconds": 1.0}

    result = tune(
        objective,
        {"lr": search.double(1e-4, 1.0, distribution="logUniform"), "kind": search.categorical(["plain", HOSTILE, "boom"])},
        objective_metric_name="loss",
        additional_metric_names=["seconds"],
        max_trial_count=8,
        algorithm="random",
        algorithm_settings={"random_state": 11},  # seeded: the table must hold a hostile and a failed trial
        store=str(store),
        name="report-test",
    )
    kinds = [t.parameters["kind"] for t in result.trials]
    assert HOSTILE in kinds and "boom" in kinds, f"seed 11 no longer draws both cases: {kinds}"
    return LocalStore(store), result


def test_markdown_table_marks_the_best_and_escapes_values(finished):
    store, result = finished
    table = markdown_table(load_report(store, "report-test"))
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| trial")]
    assert len(rows) == 8
    # every row has the same number of cells as the header: no value broke out of its cell
    header = next(line for line in table.splitlines() if line.startswith("| trial"))
    cells = lambda line: len(re.findall(r"(?<!\\)\|", line))  # noqa: E731
    assert {cells(r) for r in rows} == {cells(header)} and header.count("|") == 8  # seven columns
    best_rows = [r for r in rows if "(best)" in r]
    assert len(best_rows) == 1 and f"**{result.best_trial.name}** (best)" in best_rows[0]
    assert "<script>" not in table and "&lt;script&gt;" in table
    assert sum("| Failed |" in r for r in rows) == sum(t.status == "Failed" for t in result.trials)
    # a trial that did not succeed says why in the last column (there because one failed)
    assert header.endswith("| why |")
    assert {r.rsplit("|", 2)[1].strip() for r in rows if "| Failed |" in r} == {"TrialFailed. Job reason: Error: Trial has failed. Job message: RuntimeError: this trial fails"}
    assert {r.rsplit("|", 2)[1].strip() for r in rows if "| Succeeded |" in r} == {""}


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.images: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        for key in ("href", "src"):
            if key in attrs:
                self.links.append(attrs[key])


def test_html_report_is_self_contained_with_both_plots(finished):
    store, result = finished
    page = html_report(load_report(store, "report-test"))
    parsed = _Collect()
    parsed.feed(page)
    assert "script" not in parsed.tags  # the hostile choice stayed text
    # objective, parameters, parallel coordinates, slot timeline (single-value trials: no
    # curves; fewer than 10 trials: an importance note instead of a plot)
    assert len(parsed.images) == 4
    for src in parsed.links:
        assert src.startswith("data:image/png;base64,"), src  # nothing loaded from outside
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.count("<tr") == 1 + 8 and page.count('class="best"') == 1
    assert result.best_trial.name in page
    failed = sum(t.status == "Failed" for t in result.trials)
    assert '<th scope="col">why</th>' in page and page.count('<td class="long">TrialFailed. Job reason: Error: Trial has failed. Job message: RuntimeError: this trial fails</td>') == failed


def test_a_log_scaled_parameter_spans_its_space_labelled_at_each_decade(finished):
    """lr is drawn log-uniformly from [1e-4, 1]: its panel shows the whole space, whatever the
    trials drew, with one plain label per decade (no minor labels: they overlapped) and no
    mathtext (matplotlib parses each such label, a third of the report's time)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from kfp_tune.reports import parameter_plot

    store, _ = finished
    figure = parameter_plot(load_report(store, "report-test"))
    FigureCanvasAgg(figure).draw()
    lr = next(axes for axes in figure.axes if axes.get_title() == "lr")
    low, high = lr.get_xlim()
    assert lr.get_xscale() == "log" and low < 1e-4 < 1 < high < 1.5
    labels = [t.get_text() for t in lr.get_xticklabels() if low <= t.get_position()[0] <= high]
    assert labels == ["1e−04", "1e−03", "1e−02", "1e−01", "1"]
    assert not any(t.get_text() for t in lr.get_xticklabels(minor=True))


def test_both_views_log_scale_the_same_parameters_and_label_a_narrow_log_axis(tmp_path):
    """One rule (report_views.log_scaled) for the parameter panels and the parallel coordinates:
    log-uniform at any span, or any positive range of two decades or more. A log axis too narrow
    to hold a decade still has labels (minor ones), all of the same size."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from kfp_tune.report_views import _parameter_axis
    from kfp_tune.reports import parameter_plot

    space = {
        "one_decade": search.double(1e-3, 1e-2, distribution="logUniform"),
        "narrow_log": search.double(0.2, 0.5, distribution="logUniform"),
        "wide_log": search.double(1e-4, 1.0, distribution="logUniform"),
        "narrow": search.double(0.01, 0.05),
        "wide": search.double(1.0, 1000.0),
    }
    tune(lambda p: {"loss": sum(p.values())}, space, objective_metric_name="loss", max_trial_count=6, algorithm="random", algorithm_settings={"random_state": 1}, store=str(tmp_path), name="axes")
    report = load_report(LocalStore(tmp_path), "axes")
    assert "why" not in markdown_table(report) and '<th scope="col">why</th>' not in html_report(report)  # every trial succeeded: no column
    figure = parameter_plot(report)
    FigureCanvasAgg(figure).draw()
    panels = {axes.get_title(): axes for axes in figure.axes}
    scales = {name: panels[name].get_xscale() for name in space}
    assert scales == {"one_decade": "log", "narrow_log": "log", "wide_log": "log", "narrow": "linear", "wide": "log"}
    for parameter in report.state.experiment.spec.parameters:
        assert _parameter_axis(parameter, []).log == (scales[parameter.name] == "log"), parameter.name
    narrow = panels["narrow_log"]
    low, high = narrow.get_xlim()
    shown = [t for t in [*narrow.get_xticklabels(), *narrow.get_xticklabels(minor=True)] if low <= t.get_position()[0] <= high and t.get_text()]
    assert [t.get_text() for t in shown] == ["2e−01", "3e−01", "4e−01"]
    assert {t.get_fontsize() for t in shown} == {panels["narrow"].get_xticklabels()[0].get_fontsize()}


def test_report_before_any_trial_finished(tmp_path):
    from conftest import quadratic_experiment
    from kfp_tune.core.loading import load_experiment
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.steps import init_experiment

    init_experiment(ExperimentRecords(LocalStore(tmp_path), "quad"), load_experiment(quadratic_experiment()))
    report = load_report(LocalStore(tmp_path), "quad")
    assert report.phase == "Running" and "0 trial(s)" in markdown_table(report)
    assert "no trial has reported the objective yet" not in html_report(report)  # text is drawn into the PNG
    # the objective's plot, and a line where the parameters' panels would be empty
    assert html_report(report).count("<img") == 1
    assert '<h2>Parameters against the objective</h2><p class="note">nothing to draw: no trial reported the objective as a number</p>' in html_report(report)


def test_a_report_whose_trials_all_failed_draws_no_empty_panels(tmp_path):
    """Every panel's axis ran from -0.04 to 0.04 for a parameter in [0, 1], with nothing in it."""
    with pytest.warns(UserWarning, match="none of the 3 trials succeeded"):
        tune(lambda p: 1 / 0, {"x": search.double(0, 1), "y": search.double(0, 1)}, algorithm="random", max_trial_count=3,
             store=str(tmp_path), name="all-failed")
    page = html_report(load_report(LocalStore(tmp_path), "all-failed"))
    assert 'alt="Parameters against the objective"' not in page
    assert '<p class="note">nothing to draw: no trial reported the objective as a number</p>' in page


def test_cli_report_writes_both_files(finished, tmp_path, capsys):
    from kfp_tune.cli import main

    store, _ = finished
    assert main(["report", "report-test", "--store", str(store.root), "-o", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "report-test.md").read_text().startswith("### Experiment report-test: Succeeded")
    assert (tmp_path / "out" / "report-test.html").read_text().startswith("<!DOCTYPE html>")
    assert "report-test.html" in capsys.readouterr().out


def test_counted_axes_and_int_parameters_have_whole_number_ticks(tmp_path):
    """A trial's number, a report's number and an int parameter take whole values only: no tick
    at 1.5 (matplotlib's default locator put them there on a 1-5 int and on 5 reports)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from kfp_tune.report_views import curves_plot
    from kfp_tune.reports import objective_plot, parameter_plot

    def objective(params):
        for step in range(1, 6):
            print(f"loss={params['width'] / step + params['lr']}")

    tune(objective, {"width": search.int(1, 5), "lr": search.double(0.0, 1.0)}, objective_metric_name="loss", max_trial_count=4,
         algorithm="random", algorithm_settings={"random_state": 2}, store=str(tmp_path), name="ints")
    report = load_report(LocalStore(tmp_path), "ints")
    width = next(axes for axes in parameter_plot(report).axes if axes.get_title() == "width")
    curves = curves_plot(report).axes[0]
    per_trial = objective_plot(report).axes[0]
    for axes in (width, curves, per_trial):
        FigureCanvasAgg(axes.figure).draw()
        low, high = axes.get_xlim()
        ticks = [t for t in axes.get_xticks() if low <= t <= high]
        assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), (axes.get_xlabel() or axes.get_title(), ticks)
    lr = next(axes for axes in parameter_plot(report).axes if axes.get_title() == "lr")
    FigureCanvasAgg(lr.figure).draw()
    assert not all(float(t).is_integer() for t in lr.get_xticks())  # a double keeps matplotlib's ticks


def test_a_categorical_of_thousands_of_values_gets_a_readable_axis(tmp_path):
    """A label per value of a categorical of 5,684 values made each report (each decide-stop of a
    pipeline) take about a minute, and no one reads thousands of labels: every n-th value is
    labelled, the first included, and every trial's point still sits at its own value."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from kfp_tune.reports import MAX_CHOICE_LABELS, parameter_plot

    values = [f"v{k:04d}" for k in range(2000)]
    result = tune(lambda p: float(p["choice"][1:]) / 2000, {"choice": search.categorical(values)}, objective_metric_name="loss",
                  max_trial_count=3, algorithm="random", algorithm_settings={"random_state": 4}, store=str(tmp_path), name="many")
    panel = next(axes for axes in parameter_plot(load_report(LocalStore(tmp_path), "many")).axes if axes.get_title() == "choice")
    FigureCanvasAgg(panel.figure).draw()
    labels = [t.get_text() for t in panel.get_xticklabels()]
    assert 2 <= len(labels) <= MAX_CHOICE_LABELS and labels[0] == "v0000"
    step = int(labels[1][1:]) - int(labels[0][1:])
    assert step == -(-2000 // MAX_CHOICE_LABELS) and all(int(b[1:]) - int(a[1:]) == step for a, b in itertools.pairwise(labels))
    points = sorted(float(x) for x, _ in panel.collections[0].get_offsets())  # the trials' points (the best's ring is drawn after)
    assert points == sorted(float(values.index(t.parameters["choice"])) for t in result.trials)


def test_the_objective_is_a_code_span_shown_exactly_as_it_is(tmp_path):
    """Backslash escapes are not processed inside a Markdown code span (CommonMark, code spans):
    ``\\_`` there showed as a backslash before the underscore of val_loss. The span is fenced
    instead, with more backticks than any run in the name."""
    from kfp_tune.reports import _markdown_code

    tune(lambda p: {"val_loss": p["x"]}, {"x": search.double(0.0, 1.0)}, objective_metric_name="val_loss", max_trial_count=1,
         algorithm="random", algorithm_settings={"random_state": 0}, store=str(tmp_path), name="val-metric")
    table = markdown_table(load_report(LocalStore(tmp_path), "val-metric"))
    assert "Objective: minimize `val_loss` (no goal; lower is better); 1 trial(s)" in table and "\\" not in table.split("\n| trial")[0]
    assert _markdown_code("a<b>*_\\|") == "`a<b>*_\\|`"  # shown as written: no escape nor entity is read there
    assert _markdown_code("a`b``c") == "```a`b``c```" and _markdown_code("`x") == "`` `x ``" and _markdown_code("a\nb") == "`a b`"
    assert _markdown_code(" a ") == "`  a  `" and _markdown_code(" a") == "` a`"


def test_both_tables_put_the_metrics_before_the_parameters(finished):
    """The objective first after the status, then the other metrics, then the parameters: with
    many parameters the objective stays in view (tests/test_report_browser.py shows it)."""
    store, _ = finished
    report = load_report(store, "report-test")
    header = next(line for line in markdown_table(report).splitlines() if line.startswith("| trial"))
    assert header == "| trial | status | loss | seconds | lr | kind | why |"
    number = ' class="number"'  # right-aligned over its right-aligned numbers
    headers = [("trial", ""), ("status", ""), ("loss", number), ("seconds", number), ("lr", number), ("kind", ""), ("why", "")]
    assert "".join(f'<th scope="col"{classed}>{h}</th>' for h, classed in headers) in html_report(report)


def test_status_gives_the_best_trials_parameters_in_the_spec_order(tmp_path, capsys):
    """Katib's currentOptimalTrial copies the best trial's assignments, which are in the search
    space's order; the records keep them sorted by name, and ``kfp-tune status`` (--json and
    text) showed param_10 before param_2, and layers before lr for a spec of lr, layers, opt."""
    import json

    from kfp_tune.cli import main

    space = {"lr": search.double(0.01, 0.1), "layers": search.int(1, 5), "opt": search.categorical(["sgd", "adam"])}
    space |= {f"param_{k}": search.double(0.0, 1.0) for k in range(1, 13)}
    tune(lambda p: p["lr"] + p["param_2"], space, objective_metric_name="loss", max_trial_count=2, algorithm="random",
         algorithm_settings={"random_state": 1}, store=str(tmp_path), name="order")
    capsys.readouterr()
    assert main(["status", "order", "--store", str(tmp_path), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert [a["name"] for a in status["currentOptimalTrial"]["parameterAssignments"]] == list(space)
    assert main(["status", "order", "--store", str(tmp_path)]) == 0
    (line,) = [line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("parameters:")]
    assert [pair.split("=")[0] for pair in line.split(":", 1)[1].strip().split(", ")] == list(space)


def test_a_trials_and_the_stored_status_parameters_are_in_the_spec_order_too(tmp_path):
    """Katib's Trial spec.parameterAssignments are in the search space's order; Client.get_trial /
    list_trials and the status a run stores (decide-stop's, which the KFP UI's status shows)
    gave them sorted by name (param_10 before param_2)."""
    from kfp_tune.client import Client
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.stores import open_store

    space = {"lr": search.double(0.01, 0.1), "layers": search.int(1, 5)}
    space |= {f"param_{k}": search.double(0.0, 1.0) for k in range(1, 13)}
    result = tune(lambda p: p["lr"] + p["param_2"], space, objective_metric_name="loss", max_trial_count=2, algorithm="random",
                  algorithm_settings={"random_state": 1}, store=str(tmp_path), name="order")
    client = Client(str(tmp_path))
    for trial in [client.get_trial(("order", result.trials[0].name)), *client.list_trials("order")]:
        assert [a.name for a in trial.spec.parameter_assignments] == list(space)
    records = ExperimentRecords(open_store(str(tmp_path)), "order")
    stored = records.read(records.status_key(), "ExperimentStatus")
    assert [a["name"] for a in stored["status"]["currentOptimalTrial"]["parameterAssignments"]] == list(space)


def test_the_columns_are_worked_out_once_a_report_not_once_a_row(finished, monkeypatch):
    """Each row asked the report for its parameters' and metrics' names, and each answer walked
    every trial: the report took time in the square of the trials (114 s at 10,000)."""
    import kfp_tune.reports as reports

    calls = {"parameter_order": 0, "metric_order": 0}

    def counting(name, inner):
        def counted(state):
            calls[name] += 1
            return inner(state)
        return counted

    for name in calls:
        monkeypatch.setattr(reports, name, counting(name, getattr(reports, name)))
    store, result = finished
    report = load_report(store, "report-test")
    assert len(report.state.trials) == len(result.trials) > 1
    markdown_table(report)
    html_report(report)
    assert calls == {"parameter_order": 1, "metric_order": 1}


def test_the_resume_note_does_not_promise_that_a_stopped_runs_trials_are_gone(tmp_path, monkeypatch):
    """A run killed outright leaves its local trial processes running (docs/guarantees.md, "What
    is not promised"): the note said "a local trial does not outlive its run". It says they are
    recorded Killed and given back, and that one may still run with its result not recorded."""
    from kfp_tune.core import claims
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.reports import resume_note

    monkeypatch.setattr(claims, "owner_is_gone", lambda owner: True)  # the killed run's process (here, this one) is gone

    result = tune(lambda p: {"loss": p["x"]}, {"x": search.double(0.0, 1.0)}, objective_metric_name="loss", max_trial_count=3,
                  algorithm="random", algorithm_settings={"random_state": 1}, store=str(tmp_path), name="left")
    store = LocalStore(tmp_path)
    records = ExperimentRecords(store, "left")
    # what a run killed while two trials ran leaves: the two started and never ended, no outcome
    for trial in result.trials[1:]:
        store.delete([k for k in store.list(records.trial_prefix(trial.name)) if k.endswith(("/ended.json", "/result.json"))])
    store.delete(store.list(records.outcomes_prefix()))
    note = resume_note(store, "left")
    assert note is not None and "2 trial(s) the stopped run was running, to record Killed and give back" in note
    assert "may still be running: its result will not be recorded" in note and "does not outlive" not in note


PHISH = "[login](https://evil.example/phish) ![t](https://evil.example/beacon.png) ~~gone~~ a\\[b\\] *x* `c` <b>&amp;"


def test_a_url_in_a_value_is_written_so_that_no_renderer_makes_it_a_link(tmp_path):
    """The KFP UI's Markdown viewer (markdown-to-jsx) links a bare URL before it reads escapes: a
    value ``[l](http://e.com/i.png)`` showed ``http://e.com/i.png\\`` linked to a URL ending in
    ``%5C``. Its ``://`` is escaped as CommonMark allows (shown as ``:``), which no autolink
    rule matches; the HTML report shows the value as it is."""
    values = ["[l](http://e.com/i.png)", "see https://e.com/a_b"]
    result = tune(lambda p: {"loss": len(p["kind"])}, {"kind": search.categorical(values)}, objective_metric_name="loss",
                  max_trial_count=2, algorithm="grid", store=str(tmp_path), name="urls")
    assert sorted(t.parameters["kind"] for t in result.trials) == sorted(values)
    report = load_report(LocalStore(tmp_path), "urls")
    table = markdown_table(report)
    assert "\\[l\\]\\(http\\://e.com/i.png\\)" in table and "see https\\://e.com/a\\_b" in table
    assert not re.search(r"[^\\]://", table.split("\n", 4)[-1])  # nowhere unescaped in the rows
    assert all(html.escape(v, quote=False) in html_report(report) for v in values)


def test_every_value_in_the_trial_table_renders_as_the_text_it_is(tmp_path):
    """A categorical value or a trial's message holding Markdown links and images rendered as a
    link and a remote image (display(Markdown(...)) in a notebook, the KFP UI's Markdown
    artifact): the table is rendered here and each cell must read back as the value itself."""
    markdown = pytest.importorskip("markdown")  # Python-Markdown, which tensorboard brings

    def objective(params):
        if params["kind"] == PHISH:
            raise RuntimeError(PHISH)
        return {"loss": params["x"]}

    result = tune(objective, {"x": search.double(0.0, 1.0), "kind": search.categorical(["plain", PHISH])},
                  objective_metric_name="loss", max_trial_count=6, algorithm="random",
                  algorithm_settings={"random_state": 5}, store=str(tmp_path), name="phish")
    assert any(t.parameters["kind"] == PHISH for t in result.trials), "seed 5 no longer draws the hostile value"
    rendered = markdown.markdown(markdown_table(load_report(LocalStore(tmp_path), "phish")), extensions=["tables"])
    parsed = _Collect()
    parsed.feed(rendered)
    in_table = set(parsed.tags[parsed.tags.index("table"):])  # the objective above it is a code span
    assert parsed.links == [] and not {"a", "img", "b", "code", "em", "del"} & in_table

    class Cells(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.rows: list[list[str]] = []
            self.in_cell = False

        def handle_starttag(self, tag, attrs):
            if tag == "tr":
                self.rows.append([])
            elif tag == "td":
                self.rows[-1].append("")
                self.in_cell = True

        def handle_endtag(self, tag):
            self.in_cell = self.in_cell and tag != "td"

        def handle_data(self, data):
            if self.in_cell:
                self.rows[-1][-1] += data

    cells = Cells()
    cells.feed(rendered)
    # Python-Markdown, unlike CommonMark (notebooks, the KFP UI), has no backslash escape for ~
    # or ":": there the escape shows; the table escapes them for CommonMark's and the KFP UI's sake
    shown = PHISH.replace("~", "\\~").replace("://", "\\://")
    hostile = [row for row in cells.rows[1:] if shown in row]
    assert len(hostile) == sum(t.parameters["kind"] == PHISH for t in result.trials) > 0
    assert all(row[-1] == f"TrialFailed. Job reason: Error: Trial has failed. Job message: RuntimeError: {shown}" for row in hostile), hostile


def test_a_report_of_a_chinese_or_emoji_value_says_nothing_of_missing_glyphs(tmp_path, recwarn):
    """QA: ``report`` of a 中文 / 🚀 value printed matplotlib's "Glyph 20013 ... missing from
    font(s) DejaVu Sans" for every character of every figure; it is left unsaid while drawing,
    and the process's warning filters are as they were."""
    import warnings

    space = {"size": search.categorical(["中文", "🚀", "plain"]), "x": search.double(0, 1)}
    tune(lambda p: {"loss": p["x"] + (0.5 if p["size"] == "plain" else 0.0)}, space, objective_metric_name="loss", max_trial_count=6,
         algorithm="random", algorithm_settings={"random_state": 3}, store=str(tmp_path), name="wide")
    filters = list(warnings.filters)
    recwarn.clear()
    page = html_report(load_report(LocalStore(tmp_path), "wide"))
    assert "中文" in page and page.count("<img") >= 3
    assert [str(w.message) for w in recwarn if "missing from" in str(w.message)] == []
    assert warnings.filters == filters
    with pytest.warns(UserWarning, match="missing from"):  # outside the drawing, matplotlib still says it
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        figure = Figure()
        figure.text(0.5, 0.5, "中文")
        FigureCanvasAgg(figure).draw()
