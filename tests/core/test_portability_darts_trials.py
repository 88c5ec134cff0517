"""darts with a maxTrialCount above 1 (or none): Katib's darts service hands the same values to
every trial it is asked for and runs them all; kfp-tune never gives a point twice, so darts
gives one trial and ends with ExperimentSuggestionEndReached (the guide's "darts gives one trial
and then ends"). validate / run say so in a note beside the other portability notes (QA report
s35 nas, finding 3), before the run, not after one that ran one trial of three."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import load_katib_example
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.portability import katib_notes


def darts_notes(max_trial_count: int | None, parallel: int) -> dict[str, str]:
    doc: dict[str, Any] = load_katib_example("nas_darts-cpu.yaml")
    spec = doc["spec"]
    spec["parallelTrialCount"] = parallel
    spec["maxFailedTrialCount"] = 1
    if max_trial_count is None:
        spec.pop("maxTrialCount", None)
    else:
        spec["maxTrialCount"] = max_trial_count
    return {note.path: note.message for note in katib_notes(load_experiment(doc))}


@pytest.mark.parametrize(("max_trial_count", "parallel"), [(3, 3), (5, 1)])
def test_darts_with_more_than_one_trial_is_noted(max_trial_count: int, parallel: int) -> None:
    assert darts_notes(max_trial_count, parallel)["spec.maxTrialCount"] == (
        f"Katib's darts service gives the same values to every trial it is asked for and runs all {max_trial_count} trials "
        f"({parallel} at a time); kfp-tune never gives a point twice: darts gives one trial and ends with ExperimentSuggestionEndReached"
    )


def test_darts_with_no_max_trial_count_is_noted() -> None:
    assert darts_notes(None, 2)["spec.maxTrialCount"] == (
        "Katib's darts service gives the same values to every trial it is asked for and, with no maxTrialCount, runs trials "
        "(2 at a time) until the experiment is stopped; kfp-tune never gives a point twice: darts gives one trial and ends with "
        "ExperimentSuggestionEndReached"
    )


def test_katibs_own_darts_example_of_one_trial_gets_no_such_note() -> None:
    assert "spec.maxTrialCount" not in darts_notes(1, 1)
