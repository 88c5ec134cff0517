"""Katib's StdOut collector: ``name=value`` pairs in the primary container's output."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Sequence

from kfp_tune.collectors.formats import line_time, text_log, text_metrics
from kfp_tune.core.observation import MetricLog, go_float
from kfp_tune.core.patterns import compile_pattern
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.validation import trial_log_names

# Katib's default metricsFormat filter.
DEFAULT_METRICS_FORMAT = r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)"
NAME_CHARACTER = r"[\w|-]"
r"""A character of a name the default format reads; compiled with ``re.ASCII``, as Go's ``\w``
is ASCII (``précision=0.91`` gives Katib the name ``cision``)."""
DEFAULT_FORMAT_NAME = re.compile(rf"{NAME_CHARACTER}+", re.ASCII)
"""The metric names the default format can read: ASCII letters, digits, ``_``, ``-`` and ``|``."""
NAME_RULE = "ASCII letters, digits, '_', '-' and '|'"


def unreadable_names(experiment: Experiment) -> list[str]:
    """The objective metric, when the experiment's StdOut or File (TEXT) collector can never
    read it: every trial would end MetricsUnavailable (:func:`_unreadable`)."""
    objective = experiment.spec.objective
    return _unreadable(experiment, [objective.objective_metric_name] if objective is not None else [])


def unreadable_additional_names(experiment: Experiment) -> list[str]:
    """The additional metrics the collector can never read: they will be missing from every
    trial, which still succeeds on its objective alone (Katib's Trial.IsObservationAvailable
    looks at the objective only: pkg/apis/controller/trials/v1beta1/util.go)."""
    objective = experiment.spec.objective
    return _unreadable(experiment, objective.additional_metric_names if objective is not None else [])


def _unreadable(experiment: Experiment, names: Sequence[str]) -> list[str]:
    """Those of ``names`` the StdOut or File (TEXT) collector can never read: with Katib's
    default metricsFormat, a name with another character (``val.acc``, ``val/acc``). With a
    metricsFormat of the user's, none (its names cannot be told in advance)."""
    mc = experiment.spec.metrics_collector_spec
    if experiment.spec.collector_kind not in ("StdOut", "File") or (mc and mc.source and mc.source.filter and mc.source.filter.metrics_format):
        return []
    if experiment.spec.collector_kind == "File" and mc and mc.source and mc.source.file_system_path and mc.source.file_system_path.format == "JSON":
        return []
    return [name for name in names if DEFAULT_FORMAT_NAME.fullmatch(name) is None]


def parse_metric_lines(
    lines: Iterable[str], metric_names: Sequence[str], formats: Sequence[str] = (), texts: Collection[str] = ()
) -> list[MetricLog]:
    r"""Every (name, value) a filter regex finds, for the metrics we look for, in order.

    As in Katib, the first group is the name and the second the value; a line is only read when
    it mentions one of the metric names. Values that do not parse as finite numbers are dropped
    (``1e309``, an empty value), so they can never reach an algorithm, and so are values the
    regex only matched the start of (``0x1A``, ``1.5abc``, ``1.2.3``: Katib would record 0, 1.5
    and 1.2; :func:`_number_ends_at`). Punctuation after a value ends it, as in Katib
    (``loss=0.5.``, ``loss=0.35: done``, ``loss=0.25|...``). That check is made only where the
    match ends with the value (as Katib's default filter's does): a filter that goes on past
    it (``(\w+)=([\d.]+)ms``, ``(\w+),([\d.]+),\d+``) says itself what follows the value, and
    its value is taken as captured, as Katib takes it (file-metricscollector.go,
    parseLogsInTextFormat).
    A metric in ``texts`` keeps what the regex captured, as Katib does, unless it is empty
    (darts' ``Best-Genotype=Genotype(...)`` line, with the example's regex, gives the whole genotype).

    A line that starts with an RFC 3339 time and a space (``2024-01-01T00:00:05Z loss=0.4``)
    gives its values that time, as in Katib (:func:`~kfp_tune.collectors.formats.line_time`).

    The filters run on RE2, as Katib's Go engine runs them: in time linear in the line, and
    with its ASCII-only word and digit classes (:mod:`kfp_tune.core.patterns`)."""
    patterns = [compile_pattern(f) for f in (formats or [DEFAULT_METRICS_FORMAT])]
    wanted = set(metric_names)
    steps: dict[str, int] = {}
    out: list[MetricLog] = []
    for line in lines:
        if not any(name in line for name in wanted):
            continue
        time_us = line_time(line)
        for pattern in patterns:
            for match in pattern.finditer(line):
                name, text = (match.group(1) or "").strip(), (match.group(2) or "").strip()
                if name in texts and name in wanted:
                    if text:
                        out.append(text_log(name, text, steps.get(name, 0), time_us))
                        steps[name] = steps.get(name, 0) + 1
                    continue
                if name not in wanted or (match.end(0) == match.end(2) and not _number_ends_at(line, match.end(2))):
                    continue
                try:
                    value = go_float(text)
                except ValueError:
                    continue
                if not math.isfinite(value):
                    continue
                out.append(MetricLog(name, value, steps.get(name, 0), time_us=time_us))
                steps[name] = steps.get(name, 0) + 1
    return out


