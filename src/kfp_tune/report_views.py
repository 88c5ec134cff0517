"""The HTML report's views beyond the objective and the per-parameter scatters: parallel
coordinates, each trial's objective over its reports, parameter importance and the trials over
time (a row for each trial running at once); and the one number format the report and the
Markdown table share.

Each view is a matplotlib figure embedded as a PNG (the page stays one file with no outside
references, which is what the KFP UI shows), or a one-line note saying why it is empty. A PNG's
size does not grow with the trials, so the page stays small at a thousand trials.

Parameter importance needs scikit-learn (it comes with scikit-optimize, and is in the test
extra): without it the page says so in place of that plot, and the rest still renders.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import html
import io
import math
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kfp_tune.core.nas_values import shown_assignment
from kfp_tune.core.space import LOG_DISTRIBUTIONS
from kfp_tune.core.vocabulary import TrialStatus

if TYPE_CHECKING:
    from matplotlib.typing import LineStyleType

    from kfp_tune.core.spec import ParameterSpec
    from kfp_tune.core.state import TrialState
    from kfp_tune.reports import ExperimentReport

SIGNIFICANT_DIGITS = 4
"""The fewest digits a number in the report is shown with: enough to compare trials, few enough to read."""
MAX_SIGNIFICANT_DIGITS = 12
"""The most: a column's values still alike at 12 digits are shown alike (a double carries about 16)."""
TRIALS_DIGITS = 6
"""The fewest digits ``kfp-tune trials`` shows a metric with: a terminal table, read closely."""
MAX_AXES = 12
"""Parameters drawn as axes of the parallel coordinates (the first ones in the spec)."""
MAX_CURVE_POINTS = 400
"""Points drawn per curve; a longer one is thinned evenly (its last value always kept)."""
MIN_IMPORTANCE_TRIALS = 10
"""Trials with an objective needed before importance is estimated: fewer say nothing about it."""
IMPORTANCE_SEED = 0
"""The forest and the shuffles are seeded: the same trials always give the same importance."""
LOG_SPAN = 100.0
"""A positive range this many times wide (two decades) or wider is drawn on a log scale,
whatever its distribution: on a linear one its lower decades are squeezed into one corner."""

@dataclass(frozen=True)
class StatusLook:
    """How a trial status is drawn. The colour is at least 3:1 against the white page (WCAG
    1.4.11), and colour is never the only cue (WCAG 1.4.1): each status has its own hatch for its
    bars on the timeline and its own dashes for its lines among the curves, both in the legends."""

    colour: str
    hatch: str
    """Matplotlib's hatch pattern, drawn in white over the colour ("": solid)."""
    dashes: LineStyleType
    """Matplotlib's line style."""


STATUS_LOOKS: dict[str, StatusLook] = {
    # one for each of Katib's trial conditions (pkg/apis/controller/trials/v1beta1/trial_types.go,
    # TrialConditionType), in the order the legends list them
    TrialStatus.SUCCEEDED.value: StatusLook("#117733", "", "solid"),
    TrialStatus.FAILED.value: StatusLook("#cc3311", "xx", "dotted"),
    TrialStatus.EARLY_STOPPED.value: StatusLook("#aa7744", "\\\\", "dashed"),
    TrialStatus.KILLED.value: StatusLook("#882255", "--", "dashdot"),
    TrialStatus.METRICS_UNAVAILABLE.value: StatusLook("#666666", "++", (0, (1, 1, 1, 1, 4, 1))),
    TrialStatus.RUNNING.value: StatusLook("#0077bb", "//", (0, (6, 2))),
    TrialStatus.CREATED.value: StatusLook("#009988", "oo", (0, (1, 3))),
}
OBJECTIVE_COLOURS = "viridis"
"""The parallel coordinates' colours, from the best trial's (its dark end) to the worst's."""
OBJECTIVE_COLOURS_END = 0.4
"""How far along :data:`OBJECTIVE_COLOURS` the worst trial's colour is: viridis' light end
(#fde725) is 1.26:1 on white, unseen; up to here each line, drawn at 0.8 opacity, stays 3:1 or
more against the page (WCAG 1.4.11)."""
OTHER_STATUS_LOOK = StatusLook("#767676", "..", (0, (2, 2)))
"""A status none of the above (a record from a newer kfp-tune)."""
SILENT_HATCH = ".."
"""Added to a running trial's hatch when its run has not been heard from lately (:data:`LAST_HEARD`)."""
BEST_COLOUR = "#000000"


def format_number(value: float, digits: int = SIGNIFICANT_DIGITS) -> str:
    """A number with ``digits`` significant digits (``0.008895306923057273`` -> ``0.008895`` at 4);
    a number that, rounded to those digits, is from ``10**digits`` to below a billion is written
    out whole (12345.6 -> ``12346``) rather than as ``1.235e+04``. Decided on the value as
    rounded, so near-equal values read alike: 9999.7 is ``10000`` as 10000 is (not ``1e+04``),
    999999999.6 and the whole number 999999999 are ``1e+09`` as 1e9 is."""
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    text = f"{value:.{digits}g}"
    if 10**digits <= abs(float(text)) < 1e9:
        return str(round(value))
    return "0" if text == "-0" else text


