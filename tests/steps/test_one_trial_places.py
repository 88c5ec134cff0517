"""One-trial mode's places (steps.launch_trial.wait_for_place): parallelTrialCount holds across
rounds and runs, trials that never run hold no place for long, an ended experiment starts no
trial, and a recorded result is read back after the run ended. No real waits: a pause raises."""

from __future__ import annotations

import json
import time

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.errors import InputError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import RECORD_VERSION, ExperimentRecords, PlaceRecord, TrialEnded, TrialStarted, utc_now
from kfp_tune.core.state import TRIAL_NOT_CREATED, ExperimentView, load_state
from kfp_tune.core.vocabulary import TRIAL_TTL_VARIABLE, LaunchPhase, RecordKind, TrialStatus
from kfp_tune.steps.decide_stop import interrupt_run
from kfp_tune.steps.entrypoints import collect_metrics_step, decide_stop_step, launch_trial_step
from kfp_tune.steps.launch_trial import wait_for_place
from kfp_tune.steps.schedule import component_round_id, made_by_run, round_id, slot_round_id
from stale_listing import StaleOnce

LOCAL = json.dumps({"kind": "local"})


class _Waited(Exception):
    pass


def _never(seconds):
    raise _Waited


def _round(store, run="run-1", n=5, **overrides):
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 10, **overrides}))
    records = ExperimentRecords(store, experiment.name)
    return records, steps.suggest(records, f"{run}-r000", 1, experiment, run_id=run, n=n)


def _takes(records, name, run="run-1"):
    """Whether the trial gets a place at once (a pause would mean it waits)."""
    try:
        return wait_for_place(ExperimentView(records), name, run, sleep=_never)
    except _Waited:
        return False


def _start(records, name, at=None, owner=None):
    from kfp_tune.core.claims import this_process

    started = TrialStarted(trial=name, time=utc_now(), at=time.time() if at is None else at, run="run-1", attempt="a", owner=owner or this_process())
    ExperimentView(records).record_trial(name, started)


def test_iterations_whose_earlier_ones_died_before_starting_still_run(local_store):
    """revA e1: iterations 1 and 2 of a round of 5 died before writing ``started``; 3 and 4 take
    the two places at once (before, they waited for ever on 1 and 2), and 5 waits."""
    records, names = _round(local_store)
    assert _takes(records, names[2]) and _takes(records, names[3])
    assert not _takes(records, names[4])


def test_pods_started_out_of_order_do_not_deadlock(local_store):
    """Kubernetes admits iterations 4 and 5 first: they run, and 1 gets the place 4 leaves."""
    records, names = _round(local_store)
    assert _takes(records, names[3]) and _takes(records, names[4])
    _start(records, names[3])
    _start(records, names[4])
    assert not _takes(records, names[0])
    ExperimentView(records).record_trial(names[3], TrialEnded.now(names[3], LaunchPhase.SUCCEEDED))
    assert _takes(records, names[0])


def test_the_cap_holds_across_rounds_and_runs(local_store):
    """revA e6: run-0's two unstarted trials and run-1's two new ones: two places, not four."""
    records, _ = _round(local_store, run="run-0", n=2)
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 10}))
    steps.suggest(records, "run-1-r000", 1, experiment, run_id="run-1", n=4, take_over=True)  # run-0 died before launching its trials
    trials = load_state(records).trials
    assert sorted({t.round for t in trials}) == ["run-0-r000", "run-1-r000"]
    assert [_takes(records, t.name) for t in trials] == [True, True, False, False]


def test_a_place_held_by_a_dead_attempt_or_a_trial_that_never_started_frees_after_the_trial_ttl(local_store, monkeypatch):
    monkeypatch.setenv(TRIAL_TTL_VARIABLE, "60")
    records, names = _round(local_store)
    assert _takes(records, names[0]) and _takes(records, names[1])
    _start(records, names[0], at=time.time() - 120, owner="another-host/1")  # its launch-trial stopped beating 2 minutes ago
    assert _takes(records, names[2])
    assert not _takes(records, names[3])  # names[1] took its place just now and may still start
    key = f"{records.root}/places/001/000001.json"
    record = json.loads(local_store.get(key))
    local_store.put(key, json.dumps({**record, "at": time.time() - 120}).encode())  # taken 2 minutes ago, never started
    assert _takes(records, names[3])


def test_a_lowered_parallel_trial_count_counts_the_trials_holding_places_beyond_it(local_store, tmp_path):
    """revD: A, B and C hold places 0, 1 and 2 and run, A ends, parallelTrialCount is edited
    down to 2: D waits (before, it took place 0, a third trial running) until B ends too."""
    from kfp_tune.cli import main

    records, names = _round(local_store, n=4, **{"spec.parallelTrialCount": 3})
    for name in names[:3]:
        assert _takes(records, name)
        _start(records, name)
    ExperimentView(records).record_trial(names[0], TrialEnded.now(names[0], LaunchPhase.SUCCEEDED))
    assert main(["edit", "quad", "--store", str(tmp_path / "store"), "--parallel-trial-count", "2"]) == 0
    assert not _takes(records, names[3])
    ExperimentView(records).record_trial(names[1], TrialEnded.now(names[1], LaunchPhase.SUCCEEDED))
    assert _takes(records, names[3])


