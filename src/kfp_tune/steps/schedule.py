"""Run and round identities, and how many trials a batch round gets (the suggest component used
on its own; the pipeline and the inline runner suggest one trial at a time)."""

from __future__ import annotations

import datetime as _dt
import math
import os
import re

from kfp_tune.core.errors import InputError
from kfp_tune.core.spec import Experiment


def new_run_id() -> str:
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"run-{stamp}-{os.urandom(3).hex()}"


def round_id(run_id: str, round_index: int) -> str:
    """The store key of a round: unique per run, so a new run never replays an old round."""
    if round_index < 0:
        raise InputError(f"round_index: expected a round's number, 0 or more, got {round_index}")
    return f"{run_id}-r{round_index:03d}"


def check_round(round_index: int, rounds_total: int) -> None:
    """suggest's and decide-stop's round inputs: InputError naming the one that cannot be meant (a
    run of no rounds, a round past the run's last), before anything is stored; suggest would
    otherwise log "round 4 of 2" and give the round the whole budget left, and decide-stop end the
    run as if its rounds were used up."""
    if rounds_total < 1:
        raise InputError(f"rounds_total: expected the rounds compiled into the run, 1 or more, got {rounds_total}")
    if round_index >= rounds_total:
        raise InputError(f"round_index: expected a round of the run's rounds_total ({rounds_total}): 0 to {rounds_total - 1}, got {round_index}")
    round_id("", round_index)  # a negative round_index, refused in its words


def slot_round_id(run_id: str, trial_index: int) -> str:
    """The round of one trial that slots mode adds (``steps.slots``): the trial's index."""
    return f"{run_id}-t{trial_index:06d}"


def component_round_id(run_id: str, trial_index: int) -> str:
    """The round of one trial that a tuning component adds (``steps.component_trials``)."""
    return f"{run_id}-c{trial_index:06d}"


_ROUND_OF_RUN = re.compile(r"(.+)-(?:r|t|c)\d+")
"""A round id: its run's id, then the round's own part, a letter and digits: a batch round
(:func:`round_id`, ``-rNNN``), a slots trial's (:func:`slot_round_id`, ``-tNNNNNN``) or a
component trial's (:func:`component_round_id`, ``-cNNNNNN``); a round named through
``steps.suggest`` as ``<run>-r0`` is its run's too."""


def made_by_run(round_name: str, run_id: str) -> bool:
    """Whether round ``round_name`` was made by run ``run_id``: its run id part is that id
    exactly (run ``nightly``'s rounds are not run ``nightly-2``'s)."""
    found = _ROUND_OF_RUN.fullmatch(round_name)
    return found is not None and found.group(1) == run_id


def round_size(experiment: Experiment, trials_so_far: int, rounds_left: int) -> int:
    """How many trials a round gets: the budget left spread over the rounds left, and never
    fewer than parallelTrialCount (so the parallel slots stay busy)."""
    spec = experiment.spec
    parallel = spec.parallel_trial_count or 1
    if spec.max_trial_count is None:
        return parallel
    remaining = max(0, spec.max_trial_count - trials_so_far)
    if remaining == 0:
        return 0
    share = math.ceil(remaining / max(1, rounds_left))
    return min(remaining, max(parallel, share))
