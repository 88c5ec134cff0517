"""The report's views (parallel coordinates, curves, importance, the trials over time) and its number
format, on experiments written to a store through the records' own writers and read back with
load_report, as ``kfp-tune report`` and decide-stop read them."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import math
import random
import re
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from kfp_tune.core.loading import load_experiment
from kfp_tune.core.naming import trial_name
from kfp_tune.core.records import ExperimentRecords, TrialEnded, TrialResult, TrialStarted
from kfp_tune.core.state import ExperimentView
from kfp_tune.core.vocabulary import LaunchPhase, TrialStatus
from kfp_tune.report_views import (
    TIMELINE_TITLE,
    curves_plot,
    format_number,
    format_parameter,
    parallel_coordinates_plot,
    parameter_importance,
    slot_timeline,
    timeline_plot,
    views,
)
from kfp_tune.reports import BEST_VIEW_ROWS, ExperimentReport, html_report, load_report, markdown_table
from kfp_tune.steps import init_experiment
from kfp_tune.stores import LocalStore

CHOICES = ["adam", "sgd", "rmsprop"]
START = dt.datetime(2026, 1, 5, 9, 0, 0, tzinfo=dt.timezone.utc).timestamp()
UNREAD_PARAMETERS = [{"name": n.upper(), "value": f"${{trialParameters.{n}}}"} for n in ("noise", "depth", "optimizer")]
"""Every parameter reaches the trial, as Katib requires; only lr is meant to drive the loss."""


def experiment_doc(name: str, slots: int) -> dict[str, Any]:
    """An experiment with every kind of parameter: ``lr`` drives the loss, ``noise`` does not."""
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": name},
        "spec": {
            "objective": {"type": "minimize", "objectiveMetricName": "loss", "additionalMetricNames": ["accuracy"]},
            "algorithm": {"algorithmName": "random"},
            "parallelTrialCount": slots,
            "maxTrialCount": 5000,
            "parameters": [
                {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.0001", "max": "1", "distribution": "logUniform"}},
                {"name": "noise", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}},
                {"name": "depth", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "8"}},
                {"name": "optimizer", "parameterType": "categorical", "feasibleSpace": {"list": CHOICES}},
            ],
            "trialTemplate": {
                "primaryContainerName": "main",
                "trialParameters": [{"name": n, "reference": n} for n in ("lr", "noise", "depth", "optimizer")],
                "trialSpec": {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "spec": {"template": {"spec": {"containers": [{"name": "main", "image": "python:3.11-slim", "args": ["--lr=${trialParameters.lr}"], "env": UNREAD_PARAMETERS}], "restartPolicy": "Never"}}},
                },
            },
        },
    }


@dataclass(frozen=True)
class Written:
    """What the synthetic experiment holds, as the test wrote it (the expectations' source)."""

    store: LocalStore
    name: str
    curves: dict[str, list[float]]
    """Trial name -> the objective's values in report order (only trials that reported twice or more)."""
    spans: dict[str, tuple[float, float]]
    """Trial name -> (start, end) in seconds since the epoch, for every started trial."""
    statuses: dict[str, str]
    lr: dict[str, str]
    """Trial name -> its lr as assigned (full precision)."""
    slots: int


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def write_experiment(root: Path, trials: int, seed: int, slots: int = 3, name: str = "views", running: int = 0) -> Written:
    """A finished (or, with ``running``, still running) experiment of ``trials`` trials run
    ``slots`` at a time, written with the records' writers. The loss is ``(log10(lr) + 2)^2``
    plus a little noise: lr drives it, ``noise`` and ``depth`` do not. Every 9th trial fails
    (no metrics), every 7th is early stopped (a shorter curve); the others report 3 to 12
    decreasing values. Times are whole seconds, as the records keep them."""
    rng = random.Random(seed)
    store = LocalStore(root)
    records = ExperimentRecords(store, name)
    init_experiment(records, load_experiment(experiment_doc(name, slots)))
    view = ExperimentView(records)
    uid = view.state.uid
    entries = []
    for index in range(trials):
        assignment = {
            "lr": repr(10 ** rng.uniform(-4, 0)),
            "noise": repr(rng.random()),
            "depth": str(rng.randint(1, 8)),
            "optimizer": rng.choice(CHOICES),
        }
        entries.append({"name": trial_name(name, uid, index), "index": index, "assignment": assignment})
    view.record_round("round-0000", {"round": "round-0000", "seq": 0, "created": _iso(START), "requested": trials, "exhausted": False, "trials": entries, "adopted": []})
    free_at = [START] * slots  # each slot runs its trials back to back
    curves: dict[str, list[float]] = {}
    spans: dict[str, tuple[float, float]] = {}
    statuses: dict[str, str] = {}
    for entry in entries:
        trial, index = entry["name"], entry["index"]
        slot = min(range(slots), key=lambda k: (free_at[k], k))
        start = free_at[slot] + rng.randint(0, 2)
        end = start + rng.randint(5, 60)
        free_at[slot] = end
        spans[trial] = (start, end)
        view.record_trial(trial, TrialStarted(trial=trial, time=_iso(start), at=start, run="run-1", attempt="1"))
        if index >= trials - running:
            statuses[trial] = "Running"
            spans[trial] = (start, start)  # until the latest record: set below
            free_at[slot] = math.inf  # its slot is busy from now on
            continue
        final = (math.log10(float(entry["assignment"]["lr"])) + 2) ** 2 + 0.05 * rng.random()
        if index % 9 == 4:
            status, curve = TrialStatus.FAILED, []
        else:
            steps = 3 if index % 7 == 3 else rng.randint(4, 12)
            curve = [final + 2.0 / (step + 1) for step in range(steps - 1)] + [final]
            status = TrialStatus.EARLY_STOPPED if index % 7 == 3 else TrialStatus.SUCCEEDED
        metrics = {"loss": curve[-1], "accuracy": 1 / (1 + curve[-1])} if curve else {}
        observation = {m: {"min": v, "max": v, "latest": v, "count": 1} for m, v in metrics.items()}
        result = TrialResult(trial=trial, status=status, observation=observation, metrics=metrics, curve=tuple(curve), time=_iso(end))
        view.record_trial(trial, result)
        statuses[trial] = str(status)
        if len(curve) >= 2:
            curves[trial] = curve
    latest = max((t for span in spans.values() for t in span), default=START)
    spans.update({t: (spans[t][0], latest) for t, s in statuses.items() if s == "Running"})
    lr = {e["name"]: e["assignment"]["lr"] for e in entries}
    return Written(store, name, curves, spans, statuses, lr, slots)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    return write_experiment(tmp_path_factory.mktemp("views"), trials=60, seed=7)


@pytest.fixture(scope="module")
def report(written: Written) -> ExperimentReport:
    return load_report(written.store, written.name)


def _by_gid(figure: Any, gid: str) -> list[Any]:
    return [a for a in figure.findobj() if getattr(a, "get_gid", lambda: None)() == gid]


def _significant(number: str) -> int:
    """How many significant digits a written number has (``0.008895`` -> 4)."""
    digits = number.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
    return len(digits)


def test_format_number_keeps_four_significant_digits() -> None:
    assert format_number(0.008895306923057273) == "0.008895"
    assert format_number(123.456789) == "123.5"
    assert format_number(-2.0) == "-2"
    assert format_number(-0.0) == "0"
    assert format_number(123456.7) == "123457"  # written out, not 1.235e+05
    assert format_number(3.2e-7) == "3.2e-07"
    assert format_number(6.02e23) == "6.02e+23"
    assert [format_number(v) for v in (math.nan, math.inf, -math.inf)] == ["nan", "inf", "-inf"]
    # only a double parameter's value is rounded: an int, a choice or text is shown as assigned
    assert format_parameter("double", "0.008895306923057273") == "0.008895"
    assert format_parameter("int", "123456789") == "123456789"
    assert format_parameter("categorical", "0.008895306923057273") == "0.008895306923057273"
    assert format_parameter("double", "not a number") == "not a number"


def test_the_table_and_the_page_show_numbers_with_the_same_precision(written: Written, report: ExperimentReport) -> None:
    table, page = markdown_table(report), html_report(report)
    numbers = re.findall(r"(?<![\w.-])-?\d+\.\d+(?:e[+-]\d+)?", table + page)
    assert len(numbers) > 100 and max(_significant(n) for n in numbers) == 4  # not repr()'s 17 digits
    some = next(t for t, s in written.statuses.items() if s == "Succeeded")
    shown_lr = format_number(float(written.lr[some]))
    assert written.lr[some] not in table and len(shown_lr) < len(written.lr[some])
    row = next(line for line in table.splitlines() if line.startswith(f"| {some}") or line.startswith(f"| **{some}"))
    assert f"| {shown_lr} |" in row
    trial = report.state.trial(some)
    assert f"| {format_number(trial.metrics['loss'])} |" in row
    assert f"<td class=\"number\">{shown_lr}</td>" in page and f"<td class=\"number\">{format_number(trial.metrics['loss'], report.metric_digits['loss'])}</td>" in page


def test_parallel_coordinates_draw_one_line_per_trial_with_an_objective(report: ExperimentReport) -> None:
    figure = parallel_coordinates_plot(report)
    (lines,) = _by_gid(figure, "trials")
    scored = [t for t in report.state.trials if "loss" in t.metrics]
    segments = lines.get_segments()
    assert len(segments) == len(scored) > 0
    assert {len(s) for s in segments} == {len(report.parameter_names) + 1}  # an axis per parameter, then the objective
    (best,) = _by_gid(figure, "best")
    assert best.get_label() == f"best: {report.best_name}"
    # the best trial minimizes: its line ends at the bottom of the objective axis
    assert best.get_ydata()[-1] == pytest.approx(0.0)


def test_parallel_coordinates_need_a_trial_with_an_objective(tmp_path: Path) -> None:
    one = write_experiment(tmp_path, trials=1, seed=1)  # trial 0 succeeds (see write_experiment)
    figure = parallel_coordinates_plot(load_report(one.store, one.name))
    assert len(_by_gid(figure, "trials")[0].get_segments()) == 1
    empty = write_experiment(tmp_path / "none", trials=0, seed=1)
    assert parallel_coordinates_plot(load_report(empty.store, empty.name)) is None


def test_curves_draw_each_trials_intermediate_values(written: Written, report: ExperimentReport) -> None:
    figure = curves_plot(report)
    (lines,) = _by_gid(figure, "curves")
    segments = lines.get_segments()
    assert len(segments) == len(written.curves) > 0
    drawn = sorted(tuple(float(y) for _, y in s) for s in segments)
    assert drawn == sorted(tuple(c) for c in written.curves.values())
    assert all([x for x, _ in s] == list(range(1, len(s) + 1)) for s in segments)  # x: the report's number
    (best,) = _by_gid(figure, "best")
    assert list(best.get_ydata()) == written.curves[report.best_name]


def test_a_long_curve_is_thinned_but_keeps_its_ends(tmp_path: Path) -> None:
    from kfp_tune.report_views import MAX_CURVE_POINTS, _thin

    curve = tuple(float(i) for i in range(10 * MAX_CURVE_POINTS + 3))
    thinned = _thin(curve)
    assert len(thinned) <= MAX_CURVE_POINTS
    assert thinned[0] == (1.0, 0.0) and thinned[-1] == (float(len(curve)), curve[-1])


def test_importance_ranks_the_parameter_that_drives_the_objective_first(report: ExperimentReport) -> None:
    ranked = parameter_importance(report)
    assert ranked[0].parameter == "lr"
    by_name = {i.parameter: i for i in ranked}
    assert set(by_name) == set(report.parameter_names)
    assert by_name["lr"].mean > 10 * max(by_name["noise"].mean, by_name["depth"].mean, 1e-3)
    assert parameter_importance(report) == ranked  # seeded: the same trials, the same numbers


def _hide_scikit_learn(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, ``import sklearn`` raises ImportError, as on a machine without it."""
    for name in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)


def test_importance_needs_enough_trials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Below the minimum scikit-learn is not even imported (2-3 s at every checkpoint of a small
    run): here an import of it would raise."""
    few = write_experiment(tmp_path, trials=5, seed=3)
    report = load_report(few.store, few.name)
    _hide_scikit_learn(monkeypatch)
    assert parameter_importance(report) == []
    (view,) = [v for v in views(report) if v.title == "Parameter importance"]
    assert view.figure is None and "at least" in view.note


def test_without_scikit_learn_the_page_says_so_instead_of_the_importance(report: ExperimentReport, monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_scikit_learn(monkeypatch)
    with pytest.raises(ImportError):
        parameter_importance(report)
    page = html_report(report)
    assert "parameter importance needs scikit-learn" in page
    assert page.count("<img") == 5  # objective, parameters, parallel coordinates, curves, timeline


def _max_overlap(spans: list[tuple[float, float]]) -> int:
    """How many spans run at once at most (a span ends before another starting at its end)."""
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans], key=lambda ev: (ev[0], ev[1]))
    running = most = 0
    for _, change in events:
        running += change
        most = max(most, running)
    return most


def test_the_timeline_puts_every_started_trial_in_a_slot_without_overlaps(written: Written, report: ExperimentReport) -> None:
    bars = slot_timeline(report)
    assert {b.trial: (b.start, b.end) for b in bars} == written.spans
    assert {b.trial: b.status for b in bars} == written.statuses
    slots = {b.slot for b in bars}
    assert slots == set(range(_max_overlap(list(written.spans.values())))) and len(slots) == written.slots
    for slot in slots:
        mine = sorted((b.start, b.end) for b in bars if b.slot == slot)
        assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(mine))
    figure = timeline_plot(bars)
    for status in set(written.statuses.values()):
        assert len(_by_gid(figure, f"slot-bar-{status}")) == list(written.statuses.values()).count(status)  # a bar per trial


