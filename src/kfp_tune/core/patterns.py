"""User regular expressions (a metrics collector's ``metricsFormat``), with Katib's semantics.

Katib runs them with Go's ``regexp``, which is RE2: matching takes time linear in the text,
and backreferences and lookaround are refused when the pattern compiles. Python's ``re``
backtracks, so a pattern such as ``(a+)+b`` can take exponential time on one line of a trial's
output. Every user pattern goes through here, to Google's RE2 (``google-re2``), so a pattern
validation accepts is exactly one the collector can run, in linear time.

It lives in the core, beside the validation that refuses what RE2 refuses: RE2 is a pure
matching engine (no I/O, no platform), like the YAML and model libraries the core already uses.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any, Protocol


class PatternError(ValueError):
    """A pattern kfp-tune does not run; the message says why. ``katib_refuses``: whether Katib's
    Go engine refuses it too (RE2's reasons), or only kfp-tune (its own length limit)."""

    def __init__(self, message: str, katib_refuses: bool = True) -> None:
        super().__init__(message)
        self.katib_refuses = katib_refuses


class Match(Protocol):
    def group(self, index: int) -> str | None: ...
    def end(self, index: int) -> int: ...


class Pattern(Protocol):
    @property
    def groups(self) -> int: ...
    def finditer(self, text: str) -> Iterator[Match]: ...


MAX_PATTERN_LENGTH = 4096
"""Characters in one pattern; a metrics filter is a line or two. kfp-tune's own limit, against
patterns that take too long to compile: Katib (Go's regexp) sets none on the length."""


@functools.lru_cache(maxsize=64)
def compile_pattern(pattern: str) -> Pattern:
    """The compiled RE2 pattern; PatternError with RE2's reason if it does not compile."""
    import re2

    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(
            f"longer than {MAX_PATTERN_LENGTH} characters (kfp-tune's own limit, against patterns that take too long to compile; Katib sets none)",
            katib_refuses=False,
        )
    options: Any = re2.Options()
    options.log_errors = False  # RE2 would print every refused pattern to stderr
    try:
        compiled: Pattern = re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        text = reason.decode("utf-8", errors="replace") if isinstance(reason, bytes) else str(reason)
        hint = " (Katib's Go regexp, like RE2, has no backreferences or lookaround)" if "perl operator" in text or "escape" in text else ""
        raise PatternError(f"RE2 refuses it: {text}{hint}") from None
    return compiled
