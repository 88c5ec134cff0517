"""Following a trial's metrics while it runs, as Katib's collector sidecar does, and the records
that carry them to the store.

A :class:`Follower` reads what the trial has written so far: the File collector's file (TEXT or
JSON, complete lines only until the trial has ended), the TensorFlowEvent collector's event files,
or the PrometheusMetric collector's endpoint. An :class:`ObservationWriter` stores what is new as
``ReportedMetrics`` records beside the Push collector's (``trials/<trial>/reports/``), with the
stamp ``collector-<source>-<first index>``: each record holds the observations of one source (a
file, or the endpoint) from that index on. A source rewritten (a file the trial writes anew each
epoch) starts again at index 0 as its next content (``collector-<source>-r<n>-<first index>``),
and only its last content is the trial's observation, as Katib reads the file once it has ended.
The keys are deterministic and written with the store's atomic create, so a collector that
restarts (a sidecar's container restarted) goes on where the stored records end and never stores
an observation twice (a PrometheusMetric endpoint shows only its current values, so its series
goes on from the stored one: :meth:`Follower.resume`).

A pod made again under its name (the Training Operator's ``restartPolicy: ExitCode``, an evicted
pod under ``OnFailure``) is another attempt, told from a restarted container by its pod's uid: its
writer stores under the next attempt number (``collector-attempt-<n>`` says which pod that is), and
only the latest attempt's records are read (the trial's observation, early stopping, a resumed
series), as under Katib only the attempt that completes reports. A writer given no uid (a pod
made by an older kfp-tune, the local launcher) goes on in the latest attempt, as before.
:func:`read_collected` folds them back, in the order a collector that read the files whole would
have found them.

The sidecar on a cluster (:mod:`kfp_tune.collectors.sidecar`) and the local launcher both use
these; collect-metrics and the early stopping monitor read the records.
"""

from __future__ import annotations

import logging
import posixpath
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kfp_tune.collectors.formats import file_lines, parse_json_lines, read_event_scalars, text_log, text_metrics, whole_lines
from kfp_tune.collectors.prometheus import Endpoint, PrometheusSeries, scrape
from kfp_tune.collectors.push import COLLECTOR_STAMP, entry_time, metric_number, reported_entry
from kfp_tune.collectors.stdout import parse_metric_lines
from kfp_tune.core.errors import StoreError
from kfp_tune.core.naming import short_hash
from kfp_tune.core.observation import MetricLog
from kfp_tune.core.records import DamagedRecord, ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.vocabulary import CollectorKind, RecordKind

log = logging.getLogger(__name__)

STAMP_PREFIX = COLLECTOR_STAMP
"""Report stamps of the records a kfp-tune collector writes (a trial's own ``report_metrics``
calls are stamped with a time)."""
DONE_STAMP = "collector-done"
"""The record a collector writes last, once it has stored everything the trial reported (of the
first attempt; a later attempt's ends ``-a<n>``: :func:`_done_stamp`)."""
ATTEMPT_STAMP = "collector-attempt-"
"""The record naming the pod (its uid) of an attempt: ``collector-attempt-<n>``."""
FOLLOWED_KINDS = frozenset({CollectorKind.FILE, CollectorKind.TENSORFLOW_EVENT, CollectorKind.PROMETHEUS_METRIC})
"""The kinds a kfp-tune collector follows while the trial runs."""
ENDPOINT_SOURCE = "prometheus"
"""The source name of a PrometheusMetric collector's observations."""


@dataclass(frozen=True)
class CollectorSource:
    """Where and how a kind's metrics are read, from the experiment's ``metricsCollectorSpec``."""

    kind: str
    names: tuple[str, ...]
    path: str = ""
    """The collector's ``fileSystemPath.path`` in the trial's container."""
    path_kind: str = ""
    file_format: str = "TEXT"
    formats: tuple[str, ...] = ()
    """``source.filter.metricsFormat``."""
    endpoint: Endpoint | None = None
    """PrometheusMetric: ``source.httpGet``, with Katib's defaults."""
    texts: tuple[str, ...] = ()
    """The metrics whose values are text (:func:`~kfp_tune.collectors.formats.text_metrics`)."""

    @property
    def path_kind_or_default(self) -> str:
        """``fileSystemPath.kind``, else Katib's default for the collector: ``Directory`` for
        TensorFlowEvent (a folder of event files), ``File`` for the others."""
        return self.path_kind or ("Directory" if self.kind == CollectorKind.TENSORFLOW_EVENT else "File")


