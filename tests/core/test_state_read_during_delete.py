"""A reader that folds an experiment while another process deletes it (QA shared, finding 1).

A delete marks the experiment record (``deleting``), then removes every other record, the
experiment record last. A reader that read the experiment record before the mark and listed or
read the rest after it folded what was left: ``kfp-tune run`` said "already completed ... 2
trial(s) done; nothing to run" and then ran a new experiment from trial 1. The store wrapper
below takes the delete's steps at the point of the read where the race interleaves them, so
no timing is involved."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import quad_run_to_its_end
from deleting_store import DeletingStore
from kfp_tune.core.errors import ExperimentPartlyDeleted
from kfp_tune.core.records import ExperimentRecords, RecordKind
from kfp_tune.core.state import ExperimentView, load_state
from kfp_tune.reports import resume_note
from kfp_tune.stores import LocalStore


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``quad``, 4 trials, Succeeded (ExperimentMaxTrialsReached); tests delete from copies."""
    return quad_run_to_its_end(tmp_path_factory.mktemp("finished"), 4) / "store"


@pytest.fixture
def store(finished: Path, tmp_path: Path) -> LocalStore:
    import shutil

    return LocalStore(str(shutil.copytree(finished, tmp_path / "store")))


def _half_deleted(store: LocalStore) -> list[str]:
    """What an S3 listing taken mid-delete can lack: two of the four trials (their rounds and
    records), the outcome record still there."""
    keys = store.list("experiments/quad/")
    rounds = sorted(k for k in keys if "/rounds/" in k)[:2]
    gone_trials = {ExperimentRecords(store, "quad").read(k, RecordKind.ROUND)["trials"][0]["name"] for k in rounds}  # type: ignore[index]
    return rounds + [k for k in keys if any(f"/trials/{name}/" in k for name in gone_trials)]


@pytest.mark.parametrize("at", ["list", "read"])
def test_a_half_deleted_experiment_is_refused_as_being_deleted(store: LocalStore, at: str) -> None:
    deleting = DeletingStore(store, at, _half_deleted(store))
    with pytest.raises(ExperimentPartlyDeleted) as caught:
        resume_note(deleting, "quad", how_to_run_again=True)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "a delete of it began at 2026-12-07T01:59:44Z and has not finished" in message
    assert "may still be under way" in message and "already completed" not in message


@pytest.mark.parametrize("lenient", [False, True], ids=["strict", "lenient"])
@pytest.mark.parametrize("at", ["list", "read"])
def test_readers_never_show_a_half_deleted_state(store: LocalStore, at: str, lenient: bool) -> None:
    """status, trials, list (lenient views) and a run (strict): the same refusal, never a state
    of 2 trials."""
    deleting = DeletingStore(store, at, _half_deleted(store))
    with pytest.raises(ExperimentPartlyDeleted):
        ExperimentView(ExperimentRecords(deleting, "quad"), lenient=lenient).state  # type: ignore[arg-type]  # noqa: B018


@pytest.mark.parametrize("at", ["list", "read"])
def test_an_experiment_deleted_while_read_is_said_to_start_anew(store: LocalStore, at: str) -> None:
    """Gone entirely (its record too) by the end of the read: the run starts a new experiment,
    and says so rather than nothing (or a note made of what was left)."""
    deleting = DeletingStore(store, at, store.list("experiments/quad/"), mark=False)
    note = resume_note(deleting, "quad", how_to_run_again=True)  # type: ignore[arg-type]
    assert note is not None and "was deleted while this run read it" in note and "new experiment" in note
    assert "already completed" not in note and "resuming" not in note


@pytest.mark.parametrize("at", ["list", "read"])
def test_a_delete_of_every_trial_record_under_way_never_reads_as_completed_with_none_done(store: LocalStore, at: str) -> None:
    """The outcome record still there, every trial's records gone by the time they are read: the
    listing-then-record read refuses it as being deleted, never "Succeeded ... 0 trial(s) done"."""
    deleting = DeletingStore(store, at, store.list("experiments/quad/trials/"))
    with pytest.raises(ExperimentPartlyDeleted) as caught:
        resume_note(deleting, "quad", how_to_run_again=True)  # type: ignore[arg-type]
    assert "0 trial(s) done" not in str(caught.value) and "already completed" not in str(caught.value)


def test_a_stored_outcome_is_read_back_though_the_trials_records_are_lost(store: LocalStore) -> None:
    """docs/guarantees.md: the first finished decision is written once and every later decision
    reads it back. Trials' records lost (removed by hand, a listing that lacks them) do not turn
    a completed experiment into one that a run resumes and runs trials in."""
    store.delete([k for k in store.list("experiments/quad/trials/")])
    state = load_state(ExperimentRecords(store, "quad"))
    outcome = state.outcome()
    assert outcome is not None and outcome["reason"] == "ExperimentMaxTrialsReached", outcome
    note = resume_note(store, "quad", how_to_run_again=True)
    assert note is not None and "has already completed" in note and "resuming" not in note, note


class _DeletingAtTrialListing:
    """The local store, where another process's delete of ``quad`` marks it and removes one
    trial's records inside a reader's listing of that trial's folder."""

    def __init__(self, inner: LocalStore, trial: str):
        self.inner, self.uri, self.trial = inner, inner.uri, trial
        self.armed = False

    def list(self, prefix: str) -> list[str]:
        if self.armed and prefix == ExperimentRecords(self.inner, "quad").trial_prefix(self.trial):
            self.armed = False
            DeletingStore(self.inner, "list", self.inner.list(prefix))._delete_part()
        return self.inner.list(prefix)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_one_trial_of_an_experiment_being_deleted_is_refused_not_shown_running(store: LocalStore) -> None:
    """A view built already (Client.get_trial, get_trial_metrics), the trial ended since: its
    records go in the delete that begins as the trial's folder is listed. Read with the
    experiment record first, the trial showed as Running; now the mark is read after the listing."""
    records = ExperimentRecords(store, "quad")
    trial = load_state(records).trials[0].name
    aside = {key: store.get(key) for key in store.list(records.trial_prefix(trial)) if key.endswith(("ended.json", "result.json"))}
    assert len(aside) == 2
    store.delete(list(aside))
    deleting = _DeletingAtTrialListing(store, trial)
    view = ExperimentView(ExperimentRecords(deleting, "quad"), lenient=True)  # type: ignore[arg-type]
    assert not view.state.trial(trial).is_terminal
    for key, data in aside.items():  # the trial ends
        assert data is not None
        store.put(key, data)
    deleting.armed = True
    with pytest.raises(ExperimentPartlyDeleted):
        view.refresh_trial(trial)
