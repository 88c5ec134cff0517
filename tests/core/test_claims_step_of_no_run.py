"""A step of a run that holds no claim of the experiment, while no run drives it (its last run
ended, or none ever claimed it), is told that, and how a run claims it: not that the ended run
"now drives" it (QA pipeline, session 36, finding 9: a round-0 suggest wired without
experiment_spec, or a later round whose round 0 never ran)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import quadratic_experiment
from kfp_tune.components import suggest
from kfp_tune.core import claims
from kfp_tune.core.claims import check, claim, release
from kfp_tune.core.errors import ExperimentBusy
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.stores import LocalStore

HOW = "a run claims it in its first step: suggest at round_index 0 with experiment_spec"


def test_a_step_of_a_run_that_never_claimed_is_told_the_last_run_ended(clock, records):
    records.store.put(records.experiment_key(), b"{}")
    claim(records, "r1", ttl=600)
    clock.advance(30)
    release(records, "r1", "ExperimentRunRoundsUsedUp")
    with pytest.raises(ExperimentBusy) as info:
        check(records, "r2")
    assert info.value.reason == (
        "run 'r2' holds no claim of experiment 'exp', and no run drives it: its last run, 'r1', ended at 2027-01-15T08:00:30Z "
        f"(ExperimentRunRoundsUsedUp); {HOW}"
    )
    assert info.value.stops and "now driven by" not in str(info.value)


def test_a_step_of_a_run_that_never_claimed_is_told_the_last_run_is_gone_when_it_died_without_ending(clock, records):
    """The last run was killed (no end record) and its claim lapsed: no run drives the experiment
    either (review C of the claim fixes, finding 4), the likeliest form after a crashed run."""
    records.store.put(records.experiment_key(), b"{}")
    claims.beat(records, claim(records, "r1", ttl=600))
    clock.advance(600)
    with pytest.raises(ExperimentBusy) as info:
        check(records, "r2")
    assert info.value.reason == (
        "run 'r2' holds no claim of experiment 'exp', and no run drives it: its last run, 'r1', was last heard from at "
        f"2027-01-15T08:00:00Z and is taken as gone (not heard from for 600 s); {HOW}"
    )
    assert info.value.stops and "now driven by" not in str(info.value)


def test_a_step_of_a_run_on_an_experiment_no_run_ever_claimed_is_told_so(clock, records):
    records.store.put(records.experiment_key(), b"{}")
    with pytest.raises(ExperimentBusy) as info:
        check(records, "r2")
    assert info.value.reason == f"run 'r2' holds no claim of experiment 'exp', and no run has claimed it yet; {HOW}"


def test_a_step_of_another_run_than_the_live_one_is_still_told_who_drives_it(clock, records):
    records.store.put(records.experiment_key(), b"{}")
    claim(records, "r1", ttl=600)
    with pytest.raises(ExperimentBusy, match=r"^experiment 'exp' is now driven by run 'r1', not by run 'r2'; this run stops$"):
        check(records, "r2")


def test_suggest_of_a_new_run_wired_without_experiment_spec_says_how_a_run_claims(tmp_path: Path, monkeypatch):
    monkeypatch.delenv(claims.OWNER_VARIABLE, raising=False)
    store = str(tmp_path / "store")
    spec = json.dumps(quadratic_experiment(**{"spec.maxTrialCount": 4}))
    common = dict(store_uri=store, experiment_name="quad", rounds_total=2)
    assert suggest.python_func(run_id="r1", round_index=0, experiment_spec=spec, trial_count=0, **common) == []
    release(ExperimentRecords(LocalStore(store), "quad"), "r1", "ExperimentRunRoundsUsedUp")
    for round_index in (0, 1):  # round 0 without experiment_spec; round 1 of a run whose round 0 never ran
        with pytest.raises(ExperimentBusy, match=r"^run 'r2' holds no claim of experiment 'quad', and no run drives it: its last run, 'r1', ended at ") as info:
            suggest.python_func(run_id="r2", round_index=round_index, **common)
        assert HOW in str(info.value)
