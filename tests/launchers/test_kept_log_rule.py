"""The stored log's rule (:mod:`kfp_tune.launchers.kept_log`) checked against a direct statement
of its docstring, on seeded random outputs fed in random pieces, with every size shrunk (the
head, the tail and the chunk let out of the tail to the middle, so that the middle is fed many
times); and the bytes a :class:`KeptLog` holds stay within its bound at the real sizes."""

from __future__ import annotations

import math
import os
import random
import re
import tempfile

import pytest

from kfp_tune.launchers import kept_log as K

NAMES = ["loss", "accuracy"]
PIECES = [b"x", b"yy", b"z" * 9, b"loss=0.5", b"accuracy=0.9", b"lo", b"ss=0.1", b"\n", b"\r", b"\r\n", b"\xc3\xa9"]
"""Outputs are drawn from these: metric lines and names cut in two, ``\\r`` (a progress bar's)
and ``\\r\\n`` ends, a 2-byte UTF-8 character, stretches long enough for a head without a line end."""


def stated_rule(out: bytes, names: list[str], head_limit: int, tail_limit: int) -> str:
    """The docstring's rule, stated directly on the whole output: all of it when it fits; else
    the first ``head_limit`` bytes cut back to a line's end (all of them when they hold no
    ``\\n``), the last ``tail_limit`` bytes from a line's start (all of them when they hold no
    line start), and between them a note counting the bytes left out, then every left-out
    line that names a metric."""
    if len(out) <= head_limit + tail_limit:
        return out.decode("utf-8", errors="replace")
    head = out[:head_limit]
    if b"\n" in head or b"\r" in head:
        head = head[: max(head.rfind(b"\n"), head.rfind(b"\r")) + 1]
    tail = out[len(out) - tail_limit :]
    first_line = re.match(rb"[^\r\n]*(\r\n|\r|\n)", tail)
    if first_line and first_line.end() < len(tail):
        tail = tail[first_line.end() :]
    middle = out[len(head) : len(out) - len(tail)]
    named = [line for line in middle.splitlines(keepends=True) if any(name.encode() in line for name in names)]
    left_out = len(middle) - sum(len(line) for line in named)
    note = f"[{left_out} bytes of this trial's output were left out here: kfp-tune keeps a long log's head and tail"
    note += f"; the {len(named)} lines among them that name a metric follow]\n" if named else "]\n"
    return b"".join([head, note.encode(), *named, tail]).decode("utf-8", errors="replace")


def held(kept: K.KeptLog) -> int:
    """The output's bytes a KeptLog holds, less the metric lines it keeps for the middle."""
    return len(kept._head) + len(kept._window) + len(kept._carry)


def test_output_fed_in_pieces_is_kept_as_the_rule_states(monkeypatch: pytest.MonkeyPatch) -> None:
    draw = random.Random(20240521)
    for _ in range(1500):
        head_limit, tail_limit, chunk = draw.randint(1, 30), draw.randint(1, 30), draw.randint(1, 20)
        monkeypatch.setattr(K, "LOG_HEAD_BYTES", head_limit)
        monkeypatch.setattr(K, "LOG_TAIL_BYTES", tail_limit)
        monkeypatch.setattr(K, "READ_CHUNK_BYTES", chunk)
        names = draw.choice([NAMES, []])
        out = b"".join(draw.choice(PIECES) for _ in range(draw.randint(0, 40)))
        kept, start, longest_line = K.KeptLog(names), 0, max(map(len, out.splitlines(keepends=True)), default=0)
        while start < len(out):
            end = start + draw.randint(1, 25)
            kept.feed(out[start:end])
            start = end
            assert held(kept) <= head_limit + tail_limit + chunk + longest_line + 1, (out, head_limit, tail_limit, chunk)
        want = stated_rule(out, names, head_limit, tail_limit)
        assert kept.text() == want, (out, names, head_limit, tail_limit, chunk)
        assert kept.text() == want  # asking again changes nothing
        with tempfile.TemporaryFile() as file:  # the local launcher's way: a file read a chunk at a time
            file.write(out)
            file.flush()
            assert K.kept_log(file.fileno(), names) == want