def test_a_running_trial_runs_until_the_latest_record(tmp_path: Path) -> None:
    live = write_experiment(tmp_path, trials=12, seed=5, running=2)
    bars = {b.trial: b for b in slot_timeline(load_report(live.store, live.name))}
    assert [b.status for b in bars.values()].count("Running") == 2
    assert {name: (b.start, b.end) for name, b in bars.items()} == live.spans


class _Images(HTMLParser):
    """Each image's heading (the ``h2`` before it), and every link."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self.heading = ""
        self.in_heading = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "img":
            self.images.append(self.heading)
        if tag == "h2":
            self.heading, self.in_heading = "", True
        self.links += [str(found[k]) for k in ("href", "src") if found.get(k) is not None]

    def handle_endtag(self, tag: str) -> None:
        self.in_heading = self.in_heading and tag != "h2"

    def handle_data(self, data: str) -> None:
        if self.in_heading:
            self.heading += data


def test_the_page_holds_every_view_as_an_embedded_png(report: ExperimentReport) -> None:
    page = html_report(report)
    parsed = _Images()
    parsed.feed(page)
    assert parsed.images == [
        "Objective per trial", "Parameters against the objective", "Parallel coordinates",
        "Objective over each trial's reports", "Parameter importance", TIMELINE_TITLE,
    ]
    for link in parsed.links:
        assert link.startswith("data:image/png;base64,")
        assert base64.b64decode(link.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_experiment_without_trials_shows_notes_not_empty_plots(tmp_path: Path) -> None:
    empty = write_experiment(tmp_path, trials=0, seed=1)
    page = html_report(load_report(empty.store, empty.name))
    assert page.count("<img") == 1  # only the objective's plot, which draws its own "nothing yet"
    assert page.count('<p class="note">') == 5  # the parameters' panels too


def test_a_thousand_trials_make_a_page_under_two_megabytes(tmp_path: Path) -> None:
    big = write_experiment(tmp_path, trials=1000, seed=11, slots=8)
    report = load_report(big.store, big.name)
    page = html_report(report)
    size = len(page.encode("utf-8"))
    print(f"report of 1000 trials: {size} bytes")
    assert page.count("<img") == 6 and page.count("<tr") == 1 + 1000 + 1 + BEST_VIEW_ROWS  # every trial, and the best first
    assert size < 2 * 1024 * 1024


def test_a_bar_lasts_as_long_as_the_trial_ran_to_the_sub_second(tmp_path: Path) -> None:
    """Start and end as the records keep them (``at``, seconds since the epoch), not the
    whole-second ``time`` of the result, written after the metrics were collected: a trial
    stopped early at 1.35 s is drawn shorter than one that ran its 1.5 s."""
    written = write_experiment(tmp_path, trials=2, seed=3, slots=2)
    view = ExperimentView(ExperimentRecords(written.store, written.name))
    (first, first_span), (second, second_span) = sorted(written.spans.items())
    view.record_trial(first, TrialEnded(first, LaunchPhase.SUCCEEDED, time=_iso(first_span[0] + 1), at=first_span[0] + 1.5))
    view.record_trial(second, TrialEnded(second, LaunchPhase.EARLY_STOPPED, time=_iso(second_span[0] + 1), at=second_span[0] + 1.35))
    bars = {b.trial: b for b in slot_timeline(load_report(written.store, written.name))}
    assert bars[first].end - bars[first].start == pytest.approx(1.5)
    assert bars[second].end - bars[second].start == pytest.approx(1.35)


def test_the_objective_plot_holds_every_trial_and_tells_early_stopped_ones_apart(tmp_path: Path) -> None:
    """Of 12 trials (index 4 failed, 3 and 10 stopped early): nine plain points, two early-stopped
    ones, one tick for the trial without an objective, and an axis from the first trial to the
    last, whole numbers only; the best so far is drawn to the last trial."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from kfp_tune.reports import objective_plot

    written = write_experiment(tmp_path, trials=12, seed=11, slots=2)
    figure = objective_plot(load_report(written.store, written.name))
    axes = figure.axes[0]

    def xs(gid: str) -> list[float]:
        (found,) = _by_gid(figure, gid)
        return sorted(float(x) for x in found.get_offsets()[:, 0])

    assert xs("objective-trial") == [0, 1, 2, 5, 6, 7, 8, 9, 11]
    assert xs("objective-early-stopped") == [3, 10]
    assert xs("objective-none") == [4]
    (best,) = _by_gid(figure, "objective-best")
    assert max(best.get_xdata()) == 11
    FigureCanvasAgg(figure).draw()
    assert axes.get_xlim() == (-0.5, 11.5)
    assert all(float(t).is_integer() for t in axes.get_xticks() if -0.5 <= t <= 11.5)


