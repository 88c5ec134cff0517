"""Katib's success and failure conditions as GJSON (tidwall/gjson v1.14, the version Katib
builds with) and Katib's rule for when one is met.

Expected values are gjson's as its SYNTAX.md documents them (the example document and its
table of paths and results is the first test, verbatim in meaning), or reasoned from that
document and from Katib's job_util.go: a condition is met when its result is an object or a
non-empty array. Cases gjson's document leaves open are marked with what gjson's code does."""

from __future__ import annotations

from typing import Any

import pytest

from kfp_tune.core import conditions
from kfp_tune.core.conditions import MISSING, ConditionError

# SYNTAX.md's example document
DOC: dict[str, Any] = {
    "name": {"first": "Tom", "last": "Anderson"},
    "age": 37,
    "children": ["Sara", "Alex", "Jack"],
    "fav.movie": "Deer Hunter",
    "friends": [
        {"first": "Dale", "last": "Murphy", "age": 44, "nets": ["ig", "fb", "tw"]},
        {"first": "Roger", "last": "Craig", "age": 68, "nets": ["fb", "tw"]},
        {"first": "Jane", "last": "Murphy", "age": 47, "nets": ["ig", "tw"]},
    ],
}
DALE, ROGER, JANE = DOC["friends"]

SYNTAX_MD = [
    # Basic
    ("name.last", "Anderson"),
    ("name.first", "Tom"),
    ("age", 37),
    ("children", ["Sara", "Alex", "Jack"]),
    ("children.0", "Sara"),
    ("children.1", "Alex"),
    ("friends.1", ROGER),
    ("friends.1.first", "Roger"),
    # Escape character
    (r"fav\.movie", "Deer Hunter"),
    # Arrays
    ("friends.#", 3),
    ("friends.#.age", [44, 68, 47]),
    # Queries
    ('friends.#(last=="Murphy").first', "Dale"),
    ('friends.#(last=="Murphy")#.first', ["Dale", "Jane"]),
    ("friends.#(age>45)#.last", ["Craig", "Murphy"]),
    ('friends.#(first%"D*").last', "Murphy"),
    ('friends.#(first!%"D*").last', "Craig"),
    ('children.#(!%"*a*")', "Alex"),
    ('children.#(%"*a*")#', ["Sara", "Jack"]),
    ('friends.#(nets.#(=="fb"))#.first', ["Dale", "Roger"]),
    # Dot vs Pipe
    ("friends.0.first", "Dale"),
    ("friends|0.first", "Dale"),
    ("friends.0|first", "Dale"),
    ("friends|0|first", "Dale"),
    ("friends|#", 3),
    ('friends.#(last="Murphy")#', [DALE, JANE]),
    ('friends.#(last="Murphy")#.first', ["Dale", "Jane"]),
    ('friends.#(last="Murphy")#|first', MISSING),
    ('friends.#(last="Murphy")#.0', []),
    ('friends.#(last="Murphy")#|0', DALE),
    ('friends.#(last="Murphy")#.#', []),
    ('friends.#(last="Murphy")#|#', 2),
    # Modifiers
    ("children.@reverse", ["Jack", "Alex", "Sara"]),
    ("children.@reverse.0", "Jack"),
    ("@this.age", 37),
    # Multipaths
    ('{name.first,age,"the_murphys":friends.#(last="Murphy")#.first}', {"first": "Tom", "age": 37, "the_murphys": ["Dale", "Jane"]}),
    # Literals
    ('{name.first,age,"company":!"Happysoft","employed":!true}', {"first": "Tom", "age": 37, "company": "Happysoft", "employed": True}),
]


@pytest.mark.parametrize(("path", "expected"), SYNTAX_MD, ids=[p for p, _ in SYNTAX_MD])
def test_the_paths_gjsons_syntax_document_shows(path: str, expected: Any):
    assert conditions.result(path, DOC) == expected


def test_the_tilde_compares_as_a_boolean_as_syntax_md_shows():
    vals = {"vals": [{"a": 1, "b": True}, {"a": 2, "b": True}, {"a": 3, "b": False}, {"a": 4, "b": "0"}, {"a": 5, "b": 0}, {"a": 6, "b": "1"},
                     {"a": 7, "b": 1}, {"a": 8, "b": "true"}, {"a": 9, "b": False}, {"a": 10, "b": None}, {"a": 11}]}
    assert conditions.result("vals.#(b==~true)#.a", vals) == [1, 2, 6, 7, 8]
    assert conditions.result("vals.#(b==~false)#.a", vals) == [3, 4, 5, 9, 10, 11]  # the one without b counts as false


def _status(**status: Any) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "t"}, "status": status}


def _conditions(*pairs: tuple[str, str]) -> dict[str, Any]:
    return _status(conditions=[{"type": t, "status": s, "reason": f"{t}Reason", "message": f"{t} says {s}"} for t, s in pairs])