def collector_source(experiment: Experiment) -> CollectorSource:
    """The experiment's collector: its kind, the metrics it looks for and where."""
    spec = experiment.spec
    assert spec.objective is not None
    kind = spec.collector_kind
    mc = spec.metrics_collector_spec
    source = mc.source if mc is not None else None
    fsp = source.file_system_path if source is not None else None
    formats = tuple(source.filter.metrics_format) if source is not None and source.filter is not None else ()
    endpoint = None
    if kind == CollectorKind.PROMETHEUS_METRIC:
        endpoint = Endpoint.from_http_get((source.model_extra or {}).get("httpGet") if source is not None else None)
    return CollectorSource(
        kind=kind,
        names=tuple(spec.objective.metric_names),
        path=(fsp.path or "") if fsp is not None else "",
        path_kind=(fsp.kind or "") if fsp is not None else "",
        file_format=((fsp.format or "TEXT") if fsp is not None else "TEXT"),
        formats=formats,
        endpoint=endpoint,
        texts=tuple(sorted(text_metrics(experiment))),
    )


@dataclass
class Follower:
    """What a trial has reported so far, by source: a File collector's file (``local`` is where
    the file is seen from here), every event file under a TensorFlowEvent collector's folder, or a
    PrometheusMetric endpoint (``host`` replaces ``httpGet.host``). Each source's list only grows
    from one poll to the next."""

    source: CollectorSource
    local: Path | None = None
    host: str | None = None
    _series: PrometheusSeries | None = field(default=None, init=False)
    _skipped_told: set[tuple[str, str]] = field(default_factory=set, init=False)
    """The (metric, tag) pairs whose non-number values were logged once already."""

    def resume(self, stored: Mapping[str, Sequence[MetricLog]]) -> None:
        """Go on after what an earlier collector stored (``stored``: by source, in order), as a
        restarted sidecar must. A file is read whole again, but an endpoint shows only its current
        values: its series starts from the stored observations (:meth:`PrometheusSeries.resumed`)."""
        observations = list(stored.get(ENDPOINT_SOURCE) or [])
        if self.source.kind != CollectorKind.PROMETHEUS_METRIC or not observations:
            return
        self._series = PrometheusSeries.resumed(list(self.source.names), observations)

    def poll(self, final: bool = False) -> dict[str, list[MetricLog]]:
        """Every observation so far, by source. ``final``: the trial has ended, so a last line
        without its newline counts too (before that it may be half written)."""
        kind = self.source.kind
        if kind == CollectorKind.PROMETHEUS_METRIC:
            return self._scrape()
        if self.local is None:
            return {}
        if kind == CollectorKind.FILE:
            return self._file(final)
        if kind == CollectorKind.TENSORFLOW_EVENT:
            return self._events()
        return {}

    def _file(self, final: bool) -> dict[str, list[MetricLog]]:
        assert self.local is not None
        try:
            data = self.local.read_bytes()
        except OSError:  # not written yet
            return {}
        lines = file_lines(whole_lines(data.decode("utf-8", errors="replace"), final))
        names = list(self.source.names)
        if self.source.file_format == "JSON":
            logs = parse_json_lines(lines, names, self.source.texts)
        else:
            logs = parse_metric_lines(lines, names, self.source.formats, self.source.texts)
        return {posixpath.basename(self.source.path) or "metrics": logs}

    def _events(self) -> dict[str, list[MetricLog]]:
        assert self.local is not None
        if not self.local.is_dir():
            return {}
        out = {}
        skipped: dict[str, set[str]] = {}
        for path in sorted(self.local.rglob("*")):
            if path.is_file() and "tfevents" in path.name:
                try:
                    relative = path.relative_to(self.local).as_posix()
                    folder = posixpath.join(self.source.path, posixpath.dirname(relative))
                    out[relative] = read_event_scalars(path, list(self.source.names), folder, skipped=skipped)
                except Exception as exc:  # a file being written, or not an event file after all
                    log.debug("event file %s not read yet: %s", path, exc)
        for name, tag in sorted({(name, tag) for name, tags in skipped.items() for tag in tags} - self._skipped_told):
            log.warning("the tag %r, read for the metric %r, holds values that are not a number (a text or other tensor): they are left out, as Katib leaves them out", tag, name)
            self._skipped_told.add((name, tag))
        return out

    def _scrape(self) -> dict[str, list[MetricLog]]:
        assert self.source.endpoint is not None
        if self._series is None:
            self._series = PrometheusSeries(list(self.source.names))
        text = scrape(self.source.endpoint.url(self.host))
        if text is not None:
            self._series.add_scrape(text)
        return {ENDPOINT_SOURCE: list(self._series.observations)} if self._series.observations else {}


