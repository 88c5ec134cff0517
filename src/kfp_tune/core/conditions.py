"""Katib's trial success and failure conditions: GJSON paths, read as Katib reads them.

Katib marshals the trial resource to JSON (Go's encoding/json: object keys sorted), runs
``gjson.Get(json, condition)`` with tidwall/gjson v1.14 and calls the condition met when the
result is an object or a non-empty array (``GetDeployedJobStatus`` in
pkg/controller.v1beta1/trial/util/job_util.go). A string, a number, ``true`` or ``[]`` is not
met. The failure condition is looked at first; the met result (an array: its first item) gives
the trial's reason and message.

The GJSON read here, with gjson's meaning (its SYNTAX.md):

- keys ``status.phase``, array indexes ``status.conditions.0``, ``\\`` escapes (``fav\\.movie``)
- ``#``: an array's length; ``#.key``: ``key`` of every item
- queries ``#(...)`` (first match) and ``#(...)#`` (every match) with ``==`` (or ``=``), ``!=``,
  ``<``, ``<=``, ``>``, ``>=``, ``%`` (like: ``*`` and ``?``), ``!%``, an optional ``~`` before the
  value (compare as a boolean), ``#(key)`` (the key exists), ``#(=="x")`` on items that are not
  objects, and queries nested in a query's path
- ``.`` and ``|``: after ``#`` or ``#(...)#`` a ``.`` applies the rest to every item, a ``|`` to
  the array itself
- modifiers ``@this``, ``@reverse``, ``@flatten``, ``@join``, ``@keys``, ``@values``, ``@valid``,
  ``@ugly``, ``@pretty``, ``@group`` (arguments as JSON objects: ``@flatten:{"deep":true}``)
- multipaths ``[a,b]`` and ``{a,"name":b}`` (``status.[@this].#(phase=="Succeeded")#``, the
  Argo example's condition), literals ``!true``, ``!{"a":1}``

Refused when the experiment is validated, each with its position and what was expected:
wildcards in keys (``*``, ``?``: escape them to match them), ``|`` inside ``#(...)``, ``[...]``
or ``{...}``, unknown modifiers and ``@tostr`` / ``@fromstr``, JSON Lines (``..``), empty parts,
and a query with an operator but no value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from kfp_tune.core.observation import go_float


class ConditionError(ValueError):
    """A condition outside the GJSON read here."""


class _Missing:
    """GJSON's non-existent result (distinct from JSON null, which exists)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

# --- the parsed path --------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    name: str


@dataclass(frozen=True)
class Count:
    """``#``."""


@dataclass(frozen=True)
class Query:
    path: tuple[Any, ...]  # () for the item itself
    op: str  # "" (exists), "=", "!=", "<", "<=", ">", ">=", "%", "!%"
    value: str  # as gjson holds it: a quoted value unquoted, anything else as written
    every: bool


@dataclass(frozen=True)
class Modifier:
    name: str
    deep: bool = False  # @flatten:{"deep":true}
    preserve: bool = False  # @join:{"preserve":true}


@dataclass(frozen=True)
class Multi:
    kind: str  # "[" or "{"
    items: tuple[tuple[str, tuple[Any, ...]], ...]  # (key in an object, path; () for an empty item)


@dataclass(frozen=True)
class Literal:
    text: str  # JSON


Path = tuple[Any, ...]
"""Parts and separators in turn: ``(Key("status"), ".", Key("phase"))``."""

MODIFIERS = ("this", "reverse", "flatten", "join", "keys", "values", "valid", "ugly", "pretty", "group")
_KEY_START = "a key, '#', '#(...)', '@modifier', '[...]' or '{...}'"
_DIGITS = re.compile(r"[0-9]+")
_JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def _fail(position: int, problem: str) -> ConditionError:
    return ConditionError(f"position {position}: {problem}")


