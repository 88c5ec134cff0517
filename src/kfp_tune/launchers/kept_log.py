"""What a trial's stored log keeps of its output: one rule for every launcher.

The output whole when it is at most :data:`LOG_HEAD_BYTES` + :data:`LOG_TAIL_BYTES`; else its
head and tail, and between them a line saying how many bytes were left out, followed by the
left-out lines that name a metric (every line the StdOut collector reads,
:func:`~kfp_tune.collectors.stdout.parse_metric_lines`, so it still finds every value, in order).
A line ends at ``\\n``, ``\\r`` or ``\\r\\n``, as the collector splits the log.
Katib keeps no trial log at all: its collector parses the output in the pod and stores the
observation log only (cmd/metricscollector/v1beta1/file-metricscollector/main.go).

:class:`KeptLog` is fed the output as it comes (the Kubernetes launcher, reading a pod's log a
poll at a time, whose earlier lines the kubelet may have rotated away since) and holds at most
the head, the last :data:`LOG_TAIL_BYTES` and a chunk, plus the metric lines; :func:`kept_log`
feeds it a file (the local launcher's output), a chunk at a time, never all of it as one string.
"""

from __future__ import annotations

import os
from collections.abc import Collection

LOG_HEAD_BYTES = 1 << 20
"""The first bytes of a trial's output kept in its stored log (cut back to a line's end:
``\\n``, ``\\r`` or ``\\r\\n``)."""
LOG_TAIL_BYTES = 4 << 20
"""The last bytes of a trial's output kept in its stored log (from a line's start): with the
head, a log's bound, which holds the program's start and its end (a failure's traceback)."""
READ_CHUNK_BYTES = 1 << 20
"""How much of a trial's output is read (or let out of the tail) at a time."""


class KeptLog:
    """A trial's output as its log is stored, built as the output comes (:meth:`feed`, in
    order); :meth:`text` is the stored log of what was fed so far (the same as :func:`kept_log`
    of a file holding it). The sizes are read when it is made (tests shrink them)."""

    def __init__(self, metric_names: Collection[str] = ()):
        self.names = [name.encode() for name in metric_names if name]
        self.head_limit, self.tail_limit = LOG_HEAD_BYTES, LOG_TAIL_BYTES
        self.size = 0
        self._head = bytearray()
        self._window = bytearray()
        """The output after the head's bytes, less what was let out to the middle."""
        self._middle_started = False
        self._carry = bytearray()
        """The middle's line not ended yet (its end: ``\\n`` or ``\\r``, as the collector splits)."""
        self._middle: list[bytes] = []
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
        middle, carry, counted = list(self._middle), bytearray(self._carry), self._middle_bytes
        if not self._middle_started:
            rest = bytes(self._head[len(head):]) + rest
        counted += len(rest)
        carry = _lines_naming(carry + rest, self.names, middle, final=True)
        left_out = counted - sum(len(line) for line in middle)
        note = f"[{left_out} bytes of this trial's output were left out here: kfp-tune keeps a long log's head and tail"
        note += f"; the {len(middle)} lines among them that name a metric follow]\n" if middle else "]\n"
        return b"".join([head, note.encode(), *middle, tail]).decode("utf-8", errors="replace")

    def _to_middle(self, data: bytes) -> None:
        if not self._middle_started:  # the output is past the bound: the head's cut line goes first
            self._middle_started = True
            head = bytes(self._head)
            data = head[_head_end(head):] + data
        self._middle_bytes += len(data)
        self._carry = _lines_naming(self._carry + data, self.names, self._middle, final=False)


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


def _lines_naming(data: bytearray | bytes, names: list[bytes], found: list[bytes], final: bool) -> bytearray:
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
        found.extend(line for line in whole.splitlines(keepends=True) if any(name in line for name in names))
    return bytearray(carry)


def kept_log(fd: int, metric_names: Collection[str] = ()) -> str:
    """The stored log (:class:`KeptLog`) of the file open as ``fd``, read a chunk at a time by
    position (its offset is left as it is: the trial may still hold it)."""
    kept = KeptLog(metric_names)
    position, size = 0, os.fstat(fd).st_size
    while position < size:
        data = os.pread(fd, min(READ_CHUNK_BYTES, size - position), position)
        if not data:
            break
        position += len(data)
        kept.feed(data)
    return kept.text()
