"""Trials that carry on from another trial's checkpoint: Katib's ``suggestion_trial_dir``.

An experiment whose algorithm settings name ``suggestion_trial_dir`` (Katib's pbt) gives every
trial a checkpoint folder of its own, seen by the trial at that path; a trial whose labels name a
parent (:data:`PARENT_LABEL`) finds a copy of the parent's folder there when it starts. Where the
folders live is the launcher's business (a folder under the store, the store itself, or a
ReadWriteMany volume on a cluster); this module only says what a trial needs. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TRIAL_DIR_SETTING = "suggestion_trial_dir"
"""The algorithm setting that names the path, inside the trial, of its checkpoint folder."""
GENERATION_LABEL = "pbt.suggestion.katib.kubeflow.org/generation"
"""Katib's pbt label: the trial's generation (0 for the first, random, members)."""
PARENT_LABEL = "pbt.suggestion.katib.kubeflow.org/parent"
"""Katib's pbt label: the trial whose checkpoint folder this trial's starts as a copy of."""
STORE_FOLDER = "checkpoint"
"""A trial's checkpoint files in the store: ``experiments/<experiment>/trials/<trial>/checkpoint/``."""


@dataclass(frozen=True)
class TrialCheckpoint:
    """What a trial needs: its folder at ``path`` (in the container), first filled with a copy
    of ``parent``'s folder when ``parent`` is not empty."""

    path: str
    parent: str = ""


def trial_dir_of(experiment: Any) -> str:
    """The experiment's ``suggestion_trial_dir`` setting, or "" when it has none."""
    algorithm = experiment.spec.algorithm
    if algorithm is None:
        return ""
    return str(algorithm.settings().get(TRIAL_DIR_SETTING) or "")


def trial_checkpoint(experiment: Any, labels: Mapping[str, str]) -> TrialCheckpoint | None:
    """The checkpoint folder a trial of ``experiment`` with these labels gets; None when the
    experiment keeps none."""
    path = trial_dir_of(experiment)
    return TrialCheckpoint(path=path, parent=str(labels.get(PARENT_LABEL, ""))) if path else None
