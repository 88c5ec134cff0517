"""A medianstop min_trials_required at or above maxTrialCount can never stop a trial, and
validate says so (QA earlystop, finding 3): a trial is judged only when min_trials_required
trials have succeeded as it starts, and at most maxTrialCount - 1 can have when the last one
starts. Katib takes such a spec as it is, and so does kfp-tune: a note, no refusal."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.portability import katib_notes


def _medianstop(max_trial_count: int | None, **settings: str) -> dict[str, Any]:
    doc = quadratic_experiment(**{
        "spec.earlyStopping": {"algorithmName": "medianstop", "algorithmSettings": [{"name": k, "value": v} for k, v in settings.items()]},
        "spec.maxTrialCount": max_trial_count, "spec.parallelTrialCount": 2,
    })
    if max_trial_count is None:
        del doc["spec"]["maxTrialCount"]
    return doc


def _notes(doc: dict[str, Any]) -> dict[str, str]:
    return {note.path: note.message for note in katib_notes(load_experiment(doc))}


@pytest.mark.parametrize("required, max_trial_count", [("20", 8), ("8", 8)])
def test_min_trials_required_at_or_above_max_trial_count_is_noted(required: str, max_trial_count: int) -> None:
    note = _notes(_medianstop(max_trial_count, min_trials_required=required, start_step="2"))["spec.earlyStopping.algorithmSettings[0].value"]
    assert note == (
        f"min_trials_required {required} is not below maxTrialCount {max_trial_count}: a trial is judged only when min_trials_required "
        f"trials have succeeded as it starts, and at most {max_trial_count - 1} can have when the last one starts, so medianstop never "
        "stops a trial (Katib takes it so too)"
    )


def test_the_default_min_trials_required_is_checked_too() -> None:
    """Left out, min_trials_required is 3 (Katib's default): maxTrialCount 3 never stops a trial."""
    note = _notes(_medianstop(3, start_step="2"))["spec.earlyStopping.algorithmSettings"]
    assert note.startswith("min_trials_required 3 (not set: Katib's default) is not below maxTrialCount 3: ")


@pytest.mark.parametrize("max_trial_count", [9, None])
def test_a_rule_that_can_apply_has_no_note(max_trial_count: int | None) -> None:
    notes = _notes(_medianstop(max_trial_count, min_trials_required="8", start_step="2"))
    assert not any(path.startswith("spec.earlyStopping") for path in notes), notes


def test_validate_notes_it_and_takes_the_spec(tmp_path, capsys) -> None:
    path = tmp_path / "ms.yaml"
    path.write_text(yaml.safe_dump(_medianstop(8, min_trials_required="20", start_step="2")))
    assert main(["validate", str(path)]) == 0
    assert "note: spec.earlyStopping.algorithmSettings[0].value: min_trials_required 20 is not below maxTrialCount 8" in capsys.readouterr().err
