"""The progress watcher's look at a large experiment (QA scale, session 37, finding 1): what it
reads does not grow with the trials already ended, and a slow look never makes the next one wait
past LONGEST_POLL_WAIT, so the plain lines stay PLAIN_PROGRESS_SECONDS apart whatever the size.
Counted store requests and a fake clock: no timing."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from conftest import quad_run_to_its_end
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.state import ExperimentView
from kfp_tune.progress import LONGEST_POLL_WAIT, ProgressWatcher
from kfp_tune.stores import LocalStore

NEVER = 3600.0
"""A watcher's interval that its own thread never reaches in a test: the test polls."""


def _count_listed_keys(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Store requests by method, and under "keys listed" every key the listings returned."""
    counts: Counter[str] = Counter()
    for method in ("get", "list"):
        inner = getattr(LocalStore, method)

        def request(self: LocalStore, *args: Any, _inner: Any = inner, _method: str = method, **kwargs: Any) -> Any:
            counts[_method] += 1
            found = _inner(self, *args, **kwargs)
            if _method == "list":
                counts["keys listed"] += len(found)
            return found
        monkeypatch.setattr(LocalStore, method, request)
    return counts


def _look_with_nothing_new(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    with ProgressWatcher(LocalStore(folder / "store"), load_experiment(folder / "quad.yaml"), lambda done, info: None, interval=NEVER) as watcher, \
            monkeypatch.context() as patched:  # counted from the watcher's first look on
        counts = _count_listed_keys(patched)
        watcher.poll()
    return counts


def test_a_look_reads_the_same_at_3_trials_and_at_12(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond one key a trial (its round, listed, not read), a look costs the same: it listed the
    whole experiment, about seven keys a trial, and read every snapshot, so at 3,000 trials on S3
    it took seconds, and the next look waited ten times that."""
    (tmp_path / "small").mkdir()
    (tmp_path / "large").mkdir()
    small = _look_with_nothing_new(quad_run_to_its_end(tmp_path / "small", 3), monkeypatch)
    large = _look_with_nothing_new(quad_run_to_its_end(tmp_path / "large", 12), monkeypatch)
    assert large["keys listed"] - 12 == small["keys listed"] - 3, (small, large)
    assert (large["get"], large["list"]) == (small["get"], small["list"]), (small, large)


def test_a_look_folds_in_a_trial_that_ended_since(tmp_path: Path) -> None:
    """A trial open at the first look and ended by the next is told by it (its folder listed)."""
    quad_run_to_its_end(tmp_path, 2)
    trials = tmp_path / "store" / "experiments" / "quad" / "trials"
    last = sorted(trials.iterdir(), key=lambda folder: (folder / "started.json").stat().st_mtime)[-1]
    kept = tmp_path / "kept"
    kept.mkdir()
    for record in ("ended.json", "result.json"):
        shutil.move(last / record, kept / record)
    updates: list[tuple[int, dict[str, Any]]] = []
    with ProgressWatcher(LocalStore(tmp_path / "store"), load_experiment(tmp_path / "quad.yaml"),
                         lambda done, info: updates.append((done, info)), interval=NEVER) as watcher:
        watcher.poll()
        assert updates[-1][0] == 1 and updates[-1][1]["running"] == 1
        for record in ("ended.json", "result.json"):
            shutil.move(kept / record, last / record)
        watcher.poll()
        done, info = updates[-1]
        assert done == 2 and info["running"] == 0 and last.name in [trial.name for trial in info["ended"]]


@pytest.mark.parametrize("look, wait", [(3.0, 3.0), (0.5, LONGEST_POLL_WAIT), (0.05, 0.5)])
def test_a_slow_look_never_makes_the_next_wait_past_the_longest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, look: float, wait: float) -> None:
    """A look taking 3 s (fake clock) made the next wait 30 s: plain lines and the bar stalled
    that long. Now it waits LONGEST_POLL_WAIT at most, or as long as the look took where that is
    longer (a 3 s look waited 1 s, looking three quarters of the time: review C of session 37,
    finding 4); a quick look still waits the interval."""
    quad_run_to_its_end(tmp_path, 2)
    now = [0.0]
    watcher = ProgressWatcher(LocalStore(tmp_path / "store"), load_experiment(tmp_path / "quad.yaml"), lambda done, info: None,
                              interval=0.5, clock=lambda: now[0])
    watcher.poll()  # a quick look (the clock did not move)
    assert watcher.next_wait == 0.5
    refresh = ExperimentView.refresh_open

    def slow(view: ExperimentView) -> Any:
        now[0] += look
        return refresh(view)
    monkeypatch.setattr(ExperimentView, "refresh_open", slow)
    watcher.poll()
    assert watcher.next_wait == pytest.approx(wait)