def column_digits(values: Iterable[float], least: int = SIGNIFICANT_DIGITS) -> int:
    """The digits a column of numbers is shown with (a table column, an axis's two ends, the
    numbers an alt text names): the fewest, from ``least`` to :data:`MAX_SIGNIFICANT_DIGITS`, that
    tell apart every pair of its values that 12 digits tell apart (0.98761 and 0.98764 are not
    both ``0.9876``; a loss of 1e9 plus a few thousand is not ``1e+09`` on every row). Values
    alike at 12 digits too (0.1 + 0.2 and 0.3) stay alike without taking the column to 12 digits.
    The report and ``kfp-tune trials`` both use it, ``trials`` with at least the 6 digits it
    always showed (:data:`TRIALS_DIGITS`)."""
    distinct = {value for value in values if math.isfinite(value)}
    apart = len({format_number(value, MAX_SIGNIFICANT_DIGITS) for value in distinct})
    for digits in range(least, MAX_SIGNIFICANT_DIGITS):
        if len({format_number(value, digits) for value in distinct}) == apart:
            return digits
    return MAX_SIGNIFICANT_DIGITS


def format_parameter(parameter_type: str | None, text: str, digits: int = SIGNIFICANT_DIGITS) -> str:
    """A parameter value as the report shows it: a double with ``digits`` significant digits (its
    column's, :func:`column_digits`), any other value (an int, a choice, the user's own text) as
    it was assigned."""
    if parameter_type != "double":
        return text
    try:
        return format_number(float(text), digits)
    except ValueError:
        return text


def double_digits(report: ExperimentReport) -> dict[str, int]:
    """Each double parameter's column digits (:func:`column_digits`) over the report's trials."""
    digits = {}
    for parameter in report.state.experiment.spec.parameters:
        if parameter.parameter_type == "double":
            values = (_number_or_none(t.assignment.get(parameter.name, "")) for t in report.state.trials)
            digits[parameter.name] = column_digits(v for v in values if v is not None)
    return digits


def parameter_text(report: ExperimentReport, trial: TrialState, name: str) -> str:
    """The trial's value of parameter ``name`` as the report writes it, in its table and its alt
    texts alike (:func:`format_parameter`, a double with its column's digits; an enas architecture
    in words, :func:`~kfp_tune.core.nas_values.shown_assignment`); "" when it has none."""
    return format_parameter(report.parameter_types.get(name), shown_assignment(trial.assignment).get(name, ""), report.parameter_digits.get(name, SIGNIFICANT_DIGITS))


def parameter_texts(report: ExperimentReport, trial: TrialState) -> list[str]:
    """The trial's values of the report's parameters, in their order, formatted (not escaped)."""
    return [parameter_text(report, trial, name) for name in report.parameter_names]


MISSING_GLYPH_WARNING = r"Glyph \d+ .*missing from "
"""The start of matplotlib's UserWarning for a character its font has no glyph for ("Glyph 20013
(CJK UNIFIED IDEOGRAPH-4E2D) missing from font(s) DejaVu Sans."; before 3.6 "... from current font.")."""


@contextlib.contextmanager
def drawing_users_text() -> Iterator[None]:
    """Drawing a figure of the user's names and values, as they are: no mathtext (a categorical
    value ``${A}_${B}`` or a metric named ``lr_$1_$2`` failed the report, and decide-stop with it,
    with matplotlib's ParseSyntaxException; ``$HOME/$USER`` was drawn as italic math), and
    matplotlib's warning of a glyph its font lacks left unsaid (a report of a Chinese or emoji
    value printed one per character per figure: the plot shows a box, the page's table the value
    itself). matplotlib reads ``text.parse_math`` when a text is made, so this wraps every
    function that makes or lays out a figure (as a decorator); the process's rcParams and warning
    filters are as they were after it."""
    import matplotlib

    with warnings.catch_warnings(), matplotlib.rc_context({"text.parse_math": False}):
        warnings.filterwarnings("ignore", message=MISSING_GLYPH_WARNING, category=UserWarning)
        yield


@drawing_users_text()
def figure_png(figure: Any) -> str:
    """The figure as a base64 PNG, for a ``data:`` URI."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _scored(report: ExperimentReport) -> list[tuple[TrialState, float]]:
    """Trials with a finite objective, in creation order."""
    out = []
    for trial in report.state.trials:
        value = report.state.objective_value(trial)
        if value is not None and math.isfinite(value):
            out.append((trial, value))
    return out


def _number_or_none(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class _Axis:
    """How one parameter's values map onto [0, 1] along a parallel-coordinates axis."""

    low: float
    high: float
    log: bool
    choices: tuple[str, ...] = ()

    def position(self, text: str) -> float:
        if self.choices:
            if len(self.choices) == 1:
                return 0.5
            index = self.choices.index(text) if text in self.choices else len(self.choices) - 1
            return index / (len(self.choices) - 1)
        value = _number_or_none(text)
        if value is None:
            return 0.5
        return self.fraction(value)

    def fraction(self, value: float) -> float:
        low, high = self.low, self.high
        if self.log and value > 0:
            value, low, high = math.log10(value), math.log10(low), math.log10(high)
        if high <= low:
            return 0.5
        return min(1.0, max(0.0, (value - low) / (high - low)))


