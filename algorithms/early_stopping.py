"""Early-stopping rules, under Katib's ``earlyStopping.algorithmName``: a plug-in family beside
the suggestion algorithms. A rule sees the objective values a running trial has reported so far
and those of the completed trials, and says whether to stop the running one now.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from kfp_tune.core.errors import NotImplementedAlgorithm


class EarlyStoppingRule(Protocol):
    name: str

    def should_stop(self, objective_type: str, completed: Sequence[Sequence[float]], current: Sequence[float]) -> bool:
        """``completed``: each completed trial's objective values in report order; ``current``:
        the running trial's so far."""
        ...


class MedianStop:
    """Stop a trial whose best objective so far, at report s >= ``start_step``, is worse than the
    median of the completed trials' running averages over their first s reports (Katib averages
    the same way but compares with a mean; the median is robust to a few bad trials). Applies
    once ``min_trials_required`` trials have completed."""

    name = "medianstop"

    def __init__(self, settings: dict[str, Any]):
        self.min_trials_required = int(settings.get("min_trials_required") or 3)
        self.start_step = int(settings.get("start_step") or 4)

    def should_stop(self, objective_type: str, completed: Sequence[Sequence[float]], current: Sequence[float]) -> bool:
        step = len(current)
        usable = [c for c in completed if len(c) > 0]
        if step < self.start_step or len(usable) < self.min_trials_required:
            return False
        median = float(np.median([np.mean(c[:step]) for c in usable]))
        if objective_type == "minimize":
            return min(current) > median
        return max(current) < median


RULES: dict[str, Callable[[dict[str, Any]], EarlyStoppingRule]] = {"medianstop": MedianStop}


def create(name: str, settings: dict[str, Any]) -> EarlyStoppingRule:
    try:
        return RULES[name](settings)
    except KeyError:
        raise NotImplementedAlgorithm(f"early stopping {name!r} is not implemented in this version yet") from None
