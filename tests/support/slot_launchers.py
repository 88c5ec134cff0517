"""Launchers for the slots runs' tests (steps.slots.run_slots) whose trials run in this
process: each trial succeeds with the same metrics, at once or when the test lets it."""

from __future__ import annotations

from typing import Any

import pytest

from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.steps import slots

HANG_BOUND_SECONDS = 30.0
"""The longest a test waits on an event: a bound that only turns a regression's hang into a failure."""
SUCCEEDED = LaunchOutcome(LaunchPhase.SUCCEEDED, exit_code=0, logs={"main": "loss=0.5\naccuracy=0.5\n"})


def kept_schedules(monkeypatch: pytest.MonkeyPatch) -> list[slots._Schedule]:
    """Each run's schedule, kept as it is made: what the test's launcher interrupts, as a signal would."""
    schedules: list[slots._Schedule] = []

    class Kept(slots._Schedule):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            schedules.append(self)

    monkeypatch.setattr(slots, "_Schedule", Kept)
    return schedules


class Instant(Launcher):
    """Each trial succeeds at once; ``runs`` names the trials it ran, in order."""

    def __init__(self) -> None:
        self.runs: list[str] = []

    def run(self, trial: TrialRun) -> LaunchOutcome:
        self.runs.append(trial.trial)
        return SUCCEEDED
