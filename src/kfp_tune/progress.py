"""Progress while an experiment runs: the store read every so often, for the CLI's progress bar
(or its plain lines, where stderr is no terminal), whichever engine runs the trials (this
process, or a kfp.local subprocess)."""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kfp_tune.core.decision import best_trial
from kfp_tune.core.errors import StoreError, clipped
from kfp_tune.core.interfaces import Store
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import ExperimentView, TrialState
from kfp_tune.core.vocabulary import Comparison, TrialStatus
from kfp_tune.report_views import TRIALS_DIGITS, format_number

OUTCOME_LIMIT = 200
"""At most this many characters of what a trial's line quotes (its metrics, its reason and message)."""


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""C0, DEL and C1 controls; the bidirectional marks, embeddings, overrides and isolates, which
reorder what the terminal shows after them ("Trojan Source"); the line and paragraph separators."""


def visible(text: str) -> str:
    """``text`` for a terminal, its control characters escaped as Python's repr writes them
    (``\\x1b``, ``\\n``, ``\\u202e``): a value (a categorical, a metric's name, a trial's message)
    cannot set the terminal's title, move its cursor, start a line of its own, such as a fake status
    line, or show the text after it reversed.
    ``--json`` and ``kfp-tune logs`` show what was written, as it is."""
    return _CONTROL.sub(lambda found: repr(found.group())[1:-1], text)


def display_width(text: str) -> int:
    """How many terminal columns ``text`` takes: East Asian wide and full-width characters (中文,
    most emoji) two, combining marks and format characters none, others one."""
    return sum(0 if unicodedata.combining(char) or unicodedata.category(char) == "Cf"
               else 2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def table_lines(rows: Sequence[Sequence[object]], encoding: str | None = None) -> list[str]:
    """``rows`` (the header first) as a terminal table: cells :func:`visible` (a value's newline split
    its row), columns padded to their widest cell as the terminal shows it (:func:`display_width`:
    a Chinese value, counted by its characters, pushed its row's later columns out of line).
    ``encoding`` is the one the lines will be written in: a cell it cannot show is measured as
    its backslash escapes, as the CLI's stream writes it (``中文`` as ``\\u4e2d\\u6587``), else it
    was padded for two columns a character and the rest of its row pushed out of line."""
    cells = [[as_written(visible(str(cell)), encoding) for cell in row] for row in rows]
    widths = [max((display_width(row[i]) for row in cells), default=0) for i in range(max(map(len, cells), default=0))]
    return ["  ".join(cell + " " * (width - display_width(cell)) for cell, width in zip(row, widths, strict=False)).rstrip()
            for row in cells]


def as_written(text: str, encoding: str | None) -> str:
    """``text`` as a stream in ``encoding`` with errors="backslashreplace" writes it (the CLI's
    stdout when it is not UTF-8): unchanged where the encoding holds every character."""
    if not encoding:
        return text
    try:
        text.encode(encoding)
        return text
    except UnicodeEncodeError:
        return text.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:  # an encoding Python does not know: measured as it is
        return text


def one_line(text: str, limit: int = OUTCOME_LIMIT) -> str:
    """``text`` on one line (a local trial's message ends with its log's last line), clipped,
    with no control character (:func:`visible`)."""
    return clipped(visible(" ".join(text.split())), limit)


def assignment_text(assignment: Mapping[str, str]) -> str:
    """A trial's parameters as a log line shows them, ``lr=0.01, batch=32`` (Katib's Trial
    ``spec.parameterAssignments``, in the order given)."""
    return one_line(", ".join(f"{name}={value}" for name, value in assignment.items()))


def metrics_text(trial: TrialState, objective: str = "") -> str:
    """A trial's metrics on a progress line: :func:`objective_first`, on one line, clipped."""
    return one_line(objective_first({**trial.metrics, **trial.text_metrics}, objective))


def objective_first(values: Mapping[str, float | str], objective: str) -> str:
    """Metrics as every line that shows a trial's writes them (progress lines, the run's log,
    ``status``'s best trial), the objective first: ``loss=0.12, accuracy=0.9`` (text ones,
    darts' genotype, as written)."""
    names = sorted(values, key=lambda name: name != objective)
    return ", ".join(f"{name}={value_text(values[name])}" for name in names)


STOP_COMPARISONS = {Comparison.GREATER: "greater than", Comparison.LESS: "less than", Comparison.EQUAL: "equal to"}