def test_a_long_output_is_held_within_the_head_the_tail_and_a_chunk() -> None:
    """At the real sizes, 12 MiB of output fed a chunk at a time (a pod's log, poll by poll): the
    output held never passes the head + the tail + a chunk, and the stored log keeps every loss line."""
    line = b"y" * 99 + b"\n"
    chunk = line * (K.READ_CHUNK_BYTES // len(line))
    kept = K.KeptLog(["loss"])
    for i in range(12):
        kept.feed(chunk + b"loss=%d\n" % i)
        assert held(kept) <= K.LOG_HEAD_BYTES + K.LOG_TAIL_BYTES + K.READ_CHUNK_BYTES + len(line)
    text = kept.text()
    assert [int(piece.split("\n")[0]) for piece in text.split("loss=")[1:]] == list(range(12))
    assert len(text.encode()) < K.LOG_HEAD_BYTES + K.LOG_TAIL_BYTES + 1000


def test_a_log_over_the_bound_read_from_a_file_keeps_its_metric_lines() -> None:
    """kept_log of a 12 MiB file (the local launcher's output), at the real sizes: the middle is
    let out of the tail several times, each piece's unended line carried to the next."""
    line = b"y" * 99 + b"\n"
    out = b"".join(b"loss=%d\n" % i if i % 1000 == 0 else line for i in range(126_000))
    assert len(out) > K.LOG_HEAD_BYTES + K.LOG_TAIL_BYTES + 5 * K.READ_CHUNK_BYTES
    with tempfile.TemporaryFile() as file:
        file.write(out)
        file.flush()
        text = K.kept_log(file.fileno(), ["loss"])
        assert os.lseek(file.fileno(), 0, os.SEEK_CUR) == len(out)  # read by position: the trial may still write at its offset
    assert text.count("loss=") == out.count(b"loss=")
    assert text == stated_rule(out, ["loss"], K.LOG_HEAD_BYTES, K.LOG_TAIL_BYTES)


def test_a_file_shorter_than_its_size_said_is_read_to_its_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """A trial's output file can be cut between fstat and the reads (the size said is then more
    than is there): kept_log stops at the first empty read instead of asking again for ever.
    The reads are counted (a guard, not a clock): no more than the file's chunks and the empty one."""
    reads: list[int] = []

    def pread(fd: int, count: int, offset: int) -> bytes:
        reads.append(offset)
        assert len(reads) <= 10, "kept_log read on past the file's end"
        return os.pread(fd, count, offset)

    with tempfile.TemporaryFile() as file:
        file.write(b"loss=0.5\n" * 3)
        file.flush()
        fake_os = type("FakeOs", (), {"fstat": staticmethod(lambda fd: os.stat_result((0, 0, 0, 0, 0, 0, 27 + 1000, 0, 0, 0))),
                                      "pread": staticmethod(pread)})
        monkeypatch.setattr(K, "os", fake_os)
        assert K.kept_log(file.fileno(), ["loss"]) == "loss=0.5\n" * 3
    assert reads == [0, 27]


def test_the_stored_log_sizes_are_the_guides() -> None:
    """docs/guide.md: the whole output up to 5 MiB; past that its first 1 MiB and last 4 MiB, and
    the first 4 MiB of the left-out lines that name a metric."""
    from conftest import REPO

    guide = " ".join((REPO / "docs" / "guide.md").read_text().split())
    assert "The stored log (`kfp-tune logs`) is the whole output up to 5 MiB; past that, its first 1 MiB and last 4 MiB" in guide
    assert "the left-out lines that name a metric: the first 4 MiB of them whole" in guide
    assert (K.LOG_HEAD_BYTES, K.LOG_TAIL_BYTES, K.LOG_MIDDLE_BYTES) == (1 << 20, 4 << 20, 4 << 20)


def test_a_tail_of_progress_bar_lines_is_kept_from_a_line_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """Output whose lines end with ``\\r`` only (a progress bar's) keeps its last bytes from the
    first ``\\r`` in them, as the collector splits lines, not from the first ``\\n`` (which
    kept only the last line)."""
    monkeypatch.setattr(K, "LOG_HEAD_BYTES", 100)
    monkeypatch.setattr(K, "LOG_TAIL_BYTES", 400)
    monkeypatch.setattr(K, "READ_CHUNK_BYTES", 50)
    out = b"".join(b"\rprogress %4d/1000 [#####-----]" % i for i in range(1000)) + b"\nloss=0.25\n"
    kept = K.KeptLog(["loss"])
    kept.feed(out)
    tail = kept.text().split("]\n", 1)[1]
    assert tail.endswith("\rprogress  999/1000 [#####-----]\nloss=0.25\n")
    assert 400 - 32 < len(tail) <= 400 and tail.startswith("progress")


CHOICES = [
    b"\r", b"\n", b"\r\n", b" it=1.5s ", b"progress ", b"loss=0.5", b"loss=1e-3", b"loss=7", b"loss=-2", b"loss=1.5abc",
    b"loss=", b"accuracy=0.25", b"accuracy=0.75", b"geno=Cell(a)", b"\n2024-01-01T00:00:0%d.5Z ", b"\x0c", b"\xc3\xa9",
]
"""Values of two numeric metrics and a text one, values the collector drops, lines split by
``\\r`` and by what only ``str.splitlines`` splits (``\\x0c``), lines with times out of order."""


def observed(text: str, formats: list[str]) -> tuple[dict[str, dict[str, float | int]], dict[str, str]]:
    """What collect-metrics reads of a stored log: each metric's min, max and latest, the text metric's latest."""
    from kfp_tune.collectors.stdout import parse_metric_lines
    from kfp_tune.core.observation import Observation, latest_texts

    logs = parse_metric_lines(text.splitlines(), ["loss", "accuracy", "geno"], formats, ["geno"])
    summary = Observation.from_logs(logs, ["loss", "accuracy"]).to_dict()
    return {name: {k: v for k, v in values.items() if k != "count"} for name, values in summary.items()}, latest_texts(logs, ["geno"])


def test_metric_lines_past_the_middle_s_bytes_keep_every_value_a_strategy_picks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past LOG_MIDDLE_BYTES of metric lines, only those holding a metric's least, greatest or
    latest value are kept: seeded random outputs (progress bars naming a metric in each ``\\r``
    segment, times out of order, a text metric) read the same min, max and latest from the stored
    log as from the whole output, with Katib's default format and with one of the user's; and the
    stored log stays within head + tail + LOG_MIDDLE_BYTES + four lines per metric."""
    draw = random.Random(20261205)
    for _ in range(600):
        head_limit, tail_limit, middle_limit, chunk = draw.randint(6, 40), draw.randint(1, 40), draw.randint(0, 60), draw.randint(1, 30)
        monkeypatch.setattr(K, "LOG_HEAD_BYTES", head_limit)
        monkeypatch.setattr(K, "LOG_TAIL_BYTES", tail_limit)
        monkeypatch.setattr(K, "LOG_MIDDLE_BYTES", middle_limit)
        monkeypatch.setattr(K, "READ_CHUNK_BYTES", chunk)
        formats = draw.choice([[], [r"([\w|-]+)=([^\s\r]+)"]])
        pieces = [draw.choice(CHOICES) for _ in range(draw.randint(0, 120))]
        # whole lines at both ends, so that neither the head nor the tail cuts a metric line
        out = b"start\n" + b"".join(piece.replace(b"%d", b"%d" % draw.randint(0, 9)) for piece in pieces) + b"\n" + b"e" * 41 + b"\n"
        kept = K.KeptLog(["loss", "accuracy", "geno"], formats)
        start = 0
        while start < len(out):
            end = start + draw.randint(1, 40)
            kept.feed(out[start:end])
            start = end
        text = kept.text()
        assert observed(text, formats) == observed(out.decode("utf-8", errors="replace"), formats), (out, head_limit, tail_limit, middle_limit, chunk)
        longest = max(map(len, out.splitlines(keepends=True)), default=0)
        note = text.encode().index(b"]\n") + 2 if len(out) > head_limit + tail_limit else 0
        assert len(text.encode()) - note <= head_limit + tail_limit + middle_limit + 12 * longest + 1, (out, head_limit, tail_limit, middle_limit)


def test_a_progress_bar_naming_a_metric_in_each_segment_is_kept_within_its_bound() -> None:
    """At the real sizes, 24 MiB of tqdm-like output with ``loss=`` in each ``\\r`` segment: the
    stored log is about head + tail + LOG_MIDDLE_BYTES (it was the whole output), and keeps the
    least, greatest and latest loss."""
    segments = [b"\rtrain %6d/24000 [#####-----] it=1.0s, loss=%.6f" % (i, 2 + math.sin(i) / (1 + i / 1000)) + b" " * 940 for i in range(24_000)]
    out = b"".join(segments) + b"\ndone\n"
    kept = K.KeptLog(["loss"])
    for start in range(0, len(out), K.READ_CHUNK_BYTES):
        kept.feed(out[start : start + K.READ_CHUNK_BYTES])
    text = kept.text()
    assert len(text.encode()) < K.LOG_HEAD_BYTES + K.LOG_TAIL_BYTES + K.LOG_MIDDLE_BYTES + 4 * len(segments[0]) + 1000
    assert observed(text, []) == observed(out.decode(), [])
    assert "of the 18" in text and "lines among them that name a metric follow: the first" in text
