"""What a user sees of a store outage that RetryingStore rides out: one warning when the store
stops answering (what failed, that it retries, for how long at most) and one when it answers
again (after how long), not one ~300-character warning per attempt (24 for a 20 s outage of an
inline run); each attempt is an info line, shown with ``-v``."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest

from faults import FailsFirst
from kfp_tune.core.errors import StoreError
from kfp_tune.stores import retry
from kfp_tune.stores.retry import RetryingStore


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == retry.__name__ and r.levelno == logging.WARNING]


def test_an_outage_is_one_warning_when_it_begins_and_one_when_it_ends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(retry, "random", random.Random(7))
    flaky = FailsFirst(tmp_path, failures=6)
    store = RetryingStore(flaky, deadline=300, sleep=lambda seconds: None)
    with caplog.at_level(logging.WARNING, logger=retry.__name__):
        store.put("exp/a.json", b"{}")
        store.get("exp/a.json")  # the store answers: nothing more is said
    began, ended = warnings_of(caplog)
    assert began.startswith("the store stopped answering: write of exp/a.json failed: connection reset (5 more to come); retrying in "), began
    assert began.endswith(" s, and for at most 300 s (KFP_TUNE_STORE_RETRY_SECONDS)"), began
    assert ended == "the store answers again after 0 s (write of exp/a.json succeeded)"


def test_each_outage_is_said_and_one_given_up_on_ends_when_the_store_answers(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    flaky = FailsFirst(tmp_path, failures=2)
    store = RetryingStore(flaky, deadline=0, sleep=lambda seconds: None)
    with caplog.at_level(logging.WARNING, logger=retry.__name__):
        with pytest.raises(StoreError, match="the store failing for"):
            store.put("exp/a.json", b"{}")  # given up at once: its error says so, no warning besides
        with pytest.raises(StoreError, match="the store failing for"):
            store.put("exp/a.json", b"{}")  # the same outage: one try, nothing more said
        store.put("exp/a.json", b"{}")
        flaky.failures, store.deadline = 1, 300
        store.get("exp/a.json")
    said = warnings_of(caplog)
    assert len(said) == 3, said
    assert said[0] == "the store answers again after 0 s (write of exp/a.json succeeded)"
    assert said[1].startswith("the store stopped answering: read of exp/a.json failed: connection reset (0 more to come); retrying in "), said
    assert said[2] == "the store answers again after 0 s (read of exp/a.json succeeded)"
