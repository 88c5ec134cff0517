"""A medianstop min_trials_required above maxTrialCount - parallelTrialCount can never stop a
trial, and validate, run, submit and schedule say so (QA earlystop, finding 3; review C of
session 37, finding 3): a trial is judged only when min_trials_required trials have succeeded as
it starts, and with P trials at once trial k > P starts when k - P have ended, so the last one
when at most maxTrialCount - P have. Katib takes such a spec as it is, and so does kfp-tune: a
note, no refusal."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.portability import before_run_notes, katib_notes


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


@pytest.mark.parametrize("required, max_trial_count", [("20", 8), ("7", 8)])
def test_min_trials_required_above_what_can_have_ended_is_noted(required: str, max_trial_count: int) -> None:
    """With parallelTrialCount 2, trial k > 2 starts when k - 2 trials have ended: the last one
    when at most maxTrialCount - 2 have (review C of session 37, finding 3)."""
    note = _notes(_medianstop(max_trial_count, min_trials_required=required, start_step="2"))["spec.earlyStopping.algorithmSettings[0].value"]
    assert note == (
        f"min_trials_required {required} is above maxTrialCount {max_trial_count} - parallelTrialCount 2: a trial is judged only when "
        f"min_trials_required trials have succeeded as it starts, and with 2 trials run at once the last one starts when at most "
        f"{max_trial_count - 2} have ended, so medianstop never stops a trial (Katib takes it so too)"
    )


def test_katibs_median_stop_example_with_14_required_is_noted() -> None:
    """Katib's median-stop.yaml (maxTrialCount 15, parallelTrialCount 2) with min_trials_required
    14: the last trial starts when at most 13 have ended, so none is ever judged."""
    doc = _medianstop(15, min_trials_required="14", start_step="2")
    assert "at most 13 have ended" in _notes(doc)["spec.earlyStopping.algorithmSettings[0].value"]
    assert not any(p.startswith("spec.earlyStopping") for p in _notes(_medianstop(15, min_trials_required="13", start_step="2")))


def test_parallel_trial_count_left_out_is_katibs_3_and_one_at_a_time_is_max_minus_1() -> None:
    doc = _medianstop(10, min_trials_required="8", start_step="2")
    del doc["spec"]["parallelTrialCount"]
    assert "with 3 trials run at once the last one starts when at most 7 have ended" in _notes(doc)["spec.earlyStopping.algorithmSettings[0].value"]
    doc["spec"]["parallelTrialCount"] = 1  # one at a time: 9 have ended as the last starts, so 8 can apply, 10 cannot
    assert not any(p.startswith("spec.earlyStopping") for p in _notes(doc))
    doc["spec"]["earlyStopping"]["algorithmSettings"][0]["value"] = "10"
    assert _notes(doc)["spec.earlyStopping.algorithmSettings[0].value"].startswith(
        "min_trials_required 10 is above maxTrialCount 10 - parallelTrialCount 1: ")
    doc["spec"]["parallelTrialCount"] = 10  # all at once: all start before any ends
    doc["spec"]["earlyStopping"]["algorithmSettings"][0]["value"] = "1"
    assert "the last one starts when at most 0 have ended" in _notes(doc)["spec.earlyStopping.algorithmSettings[0].value"]


def test_the_default_min_trials_required_is_checked_too() -> None:
    """Left out, min_trials_required is 3 (Katib's default): maxTrialCount 4 at 2 at once never stops a trial."""
    note = _notes(_medianstop(4, start_step="2"))["spec.earlyStopping.algorithmSettings"]
    assert note.startswith("min_trials_required 3 (not set: Katib's default) is above maxTrialCount 4 - parallelTrialCount 2: ")


@pytest.mark.parametrize("max_trial_count", [10, None])
def test_a_rule_that_can_apply_has_no_note(max_trial_count: int | None) -> None:
    notes = _notes(_medianstop(max_trial_count, min_trials_required="8", start_step="2"))
    assert not any(path.startswith("spec.earlyStopping") for path in notes), notes


def test_run_submit_schedule_and_tune_say_it_before_the_run() -> None:
    """before_run_notes is what they print (as the hyperband schedule note): early stopping that
    is off is said to a user who never ran validate; once, in validate's notes."""
    experiment = load_experiment(_medianstop(8, min_trials_required="20", start_step="2"))
    assert [n.path for n in before_run_notes(experiment)] == ["spec.earlyStopping.algorithmSettings[0].value"]
    assert [n.path for n in katib_notes(experiment)].count("spec.earlyStopping.algorithmSettings[0].value") == 1


def test_run_prints_it_before_the_run(tmp_path, capsys) -> None:
    path = tmp_path / "ms.yaml"
    path.write_text(yaml.safe_dump(_medianstop(3, min_trials_required="20", start_step="2")))
    assert main(["run", str(path), "--store", str(tmp_path / "store")]) == 0
    assert "spec.earlyStopping.algorithmSettings[0].value: min_trials_required 20 is above maxTrialCount 3" in capsys.readouterr().err


def test_validate_notes_it_and_takes_the_spec(tmp_path, capsys) -> None:
    path = tmp_path / "ms.yaml"
    path.write_text(yaml.safe_dump(_medianstop(8, min_trials_required="20", start_step="2")))
    assert main(["validate", str(path)]) == 0
    assert "note: spec.earlyStopping.algorithmSettings[0].value: min_trials_required 20 is above maxTrialCount 8 - parallelTrialCount 2" in capsys.readouterr().err