ARGO_SUCCESS = 'status.[@this].#(phase=="Succeeded")#'
JOB_SUCCESS = 'status.conditions.#(type=="Complete")#|#(status=="True")#'
TEKTON_FAILURE = 'status.conditions.#(type=="Succeeded")#|#(status=="False")#'
PODS = _status(pods=[
    {"name": "p0", "phase": "Running", "restarts": 0, "ready": True, "node": "n1", "containers": [{"name": "main"}, {"name": "wait"}]},
    {"name": "p1", "phase": "Pending", "restarts": 3, "ready": False, "node": None, "containers": [{"name": "step-train"}]},
])

# (condition, a resource where Katib calls it met, one where it does not)
MET = [
    # Argo's example: status becomes [status], kept when its phase matches
    (ARGO_SUCCESS, _status(phase="Succeeded"), _status(phase="Running")),
    (ARGO_SUCCESS, _status(phase="Succeeded"), {"metadata": {"name": "no status yet"}}),
    # Katib's defaults: every Complete condition, then those that are True
    (JOB_SUCCESS, _conditions(("Created", "True"), ("Complete", "True")), _conditions(("Complete", "False"))),
    (TEKTON_FAILURE, _conditions(("Succeeded", "False")), _conditions(("Succeeded", "True"))),
    (TEKTON_FAILURE, _conditions(("Succeeded", "False")), _conditions(("Succeeded", "Unknown"))),
    # a first-match query gives the object itself: met whatever its status says
    ('status.conditions.#(type=="Complete")', _conditions(("Complete", "False")), _conditions(("Running", "True"))),
    # every match, then the field of each ('.'), or the field of the array ('|': none)
    ('status.conditions.#(status=="True")#.type', _conditions(("Complete", "True")), _conditions(("Complete", "False"))),
    # '.' maps .type over the matches, '|' then queries the array of types
    ('status.conditions.#(status=="True")#.type|#(=="Complete")#', _conditions(("Complete", "True")), _conditions(("Running", "True"))),
    # operators, each on both sides of its boundary
    ("status.pods.#(restarts==3)#", PODS, _status(pods=[{"restarts": 2}])),
    ("status.pods.#(restarts!=0)#", PODS, _status(pods=[{"restarts": 0}])),
    ("status.pods.#(restarts<1)#", PODS, _status(pods=[{"restarts": 1}])),
    ("status.pods.#(restarts<=0)#", PODS, _status(pods=[{"restarts": 1}])),
    ("status.pods.#(restarts>2)#", PODS, _status(pods=[{"restarts": 2}])),
    ("status.pods.#(restarts>=3)#", PODS, _status(pods=[{"restarts": 2}])),
    ('status.pods.#(phase<"Q")#', PODS, _status(pods=[{"phase": "Running"}])),  # strings compare as strings: "Pending" < "Q" < "Running"
    ('status.pods.#(name%"p?")#', PODS, _status(pods=[{"name": "p10"}])),
    ('status.pods.#(name%"*1")#', PODS, _status(pods=[{"name": "p0"}])),
    ('status.pods.#(name!%"p*")#', _status(pods=[{"name": "q0"}]), PODS),
    ("status.pods.#(ready==true)#", PODS, _status(pods=[{"ready": False}])),
    ("status.pods.#(ready==~false)#", PODS, _status(pods=[{"ready": "true"}])),
    ("status.pods.#(node)#", PODS, _status(pods=[{"name": "no node"}])),  # the key exists (null is a value)
    # a nested query: a pod with a container named main
    ('status.pods.#(containers.#(name=="main"))#', PODS, _status(pods=[{"containers": [{"name": "main-sidecar"}]}])),
    ('status.pods.#(containers.#(name%"step-*"))#|#(phase=="Pending")#', PODS, _status(pods=[{"phase": "Running", "containers": [{"name": "step-x"}]}])),
    # an escaped dot in a key
    (r"metadata.labels.app\.kubernetes\.io/part-of.[@this]", {"metadata": {"labels": {"app.kubernetes.io/part-of": "x"}}}, {"metadata": {"labels": {"app": "x"}}}),
    # multipaths: an array of what exists; modifiers
    ("[status.phase,status.reason]", _status(reason="Evicted"), _status(other=1)),
    ("status.conditions.@reverse.0.[@this]", _conditions(("Complete", "True")), _status(conditions=[])),
    ('status.[conditions,history].@flatten.#(type=="Complete")#', _status(history=[{"type": "Complete"}]), _status(history=[{"type": "Running"}])),
    ("status.@keys.#(%\"comp*\")#", _status(completionTime="now"), _status(startTime="then")),
    ("status.counts.@values.#(>0)#", _status(counts={"a": 0, "b": 2}), _status(counts={"a": 0})),
    # @join: one object of all; a key given twice keeps its last value (gjson's @join without preserve)
    ("status.parts.@join.[@this].#(done==true)#", _status(parts=[{"done": False}, {"done": True}]), _status(parts=[{"done": True}, {"done": False}])),
    # @group: arrays of values become objects, one per index
    ('status.@group.#(name=="x")#|#(ok==true)#', _status(name=["x", "y"], ok=[True, False]), _status(name=["y", "x"], ok=[True, False])),
    ('status.@pretty.@ugly.@valid.conditions.#(status=="True")#', _conditions(("Complete", "True")), _conditions(("Complete", "False"))),
]


