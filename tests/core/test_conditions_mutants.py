"""How a success or failure condition is parsed and read, at the places the mutation run found
untested: quoted query values (empty, escaped, padded), operators on booleans and numbers,
literals, modifier arguments, the names ``{...}`` gives its members, where a ``|`` after ``#.``
splits, ``%`` patterns, and what a refused condition's message names.

Expected values are gjson v1.14's (the version Katib vendors), reasoned from its SYNTAX.md and
its code (parseQuery, queryMatches, execStatic, nameOfLast, isSimpleName, splitPossiblePipe,
tidwall/match for ``%``), and Katib's rule that a condition is met by an object or a non-empty
array. A wrong parse here is a trial that never succeeds or never fails."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kfp_tune.core import conditions
from kfp_tune.core.conditions import ConditionError


def _refusal(condition: str) -> str:
    with pytest.raises(ConditionError) as caught:
        conditions.parse(condition)
    return str(caught.value)


def _assert_refused(condition: str, position: int, opening: str) -> str:
    """The message starts with the position and then the words that say what is wrong."""
    message = _refusal(condition)
    assert message.startswith(f"position {position}: {opening}"), message
    return message


def _items(*items: dict[str, Any]) -> dict[str, Any]:
    return {"status": {"items": list(items)}}


def _matched(condition: str, *items: dict[str, Any]) -> Any:
    return conditions.result(condition, _items(*items))


# --- quoted values in a query ------------------------------------------------------------------


def test_an_empty_quoted_value_matches_an_empty_field():
    """A condition such as ``#(reason=="")`` (a condition with no reason yet) must parse and match."""
    empty, filled = {"reason": ""}, {"reason": "Evicted"}
    assert _matched('status.items.#(reason=="")#', empty, filled) == [empty]
    assert _matched('status.items.#(reason!="")#', empty, filled) == [filled]


@pytest.mark.parametrize(
    ("condition", "field"),
    [
        (r'status.items.#(message=="say \"hi\" (now)")#', 'say "hi" (now)'),  # an escaped quote, a ')' inside the string
        (r'status.items.#(message=="\u00e9t\u00e9")#', "été"),  # a JSON \u escape
        (r'status.items.#(message=="C:\\")#', "C:\\"),  # an escaped backslash just before the closing quote
        (r'status.items.#(message=="a\\b" )#', "a\\b"),  # and one in the middle, with a space before ')'
    ],
)
def test_an_escaped_quoted_value_is_unescaped_as_json(condition: str, field: str):
    """gjson unescapes a quoted value that has a backslash (parseQuery's vesc, then unescape)."""
    wanted, other = {"message": field}, {"message": field + "x"}
    assert _matched(condition, other, wanted) == [wanted]


def test_a_json_escape_that_only_json_knows_is_unescaped():
    """``\\/`` is JSON's escaped '/': the value is a/b, not a\\/b."""
    wanted = {"v": "a/b"}
    assert _matched(r'status.items.#(v=="a\/b")#', {"v": "a\\/b"}, wanted) == [wanted]


def test_a_quoted_value_without_a_backslash_is_taken_between_its_outer_quotes():
    """Without an escape gjson does not unescape: it drops the outer quotes and keeps what is
    between, quotes included."""
    wanted = {"message": 'said "hi"'}
    assert _matched('status.items.#(message=="said "hi"")#', {"message": "said"}, wanted) == [wanted]


def test_a_value_that_is_not_a_json_string_is_refused_where_it_starts():
    condition = r'status.items.#(message=="bad \x escape")#'
    message = _assert_refused(condition, condition.index('"'), "not a JSON string")
    assert r"\x" in message


def test_a_quoted_value_left_open_is_refused_where_it_starts():
    condition = 'status.items.#(phase=="Running"x)#'
    _assert_refused(condition, condition.index('"'), "unclosed string")


def test_an_unclosed_query_is_refused_at_its_hash():
    condition = 'status.items.#(phase=="Running"'
    _assert_refused(condition, condition.index("#"), "unclosed query")


