"""What hyperband's bracket schedule will do against maxTrialCount is said before the run (QA
earlystop, finding 2): its length is known from r_l and eta alone, so validate (and run,
submit, schedule, tune(), which print the same notes) say when it is shorter than
maxTrialCount, when maxTrialCount ends the run before any promotion (a random search, as
Katib's own hyperband example), which r_l a missing one defaults to; and the end is reported
as the bracket schedule's, not the search space's."""

from __future__ import annotations

from typing import Any

import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.decision import SUGGESTION_END_REACHED, decide
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.portability import before_run_notes, katib_notes
from kfp_tune.core.records import TrialResult, TrialStarted
from kfp_tune.core.state import ExperimentState, TrialState
from kfp_tune.core.vocabulary import TrialStatus

MAX = "spec.maxTrialCount"


def _hyperband(max_trial_count: int | None, settings: dict[str, str], epochs_max: str = "9", parallel: int = 4) -> dict[str, Any]:
    algorithm = {"algorithmName": "hyperband", "algorithmSettings": [{"name": "resource_name", "value": "y"}, *({"name": k, "value": v} for k, v in settings.items())]}
    doc = quadratic_experiment(**{"spec.algorithm": algorithm, "spec.parallelTrialCount": min(parallel, max_trial_count or parallel), "spec.maxTrialCount": max_trial_count})
    doc["spec"]["parameters"][1] = {"name": "y", "parameterType": "int", "feasibleSpace": {"min": "1", "max": epochs_max}}
    if max_trial_count is None:
        del doc["spec"]["maxTrialCount"]
    return doc


def _notes(doc: dict[str, Any]) -> dict[str, str]:
    return {note.path: note.message for note in katib_notes(load_experiment(doc))}


def test_a_schedule_shorter_than_max_trial_count_is_noted_with_its_size() -> None:
    """r_l 4, eta 2: rungs 4/2/1, 3/2, 3, 15 trials; maxTrialCount 20 ends at 15."""
    note = _notes(_hyperband(20, {"r_l": "4", "eta": "2"}))[MAX]
    assert note.startswith("hyperband's schedule with r_l 4 and eta 2 has 15 trials (brackets' rungs 4/2/1, 3/2, 3), fewer than maxTrialCount 20: ")
    assert "kfp-tune runs the schedule and ends with ExperimentSuggestionEndReached" in note
    assert "'The response contains unexpected trials'" in note and "stays Running" in note


def test_a_schedule_that_fits_max_trial_count_has_no_note() -> None:
    assert MAX not in _notes(_hyperband(15, {"r_l": "4", "eta": "2"}))
    assert MAX not in _notes(_hyperband(5, {"r_l": "4", "eta": "2"}))  # the 5th trial is the first promoted one
    assert MAX not in _notes(_hyperband(None, {"r_l": "4", "eta": "2"}))


def test_a_max_trial_count_that_ends_the_run_before_any_promotion_is_a_random_search() -> None:
    """Katib's own hp-tuning/hyperband.yaml: r_l 2, eta 2, maxTrialCount 2; the first rung has 2."""
    note = _notes(_hyperband(2, {"eta": "2", "r_l": "2"}, epochs_max="1", parallel=2))[MAX]
    assert note.startswith("maxTrialCount 2 ends the run within hyperband's first rung (2 configurations at y 1), before any trial is promoted")
    assert "a random search" in note and "5 trials" in note
    four = _notes(_hyperband(4, {"r_l": "4", "eta": "2"}))[MAX]
    assert four.startswith("maxTrialCount 4 ends the run within hyperband's first rung (4 configurations at y 1)")


def test_a_schedule_of_one_bracket_without_a_promotion_is_a_random_search() -> None:
    """r_l 1 (below eta): one bracket of one trial, and maxTrialCount 15 is never reached."""
    note = _notes(_hyperband(15, {"r_l": "1", "eta": "2"}))[MAX]
    assert note.startswith("hyperband's schedule with r_l 1 and eta 2 is one bracket of 1 trial at y 1, none promoted to a larger resource: a random search")
    assert "; 1 trial, fewer than maxTrialCount 15" in note and "ExperimentSuggestionEndReached" in note


