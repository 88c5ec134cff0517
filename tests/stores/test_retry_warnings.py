"""What RetryingStore logs while it rides out a transient failure: each retry is an info line
(``-v``) that names the operation and its key and counts the attempts, so an operator watching a
step that seems stuck sees which store call is failing, how often, and why; the warnings are one
line when the store stops answering and one when it answers again
(tests/stores/test_retry_outage_said_twice.py)."""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from faults import FailsFirst
from kfp_tune.stores import retry
from kfp_tune.stores.retry import RetryingStore

OPERATIONS: list[tuple[str, Callable[[RetryingStore], object]]] = [
    ("read of exp/a.json", lambda store: store.get("exp/a.json")),
    ("write of exp/a.json", lambda store: store.put("exp/a.json", b"{}")),
    ("listing of exp/", lambda store: store.list("exp/")),
    ("create of exp/a.json", lambda store: store.create("exp/a.json", b"{}")),
    ("delete of 2 key(s)", lambda store: store.delete(["exp/a.json", "exp/b.json"])),
]


@pytest.mark.parametrize(("what", "call"), OPERATIONS, ids=[what for what, _ in OPERATIONS])
def test_each_retry_is_an_info_line_naming_the_call_and_counting_attempts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, what: str, call: Callable[[RetryingStore], object]
) -> None:
    monkeypatch.setattr(retry, "random", random.Random(5))
    store = RetryingStore(FailsFirst(tmp_path, failures=3), deadline=3600, sleep=lambda seconds: None)
    with caplog.at_level(logging.INFO, logger=retry.__name__):
        call(store)
    details = [r.getMessage() for r in caplog.records if r.name == retry.__name__ and r.levelno == logging.INFO]
    assert len(details) == 3, details
    for number, message in enumerate(details, start=1):
        assert message.startswith(f"{what} failed (attempt {number}, "), message
        assert re.search(r"connection reset \(\d more to come\)$", message), "the store's own error ends the line"
