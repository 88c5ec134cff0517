"""Bounds on a YAML text, checked before anything is built from it: the nodes it stands for
once aliases are expanded (:data:`MAX_NODES`) and its depth (:data:`MAX_DEPTH`). An experiment
file (:mod:`.loading`) and a parameter's value substituted into a ConfigMap template
(:func:`.template.yaml_value`) are both checked, so no text can make a command hang or run out
of memory ("billion laughs")."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    NodeEvent,
    ScalarEvent,
)

from kfp_tune.core.errors import WHOLE_FILE, FieldError, SpecError

MAX_NODES = 100_000
"""YAML nodes (mappings, lists, scalars) once aliases are expanded. A large experiment (a
categorical list of thousands of values, a trial template with many containers) has a few
thousand; everything downstream walks the expanded tree, so this bounds its cost."""
MAX_DEPTH = 100
"""Nesting levels; Kubernetes manifests go about 15 deep."""

BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML has it


def file_error(message: str) -> SpecError:
    """A problem with the text as a whole (not one field): the caller names the file."""
    return SpecError([FieldError(WHOLE_FILE, message)])


def bounded_file_bytes(path: Path, limit: int) -> bytes | None:
    """The bytes of the file at ``path``, or None when it holds more than ``limit``: its size
    looked at first (a multi-GB dataset saved as ``.yaml`` is refused unread), then at most
    ``limit`` + 1 bytes read (a file that grew, or one whose size says nothing, cannot take
    more). OSError when it cannot be read."""
    with path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size > limit:
            return None
        data = handle.read(limit + 1)
    return data if len(data) <= limit else None


def _line(event: Any) -> int:
    mark = getattr(event, "start_mark", None)
    return int(mark.line) + 1 if mark is not None else 0


LIBYAML_DEPTH_PROBLEM = "exceeded maximum nesting depth"
"""How libyaml words its own bound (1,000 levels), met before :data:`MAX_DEPTH` where its scanner
reads ahead: a flow collection's ``[`` may start a key, so it scans the rest of a long line
before the parser gives the first event."""


def nesting_problem(line: int) -> str:
    """The refusal of a text nested past :data:`MAX_DEPTH`, whoever found it."""
    return f"line {line}: nested more than {MAX_DEPTH} levels deep"


def _too_deep_for_libyaml(exc: yaml.YAMLError) -> int | None:
    """The line where libyaml stopped at its own nesting bound (None for any other error)."""
    if isinstance(exc, yaml.MarkedYAMLError) and LIBYAML_DEPTH_PROBLEM in (exc.problem or ""):
        mark = exc.problem_mark or exc.context_mark
        return mark.line + 1 if mark is not None else 0
    return None


class _WordingLoader(yaml.SafeLoader):
    """Pure-Python PyYAML, run only to word a syntax error libyaml found (:func:`yaml_problem`),
    with flow collections bounded at :data:`MAX_DEPTH`: its scanner does work in proportion to
    the open flow levels at every token, so 5,000 ``[`` took a minute."""

    def fetch_flow_collection_start(self, token_class: Any) -> None:
        if self.flow_level >= MAX_DEPTH:
            mark = self.get_mark()
            raise yaml.scanner.ScannerError(None, None, f"{LIBYAML_DEPTH_PROBLEM} ({MAX_DEPTH} levels)", mark)
        super().fetch_flow_collection_start(token_class)


def yaml_problem(exc: yaml.YAMLError, text: str | None = None) -> str:
    """PyYAML's message without the quoted source line (which may be megabytes long). Given
    the ``text`` that raised ``exc``, a syntax error is worded as pure-Python PyYAML words it:
    libyaml's message leaves out the character it stopped at (a tab: "found character that
    cannot start any token"), so the text is scanned again, on this error path only, nested no
    deeper than :data:`MAX_DEPTH`. A text nested past it is said so (:func:`nesting_problem`),
    whichever parser stopped."""
    return _problem(exc, text)[0]


def yaml_refusal(exc: yaml.YAMLError, text: str | None = None) -> str:
    """What the refusal of a text says: "not valid YAML: " and :func:`yaml_problem`, or for a
    text nested past :data:`MAX_DEPTH` the bound alone, as :func:`check_yaml_shape` says it."""
    problem, too_deep = _problem(exc, text)
    return problem if too_deep else f"not valid YAML: {problem}"


def _problem(exc: yaml.YAMLError, text: str | None) -> tuple[str, bool]:
    """(:func:`yaml_problem`'s words, whether they are the nesting bound's)."""
    if (line := _too_deep_for_libyaml(exc)) is not None:
        return nesting_problem(line), True
    if text is not None and BASE_LOADER is not yaml.SafeLoader and isinstance(exc, (yaml.scanner.ScannerError, yaml.parser.ParserError)):
        try:
            for _ in yaml.parse(text, Loader=_WordingLoader):
                pass
        except yaml.YAMLError as again:
            if (line := _too_deep_for_libyaml(again)) is not None:
                return nesting_problem(line), True
            exc = again
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        context = f" ({exc.context})" if exc.context else ""
        return f"{where}{exc.problem or 'cannot be parsed'}{context}", False
    return str(exc)[:300], False


def check_yaml_shape(text: str) -> None:
    """One pass over the parser's events, before anything is built: depth, and the number of
    nodes the document stands for once every alias is expanded (an alias counts the whole
    node it names). Stops at the first bound crossed, so even a hostile file costs little."""
    loader = BASE_LOADER(text)
    sizes: dict[str, int] = {}  # anchor -> expanded node count of its (finished) node
    open_nodes: list[tuple[str | None, int]] = []  # (anchor, node count before it) per open collection
    total = expanded_by_aliases = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, DocumentStartEvent):
                sizes.clear()  # anchors do not reach across documents
            elif isinstance(event, AliasEvent):
                anchor = event.anchor
                if any(name == anchor for name, _ in open_nodes):
                    raise file_error(f"line {_line(event)}: alias *{anchor} is inside its own anchor &{anchor} (a recursive structure)")
                if anchor not in sizes:
                    raise file_error(f"line {_line(event)}: alias *{anchor} names no anchor before it")
                total += sizes[anchor]
                expanded_by_aliases += sizes[anchor]
            elif isinstance(event, ScalarEvent):
                total += 1
                if event.anchor:
                    sizes[event.anchor] = 1
            elif isinstance(event, CollectionStartEvent):
                open_nodes.append((event.anchor, total))
                total += 1
                if len(open_nodes) > MAX_DEPTH:
                    raise file_error(nesting_problem(_line(event)))
            elif isinstance(event, CollectionEndEvent):
                anchor, before = open_nodes.pop()
                if anchor:
                    sizes[anchor] = total - before
            if isinstance(event, (NodeEvent, CollectionEndEvent)) and total > MAX_NODES:
                if expanded_by_aliases:
                    raise file_error(
                        f"line {_line(event)}: YAML aliases expand this document to more than {MAX_NODES:,} nodes "
                        f"({expanded_by_aliases:,} of them copies made by aliases); refused, as kubectl refuses excessive aliasing"
                    )
                raise file_error(f"line {_line(event)}: more than {MAX_NODES:,} YAML nodes; an experiment has a few thousand")
    except yaml.YAMLError as exc:
        raise file_error(yaml_refusal(exc, text)) from None
    finally:
        loader.dispose()
