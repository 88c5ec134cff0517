"""What people read about an experiment: a Markdown trial table and a self-contained HTML page
with plots, the status summary (``kfp-tune status``, ``run --json``) and the trial rows
(``kfp-tune trials``).

decide-stop writes both as KFP artifacts after every round, so the KFP UI shows how the search
goes while it runs (as Katib's UI does); ``kfp-tune report NAME`` writes them from the store.
Parameter values are the user's strings and may hold anything: every value is escaped.

Every reader here is lenient: a damaged trial or round record is left out and listed with its
key and what is wrong with it (``damaged``), and the other trials still show. Only a damaged
experiment record stops them (without the spec there is nothing to show).
"""

from __future__ import annotations

import html
import math
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from kfp_tune.core import claims
from kfp_tune.core.decision import best_first, best_trial, count_trials, decide, goal_reached
from kfp_tune.core.errors import ExperimentNotFound, clipped
from kfp_tune.core.interfaces import Store
from kfp_tune.core.naming import NEW_EXPERIMENT_NAMING
from kfp_tune.core.nas_values import shown_assignment
from kfp_tune.core.records import DamagedRecord, ExperimentRecords, UnreadableRecord, is_newer_problem, left_out_warning
from kfp_tune.core.spec import ObjectiveSpec
from kfp_tune.core.state import FINISHED_PHASES, TRIAL_NOT_CREATED, ExperimentState, ExperimentView, TrialState, read_experiment_record
from kfp_tune.core.vocabulary import ExperimentPhase, RecordKind, TrialStatus
from kfp_tune.progress import stop_rule_said
from kfp_tune.report_views import (
    SIGNIFICANT_DIGITS,
    column_digits,
    distinct_short_names,
    double_digits,
    drawing_users_text,
    figure_png,
    format_number,
    left_out_note,
    log_axis,
    log_scaled,
    number_bounds,
    numeric_parameter,
    objective_label,
    parameter_text,
    parameter_texts,
    values_log_scaled,
    views_html,
)

MAX_PARAMETER_PANELS = 12
"""Parameters plotted against the objective, one panel each; the table lists them all."""
PANEL_TITLE_CHARS = 32
"""The most characters of a parameter's name a panel's title shows (a third of the figure's width)."""
PANEL_LABEL_CHARS = 28
"""The most characters of a line of the objective's label on the panels' y axis (about a panel's height)."""
MAX_CHOICE_LABELS = 30
"""Labelled values on a categorical panel's axis: a label each up to this many, else every n-th.
A label per value of a categorical of 5,684 values made each report take about a minute (the
tick labels' layout), and no one can read thousands of labels."""


@dataclass
class ExperimentReport:
    """What both reports show, read once from the store."""

    state: ExperimentState
    phase: str
    reason: str
    message: str
    damaged: dict[str, str] = field(default_factory=dict)
    """Records left out because they are damaged: key -> what is wrong with it."""
    completion_time: str | None = None
    """When the saved status says the experiment ended (Katib's ``completionTime``)."""
    records: ExperimentRecords | None = field(default=None, repr=False, compare=False)
    """Where it was read from: the running trials' heartbeats are read from there, once, when
    the timeline is drawn (a status poll does not pay for them)."""
    made_at: float = field(default_factory=time.time)
    """When the report was read (seconds since the epoch): "now", for the trials still running."""

    def __repr__(self) -> str:
        """One line: a notebook cell ending with ``load_report(...)`` printed every trial's state
        (27 KB for 15 trials; QA "notebook", session 31)."""
        left_out = f", {len(self.damaged)} damaged record(s) left out" if self.damaged else ""
        return f"<ExperimentReport {self.state.name}: {self.phase} ({self.reason}), {len(self.state.trials)} trial(s){left_out}>"

    def _repr_html_(self) -> str:
        """A notebook's view: the HTML report itself, in a frame of its own (its styles stay off
        the notebook's; sandboxed: the page needs no script, and a srcdoc frame would otherwise
        share the notebook's origin), drawn when the cell's output is shown."""
        page = html.escape(html_report(self), quote=True)
        return f'<iframe sandbox="" srcdoc="{page}" title="kfp-tune report: {html.escape(self.state.name)}" style="width:100%;height:640px;border:0"></iframe>'

    @cached_property
    def heartbeats(self) -> dict[str, float]:
        """Each running trial's last heartbeat (``trials/<t>/beat.json``'s ``at``, seconds since
        the epoch), where it has one: the last time its run was heard from about it. A damaged
        one is left out: the trial is drawn as if it had none."""
        beats: dict[str, float] = {}
        records = self.records
        if records is None:
            return beats
        for trial in self.state.trials:
            if trial.status != TrialStatus.RUNNING:
                continue
            try:
                record = records.read(records.heartbeat_key(trial.name), RecordKind.TRIAL_HEARTBEAT)
            except UnreadableRecord:
                continue
            at = record.get("at") if record is not None else None
            if isinstance(at, (int, float)) and not isinstance(at, bool) and math.isfinite(at):
                beats[trial.name] = float(at)
        return beats

    @property
    def objective(self) -> str:
        assert self.state.experiment.spec.objective is not None
        return self.state.experiment.spec.objective.objective_metric_name

    @property
    def minimize(self) -> bool:
        assert self.state.experiment.spec.objective is not None
        return self.state.experiment.spec.objective.type == "minimize"

    @property
    def best_name(self) -> str | None:
        best = best_trial(self.state)
        return None if best is None else best.name

    @cached_property
    def parameter_names(self) -> list[str]:
        """Computed once: every row of a table asks for them, and each computation walks every
        trial (a property made the report quadratic: 114 s at 10,000 trials)."""
        return parameter_order(self.state)

    @cached_property
    def metric_names(self) -> list[str]:
        return metric_order(self.state)

    @cached_property
    def metric_digits(self) -> dict[str, int]:
        """Each metric column's digits (:func:`column_digits`): the fewest that tell its values apart.
        The objective's column counts the goal among its values, so that a best short of the goal
        never reads as the goal (0.98999 is not ``0.99`` beside "goal 0.99, not reached")."""
        goal = [] if self.goal is None else [self.goal]
        return {
            name: column_digits([*(t.metrics[name] for t in self.state.trials if name in t.metrics), *(goal if name == self.objective else [])])
            for name in self.metric_names
        }

    @cached_property
    def parameter_types(self) -> dict[str, str]:
        """Each spec parameter's type by name (none for enas' and darts' architecture values)."""
        return {p.name: p.parameter_type for p in self.state.experiment.spec.parameters}

    @cached_property
    def number_parameters(self) -> set[str]:
        """The parameters drawn and aligned as numbers (:func:`numeric_parameter`), in both tables."""
        return {p.name for p in self.state.experiment.spec.parameters if numeric_parameter(p)}

    @cached_property
    def parameter_digits(self) -> dict[str, int]:
        """Each double parameter column's digits (:func:`column_digits`)."""
        return double_digits(self)

    @cached_property
    def objective_log(self) -> bool:
        """Whether the plots draw the objective on a log axis (:func:`values_log_scaled`, the
        goal counted): a loss from 1e3 down to 0.1, as a diverged trial or two give."""
        goal = [] if self.goal is None else [self.goal]
        return values_log_scaled([value for trial in self.state.trials if (value := self.state.objective_value(trial)) is not None] + goal)

    @property
    def objective_digits(self) -> int:
        return self.metric_digits.get(self.objective, SIGNIFICANT_DIGITS)

    @property
    def better(self) -> str:
        """Which way the objective is better, in words, for the header and the plot's axis."""
        return "lower is better" if self.minimize else "higher is better"

    @property
    def goal(self) -> float | None:
        return self.state.experiment.spec.objective.goal  # type: ignore[union-attr]

    def goal_shown(self) -> tuple[str, str] | None:
        """The goal as the report writes it and whether the best trial reached it, as Katib decides
        it (decision.decide): ``("0.99", "not reached")``, "not reached yet" while the experiment
        is not finished; None without a goal. The goal is written with the objective column's
        digits, which count it in (:attr:`metric_digits`)."""
        goal = self.goal
        if goal is None:
            return None
        best = best_trial(self.state)
        value = self.state.objective_value(best) if best is not None else None
        assert self.state.experiment.spec.objective is not None
        if goal_reached(self.state.experiment.spec.objective, value):
            return self.format_objective(goal), "reached"
        return self.format_objective(goal), "not reached" if self.phase in FINISHED_PHASES else "not reached yet"  # a run may still reach it

    def objective_words(self) -> str:
        """The header line's parenthesis after the objective: its goal and the better way."""
        goal = self.goal_shown()
        return f"({f'goal {goal[0]}, {goal[1]}' if goal else 'no goal'}; {self.better})"

    def format_objective(self, value: float) -> str:
        """An objective value as its table column writes it, in the alt texts and on the axes too."""
        return format_number(value, self.objective_digits)