@lru_cache(maxsize=256)
def parse(condition: str) -> Path:
    """The condition's parsed path; ConditionError naming the position of what is refused."""
    if not condition.strip():
        raise ConditionError("empty condition: expected a GJSON path such as status.conditions.#(type==\"Complete\")#|#(status==\"True\")#")
    if condition.startswith(".."):
        raise _fail(0, "JSON Lines ('..') is not supported; expected a path into the trial resource")
    try:
        return _parse_path(condition, 0, nested=False)
    except RecursionError:
        raise ConditionError("queries and multipaths nested too deeply") from None


def _parse_path(text: str, offset: int, nested: bool) -> Path:
    tokens: list[Any] = []
    i, fresh = 0, True
    while True:
        if i == len(text) or text[i] in ".|":
            raise _fail(offset + i, f"expected {_KEY_START}, got {_shown(text, i)}")
        part, i = _parse_part(text, i, offset, fresh, nested)
        tokens.append(part)
        if i == len(text):
            return tuple(tokens)
        separator = text[i]
        if separator not in ".|":
            raise _fail(offset + i, f"expected '.', '|' or the end after {_what(part)}, got {_shown(text, i)}")
        if separator == "|" and nested:
            raise _fail(offset + i, "'|' inside #(...), [...] or {...} is not supported (gjson may split the path there); use '.'")
        tokens.append(separator)
        i += 1
        # where gjson starts a new Get: after '|', and after '.' that follows anything but a key
        fresh = separator == "|" or not isinstance(part, Key)


def _parse_part(text: str, i: int, offset: int, fresh: bool, nested: bool) -> tuple[Any, int]:
    char = text[i]
    if char == "#":
        if i + 1 == len(text) or text[i + 1] in ".|":
            return Count(), i + 1
        if text[i + 1] == "(":
            return _parse_query(text, i, offset, nested)
        if text[i + 1] == "[":
            raise _fail(offset + i, "'#[...]' is gjson's old query form; write it as #(...)")
        raise _fail(offset + i + 1, f"expected '(', '.', '|' or the end after '#', got {_shown(text, i + 1)}")
    if char == "@":
        return _parse_modifier(text, i, offset)
    if char in "[{":
        return _parse_multi(text, i, offset)
    if char == "!":
        if not fresh:
            raise _fail(offset + i, "a literal (!...) goes at the start of a path, after '|' or in a multipath, not after 'key.'")
        return _parse_literal(text, i, offset)
    return _parse_key(text, i, offset)


def _parse_key(text: str, i: int, offset: int) -> tuple[Key, int]:
    chars: list[str] = []
    while i < len(text) and text[i] not in ".|":
        char = text[i]
        if char == "\\":
            if i + 1 == len(text):
                raise _fail(offset + i, "a '\\' at the end escapes nothing; expected a character after it")
            chars.append(text[i + 1])
            i += 2
            continue
        if char in "*?":
            raise _fail(offset + i, f"wildcard {char!r} in a key is not supported; expected a plain key (escape it as '\\{char}' to match it)")
        if char in "\"()[]{}~":
            raise _fail(offset + i, f"{char!r} in a key; expected a plain key (escape it as '\\{char}' if the key has it)")
        chars.append(char)
        i += 1
    return Key("".join(chars)), i


def _skip_string(text: str, i: int) -> tuple[int, bool]:
    """From the opening quote at i: (index of the closing quote or len(text), whether a '\\' was seen)."""
    escaped = False
    i += 1
    while i < len(text):
        if text[i] == "\\":
            escaped = True
            i += 2
            continue
        if text[i] == '"':
            return i, escaped
        i += 1
    return i, escaped