def stop_rule_said(trial: TrialState) -> str:
    """For an EarlyStopped trial, the rule fixed for it as it started (Katib's
    ``spec.earlyStoppingRules``), as "why was it stopped?" asks it: "rule: loss greater than
    1.125 from report 2" (the value the trial's best so far was compared with, written as a
    metric is, :func:`value_text`: Katib records ``str(float)``, 0.8500000000000001; ``trials
    --json`` keeps that text). "" for any other trial, and for one an older kfp-tune started
    without recording its rule."""
    rules = trial.started.early_stopping_rules if trial.started is not None else None
    if trial.status != TrialStatus.EARLY_STOPPED or not rules:
        return ""
    return "; ".join(f"rule: {r.name} {STOP_COMPARISONS.get(r.comparison, str(r.comparison))} {_rule_value_text(r.value)} from report {r.start_step}"
                     for r in rules)


def _rule_value_text(value: str) -> str:
    """A rule's recorded value as a metric's is written; a text that is no number, as recorded."""
    try:
        return value_text(float(value))
    except ValueError:
        return value


def trial_outcome(trial: TrialState, objective: str = "") -> str:
    """How an ended trial ended, on one line: its status and metrics, and, when it did not
    succeed, the reason and message that say why, as Katib's Trial keeps them on its Failed /
    MetricsUnavailable condition (trial_controller_util.go, ``UpdateTrialStatusCondition``).
    Every line a person reads about an ended trial says it so: the run's log, its plain progress
    lines and the notes above the progress bar. The metrics of a trial whose values are not
    ranked (a Failed one: Katib has no observation of it, ``TrialStatus.ranked``) are left out:
    ``loss=1.05`` beside Failed read as a result; ``kfp-tune trials`` shows them, in parentheses."""
    text = str(trial.status)
    metrics = metrics_text(trial, objective) if trial.status.ranked else ""
    if metrics:
        text += f" {metrics}"
    result = trial.result
    if trial.status != TrialStatus.SUCCEEDED and result is not None and (result.reason or result.message):
        text += f" ({one_line('; '.join(part for part in (': '.join(p for p in (result.reason, result.message) if p), stop_rule_said(trial)) if part))})"
    return text


def told_as_failure(trial: TrialState) -> bool:
    """A trial whose end is news to the person watching: it neither succeeded nor was stopped
    early by the rule, nor given back for an interrupt (which is told on its own)."""
    return trial.is_terminal and trial.status not in (TrialStatus.SUCCEEDED, TrialStatus.EARLY_STOPPED) and not trial.given_back


PLAIN_PROGRESS_SECONDS = 5.0
"""At most one progress line this often: trials that end faster are told together."""

LONGEST_POLL_WAIT = 1.0
"""The longest wait between two looks of :class:`ProgressWatcher` after a slow look (it waits 10
times a look's time, to take about a tenth of a thread), unless the look itself took longer: then
it waits as long as the look took, so the watcher never spends more than half its time looking at
the store the run writes to (a 2 s look waited 1 s: two thirds). While trials end, a plain line
comes every PLAIN_PROGRESS_SECONDS, at most this and a look later. Unbounded, the wait grew with
the experiment: lines 38 s apart at 1,500 trials on S3."""


class ProgressWatcher:
    """Reads the store every so often and reports finished trials, the best trial's metrics and
    the budget as stored (``total``: a budget edited while the run goes is followed by the run,
    and by the bar); drives a progress bar while an engine runs (in this process, or in a
    kfp.local subprocess). ``ended`` holds the trials that ended since the watcher was entered:
    those a resumed or completed experiment had already ended are counted in ``done`` (the
    budget) but are not news, and were told by the run that ran them."""

    def __init__(self, store: Store, experiment: Experiment, update: Callable[[int, dict[str, Any]], None], interval: float = 0.5,
                 clock: Callable[[], float] = time.monotonic):
        self.store, self.experiment, self.update, self.interval, self.clock = store, experiment, update, interval, clock
        self._view: ExperimentView | None = None
        self._ended_before: frozenset[str] = frozenset()
        self._wait = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="progress", daemon=True)

    def __enter__(self) -> ProgressWatcher:
        try:  # what had ended when the run began (the view is the polls' too)
            self._view = ExperimentView(ExperimentRecords(self.store, self.experiment.name), lenient=True)
            self._ended_before = frozenset(t.name for t in self._view.refresh().trials if t.is_terminal)
        except StoreError:  # not created yet (or unreadable): nothing had ended; the first poll makes the view again
            self._view = None
        self._thread.start()
        return self

    @property
    def view(self) -> ExperimentView | None:
        """The experiment as last read (None before it could be read): what a kfp.local run's
        CLI says it stopped when the store is down by then."""
        return self._view

    @property
    def next_wait(self) -> float:
        """Seconds between the last look and the next: ``interval``, more after a slow look, at
        most :data:`LONGEST_POLL_WAIT` or the look's own time, whichever is longer."""
        return self._wait

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.poll()

    def _loop(self) -> None:
        while not self._stop.wait(self._wait):
            self.poll()

    def poll(self) -> None:
        started = self.clock()
        try:
            if self._view is None:
                self._view = ExperimentView(ExperimentRecords(self.store, self.experiment.name), lenient=True)
            state = self._view.refresh_open()  # what is new only: its cost does not grow with the trials ended
        except Exception:  # not created yet, or mid-write on a slow store: try again next tick
            return
        finally:
            # a slow store: look less often rather than compete with the run, but never so seldom
            # that the lines (PLAIN_PROGRESS_SECONDS apart) or the bar stall
            took = self.clock() - started
            self._wait = max(self.interval, min(10 * took, max(LONGEST_POLL_WAIT, took)))  # at most half the time spent looking
        done = sum(1 for t in state.trials if t.is_terminal and not t.given_back)  # what counts towards maxTrialCount
        best = best_trial(state)
        self.update(done, {
            "best": best.metrics if best else {}, "total": state.experiment.spec.max_trial_count,  # an edited budget too
            "ended": [t for t in state.trials if t.is_terminal and t.name not in self._ended_before], "running": sum(1 for t in state.trials if t.status == TrialStatus.RUNNING),
        })