def _number_ends_at(line: str, end: int) -> bool:
    """Whether the number captured up to ``end`` is the whole number written there, not the
    start of a longer word or number: it is not when a letter, a digit or ``_`` follows
    (``1.5abc``, ``0x1A``, ``1.5e``), or a ``.`` or ``,`` and then a digit (``1.2.3``,
    ``1,234``). Anything else after it, punctuation included, ends it (``0.5.``, ``0.35:``,
    ``0.25|``, ``50%``, ``0.5/1``), so lines Katib reads are read the same."""
    if end >= len(line):
        return True
    after = line[end]
    if after.isalnum() or after == "_":
        return False
    return not (after in ".," and line[end + 1 : end + 2].isdigit())


def parse_output(experiment: Experiment, text: str) -> list[MetricLog]:
    """The experiment's metrics in a trial's output, with its metricsFormat (or Katib's default)."""
    objective = experiment.spec.objective
    assert objective is not None
    mc = experiment.spec.metrics_collector_spec
    formats = mc.source.filter.metrics_format if mc and mc.source and mc.source.filter else []
    names = objective.metric_names
    return parse_metric_lines(text.splitlines(), names, formats, text_metrics(experiment))


def missing_metric_hints(name: str, text: str, every_name: bool = False) -> tuple[list[str], list[str]]:
    """Why a trial's output gave no value for ``name``, for its MetricsUnavailable message: the
    values written after ``name=`` that are not numbers (``nan``, ``None``: dropped, as Katib's
    parser drops them), and the names written as ``other=`` that are close to it (``score`` for
    ``scor``: a misspelt objectiveMetricName is the most common cause), or with ``every_name``
    any (a function's returned metrics, which its log lists: ``acc`` for ``accuracy``). At most
    three of each."""
    import difflib

    not_numbers: list[str] = []
    for match in re.finditer(rf"(?<!{NAME_CHARACTER}){re.escape(name)}\s*=\s*([^\s,;]*)", text, re.ASCII):
        value = match.group(1)
        if value not in not_numbers and len(not_numbers) < 3:
            try:
                if math.isfinite(go_float(value)):
                    continue
            except ValueError:
                pass
            not_numbers.append(value)
    seen = {m.group(1) for m in re.finditer(rf"({DEFAULT_FORMAT_NAME.pattern})\s*=", text, re.ASCII)} - {name}
    return not_numbers, (sorted(seen)[:3] if every_name else difflib.get_close_matches(name, sorted(seen), n=3, cutoff=0.6))


def collect_stdout(records: ExperimentRecords, experiment: Experiment, trial: TrialState) -> list[MetricLog]:
    template = experiment.spec.trial_template
    assert template is not None
    logs = (records.read_text(records.log_key(trial.name, name)) for name in trial_log_names(template.trial_spec, template.primary_container_name))
    return parse_output(experiment, next((kept for kept in logs if kept is not None), ""))  # a TrainJob's under node, or as kept before