def _parse_query(text: str, start: int, offset: int, nested: bool) -> tuple[Query, int]:
    """``#(path op value)`` split as gjson's parseQuery splits it: the operator is the first of
    ``! = < > %`` outside brackets and strings."""
    op_at, depth, escaped = 0, 1, False
    i = start + 2
    while i < len(text):
        char = text[i]
        if depth == 1 and not op_at and char in "!=<>%":
            op_at = i
        elif char == "\\":
            i += 1
        elif char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
            if depth == 0:
                break
        elif char == '"':
            i, seen = _skip_string(text, i)
            escaped = escaped or seen
        i += 1
    if depth:
        raise _fail(offset + start, "unclosed query: expected ')' to end '#('")
    close = i
    path_end = op_at or close
    path_text, path_at = _trimmed(text, start + 2, path_end)
    path = _parse_path(path_text, offset + path_at, nested=True) if path_text else ()
    op, value = "", ""
    if op_at:
        raw, raw_at = _trimmed(text, op_at, close)
        written = next((o for o in ("!=", "!%", "<=", ">=", "==") if raw.startswith(o)), raw[0] if raw[0] in "=<>%" else "")
        if not written:
            raise _fail(offset + raw_at, f"expected an operator (==, !=, <, <=, >, >=, %, !%), got {_shown(text, raw_at)}")
        op = "=" if written == "==" else written
        value, value_at = _trimmed(text, raw_at + len(written), close)
        if not value:
            raise _fail(offset + close, f"expected a value after {raw.strip()!r} (a quoted string, a number, true, false or null)")
        if value.startswith('"'):
            if len(value) < 2 or not value.endswith('"'):
                raise _fail(offset + value_at, "unclosed string: expected '\"' and then ')'")
            try:
                decoded = json.loads(value, strict=False) if escaped else value[1:-1]
            except ValueError:
                raise _fail(offset + value_at, f"not a JSON string: {value}") from None
            if not isinstance(decoded, str):
                raise _fail(offset + value_at, f"not a JSON string: {value}")
            value = decoded
    end = close + 1
    every = end < len(text) and text[end] == "#"
    return Query(path, op, value, every), end + (1 if every else 0)


def _balanced(text: str, i: int) -> int:
    """The index just past the bracketed value that starts at i (gjson's squash): brackets and
    parentheses counted, strings skipped; len(text) when it is not closed."""
    depth = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            i, _ = _skip_string(text, i)
        elif char in "[{(":
            depth += 1
        elif char in "]})":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def _parse_modifier(text: str, start: int, offset: int) -> tuple[Modifier, int]:
    i = start + 1
    while i < len(text) and text[i] not in ":.|":
        i += 1
    name = text[start + 1 : i]
    if name in ("tostr", "fromstr"):
        raise _fail(offset + start, f"@{name} is not supported here (its result depends on how the JSON is written)")
    if name not in MODIFIERS:
        raise _fail(offset + start, f"unknown modifier '@{name}'; expected one of {', '.join('@' + m for m in MODIFIERS)}")
    options: dict[str, Any] = {}
    if i < len(text) and text[i] == ":" and i + 1 < len(text):
        if text[i + 1] != "{":
            raise _fail(offset + i + 1, "expected a JSON object as the modifier's argument, such as {\"deep\":true}")
        end = _balanced(text, i + 1)
        try:
            options = json.loads(text[i + 1 : end])
        except ValueError:
            raise _fail(offset + i + 1, f"the modifier's argument is not a JSON object: {text[i + 1:end]}") from None
        i = end
    elif i < len(text) and text[i] == ":":
        i += 1
    return Modifier(name, deep=_truthy(options.get("deep", False)), preserve=_truthy(options.get("preserve", False))), i


def _parse_multi(text: str, start: int, offset: int) -> tuple[Multi, int]:
    """``[a,b]`` / ``{a,"k":b}`` split as gjson's parseSubSelectors splits it."""
    kind = text[start]
    items: list[tuple[str, Path]] = []
    depth, colon, modifier, begin = 1, 0, False, start + 1
    i = start + 1

    def push(end: int) -> None:
        nonlocal colon, modifier, begin
        name_text = text[begin:colon] if colon else ""
        path_at = colon + 1 if colon else begin
        path_text = text[path_at:end]
        path = _parse_path(path_text, offset + path_at, nested=True) if path_text else ()
        items.append((_member_name(name_text, path_text) if kind == "{" else "", path))
        colon, modifier, begin = 0, False, end + 1

    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 1
        elif char == "@":
            modifier = modifier or text[i - 1] in ".|"
        elif char == ":":
            if not modifier and not colon and depth == 1:
                colon = i
        elif char == ",":
            if depth == 1:
                push(i)
        elif char == '"':
            i, _ = _skip_string(text, i)
        elif char in "[({":
            depth += 1
        elif char in "])}":
            depth -= 1
            if depth == 0:
                push(i)
                return Multi(kind, tuple(items)), i + 1
        i += 1
    raise _fail(offset + start, f"unclosed multipath: expected {']' if kind == '[' else '}'} to end {kind!r}")


