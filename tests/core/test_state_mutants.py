"""The experiment's state as folded from its records (``kfp_tune.core.state``), case by case.

What is pinned here is what the status, the stop rules and the next round read off the state:
each trial's round and creation time, whether the search space is exhausted, the counts by
status, the best trial (Katib's currentOptimalTrial, the first of equals), the budget given back,
trial records that arrive before their round, damaged records in a lenient view and hand-written
or damaged snapshot chunks. Everything goes through a real LocalStore."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune.core.errors import ExperimentNotFound, StoreError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import DamagedRecord, ExperimentRecords, TrialResult, TrialStarted, encode_record
from kfp_tune.core.state import SNAPSHOT_CHUNK, TRIAL_INTERRUPTED, ExperimentView
from kfp_tune.core.vocabulary import RecordKind, TrialStatus
from kfp_tune.steps import init_experiment
from kfp_tune.stores import LocalStore

CREATED = "2026-11-30T10:00:00Z"


def setup(tmp_path: Path, **overrides: Any) -> ExperimentRecords:
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 2000, **overrides}))
    records = ExperimentRecords(LocalStore(tmp_path), experiment.name)
    init_experiment(records, experiment)
    return records


def fresh(records: ExperimentRecords, lenient: bool = False) -> ExperimentView:
    """A view of another process: it knows only what is in the store."""
    return ExperimentView(ExperimentRecords(LocalStore(Path(records.store.uri.removeprefix("file://"))), records.experiment), lenient=lenient)


def round_payload(*trials: tuple[str, int], created: str = CREATED, exhausted: bool = False) -> dict[str, Any]:
    return {
        "created": created,
        "requested": len(trials),
        "exhausted": exhausted,
        "trials": [{"name": name, "index": index, "assignment": {"x": "0.5", "y": "0.5"}} for name, index in trials],
    }


def succeeded(name: str, loss: float | None) -> TrialResult:
    return TrialResult(name, TrialStatus.SUCCEEDED, metrics={} if loss is None else {"loss": loss})


@pytest.fixture
def quad_records(tmp_path: Path) -> ExperimentRecords:
    """The quadratic experiment, created in a store of its own (conftest's ``records`` is an
    empty store's)."""
    return setup(tmp_path)


def test_store_path_round_trips(quad_records: ExperimentRecords) -> None:
    """The helper above must reach the same store (or every fresh-view test is vacuous)."""
    ExperimentView(quad_records).record_round("r-1", round_payload(("quad-a", 0)))
    assert [t.name for t in fresh(quad_records).state.trials] == ["quad-a"]


# --- rounds ------------------------------------------------------------------------------------


@pytest.mark.parametrize("reader", ["writer", "fresh"])
def test_each_trial_knows_its_round_and_when_it_was_created(quad_records: ExperimentRecords, reader: str) -> None:
    view = ExperimentView(quad_records)
    stored = view.record_round("r-0007", round_payload(("quad-a", 0), created="2026-11-30T11:11:11Z"))
    state = view.state if reader == "writer" else fresh(quad_records).state
    assert state.rounds == {"r-0007": stored}
    trial = state.trial("quad-a")
    assert (trial.round, trial.created, trial.status) == ("r-0007", "2026-11-30T11:11:11Z", TrialStatus.CREATED)


@pytest.mark.parametrize("reader", ["writer", "fresh"])
def test_the_space_stays_exhausted_once_a_round_said_so(quad_records: ExperimentRecords, reader: str) -> None:
    view = ExperimentView(quad_records)
    view.record_round("r-1", round_payload(("quad-a", 0), exhausted=True))
    view.record_round("r-2", round_payload(("quad-b", 1)))
    state = view.state if reader == "writer" else fresh(quad_records).state
    assert state.exhausted


def test_a_trial_given_back_after_the_space_was_said_exhausted_makes_the_algorithm_asked_again(quad_records: ExperimentRecords) -> None:
    """The algorithm said exhausted of the history it had: its last trial (or one it had as
    pending) given back afterwards puts a point back, so the experiment is not at its end
    (ExperimentSuggestionEndReached with the point never run) until a round says it again. A
    fresh process, which folds rounds before trial records and cannot tell their order, asks
    once more too."""
    from kfp_tune.core.decision import SUGGESTION_END_REACHED, decide

    view = ExperimentView(quad_records)
    view.record_round("r-1", round_payload(("quad-a", 0), exhausted=True))
    view.record_trial("quad-a", TrialResult("quad-a", TrialStatus.KILLED, reason=TRIAL_INTERRUPTED))
    for state in (view.state, fresh(quad_records).state):
        assert not state.exhausted and decide(state, rounds_left=1).reason != SUGGESTION_END_REACHED
    view.record_round("r-2", round_payload(("quad-b", 1), exhausted=True))  # asked again: the point given again
    assert view.state.exhausted
    view.record_trial("quad-b", succeeded("quad-b", 0.5))
    assert view.state.exhausted and decide(view.state, rounds_left=1).reason == SUGGESTION_END_REACHED


def test_a_trial_killed_for_another_reason_leaves_the_space_exhausted(quad_records: ExperimentRecords) -> None:
    view = ExperimentView(quad_records)
    view.record_round("r-1", round_payload(("quad-a", 0), exhausted=True))
    view.record_trial("quad-a", TrialResult("quad-a", TrialStatus.KILLED, reason="TrialKilled"))
    assert view.state.exhausted and fresh(quad_records).state.exhausted


def test_a_round_repeating_a_known_trial_still_adds_its_new_ones(quad_records: ExperimentRecords) -> None:
    view = ExperimentView(quad_records)
    view.record_round("r-1", round_payload(("quad-a", 0)))
    view.record_round("r-2", round_payload(("quad-a", 0), ("quad-b", 1)))
    state = fresh(quad_records).state
    assert [t.name for t in state.trials] == ["quad-a", "quad-b"]
    assert state.tally is not None and state.tally.counts[TrialStatus.CREATED.value] == 2


def test_trials_are_in_index_order_whatever_order_their_rounds_came_in(quad_records: ExperimentRecords) -> None:
    view = ExperimentView(quad_records)
    view.record_round("r-1", round_payload(("quad-c", 5)))
    view.record_round("r-2", round_payload(("quad-a", 2), ("quad-d", 9)))
    view.record_round("r-3", round_payload(("quad-b", 3)))
    assert [t.index for t in view.state.trials] == [2, 3, 5, 9]


def test_an_unknown_trial_is_an_error_naming_both(quad_records: ExperimentRecords) -> None:
    with pytest.raises(StoreError) as info:
        ExperimentView(quad_records).state.trial("quad-nope")
    assert "'quad'" in str(info.value) and "'quad-nope'" in str(info.value)


def test_the_state_carries_the_experiments_uid_and_creation(quad_records: ExperimentRecords) -> None:
    head = json.loads(quad_records.store.get(quad_records.experiment_key()) or b"")
    state = ExperimentView(quad_records).state
    assert (state.uid, state.created) == (head["uid"], head["created"])


def test_an_experiment_recreated_under_its_name_is_a_new_state(tmp_path: Path) -> None:
    """Deleted and created again (a new uid): a view must not keep the old one's trials."""
    records = setup(tmp_path / "a")
    view = ExperimentView(records)
    view.record_round("r-1", round_payload(("quad-old", 0)))
    for key in records.store.list(f"{records.root}/"):
        (tmp_path / "a" / key).unlink()
    init_experiment(records, load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 2000})))
    state = view.refresh()
    assert state.trials == [] and state.uid == json.loads(records.store.get(records.experiment_key()) or b"")["uid"]