def _stamp(source: str, start: int, rewrite: int = 0, attempt: int = 0) -> str:
    """A record's stamp; a rewritten source's records (:class:`ObservationWriter`) say which
    content they hold (``-r0001-``), a later attempt's which attempt (``-a0001-``): the first
    content's and attempt's stamps are those written before."""
    content = (f"a{attempt:04d}-" if attempt else "") + (f"r{rewrite:04d}-" if rewrite else "")
    return f"{STAMP_PREFIX}{short_hash(source, 10)}-{content}{start:09d}"


def _done_stamp(attempt: int) -> str:
    return f"{DONE_STAMP}-a{attempt:04d}" if attempt else DONE_STAMP


def _entry(m: MetricLog) -> dict[str, Any]:
    """A text value is stored as ``text`` (no ``value``: a record holds no NaN); a value's time,
    when the trial gave one, as ``time_us``."""
    entry: dict[str, Any] = {"name": m.name, "value": m.value, "step": m.step} if m.text is None else {"name": m.name, "text": m.text, "step": m.step}
    if m.time_us is not None:
        entry["time_us"] = m.time_us
    return entry


def _payload(logs: Sequence[MetricLog], source: str, start: int, rewrite: int = 0, attempt: int = 0) -> dict[str, Any]:
    about: dict[str, Any] = {"source": source, "start": start}
    if rewrite:
        about["rewrite"] = rewrite
    if attempt:
        about["attempt"] = attempt
    return {"metrics": [_entry(m) for m in logs], "collector": about}


class ObservationWriter:
    """Stores a trial's observations as they grow: one record per new batch of each source.

    A source whose observations no longer start with those stored (fewer, or others: a trial
    that rewrites its metrics file, ``open(path, "w")``, each epoch) was rewritten: its new
    content is stored as the source's next content (``collector.rewrite``), from its start.
    Katib's collector reads the file whole once the trial has ended, so only the last content
    counts for the trial's observation (:func:`read_collected`), while early stopping, which
    Katib's collector applies as it tails the file (re-opened when cut), sees every content's
    values as they came (:meth:`CollectedReader.read_as_reported`). A restarted writer goes
    on from the last content stored, and so sees a rewrite made meanwhile.

    ``pod``: the uid of the pod it runs in. A pod whose uid no attempt names yet (one made again
    under the same name after a failure) starts the next attempt, whose records alone are read
    from then on; "" (unknown) goes on in the latest attempt."""

    def __init__(self, records: ExperimentRecords, trial: str, pod: str = ""):
        self.records, self.trial = records, trial
        batches, attempts = _stored(records, trial, {})
        self.attempt = _attempt_of(records, trial, pod, batches, attempts)
        self._before = [batch for batch in batches if batch.attempt == self.attempt]
        last = {source: contents[-1] for source, contents in _contents(self._before).items()}
        self._rewrite = {source: rewrite for source, (rewrite, _) in last.items()}
        self._content = {source: logs for source, (_, logs) in last.items()}
        """Each source's last content, as stored."""

    def stored(self) -> dict[str, list[MetricLog]]:
        """The observations stored before this writer started, by source (its last content), each in its order."""
        return _by_source(self._before)

    def write(self, observed: Mapping[str, Sequence[MetricLog]]) -> int:
        """Store what is new since the last call (or in the store already); returns how many
        observations it stored."""
        stored = 0
        for source, logs in sorted(observed.items()):
            before = self._content.setdefault(source, [])
            if [_entry(m) for m in logs[: len(before)]] != [_entry(m) for m in before]:  # rewritten
                self._rewrite[source] = self._rewrite.get(source, 0) + 1
                before.clear()
            rewrite = self._rewrite.get(source, 0)
            while len(before) < len(logs):
                start, new = len(before), logs[len(before) :]
                stamp = _stamp(source, start, rewrite, self.attempt)
                key = self.records.report_key(self.trial, stamp)
                batch = _batch(self.records.write_once(key, RecordKind.REPORTED_METRICS, _payload(new, source, start, rewrite, self.attempt)), key)
                if not batch.logs:  # a record there before us, and empty: never stored by a collector
                    raise StoreError(f"report {stamp} of trial {self.trial} holds no observations")
                stored += min(len(batch.logs), len(new))
                before.extend(batch.logs)
        return stored

    def done(self) -> None:
        """Say that every observation is stored (the last thing a collector writes)."""
        done = {"done": True, **({"attempt": self.attempt} if self.attempt else {})}
        self.records.write_once(self.records.report_key(self.trial, _done_stamp(self.attempt)), RecordKind.REPORTED_METRICS, {"metrics": [], "collector": done})


