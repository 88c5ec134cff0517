"""What a trial's stored log keeps of its output: one rule for every launcher.

The output whole when it is at most :data:`LOG_HEAD_BYTES` + :data:`LOG_TAIL_BYTES`; else its
head and tail, and between them a line saying how many bytes were left out, followed by the
left-out lines that name a metric (the lines the StdOut collector reads,
:func:`~kfp_tune.collectors.stdout.parse_metric_lines`): the first :data:`LOG_MIDDLE_BYTES` of
them whole, in order, and of the rest only those holding a metric's least, greatest or latest
value (:class:`_MiddleLines`). So every value a metricStrategy (min, max, latest) picks is still
read, and a progress bar naming a metric in each ``\\r`` segment (tqdm's ``loss=`` postfix) is
not kept whole. A line ends at ``\\n``, ``\\r`` or ``\\r\\n``, as the collector splits the log.
Katib keeps no trial log at all: its collector parses the output in the pod and stores the
observation log only (cmd/metricscollector/v1beta1/file-metricscollector/main.go).

:class:`KeptLog` is fed the output as it comes (the Kubernetes launcher, reading a pod's log a
poll at a time, whose earlier lines the kubelet may have rotated away since) and holds at most
the head, the last :data:`LOG_TAIL_BYTES` and a chunk, plus the metric lines kept (at most
:data:`LOG_MIDDLE_BYTES` and four lines per metric); :func:`kept_log` feeds it a file (the local
launcher's output), a chunk at a time, never all of it as one string.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from kfp_tune.collectors.stdout import parse_metric_lines
from kfp_tune.core.observation import reported_at

LOG_HEAD_BYTES = 1 << 20
"""The first bytes of a trial's output kept in its stored log (cut back to a line's end:
``\\n``, ``\\r`` or ``\\r\\n``)."""
LOG_TAIL_BYTES = 4 << 20
"""The last bytes of a trial's output kept in its stored log (from a line's start): with the
head, a log's bound, which holds the program's start and its end (a failure's traceback)."""
LOG_MIDDLE_BYTES = 4 << 20
"""The left-out lines naming a metric kept whole, in bytes; past them, only the lines holding a
metric's least, greatest or latest value are kept."""
READ_CHUNK_BYTES = 1 << 20
"""How much of a trial's output is read (or let out of the tail) at a time."""


class KeptLog:
    """A trial's output as its log is stored, built as the output comes (:meth:`feed`, in
    order); :meth:`text` is the stored log of what was fed so far (the same as :func:`kept_log`
    of a file holding it). The sizes are read when it is made (tests shrink them). ``formats``:
    the collector's ``metricsFormat`` (empty: Katib's default), which reads the values of the
    metric lines past :data:`LOG_MIDDLE_BYTES`."""

    def __init__(self, metric_names: Collection[str] = (), formats: Sequence[str] = ()):
        self.names = [name.encode() for name in metric_names if name]
        self.head_limit, self.tail_limit = LOG_HEAD_BYTES, LOG_TAIL_BYTES
        self.size = 0
        self._head = bytearray()
        self._window = bytearray()
        """The output after the head's bytes, less what was let out to the middle."""
        self._middle_started = False
        self._carry = bytearray()
        """The middle's line not ended yet (its end: ``\\n`` or ``\\r``, as the collector splits)."""
        self._middle = _MiddleLines([name.decode() for name in self.names], formats)
        self._middle_bytes = 0
        """How many bytes went to the middle (kept there or left out)."""

    def feed(self, data: bytes) -> None:
        """Add the next bytes of the output."""
        if not data:
            return
        self.size += len(data)
        room = self.head_limit - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        self._window += data
        if len(self._window) > self.tail_limit + READ_CHUNK_BYTES:
            cut = len(self._window) - self.tail_limit
            self._to_middle(bytes(self._window[:cut]))
            del self._window[:cut]

    def text(self) -> str:
        """The stored log of the output fed so far (decoded, a broken character replaced)."""
        if self.size <= self.head_limit + self.tail_limit:
            return (bytes(self._head) + bytes(self._window)).decode("utf-8", errors="replace")
        head = bytes(self._head)
        head = head[: _head_end(head)]
        tail = bytes(self._window[-self.tail_limit:])
        start = _first_line_end(tail) + 1
        tail = tail[start:] if 0 < start < len(tail) else tail
        # what is left for the middle, without changing the state: text() may be asked again
        rest = bytes(self._window[: len(self._window) - len(tail)])
        middle, carry, counted = self._middle.copy(), bytearray(self._carry), self._middle_bytes
        if not self._middle_started:
            rest = bytes(self._head[len(head):]) + rest
        counted += len(rest)
        carry = _lines_naming(carry + rest, self.names, middle, final=True)
        kept = middle.lines()
        left_out = counted - sum(len(line) for line in kept)
        note = f"[{left_out} bytes of this trial's output were left out here: kfp-tune keeps a long log's head and tail"
        if middle.thinned:
            note += (
                f"; {len(kept)} of the {middle.named} lines among them that name a metric follow: the first"
                f" {len(middle.whole)} whole, then those holding a metric's least, greatest or latest value]\n"
            )
        else:
            note += f"; the {len(kept)} lines among them that name a metric follow]\n" if kept else "]\n"
        return b"".join([head, note.encode(), *kept, tail]).decode("utf-8", errors="replace")

    def _to_middle(self, data: bytes) -> None:
        if not self._middle_started:  # the output is past the bound: the head's cut line goes first
            self._middle_started = True
            head = bytes(self._head)
            data = head[_head_end(head):] + data
        self._middle_bytes += len(data)
        self._carry = _lines_naming(self._carry + data, self.names, self._middle, final=False)


class _MiddleLines:
    """The left-out lines naming a metric that the stored log keeps, in order: all of them while
    they fit in :data:`LOG_MIDDLE_BYTES`; after that, for each metric, the lines holding its
    least, greatest and latest value and the latest giving it any value (a text metric's, such
    as darts' genotype), each line read as the collector reads it (:func:`parse_metric_lines`;
    Katib's ``latest``: the latest time, then the last written). The values left out then
    change no value a metricStrategy picks; only how many values a trial reported (an
    observation's ``count``, its curve) counts the kept ones. Without it, a tqdm bar naming
    ``loss=`` in each ``\\r`` segment kept its whole output (187 MB of 196 MB)."""

    def __init__(self, names: list[str], formats: Sequence[str]):
        self.names, self.formats = names, list(formats)
        self.limit = LOG_MIDDLE_BYTES
        self.whole: list[bytes] = []
        self.whole_bytes = 0
        self.thinned = False
        """Whether a line did not fit: from it on, only the lines holding a value below are kept."""
        self.named = 0
        """How many lines naming a metric were added."""
        self._picked: dict[int, bytes] = {}
        """The lines past the whole ones that hold a value of :attr:`_best`, by their place."""
        self._best: dict[tuple[str, str], tuple[float, int]] = {}
        """(metric, ``min``/``max``/``latest``/``any``) -> (its value or time, the place of its line)."""

    def copy(self) -> _MiddleLines:
        other = _MiddleLines(self.names, self.formats)
        other.limit, other.whole, other.whole_bytes = self.limit, list(self.whole), self.whole_bytes
        other.thinned, other.named, other._picked, other._best = self.thinned, self.named, dict(self._picked), dict(self._best)
        return other

    def lines(self) -> list[bytes]:
        """The lines kept, in the output's order."""
        return self.whole + [self._picked[place] for place in sorted(self._picked)]

    def add(self, line: bytes) -> None:
        """The next line naming a metric, with its end."""
        place = self.named
        self.named += 1
        if not self.thinned and self.whole_bytes + len(line) <= self.limit:
            self.whole.append(line)
            self.whole_bytes += len(line)
            return
        self.thinned = True
        offered: set[int] = set()
        for text in line.decode("utf-8", errors="replace").splitlines():  # as the collector splits the decoded log
            found = parse_metric_lines([text], self.names, self.formats)
            for log in found:
                at = reported_at(log)
                offered |= self._offer((log.name, "min"), log.value, place, _less)
                offered |= self._offer((log.name, "max"), log.value, place, _greater)
                offered |= self._offer((log.name, "latest"), at, place, _not_earlier)
                offered |= self._offer((log.name, "any"), at, place, _not_earlier)
            unread = [name for name in self.names if name in text and all(log.name != name for log in found)]
            if unread:  # no number for it: maybe a text metric's value, which the collector keeps as written
                for log in parse_metric_lines([text], unread, self.formats, texts=unread):
                    offered |= self._offer((log.name, "any"), reported_at(log), place, _not_earlier)
        if not offered:
            return
        held = {where for _, where in self._best.values()}
        if place in held:
            self._picked[place] = line
        for where in offered - held:
            self._picked.pop(where, None)

    def _offer(self, key: tuple[str, str], value: float, place: int, better: Callable[[float, float], bool]) -> set[int]:
        """Keep the line at ``place`` for ``key`` if its value is ``better`` than the kept one's;
        returns the places whose line may no longer be kept (none when it is not better)."""
        best = self._best.get(key)
        if best is not None and not better(value, best[0]):
            return set()
        self._best[key] = (value, place)
        return {place} if best is None else {place, best[1]}


def _less(new: float, old: float) -> bool:
    return new < old


def _greater(new: float, old: float) -> bool:
    return new > old


def _not_earlier(new: float, old: float) -> bool:
    """Katib's ``latest``: of values at the same time, the one written last."""
    return new >= old


def _head_end(head: bytes) -> int:
    """Where the head is cut: after its last line end (``\\n`` or ``\\r``, as the collector splits
    lines), or at its end when it holds none."""
    return max(head.rfind(b"\n"), head.rfind(b"\r")) + 1 or len(head)


def _first_line_end(data: bytes) -> int:
    """Where the first line of ``data`` ends (its ``\\n``, its lone ``\\r``, the ``\\n`` of its
    ``\\r\\n``), as the collector splits lines; -1 when no line ends in it."""
    ends = [end for end in (data.find(b"\n"), data.find(b"\r")) if end >= 0]
    if not ends:
        return -1
    end = min(ends)
    return end + 1 if data[end : end + 2] == b"\r\n" else end


def _lines_naming(data: bytearray | bytes, names: list[bytes], found: _MiddleLines, final: bool) -> bytearray:
    """Add to ``found`` the whole lines of ``data`` that hold one of ``names``; returns the line
    not ended yet (all of it when ``final``: the middle ends there). A ``\\r`` at the end waits
    for the next bytes, which may make it ``\\r\\n``. Split into lines only if a name is in it."""
    if not names:
        return bytearray()
    data = bytes(data)
    if final:
        whole, carry = data, b""
    else:
        look = data[:-1] if data.endswith(b"\r") else data
        last = max(look.rfind(b"\n"), look.rfind(b"\r"))
        whole, carry = data[: last + 1], data[last + 1 :]
    if any(name in whole for name in names):
        for line in whole.splitlines(keepends=True):
            if any(name in line for name in names):
                found.add(line)
    return bytearray(carry)


def metrics_formats(metrics_collector: Mapping[str, Any]) -> list[str]:
    """The ``source.filter.metricsFormat`` of a ``metricsCollectorSpec`` as Katib writes it (a
    :class:`~kfp_tune.core.interfaces.TrialRun`'s ``metrics_collector``); empty: Katib's default."""
    source = metrics_collector.get("source") or {}
    return list((source.get("filter") or {}).get("metricsFormat") or [])


def kept_log(fd: int, metric_names: Collection[str] = (), formats: Sequence[str] = ()) -> str:
    """The stored log (:class:`KeptLog`) of the file open as ``fd``, read a chunk at a time by
    position (its offset is left as it is: the trial may still hold it)."""
    kept = KeptLog(metric_names, formats)
    position, size = 0, os.fstat(fd).st_size
    while position < size:
        data = os.pread(fd, min(READ_CHUNK_BYTES, size - position), position)
        if not data:
            break
        position += len(data)
        kept.feed(data)
    return kept.text()