def parameter_order(state: ExperimentState) -> list[str]:
    """The parameters' columns: in the spec's order, as the user wrote them, then any other a
    trial was given (enas' and darts' architecture), by name, as tables show them
    (:func:`~kfp_tune.core.nas_values.shown_assignment`: enas' nn_config is in its architecture's words)."""
    names = [p.name for p in state.experiment.spec.parameters]
    return names + sorted({k for t in state.trials for k in shown_assignment(t.assignment)} - set(names))


def metric_order(state: ExperimentState) -> list[str]:
    """The metrics' columns: the objective, the additional metrics as the spec lists them, then
    any other metric a trial reported, by name. The report and ``kfp-tune trials`` both use it."""
    names = state.experiment.spec.objective.metric_names  # type: ignore[union-attr]
    return names + sorted({m for t in state.trials for m in (*t.metrics, *t.text_metrics)} - set(names))


def load_report(store: Store | str | os.PathLike[str] | None, experiment_name: str, view: ExperimentView | None = None) -> ExperimentReport:
    """The experiment's state and its last saved status (or, before any or when it is damaged,
    the status it has now), for :func:`markdown_table` and :func:`html_report`. ``store``: a
    Store, or its URI or folder (``TuneResult.store``; None: ``$KFP_TUNE_STORE``, else
    ``./kfp-tune-runs``). Damaged records are left out and listed (see the module's doc).
    ``view``: a lenient view of it already current (a Client's), else one is read."""
    from kfp_tune.core.decision import decide
    from kfp_tune.stores import as_store

    records = ExperimentRecords(as_store(store), experiment_name)
    view = view or ExperimentView(records, lenient=True)
    state = view.state
    damaged = dict(view.damaged)
    try:
        saved = records.read(records.status_key(), "ExperimentStatus")
        if saved is not None:  # a record without a status, or with a null one, is damaged as one with a bad one is
            status = saved.get("status")
            phase, reason, message = (status.get(k) if isinstance(status, dict) else None for k in ("phase", "reason", "message"))
            if not isinstance(status, dict) or not all(isinstance(v, str) for v in (phase, reason, message)):
                raise DamagedRecord(records.status_key(), "expected a status with a phase, a reason and a message")
            ended_at = status.get("completionTime")
            return ExperimentReport(
                state, str(phase), str(reason), str(message), damaged, ended_at if isinstance(ended_at, str) else None, records
            )
    except UnreadableRecord as exc:  # derived from the records: what they say now is shown instead
        damaged[exc.key] = exc.problem + " (the status is computed from the trials instead)"
    fresh = decide(state, rounds_left=1)
    return ExperimentReport(state, fresh.phase, fresh.reason, fresh.message, damaged, records=records)