def test_a_missing_experiment_is_not_found_by_name_and_store(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    with pytest.raises(ExperimentNotFound) as info:
        ExperimentView(ExperimentRecords(store, "nowhere")).refresh()
    assert "'nowhere'" in str(info.value) and store.uri in str(info.value)


# --- the tally ---------------------------------------------------------------------------------


def test_counts_active_and_finished_follow_each_trial(quad_records: ExperimentRecords) -> None:
    view = ExperimentView(quad_records)
    view.record_round("r-1", round_payload(("quad-a", 0), ("quad-b", 1), ("quad-c", 2)))
    view.record_trial("quad-b", TrialStarted("quad-b", "t", 0.0, "run", "1"))
    view.record_trial("quad-c", succeeded("quad-c", 1.0))
    tally = view.state.tally
    assert tally is not None
    assert {k: v for k, v in tally.counts.items() if v} == {"Created": 1, "Running": 1, "Succeeded": 1}
    assert sorted(tally.active) == ["quad-a", "quad-b"]
    assert tally.finished == ["quad-c"]


def test_a_fresh_view_counts_each_finished_trial_once(quad_records: ExperimentRecords) -> None:
    """A fresh process reads a trial's records in key order (ended, result, started): a record
    that does not change the status must not count the trial again."""
    view = ExperimentView(quad_records)
    view.record_round("r-1", round_payload(("quad-a", 0), ("quad-b", 1), ("quad-c", 2)))
    for name in ("quad-a", "quad-b", "quad-c"):
        view.record_trial(name, TrialStarted(name, "t", 0.0, "run", "1"))
    view.record_trial("quad-a", succeeded("quad-a", 2.0))
    view.record_trial("quad-b", TrialResult("quad-b", TrialStatus.KILLED, reason=TRIAL_INTERRUPTED))
    view.record_trial("quad-c", TrialResult("quad-c", TrialStatus.KILLED, reason=TRIAL_INTERRUPTED))
    for state in (view.state, fresh(quad_records).state):
        assert state.tally is not None
        assert sorted(state.tally.finished) == ["quad-a", "quad-b", "quad-c"]
        assert {k: v for k, v in state.tally.counts.items() if v} == {"Succeeded": 1, "Killed": 2}
        assert state.given_back == 2 and state.budget_used == 1
        assert state.tally.active == {}
        assert state.tally.best is not None and state.tally.best.name == "quad-a"


def best_after(tmp_path: Path, results: list[tuple[int, float | None]], objective_type: str = "minimize") -> int | None:
    """The best trial's index after folding these (index, objective value) results in order."""
    records = setup(tmp_path, **{"spec.objective.type": objective_type})
    view = ExperimentView(records)
    indexes = sorted(index for index, _ in results)
    view.record_round("r-1", round_payload(*[(f"quad-{i}", i) for i in indexes]))
    for index, value in results:
        name = f"quad-{index}"
        view.record_trial(name, succeeded(name, value) if value is not None else TrialResult(name, TrialStatus.FAILED))
    best = view.state.tally.best if view.state.tally is not None else None
    return None if best is None else best.index


@pytest.mark.parametrize(
    ("results", "objective_type", "expected"),
    [
        ([(0, 1.0), (1, 3.0)], "minimize", 0),
        ([(0, 3.0), (1, 1.0)], "minimize", 1),
        ([(0, 1.0), (1, 3.0)], "maximize", 1),
        ([(0, 3.0), (1, 1.0)], "maximize", 0),
        ([(0, None)], "minimize", None),
        ([(0, None), (1, 2.0)], "minimize", 1),
        ([(1, 2.0), (0, None)], "minimize", 1),
        ([(2, 1.0), (5, 1.0)], "minimize", 2),
        ([(5, 1.0), (2, 1.0)], "minimize", 2),
        ([(2, 1.0), (5, 1.0)], "maximize", 2),
        ([(5, 1.0), (2, 3.0)], "minimize", 5),
        ([(5, 3.0), (2, 1.0)], "maximize", 5),
    ],
)
def test_the_best_trial_is_the_best_value_and_the_first_of_equals(
    tmp_path: Path, results: list[tuple[int, float | None]], objective_type: str, expected: int | None
) -> None:
    """Katib's currentOptimalTrial: by the objective's direction; of equal values the trial
    created first, whatever order the results came in; a failed trial never."""
    assert best_after(tmp_path, results, objective_type) == expected


def test_a_trial_that_succeeded_without_the_objective_is_never_the_best(quad_records: ExperimentRecords) -> None:
    view = ExperimentView(quad_records)
    view.record_round("r-1", round_payload(("quad-a", 0)))
    view.record_trial("quad-a", TrialResult("quad-a", TrialStatus.SUCCEEDED, metrics={"accuracy": 0.9}))
    assert view.state.tally is not None and view.state.tally.best is None


# --- records that arrive before their round ----------------------------------------------------


def test_a_trial_record_before_its_round_is_attached_when_the_round_comes(quad_records: ExperimentRecords) -> None:
    """Held by no round when read, it is listed as such; once its round is there (repaired), it
    is attached and no longer listed."""
    key = quad_records.trial_key("quad-late", "started")
    quad_records.create_typed(key, TrialStarted("quad-late", "t", 0.0, "run", "1"))
    view = ExperimentView(quad_records, lenient=True)
    assert "quad-late" not in view.state.by_name and set(view.damaged) == {quad_records.trial_prefix("quad-late")}
    quad_records.write_once(quad_records.round_key("r-1"), RecordKind.ROUND, round_payload(("quad-late", 0)))
    assert view.refresh().trial("quad-late").status == TrialStatus.RUNNING
    assert view.state.tally is not None and view.state.tally.counts["Running"] == 1
    assert view.damaged == {}


def test_a_damaged_record_attached_late_stops_a_run(quad_records: ExperimentRecords) -> None:
    """The round that creates the trial is what brings its damaged record in: writing it stops
    the run there, and so does any later refresh."""
    key = quad_records.trial_key("quad-late", "started")
    quad_records.store.put(key, encode_record({"kind": "TrialStarted", "version": 1, "trial": "quad-other"}))
    view = ExperimentView(quad_records)
    with pytest.raises(DamagedRecord, match="no round record holds it"):
        view.state  # noqa: B018
    with pytest.raises(DamagedRecord) as info:
        view.record_round("r-1", round_payload(("quad-late", 0)))
    assert info.value.key == key and "'quad-other'" in info.value.problem
    with pytest.raises(DamagedRecord):
        ExperimentView(quad_records).refresh()


def test_a_damaged_record_attached_late_is_listed_by_a_lenient_view(quad_records: ExperimentRecords) -> None:
    key = quad_records.trial_key("quad-late", "started")
    quad_records.store.put(key, encode_record({"kind": "TrialStarted", "version": 1, "trial": "quad-other"}))
    view = ExperimentView(quad_records, lenient=True)
    view.state  # noqa: B018
    quad_records.write_once(quad_records.round_key("r-1"), RecordKind.ROUND, round_payload(("quad-late", 0)))
    state = view.refresh()
    assert state.trial("quad-late").status == TrialStatus.CREATED
    assert set(view.damaged) == {key} and "'quad-other'" in view.damaged[key]
    quad_records.store.put(key, encode_record({"kind": "TrialStarted", "version": 1, "trial": "quad-late"}))
    assert view.refresh().trial("quad-late").status == TrialStatus.RUNNING, "the repaired record is read again"
    assert view.damaged == {}


# --- a lenient view and repaired records -------------------------------------------------------


def test_a_repaired_round_is_read_again(quad_records: ExperimentRecords) -> None:
    key = quad_records.round_key("r-1")
    quad_records.store.put(key, encode_record({"kind": "Round", "version": 1, "created": CREATED, "trials": "oops"}))
    view = ExperimentView(quad_records, lenient=True)
    assert view.state.trials == [] and set(view.damaged) == {key}
    quad_records.store.put(key, encode_record({"kind": "Round", "version": 1, **round_payload(("quad-a", 0))}))
    assert [t.name for t in view.refresh().trials] == ["quad-a"]
    assert view.damaged == {}


def test_a_repaired_trial_record_is_read_again(quad_records: ExperimentRecords) -> None:
    ExperimentView(quad_records).record_round("r-1", round_payload(("quad-a", 0)))
    key = quad_records.trial_key("quad-a", "result")
    quad_records.store.put(key, encode_record({"kind": "TrialResult", "version": 1, "trial": "quad-a", "status": "Succeeded", "metrics": {"loss": "high"}}))
    view = ExperimentView(quad_records, lenient=True)
    assert view.state.trial("quad-a").status == TrialStatus.CREATED and set(view.damaged) == {key}
    quad_records.store.put(key, encode_record({"kind": "TrialResult", "version": 1, "trial": "quad-a", "status": "Succeeded", "metrics": {"loss": 0.5}}))
    assert view.refresh().trial("quad-a").metrics == {"loss": 0.5}
    assert view.damaged == {}


# --- the experiment record ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"uid": 5}, ["'uid' is 5", "a string"]),
        ({"created": None}, ["'created' is None", "a string"]),
        ({"spec": "nope"}, ["it holds no experiment spec"]),
        ({"spec": {"spec": {"maxTrialCount": "many"}}}, ["its spec cannot be read", "SpecError"]),
    ],
)
def test_a_damaged_experiment_record_names_its_key(quad_records: ExperimentRecords, change: dict[str, Any], words: list[str]) -> None:
    key = quad_records.experiment_key()
    head = json.loads(quad_records.store.get(key) or b"")
    quad_records.store.put(key, encode_record({**head, **change}))
    for lenient in (False, True):
        with pytest.raises(DamagedRecord) as info:
            ExperimentView(quad_records, lenient=lenient).refresh()
        assert info.value.key == key
        assert info.value.problem.startswith(words[0])
        for word in words:
            assert word in info.value.problem