@pytest.mark.parametrize(("condition", "met", "not_met"), MET, ids=[f"{i}:{c}" for i, (c, _, _) in enumerate(MET)])
def test_each_form_is_met_on_one_resource_and_not_on_another(condition: str, met: dict[str, Any], not_met: dict[str, Any]):
    assert conditions.holds(condition, met) is True
    assert conditions.holds(condition, not_met) is False


@pytest.mark.parametrize(
    ("condition", "found"),
    [
        ("status.phase", "Succeeded"),  # a string
        ("status.succeeded", 1),  # a number
        ("status.ready", True),  # true
        ("status.conditions", []),  # an empty array
        ('status.conditions.#(type=="Complete")#', []),  # no match: an empty array, not nothing
        ("status.conditions.#", 0),  # a length
        ("status.missing", MISSING),
    ],
)
def test_a_result_that_is_not_an_object_nor_a_non_empty_array_is_not_met(condition: str, found: Any):
    """Katib's job_util.go: IsObject() or IsArray() with items; a condition that finds the string
    Succeeded is never met, however true it reads."""
    resource = _status(phase="Succeeded", succeeded=1, ready=True, conditions=[])
    assert conditions.result(condition, resource) == found
    assert conditions.holds(condition, resource) is False


def test_after_every_match_a_dot_reaches_into_each_match_and_a_pipe_into_the_array():
    """SYNTAX.md's Dot vs Pipe: with '.', a query after #(...)# is applied to each match (an
    object here, which no query reads: nothing from any); with '|', to the array of matches."""
    resource = _conditions(("Complete", "True"))
    assert conditions.result('status.conditions.#(status=="True")#.#(type=="Complete")#', resource) == []
    assert conditions.result('status.conditions.#(status=="True")#|#(type=="Complete")#', resource) == resource["status"]["conditions"]


def test_an_object_multipath_is_always_an_object_so_always_met():
    """gjson's {...} builds an object of what exists: {} when nothing does. Katib calls an
    object met, so such a condition is met on any resource (a trap this pins down)."""
    assert conditions.result("{status.phase}", {"metadata": {}}) == {}
    assert conditions.holds("{status.phase}", {"metadata": {}}) is True
    # the pipe applies to nothing found as well: the object is still made
    assert conditions.result("status.missing|{phase}", _status(phase="x")) == {}


def test_literals_are_what_they_say_whatever_the_resource():
    assert conditions.holds('!{"done":true}', {}) is True  # an object
    assert conditions.holds("![]", _status(phase="x")) is False  # an empty array
    assert conditions.holds("!true", {}) is False  # true is not an object
    assert conditions.result('status.[phase,!"fixed"]', _status(phase="Running")) == ["Running", "fixed"]


def test_keys_are_in_the_order_katibs_json_has_them():
    """Katib marshals the resource with Go's encoding/json, which sorts an object's keys: the
    order @keys, @values and @reverse see is that one, not the order a client returned."""
    resource = {"status": {"zeta": 1, "alpha": 2, "mid": 3}}
    assert conditions.result("status.@keys", resource) == ["alpha", "mid", "zeta"]
    assert conditions.result("status.@values", resource) == [2, 3, 1]


@pytest.mark.parametrize(
    ("condition", "met"),
    [
        # gjson's queryMatches: the value is read as a number for a number field ("2" is 2), as
        # text for a string field (2 is "2"); null, objects and arrays compare with nothing
        ('status.pods.#(n=="2")#', True),
        ("status.pods.#(s==2)#", True),
        ("status.pods.#(s==Two)#", False),
        ("status.pods.#(z==null)#", False),
        ("status.pods.#(z!=null)#", False),
        ("status.pods.#(o!=1)#", False),
        # a quoted ~ is still gjson's boolean comparison (the value is unquoted first)
        ('status.pods.#(n=="~true")#', True),
    ],
)
def test_comparisons_between_kinds_of_value_follow_gjsons_code(condition: str, met: bool):
    resource = _status(pods=[{"n": 2, "s": "2", "z": None, "o": {"a": 1}}])
    assert conditions.holds(condition, resource) is met


