"""An experiment record that a kfp-tune before 2026-12-05 (dde3229) rewrote after this one wrote
it (upgrade QA, session 31, finding 1): such a version replaces the stored spec with the one it
was given and keeps the fields it does not know (``revision``, ``applied``) as they were, so a
``kfp-tune edit`` made since is gone and ``applied`` no longer says what the last run was given.
A run reads such a record as an older one's: no edit kept, one warning, never the old run's
budget called "edited"."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.client import Client
from kfp_tune.core.errors import ExperimentConflict
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords, payload_of
from kfp_tune.core.spec import Experiment
from kfp_tune.core.vocabulary import RecordKind
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher

LONG_RUNNING = {"spec.resumePolicy": "LongRunning", "spec.parallelTrialCount": 1}
OLDER_WARNING = "was rewritten by a kfp-tune before 2026-12-05"


def _given(max_trial_count: int) -> Experiment:
    """The experiment's YAML with this maxTrialCount (the other budgets as every run gives them)."""
    return load_experiment(quadratic_experiment(**{**LONG_RUNNING, "spec.maxTrialCount": max_trial_count}))


def _as_a_kfp_tune_before_12_05_ran(records: ExperimentRecords, experiment: Experiment) -> None:
    """c29dbdb's init_experiment (steps/prepare.py:88): ``{**_payload(head), "spec": spec_dict}``,
    the fields it does not know kept as they were."""
    head = records.read(records.experiment_key(), RecordKind.EXPERIMENT)
    assert head is not None
    records.write(records.experiment_key(), RecordKind.EXPERIMENT, {**payload_of(head), "spec": experiment.to_dict()})


def _stored(store: Any, records: ExperimentRecords) -> dict[str, bytes]:
    return {key: store.get(key) for key in store.list(records.root + "/")}


def _edited_then_run_by_an_older_kfp_tune(store: Any) -> ExperimentRecords:
    """The QA's repro, smaller: this version runs the YAML of 2 (2 trials, ``applied`` 2), edits
    maxTrialCount to 6 (revision 1), then an older kfp-tune runs a YAML of 3 (spec 3, revision 1
    and ``applied`` 2 left as they were)."""
    records = ExperimentRecords(store, "quad")
    assert run_inline(store, _given(2), LocalLauncher()).reason == "ExperimentMaxTrialsReached"
    Client(store).edit_experiment_budget("quad", max_trial_count=6)
    _as_a_kfp_tune_before_12_05_ran(records, _given(3))
    head = json.loads(store.get(records.experiment_key()))
    assert (head["revision"], head["applied"]["maxTrialCount"], head["spec"]["spec"]["maxTrialCount"]) == (1, 2, 3)
    return records


def test_the_old_runs_budget_is_not_read_as_an_edit_and_the_run_is_told_an_edit_may_be_lost(local_store, caplog):
    """HEAD then read ``applied`` (2) as still true and kept the older run's 3 "as edited since its
    last run", a budget no edit set; the run of the YAML of 2 is now one whose spec changed since
    the last run (the older one's 3): refused as Katib's webhook refuses a maxTrialCount at the
    trials there are, with one warning before it saying an edit may have been dropped."""
    records = _edited_then_run_by_an_older_kfp_tune(local_store)
    before = _stored(local_store, records)
    with caplog.at_level("INFO", logger="kfp_tune.steps.prepare"), pytest.raises(
            ExperimentConflict, match=r"a changed spec needs a maxTrialCount greater than 2, got 2"):
        steps.init_experiment(records, _given(2))
    assert "as edited since its last run" not in caplog.text
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and OLDER_WARNING in r.getMessage()]
    assert len(warnings) == 1, caplog.text
    assert "its spec differs from revision 1's, revisions/000001.json" in warnings[0]
    assert "a kfp-tune edit made since may have been dropped" in warnings[0]
    assert "kfp-tune status quad" in warnings[0] and "kfp-tune edit quad" in warnings[0]
    assert _stored(local_store, records) == before  # refused: nothing written


