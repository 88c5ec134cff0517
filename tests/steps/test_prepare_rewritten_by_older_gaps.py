"""The warning that an experiment record was rewritten by a kfp-tune before 2026-12-05, where the
tests of test_prepare_rewritten_by_older.py left a changed line unnoticed (mutation pass,
session 31: pr-01, pr-02, pr-04, pr-06, pr-09, pr-15): what it tells a run and an edit to do,
said by neither the pre-flight that only checks (``resume_refusal``, which logs nothing), nor
for a damaged record, nor where the revision it would compare with is gone."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.client import Client
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import DamagedRecord, ExperimentRecords, payload_of
from kfp_tune.core.spec import Experiment
from kfp_tune.core.vocabulary import RecordKind
from kfp_tune.steps.prepare import resume_refusal

LONG_RUNNING = {"spec.resumePolicy": "LongRunning", "spec.parallelTrialCount": 1}
OLDER_WARNING = "was rewritten by a kfp-tune before 2026-12-05"
LOGGER = "kfp_tune.steps.prepare"


def _given(max_trial_count: int) -> Experiment:
    return load_experiment(quadratic_experiment(**{**LONG_RUNNING, "spec.maxTrialCount": max_trial_count}))


def _rewrite(records: ExperimentRecords, **fields: Any) -> None:
    """The experiment record written again with ``fields`` over it, the others kept (as a
    kfp-tune before 2026-12-05 writes it, or as damage does)."""
    head = records.read(records.experiment_key(), RecordKind.EXPERIMENT)
    assert head is not None
    records.write(records.experiment_key(), RecordKind.EXPERIMENT, {**payload_of(head), **fields})


def _edited(store: Any) -> ExperimentRecords:
    """Created by this version from the YAML of 2 (``applied`` 2), then edited to 6 (revision 1)."""
    records = ExperimentRecords(store, "quad")
    steps.init_experiment(records, _given(2))
    Client(store).edit_experiment_budget("quad", max_trial_count=6)
    assert json.loads(store.get(records.experiment_key()))["revision"] == 1
    return records


def _rewritten_by_an_older_kfp_tune(store: Any) -> ExperimentRecords:
    """Then an older kfp-tune ran the YAML of 3: spec 3, revision 1 and ``applied`` 2 left as they were."""
    records = _edited(store)
    _rewrite(records, spec=_given(3).to_dict())
    return records


def _older_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and OLDER_WARNING in r.getMessage()]


def _stored(store: Any, records: ExperimentRecords) -> dict[str, bytes]:
    return {key: store.get(key) for key in store.list(records.root + "/")}


def test_the_check_before_a_run_logs_nothing_and_the_run_warns_once(local_store, caplog):
    """tune()'s check whether the stored experiment would resume (``resume_refusal``) writes and
    logs nothing; the warning is the run's, said once."""
    records = _rewritten_by_an_older_kfp_tune(local_store)
    before = _stored(local_store, records)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert resume_refusal(records, _given(3)) is None
    assert [r.getMessage() for r in caplog.records if r.name == LOGGER] == []
    assert _stored(local_store, records) == before
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        steps.init_experiment(records, _given(3))
    assert len(_older_warnings(caplog)) == 1


def test_the_warning_tells_a_run_what_it_sets(local_store, caplog):
    records = _rewritten_by_an_older_kfp_tune(local_store)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        steps.init_experiment(records, _given(3))
    [warning] = _older_warnings(caplog)
    assert "this run keeps no edit and sets the budgets its spec gives" in warning
    assert "this edit starts from" not in warning


def test_the_warning_tells_an_edit_what_it_starts_from(local_store, caplog):
    _rewritten_by_an_older_kfp_tune(local_store)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        Client(local_store).edit_experiment_budget("quad", max_trial_count=7)
    [warning] = _older_warnings(caplog)
    assert "this edit starts from its stored spec, whose budgets stand for the last run's" in warning
    assert "this run keeps no edit" not in warning


def test_a_revision_record_gone_is_no_sign_of_an_older_kfp_tune(local_store, caplog):
    """The warning would name revisions/000001.json as differing from the record; with that
    file gone nothing tells, so nothing is said, and the run goes on with the edit kept."""
    records = _edited(local_store)
    local_store.delete([records.revision_key(1)])
    with caplog.at_level(logging.INFO, logger=LOGGER):
        head = steps.init_experiment(records, _given(2))
    assert _older_warnings(caplog) == []
    assert head["spec"]["spec"]["maxTrialCount"] == 6


@pytest.mark.parametrize("revision", [True, -1, "1"], ids=["true", "negative", "text"])
def test_a_damaged_revision_is_not_taken_for_an_older_kfp_tune_s_rewrite(revision, local_store, caplog):
    """A record whose revision is no whole number is damaged, not an older version's: no warning
    that blames one (the run is refused as damaged once it writes)."""
    records = _edited(local_store)
    _rewrite(records, spec=_given(3).to_dict(), revision=revision)
    with caplog.at_level(logging.INFO, logger=LOGGER), pytest.raises(DamagedRecord, match="'revision' is"):
        steps.init_experiment(records, _given(4))
    assert _older_warnings(caplog) == []
