"""Katib's trial success and failure conditions: the subset of GJSON they are written in.

Katib evaluates ``successCondition`` / ``failureCondition`` with GJSON against the trial
resource and calls the trial done when the result exists. The shapes its defaults and examples
use, and the ones this module reads:

- a dotted path: ``status.succeeded``, ``status.conditions``
- a query for the first match ``#(type=="Complete")`` or every match ``#(type=="Complete")#``,
  with ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` against a string, number, true, false or null
- ``|`` to apply the next part to the result of the one before:
  ``status.conditions.#(type=="Complete")#|#(status=="True")#``
- ``#`` alone: the length of an array

A condition holds when its result exists and is not an empty array. Anything else is refused
when the experiment is validated, with the position that was not understood.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_MISSING = object()
_QUERY = re.compile(r"#\(\s*([A-Za-z0-9_.\-]+)\s*(==|!=|<=|>=|<|>)\s*(\"(?:[^\"\\]|\\.)*\"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)\s*\)(#?)")
_KEY = re.compile(r"[A-Za-z0-9_\-]+")
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


class ConditionError(ValueError):
    """A condition outside the supported GJSON subset."""


@dataclass(frozen=True)
class _Step:
    kind: str  # "key", "length", "query"
    key: str = ""
    op: str = ""
    value: Any = None
    all_matches: bool = False


def parse(condition: str) -> list[list[_Step]]:
    """The condition as pipe-separated parts, each a list of steps; ConditionError if it is
    outside the subset."""
    if not condition.strip():
        raise ConditionError("empty condition")
    parts: list[list[_Step]] = []
    position = 0
    text = condition.strip()
    steps: list[_Step] = []
    expect_step = True
    while position < len(text):
        char = text[position]
        if char == "|":
            if expect_step:
                raise ConditionError(f"nothing before '|' at position {position}")
            parts.append(steps)
            steps, expect_step = [], True
            position += 1
            continue
        if char == ".":
            if expect_step:
                raise ConditionError(f"unexpected '.' at position {position}")
            expect_step = True
            position += 1
            continue
        if not expect_step:
            raise ConditionError(f"expected '.' or '|' at position {position}, got {char!r}")
        query = _QUERY.match(text, position)
        if query:
            field, op, raw, every = query.groups()
            steps.append(_Step("query", key=field, op=op, value=json.loads(raw), all_matches=every == "#"))
            position = query.end()
        elif text.startswith("#", position) and (position + 1 == len(text) or text[position + 1] in ".|"):
            steps.append(_Step("length"))
            position += 1
        else:
            key = _KEY.match(text, position)
            if not key:
                raise ConditionError(f"not understood at position {position}: {text[position:position + 20]!r}")
            steps.append(_Step("key", key=key.group(0)))
            position = key.end()
        expect_step = False
    if expect_step:
        raise ConditionError("the condition ends with '.' or '|'")
    parts.append(steps)
    return parts


def _field(item: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(item, dict) or key not in item:
            return _MISSING
        item = item[key]
    return item


def _matches(item: Any, step: _Step) -> bool:
    found = _field(item, step.key)
    if found is _MISSING:
        return False
    try:
        return bool(_OPERATORS[step.op](found, step.value))
    except TypeError:  # "3" < 4: GJSON compares only like with like
        return False


def _apply(value: Any, step: _Step) -> Any:
    if step.kind == "key":
        if isinstance(value, dict):
            return value.get(step.key, _MISSING)
        if isinstance(value, list) and step.key.isdigit():
            index = int(step.key)
            return value[index] if index < len(value) else _MISSING
        return _MISSING
    if not isinstance(value, list):
        return _MISSING
    if step.kind == "length":
        return len(value)
    matches = [item for item in value if _matches(item, step)]
    if step.all_matches:
        return matches
    return matches[0] if matches else _MISSING


def evaluate(condition: str, resource: dict[str, Any]) -> Any:
    """The condition's result on a resource, or None when it does not exist."""
    value: Any = resource
    for part in parse(condition):
        for step in part:
            value = _apply(value, step)
            if value is _MISSING:
                return None
    return value


def holds(condition: str, resource: dict[str, Any]) -> bool:
    """Whether the condition holds: its result exists and is not an empty array (nor null)."""
    result = evaluate(condition, resource)
    return result is not None and result != []