def test_met_gives_what_katib_reads_the_reason_and_message_from():
    """The object found, or the first item of the array found; {} for an item that is not an
    object (Katib's unmarshal of it fails and it keeps no reason)."""
    argo = _status(phase="Failed", message="child 'x' failed")
    assert conditions.met('status.[@this].#(phase=="Failed")#', argo) == argo["status"]
    failed = _conditions(("Failed", "True"))
    assert conditions.met('status.conditions.#(type=="Failed")#|#(status=="True")#', failed) == failed["status"]["conditions"][0]
    assert conditions.met("[status.phase]", argo) == {}
    assert conditions.met('status.[@this].#(phase=="Succeeded")#', argo) is None


def _at(condition: str, marker: str, nth: int = 0) -> int:
    """Where ``marker`` occurs in the condition (its nth occurrence)."""
    position = -1
    for _ in range(nth + 1):
        position = condition.index(marker, position + 1)
    return position


REFUSED = [
    ("status..phase", _at("status..phase", ".", 1), "expected a key"),
    ("status.", len("status."), "expected a key"),
    ("|status", 0, "expected a key"),
    ('status.conditions.#(type=="Complete"', _at('status.conditions.#(type=="Complete"', "#"), "unclosed query"),
    ("status.conditions.#(type==)", _at("status.conditions.#(type==)", ")"), "expected a value"),
    ('status.conditions.#(type~"x")', _at('status.conditions.#(type~"x")', "~"), "'~' in a key"),
    ('status.conditions.#(type=="x"', _at('status.conditions.#(type=="x"', "#"), "unclosed query"),
    ('status.conditions.#(type=="x)', _at('status.conditions.#(type=="x)', "#"), "unclosed query"),  # the ')' is in the string
    ('status.conditions.#(type!"x")', _at('status.conditions.#(type!"x")', "!"), "expected an operator"),
    ('status.conditions.#(type=="Complete")x', _at('status.conditions.#(type=="Complete")x', "x"), "expected '.', '|' or the end"),
    ("status.pod*.name", _at("status.pod*.name", "*"), "wildcard"),
    ("status.p?d", _at("status.p?d", "?"), "wildcard"),
    ("status.@tostr", _at("status.@tostr", "@"), "not supported"),
    ("status.@nope", _at("status.@nope", "@"), "unknown modifier"),
    ("status.@flatten:deep", _at("status.@flatten:deep", "d", 0), "JSON object"),
    ("status.[phase|reason]", _at("status.[phase|reason]", "|"), "'|' inside"),
    ('status.conditions.#(type|@this=="x")', _at('status.conditions.#(type|@this=="x")', "|"), "'|' inside"),
    ("status.[phase,reason", _at("status.[phase,reason", "["), "unclosed multipath"),
    ("status.!true", _at("status.!true", "!"), "a literal"),
    ("!nope", 1, "expected a JSON literal"),
    ('!"text".x', 1, "end the path"),
    ('status.#[type=="x"]', _at('status.#[type=="x"]', "#"), "#(...)"),
    ("status.#x", _at("status.#x", "x"), "expected '('"),
    ("status\\", _at("status\\", "\\"), "escapes nothing"),
    ("..status", 0, "JSON Lines"),
]


@pytest.mark.parametrize(("condition", "position", "phrase"), REFUSED, ids=[c for c, _, _ in REFUSED])
def test_a_refused_condition_names_its_position_and_what_was_expected(condition: str, position: int, phrase: str):
    with pytest.raises(ConditionError) as caught:
        conditions.parse(condition)
    message = str(caught.value)
    assert message.startswith(f"position {position}:"), message
    assert phrase in message, message


@pytest.mark.parametrize("condition", ["", "   "])
def test_an_empty_condition_is_refused(condition: str):
    with pytest.raises(ConditionError, match="empty condition"):
        conditions.parse(condition)


def test_escaped_specials_are_plain_key_characters():
    resource = {"status": {"a*b": 1, "c.d": {"e": [1, 2]}, "f|g": "x"}}
    assert conditions.result(r"status.a\*b", resource) == 1
    assert conditions.result(r"status.c\.d.e.#", resource) == 2
    assert conditions.result(r"status.f\|g", resource) == "x"


def test_group_of_what_is_no_object_is_no_result_and_a_count_piped_on_is_the_count():
    """``@group`` makes rows of an object's arrays: an array itself gives nothing (gjson's
    modGroup); ``#|`` carries the array's length on through the pipe."""
    assert conditions.result("a|@group", {"a": [1]}) is MISSING
    assert conditions.result("a.#|@this", {"a": [1, 2]}) == 2
    assert conditions.result("a.#|b", {"a": [1, 2]}) is MISSING  # the pipe goes on from the count, a number with no keys