def _member_name(name_text: str, path_text: str) -> str:
    """The key a ``{...}`` multipath gives an item: its name, else its path's last part when
    that part is a plain name, else ``_`` (gjson's rule)."""
    if name_text:
        if name_text.startswith('"'):
            try:
                decoded = json.loads(name_text)
            except ValueError:
                return name_text
            if isinstance(decoded, str):
                return decoded
        return name_text
    last = path_text
    for i in range(len(path_text) - 1, -1, -1):
        if path_text[i] in ".|" and not (i > 0 and path_text[i - 1] == "\\"):
            last = path_text[i + 1 :]
            break
    if any(c < " " or c in "[]{}()#|!" for c in last):
        return "_"
    return last


def _parse_literal(text: str, start: int, offset: int) -> tuple[Literal, int]:
    i = start + 1
    if i < len(text) and text[i] in "{[":
        end = _balanced(text, i)
        try:
            json.loads(text[i:end])
        except ValueError:
            raise _fail(offset + i, f"not a JSON literal: {text[i:end]}") from None
        return Literal(text[i:end]), end
    if i < len(text) and (text[i] == '"' or text[i] == "-" or text[i].isdigit()):
        rest = text[i:]  # gjson reads a string or number literal to the end of the path
        if rest.startswith('"'):
            try:
                valid = isinstance(json.loads(rest), str)
            except ValueError:
                valid = False
        else:
            valid = bool(_JSON_NUMBER.fullmatch(rest))
        if not valid:
            raise _fail(offset + i, f"a string or number literal must be valid JSON and end the path, got {rest!r}")
        return Literal(rest), len(text)
    end = i
    while end < len(text) and text[end] not in ".|":
        end += 1
    if text[i:end] not in ("true", "false", "null"):
        raise _fail(offset + i, f"expected a JSON literal after '!' (true, false, null, a number, a string, {{...}} or [...]), got {text[i:end]!r}")
    return Literal(text[i:end]), end


def _trimmed(text: str, start: int, end: int) -> tuple[str, int]:
    """text[start:end] without gjson's trimmed characters (<= ' ') at either end, and where it starts."""
    while start < end and text[start] <= " ":
        start += 1
    while end > start and text[end - 1] <= " ":
        end -= 1
    return text[start:end], start


def _shown(text: str, i: int) -> str:
    return repr(text[i : i + 20]) if i < len(text) else "the end"


def _what(part: Any) -> str:
    if isinstance(part, Key):
        return f"key {part.name!r}"
    return {Count: "'#'", Query: "a query", Modifier: "a modifier", Multi: "a multipath", Literal: "a literal"}[type(part)]


# --- evaluation -------------------------------------------------------------------------------


def _get(path: Path, value: Any) -> Any:
    """gjson.Get of the path on a value (MISSING for none)."""
    while True:
        if not path:
            return value.get("", MISSING) if isinstance(value, dict) else MISSING
        first = path[0]
        if isinstance(first, (Modifier, Multi, Literal)):
            value = _produce(first, value)
            if len(path) == 1:
                return value
            path = path[2:]
            continue
        found, piped = _descend(path, value)
        if piped is None:
            return found
        path, value = piped, found


