"""The file formats Katib's File and TensorFlowEvent collectors read: JSON lines and TensorFlow
event files. Shared by the readers of stored metrics files (:mod:`.files`) and the collector that
follows them while a trial runs (:mod:`.observe`)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from kfp_tune.core.observation import MetricLog, go_float, is_boolean
from kfp_tune.core.spec import Experiment

TEXT_OBJECTIVE_ALGORITHMS = frozenset({"darts"})
"""Algorithms whose objective metric is text, not a number: a DARTS trial reports the
architecture it found (``Best-Genotype=Genotype(normal=[...], ...)``)."""


def text_metrics(experiment: Experiment) -> frozenset[str]:
    """The metrics whose values are kept as text: the objective of an algorithm in
    :data:`TEXT_OBJECTIVE_ALGORITHMS`. Every other metric is a number, and a value that is not
    one is dropped, as before (Katib would store it, and then take it for the best)."""
    spec = experiment.spec
    if spec.algorithm is None or spec.objective is None or spec.algorithm.algorithm_name not in TEXT_OBJECTIVE_ALGORITHMS:
        return frozenset()
    return frozenset({spec.objective.objective_metric_name})


def text_log(name: str, text: str, step: int | None, time_us: int | None = None) -> MetricLog:
    """One value of a text metric (NaN as its number, so no numeric reader counts it)."""
    return MetricLog(name, math.nan, step, text=text, time_us=time_us)


def file_lines(text: str) -> list[str]:
    """A metrics file's lines, split at ``\n`` only, as Katib's File collector splits the file
    (``strings.Split(logs, "\n")``): a ``\r`` (or a form feed, ``\u2028``, which Python's
    ``splitlines`` also splits at) stays in its line, so an anchored ``metricsFormat`` (``$``)
    and the time that starts a line see the whole line, as there."""
    return text.split("\n")


def whole_lines(text: str, ended: bool) -> str:
    """What a collector reads of a trial's output or TEXT file: while the trial runs, the lines
    ended by a newline only, as its last may be half written (``accuracy=0.9`` of
    ``accuracy=0.95``); once it has ended, all of it. Katib's collector tails whole lines
    (cmd/metricscollector/v1beta1/file-metricscollector/main.go, watchMetricsFile)."""
    return text if ended else text[: text.rfind("\n") + 1]


def ended_output(text: str) -> str:
    """A trial's output once it has ended, for a stop test that reads whole lines only: its
    last line is whole now, newline or not."""
    return text + "\n" if text and not text.endswith("\n") else text


_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:Z|([+-])(\d{2}):(\d{2}))")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def rfc3339_microseconds(text: str) -> int | None:
    """An RFC 3339 time (``2024-01-01T00:00:05Z``, ``...05.25+02:00``), as Katib's collectors
    accept one (Go's ``time.Parse`` with ``time.RFC3339Nano``, whose fraction may follow a
    comma too: ``05,25``), in microseconds since 1970 UTC, the fraction cut to microseconds as
    Katib's DB keeps it; None for anything else."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction, sign, offset_hours, offset_minutes = match.group(7, 8, 9, 10)
    offset = timedelta(0)
    if sign is not None:
        if int(offset_hours) > 23 or int(offset_minutes) > 59:
            return None
        offset = timedelta(hours=int(offset_hours), minutes=int(offset_minutes)) * (1 if sign == "+" else -1)
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=timezone(offset))
    except ValueError:  # out of range: month 13, second 60, year 0
        return None
    return (moment - _EPOCH) // timedelta(microseconds=1) + int(((fraction or "") + "000000")[:6])


def line_time(line: str) -> int | None:
    """A TEXT line's time, as Katib's parseLogsInTextFormat reads it: the line's text before its
    first space, when that is an RFC 3339 time (:func:`rfc3339_microseconds`)."""
    first, space, _ = line.partition(" ")
    return rfc3339_microseconds(first) if space else None


