"""Early stopping while a trial runs: the experiment's rule, fed the trial's objective so far
and the completed trials' curves."""

from __future__ import annotations

from collections.abc import Callable

from kfp_tune.algorithms import early_stopping
from kfp_tune.collectors.running import stop_test
from kfp_tune.core.catalogue import EARLY_STOPPING, parse_settings
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import ExperimentState
from kfp_tune.core.vocabulary import TrialStatus


def early_stopping_monitor(state: ExperimentState, records: ExperimentRecords, trial: str) -> Callable[[str], bool] | None:
    """The running trial's stop test: its objective so far (from its output for StdOut, from
    what the collector or the trial stored for the other kinds) against the completed trials'."""
    spec = state.experiment.spec
    if spec.early_stopping is None:
        return None
    settings, _ = parse_settings(
        EARLY_STOPPING[spec.early_stopping.algorithm_name],
        [(s.name, s.value) for s in spec.early_stopping.algorithm_settings],
        "",
    )
    rule = early_stopping.create(spec.early_stopping.algorithm_name, settings)
    completed = [list(t.result.curve) for t in state.trials if t.status == TrialStatus.SUCCEEDED and t.result is not None]
    return stop_test(records, state.experiment, trial, rule, completed)
