"""Run a trial as a call to a Python function in this process (``kfp_tune.tune``)."""

from __future__ import annotations

import math
import numbers
import threading
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from kfp_tune.core.errors import RunInterrupted
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.observation import MetricLog
from kfp_tune.core.space import SearchSpace
from kfp_tune.core.vocabulary import LaunchPhase

Objective = Callable[[dict[str, Any]], "float | Mapping[str, float]"]


class FunctionLauncher(Launcher):
    """Calls ``objective(params)`` with typed parameter values (discrete ones as numbers). A number it returns is the
    objective metric; a dict is metric name -> value. An exception fails the trial, with the
    traceback as its log."""

    def __init__(self, objective: Objective, space: SearchSpace, objective_metric: str):
        self.objective, self.space, self.objective_metric = objective, space, objective_metric
        self._interrupted = threading.Event()

    can_interrupt = True

    def interrupt(self, force: bool = False) -> None:
        """The run is being stopped by its user: no call starts from now on. A call already
        running cannot be stopped from outside (it is Python code in a thread): the run waits a
        grace period for it, then records it Killed and leaves it to end on its own."""
        self._interrupted.set()

    def run(self, trial: TrialRun) -> LaunchOutcome:
        if self._interrupted.is_set():
            raise RunInterrupted()
        params = self.space.to_python(trial.assignment)
        try:
            returned = self.objective(params)
        except Exception as exc:  # the user's code failed: the trial fails, the experiment goes on
            return LaunchOutcome(
                LaunchPhase.FAILED,
                reason="Error",
                message=f"{type(exc).__name__}: {exc}",
                logs={trial.primary_container: traceback.format_exc()},
            )
        try:
            pushed = _metrics(returned, self.objective_metric)
        except (TypeError, ValueError) as exc:
            return LaunchOutcome(LaunchPhase.FAILED, reason="InvalidResult", message=str(exc))
        text = "\n".join(f"{m.name}={m.value!r}" for m in pushed)
        return LaunchOutcome(LaunchPhase.SUCCEEDED, logs={trial.primary_container: text + "\n"}, pushed=pushed)


def _metrics(returned: Any, objective_metric: str) -> list[MetricLog]:
    if isinstance(returned, numbers.Real) and not isinstance(returned, bool):
        items = {objective_metric: returned}
    elif isinstance(returned, Mapping):
        items = dict(returned)
    else:
        raise TypeError(f"the objective returned {type(returned).__name__}; expected a number or a dict of metric name -> number")
    out = []
    for name, value in items.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"metric {name!r} is {type(value).__name__}; expected a number")
        if not math.isfinite(float(value)):
            continue  # a non-finite metric never reaches an algorithm
        out.append(MetricLog(str(name), float(value), 0))
    return out
