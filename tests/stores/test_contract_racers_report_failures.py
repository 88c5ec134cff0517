"""The shipped contract's racing helper (``kfp_tune.stores.testing.run_together``) reports what
happened on its threads: a store that fails in one racing thread must fail the contract with its
own error, not pass because the error stayed on a thread nobody looks at."""

from __future__ import annotations

import threading

import pytest

from kfp_tune.core.errors import StoreError
from kfp_tune.stores.testing import run_together


def test_results_come_back_in_index_order() -> None:
    assert run_together(5, lambda i: i * i) == [0, 1, 4, 9, 16]


def test_a_failure_on_one_racer_is_raised_as_it_was() -> None:
    def work(index: int) -> int:
        if index == 2:
            raise StoreError("racer 2: connection reset")
        return index

    with pytest.raises(StoreError, match="racer 2: connection reset"):
        run_together(4, work)


def test_every_racer_is_running_before_any_finishes() -> None:
    """Released together: each racer waits for all the others to have started its work."""
    count = 4
    inside = threading.Barrier(count, timeout=60)

    def work(index: int) -> int:
        inside.wait()  # breaks (BrokenBarrierError) unless every racer gets here
        return index

    assert run_together(count, work) == list(range(count))