def test_a_running_trial_holding_no_place_takes_a_free_place_s_share(local_store):
    """revD: parallelTrialCount 2, B runs in place 1 (place 0's holder ended) and C runs with no
    place (slots mode, an older kfp-tune): D waits (before, it took place 0)."""
    records, names = _round(local_store, n=4)
    assert _takes(records, names[0]) and _takes(records, names[1])
    _start(records, names[0])
    _start(records, names[1])
    ExperimentView(records).record_trial(names[0], TrialEnded.now(names[0], LaunchPhase.SUCCEEDED))
    _start(records, names[2])
    assert not _takes(records, names[3])


def test_a_trial_a_slots_checkpoint_handed_over_counts_until_it_ends(local_store):
    """Its resource still runs (the next step re-attaches to it): D waits while it has not ended."""
    from kfp_tune.core.claims import hand_over_trial

    records, names = _round(local_store, n=4)
    assert _takes(records, names[0])
    _start(records, names[0])
    _start(records, names[1])
    hand_over_trial(records, names[1], "a")
    assert not _takes(records, names[3])
    ExperimentView(records).record_trial(names[1], TrialEnded.now(names[1], LaunchPhase.SUCCEEDED))
    assert _takes(records, names[3])


def test_a_place_keeps_two_generations_not_one_per_trial(local_store):
    """revD: every trial left its place record for good, and each wait listed them all."""
    records, names = _round(local_store, n=6, **{"spec.parallelTrialCount": 1})
    for name in names:
        assert _takes(records, name)
        _start(records, name)
        ExperimentView(records).record_trial(name, TrialEnded.now(name, LaunchPhase.SUCCEEDED))
    assert local_store.list(f"{records.root}/places/") == [records.place_key(0, 5), records.place_key(0, 6)]


def test_an_iteration_that_recreates_a_deleted_generation_holds_no_place(local_store):
    """An iteration whose listing is older than generations 2 and 3 (generation 1 deleted by 3's
    taker, whose trial is about to start) creates generation 1 again: it finds the later ones and
    waits, not a second holder."""
    records, names = _round(local_store, n=4, **{"spec.parallelTrialCount": 1})
    for generation, name in ((2, names[0]), (3, names[1])):
        local_store.create(records.place_key(0, generation), json.dumps(
            {"kind": RecordKind.TRIAL_PLACE, "version": RECORD_VERSION, "trial": name, "run": "run-1", "owner": "o", "at": time.time(), "time": utc_now()}).encode())

    assert not _takes(ExperimentRecords(StaleOnce(local_store, records.places_prefix()), "quad"), names[2])
    assert records.place_key(0, 1) in local_store.list(records.place_prefix(0)), "the stale listing made it create generation 1"


def test_a_retry_of_a_trial_holding_a_place_never_waits(local_store):
    records, names = _round(local_store)
    assert _takes(records, names[0]) and _takes(records, names[1])
    assert _takes(records, names[1])


def test_a_trial_of_an_experiment_that_met_its_goal_is_given_back_not_started(local_store):
    """revA e2: trial 1 met the goal; trial 3's launch-trial starts nothing and records it
    Killed (TrialNotCreated, its budget given back), as Katib creates no trial then."""
    records, names = _round(local_store, n=3, **{"spec.objective.goal": 1000.0})
    assert launch_trial_step(local_store.uri, "quad", names[0], LOCAL, "run-1") == "Succeeded"
    assert launch_trial_step(local_store.uri, "quad", names[2], LOCAL, "run-1") == "Killed"  # as the store records it (upgrade QA, session 31)
    trial = load_state(records).trial(names[2])
    assert trial.started is None and trial.status == TrialStatus.KILLED and trial.result.reason == TRIAL_NOT_CREATED
    assert "had already ended Succeeded" in trial.result.message


def test_collect_metrics_after_the_run_ended_returns_the_recorded_result(local_store):
    """revA e2: launch-trial recorded the result, decide-stop ended the run; collect-metrics
    reads the result back instead of refusing with ExperimentBusy."""
    _, names = _round(local_store, n=2, **{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1})
    assert launch_trial_step(local_store.uri, "quad", names[0], LOCAL, "run-1") == "Succeeded"
    decide_stop_step(local_store.uri, "quad", "run-1", 0, 1)  # its last round: the run ends here
    assert collect_metrics_step(local_store.uri, "quad", names[0], "run-1")["status"] == "Succeeded"


