"""Katib's success and failure conditions (the GJSON subset in core/conditions.py), on the
resources the training operators and batch/v1 write."""

from __future__ import annotations

import pytest

from kfp_tune.core import conditions
from kfp_tune.core.spec import JOB_FAILURE_CONDITION, KUBEFLOW_JOB_FAILURE_CONDITION, KUBEFLOW_JOB_SUCCESS_CONDITION


def _job(*pairs: tuple[str, str], **status: object) -> dict:
    return {"status": {"conditions": [{"type": t, "status": s} for t, s in pairs], **status}}


@pytest.mark.parametrize(
    "resource, success, failure",
    [
        (_job(("Created", "True"), ("Running", "True")), False, False),
        (_job(("Created", "True"), ("Succeeded", "True")), True, False),
        (_job(("Succeeded", "False"), ("Failed", "True")), False, True),
        (_job(("Failed", "False")), False, False),  # a condition that is there but not True
        ({"status": {}}, False, False),
        ({}, False, False),
    ],
)
def test_katibs_default_kubeflow_conditions(resource, success, failure):
    assert conditions.holds(KUBEFLOW_JOB_SUCCESS_CONDITION, resource) is success
    assert conditions.holds(KUBEFLOW_JOB_FAILURE_CONDITION, resource) is failure


def test_a_batch_job_fails_on_its_failed_condition_only():
    assert conditions.holds(JOB_FAILURE_CONDITION, _job(("Failed", "True")))
    assert not conditions.holds(JOB_FAILURE_CONDITION, _job(("Complete", "True")))


def test_first_match_and_every_match_differ():
    resource = _job(("Complete", "False"), ("Complete", "True"))
    assert conditions.evaluate('status.conditions.#(type=="Complete")', resource) == {"type": "Complete", "status": "False"}
    assert len(conditions.evaluate('status.conditions.#(type=="Complete")#', resource)) == 2
    # the pipe applies the next query to the matches: only the True one is left
    assert conditions.evaluate('status.conditions.#(type=="Complete")#|#(status=="True")#', resource) == [{"type": "Complete", "status": "True"}]
    assert not conditions.holds('status.conditions.#(type=="Complete")#|#(status=="Unknown")#', resource)


@pytest.mark.parametrize(
    "condition, holds",
    [
        ("status.succeeded", False),  # a number: Katib's rule holds only for an object or a non-empty array
        ("status.failed", False),  # absent
        ("status.active", False),  # a scalar never holds (job_util.go: IsObject or a non-empty IsArray)
        ('status.pods.#(phase!="Running")#', True),
        ('status.pods.#(restarts<2)#', True),
        ('status.pods.#(restarts<=0)#', True),
        ('status.pods.#(restarts>5)#', False),
        ('status.pods.#(restarts>=3)#', True),
        ('status.pods.#(restarts<"2")#', True),  # gjson reads "2" as the number 2 against a number field
        ("status.pods.#", False),  # a length is a number
        ("status.pods.1.phase", False),  # a string
        ("status.pods.7.phase", False),
        ('status.pods.#(ready==true)#', True),
        ('status.pods.#(node==null)#', False),  # gjson compares null with nothing
    ],
)
def test_paths_queries_operators_and_lengths(condition, holds):
    resource = {"status": {"succeeded": 1, "active": 0, "pods": [
        {"phase": "Running", "restarts": 0, "ready": True, "node": "n1"},
        {"phase": "Pending", "restarts": 3, "ready": False, "node": None},
    ]}}
    assert conditions.holds(condition, resource) is holds, condition


def test_the_operators_are_not_reversed():
    """Each operator on both sides of its boundary, so a swapped one cannot pass."""
    pods = {"items": [{"n": 2}]}
    table = {"==": (2, 3), "!=": (3, 2), "<": (3, 2), "<=": (2, 1), ">": (1, 2), ">=": (2, 3)}
    for op, (true_at, false_at) in table.items():
        assert conditions.holds(f"items.#(n{op}{true_at})#", pods), op
        assert not conditions.holds(f"items.#(n{op}{false_at})#", pods), op


@pytest.mark.parametrize("condition", ["", "   ", "status.#(phase~\"x\")", "status..x", "status.#(a==)"])
def test_conditions_outside_the_subset_are_refused(condition):
    with pytest.raises(conditions.ConditionError):
        conditions.parse(condition)