def json_time(value: object) -> int | None:
    """A JSON line's ``timestamp``: an RFC 3339 string, or a number of seconds since 1970 (Katib
    reads a number's fraction digits as nanoseconds, so 0.5 s as 5 ns; here it is 0.5 s)."""
    if isinstance(value, str):
        return rfc3339_microseconds(value)
    if isinstance(value, (int, float)) and not is_boolean(value) and math.isfinite(value) and abs(value) <= LATEST_JSON_TIME:
        return math.floor(value * 1_000_000) if isinstance(value, float) else value * 1_000_000
    return None  # no time Go's time.Unix gives a date for (1e308 overflowed here: the run stopped on it)


LATEST_JSON_TIME = 253_402_300_799
"""The last second of the year 9999 since 1970: a numeric ``timestamp`` past it (either way) is
no time, as RFC 3339 has none, and the line's values get the time they were read at."""


TIMESTAMP_KEY = "timestamp"
"""The key of a JSON line's time, Katib's ``TimeStampJsonKey``."""


def parse_json_lines(lines: list[str], names: list[str], texts: Collection[str] = ()) -> list[MetricLog]:
    """Katib's JSON format: one object per line; a wanted metric's value is a number or a string
    holding one as Go reads it (:func:`~kfp_tune.core.observation.go_float`; never a boolean),
    or for a metric in ``texts`` a non-empty string, kept as it is; each metric's steps count
    its own values. A line's ``timestamp`` is its values' time (:func:`json_time`).

    A line that is not a JSON object to Go's decoder (``{"loss": NaN}`` included, whatever
    key holds the ``NaN``) is skipped, the others read. Katib's parseLogsInJsonFormat
    fails on it, its collector exits and the trial gets no metrics: kfp-tune is more lenient
    here, and the guide says so (its File collector), rather than lose a trial's values to a
    stray line."""
    wanted = set(names)
    steps: dict[str, int] = {}
    out: list[MetricLog] = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            record = json.loads(line, parse_constant=_no_constant)
        except (ValueError, RecursionError):  # not JSON; NaN or Infinity; an integer of more digits than Python converts
            # (4,300), or nesting deeper than its decoder goes: Go's decoder fails on each too
            continue
        if not isinstance(record, dict):
            continue
        time_us = json_time(record.get(TIMESTAMP_KEY))
        for name in names:
            if name not in record or name not in wanted:
                continue
            if name in texts:
                if isinstance(record[name], str) and record[name].strip():
                    out.append(text_log(name, record[name], steps.get(name, 0), time_us))
                    steps[name] = steps.get(name, 0) + 1
                continue
            value = _json_value(record[name])
            if value is None:
                continue
            if math.isfinite(value):
                out.append(MetricLog(name, value, steps.get(name, 0), time_us=time_us))
                steps[name] = steps.get(name, 0) + 1
    return out


def _no_constant(word: str) -> float:
    """Python's decoder takes ``NaN``, ``Infinity`` and ``-Infinity`` (``json.dumps`` of a
    diverged ``float("nan")`` writes them); Go's, and so Katib's collector, fails on the line."""
    raise ValueError(f"{word} is no JSON value")


def _json_value(value: object) -> float | None:
    """A JSON line's value as a number: a string as Go's ParseFloat reads it (Katib reads only
    strings), spaces around it cut as Katib's stop rules cut them; a JSON number as it is (an
    integer too large for a float is infinite); None for anything else (true is no 1.0)."""
    if isinstance(value, str):
        try:
            return go_float(value.strip())
        except ValueError:
            return None
    if isinstance(value, (int, float)) and not is_boolean(value):
        try:
            return float(value)
        except OverflowError:
            return math.inf
    return None