def test_spaces_and_tabs_around_a_querys_parts_are_trimmed():
    """gjson trims every character up to ' ' around the path and the value."""
    wanted = {"type": "Complete"}
    for condition in ('status.items.#( type == "Complete" )#', 'status.items.#(\ttype\t==\t"Complete"\t)#', 'status.items.#( type=="Complete")#'):
        assert _matched(condition, {"type": "Failed"}, wanted) == [wanted], condition


def test_an_escaped_bracket_in_a_querys_path_is_part_of_the_key():
    """parseQuery skips the character after a backslash: ``\\(`` neither opens a level nor is
    an operator, so the key is ``x(``."""
    wanted = {"x(": "1"}
    assert _matched(r'status.items.#(x\(=="1")#', {"x(": "2"}, wanted) == [wanted]
    assert _matched(r'status.items.#(x\)=="1")#', {"x)": "1"}) == [{"x)": "1"}]


def test_capital_letters_in_a_querys_path_are_the_key_not_an_operator():
    wanted = {"XIDErrors": 3}
    assert _matched("status.items.#(XIDErrors>0)#", {"XIDErrors": 0}, wanted) == [wanted]


# --- comparisons ---------------------------------------------------------------------------------

# gjson's queryMatches for a true and a false field: each operator with each boolean value
BOOLEAN_TABLE = [
    (True, "==", "true", True), (True, "==", "false", False), (True, "!=", "true", False), (True, "!=", "false", True),
    (True, ">", "false", True), (True, ">", "true", False), (True, ">=", "false", True), (True, ">=", "true", True),
    (True, "<", "true", False), (True, "<", "false", False), (True, "<=", "true", False), (True, "<=", "false", False),
    (False, "==", "false", True), (False, "==", "true", False), (False, "!=", "false", False), (False, "!=", "true", True),
    (False, "<", "true", True), (False, "<", "false", False), (False, "<=", "true", True), (False, "<=", "false", True),
    (False, ">", "true", False), (False, ">", "false", False), (False, ">=", "true", False), (False, ">=", "false", False),
]


@pytest.mark.parametrize(("field", "op", "value", "expected"), BOOLEAN_TABLE)
def test_each_operator_on_a_boolean_field(field: bool, op: str, value: str, expected: bool):
    item = {"ready": field}
    assert conditions.holds(f"status.items.#(ready{op}{value})#", _items(item)) is expected


@pytest.mark.parametrize("op", ["%", "!%"])
@pytest.mark.parametrize("field", [True, False, 3])
def test_like_and_not_like_never_match_a_boolean_or_a_number(op: str, field: Any):
    """gjson's queryMatches has % and !% for strings only: on any other field both are false."""
    assert conditions.holds(f'status.items.#(v{op}"*")#', _items({"v": field})) is False


def test_a_value_that_is_not_a_number_reads_as_zero_against_a_number_field():
    """gjson ignores strconv.ParseFloat's error: the value is then 0."""
    zero, one = {"n": 0}, {"n": 1}
    assert _matched("status.items.#(n==none)#", zero, one) == [zero]
    assert _matched("status.items.#(n!=none)#", zero, one) == [one]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("status.items.#(n<inf)#", [1e308]),
        ("status.items.#(n<Inf)#", [1e308]),
        ("status.items.#(n<+Infinity)#", [1e308]),
        ("status.items.#(n>-inf)#", [1e308]),
        ("status.items.#(n==NaN)#", []),  # NaN equals nothing
        ("status.items.#(n!=nan)#", [1e308]),
    ],
)
def test_go_spellings_of_infinity_and_nan_are_numbers(condition: str, expected: list[float]):
    """strconv.ParseFloat reads inf, infinity and nan in any case, with a sign."""
    assert [item["n"] for item in _matched(condition, {"n": 1e308})] == expected


def test_a_value_is_read_as_strconv_parsefloat_reads_it():
    """Hexadecimal floats and _ between digits are numbers to Go; a digit other than ASCII is
    not (Python's float() reads "\u0663" as 3), so it is 0."""
    quarter, three, thousand = {"n": 0.25}, {"n": 3}, {"n": 1000}
    assert _matched("status.items.#(n==0x1p-2)#", quarter, three) == [quarter]
    assert _matched("status.items.#(n==1_000)#", three, thousand) == [thousand]
    assert _matched("status.items.#(n<\u0663)#", quarter, three) == []