def log_scaled(low: float, high: float, distribution: str | None) -> bool:
    """Whether a number parameter's axis is logarithmic, in every view of the report: a positive
    range drawn log-uniformly or log-normally, or one spanning LOG_SPAN or more."""
    return 0 < low < high and (distribution in LOG_DISTRIBUTIONS or high / low >= LOG_SPAN)


def values_log_scaled(values: Iterable[float]) -> bool:
    """Whether an objective's values are drawn on a log axis, in every plot of it: the finite ones
    all positive and spanning LOG_SPAN or more, as a number parameter's range (a loss from 1e3
    down to 0.1: on a linear axis every good trial lies flat on its floor)."""
    finite = [v for v in values if math.isfinite(v)]
    return bool(finite) and log_scaled(min(finite), max(finite), None)


def log_axis(axes: Any, which: str, low: float, high: float) -> None:
    """``axes``' x or y axis (``which``) on a log scale, labelled in plain numbers ("1e-03", not
    matplotlib's 10^-3 in mathtext, which is parsed per label and took a third of the report's
    time): at each decade only from two decades on (minor labels overlapped), with some minor
    ticks labelled below that (too few decades otherwise)."""
    getattr(axes, f"set_{which}scale")("log")
    log_labels(getattr(axes, f"{which}axis"), low, high)


def log_labels(axis: Any, low: float, high: float) -> None:
    """A log axis's labels (:func:`log_axis`), for one already log (a colour bar's)."""
    from matplotlib.ticker import LogFormatter, NullFormatter

    wide = high / low >= LOG_SPAN
    axis.set_major_formatter(LogFormatter(labelOnlyBase=wide))
    axis.set_minor_formatter(NullFormatter() if wide else LogFormatter(labelOnlyBase=False))


def numeric_parameter(parameter: ParameterSpec) -> bool:
    """Whether a parameter is drawn as a number, in every view of the report: a double, an int,
    or a discrete whose listed values are all numbers (Katib's ``discrete`` is a list of numbers);
    a categorical stays a choice, digits or not."""
    if parameter.parameter_type in ("double", "int"):
        return True
    values = parameter.feasible_space.list or []
    return parameter.parameter_type == "discrete" and bool(values) and all(_number_or_none(str(v)) is not None for v in values)


def number_bounds(parameter: ParameterSpec, seen: list[str]) -> tuple[float, float]:
    """A number parameter's range: the feasible space's bounds (a discrete's smallest and largest
    value), else those of the values seen."""
    space = parameter.feasible_space
    if parameter.parameter_type == "discrete" and space.list:
        listed = [float(v) for v in space.list]
        return min(listed), max(listed)
    numbers = [v for v in (_number_or_none(t) for t in seen) if v is not None]
    low = float(space.min) if space.min is not None else min(numbers, default=0.0)
    high = float(space.max) if space.max is not None else max(numbers, default=1.0)
    return low, high


def _parameter_axis(parameter: ParameterSpec, seen: list[str]) -> _Axis:
    """Numbers (:func:`numeric_parameter`) between their bounds, on a log scale where
    :func:`log_scaled` says; choices spaced evenly in the spec's order."""
    space = parameter.feasible_space
    if numeric_parameter(parameter):
        low, high = number_bounds(parameter, seen)
        return _Axis(low, high, log_scaled(low, high, space.distribution))
    choices = [str(c) for c in (space.list or [])] or sorted(set(seen))
    return _Axis(0.0, 1.0, False, tuple(choices))


def _short(text: str, width: int = 12) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


OBJECTIVE_LABEL_CHARS = 32
"""The most characters of a line of the objective's y label in the objective and curves plots:
their value axis's height (the objective plot's above its no-objective strip) at matplotlib's
10-point label; a 50-character name ran past both ends of the axis."""


COLOURBAR_LABEL_CHARS = 40
"""The same for the parallel coordinates' colour bar, labelled in 8 points."""


def objective_label(report: ExperimentReport, width: int = OBJECTIVE_LABEL_CHARS) -> str:
    """The objective's name and which way is better, for a plot's axis, so a plot copied out of
    the page still says it: on one line where both fit in ``width`` characters, else the name cut
    to ``width`` and the direction on a line of its own."""
    whole = f"{report.objective} ({report.better})"
    return whole if len(whole) <= width else f"{_short(report.objective, width)}\n({report.better})"


NAME_SEPARATORS = "./"
"""Where a shortened name may start: after a dot or a slash (``encoder.layer_10.attention``)."""


def _common_start(a: str, b: str) -> int:
    """How many characters ``a`` and ``b`` begin with alike."""
    return next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def distinct_short_names(names: list[str], width: int) -> list[str]:
    """The names at most ``width`` characters each and still told apart: cut at the end where
    that keeps them apart; else each from the last dot or slash before where it differs from the
    name most like it (``…layer_10.atten…``, not ``encoder.layer_1…`` for layer_1, layer_10 and
    layer_11 alike); else their ends; a name still alike another is left whole."""
    cut = [_short(name, width) for name in names]
    if len(set(cut)) == len(cut):
        return cut
    differing = []
    for name in names:
        if len(name) <= width:
            differing.append(name)
            continue
        alike = max((_common_start(name, other) for other in names if other != name), default=0)
        start = max(name.rfind(separator, 0, alike) for separator in NAME_SEPARATORS) + 1
        differing.append(_short(("…" if start else "") + name[start:], width))
    if len(set(differing)) == len(differing):
        return differing
    ends = [name if len(name) <= width else "…" + name[1 - width :] for name in names]
    if len(set(ends)) == len(ends):
        return ends
    return [short if differing.count(short) == 1 else name for short, name in zip(differing, names, strict=True)]