def event_metrics(tag: str, names: Sequence[str], folder: str) -> list[str]:
    """The wanted metrics a scalar is a value of, given its tag and the folder its event file
    is in, as the trial sees it (under the collector's ``fileSystemPath.path``).

    A metric whose name is the tag, or the tag's last ``/``-parts (``loss`` for ``train/loss``),
    takes every such scalar. A metric named ``<folder>/<tag>`` (``eval/accuracy``), as Katib's
    tfevent_loader ``_should_consider`` reads it, takes the scalars tagged with its last part
    (``accuracy``) in event files whose folder path ends with the parts before it (``/logs/eval``
    with a collector at ``/logs``). Katib compares the tag by prefix and the folder as a string
    (``eval/loss`` would also take ``loss_scale`` tags, and files under ``/logs/myeval``); here
    both are compared whole. The tag's last parts are kfp-tune's own reading (Katib's
    ``_should_consider`` wants the tag to start with the name), so one file's scalars never
    give one metric two tags that way (:func:`_one_tag_each`)."""
    return [name for name in names if _is_event_metric(tag, name, folder)]


def _by_last_parts(tag: str, name: str) -> bool:
    """Whether the tag is the metric only by kfp-tune's reading of its last parts."""
    return tag != name and tag.endswith("/" + name)


def _is_event_metric(tag: str, name: str, folder: str) -> bool:
    if tag == name or _by_last_parts(tag, name):
        return True
    qualifier, _, last = name.rpartition("/")
    qualifier_parts = [part for part in qualifier.split("/") if part]
    if not qualifier_parts or tag != last:
        return False
    folder_parts = [part for part in folder.split("/") if part]
    return folder_parts[len(folder_parts) - len(qualifier_parts):] == qualifier_parts


def read_event_scalars(
    path: Path, names: list[str], folder: str, refused: dict[str, set[str]] | None = None, skipped: dict[str, set[str]] | None = None,
) -> list[MetricLog]:
    """Scalars for the wanted metrics in one event file, in file order; ``folder`` is where the
    trial wrote the file (:func:`event_metrics`). A scalar that is a value of several wanted
    metrics is a value of each, as in Katib. Each is timed by its event's wall time, to the
    second, as Katib's tfevent collector times it (``latest`` takes the latest). The values a
    TensorFlow restart orphaned are dropped as Katib's reader drops them (:class:`_RestartPurge`).
    ``refused`` gets, by metric, the tags left out as ambiguous (:func:`_one_tag_each`);
    ``skipped``, the tags whose tensors held no number (:func:`_tensor_number`): the trial's own
    data (a ``tf.summary.text`` under ``notes/loss``), left out as Katib leaves it out, never an
    error that would stop the trial's collection.

    The events are read as written (tensorboard's legacy loader, the one Katib's
    ``EventAccumulator`` reads with), so an old-style ``simple_value`` is told from a tensor."""
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader

    out: list[_EventValue] = []
    purge = _RestartPurge()
    for event in LegacyEventFileLoader(str(path)).Load():
        out = purge.kept(event, out)
        if not event.HasField("summary"):
            continue
        for value in event.summary.value:
            tag = value.tag or (value.node_name if value.HasField("tensor") else "")  # an old-style tensor's tag, as Katib's reader takes it
            metrics = event_metrics(tag, names, folder)
            if not metrics:
                continue
            if value.HasField("simple_value"):
                number: float | None = float(value.simple_value)
            elif value.HasField("tensor"):
                number = _tensor_number(value.tensor)
                if number is None and skipped is not None:
                    for name in metrics:
                        skipped.setdefault(name, set()).add(tag)
            else:
                continue
            if number is not None and math.isfinite(number):
                # Katib files a scalar at its event's wall time, to the second (rfc3339 of it)
                at = math.floor(event.wall_time) * 1_000_000 if math.isfinite(event.wall_time) else None
                scalar = value.HasField("simple_value")
                out.extend(_EventValue(tag, MetricLog(name, number, int(event.step), time_us=at), scalar) for name in metrics)
    return _one_tag_each([(value.tag, value.log) for value in out], refused if refused is not None else {})


@dataclass(frozen=True)
class _EventValue:
    """A value read from an event file, under its tag; ``scalar``: an old-style ``simple_value``
    (what a restart purges), not a tensor."""

    tag: str
    log: MetricLog
    scalar: bool