def _attempt_of(records: ExperimentRecords, trial: str, pod: str, batches: Sequence[_Batch], attempts: Mapping[int, str]) -> int:
    """The attempt a writer in pod ``pod`` stores under: the one naming that pod, else the next
    (0 when nothing is stored yet), named by its ``collector-attempt-<n>`` record (of two pods
    racing for a number, the store's atomic create gives it to one; the other takes the next).
    No ``pod``: the latest attempt."""
    latest = _latest(batches, attempts)
    if not pod:
        return latest
    named = [number for number, uid in attempts.items() if uid == pod]
    if named:
        return named[0]
    number = latest + 1 if batches or attempts else 0
    while True:
        key = records.report_key(trial, f"{ATTEMPT_STAMP}{number:04d}")
        record = records.write_once(key, RecordKind.REPORTED_METRICS, {"metrics": [], "collector": {"attempt": number, "pod": pod}})
        if (record.get("collector") or {}).get("pod") == pod:
            if number:
                log.info("trial %s: pod %s is attempt %d (a pod made again under its name): only its observations count from now on", trial, pod, number)
            return number
        number += 1


def _latest(batches: Iterable[_Batch], attempts: Mapping[int, str]) -> int:
    """The latest attempt: the highest number a record names (0: the first, or none)."""
    return max([batch.attempt for batch in batches] + list(attempts), default=0)


@dataclass(frozen=True)
class _Batch:
    """One collector record, read and checked: a source's observations from ``start`` on, of
    its content ``rewrite`` (0: the source as first read; each rewrite of it the next)."""

    source: str
    start: int
    logs: tuple[MetricLog, ...]
    rewrite: int = 0
    attempt: int = 0
    """The pod's attempt (:class:`ObservationWriter`): 0, the first, or a pod made again."""


@dataclass(frozen=True)
class _Attempt:
    """A ``collector-attempt-<n>`` record: attempt ``number`` ran in the pod of uid ``pod``."""

    number: int
    pod: str


def _stored(records: ExperimentRecords, trial: str, cache: dict[str, _Batch | _Attempt]) -> tuple[list[_Batch], dict[int, str]]:
    """Every collector record of the trial, checked (:func:`_batch`), and the attempts' pods by
    number; ``cache`` keeps the records read before (a record never changes once written)."""
    prefix = records.reports_prefix(trial)
    out, attempts = [], {}
    for key in records.store.list(prefix):
        stamp = key[len(prefix):].removesuffix(".json")
        if not stamp.startswith(STAMP_PREFIX) or stamp == DONE_STAMP or stamp.startswith(f"{DONE_STAMP}-a"):  # a source's hash has no "-"
            continue
        found = cache.get(key)
        if found is None:
            record = records.read(key, RecordKind.REPORTED_METRICS)
            if record is None:
                continue
            found = cache[key] = _attempt(record, key) if stamp.startswith(ATTEMPT_STAMP) else _batch(record, key)
        if isinstance(found, _Attempt):
            attempts[found.number] = found.pod
        else:
            out.append(found)
    return out, attempts