# --- snapshot chunks ---------------------------------------------------------------------------


def chunk_with(records: ExperimentRecords, entries: Any) -> None:
    records.store.put(f"{records.root}/snapshots/000000.json", encode_record({"kind": RecordKind.SNAPSHOT.value, "version": 1, "records": entries}))


def two_trials(records: ExperimentRecords) -> list[tuple[str, str, dict[str, float]]]:
    view = ExperimentView(records)
    view.record_round("r-1", round_payload(("quad-a", 0), ("quad-b", 1)))
    view.record_trial("quad-a", succeeded("quad-a", 1.5))
    return [(t.name, t.status.value, t.metrics) for t in view.state.trials]


def summary(records: ExperimentRecords) -> list[tuple[str, str, dict[str, float]]]:
    return [(t.name, t.status.value, t.metrics) for t in fresh(records).state.trials]


def test_a_chunk_whose_records_are_not_an_object_is_ignored(quad_records: ExperimentRecords) -> None:
    written = two_trials(quad_records)
    chunk_with(quad_records, [["k", "v"]])
    assert summary(quad_records) == written


def test_a_chunk_never_adds_a_round_the_store_does_not_hold(quad_records: ExperimentRecords) -> None:
    written = two_trials(quad_records)
    ghost = {"kind": "Round", "version": 1, **round_payload(("quad-ghost", 7))}
    chunk_with(quad_records, {quad_records.round_key("r-ghost"): ghost})
    assert summary(quad_records) == written


