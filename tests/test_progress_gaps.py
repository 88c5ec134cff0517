"""Progress behaviour no test pinned down, each seen failing on the QA pass's surviving mutant of
the line it covers (progress.py's plain lines and its watcher), and a trial given back for an
interrupt, which the plain lines told as well as the interrupt's own notice."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from conftest import quad_run_to_its_end
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import TrialResult
from kfp_tune.core.state import TRIAL_INTERRUPTED, TrialState
from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.progress import PlainProgress, ProgressWatcher
from kfp_tune.stores import LocalStore

NEVER = 3600.0
"""A watcher's interval that its own thread never reaches in a test: the test polls."""


def _ended(name: str, status: TrialStatus, loss: float | None = None, reason: str = "", message: str = "") -> TrialState:
    metrics = {} if loss is None else {"loss": loss}
    return TrialState(name, 0, "r0", {}, "", result=TrialResult(trial=name, status=status, metrics=metrics, reason=reason, message=message))


def test_a_trial_given_back_for_an_interrupt_gets_no_plain_line() -> None:
    """It is told by the interrupt's notice ('interrupted (SIGINT): 1 running trial(s) stopped
    ... given back'), as the bar's notes leave it out (told_as_failure); the plain lines told it
    again, as 'trial q-i Killed (RunInterrupted: ...)'."""
    lines: list[str] = []
    progress = PlainProgress("loss", lines.append, every=0.0, clock=lambda: 0.0)
    given_back = _ended("q-i", TrialStatus.KILLED, None, TRIAL_INTERRUPTED, "the run was interrupted (SIGINT)")
    with progress:
        progress.update(1, {"best": {"loss": 0.5}, "total": 3, "ended": [_ended("q-a", TrialStatus.SUCCEEDED, 0.5), given_back], "running": 0})
    assert lines == ["trial q-a Succeeded loss=0.5 (1/3 done, 0 running, best loss=0.5)"]


def test_leaving_plain_progress_tells_the_trials_still_pending() -> None:
    now = [0.0]
    lines: list[str] = []
    with PlainProgress("loss", lines.append, every=5.0, clock=lambda: now[0]) as progress:
        progress.update(1, {"best": {"loss": 0.5}, "total": 2, "ended": [_ended("q-a", TrialStatus.SUCCEEDED, 0.5)], "running": 1})
        progress.update(2, {"best": {"loss": 0.25}, "total": 2, "ended": [_ended("q-b", TrialStatus.SUCCEEDED, 0.25)], "running": 0})
        assert len(lines) == 1  # within 5 s of the first line: kept
    assert lines[1:] == ["trial q-b Succeeded loss=0.25 (2/2 done, 0 running, best loss=0.25)"]


def test_three_trials_ended_together_are_named_without_and_0_more() -> None:
    lines: list[str] = []
    with PlainProgress("loss", lines.append, every=0.0, clock=lambda: 0.0) as progress:
        ended = [_ended(f"q-{n}", TrialStatus.SUCCEEDED, 0.5) for n in "abc"]
        progress.update(3, {"best": {"loss": 0.5}, "total": 3, "ended": ended, "running": 0})
    assert lines == ["3 trials ended (3 Succeeded): q-a, q-b, q-c (3/3 done, 0 running, best loss=0.5)"]


def test_the_watcher_polls_on_its_own_before_it_is_left(tmp_path: Path) -> None:
    """Its thread reads the store every interval while the run goes (the bar moves), not only
    once as it is left."""
    quad_run_to_its_end(tmp_path, 2)
    polled = threading.Event()
    store = LocalStore(tmp_path / "store")
    with ProgressWatcher(store, load_experiment(tmp_path / "quad.yaml"), lambda done, info: polled.set(), interval=0.01):
        assert polled.wait(60), "no poll while the watcher ran"


def test_a_poll_reads_past_a_damaged_trial_record_and_keeps_its_view(tmp_path: Path) -> None:
    """The experiment did not exist yet when the watcher was entered (a run's first seconds), so
    the poll makes its view: a lenient one, as status reads, so a damaged trial record leaves that
    trial out rather than stopping every update; ``view`` is then the one polled."""
    quad_run_to_its_end(tmp_path, 2)
    empty = LocalStore(tmp_path / "later")
    updates: list[tuple[int, dict]] = []
    with ProgressWatcher(empty, load_experiment(tmp_path / "quad.yaml"), lambda done, info: updates.append((done, info)), interval=NEVER) as watcher:
        assert watcher.view is None
        shutil.copytree(tmp_path / "store", tmp_path / "later", dirs_exist_ok=True)
        damaged, kept = sorted((tmp_path / "later" / "experiments" / "quad" / "trials").iterdir())
        (damaged / "result.json").write_text("{", encoding="utf-8")
        watcher.poll()
        assert updates, "the damaged record stopped the poll"
        done, info = updates[-1]
        assert done == 1 and [t.name for t in info["ended"]] == [kept.name]
        assert watcher.view is not None and [t.name for t in watcher.view.refresh().trials if t.is_terminal] == [kept.name]