def test_a_run_s_own_rounds_are_told_by_its_whole_id():
    assert made_by_run("nightly-r000", "nightly") and made_by_run("nightly-t000012", "nightly") and made_by_run("nightly-c001000", "nightly")
    assert made_by_run("nightly-2-t000000", "nightly-2") and made_by_run("run-1-r1000", "run-1")
    assert not made_by_run("nightly-2-t000000", "nightly") and not made_by_run("run-10-r000", "run-1") and not made_by_run("nightly-x", "nightly")
    assert made_by_run("run-1-r0", "run-1") and made_by_run("run-1-t12", "run-1")  # a round named through steps.suggest (revD)
    assert slot_round_id("nightly", 12) == "nightly-t000012" and component_round_id("nightly", 1000) == "nightly-c001000"
    assert all(made_by_run(make("nightly-2", 7), "nightly-2") and not made_by_run(make("nightly-2", 7), "nightly")
               for make in (round_id, slot_round_id, component_round_id))


def test_a_negative_round_index_is_refused_naming_it():
    """It made the round id ``run-1-r-01``, which no run knows as its own."""
    assert round_id("run-1", 0) == "run-1-r000"
    with pytest.raises(InputError, match=r"round_index: expected .*0 or more, got -1"):
        round_id("run-1", -1)


def test_an_interrupted_run_gives_back_only_its_own_unstarted_trials(local_store):
    """revA e8: run ``nightly`` took run ``nightly-2``'s unstarted trial as its own."""
    records, names = _round(local_store, run="nightly-2", n=1)
    view = ExperimentView(records)
    interrupt_run(view, "nightly", "SIGTERM", set())
    assert load_state(records).trial(names[0]).status == TrialStatus.CREATED


def test_a_launcher_config_namespace_that_is_no_namespace_is_refused_naming_it(local_store):
    records, names = _round(local_store, n=1)
    with pytest.raises(InputError, match=r"launcher_config namespace: expected a Kubernetes namespace.*got 5"):
        launch_trial_step(local_store.uri, "quad", names[0], json.dumps({"kind": "kubernetes", "namespace": 5}), "run-1")
    assert load_state(records).trial(names[0]).started is None


def test_a_place_is_a_typed_record_created_once(local_store):
    """ExperimentRecords.create: exactly one of two creates of a place's key writes it, and the
    stored record reads back as the PlaceRecord written."""
    records = ExperimentRecords(local_store, "quad")
    first, second = PlaceRecord(trial="t-1", at=1.5, run="run-1", owner="h/1", time="x"), PlaceRecord(trial="t-2", at=2.0)
    assert records.create(records.place_key(0, 1), first) and not records.create(records.place_key(0, 1), second)
    assert records.read_typed(records.place_key(0, 1), PlaceRecord) == first
    assert json.loads(local_store.get(records.place_key(0, 1)))["kind"] == RecordKind.TRIAL_PLACE


class _CreatesAtMost:
    """The store, refusing to go on after ``limit`` creates (a spinning wait would never end)."""

    def __init__(self, store, limit):
        self.store, self.left = store, limit

    def create(self, key, data):
        self.left -= 1
        if self.left < 0:
            raise AssertionError("the wait creates the same place again and again with no pause")
        return self.store.create(key, data)

    def __getattr__(self, name):
        return getattr(self.store, name)


def test_place_1000_is_held_and_a_trial_waits_for_it_instead_of_spinning(local_store):
    """revE: with parallelTrialCount above 1000, place 1000's key did not parse: it always looked
    free, its create was refused, and the wait read the places again at once, for ever."""
    records, names = _round(local_store, n=2, **{"spec.maxTrialCount": 1003, "spec.parallelTrialCount": 1001})
    for index in range(1000):
        records.create(records.place_key(index, 1), PlaceRecord(trial=f"other-{index}", at=time.time()))
    assert _takes(records, names[0])
    assert records.place_of(records.place_key(1000, 1)) == (1000, 1) and records.place_of(records.place_key(3, 1_000_000)) == (3, 1_000_000)
    assert not _takes(ExperimentRecords(_CreatesAtMost(local_store, 3), "quad"), names[1])


def test_a_place_whose_create_is_refused_twice_is_waited_for_not_spun_on(local_store):
    """A holder the listing does not show (a key it cannot read): the second refusal of the same
    key pauses a poll."""
    records, names = _round(local_store, n=1, **{"spec.parallelTrialCount": 1})

    class _Unlisted(_CreatesAtMost):
        def list(self, prefix):
            return [] if prefix == records.places_prefix() else self.store.list(prefix)

        def create(self, key, data):
            super().create(key, data)
            return False

    assert not _takes(ExperimentRecords(_Unlisted(local_store, 3), "quad"), names[0])


def test_a_dead_holder_s_heartbeat_is_read_once_per_pass(local_store, monkeypatch):
    """Whether it still runs and whether it was handed over are told from one GET, not two."""
    monkeypatch.setenv(TRIAL_TTL_VARIABLE, "60")
    records, names = _round(local_store, n=2)
    _start(records, names[0], at=time.time() - 120, owner="another-host/1")  # holds no place, its launch-trial died
    beat_key, reads = records.heartbeat_key(names[0]), []

    class _Counted:
        def get(self, key):
            reads.extend([key] if key == beat_key else [])
            return local_store.get(key)

        def __getattr__(self, name):
            return getattr(local_store, name)

    assert _takes(ExperimentRecords(_Counted(), "quad"), names[1])
    assert reads == [beat_key]