def _descend(path: Path, value: Any) -> tuple[Any, Path | None]:
    """(the value the path's '.'-joined head finds, the rest after a '|' it reached, or None).

    A '|' is reached when the container holding the part before it is: ``missing|x`` applies
    ``x`` to nothing, which a multipath or literal turns into something, as in gjson."""
    part, separator, rest = path[0], path[1] if len(path) > 1 else None, path[2:]
    while isinstance(value, dict) or (isinstance(value, list) and isinstance(part, Key)):
        if isinstance(part, Query):
            return MISSING, None
        name = "#" if isinstance(part, Count) else part.name
        if isinstance(value, dict):
            found = value.get(name, MISSING)
        else:
            found = value[int(name)] if _DIGITS.fullmatch(name) and int(name) < len(value) else MISSING
        if separator == "|" or (separator == "." and isinstance(rest[0], (Modifier, Multi))):
            return found, rest
        if separator is None:
            return found, None
        if not isinstance(found, (dict, list)):
            return MISSING, None
        value, path = found, rest  # down one level: the rest of the dotted path
        part, separator, rest = path[0], path[1] if len(path) > 1 else None, path[2:]
    if not isinstance(value, list):
        return MISSING, None
    if isinstance(part, Count):
        if separator is None:
            return len(value), None
        if separator == "|":
            return len(value), rest
        left, right = _split_pipe(rest)
        return [r for item in value if (r := _get(left, item)) is not MISSING], right
    if part.every:
        matches = [item for item in value if _matches(part, item)]
        if separator is None:
            return matches, None
        if separator == "|":
            return matches, rest
        if not matches:
            return [], None
        left, right = _split_pipe(rest)
        return [r for item in matches if (r := _get(left, item)) is not MISSING], right
    first = next((item for item in value if _matches(part, item)), MISSING)
    if separator is None:
        return first, None
    if separator == "|":
        return first, rest
    if first is MISSING:
        return MISSING, None
    left, right = _split_pipe(rest)
    return _get(left, first), right


def _split_pipe(path: Path) -> tuple[Path, Path | None]:
    """After ``#.`` or a query and ``.``: the part applied to each item, and the part after the
    first '|' applied to the result (gjson's splitPossiblePipe, which does not split
    ``{...}`` unless the '|' comes right after it)."""
    if isinstance(path[0], Multi) and path[0].kind == "{":
        return (path[:1], path[2:]) if len(path) > 1 and path[1] == "|" else (path, None)
    for index, token in enumerate(path):
        if token == "|":
            return path[:index], path[index + 1 :]
    return path, None


def _matches(query: Query, item: Any) -> bool:
    if isinstance(item, (dict, list)):
        found = _get(query.path, item)
    elif query.path:
        return False
    else:
        found = item
    expected = query.value
    if expected.startswith("~"):
        expected, found = expected[1:], _truthy(found)
    if found is MISSING:
        return False
    op = query.op
    if not op:
        return True
    if found is True:
        return {"=": expected == "true", "!=": expected != "true", ">": expected == "false", ">=": True}.get(op, False)
    if found is False:
        return {"=": expected == "false", "!=": expected != "false", "<": expected == "true", "<=": True}.get(op, False)
    if isinstance(found, str):
        if op == "%":
            return like(found, expected)
        if op == "!%":
            return not like(found, expected)
        return _compare(op, found, expected)
    if isinstance(found, (int, float)):
        return op not in ("%", "!%") and _compare(op, float(found), _go_float(expected))
    return False  # null, an object or an array compares with nothing