# --- literals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("!true", True),
        ("!false", False),
        ("!null", None),
        ("!false|@this", False),  # a word literal ends at a '|'
        ("!5", 5),
        ("!-1.5", -1.5),
        ('!"text"', "text"),
        ('!{"a":1}.a', 1),  # a bracketed literal ends at its closing bracket
        ('!{"a":{"b":[7]}}|a.b.0', 7),
        ("![[1],[2,[3]]].1.1.0", 3),  # nested brackets counted
        ('!{"a":"}]",")":1}.a', "}]"),  # brackets inside strings are not counted
        ('!["x\\"]"].0', 'x"]'),  # nor an escaped quote's string
    ],
)
def test_a_literal_is_its_json_value_and_the_path_after_it_reads_into_it(condition: str, expected: Any):
    assert conditions.result(condition, {"status": {}}) == expected


@pytest.mark.parametrize("word", ["Xenon", "nope", "True"])
def test_a_literal_word_other_than_true_false_or_null_is_refused_naming_it(word: str):
    message = _assert_refused(f"!{word}", 1, "expected a JSON literal")
    assert repr(word) in message


@pytest.mark.parametrize("condition", ["!", "[status,!]"])
def test_a_bang_with_nothing_after_it_is_refused(condition: str):
    _assert_refused(condition, condition.index("!") + 1, "expected a JSON literal")


@pytest.mark.parametrize("condition", ['!{"a":1', '!{"a":}.a', "![1,[2]"])
def test_a_bracketed_literal_that_is_not_json_is_refused_where_it_starts(condition: str):
    message = _assert_refused(condition, 1, "not a JSON literal")
    assert condition[1:3] in message


def test_a_literal_inside_a_multipath_is_refused_at_its_own_position():
    condition = 'status.[phase,!{"a":}]'
    _assert_refused(condition, condition.index("{"), "not a JSON literal")


# --- modifiers' arguments and @flatten -----------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("status.nested.@flatten", [1, 2, [3, [4]], "x"]),
        ('status.nested.@flatten:{"deep":true}', [1, 2, 3, 4, "x"]),
        ('status.nested.@flatten:{"deep":false}', [1, 2, [3, [4]], "x"]),
        ('status.nested.@flatten:{"deep":true}.2', 3),  # the argument ends at its closing brace
        ('status.nested.@flatten:{"deep":true,"note":"}"}|#', 5),
    ],
)
def test_flatten_is_one_level_unless_deep(condition: str, expected: Any):
    """SYNTAX.md: @flatten flattens an array one level, ``{"deep":true}`` all the way down."""
    assert conditions.result(condition, {"status": {"nested": [1, [2, [3, [4]]], "x"]}}) == expected


# --- {...} member names ----------------------------------------------------------------------------

RESOURCE: dict[str, Any] = {
    "status": {"phase": "Running", "startTime": "t0", "last run": "r", "conditions": [{"type": "Complete"}, {"type": "Failed"}]},
    "metadata": {"labels": {"app.kubernetes.io/name": "trainer"}, "annotations": {"XLA_FLAGS": "--xla"}},
    "x": {"y": 1},
    ".hidden": 2,
}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("{status.phase}", {"phase": "Running"}),  # the last part of the path
        ("{status}", {"status": RESOURCE["status"]}),  # a one-part path: itself
        ("{x.y}", {"y": 1}),
        ("{status.startTime}", {"startTime": "t0"}),
        ("{status.last run}", {"last run": "r"}),  # a space is a plain character
        ("{metadata.annotations.XLA_FLAGS}", {"XLA_FLAGS": "--xla"}),
        # nameOfLast skips an escaped '.', and keeps the path's text as written
        (r"{metadata.labels.app\.kubernetes\.io/name}", {r"app\.kubernetes\.io/name": "trainer"}),
        (r"{\.hidden}", {r"\.hidden": 2}),
        # a last part that is not a simple name (isSimpleName: no #, (, ), [, ], {, }, |, !) is called _
        ('{status.conditions.#(type=="Failed")}', {"_": {"type": "Failed"}}),
        ("{status.conditions.#}", {"_": 2}),
        # a given name: a JSON string is decoded, anything else kept as written
        ('{"the phase":status.phase}', {"the phase": "Running"}),
        ("{phase:status.phase}", {"phase": "Running"}),
        (r'{"a\x":status.phase}', {r'"a\x"': "Running"}),
    ],
)
def test_the_name_an_object_multipath_gives_each_member(condition: str, expected: dict[str, Any]):
    assert conditions.result(condition, RESOURCE) == expected


