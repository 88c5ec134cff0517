"""Bounds on a YAML text, checked before anything is built from it: the nodes it stands for
once aliases are expanded (:data:`MAX_NODES`) and its depth (:data:`MAX_DEPTH`). An experiment
file (:mod:`.loading`) and a parameter's value substituted into a ConfigMap template
(:func:`.template.yaml_value`) are both checked, so no text can make a command hang or run out
of memory ("billion laughs")."""

from __future__ import annotations

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


def _line(event: Any) -> int:
    mark = getattr(event, "start_mark", None)
    return int(mark.line) + 1 if mark is not None else 0


def yaml_problem(exc: yaml.YAMLError, text: str | None = None) -> str:
    """PyYAML's message without the quoted source line (which may be megabytes long). Given
    the ``text`` that raised ``exc``, a syntax error is worded as pure-Python PyYAML words it:
    libyaml's message leaves out the character it stopped at (a tab: "found character that
    cannot start any token"), so the text is scanned again, on this error path only."""
    if text is not None and BASE_LOADER is not yaml.SafeLoader and isinstance(exc, (yaml.scanner.ScannerError, yaml.parser.ParserError)):
        try:
            for _ in yaml.parse(text, Loader=yaml.SafeLoader):
                pass
        except yaml.YAMLError as again:
            exc = again
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        context = f" ({exc.context})" if exc.context else ""
        return f"{where}{exc.problem or 'cannot be parsed'}{context}"
    return str(exc)[:300]


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
                    raise file_error(f"line {_line(event)}: nested more than {MAX_DEPTH} levels deep")
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
        raise file_error(f"not valid YAML: {yaml_problem(exc, text)}") from None
    finally:
        loader.dispose()