def left_out_note(report: ExperimentReport, shown: int) -> str | None:
    """The parameters a plot of the first ``shown`` leaves out, by name; None when it shows all."""
    names = [p.name for p in report.state.experiment.spec.parameters]
    return _left_out(names, shown, f"plotted (the first {shown} in the spec's order)")


def _left_out(names: list[str], shown: int, which: str) -> str | None:
    """The note of a plot that shows the first ``shown`` of ``names`` (``which`` says which they
    are), naming the others; None when it shows all."""
    if len(names) <= shown:
        return None
    return f"{shown} of {len(names)} parameters {which}; left out: {', '.join(names[shown:])}; all are in the trial table."


def objective_colour_map(minimize: bool) -> Any:
    """The colours of the objective's range, low to high: the better end dark, the worse end
    still 3:1 or more on white (:data:`OBJECTIVE_COLOURS_END`)."""
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    stops = [OBJECTIVE_COLOURS_END * k / 255 for k in range(256)]
    colours = colormaps[OBJECTIVE_COLOURS](stops if minimize else stops[::-1])
    return ListedColormap(colours, name=f"{OBJECTIVE_COLOURS}-to-{OBJECTIVE_COLOURS_END}")


@drawing_users_text()
def parallel_coordinates_plot(report: ExperimentReport) -> Any | None:
    """One line per trial with an objective across an axis per parameter and the objective,
    coloured by the objective (the better, the darker), the best trial in black on top. None
    without such a trial."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import LineCollection
    from matplotlib.colors import LogNorm, Normalize
    from matplotlib.figure import Figure

    scored = _scored(report)
    parameters = report.state.experiment.spec.parameters[:MAX_AXES]
    if not scored or not parameters:
        return None
    axes_of = [_parameter_axis(p, [t.assignment.get(p.name, "") for t, _ in scored]) for p in parameters]
    values = [v for _, v in scored]
    objective_axis = _Axis(min(values), max(values), report.objective_log)
    width = len(parameters) + 1
    figure = Figure(figsize=(max(6.0, 1.3 * width + 1.5), 4.2))
    axes = figure.add_subplot()
    xs = list(range(width))

    def line(trial: TrialState, value: float) -> list[tuple[float, float]]:
        ys = [axis.position(trial.assignment.get(p.name, "")) for axis, p in zip(axes_of, parameters, strict=True)]
        return list(zip(xs, [*ys, objective_axis.fraction(value)], strict=True))

    # the better trials drawn last, so they are on top where lines cross
    ordered = sorted(scored, key=lambda tv: -tv[1] if report.minimize else tv[1])
    colour_map = objective_colour_map(report.minimize)
    low, high = min(values), max(values)
    # one value (one trial, or all alike): a narrow range around it, labelled with the value
    # alone; Normalize(v, v + 1) labelled an accuracy of 0.2167 as running to 1.2167
    spread = 0.0 if high > low else (abs(low) * 0.01 or 0.01)
    norm = LogNorm(low, high) if report.objective_log else Normalize(low - spread, high + spread)  # as the objective's axis
    alpha = 0.8 if len(scored) <= 50 else 0.35
    lines = LineCollection([line(t, v) for t, v in ordered], colors=[colour_map(norm(v)) for _, v in ordered], linewidths=0.9, alpha=alpha)
    lines.set_gid("trials")
    axes.add_collection(lines)
    best = report.best_name
    for trial, value in scored:
        if trial.name == best:
            bx, by = zip(*line(trial, value), strict=True)
            axes.plot(bx, by, color=BEST_COLOUR, linewidth=2.2, gid="best", label=f"best: {_short(trial.name, 40)}", zorder=4)
            axes.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    for x, axis in zip(xs, [*axes_of, objective_axis], strict=True):
        # the objective's ends as the table and the alt text write them; a parameter's two ends apart
        digits = report.objective_digits if axis is objective_axis else column_digits([axis.low, axis.high])
        axes.axvline(x, color="#444444", linewidth=0.8, zorder=1)
        if axis.choices:
            if len(axis.choices) <= 10:
                for choice in axis.choices:
                    axes.text(x + 0.04, axis.position(choice), _short(choice), fontsize=7, va="center")
        elif axis.high <= axis.low:  # one value, drawn in the middle (Axis.fraction): labelled there, once
            axes.text(x + 0.04, 0.5, format_number(axis.low, digits), fontsize=7, va="center")
        else:
            axes.text(x + 0.04, 0.0, format_number(axis.low, digits), fontsize=7, va="top")
            axes.text(x + 0.04, 1.0, format_number(axis.high, digits), fontsize=7, va="bottom")
    objective_labels = [text for text in axes.texts if text.get_position()[0] > xs[-1]]
    axes.set_xticks(xs)
    labels = distinct_short_names([p.name for p in parameters] + [report.objective], 16)
    axes.set_xticklabels(labels, rotation=20 if width > 5 else 0, fontsize=8)
    axes.set_yticks([])
    axes.set_xlim(-0.2, width - 0.6)
    axes.set_ylim(-0.08, 1.08)
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    colourbar = figure.colorbar(ScalarMappable(norm=norm, cmap=colour_map), ax=axes, pad=0.01, fraction=0.03)
    colourbar.set_label(objective_label(report, COLOURBAR_LABEL_CHARS), fontsize=8)
    if spread:
        colourbar.set_ticks([low], labels=[report.format_objective(low)])
    elif report.objective_log:
        log_labels(colourbar.ax.yaxis, low, high)
    colourbar.ax.tick_params(labelsize=7)
    _room_right_of_the_last_axis(figure, axes, objective_labels)
    return figure


def _room_right_of_the_last_axis(figure: Any, axes: Any, labels: list[Any]) -> None:
    """Widen the x range right of the objective's axis so that its labels, written right of it,
    end before the colour bar: the fixed room there (0.36 of an axis' spacing) held 9 characters
    of 7-point text with three parameters, and a lower end of ``0.000188824`` (QA scale, session 37,
    5,000 trials) ran 10 px under the colour bar. The text's share of the axes' width does not
    depend on the dpi."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not labels:
        return
    renderer = FigureCanvasAgg(figure).get_renderer()
    share = max(label.get_window_extent(renderer).width for label in labels) / axes.get_window_extent(renderer).width
    share = min(share * 1.05, 0.5)  # a little air before the colour bar
    left, right = axes.get_xlim()
    start = labels[0].get_position()[0]
    # (right - start) / (right - left) >= share, for the new right end
    needed = (start - share * left) / (1 - share)
    if needed > right:
        axes.set_xlim(left, needed)


def _thin(curve: tuple[float, ...]) -> list[tuple[float, float]]:
    """(report number from 1, value), at most MAX_CURVE_POINTS of them, the last one kept."""
    n = len(curve)
    picks = range(n) if n <= MAX_CURVE_POINTS else sorted({round(i * (n - 1) / (MAX_CURVE_POINTS - 1)) for i in range(MAX_CURVE_POINTS)})
    return [(float(i + 1), curve[i]) for i in picks if math.isfinite(curve[i])]


@drawing_users_text()
def curves_plot(report: ExperimentReport) -> Any | None:
    """Each trial's objective in the order it reported it (its intermediate values), one line per
    trial that reported it at least twice, coloured and dashed by status, the best trial in black. None
    when no trial did."""
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    curves = [(t, _thin(t.result.curve)) for t in report.state.trials if t.result is not None and len(t.result.curve) >= 2]
    curves = [(t, c) for t, c in curves if len(c) >= 2]
    if not curves:
        return None
    figure = Figure(figsize=(7, 3.8))
    axes = figure.add_subplot()
    alpha = 0.8 if len(curves) <= 50 else 0.4
    looks = [status_look(str(t.status)) for t, _ in curves]
    lines = LineCollection([c for _, c in curves], colors=[k.colour for k in looks], linestyles=[k.dashes for k in looks], linewidths=0.9, alpha=alpha)
    lines.set_gid("curves")
    axes.add_collection(lines)
    drawn_values = [y for _, curve in curves for _, y in curve]
    if values_log_scaled(drawn_values):
        log_axis(axes, "y", min(drawn_values), max(drawn_values))
    axes.autoscale_view()
    handles = [Line2D([], [], color=status_look(s).colour, linestyle=status_look(s).dashes, label=s) for s in _statuses(t for t, _ in curves)]
    best = report.best_name
    for trial, curve in curves:
        if trial.name == best:
            bx, by = zip(*curve, strict=True)
            (drawn,) = axes.plot(bx, by, color=BEST_COLOUR, linewidth=2.2, gid="best", label=f"best: {_short(trial.name, 40)}", zorder=4)
            handles.append(drawn)
    axes.legend(handles=handles, loc="best", fontsize=8)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # reports are counted: no tick at 1.5
    axes.set_xlabel("report (in the order the trial reported the objective)")
    axes.set_ylabel(objective_label(report))
    axes.grid(alpha=0.3)
    return figure


def status_look(status: str) -> StatusLook:
    return STATUS_LOOKS.get(status, OTHER_STATUS_LOOK)


def _statuses(trials: Any) -> list[str]:
    """The statuses present, in STATUS_LOOKS' order (then any other)."""
    present = {str(t.status) for t in trials}
    return [s for s in STATUS_LOOKS if s in present] + sorted(present - set(STATUS_LOOKS))


@dataclass(frozen=True)
class Importance:
    parameter: str
    mean: float
    """How much the forest's R² drops, on average, when this parameter's values are shuffled."""
    spread: float
    """The standard deviation of that drop over the shuffles."""


def _encoded(parameter: ParameterSpec, texts: list[str]) -> list[float]:
    """A parameter's values as numbers for the forest: numbers as they are, a choice as its
    position in the spec's list (a forest splits on either)."""
    if parameter.parameter_type in ("double", "int", "discrete"):
        numbers = [_number_or_none(t) for t in texts]
        if all(n is not None for n in numbers):
            return [float(n) for n in numbers if n is not None]
    choices = [str(c) for c in (parameter.feasible_space.list or [])] or sorted(set(texts))
    return [float(choices.index(t)) if t in choices else float(len(choices)) for t in texts]


def parameter_importance(report: ExperimentReport) -> list[Importance]:
    """Permutation importance (scikit-learn) of each parameter for a random forest fitted to the
    trials' objective, most important first; empty with fewer than MIN_IMPORTANCE_TRIALS
    scored trials. Raises ImportError without scikit-learn (when there are enough trials: the
    import alone takes 2-3 s, paid at every checkpoint of a pipeline run otherwise)."""
    scored = _scored(report)
    parameters = report.state.experiment.spec.parameters
    if len(scored) < MIN_IMPORTANCE_TRIALS or not parameters:
        return []
    import numpy as np
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.inspection import permutation_importance

    columns = [_encoded(p, [t.assignment.get(p.name, "") for t, _ in scored]) for p in parameters]
    features = np.array(columns, dtype=float).T
    target = np.array([v for _, v in scored], dtype=float)
    if float(np.ptp(target)) == 0.0:
        return [Importance(p.name, 0.0, 0.0) for p in parameters]
    forest = RandomForestRegressor(n_estimators=100, min_samples_leaf=2, random_state=IMPORTANCE_SEED, n_jobs=1)
    forest.fit(features, target)
    result = permutation_importance(forest, features, target, n_repeats=10, random_state=IMPORTANCE_SEED, n_jobs=1)
    found = [Importance(p.name, float(m), float(s)) for p, m, s in zip(parameters, result.importances_mean, result.importances_std, strict=True)]
    return sorted(found, key=lambda i: -i.mean)


@drawing_users_text()
def importance_plot(importances: list[Importance]) -> Any:
    """A bar per parameter, the most important on top, with the spread over the shuffles."""
    from matplotlib.figure import Figure

    shown = importances[:MAX_AXES][::-1]
    figure = Figure(figsize=(6, max(1.6, 0.35 * len(shown) + 0.9)))
    axes = figure.add_subplot()
    bars = axes.barh(range(len(shown)), [i.mean for i in shown], xerr=[i.spread for i in shown], color="#4477aa", capsize=2)
    for patch in bars:
        patch.set_gid("importance")
    axes.set_yticks(range(len(shown)))
    axes.set_yticklabels(distinct_short_names([i.parameter for i in shown], 24), fontsize=8)  # layer_1 and layer_10 apart
    for k, item in enumerate(shown):
        axes.text(max(item.mean + item.spread, 0.0), k, " " + format_number(item.mean), va="center", fontsize=7)
    axes.set_xlabel("drop in R² when the parameter's values are shuffled", fontsize=8)
    axes.axvline(0, color="#444444", linewidth=0.8)
    axes.tick_params(labelsize=7)
    return figure


@dataclass(frozen=True)
class SlotBar:
    """One trial on the timeline: the slot it is drawn in and when it ran (seconds since epoch)."""

    trial: str
    slot: int
    start: float
    end: float
    status: str
    running: str = ""
    """For a trial still running, what its bar's end is: :data:`UNTIL_NOW` or :data:`LAST_HEARD`."""


UNTIL_NOW = "until now"
"""A running trial whose run was heard from within the trial TTL: drawn to the report's time."""
LAST_HEARD = "silent: to its last sign of life"
"""A running trial whose run has not been heard from for the trial TTL (the run may be gone):
drawn to the last time any record tells."""


def _epoch(text: str) -> float | None:
    """A record's ``time`` (``2026-11-30T12:00:00Z``) in seconds since the epoch, or None."""
    if not text:
        return None
    try:
        moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    return moment.timestamp()


def slot_timeline(report: ExperimentReport) -> list[SlotBar]:
    """Every started trial with when it ran (from its start to the end of its run: both to the
    sub-second in the records that keep it) and a slot. The records do not say which slot ran a
    trial, so slots are derived: trials in the order they started, each in the lowest-numbered
    slot free by then (as few slots as the overlaps need).

    A trial still running is drawn to the report's time (``ExperimentReport.made_at``) while its
    run is alive: its last heartbeat (or its start) is younger than the trial TTL, the rule by
    which a launch-trial retry judges the attempt it follows alive (``core.claims``; a run beats
    for each trial every quarter of it). Otherwise (a run killed, its trials left Running) it is
    drawn to the latest time any record tells, heartbeats included, not stretched to whenever
    the report is read."""
    from kfp_tune.core.claims import trial_ttl_from_env

    ttl = trial_ttl_from_env()
    spans: list[tuple[float, int, TrialState, float | None]] = []
    latest = 0.0
    for trial in report.state.trials:
        if trial.started is None:
            continue
        start = trial.started.at if trial.started.at > 0 else _epoch(trial.started.time)
        if start is None:
            continue
        # when its run ended, to the sub-second where the record keeps it (the result's time is
        # whole seconds and later: after the metrics were collected)
        end = trial.ended.at if trial.ended is not None and trial.ended.at > 0 else None
        if end is None and trial.result is not None:
            end = _epoch(trial.result.time)
        if end is None and trial.ended is not None:
            end = _epoch(trial.ended.time)
        latest = max(latest, start, end or 0.0, report.heartbeats.get(trial.name, 0.0))
        spans.append((start, trial.index, trial, end))
    spans.sort(key=lambda s: (s[0], s[1]))
    slot_ends: list[float] = []
    bars = []
    for start, _, trial, end in spans:
        running = ""
        if end is not None:
            finish = max(start, end)
        elif report.made_at - max(start, report.heartbeats.get(trial.name, 0.0)) < ttl:
            finish, running = max(start, latest, report.made_at), UNTIL_NOW
        else:
            finish, running = max(start, latest), LAST_HEARD
        free = [k for k, busy_until in enumerate(slot_ends) if busy_until <= start]
        slot = free[0] if free else len(slot_ends)
        if slot == len(slot_ends):
            slot_ends.append(finish)
        slot_ends[slot] = finish
        bars.append(SlotBar(trial.name, slot, start, finish, str(trial.status), running))
    return bars


TIMELINE_ROW = "row (one of the trials running at once)"
"""The timeline's rows, in Katib's terms: Katib runs up to parallelTrialCount trials at once
(pkg/apis/controller/experiments/v1beta1/experiment_types.go, ExperimentSpec.ParallelTrialCount)."""


def _bar_kinds(bars: list[SlotBar]) -> list[tuple[str, str]]:
    """(status, running) of the bars, each once, in the legend's order."""
    return list(dict.fromkeys((status, b.running) for status in _statuses(bars) for b in bars if b.status == status))


def _bar_hatch(status: str, running: str) -> str:
    return status_look(status).hatch + (SILENT_HATCH if running == LAST_HEARD else "")


def _bar_label(status: str, running: str) -> str:
    return f"{status} ({running})" if running else status


@drawing_users_text()
def timeline_plot(bars: list[SlotBar]) -> Any:
    """A row per trial running at once, a bar per trial from its start to its end, coloured and
    hatched by its status (a running trial not heard from lately dotted as well)."""
    from matplotlib.figure import Figure

    origin = min(b.start for b in bars)
    span = max(b.end for b in bars) - origin
    unit, scale = _time_unit(span)
    slots = max(b.slot for b in bars) + 1
    figure = Figure(figsize=(7, min(8.0, 1.4 + 0.3 * slots)))
    axes = figure.add_subplot()
    least = max(span, 1.0) / 400 / scale  # a trial shorter than the clock's second still shows
    for status, running in _bar_kinds(bars):
        mine = [b for b in bars if b.status == status and b.running == running]
        container = axes.barh(  # the hatch, in white (the edge's colour), is the status' cue besides its colour
            [b.slot + 1 for b in mine], [max((b.end - b.start) / scale, least) for b in mine],
            left=[(b.start - origin) / scale for b in mine], height=0.7, color=status_look(status).colour,
            edgecolor="white", linewidth=0.3, label=_bar_label(status, running), hatch=_bar_hatch(status, running) or None,
        )
        for patch in container:
            patch.set_gid(f"slot-bar-{status}")
    axes.set_xlabel(f"time since the first trial started ({unit})")
    axes.set_ylabel(TIMELINE_ROW, fontsize=8)
    axes.set_ylim(0.4, slots + 0.6)
    if slots <= 20:
        axes.set_yticks(range(1, slots + 1))
    axes.invert_yaxis()
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, handleheight=1.6, handlelength=2.4)
    axes.grid(axis="x", alpha=0.3)
    return figure