# --- '|' after '#.' or a query's '.' -------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("status.conditions.#.{type}", [{"type": "Complete"}, {"type": "Failed"}]),
        ("status.conditions.#.[type]", [["Complete"], ["Failed"]]),
        # '|' right after {...}: the pipe takes the array of objects
        ("status.conditions.#.{type}|#", 2),
        ('status.conditions.#(type%"*e*")#.{type}|#', 2),
        # anything else after {...}: gjson does not split, the whole rest applies to each item
        ("status.conditions.#.{type}.type|0", []),
        # after [...] (or a key) the first '|' splits
        ("status.conditions.#.[type].0|#", 2),
        ("status.conditions.#.[type].0|0", "Complete"),
    ],
)
def test_where_a_pipe_after_hash_dot_applies(condition: str, expected: Any):
    """gjson's splitPossiblePipe: after ``#.`` a ``|`` ends what is applied to each item, except
    that a ``{...}`` is split only by a ``|`` right after it."""
    assert conditions.result(condition, RESOURCE) == expected


# --- % patterns ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pattern", "expected"),
    [
        ("a*b", r"a\*b", True),  # an escaped star is a plain '*'
        ("axb", r"a\*b", False),
        ("a*xb", r"a\*b", False),
        ("*ab", r"\*ab", True),
        ("a?c", r"a\?c", True),
        ("abc", r"a\?c", False),
        ("a\\", "a\\\\", True),  # an escaped backslash
        ("a", "a\\", False),  # a backslash with nothing after it matches nothing
        ("a\\", "a\\", False),
        ("abc", "abc*", True),  # a trailing star matches nothing as well
        ("abc", "abc**", True),
        ("abc", "a*", True),
        ("abc", "abc?", False),
        ("XLA_FLAGS", "XLA_*", True),
        ("XLA_FLAGS", "X?A*", True),
        ("XLA", "Y*", False),
    ],
)
def test_like_as_tidwall_match_reads_a_pattern(text: str, pattern: str, expected: bool):
    assert conditions.like(text, pattern) is expected


# --- what a refused condition's message names ---------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "after", "got"),
    [
        ('status.items.#(phase=="x")y', "a query", "'y'"),
        ('status.@flatten:{"deep":true}y', "a modifier", "'y'"),
        ("status.[phase]y", "a multipath", "'y'"),
        ('!{"a":1}y', "a literal", "'y'"),
    ],
)
def test_text_after_a_part_is_refused_naming_the_part_and_the_text(condition: str, after: str, got: str):
    message = _assert_refused(condition, condition.rindex("y"), "expected '.', '|' or the end")
    assert re.search(rf"after {after}, got {re.escape(got)}$", message), message


def test_a_path_ending_in_a_dot_says_it_got_the_end():
    message = _assert_refused("status.phase.", len("status.phase."), "expected a key")
    assert message.endswith("got the end"), message


# --- what Katib reads the reason and message from ---------------------------------------------------


def test_met_on_a_first_match_gives_the_object_itself():
    failed = {"type": "Failed", "status": "True", "reason": "OOMKilled", "message": "out of memory"}
    resource = {"status": {"conditions": [{"type": "Created", "status": "True"}, failed]}}
    assert conditions.met('status.conditions.#(type=="Failed")', resource) == failed
    assert conditions.met('{"reason":status.conditions.1.reason}', resource) == {"reason": "OOMKilled"}