class _RestartPurge:
    """Drops the values a TensorFlow restart orphaned, as tensorboard's ``EventAccumulator``
    (``purge_orphaned_data``, on in Katib's tfevent_loader) drops them from one event file.

    A training resumed from a checkpoint at step S writes on from S, so the values it had
    written at S and after belong to the abandoned run. In a file of version 2 or later (the
    ``brain.Event:2`` every current writer puts first) a ``SessionLog`` START at step S drops
    every scalar read before at step S or after; in an older file (or one without a version),
    an event with a summary whose step is below the highest step seen drops the scalars of its
    own tags at its step or after. As in tensorboard, only old-style scalars (``simple_value``,
    TF1's ``tf.summary.scalar``) are dropped, never tensors (TF2's), which write no SessionLog."""

    def __init__(self) -> None:
        self.file_version: float | None = None
        self.most_recent_step = -1

    def kept(self, event: Any, values: list[_EventValue]) -> list[_EventValue]:
        """``values``, less those ``event`` (the next one read) says a restart orphaned."""
        from tensorboard.compat.proto import event_pb2

        if event.HasField("file_version"):
            self.file_version = _file_version(event.file_version)
        if self.file_version and self.file_version >= 2:
            if event.HasField("session_log") and event.session_log.status == event_pb2.SessionLog.START:
                return [value for value in values if not value.scalar or value.log.step < event.step]
            return values
        if event.step < self.most_recent_step and event.HasField("summary"):
            tags = {value.tag for value in event.summary.value}
            return [value for value in values if not value.scalar or value.tag not in tags or value.log.step < event.step]
        self.most_recent_step = event.step
        return values


def _file_version(text: str) -> float:
    """An event file's version (``brain.Event:2`` is 2.0), as tensorboard's ParseFileVersion
    reads it; -1 for one it cannot read (which, as there, counts as an old file)."""
    try:
        return float(text.split("brain.Event:")[-1])
    except ValueError:
        return -1


def _tensor_number(tensor: object) -> float | None:
    """A tensor summary's value when it is one real number (an integer or a float, of any
    width); None for anything else: a string (``tf.summary.text``), a complex or boolean
    tensor, more than one element, or a tensor NumPy cannot make (a type it lacks, a
    damaged record). Katib stores a string as its text, which is no number it can use either."""
    from tensorboard.util import tensor_util

    try:
        array = tensor_util.make_ndarray(tensor)
    except (TypeError, ValueError, KeyError):  # bfloat16, quantized, variant or unknown types; content of the wrong size
        return None
    if array.size != 1 or array.dtype.kind not in "iuf":  # "b": a boolean is no number (float(True) is 1.0)
        return None
    return float(array.reshape(-1)[0])


def _one_tag_each(tagged: Sequence[tuple[str, MetricLog]], refused: dict[str, set[str]]) -> list[MetricLog]:
    """Never two tags in one metric by kfp-tune's reading of a tag's last parts: ``accuracy``
    would merge ``train/accuracy`` and ``test/accuracy`` into one alternating series. A metric
    that a tag matches as Katib matches it (the tag itself, or ``<folder>/<tag>``) takes that
    tag only; one matched only by the last parts of several tags takes none of them (they are
    added to ``refused``), as the trial's objective cannot be told; name the metric by its
    whole tag (``test/accuracy``)."""
    by_parts: dict[str, set[str]] = {}
    katibs: set[str] = set()
    for tag, log in tagged:
        if _by_last_parts(tag, log.name):
            by_parts.setdefault(log.name, set()).add(tag)
        else:
            katibs.add(log.name)
    ambiguous = {name for name, tags in by_parts.items() if name not in katibs and len(tags) > 1}
    for name in ambiguous:
        refused.setdefault(name, set()).update(by_parts[name])
    return [log for tag, log in tagged if not _by_last_parts(tag, log.name) or not ({log.name} & (katibs | ambiguous))]
