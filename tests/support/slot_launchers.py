"""Launchers for the slots runs' tests (steps.slots.run_slots) whose trials run in this
process: each trial succeeds with the same metrics, at once or when the test lets it."""

from __future__ import annotations

from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.vocabulary import LaunchPhase

HANG_BOUND_SECONDS = 30.0
"""The longest a test waits on an event: a bound that only turns a regression's hang into a failure."""
SUCCEEDED = LaunchOutcome(LaunchPhase.SUCCEEDED, exit_code=0, logs={"main": "loss=0.5\naccuracy=0.5\n"})


class Instant(Launcher):
    """Each trial succeeds at once; ``runs`` names the trials it ran, in order."""

    def __init__(self) -> None:
        self.runs: list[str] = []

    def run(self, trial: TrialRun) -> LaunchOutcome:
        self.runs.append(trial.trial)
        return SUCCEEDED