def _whole_number(value: Any, key: str, field_name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise DamagedRecord(key, f"{field_name} is {value!r}: expected a whole number")
    return value


def _attempt(record: Mapping[str, Any], key: str) -> _Attempt:
    about = record.get("collector")
    if not isinstance(about, dict) or not isinstance(about.get("pod"), str):
        raise DamagedRecord(key, "an attempt record needs collector.attempt and collector.pod")
    return _Attempt(_whole_number(about.get("attempt"), key, "collector.attempt"), about["pod"])


def _latest_batches(batches: list[_Batch], attempts: Mapping[int, str]) -> list[_Batch]:
    latest = _latest(batches, attempts)
    return [batch for batch in batches if batch.attempt == latest]


def _batch(record: Mapping[str, Any], key: str) -> _Batch:
    """A collector record's observations; DamagedRecord naming what is wrong when it is not one
    :func:`_payload` writes (each entry is checked as a trial's report is: :func:`reported_entry`)."""
    about, entries = record.get("collector"), record.get("metrics")
    if not isinstance(about, dict) or not isinstance(about.get("source"), str) or not isinstance(about.get("start"), int):
        raise DamagedRecord(key, "a collector record needs collector.source and collector.start")
    rewrite = _whole_number(about.get("rewrite", 0), key, "collector.rewrite")
    attempt = _whole_number(about.get("attempt", 0), key, "collector.attempt")
    if not isinstance(entries, list):
        raise DamagedRecord(key, f"a collector record's metrics must be a list, got {type(entries).__name__}")
    logs = tuple(_observation(entry, key, index) for index, entry in enumerate(entries))
    return _Batch(about["source"], about["start"], logs, rewrite, attempt)


def _observation(entry: Any, key: str, index: int) -> MetricLog:
    """One entry of a collector record: a number, or a text for a text metric. A collector
    stores nothing else, so any other value is damage, not a value to leave out."""
    name, step = reported_entry(entry, key, index)
    time_us = entry_time(entry)
    if isinstance(entry.get("text"), str):
        return text_log(name, entry["text"], step, time_us)
    try:
        value = metric_number(name, entry.get("value"), f"metrics[{index}]")
    except ValueError as exc:
        raise DamagedRecord(key, f"{exc}: a collector stores a finite number (value) or a text (text)") from None
    return MetricLog(name, value, step, time_us=time_us)


class CollectedReader:
    """Reads the observations collectors stored for a trial, of its latest attempt only (a pod
    made again under its name: :class:`ObservationWriter`); a reader kept across calls (the
    early stopping monitor polls) reads each record once."""

    def __init__(self, records: ExperimentRecords, trial: str):
        self.records, self.trial = records, trial
        self._cache: dict[str, _Batch | _Attempt] = {}

    def read(self) -> list[MetricLog]:
        """The trial's observations, as Katib's collector reads the files once the trial has
        ended: source by source (sorted), each its last content (:class:`ObservationWriter`), in
        its order."""
        by_source = _by_source(_latest_batches(*_stored(self.records, self.trial, self._cache)))
        return [m for source in sorted(by_source) for m in by_source[source]]

    def read_as_reported(self) -> list[MetricLog]:
        """Every value as it came, for early stopping: source by source (sorted), each content
        of a rewritten source in turn, so a rewrite's values are new reports, as Katib's
        collector tailing the file sees them."""
        contents = _contents(_latest_batches(*_stored(self.records, self.trial, self._cache)))
        return [m for source in sorted(contents) for _, logs in contents[source] for m in logs]

    def finished(self) -> bool:
        """Whether the collector of the latest attempt said it has stored everything (its ``done`` record)."""
        latest = _latest(*_stored(self.records, self.trial, self._cache))
        return self.records.store.get(self.records.report_key(self.trial, _done_stamp(latest))) is not None


def _contents(batches: Iterable[_Batch]) -> dict[str, list[tuple[int, list[MetricLog]]]]:
    """The observations of collector records by source: each content of it (its rewrite
    number, its observations once each and in order), in the order they were read."""
    by_content: dict[str, dict[int, dict[int, MetricLog]]] = {}
    for batch in batches:
        seen = by_content.setdefault(batch.source, {}).setdefault(batch.rewrite, {})
        for offset, metric in enumerate(batch.logs):
            seen.setdefault(batch.start + offset, metric)
    return {source: [(rewrite, [m for _, m in sorted(seen.items())]) for rewrite, seen in sorted(contents.items())] for source, contents in by_content.items()}


def _by_source(batches: Iterable[_Batch]) -> dict[str, list[MetricLog]]:
    """The observations of collector records, by source: its last content, in order."""
    return {source: contents[-1][1] for source, contents in _contents(batches).items()}


def read_collected(records: ExperimentRecords, trial: str) -> list[MetricLog]:
    """Every observation a kfp-tune collector stored for the trial."""
    return CollectedReader(records, trial).read()


def follow(follower: Follower, writer: ObservationWriter, stop: threading.Event, poll_seconds: float) -> int:
    """Store what the trial reports every ``poll_seconds`` until ``stop`` is set (the trial has
    ended), then read it all once more, store the rest and the ``done`` record; returns how many
    observations were stored. A store that fails is tried again at the next poll. A collector
    restarted goes on after what the one before it stored (:meth:`Follower.resume`)."""
    follower.resume(writer.stored())
    stored = 0
    while not stop.wait(poll_seconds):
        stored += _store_new(writer, follower, final=False)
    stored += _store_new(writer, follower, final=True, attempts=3)
    writer.done()
    return stored


def _store_new(writer: ObservationWriter, follower: Follower, final: bool, attempts: int = 1) -> int:
    for attempt in range(attempts):
        try:
            return writer.write(follower.poll(final=final))
        except Exception as exc:  # the store unreachable for a moment: stored at the next poll
            log.warning("storing observations failed (attempt %d): %s", attempt + 1, exc)
    return 0
