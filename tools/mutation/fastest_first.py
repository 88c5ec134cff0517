"""A pytest plugin for mutation runs: the tests covering a mutant run fastest first.

mutmut records each test's duration (``mutmut-stats.json``, next to the mutated copy) and
runs a mutant's tests with ``-x``, so the first failure ends the run. Running the quick tests
first makes a killed mutant cost a fraction of a second instead of the slowest test's time;
a survivor still runs them all. Without the stats file (the first, recording run) the order
is left as collected.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

STATS = Path("mutmut-stats.json")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Sort by recorded duration; unknown tests go last, in their collected order."""
    if not STATS.is_file():
        return
    durations: dict[str, float] = json.loads(STATS.read_text()).get("duration_by_test", {})
    items.sort(key=lambda item: durations.get(item.nodeid, float("inf")))
