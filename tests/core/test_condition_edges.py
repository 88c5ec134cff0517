"""Success and failure conditions at the edges a real resource reaches: an index just past the
end, a first-match query with no match, items that lack the queried field or are not objects, a
nested field in a query. Each gives "no result" (the condition does not hold), never an error
that would stop following the trial."""

from __future__ import annotations

import pytest

from kfp_tune.core import conditions

RESOURCE = {
    "status": {
        "phase": "Running",
        "pods": [
            {"name": "p0", "spec": {"node": "n1"}, "exitCode": 0},
            {"name": "p1", "spec": {"node": "n2"}},
        ],
        "messages": ["started", "renamed the pod", 3],
    }
}


@pytest.mark.parametrize(
    ("condition", "result"),
    [
        ("status.pods.1.name", "p1"),
        ("status.pods.2.name", None),  # one past the end
        ('status.pods.#(name=="p9")', None),  # first match, none matching
        ('status.pods.#(name=="p1").spec.node', "n2"),
        ('status.pods.#(spec.node=="n2")#', [{"name": "p1", "spec": {"node": "n2"}}]),  # a nested field in a query
        ('status.pods.#(exitCode!=1)#', [{"name": "p0", "spec": {"node": "n1"}, "exitCode": 0}]),  # p1 has no exitCode: no match
        ('status.messages.#(name=="Running")#', []),  # items that are not objects match nothing
        ("status.phase.0", None),  # a string has no elements
        ("status.pods.#", 2),
    ],
)
def test_the_result_at_the_edges(condition: str, result: object):
    assert conditions.evaluate(condition, RESOURCE) == result


@pytest.mark.parametrize("condition", ["status.pods.2.name", 'status.pods.#(name=="p9")', 'status.messages.#(name=="Running")#', 'status.pods.#(missing>0)#'])
def test_no_result_means_the_condition_does_not_hold(condition: str):
    assert conditions.holds(condition, RESOURCE) is False