def _compare(op: str, left: Any, right: Any) -> bool:
    return bool({"=": left == right, "!=": left != right, "<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op])


def _truthy(value: Any) -> bool:
    """gjson's Result.Bool."""
    if value is True or value is False:
        return value
    if isinstance(value, str):
        return value.lower() in ("1", "t", "true")
    if isinstance(value, (int, float)):
        return value != 0
    return False


def _go_float(text: str) -> float:
    """strconv.ParseFloat as gjson uses it: 0 when the text is not a number."""
    try:
        return go_float(text)
    except ValueError:
        return 0.0


def like(text: str, pattern: str) -> bool:
    """gjson's ``%``: ``*`` matches any run of characters, ``?`` one, ``\\`` makes the next
    character plain."""
    tokens: list[tuple[str, str]] = []  # ("*", ""), ("?", ""), ("c", char)
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if i + 1 == len(pattern):
                return False  # an escape with nothing after it matches nothing
            tokens.append(("c", pattern[i + 1]))
            i += 2
            continue
        tokens.append((char, "") if char in "*?" else ("c", char))
        i += 1
    t = p = 0
    star, star_t = -1, 0
    while t < len(text):
        if p < len(tokens) and (tokens[p][0] == "?" or (tokens[p][0] == "c" and tokens[p][1] == text[t])):
            t, p = t + 1, p + 1
        elif p < len(tokens) and tokens[p][0] == "*":
            star, star_t, p = p, t, p + 1
        elif star >= 0:
            star_t += 1
            t, p = star_t, star + 1
        else:
            return False
    while p < len(tokens) and tokens[p][0] == "*":
        p += 1
    return p == len(tokens)


def _produce(part: Any, value: Any) -> Any:
    if isinstance(part, Literal):
        return json.loads(part.text)
    if isinstance(part, Multi):
        results = [(name, _get(path, value)) for name, path in part.items]
        if part.kind == "[":
            return [r for _, r in results if r is not MISSING]
        obj: dict[str, Any] = {}
        for name, result in results:
            if result is not MISSING:
                obj.setdefault(name, result)  # a repeated key: gjson reads the first
        return obj
    return _modify(part, value)


def _modify(modifier: Modifier, value: Any) -> Any:
    name = modifier.name
    if name in ("this", "valid", "ugly", "pretty"):
        return value
    if name == "keys":
        if value is MISSING:
            return []
        return list(value) if isinstance(value, dict) else [None] * (len(value) if isinstance(value, list) else 1)
    if name == "values":
        if value is MISSING:
            return []
        return list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else [value]
    if name == "reverse":
        if isinstance(value, list):
            return value[::-1]
        return dict(reversed(list(value.items()))) if isinstance(value, dict) else value
    if name == "flatten":
        return _flatten(value, modifier.deep) if isinstance(value, list) else value
    if name == "join":
        if not isinstance(value, list):
            return value
        joined: dict[str, Any] = {}
        for item in value:
            if isinstance(item, dict):
                for key, member in item.items():
                    if modifier.preserve:
                        joined.setdefault(key, member)  # kept twice in gjson's text; a lookup finds the first
                    else:
                        joined[key] = member
        return joined
    # group
    if not isinstance(value, dict):
        return MISSING
    rows: list[dict[str, Any]] = []
    for key, member in value.items():
        if isinstance(member, list):
            for index, item in enumerate(member):
                if index == len(rows):
                    rows.append({})
                rows[index].setdefault(key, item)
    return rows


def _flatten(items: list[Any], deep: bool) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if isinstance(item, list):
            out.extend(_flatten(item, deep) if deep else item)
        else:
            out.append(item)
    return out


def _as_katib_sees_it(value: Any) -> Any:
    """The resource as Katib's JSON has it: object keys in sorted order (Go's encoding/json)."""
    if isinstance(value, Mapping):
        return {str(k): _as_katib_sees_it(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [_as_katib_sees_it(v) for v in value]
    return value


def result(condition: str, resource: Mapping[str, Any]) -> Any:
    """gjson.Get(resource, condition): the result, or MISSING when there is none."""
    try:
        return _get(parse(condition), _as_katib_sees_it(resource))
    except RecursionError:  # '#.' upon '#.' into a resource nested as deep: read as no result
        return MISSING


def evaluate(condition: str, resource: Mapping[str, Any]) -> Any:
    """The condition's result on a resource, or None when it does not exist (or is null)."""
    found = result(condition, resource)
    return None if found is MISSING else found


def is_met(found: Any) -> bool:
    """Katib's rule: a result is met when it is an object or a non-empty array."""
    return isinstance(found, dict) or (isinstance(found, list) and len(found) > 0)


def holds(condition: str, resource: Mapping[str, Any]) -> bool:
    """Whether the condition is met on the resource, as Katib decides it."""
    return is_met(result(condition, resource))


def met(condition: str, resource: Mapping[str, Any]) -> dict[str, Any] | None:
    """None when the condition is not met; else what Katib reads the trial's reason and message
    from: the object found, or the first item of the array found ({} when that is not an object)."""
    found = result(condition, resource)
    if not is_met(found):
        return None
    first = found[0] if isinstance(found, list) else found
    return first if isinstance(first, dict) else {}