def _time_unit(span: float) -> tuple[str, float]:
    """The unit a span of seconds reads best in: hours, minutes or seconds, and its length."""
    return ("h", 3600.0) if span > 7200 else ("min", 60.0) if span > 120 else ("s", 1.0)


def timeline_alt(report: ExperimentReport, bars: list[SlotBar]) -> str:
    """The timeline in words: how many trials over how long, how many at once, and their statuses."""
    span = max(b.end for b in bars) - min(b.start for b in bars)
    unit, scale = _time_unit(span)
    rows = max(b.slot for b in bars) + 1
    parallel = report.state.experiment.spec.parallel_trial_count
    counts = ", ".join(f"{sum(1 for b in bars if (b.status, b.running) == kind)} {_bar_label(*kind)}" for kind in _bar_kinds(bars))
    return (
        f"{len(bars)} trial(s) over {format_number(span / scale)} {unit}, at most {rows} running at once"
        + (f" (parallelTrialCount {parallel})" if parallel is not None else "")
        + f": {counts}."
    )


def _best_words(report: ExperimentReport, trial: TrialState, value: float, parameters: list[ParameterSpec]) -> str:
    """The best trial's name, parameter values and objective, in words."""
    values = ", ".join(f"{p.name} {parameter_text(report, trial, p.name)}" for p in parameters)
    return f"the best, {trial.name}, in black: " + (f"{values}, " if values else "") + f"{report.objective} {report.format_objective(value)}"


