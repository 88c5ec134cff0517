"""One-trial mode's places (steps.launch_trial.wait_for_place), where a mutation pass found
them unchecked: a place's time from far ahead, a taken-over run, the wait's log line, a damaged
place record, a generation created under later ones, a given-back holder, and the step's
return value for a trial closed before. No real waits: a pause raises."""

from __future__ import annotations

import json
import logging
import time

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core import claims
from kfp_tune.core.errors import ExperimentBusy
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords, PlaceRecord
from kfp_tune.core.state import TRIAL_NOT_CREATED, ExperimentView
from kfp_tune.core.vocabulary import TRIAL_TTL_VARIABLE
from kfp_tune.steps.decide_stop import give_back
from kfp_tune.steps.entrypoints import launch_trial_step
from kfp_tune.steps.launch_trial import wait_for_place
from stale_listing import StaleOnce

LOCAL = json.dumps({"kind": "local"})


class _Waited(Exception):
    pass


def _never(seconds):
    raise _Waited


def _round(store, n=2, **overrides):
    """A round of ``n`` trials of run-1, parallelTrialCount 1 unless overridden."""
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 10, "spec.parallelTrialCount": 1, **overrides}))
    records = ExperimentRecords(store, experiment.name)
    return records, steps.suggest(records, "run-1-r000", 1, experiment, run_id="run-1", n=n)


def _takes(records, name, run="run-1"):
    """Whether the trial gets a place at once (a pause would mean it waits)."""
    try:
        return wait_for_place(ExperimentView(records), name, run, sleep=_never)
    except _Waited:
        return False


@pytest.mark.parametrize("ahead", [86400.0, 365 * 86400.0])
def test_a_place_taken_at_a_time_far_ahead_frees_after_the_trial_ttl_not_a_ttl_after_that_time(local_store, monkeypatch, ahead):
    """A place record whose time is more than CLOCK_SKEW_SECONDS ahead (a clock set wrong where
    it was written, or damage) holds no time, as a claim's does: its never-started holder frees
    it now, not a TTL after that time (before, a day ahead held the place for a day)."""
    monkeypatch.setenv(TRIAL_TTL_VARIABLE, "600")
    records, names = _round(local_store)
    records.create(records.place_key(0, 1), PlaceRecord(trial=names[0], at=time.time() + ahead))
    assert _takes(records, names[1])
    assert records.read_typed(records.place_key(0, 2), PlaceRecord).trial == names[1]


def test_a_place_taken_at_a_time_ahead_within_the_clock_skew_is_held(local_store, monkeypatch):
    """Within CLOCK_SKEW_SECONDS ahead, the time is another machine's clock: it is kept."""
    monkeypatch.setenv(TRIAL_TTL_VARIABLE, "600")
    records, names = _round(local_store)
    records.create(records.place_key(0, 1), PlaceRecord(trial=names[0], at=time.time() + claims.CLOCK_SKEW_SECONDS / 2))
    assert not _takes(records, names[1])


def test_an_iteration_whose_run_was_taken_over_while_it_waits_takes_no_place(local_store):
    """Its run lost the experiment: the wait raises ExperimentBusy rather than take a place."""
    records, names = _round(local_store)
    claims.claim(records, "run-2", take_over=True)
    with pytest.raises(ExperimentBusy):
        wait_for_place(ExperimentView(records), names[0], "run-1", sleep=_never)
    assert local_store.list(records.places_prefix()) == []


def test_the_wait_says_parallel_trial_count_and_names_the_trials_holding_the_places(local_store, caplog):
    records, names = _round(local_store)
    assert _takes(records, names[0])
    with caplog.at_level(logging.INFO, logger="kfp_tune"):
        assert not _takes(records, names[1])
    assert f"trial {names[1]} waits for a place: parallelTrialCount is 1, and {names[0]} hold them" in caplog.text


@pytest.mark.parametrize("damage", [b"{not json", json.dumps({"kind": "trialPlace", "version": 1, "at": 1.0}).encode()])
def test_a_damaged_place_record_frees_its_place_and_the_step_runs_the_trial(local_store, damage):
    records, names = _round(local_store, n=3)
    local_store.put(records.place_key(0, 1), damage)
    assert _takes(records, names[0])
    local_store.put(records.place_key(0, 3), damage)  # the latest generation again, now over names[0]'s
    assert launch_trial_step(local_store.uri, "quad", names[1], LOCAL, "run-1") == "Succeeded"


def test_a_generation_created_below_a_later_one_holds_no_place(local_store):
    """An iteration with a stale listing creates generation 1 while generation 2 is there (1
    was removed): the later one is the place's, so it waits, and only one trial runs."""
    records, names = _round(local_store, n=3)
    records.create(records.place_key(0, 2), PlaceRecord(trial=names[0], at=time.time()))

    assert not _takes(ExperimentRecords(StaleOnce(local_store, records.places_prefix()), "quad"), names[1])
    assert records.place_key(0, 1) in local_store.list(records.place_prefix(0)), "the stale listing made it create generation 1"


def test_a_place_held_by_a_given_back_never_started_trial_is_free_at_once(local_store, monkeypatch):
    monkeypatch.setenv(TRIAL_TTL_VARIABLE, "3600")
    records, names = _round(local_store)
    assert _takes(records, names[0])
    give_back(ExperimentView(records), names[0], TRIAL_NOT_CREATED, "given back", ended_reason="Killed")
    assert _takes(records, names[1])


def test_a_retried_step_of_a_trial_that_ended_returns_its_recorded_phase(local_store):
    """The retry starts nothing (the trial is closed) and says how the trial ended: Succeeded,
    not Failed."""
    _, names = _round(local_store, n=1)
    assert launch_trial_step(local_store.uri, "quad", names[0], LOCAL, "run-1") == "Succeeded"
    assert launch_trial_step(local_store.uri, "quad", names[0], LOCAL, "run-1") == "Succeeded"