class FailureNotes:
    """Where a progress bar shows (a terminal), the bar stays one line: a trial that did not
    succeed is told once above it with why (``write``: the bar's ``tqdm.write``), e.g.
    ``trial quad-x1 Failed (TrialFailed. Job reason: Error: Trial has failed. Job message: exit code 1: ValueError: boom)``, so a run whose trials
    fail says why while it goes, not only its last failed trial at the end. Fed by
    :class:`ProgressWatcher` (the ``ended`` trials of each update)."""

    def __init__(self, objective: str, write: Callable[[str], None]) -> None:
        self.objective, self.write = objective, write
        self._told: set[str] = set()

    def update(self, done: int, info: dict[str, Any]) -> None:
        for trial in info.get("ended", []):
            if trial.name not in self._told and told_as_failure(trial):
                self._told.add(trial.name)
                self.write(f"trial {trial.name} {trial_outcome(trial, self.objective)}")


class PlainProgress:
    """Progress as plain lines where no bar can show (stderr not a terminal: ``2>file``, nohup,
    CI), where tqdm turns itself off and a run said nothing until it ended: a line per trial
    that ended, or one for the trials that ended within ``every`` seconds of each other, e.g.
    ``trial quad-x1 Succeeded loss=0.12 (5/12 done, 2 running, best loss=0.1)``; in a line for
    several, each that did not succeed also gets a line of its own before it, with its reason
    and message (:func:`trial_outcome`), so a CI log says why each failed. Fed by
    :class:`ProgressWatcher`; leaving it says what is left untold."""

    def __init__(self, objective: str, write: Callable[[str], None], every: float = PLAIN_PROGRESS_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.objective, self.write, self.every, self.clock = objective, write, every, clock
        self._told: set[str] = set()
        self._pending: list[TrialState] = []
        self._last = -float("inf")
        self._where = ""

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()

    def update(self, done: int, info: dict[str, Any]) -> None:
        for trial in info.get("ended", []):
            if trial.name not in self._told and not trial.given_back:  # given back for an interrupt: told on its own, as told_as_failure says
                self._told.add(trial.name)
                self._pending.append(trial)
        best = info["best"].get(self.objective)
        total = info.get("total")
        self._where = (f"({done}/{total} done" if total else f"({done} done") + f", {info.get('running', 0)} running" + (
            f", best {self.objective}={value_text(best)})" if best is not None else ")")
        if self._pending and self.clock() - self._last >= self.every:
            self.flush()

    def flush(self) -> None:
        """The trials that ended and are not told yet, in one line."""
        if not self._pending:
            return
        ended, self._pending = self._pending, []
        self._last = self.clock()
        if len(ended) == 1:
            told = f"trial {ended[0].name} {trial_outcome(ended[0], self.objective)}"
        else:
            for trial in ended:
                if trial.status != TrialStatus.SUCCEEDED:
                    self.write(f"trial {trial.name} {trial_outcome(trial, self.objective)}")
            counts = Counter(str(trial.status) for trial in ended)
            names = ", ".join(trial.name for trial in ended[:3]) + (f" and {len(ended) - 3} more" if len(ended) > 3 else "")
            told = f"{len(ended)} trials ended ({', '.join(f'{n} {status}' for status, n in counts.items())}): {names}"
        self.write(f"{told} {self._where}")


def value_text(value: float | str) -> str:
    """A metric's value on a line: a number as ``kfp-tune trials`` writes it at its least, 6
    significant digits (report_views.format_number: 12345678.9 is 12345679 in both, not
    1.23457e+07 here), a text one as written."""
    return value if isinstance(value, str) else format_number(value, TRIALS_DIGITS)