def parallel_coordinates_alt(report: ExperimentReport) -> str:
    """The parallel coordinates in words: the trials drawn, the axes, and the best trial's line."""
    scored = _scored(report)
    parameters = report.state.experiment.spec.parameters[:MAX_AXES]
    values = [v for _, v in scored]
    words = (
        f"{len(scored)} trial(s) with an objective, a line each across the axes {', '.join(p.name for p in parameters)} "
        f"and {report.objective} (from {report.format_objective(min(values))} to {report.format_objective(max(values))})"
    )
    best = next(((t, v) for t, v in scored if t.name == report.best_name), None)
    return words + (f"; {_best_words(report, best[0], best[1], parameters)}." if best else ".")


def curves_alt(report: ExperimentReport) -> str:
    """The curves in words: how many trials, how many reports each, by status, and the best's last value."""
    curves = [t for t in report.state.trials if t.result is not None and len(_thin(t.result.curve)) >= 2]
    lengths = [len(t.result.curve) for t in curves if t.result is not None]
    counts = ", ".join(f"{sum(1 for t in curves if str(t.status) == s)} {s}" for s in _statuses(curves))
    words = f"{report.objective} of {len(curves)} trial(s), {min(lengths)} to {max(lengths)} reports each: {counts}"
    best = next((t for t in curves if t.name == report.best_name), None)
    if best is not None and best.result is not None:
        words += f"; the best, {best.name}, in black, ending at {report.format_objective(best.result.curve[-1])}"
    return words + "."