def test_a_missing_r_l_note_says_the_default_and_the_schedule_it_gives() -> None:
    """Katib's example's resource (min 1, max 1) and no r_l: r_l is 1, one trial."""
    notes = _notes(_hyperband(15, {"eta": "2"}, epochs_max="1"))
    assert notes["spec.algorithm.algorithmSettings"] == (
        "Katib's hyperband service requires 'r_l'; kfp-tune gives it a default: the max of the resource parameter 'y', 1, "
        "a schedule of 1 trial"
    )
    assert notes[MAX].startswith("hyperband's schedule with r_l 1 (not set: the max of 'y') and eta 2 is one bracket of 1 trial")


def test_run_submit_schedule_and_tune_say_it_before_the_run() -> None:
    """before_run_notes is what they print: the schedule note is among them."""
    assert [n.path for n in before_run_notes(load_experiment(_hyperband(20, {"r_l": "4", "eta": "2"})))] == [MAX]


def test_validate_prints_the_note_and_exits_0(tmp_path, capsys) -> None:
    path = tmp_path / "hb.yaml"
    path.write_text(yaml.safe_dump(_hyperband(15, {"r_l": "1", "eta": "2"})))
    assert main(["validate", str(path)]) == 0
    assert "note: spec.maxTrialCount: hyperband's schedule with r_l 1 and eta 2 is one bracket of 1 trial" in capsys.readouterr().err


def _ended(doc: dict[str, Any]) -> ExperimentState:
    observation = {"loss": {"min": 0.5, "max": 0.5, "latest": 0.5, "count": 1}}
    result = TrialResult(trial="quad-a", status=TrialStatus.SUCCEEDED, observation=observation, metrics={"loss": 0.5})
    started = TrialStarted(trial="quad-a", time="", at=0.0, run="r", attempt="a")
    trial = TrialState(name="quad-a", index=1, round="r1", assignment={"x": "0.1", "y": "1"}, created="2026-11-30T10:00:00Z", started=started, result=result)
    return ExperimentState(experiment=load_experiment(doc), uid="uid-1", created="2026-11-30T10:00:00Z", trials=[trial], by_name={"quad-a": trial}, exhausted_rounds=1)


def test_the_end_of_hyperbands_schedule_is_said_as_such() -> None:
    decision = decide(_ended(_hyperband(15, {"r_l": "1", "eta": "2"})), rounds_left=3)
    assert decision.reason == SUGGESTION_END_REACHED
    assert decision.message == "Experiment has succeeded because suggestion service has reached the end (hyperband's bracket schedule was run to its last bracket)"
    grid = quadratic_experiment(**{"spec.algorithm": {"algorithmName": "grid"}, "spec.maxTrialCount": 15})
    grid["spec"]["parameters"] = [{"name": n, "parameterType": "discrete", "feasibleSpace": {"list": ["0.1", "0.5"]}} for n in ("x", "y")]
    assert decide(_ended(grid), rounds_left=3).message.endswith("(the search space has no more points)")


def test_a_list_resource_without_r_l_is_said_as_kfp_tunes_default_not_its_max() -> None:
    """A categorical resource (['1', '2']) has no max: r_l left out is 1, kfp-tune's default for
    it, where the notes said 'the max of the resource parameter', 1 (review C of session 37, finding 7)."""
    doc = _hyperband(15, {"eta": "2"})
    doc["spec"]["parameters"][1] = {"name": "y", "parameterType": "categorical", "feasibleSpace": {"list": ["1", "2"]}}
    said = " ".join(note.message for note in katib_notes(load_experiment(doc)))
    assert "the max of" not in said, said
    assert "r_l 1 (not set: kfp-tune's default for a resource parameter with no max, as 'y' is a list; set r_l)" in said
    assert ": 1, kfp-tune's default for a resource parameter with no max, as 'y' is a list; set r_l; a schedule of 1 trial" in said