def experiment_status(store: Store, experiment_name: str, view: ExperimentView | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """(Katib's ``Experiment.status`` as ``kubectl get experiment -o json`` shows it, the damaged
    records left out): what ``kfp-tune status --json`` prints. The phase is the last saved one
    (a run that ran out of rounds or was interrupted says so); counts and lists are the trials' now."""
    from kfp_tune.core.decision import Decision, katib_status, status_document
    from kfp_tune.core.records import utc_now

    report = load_report(store, experiment_name, view)
    ended_at = report.completion_time
    state = report.state
    decided = {p.value for p in ExperimentPhase if p is not ExperimentPhase.RESTARTING}  # a condition, never a run's phase
    phase = ExperimentPhase(report.phase) if report.phase in decided else ExperimentPhase.RUNNING
    decision = Decision(phase, report.reason, report.message, best_trial(state), count_trials(state))
    document = status_document(state, decision, ended_at if decision.finished and ended_at else utc_now())
    return katib_status(document), report.damaged


NO_RUN_DRIVES = "no run drives it now: a run of it (kfp-tune run, its pipeline, tune() with its name) resumes it"
"""What ``status`` and the client's wait say of an unfinished experiment whose last run is gone."""


def driving_run(store: Store, experiment_name: str) -> str | None:
    """Which run drives the experiment now, as a busy message names it ("run 'r' (claimed ...,
    last seen 3 s ago)"); None when none does: its last run ended, went silent past its TTL, or
    was a process of this machine that is gone (a ``kfp-tune run`` killed outright, which leaves
    the status it last wrote, Running). "" when its claim cannot be read (not known)."""
    try:
        current = claims.latest_claim(ExperimentRecords(store, experiment_name))
    except DamagedRecord:
        return ""
    now = time.time()
    return current.describe(now) if current is not None and current.live(now) else None


def damaged_lines(damaged: dict[str, str]) -> list[str]:
    """One warning per record left out, naming its key and what is wrong (records.left_out_warning)."""
    return [left_out_warning(key, problem) for key, problem in sorted(damaged.items())]


def shown_metrics(trial: TrialState) -> dict[str, float | str]:
    """A trial's metrics as people read them: numbers after their strategy, and the text ones
    (darts' genotype) as the trial wrote them."""
    return {**trial.metrics, **trial.text_metrics}


UNRANKED_NOTE = "A value in parentheses is what a trial that did not succeed reported: it is not ranked."
"""Said under a trial table that shows such a value (:func:`_metric_cell`), so the table reads alone."""


def _shows_unranked(report: ExperimentReport) -> bool:
    return any(not t.status.ranked and any(m in t.metrics or m in t.text_metrics for m in report.metric_names) for t in report.state.trials)


def _metric_cell(trial: TrialState, name: str, escape: Callable[[str], str], digits: int) -> str:
    """A metric's table cell: a number with its column's digits, text escaped as it is; in
    parentheses for a trial whose values are not ranked (``TrialStatus.ranked``: a Failed one,
    which Katib has no observation of), what it reported, not a result (as ``kfp-tune trials``)."""
    if name in trial.metrics:
        cell = format_number(trial.metrics[name], digits)
    elif name in trial.text_metrics:
        cell = escape(trial.text_metrics[name])
    else:
        return ""
    return cell if trial.status.ranked else f"({cell})"


# What a value could turn into Markdown rather than show as text: a table cell's end (|), code
# (`), emphasis (* _), strikethrough (~, GFM), a link or an image ([text](url), ![alt](url)).
# Each is shown as itself with CommonMark's backslash escape; & < > become entities, so that no
# HTML, autolink (<https://...>) or entity gets through.
_MARKDOWN_SPECIAL = re.compile(r"[\\|`*_~\[\]()!]|:(?=//)")


def _markdown_cell(text: str) -> str:
    """A value that shows as text, and in one table cell: one line, every character that means
    something to Markdown escaped (a trial's message ``![t](https://...)`` would otherwise load
    a remote image in the notebook or the KFP UI). A URL's ``://`` is escaped too: the KFP UI's
    renderer (markdown-to-jsx) makes a bare URL a link before it reads escapes, taking a
    ``\\)`` after it into the link and showing the backslash; ``\\:`` stops that link, and
    CommonMark shows it as ``:``."""
    text = _MARKDOWN_SPECIAL.sub(lambda m: "\\" + m.group(0), text.replace("\r", " ").replace("\n", " "))
    return html.escape(text, quote=False)


def _markdown_code(text: str) -> str:
    """A value as a Markdown code span, shown exactly as it is. Inside a code span CommonMark
    processes no backslash escape and no entity (``\\_`` shows as a backslash and an
    underscore, ``&lt;`` as itself), so nothing is escaped: the span is fenced with one backtick
    more than the longest run of backticks in the value, with a space inside each end when the
    value starts or ends with one (or with a space at both ends). One line."""
    text = text.replace("\r", " ").replace("\n", " ")
    runs = [len(run) for run in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    # CommonMark strips one space from each end of a span that has one at both: one is added
    # there, and where the value meets the fence with a backtick
    ends = text[:1] + text[-1:]
    pad = " " if "`" in ends or (ends == "  " and text.strip(" ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# The most of a trial's ending a table cell shows (the whole is in `kfp-tune trials --json`): about
# 160 characters of the job's own word after a Failed trial's Katib form ("TrialFailed. Job
# reason: Error: Trial has failed. Job message: ", 63).
WHY_CHARS = 224


def trial_ending(trial: TrialState) -> str:
    """Why a trial ended otherwise than succeeding: its reason and message ("TrialFailed. Job
    reason: Error: Trial has failed. Job message: exit code 2: python: can't open file ..."),
    and an EarlyStopped one's rule ("TrialEarlyStopped: Trial is early stopped; rule: loss
    greater than 1.125 from report 2"); empty for one that succeeded or has not ended."""
    if trial.result is None or trial.status == TrialStatus.SUCCEEDED:
        return ""
    katibs = ": ".join(part for part in (trial.result.reason, trial.result.message) if part)
    return "; ".join(part for part in (katibs, stop_rule_said(trial)) if part)  # an EarlyStopped one's rule too


def _why_cells(state: ExperimentState) -> list[str] | None:
    """Each trial's ending, cut to ``WHY_CHARS``, for the tables' last column; None when no
    trial has one (the column is left out)."""
    why = [trial_ending(t) for t in state.trials]
    if not any(why):
        return None
    return [clipped(text, WHY_CHARS) for text in why]


KFP_UI_MARKDOWN_LENGTH = 400_000
"""The most of a Markdown artifact the KFP UI renders (MarkdownViewer.tsx, ``MAX_MARKDOWN_STR_LENGTH``,
a JavaScript string's length, in UTF-16 code units); past it the page is cut mid-row."""


def markdown_table(report: ExperimentReport, max_length: int | None = None) -> str:
    """The trial table: name, status, metrics (the objective first), parameters, and why a trial
    that did not succeed ended (when one did not); the best trial marked. The metrics come
    before the parameters so that the objective stays in view however many parameters there
    are (with 12, a table with the parameters first put it past the right edge of a 1280 px
    window). ``max_length``: the most it may be (:data:`KFP_UI_MARKDOWN_LENGTH` for the KFP UI's
    artifact, some 5,000 trials): a longer table lists the trials best first, as many as fit,
    and says so above it (the best row is never the one cut)."""
    state, best = report.state, report.best_name
    params, metrics = report.parameter_names, report.metric_names
    why = _why_cells(state)
    numbers = report.number_parameters  # right-aligned, as the HTML's
    direction = "minimize" if report.minimize else "maximize"
    lines = [
        f"### Experiment {_markdown_cell(state.name)}: {report.phase} ({_markdown_cell(report.reason)})",
        "",
        f"{_markdown_cell(report.message)}",
        "",
        f"Objective: {direction} {_markdown_code(report.objective)} {report.objective_words()}; {len(state.trials)} trial(s)"
        + (f"; best: **{_markdown_cell(best)}**" if best else ""),
        "",
        "| trial | status | " + " | ".join(_markdown_cell(p) for p in metrics + params) + (" | why" if why else "") + " |",
        "|---|---|" + "---:|" * len(metrics) + "".join("---:|" if p in numbers else "---|" for p in params) + ("---|" if why else ""),
    ]
    rows = []
    for index, trial in enumerate(state.trials):
        name = _markdown_cell(trial.name)
        cells = [f"**{name}** (best)" if trial.name == best else name, trial.status]
        cells += [_metric_cell(trial, m, _markdown_cell, report.metric_digits[m]) for m in metrics]
        cells += [_markdown_cell(text) for text in parameter_texts(report, trial)]
        cells += [_markdown_cell(why[index])] if why else []
        rows.append("| " + " | ".join(cells) + " |")
    tail = ["", UNRANKED_NOTE] if _shows_unranked(report) else []
    whole = "\n".join(lines + rows + tail) + "\n"
    if max_length is None or _js_length(whole) <= max_length:
        return whole
    return _best_rows_that_fit(report, lines, rows, tail, max_length)


def _js_length(text: str) -> int:
    """``text``'s length as JavaScript counts it (UTF-16 code units: a character past U+FFFF is two)."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def _best_rows_that_fit(report: ExperimentReport, head: list[str], rows: list[str], tail: list[str], max_length: int) -> str:
    """The table of :func:`markdown_table` cut to ``max_length``: its rows best first (the trials
    without a ranked objective last, each group in the order created), as many as fit, with a
    line above the table that says so and where every trial is."""
    state = report.state
    ranked = sorted(range(len(rows)), key=lambda i: best_first(state.objective_value(state.trials[i]), report.minimize))
    total = len(rows)
    fixed = _js_length("\n".join(head + tail)) + 2 + len(_cut_note(total, total))  # + the note's line and its blank line
    shown: list[str] = []
    used = fixed
    for index in ranked:
        size = _js_length(rows[index]) + 1
        if used + size > max_length:
            break
        shown.append(rows[index])
        used += size
    note = _cut_note(len(shown), total)
    return "\n".join([*head[:-2], note, "", *head[-2:], *shown, *tail]) + "\n"


def _cut_note(shown: int, total: int) -> str:
    return (
        f"The {shown:,} best of {total:,} trials, best first: the KFP UI shows at most {KFP_UI_MARKDOWN_LENGTH:,} characters of "
        "Markdown. The HTML report and `kfp-tune trials` have every trial."
    )


def _objective_points(report: ExperimentReport) -> list[tuple[int, float, str]]:
    points = []
    for trial in report.state.trials:
        value = report.state.objective_value(trial)
        if value is not None and math.isfinite(value):
            points.append((trial.index, value, trial.name))
    return points


@drawing_users_text()
def objective_plot(report: ExperimentReport) -> Any:
    """The objective of each trial in creation order, and the best so far. Early-stopped trials
    are drawn apart (their value is the one at the stop, not a finished run's), and the trials
    with no objective (failed, still running) are ticked in a strip of their own below the axis,
    off the value scale (inside it, at its bottom, they read as bad values), so the x axis holds
    every trial."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(7, 3.6))
    points = _objective_points(report)
    indices = [t.index for t in report.state.trials]
    without = sorted(set(indices) - {p[0] for p in points})
    strip = None
    if without and points:
        rows = figure.add_gridspec(2, 1, height_ratios=[11, 1], hspace=0.08)
        axes = figure.add_subplot(rows[0])
        strip = figure.add_subplot(rows[1], sharex=axes)
    else:
        axes = figure.add_subplot()
    if points:
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        pick = min if report.minimize else max
        best_so_far = [pick(ys[: i + 1]) for i in range(len(ys))]
        stopped = {t.name for t in report.state.trials if t.status == TrialStatus.EARLY_STOPPED}
        finished = [(x, y) for x, y, name in points if name not in stopped]
        early = [(x, y) for x, y, name in points if name in stopped]
        if finished:
            axes.scatter([x for x, _ in finished], [y for _, y in finished], s=18, color="#4477aa", label="trial", zorder=3, gid="objective-trial")
        if early:
            axes.scatter([x for x, _ in early], [y for _, y in early], s=22, marker="v", facecolors="none", edgecolors="#aa7744",
                         label="early stopped (value at the stop)", zorder=3, gid="objective-early-stopped")
        # the best so far holds to the last trial created, so one point before others still draws
        # a line; a point that is the last trial alone would draw one of no length, in the legend only
        if max(indices) > xs[0]:
            axes.step([*xs, max(indices)], [*best_so_far, best_so_far[-1]], where="post", color="#cc6677", label="best so far", gid="objective-best")
        goal = report.goal
        if goal is not None:
            axes.axhline(goal, color="#999933", linestyle="--", linewidth=1, label="goal")
    if strip is not None:
        strip.scatter(without, [0] * len(without), marker="x", s=18, color="#767676", zorder=3, gid="objective-none")
        strip.set_yticks([0], labels=["no objective"], fontsize=7)
        strip.set_ylim(-1, 1)
        strip.grid(alpha=0.3, axis="x")
        axes.tick_params(labelbottom=False)
    bottom = strip if strip is not None else axes
    if points:
        axes.legend(loc="best", fontsize=8)
        axes.set_xlim(min(indices) - 0.5, max(indices) + 0.5)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # trials are counted: one trial is tick 0 alone, not -0.5 to 0.5
        bottom.set_xlabel("trial (in the order created)")
        axes.set_ylabel(objective_label(report))  # inside the axis's height, which way is better included
        if report.objective_log:
            _objective_log_axis(report, axes)
        axes.grid(alpha=0.3)
        return figure
    # nothing to draw: the note alone, with no axis of trials or values that are not there
    axes.set_xticks([])
    axes.set_yticks([])
    if any(report.objective in t.text_metrics for t in report.state.trials):
        axes.text(0.5, 0.5, "the objective is text, not a number: see the trial table", ha="center", va="center", transform=axes.transAxes)
    else:
        ended = report.phase in (ExperimentPhase.SUCCEEDED, ExperimentPhase.FAILED)
        axes.text(0.5, 0.5, "no trial reported the objective" if ended else "no trial has reported the objective yet",
                  ha="center", va="center", transform=axes.transAxes)
    return figure


def _objective_log_axis(report: ExperimentReport, axes: Any) -> None:
    """The y axis of a plot of the objective on a log scale (:attr:`ExperimentReport.objective_log`)."""
    values = [value for _, value, _ in _objective_points(report)] + ([] if report.goal is None else [report.goal])
    log_axis(axes, "y", min(values), max(values))


def objective_alt(report: ExperimentReport) -> str:
    """The objective plot in words (its image's alt text): how many trials, the best, and those
    drawn apart."""
    points = _objective_points(report)
    trials = report.state.trials
    if not points:
        return f"{len(trials)} trial(s), none with the objective {report.objective} as a number."
    pick = min if report.minimize else max
    _, value, name = pick(points, key=lambda p: p[1])
    stopped = sum(1 for t in trials if t.status == TrialStatus.EARLY_STOPPED and any(p[2] == t.name for p in points))
    words = (
        f"{report.objective} of {len(points)} of {len(trials)} trial(s) in the order created, and the best so far, "
        f"reaching {report.format_objective(value)} at {name}"
    )
    words += f"; {stopped} early stopped, at the value they were stopped at" if stopped else ""
    words += f"; {len(trials) - len(points)} without an objective (failed, or not finished)" if len(trials) > len(points) else ""
    goal = report.goal_shown()
    words += f"; the goal, {goal[0]}, dashed: {goal[1]}" if goal else ""
    return words + f"; {report.better}."


def parameter_alt(report: ExperimentReport) -> str:
    """The parameters' panels in words (their image's alt text): what is plotted, and the best trial's values."""
    parameters = report.state.experiment.spec.parameters[:MAX_PARAMETER_PANELS]
    points = _objective_points(report)
    words = f"{report.objective} against each of {', '.join(p.name for p in parameters)}, a panel each, for {len(points)} trial(s)"
    best = next((t for t in report.state.trials if t.name == report.best_name), None)
    if best is None:
        return words + "."
    values = ", ".join(f"{p.name} {parameter_text(report, best, p.name)}" for p in parameters)
    return words + f"; the best, {best.name}, circled: {values}."


@drawing_users_text()
def parameter_plot(report: ExperimentReport) -> Any:
    """One panel per parameter: its value against the objective, the best trial marked."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    parameters = report.state.experiment.spec.parameters[:MAX_PARAMETER_PANELS]
    columns = min(3, max(1, len(parameters)))
    rows = max(1, math.ceil(len(parameters) / columns))
    figure = Figure(figsize=(3.4 * columns, 2.8 * rows))
    by_name = {t.name: t for t in report.state.trials}
    points = _objective_points(report)
    best = report.best_name
    titles = distinct_short_names([p.name for p in parameters], PANEL_TITLE_CHARS)  # long names ran into each other
    for i, parameter in enumerate(parameters):
        axes = figure.add_subplot(rows, columns, i + 1)
        raw = [by_name[name].assignment.get(parameter.name, "") for _, _, name in points]
        ys = [value for _, value, _ in points]
        if numeric_parameter(parameter):  # a discrete of numbers too, by value, as the parallel coordinates draw it
            xs: list[float] = [float(v) for v in raw]
            bounded = parameter.parameter_type == "discrete" or (parameter.feasible_space.min is not None and parameter.feasible_space.max is not None)
            low, high = number_bounds(parameter, raw) if bounded else (None, None)
            if low is not None and high is not None and log_scaled(low, high, parameter.feasible_space.distribution):
                log_axis(axes, "x", low, high)
                margin = (high / low) ** 0.03  # the whole space, with a margin
                axes.set_xlim(low / margin, high * margin)
            else:
                if low is not None and high is not None:  # the whole space, as on a log axis: one trial's value is no range
                    margin = (high - low) * 0.03 if high > low else 0.5
                    axes.set_xlim(low - margin, high + margin)
                if parameter.parameter_type == "int":  # an int's values only: no tick at 1.5, nor at 0.95 around one value
                    axes.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        else:
            choices = [str(c) for c in (parameter.feasible_space.list or [])]
            positions = {choice: k for k, choice in enumerate(choices)}
            xs = [float(positions.get(v, len(choices))) for v in raw]
            every = -(-len(choices) // MAX_CHOICE_LABELS)  # a label on every value, or on every n-th of many
            ticks = range(0, len(choices), every)
            axes.set_xticks(ticks)
            axes.set_xlim(-0.5, len(choices) - 0.5)
            axes.set_xticklabels([c if len(c) <= 12 else c[:11] + "…" for c in (choices[k] for k in ticks)], rotation=30, fontsize=7)
        axes.scatter(xs, ys, s=14, color="#4477aa")
        for x, (_, y, name) in zip(xs, points, strict=True):
            if name == best:
                axes.scatter([x], [y], s=80, facecolors="none", edgecolors="#cc6677", linewidths=1.5)
        if report.objective_log:
            _objective_log_axis(report, axes)
        axes.set_title(titles[i], fontsize=9)
        axes.tick_params(which="both", labelsize=7)
        if i % columns == 0:
            axes.set_ylabel(objective_label(report, PANEL_LABEL_CHARS), fontsize=8)  # a panel's height, not past it into the title above
    figure.tight_layout()
    return figure


REPORT_CLASS = "kfp-tune-report"
"""The class of the element that holds the whole report: every style rule is scoped to it, so
the page shown inside another (a notebook's ``display(HTML(...))``, which puts it in the
notebook's own page) restyles nothing of its host."""
REPORT_STYLE = (
    # 1.5em above and below (collapsing with the body's own 8 px margin) and 1em at the sides
    # (added to the body's 8 px): the 24 px all round the page had when its body was styled
    ".R{font-family:sans-serif;margin:1.5em 1em}"
    ".R table{border-collapse:collapse;font-size:13px}"
    ".R td,.R th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
    ".R tr.best{background:#fdf1c4}"
    ".R th.trial{white-space:nowrap;font-weight:normal}"  # a trial's name on one line, however wide the table
    ".R td.number,.R th.number{text-align:right}"  # magnitudes line up, under their header, as in the Markdown table (---:)
    ".R div.trials{overflow-x:auto}"  # a wide table scrolls by itself, not the whole page (and by keyboard: TRIALS_REGION)
    ".R img{max-width:100%}"
    # on paper there is no scrolling box: the table fits the page's width, in smaller type, its
    # cells wrapping rather than being cut at the right edge: a header or a short value between
    # words only (anywhere, the layout broke val_accuracy into val_accur|acy), the why text and
    # a long word (LONG_WORD_CHARS) anywhere
    "@media print{"
    ".R div.trials{overflow:visible}"
    ".R table{font-size:9px;width:100%}"
    ".R td,.R th{padding:1px 3px;overflow-wrap:break-word}"
    ".R td.long,.R th.long{overflow-wrap:anywhere}"
    ".R td.number,.R td.status{white-space:nowrap;overflow-wrap:normal}"  # a number is never split over lines
    ".R img{break-inside:avoid}"
    "}"
).replace(".R", f".{REPORT_CLASS}")
"""The report's style rules, each under :data:`REPORT_CLASS`."""


NUMBER_CELL = '<td class="number">'
"""The cell of a metric's number (not a text metric's: darts' genotype) or of a number parameter's value."""
LONG_WORD_CHARS = 20
"""A header or text cell with a word longer than this may break anywhere when printed (class
``long``): a word that long kept whole would widen the table past the page."""


def _text_cell(text: str, tag: str = "td", attributes: str = "", classes: tuple[str, ...] = ()) -> str:
    """A header or text cell, classed ``long`` too where a word of it is longer than :data:`LONG_WORD_CHARS`."""
    classes = (*classes, "long") if any(len(word) > LONG_WORD_CHARS for word in text.split()) else classes
    classed = f' class="{" ".join(classes)}"' if classes else ""
    return f"<{tag}{attributes}{classed}>{html.escape(text)}</{tag}>"


TRIALS_REGION = 'class="trials" tabindex="0" role="region" aria-label="Trials table, scrolls sideways"'
"""The trial table's scrolling box: it takes the keyboard's focus, so that the arrow keys scroll a
table wider than the window (WCAG 2.1.1), and a screen reader names it."""


BEST_VIEW_ROWS = 20
"""A report of more trials than this starts with its best this many, best first, in a table of
their own above the plots and the whole table. The whole table stays in the order created, the
x axis of the objective per trial plot and ``kfp-tune trials``' order: at 5,000 trials (QA scale,
session 37) the best were named only by the heading, 5,000 rows away from the rest of them."""
BEST_REGION = 'class="trials" tabindex="0" role="region" aria-label="Best trials table, scrolls sideways"'
"""The best trials' table's scrolling box, as :data:`TRIALS_REGION`, named apart from it."""


def html_report(report: ExperimentReport) -> str:
    """One HTML page with no outside references: plots embedded as PNG, each with what it shows
    in words as its alt text, the trial table, all inside the page's one ``<main>``, whose class
    (:data:`REPORT_CLASS`) scopes every style rule. The page says it is in English (WCAG 3.1.1)."""
    state, best = report.state, report.best_name
    params, metrics = report.parameter_names, report.metric_names
    esc = html.escape
    why = _why_cells(state)
    numbers = report.number_parameters
    number_columns = {*(m for m in metrics if any(m in t.metrics for t in state.trials)), *numbers}
    head = "".join(
        _text_cell(h, "th", ' scope="col"', ("number",) if h in number_columns else ()) for h in ["trial", "status", *metrics, *params]
    ) + ('<th scope="col">why</th>' if why else "")

    def row(index: int) -> str:
        trial = state.trials[index]
        # a number's cell is classed: right-aligned as in the Markdown, and never broken when printed
        cells = [f'<td class="status">{esc(trial.status)}</td>']
        cells += [(NUMBER_CELL if m in trial.metrics else "<td>") + _metric_cell(trial, m, esc, report.metric_digits[m]) + "</td>" for m in metrics]
        cells += [NUMBER_CELL + esc(text) + "</td>" if name in numbers else _text_cell(text) for name, text in zip(params, parameter_texts(report, trial), strict=True)]
        cells += [f'<td class="long">{esc(why[index])}</td>'] if why else []
        row_class = ' class="best"' if trial.name == best else ""
        name = esc(trial.name) + (" <b>(best)</b>" if trial.name == best else "")
        # the trial's name heads its row: a screen reader down a column names the trial (WCAG H63)
        return f'<tr{row_class}><th scope="row" class="trial">{name}</th>' + "".join(cells) + "</tr>"

    body = [row(index) for index in range(len(state.trials))]
    ranked = [i for i in range(len(state.trials)) if best_first(state.objective_value(state.trials[i]), report.minimize)[0] == 0]
    best_view = ""
    if len(state.trials) > BEST_VIEW_ROWS and ranked:
        first = sorted(ranked, key=lambda i: best_first(state.objective_value(state.trials[i]), report.minimize))[:BEST_VIEW_ROWS]
        best_view = (
            f"<h2>Best {len(first)} of {len(state.trials):,} trials</h2>"
            "<p>By the objective, best first; every trial is in the table below, in the order created.</p>"
            f"<div {BEST_REGION}><table><thead><tr>{head}</tr></thead><tbody>{''.join(row(i) for i in first)}</tbody></table></div>"
        )
    direction = "minimize" if report.minimize else "maximize"
    best_state = next((t for t in state.trials if t.name == best), None)
    text = best_state.text_metrics.get(report.objective) if best_state is not None else None  # darts' genotype: the result
    plots = [("Objective per trial", objective_plot(report), objective_alt(report))]
    spec_parameters = bool(state.experiment.spec.parameters)  # enas' and darts' architectures are not plotted against it
    if spec_parameters and _objective_points(report):
        plots.append(("Parameters against the objective", parameter_plot(report), parameter_alt(report)))
    images = "".join(
        f'<h2>{esc(title)}</h2><img alt="{esc(alt)}" src="data:image/png;base64,{figure_png(fig)}">' for title, fig, alt in plots
    )
    left_out = left_out_note(report, MAX_PARAMETER_PANELS)
    if len(plots) > 1 and left_out:
        images += f'<p class="note">{esc(left_out)}</p>'
    if spec_parameters and len(plots) == 1:  # empty panels said nothing
        images += '<h2>Parameters against the objective</h2><p class="note">nothing to draw: no trial reported the objective as a number</p>'
    images += views_html(report)
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>kfp-tune: {esc(state.name)}</title>"
        f"<style>{REPORT_STYLE}</style></head><body><main class=\"{REPORT_CLASS}\">"
        f"<h1>Experiment {esc(state.name)}: {esc(report.phase)}</h1>"
        f"<p>{esc(report.reason)}: {esc(report.message)}</p>"
        f"<p>Objective: {direction} <code>{esc(report.objective)}</code> {esc(report.objective_words())}; {len(state.trials)} trial(s)"
        + (f"; best: <b>{esc(best)}</b>" if best else "")
        + "</p>"
        + (f"<p>Its {esc(report.objective)}: <code>{esc(text)}</code></p>" if text is not None else "")
        + best_view
        + images
        + f"<h2>Trials</h2><div {TRIALS_REGION}><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
        + (f'<p class="note">{esc(UNRANKED_NOTE)}</p>' if _shows_unranked(report) else "")
        + "</main></body></html>\n"
    )


def summarize(store: Store, experiment_name: str) -> dict[str, Any]:
    """What ``kfp-tune run --json`` and ``status`` print: status, counts and the best trial.
    ``failed`` and ``metrics_unavailable`` are counted apart, as Katib's Experiment status keeps
    trialsFailed and trialMetricsUnavailable (status_util.go, ``updateTrialsSummary``); only its
    maxFailedTrialCount rule adds them."""
    report = load_report(store, experiment_name)
    state, phase, reason, message = report.state, report.phase, report.reason, report.message
    counts = count_trials(state)
    best = best_trial(state)
    failed = last_failed_trial(state)
    return {
        "experiment": state.name,
        "objective": report.objective,  # its metric, shown first in the best trial's line
        "status": phase,
        "reason": reason,
        "message": message,
        "trials": counts["total"],
        "succeeded": counts[TrialStatus.SUCCEEDED.value],
        "failed": counts[TrialStatus.FAILED.value],
        "metrics_unavailable": counts[TrialStatus.METRICS_UNAVAILABLE.value],
        "running": counts["active"],
        "early_stopped": counts[TrialStatus.EARLY_STOPPED.value],
        "killed": counts[TrialStatus.KILLED.value] - counts["givenBack"],
        "given_back": counts["givenBack"],
        "damaged": [{"key": key, "problem": problem} for key, problem in sorted(report.damaged.items())],
        "best_trial": None
        if best is None
        else {"name": best.name, "parameters": state.in_spec_order(best), "metrics": shown_metrics(best)},
        "last_failed_trial": None
        if failed is None
        else {"name": failed.name, "reason": failed.result.reason if failed.result else "", "message": failed.result.message if failed.result else ""},
        "store": store.uri,
    }


def last_failed_trial(state: ExperimentState) -> TrialState | None:
    """The failed trial created last (Failed or MetricsUnavailable), or None: what a run that
    ends with failed trials points at, so that the user learns why without opening the store."""
    return next((t for t in reversed(state.trials) if t.status.counts_as_failed), None)


def katib_stop_rules(trial: TrialState) -> list[dict[str, Any]]:
    """The early stopping rules the trial is judged by, fixed as it started, as Katib's Trial
    shows them (``spec.earlyStoppingRules``: name, value, comparison, startStep); [] when none
    were (too few completed trials then, no early stopping, or a record from before they were kept)."""
    rules = trial.started.early_stopping_rules if trial.started is not None else None
    return [rule.to_katib() for rule in rules or ()]


def trial_rows(store: Store, experiment_name: str) -> list[dict[str, Any]]:
    """One row per trial: name, status, parameters, metrics (after strategies), the labels the
    algorithm gave it (pbt's generation and parent; ``{}`` for most), reason; a trial
    with a damaged record also has ``damaged`` (what is wrong), one with a record a newer kfp-tune
    wrote ``newer`` (which, and the upgrade to read it), its status as the rest tell it;
    a trial of an experiment with early stopping, once started, ``earlyStoppingRules``
    (:func:`katib_stop_rules`; ``[]``: none applied); ``startTime`` and ``completionTime``
    (ISO-8601 UTC, None until it started, ended)."""
    return load_trials(store, experiment_name).rows


@dataclass
class TrialTable:
    """:func:`trial_rows` with the columns' order the report uses, and the records left out."""

    rows: list[dict[str, Any]]
    damaged: dict[str, str]
    """Damaged records left out: key -> what is wrong."""
    parameter_names: list[str]
    metric_names: list[str]
    objective: ObjectiveSpec | None = None
    """The experiment's objective (its metric and type), for an order by it."""
    stopped_by: dict[str, str] = field(default_factory=dict)
    """Each EarlyStopped trial's rule, said (:func:`~kfp_tune.progress.stop_rule_said`), by
    trial name: the table's status cell shows it (``--json`` has ``earlyStoppingRules``)."""


def load_trials(store: Store, experiment_name: str) -> TrialTable:
    """The trial rows, their columns' order and the damaged records left out."""
    records = ExperimentRecords(store, experiment_name)
    view = ExperimentView(records, lenient=True)
    state = view.state
    by_trial: dict[str, dict[str, list[str]]] = {}  # trial -> "damaged" or "newer" -> its records' problems
    for key, problem in view.damaged.items():
        if (trial := records.trial_of(key)) is not None:
            field = "newer" if is_newer_problem(problem) else "damaged"  # a newer record is not damaged: upgrade to read it
            by_trial.setdefault(trial, {}).setdefault(field, []).append(f"{key.rsplit('/', 1)[-1]}: {problem}")
    rows = []
    for t in state.trials:
        row: dict[str, Any] = {
            "name": t.name,
            "index": t.index,
            "status": t.status,
            "parameters": dict(t.assignment),
            "metrics": shown_metrics(t),
            "labels": dict(t.labels),
            "reason": t.result.reason if t.result else "",
            "message": t.result.message if t.result else "",
            # Katib's Trial status.startTime / completionTime, from the records the fold read
            "startTime": (t.started.time or None) if t.started else None,
            "completionTime": (t.result.time or None) if t.result else None,
        }
        if t.started is not None and t.started.early_stopping_rules is not None:
            row["earlyStoppingRules"] = katib_stop_rules(t)
        for field, problems in by_trial.get(t.name, {}).items():
            row[field] = "; ".join(problems)
        rows.append(row)
    stopped_by = {t.name: said for t in state.trials if (said := stop_rule_said(t))}
    return TrialTable(rows, dict(view.damaged), parameter_order(state), metric_order(state), state.experiment.spec.objective, stopped_by)


def trial_breakdown(succeeded: int, early_stopped: int, failed: int, killed: int, *, metrics_unavailable: int = 0) -> str:
    """How the ended trials ended, for one line: succeeded and failed always, early stopped,
    metrics unavailable and killed when there are any (so the counts add up to the trials that
    ended). ``failed`` is the Failed trials only: a MetricsUnavailable one is told apart, as
    Katib's status counts it apart (status_util.go, ``updateTrialsSummary``), and as the
    progress lines name its status."""
    parts = [f"{succeeded} succeeded"] + ([f"{early_stopped} early stopped"] if early_stopped else []) + [f"{failed} failed"]
    parts += [f"{metrics_unavailable} metrics unavailable"] if metrics_unavailable else []
    return ", ".join(parts + ([f"{killed} killed"] if killed else []))


def deleted_while_read_note(store: Store, experiment_name: str) -> str:
    """What a run says when the experiment it found was deleted (by another person or process)
    before it had read it: it starts a new one, which no note about the old one may hide."""
    return (
        f"experiment {experiment_name} in {store.uri} was deleted while this run read it (another process deleted it): "
        "this run starts it as a new experiment, from its first trial"
    )


def run_note(store: Store, experiment_name: str, how_to_run_again: bool = False) -> tuple[str | None, bool]:
    """What a run says before its first trial (:func:`resume_note`), and whether the experiment
    was deleted while this run read it (the note then says the run starts a new one, so no advice
    about a resume fits). The experiment record is read again after the note: a delete another
    person began meanwhile is refused (ExperimentPartlyDeleted), and one that has ended is said.
    ``kfp-tune run`` and ``tune()`` both say this, after ``steps.prepare`` made the record."""
    records = ExperimentRecords(store, experiment_name)
    try:
        note = _resume_note(records, how_to_run_again)
        if read_experiment_record(records) is not None:
            return note, False
    except ExperimentNotFound:
        pass
    return deleted_while_read_note(store, experiment_name), True


def resume_note(store: Store, experiment_name: str, how_to_run_again: bool = False) -> str | None:
    """What a run of an experiment that already has trials resumes, in one line, or None for a
    new one. An experiment that has completed (and
    that this run's spec does not restart) is said to be so: the run only reports it; with
    ``how_to_run_again`` (``kfp-tune run``; ``tune()`` says it its own way), the note says how
    to run it again, since a user re-running a fixed spec expects it to run. Reads
    strictly: a damaged record raises DamagedRecord, so a run refuses it. The runs that say it
    (``kfp-tune run``, ``tune()``) run their trials as local processes, which cannot be
    followed again: a trial a stopped run left started is recorded Killed (TrialStale) and its
    budget given back, so it counts among the new trials to come, not as one to finish (a
    Kubernetes launcher would follow it again; no local run uses one). The note does not say
    the process is gone: after a SIGKILL it may still run, and what it reports is not recorded
    (docs/guarantees.md, "What is not promised"). A trial whose attempt still follows it
    (:func:`~kfp_tune.core.claims.attempt_follows`: a live run taken over with ``--take-over``)
    is waited for and collected as it ends, keeping its budget (docs/guarantees.md, "One run
    at a time")."""
    try:
        return _resume_note(ExperimentRecords(store, experiment_name), how_to_run_again)
    except ExperimentNotFound:
        return deleted_while_read_note(store, experiment_name)


def _resume_note(records: ExperimentRecords, how_to_run_again: bool) -> str | None:
    """:func:`resume_note`'s; ExperimentNotFound when the experiment was deleted while read."""
    store = records.store
    if store.get(records.experiment_key()) is None:
        return None
    state = ExperimentView(records).state  # a half-deleted experiment is never read as a state (ExperimentView.refresh): it is refused
    if not state.trials:
        return None
    counts = count_trials(state)
    ended = trial_breakdown(
        counts[TrialStatus.SUCCEEDED.value], counts[TrialStatus.EARLY_STOPPED.value], counts[TrialStatus.FAILED.value],
        counts[TrialStatus.KILLED.value] - counts["givenBack"], metrics_unavailable=counts[TrialStatus.METRICS_UNAVAILABLE.value],
    )
    parts = [f"{counts['completed']} trial(s) done ({ended})"]
    completed = decide(state, rounds_left=1)
    if completed.finished:
        note = f"experiment {state.name} has already completed: {completed.phase} ({completed.reason}), {parts[0]}; nothing to run, reporting it"
        if not how_to_run_again:
            return note
        return note + (
            f". Katib keeps a completed experiment completed: to run it again, start a new experiment ({NEW_EXPERIMENT_NAMING}), "
            f"or delete this one (kfp-tune delete {state.name} --store {store.uri}) and run it again"
        )
    not_created = sum(1 for t in state.trials if t.given_back and t.result is not None and t.result.reason == TRIAL_NOT_CREATED)
    if counts["givenBack"] - not_created:
        parts.append(f"{counts['givenBack'] - not_created} interrupted trial(s) given back")
    if not_created:
        parts.append(f"{not_created} trial(s) the launcher could not create given back")
    unfinished = [t for t in state.trials if not t.is_terminal]
    started = [t for t in unfinished if t.started is not None]
    uncollected = sum(1 for t in started if t.ended is not None)
    followed = sum(1 for t in started if t.ended is None and t.started is not None and claims.attempt_follows(records, t.name, t.started))
    orphaned = len(started) - uncollected - followed
    if uncollected:
        parts.append(f"{uncollected} trial(s) that ended and are not collected yet, to collect")
    if followed:
        parts.append(
            f"{followed} trial(s) the run taken over is still following, to wait for and collect as they end "
            f"(recorded Killed and given back if that run stops following first; if it is gone, that is known up to "
            f"{claims.trial_ttl_from_env():g} s after its last sign of life, KFP_TUNE_TRIAL_TTL_SECONDS, and this run waits till then)"
        )
    if orphaned:
        parts.append(
            f"{orphaned} trial(s) the stopped run was running, to record Killed and give back (a trial of a killed run may still be running: "
            f"its result will not be recorded; a local trial's processes are listed by grep -lza '^KFP_TUNE_EXPERIMENT={state.name}$' /proc/[0-9]*/environ)"
        )
    if len(unfinished) - len(started):
        parts.append(f"{len(unfinished) - len(started)} trial(s) made and not started yet, to start")
    spec = state.experiment.spec
    if spec.max_trial_count is not None:
        parts.append(f"{max(0, spec.max_trial_count - (state.budget_used - orphaned))} new trial(s) left of maxTrialCount {spec.max_trial_count}")
    return f"resuming experiment {state.name}: " + ", ".join(parts)