def test_one_objective_among_failed_trials_still_gives_a_whole_number_axis(tmp_path: Path) -> None:
    """The case a user met: one trial with an objective, three failed. Before, the axis ran
    from -0.045 to 0.045 and the failed trials were not on it."""
    from kfp_tune.reports import objective_plot

    written = write_experiment(tmp_path, trials=4, seed=2, slots=1)
    view = ExperimentView(ExperimentRecords(written.store, written.name))
    state = view.state
    for trial in state.trials[1:]:
        (tmp_path / "experiments" / written.name / "trials" / trial.name / "result.json").unlink()
        view.record_trial(trial.name, TrialResult(trial=trial.name, status=TrialStatus.FAILED, time=_iso(START)))
    figure = objective_plot(load_report(written.store, written.name))
    assert figure.axes[0].get_xlim() == (-0.5, 3.5)
    (none,) = _by_gid(figure, "objective-none")
    assert sorted(float(x) for x in none.get_offsets()[:, 0]) == [1, 2, 3]


def test_a_running_trial_is_drawn_until_now_while_its_run_is_heard_from(tmp_path: Path) -> None:
    """A report made 28 s in drew two trials running for 8 s as slivers at 20.2 s, the last time
    a trial had ended. Now a running trial reaches the report's time while its run is heard from
    (its heartbeat, or its start, younger than the trial TTL, as launch-trial's retries judge an
    attempt alive); once not (a killed run), the last time a record tells, its heartbeat
    included. The legend says which."""
    import dataclasses

    from kfp_tune.core.claims import trial_ttl_from_env
    from kfp_tune.core.vocabulary import RecordKind
    from kfp_tune.report_views import LAST_HEARD, UNTIL_NOW, status_look

    live = write_experiment(tmp_path, trials=8, seed=5, running=2)
    records = ExperimentRecords(live.store, live.name)
    running = sorted(t for t, s in live.statuses.items() if s == "Running")
    ended = {t: s for t, s in live.spans.items() if t not in running}
    started = {t: live.spans[t][0] for t in running}
    report = load_report(live.store, live.name)

    def drawn(made_at: float) -> dict[str, tuple[float, str]]:
        bars = slot_timeline(dataclasses.replace(report, made_at=made_at))
        assert {b.trial: (b.start, b.end) for b in bars if b.trial not in running} == ended  # the others as they ran
        return {b.trial: (b.end, b.running) for b in bars if b.trial in running}

    ttl = trial_ttl_from_env()
    last = max(started.values())
    assert drawn(last + 8) == {t: (last + 8, UNTIL_NOW) for t in running}  # the QA's case: 8 s in, no beat since the start
    latest = max(end for _, end in live.spans.values())
    assert drawn(latest + ttl + 60) == {t: (latest, LAST_HEARD) for t in running}  # not heard from for the TTL: not stretched
    beat = latest + 30.0
    for trial in running:
        records.write(records.heartbeat_key(trial), RecordKind.TRIAL_HEARTBEAT, {"trial": trial, "attempt": "1", "at": beat, "time": _iso(beat)})
    report = load_report(live.store, live.name)
    assert report.heartbeats == {t: beat for t in running}
    assert drawn(beat + ttl / 2) == {t: (beat + ttl / 2, UNTIL_NOW) for t in running}
    assert drawn(beat + ttl + 1) == {t: (beat, LAST_HEARD) for t in running}  # to its last heartbeat
    figure = timeline_plot(slot_timeline(dataclasses.replace(report, made_at=beat + 5)))
    bars = _by_gid(figure, "slot-bar-Running")
    assert len(bars) == 2 and {patch.get_hatch() for patch in bars} == {status_look("Running").hatch}
    assert f"Running ({UNTIL_NOW})" in [text.get_text() for text in figure.axes[0].get_legend().get_texts()]