def test_a_damaged_round_in_a_chunk_is_read_from_its_record(quad_records: ExperimentRecords) -> None:
    written = two_trials(quad_records)
    bad = {"kind": "Round", "version": 1, "created": CREATED, "trials": "oops"}
    result_key = quad_records.trial_key("quad-a", "result")
    good_result = json.loads(quad_records.store.get(result_key) or b"")
    chunk_with(quad_records, {quad_records.round_key("r-1"): bad, result_key: good_result})
    assert summary(quad_records) == written


def test_chunks_are_written_every_snapshot_chunk_records_and_read_back(quad_records: ExperimentRecords) -> None:
    """A chunk once SNAPSHOT_CHUNK records are in none (a round plus started records here), and
    the next one after as many again; a fresh view reads the same state from them."""
    names = [f"quad-{i:04d}" for i in range(2 * SNAPSHOT_CHUNK - 1)]
    view = ExperimentView(quad_records)
    view.record_round("r-1", round_payload(*[(name, i) for i, name in enumerate(names)]))
    snapshots = f"{quad_records.root}/snapshots/"
    for name in names[: SNAPSHOT_CHUNK - 2]:
        view.record_trial(name, TrialStarted(name, "t", 0.0, "run", "1"))
    assert quad_records.store.list(snapshots) == []
    view.record_trial(names[SNAPSHOT_CHUNK - 2], TrialStarted(names[SNAPSHOT_CHUNK - 2], "t", 0.0, "run", "1"))
    assert len(quad_records.store.list(snapshots)) == 1, "a chunk at exactly SNAPSHOT_CHUNK records"
    for name in names[SNAPSHOT_CHUNK - 1 :]:
        view.record_trial(name, TrialStarted(name, "t", 0.0, "run", "1"))
    assert len(quad_records.store.list(snapshots)) == 2
    state = fresh(quad_records).state
    assert len(state.trials) == len(names) and all(t.status == TrialStatus.RUNNING for t in state.trials)