def importance_left_out_note(importances: list[Importance]) -> str | None:
    """The parameters the importance plot leaves out, past its :data:`MAX_AXES` most important,
    by name; None when it shows all."""
    return _left_out([i.parameter for i in importances], MAX_AXES, "shown, the most important")


def importance_alt(importances: list[Importance]) -> str:
    """The importance bars in words, most important first."""
    shown = importances[:MAX_AXES]
    more = f", and {len(importances) - len(shown)} more" if len(importances) > len(shown) else ""
    return "From the most to the least important: " + ", ".join(f"{i.parameter} {format_number(i.mean)}" for i in shown) + more + "."


@dataclass(frozen=True)
class View:
    """One section of the page: a figure, or a note that says why there is none."""

    title: str
    about: str
    figure: Any | None = None
    note: str = ""
    alt: str = ""
    """What the figure shows, in words: its image's alt text (WCAG 1.1.1), for whoever cannot see it."""


TIMELINE_TITLE = "Trials over time"


def views(report: ExperimentReport) -> list[View]:
    """The four views, in page order."""
    from kfp_tune.core.claims import trial_ttl_from_env

    left_out = left_out_note(report, MAX_AXES)
    out = [
        _view(
            "Parallel coordinates",
            "One line per trial through its parameter values and its objective, coloured by the objective: the better, the darker."
            + (f" {left_out}" if left_out else ""),
            lambda: parallel_coordinates_plot(report),
            "nothing to draw until a trial reports the objective",
            lambda: parallel_coordinates_alt(report),
        ),
        _view(
            "Objective over each trial's reports",
            "The intermediate values of the objective, one line per trial, in the order reported, coloured and dashed by its status.",
            lambda: curves_plot(report),
            "no trial has reported the objective more than once",
            lambda: curves_alt(report),
        ),
    ]
    about = "How much each parameter explains the objective: permutation importance for a random forest fitted to the trials (scikit-learn)."
    try:
        importances = parameter_importance(report)
    except ImportError:
        out.append(View("Parameter importance", about, note="parameter importance needs scikit-learn, which is not installed here"))
    else:
        importance_left_out = importance_left_out_note(importances)
        out.append(
            _view("Parameter importance", about + (f" {importance_left_out}" if importance_left_out else ""), lambda: importance_plot(importances) if importances else None,
                  f"needs at least {MIN_IMPORTANCE_TRIALS} trials with an objective", lambda: importance_alt(importances))
        )
    bars = slot_timeline(report)
    ttl = trial_ttl_from_env()
    out.append(
        _view(
            TIMELINE_TITLE,
            "When each trial ran, from its start to its end, coloured and hatched by its status. Each row holds one "
            "of the trials running at once (at most parallelTrialCount of them): a trial is drawn in the first row "
            "free when it started. A trial still running is drawn until this report's time while its run sends a "
            f"sign of life for it (a heartbeat, every {format_number(ttl / 4)} s); when none came for {format_number(ttl)} s (the trial timeout, "
            "KFP_TUNE_TRIAL_TTL_SECONDS; the run may be gone) it is drawn, dotted, only to the last time kfp-tune "
            "saved anything about the experiment.",
            lambda: timeline_plot(bars) if bars else None,
            "no trial has started yet",
            lambda: timeline_alt(report, bars),
        )
    )
    return out


def _view(title: str, about: str, draw: Callable[[], Any | None], empty: str, alt: Callable[[], str]) -> View:
    figure = draw()
    return View(title, about, figure, alt=alt()) if figure is not None else View(title, about, note=empty)


def views_html(report: ExperimentReport) -> str:
    """The views' sections, for the report's page: a heading, a line on what it shows, then the
    image with what it shows in words as its alt text (or the note)."""
    esc = html.escape
    parts = []
    for view in views(report):
        parts.append(f"<h2>{esc(view.title)}</h2><p class=\"about\">{esc(view.about)}</p>")
        if view.figure is not None:
            parts.append(f'<img alt="{esc(view.alt)}" src="data:image/png;base64,{figure_png(view.figure)}">')
        else:
            parts.append(f'<p class="note">{esc(view.note)}</p>')
    return "".join(parts)