def test_one_trial_draws_only_values_it_could_have(tmp_path: Path) -> None:
    """With one trial the colour bar ran from 0.2167 to 1.2167 (an accuracy above 1), the trial
    axis had ticks at -0.5 to 0.5 and an int parameter at 0.945 to 1.05. Now: the value alone
    on the colour bar and on the objective's axis, trial 0 alone, and an int's whole numbers
    across its space."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from kfp_tune import search, tune
    from kfp_tune.reports import objective_plot, parameter_plot

    space = {"lr": search.double(0.0001, 0.5), "layers": search.int(1, 5), "opt": search.categorical(["sgd", "adam", "rmsprop"])}
    tune(lambda p: {"accuracy": 0.2167}, space, objective_metric_name="accuracy", objective_type="maximize", max_trial_count=1,
         algorithm="random", algorithm_settings={"random_state": 3}, store=str(tmp_path), name="one-trial")
    report = load_report(LocalStore(tmp_path), "one-trial")

    def shown_ticks(axes: Any, which: str = "x") -> list[float]:
        FigureCanvasAgg(axes.figure).draw()
        low, high = axes.get_xlim() if which == "x" else axes.get_ylim()
        return [float(t) for t in (axes.get_xticks() if which == "x" else axes.get_yticks()) if low <= t <= high]

    parallel = parallel_coordinates_plot(report)
    lines, colour_bar = parallel.axes
    low, high = colour_bar.get_ylim()
    assert shown_ticks(colour_bar, "y") == [0.2167] and 0.2 < low < 0.2167 < high < 0.25
    assert [t.get_text() for t in lines.texts if t.get_text() == format_number(0.2167)] == ["0.2167"]  # the objective's axis, once
    assert shown_ticks(objective_plot(report).axes[0]) == [0.0]
    layers = next(axes for axes in parameter_plot(report).axes if axes.get_title() == "layers")
    assert shown_ticks(layers) == [1.0, 2.0, 3.0, 4.0, 5.0]
