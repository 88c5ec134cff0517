"""Progress behaviour no test pinned down, each seen failing on the QA pass's surviving mutant of
the line it covers (progress.py's plain lines and its watcher), and a trial given back for an
interrupt, which the plain lines told as well as the interrupt's own notice."""

from __future__ import annotations

from kfp_tune.core.records import TrialResult
from kfp_tune.core.state import TRIAL_INTERRUPTED, TrialState
from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.progress import PlainProgress


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