def test_a_run_after_the_older_one_sets_a_consistent_record_and_warns_once(local_store, caplog):
    """The older run's YAML (3) run again by this version: its budgets, a new revision whose
    record is the experiment record, ``applied`` 3; a second run of it finds the record this
    version's again: no warning, nothing written."""
    records = _edited_then_run_by_an_older_kfp_tune(local_store)
    with caplog.at_level("WARNING", logger="kfp_tune.steps.prepare"):
        head = steps.init_experiment(records, _given(3))
    assert caplog.text.count(OLDER_WARNING) == 1
    assert (head["revision"], head["applied"]["maxTrialCount"], head["spec"]["spec"]["maxTrialCount"]) == (2, 3, 3)
    revision = records.read(records.revision_key(2), RecordKind.EXPERIMENT)
    assert revision is not None and revision["spec"] == head["spec"]
    before = _stored(local_store, records)
    caplog.clear()
    with caplog.at_level("WARNING", logger="kfp_tune.steps.prepare"):
        steps.init_experiment(records, _given(3))
    assert OLDER_WARNING not in caplog.text
    assert _stored(local_store, records) == before


def test_a_record_never_edited_rewritten_by_an_older_kfp_tune_is_told_by_its_applied_budgets(local_store, caplog):
    """Revision 0 has no revision record: this version creates it with ``applied`` the budgets of
    its spec, so a spec whose budgets differ from ``applied`` was written by an older kfp-tune
    since. Its 4 is not kept as an edit: the YAML of 2 sets 2."""
    records = ExperimentRecords(local_store, "quad")
    steps.init_experiment(records, _given(2))
    _as_a_kfp_tune_before_12_05_ran(records, _given(4))
    with caplog.at_level("INFO", logger="kfp_tune.steps.prepare"):
        head = steps.init_experiment(records, _given(2))
    assert head["spec"]["spec"]["maxTrialCount"] == 2
    assert "as edited since its last run" not in caplog.text
    assert caplog.text.count(OLDER_WARNING) == 1
    assert "its budgets are not the ones its last run was given" in caplog.text


def test_an_edit_after_the_older_run_takes_that_runs_spec_as_the_last_given(local_store, caplog):
    """``kfp-tune edit`` of the rewritten record: the older run's budgets (3) stand for the last
    run's, as for any older kfp-tune's record, so the next run of that YAML keeps the edit (7);
    before, ``applied`` stayed 2 and the YAML of 3 undid the edit."""
    records = _edited_then_run_by_an_older_kfp_tune(local_store)
    with caplog.at_level("WARNING", logger="kfp_tune.steps.prepare"):
        Client(local_store).edit_experiment_budget("quad", max_trial_count=7)
    assert caplog.text.count(OLDER_WARNING) == 1
    edited = json.loads(local_store.get(records.experiment_key()))
    assert (edited["applied"]["maxTrialCount"], edited["spec"]["spec"]["maxTrialCount"]) == (3, 7)
    caplog.clear()
    with caplog.at_level("INFO", logger="kfp_tune.steps.prepare"):
        head = steps.init_experiment(records, _given(3))
    assert head["spec"]["spec"]["maxTrialCount"] == 7
    assert "spec.maxTrialCount stays 7, as edited since its last run" in caplog.text
    assert OLDER_WARNING not in caplog.text


def test_a_record_this_version_wrote_is_not_taken_for_an_older_ones(local_store, caplog):
    """Created, run, edited and run again by this version: never the warning, and the edit kept."""
    records = ExperimentRecords(local_store, "quad")
    run_inline(local_store, _given(2), LocalLauncher())
    Client(local_store).edit_experiment_budget("quad", max_trial_count=4)
    with caplog.at_level("INFO", logger="kfp_tune.steps.prepare"):
        head = steps.init_experiment(records, _given(2))
    assert head["spec"]["spec"]["maxTrialCount"] == 4
    assert OLDER_WARNING not in caplog.text
