"""pbt (algorithms/pbt.py): Katib's rules pinned on hand-made histories (generations, truncation
selection, exploit, explore, re-queued failures), suggestions that depend only on the history and
the seed, the labels it gives, and the contract every algorithm keeps."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

from kfp_tune.algorithms import registry
from kfp_tune.algorithms.base import FinishedTrial, PendingAssignment, Problem, Suggestions
from kfp_tune.algorithms.pbt import POOL_LABEL, RETRY_LABEL, member_of, perturb, pool_mark, pool_of_mark
from kfp_tune.algorithms.testing import AlgorithmContract
from kfp_tune.core.catalogue import ALGORITHMS, parse_settings
from kfp_tune.core.checkpoints import GENERATION_LABEL, PARENT_LABEL
from kfp_tune.core.space import Parameter, SearchSpace, Value
from kfp_tune.core.vocabulary import ObjectiveType
from kfp_tune.launchers.kubernetes.manifests import label_problems
from kfp_tune.steps.designer import call_rng

SPACE = SearchSpace(
    (
        Parameter("lr", "double", 0.001, 0.1, step=0.001, decimals=3),
        Parameter("layers", "int", 1, 10),
        Parameter("optimizer", "categorical", choices=("sgd", "adam", "ftrl")),
    )
)
N = 5


def _problem(direction: str = "maximize", seed: int = 0, **settings: Any) -> Problem:
    given = {"n_population": N, "truncation_threshold": 0.4, **settings}
    parsed, errors = parse_settings(ALGORITHMS["pbt"], [(k, str(v)) for k, v in given.items()], "settings")
    assert not errors
    return Problem(SPACE, ObjectiveType(direction), "accuracy", parsed, seed=seed)


def _suggest(problem: Problem, history: list[FinishedTrial], n: int, pending: list[PendingAssignment] | None = None, seed: int = 0) -> Suggestions:
    return registry.create("pbt", problem.settings).suggest(problem, history, pending or [], n, np.random.default_rng(seed))


def _labels(generation: int, parent: str = "") -> dict[str, str]:
    return {GENERATION_LABEL: str(generation), **({PARENT_LABEL: parent} if parent else {})}


def _done(name: str, assignment: dict[str, Value], score: float, labels: dict[str, str], direction: str = "maximize", status: str = "Succeeded") -> FinishedTrial:
    """A finished trial whose quality is ``score`` (higher is better in both directions: a
    minimized objective reports its negative)."""
    value = score if direction == "maximize" else -score
    objective = value if status in ("Succeeded", "EarlyStopped") else None
    return FinishedTrial(name, assignment, status, objective, {"accuracy": value} if objective is not None else {}, labels)  # type: ignore[arg-type]


def _pool(size: int, generation: int = 0, direction: str = "maximize", prefix: str = "g0-") -> list[FinishedTrial]:
    """``size`` succeeded members with distinct assignments and scores 1, 2, ... (member i has
    lr 0.01 * (i + 1) and layers i + 1)."""
    optimizers = SPACE["optimizer"].choices
    return [
        _done(f"{prefix}{i}", {"lr": round(0.01 * (i + 1), 3), "layers": i + 1, "optimizer": optimizers[i % 3]}, float(i + 1), _labels(generation), direction)
        for i in range(size)
    ]


def _generation(labels: dict[str, str]) -> int:
    return int(labels[GENERATION_LABEL])


def test_the_first_members_are_random_generation_0():
    result = _suggest(_problem(), [], 7)
    assert len(result.assignments) == 7 and result.labels is not None and not result.exhausted
    assert all(labels == {GENERATION_LABEL: "0"} for labels in result.labels)
    assert all(SPACE.contains(a) for a in result.assignments)
    assert len({SPACE.key(a) for a in result.assignments}) == 7, "random members drawn independently"


def test_generation_0_grows_until_more_than_n_population_have_succeeded():
    # N succeeded, and one without metrics: the pool is not full, so more random members come
    history = [*_pool(N), _done("no-metrics", {"lr": 0.05, "layers": 3, "optimizer": "sgd"}, 0.0, _labels(0), status="MetricsUnavailable")]
    result = _suggest(_problem(), history, 3)
    assert [_generation(labels) for labels in result.labels or []] == [0, 0, 0]
    assert not any(PARENT_LABEL in labels for labels in result.labels or [])
    # one more success fills the pool: the next generation is spawned from it
    result = _suggest(_problem(), _pool(N + 1), 3)
    assert [_generation(labels) for labels in result.labels or []] == [1, 1, 1]


@pytest.mark.parametrize("direction", ["maximize", "minimize"])
@pytest.mark.parametrize("threshold", [0.2, 0.4])
def test_a_full_pool_spawns_n_children_by_truncation_selection(direction: str, threshold: float):
    pool = _pool(N + 1, direction=direction)
    by_name = {t.name: t for t in pool}
    result = _suggest(_problem(direction, truncation_threshold=threshold), pool, N)
    # Katib's segmentation, restated: the scores below the threshold's quantile are exploited,
    # the rest explored; exploited members copy one at or above the (1 - threshold) quantile.
    scores = np.array([float(i + 1) for i in range(N + 1)])
    low, high = np.quantile(scores, (threshold, 1 - threshold))
    upper = {t.name for t, s in zip(pool, scores, strict=True) if s >= high}
    rest = {t.name for t, s in zip(pool, scores, strict=True) if s >= low}
    assert len(result.assignments) == N
    children = list(zip(result.assignments, result.labels or [], strict=True))
    assert all(_generation(labels) == 1 for _, labels in children)
    exploited = [(a, labels[PARENT_LABEL]) for a, labels in children if a == by_name[labels[PARENT_LABEL]].assignment]
    explored = [(a, labels[PARENT_LABEL]) for a, labels in children if a != by_name[labels[PARENT_LABEL]].assignment]
    assert len(exploited) == int(N * threshold), "int(count * truncation_threshold) members are exploited"
    assert {parent for _, parent in exploited} <= upper, "an exploited child copies (and starts from) an upper-quantile member"
    parents = [parent for _, parent in explored]
    assert len(set(parents)) == len(parents) == N - int(N * threshold) and set(parents) <= rest
    for assignment, parent in explored:  # explore perturbs every value of its parent (the list one always moves)
        before = by_name[parent].assignment
        assert assignment["lr"] in {SPACE["lr"].snap(before["lr"] * f) for f in (0.8, 1.2)}  # type: ignore[operator]
        assert assignment["layers"] in {SPACE["layers"].snap(int(int(before["layers"]) * f)) for f in (0.8, 1.2)}
        choices = SPACE["optimizer"].choices
        at = choices.index(str(before["optimizer"]))
        assert assignment["optimizer"] in {choices[(at - 1) % 3], choices[(at + 1) % 3]}


@pytest.mark.parametrize(
    ("parameter", "value", "outcomes"),
    [
        (Parameter("lr", "double", 0.001, 0.1, step=0.001, decimals=3), 0.05, {0.04, 0.06}),
        (Parameter("lr", "double", 0.001, 0.1, step=0.001, decimals=3), 0.1, {0.08, 0.1}),  # x1.2 clipped to max
        (Parameter("lr", "double", 0.001, 0.1), 0.001, {0.001, 0.0012}),  # x0.8 clipped to min
        (Parameter("layers", "int", 1, 10), 7, {5, 8}),  # int(7 * 0.8), int(7 * 1.2)
        (Parameter("layers", "int", 1, 10), 1, {1}),  # int(0.8) = 0 clipped to 1, int(1.2) = 1
        (Parameter("layers", "int", 2, 20, step=2), 10, {8, 12}),
        (Parameter("optimizer", "categorical", choices=("sgd", "adam", "ftrl")), "ftrl", {"adam", "sgd"}),  # wraps to the first
        (Parameter("optimizer", "categorical", choices=("sgd", "adam", "ftrl")), "sgd", {"ftrl", "adam"}),  # wraps to the last
        (Parameter("batch", "discrete", choices=("16", "32", "64", "128")), "32", {"16", "64"}),
    ],
    # a set's order changes with the string hash seed; a test id must not (pytest-xdist's workers
    # each collect the suite and refuse to start when the ids differ)
    ids=lambda v: v.type if isinstance(v, Parameter) else "|".join(sorted(map(str, v))) if isinstance(v, set) else str(v),
)
def test_explore_perturbs_as_katib_does(parameter: Parameter, value: Value, outcomes: set[Value]):
    seen = {perturb(parameter, value, np.random.default_rng(seed)) for seed in range(40)}
    assert {parameter.canonical(v) for v in seen} == {parameter.canonical(v) for v in outcomes}
    assert all(parameter.contains(v) for v in seen)


def test_resample_probability_0_keeps_every_value_and_1_draws_afresh():
    pool = _pool(N + 1)
    by_name = {t.name: t for t in pool}
    kept = _suggest(_problem(resample_probability=0.0), pool, N)
    assert all(a == by_name[labels[PARENT_LABEL]].assignment for a, labels in zip(kept.assignments, kept.labels or [], strict=True))
    # resampled: a categorical of 30 values comes back anywhere, not only next to the parent's
    space = SearchSpace((Parameter("c", "categorical", choices=tuple(f"v{i}" for i in range(30))),))
    problem = Problem(space, ObjectiveType.MAXIMIZE, "accuracy", {**_problem().settings, "truncation_threshold": 0.2, "resample_probability": 1.0})
    members = [_done(f"m{i}", {"c": f"v{i}"}, float(i), _labels(0)) for i in range(N + 1)]
    result = registry.create("pbt", problem.settings).suggest(problem, members, [], N, np.random.default_rng(1))
    parents = {m.name: int(str(m.assignment["c"])[1:]) for m in members}
    distances = [abs(int(str(a["c"])[1:]) - parents[labels[PARENT_LABEL]]) for a, labels in zip(result.assignments, result.labels or [], strict=True)]
    assert max(distances) > 1, f"every child next to its parent ({distances}): not resampled"


def test_the_spawned_children_are_the_same_one_at_a_time_or_all_at_once():
    """A generation's N children are drawn from their own seed: asked one per call (the earlier
    ones pending, each call with its own generator) they are the ones asked all at once."""
    pool = _pool(N + 1)
    problem = _problem(seed=11)
    at_once = _suggest(problem, pool, N, seed=100)
    one_by_one: list[PendingAssignment] = []
    for call in range(N):
        result = _suggest(problem, pool, 1, pending=one_by_one, seed=call)
        one_by_one.append(PendingAssignment(result.assignments[0], f"child-{call}", (result.labels or [])[0]))
    assert [(dict(p), p.labels) for p in one_by_one] == list(zip(at_once.assignments, at_once.labels or [], strict=True))
    # another experiment seed spawns another generation from the same pool
    assert _suggest(_problem(seed=12), pool, N).assignments != at_once.assignments


def _rescored(trial: FinishedTrial, score: float) -> FinishedTrial:
    return _done(trial.name, trial.assignment, score, trial.labels)


@pytest.mark.parametrize("late", [1, 2])
def test_the_spawn_is_drawn_from_the_pool_as_it_stood_when_its_first_child_was_given(late: int):
    """Parallel trials: the pool fills (N + 1 succeeded) while ``late`` members still run; one
    child is given, then the late members succeed (the best of the generation), then the rest
    of the spawn is asked for. Those are the children the first call's pool spawns, as Katib
    queues a generation once (pbt/service.py, PbtJobQueue.generate): int(N * t) exploited, no
    (parent, point) twice, where a spawn drawn again from the larger pool repeated a child
    already given. For 20 experiment seeds, on a one-parameter space where repeats are likely."""
    for seed in range(20):
        problem = Problem(ONE, ObjectiveType("maximize"), "accuracy", _problem().settings, seed=seed)
        draw = np.random.default_rng(seed)
        lrs = [round(float(x), 2) for x in draw.integers(1, 100, N + 1 + late) * 0.01]
        members = [_done(f"g0-{i}", {"lr": lrs[i]}, float(draw.random()), _labels(0)) for i in range(N + 1 + late)]
        pool, latecomers = members[: N + 1], [_rescored(m, 2.0 + i) for i, m in enumerate(members[N + 1 :])]
        running = [PendingAssignment(m.assignment, m.name, m.labels) for m in latecomers]
        first = _suggest(problem, pool, 1, pending=running, seed=100 + seed)
        given = [PendingAssignment(first.assignments[0], "g1-0", (first.labels or [])[0])]
        rest = _suggest(problem, pool + latecomers, N - 1, pending=given, seed=200 + seed)
        children = [(dict(given[0]), given[0].labels), *zip(rest.assignments, rest.labels or [], strict=True)]
        at_once = _suggest(problem, pool, N, seed=seed)
        assert children == list(zip(at_once.assignments, at_once.labels or [], strict=True)), f"seed {seed}"
        lineages = [(labels[PARENT_LABEL], ONE.key(a)) for a, labels in children]
        assert len(set(lineages)) == N, f"seed {seed}: a child repeated: {lineages}"
        by_name = {m.name: m.assignment for m in members}
        assert sum(a == by_name[labels[PARENT_LABEL]] for a, labels in children) == int(N * 0.4), f"seed {seed}"
        # past the spawn, the extra children come from the pool as it stands, the late members in it
        out = [PendingAssignment(a, f"g1-{i}", labels) for i, (a, labels) in enumerate(children)]
        more = _suggest(problem, pool + latecomers, 6, pending=out, seed=300 + seed)
        assert {labels[PARENT_LABEL] for labels in more.labels or []} & {m.name for m in latecomers}, f"seed {seed}"


def test_a_pool_is_found_again_from_its_mark_among_the_members_that_joined_since():
    members = [member_of(f"m{i}", {"lr": 0.1}, {}, float(i)) for i in range(9)]
    first = [m for i, m in enumerate(members) if i not in (2, 5, 8)]
    assert pool_of_mark(members, pool_mark(first)) == first
    assert pool_of_mark(first, pool_mark(first)) == first
    assert pool_of_mark(first, pool_mark(members)) is None  # a mark of more members than there are
    assert pool_of_mark(members, pool_mark(members[:3] + members[4:])) == members[:3] + members[4:]
    assert pool_of_mark(members, "6-zz") is None and pool_of_mark(members, "") is None
    assert pool_of_mark(members, f"{len(first)}-000000000000") is None  # no subset of that digest
    spawned = _suggest(_problem(), _pool(N + 1), N)
    assert {labels[POOL_LABEL] for labels in spawned.labels or []} == {pool_mark([member_of(t.name, t.assignment, t.labels) for t in _pool(N + 1)])}


def test_once_the_spawn_is_out_more_children_come_from_the_previous_pool_until_the_next_is_full():
    pool = _pool(N + 1)
    spawn = _suggest(_problem(), pool, N)
    children = [_done(f"g1-{i}", a, 10.0 + i, labels) for i, (a, labels) in enumerate(zip(spawn.assignments, spawn.labels or [], strict=True))]
    more = _suggest(_problem(), pool + children, 2)
    assert [_generation(labels) for labels in more.labels or []] == [1, 1]
    assert {labels[PARENT_LABEL] for labels in more.labels or []} <= {t.name for t in pool}
    # one more success in generation 1 fills its pool: generation 2 comes from generation 1
    extra = _done("g1-extra", more.assignments[0], 20.0, (more.labels or [])[0])
    following = _suggest(_problem(), pool + children + [extra], 3)
    assert [_generation(labels) for labels in following.labels or []] == [2, 2, 2]
    assert {labels[PARENT_LABEL] for labels in following.labels or []} <= {t.name for t in [*children, extra]}


@pytest.mark.parametrize("status", ["Failed", "Killed", "MetricsUnavailable"])
def test_a_failed_or_killed_trial_runs_again_with_its_lineage(status: str):
    """MetricsUnavailable too: it counts as failed, and Katib's service, which puts it in the pool
    with no value, does not survive it (there is no Katib behaviour to copy)."""
    pool = _pool(N + 1)
    lost = _done("lost", {"lr": 0.03, "layers": 4, "optimizer": "adam"}, 0.0, _labels(1, "g0-5"), status=status)
    result = _suggest(_problem(), [*pool, lost], 2)
    assert result.assignments[0] == lost.assignment
    assert (result.labels or [])[0] == {**_labels(1, "g0-5"), RETRY_LABEL: "lost"}
    assert _generation((result.labels or [])[1]) == 1 and RETRY_LABEL not in (result.labels or [])[1]
    # its retry running (or done): it is not run a third time
    retry = PendingAssignment(result.assignments[0], "lost-again", (result.labels or [])[0])
    again = _suggest(_problem(), [*pool, lost], 2, pending=[retry])
    assert all(RETRY_LABEL not in labels for labels in again.labels or [])


def _toy_score(assignment: dict[str, Value]) -> float:
    return -abs(float(assignment["lr"]) - 0.042) * 100 - abs(int(assignment["layers"]) - 6) - (assignment["optimizer"] != "adam")


def _run(problem: Problem, calls: int, fresh_each_call: bool) -> list[tuple[list[dict[str, Value]], list[dict[str, str]]]]:
    """A sequential run: each call asks for 2, and they finish before the next call; every third
    trial fails. ``fresh_each_call``: a new algorithm each call, the history as the store holds
    it (Katib's strings, parsed back), as a resumed run rebuilds it."""
    algorithm = registry.create("pbt", problem.settings)
    history: list[FinishedTrial] = []
    out = []
    for call in range(calls):
        if fresh_each_call:
            algorithm = registry.create("pbt", problem.settings)
            history = [FinishedTrial(t.name, SPACE.parse(SPACE.format(t.assignment)), t.status, t.objective, dict(t.metrics), dict(t.labels)) for t in history]
        result = algorithm.suggest(problem, history, [], 2, call_rng(problem, call))
        out.append((result.assignments, result.labels or []))
        for assignment, labels in zip(result.assignments, result.labels or [], strict=True):
            index = len(history)
            status = "Failed" if index % 3 == 2 else "Succeeded"
            history.append(_done(f"t{index}", assignment, _toy_score(assignment), labels, status=status))
    return out


def test_a_resumed_run_suggests_what_an_uninterrupted_one_would():
    problem = _problem(seed=5)
    uninterrupted = _run(problem, 20, fresh_each_call=False)
    assert uninterrupted == _run(problem, 20, fresh_each_call=True)
    generations = {_generation(labels) for _, batch in uninterrupted for labels in batch}
    assert max(generations) >= 2, f"the run reached generations {sorted(generations)}: too short to say anything"


def test_every_label_is_one_the_api_server_accepts():
    run = _run(_problem(seed=5), 20, fresh_each_call=False)
    labels = [labels for _, batch in run for labels in batch]
    assert any(RETRY_LABEL in one for one in labels) and any(PARENT_LABEL in one for one in labels)
    assert all(label_problems(one, "labels") == [] for one in labels)


class TestPBTContract(AlgorithmContract):
    """The contract every algorithm keeps, with pbt's own allowances: it repeats points on
    purpose and never ends on a finite space (Katib's pbt runs to maxTrialCount)."""

    algorithm_name = "pbt"
    settings: ClassVar[dict[str, Any]] = {"n_population": 5, "truncation_threshold": 0.4}
    covers_finite_space = False
    repeats_points = True


class TestPBTContractMaximizing(TestPBTContract):
    objective_type = "maximize"


@pytest.mark.parametrize("threshold", ["0", "1"])
def test_truncation_threshold_takes_both_ends_as_katib_does(threshold: str):
    """Katib's check is 0 <= t <= 1 (pbt/service.py); at 0 no member is exploited, every child
    explores a distinct member; at 1 every member but the best is, each child a copy of the best."""
    pool = _pool(N + 1)
    result = _suggest(_problem(truncation_threshold=threshold), pool, N)
    parents = [labels[PARENT_LABEL] for labels in result.labels or []]
    copies = [a == next(t.assignment for t in pool if t.name == p) for a, p in zip(result.assignments, parents, strict=True)]
    if threshold == "0":
        assert not any(copies) and len(set(parents)) == N
    else:
        assert all(copies) and set(parents) == {pool[-1].name}  # the best member: score N + 1
    for outside in ("-0.01", "1.01"):
        _, errors = parse_settings(ALGORITHMS["pbt"], [("truncation_threshold", outside)], "settings")
        assert errors and "truncation_threshold" in errors[0][1]


ONE = SearchSpace((Parameter("lr", "double", 0.01, 1.0, step=0.01, decimals=2),))


def test_extra_children_repeat_no_child_of_their_generation_while_another_choice_exists():
    """Past the N spawned children, each extra child of a generation is a new (parent, point):
    with one parameter a member has two perturbations, so repeats came often (images/pbt-digits)."""
    problem = Problem(ONE, ObjectiveType("maximize"), "accuracy", _problem().settings, seed=3)
    pool = [_done(f"g0-{i}", {"lr": round(0.1 * (i + 1), 2)}, float(i + 1), _labels(0)) for i in range(N + 1)]
    spawn = _suggest(problem, pool, N)
    finished = [_done(f"g1-{i}", a, 0.5, labels) for i, (a, labels) in enumerate(zip(spawn.assignments, spawn.labels or [], strict=True))]
    extras: list[PendingAssignment] = []
    for call in range(5):  # 2 bottom, 3 upper, 4 explorable members with 2 perturbations each: 11 lineages in all
        result = _suggest(problem, pool + finished, 1, pending=extras, seed=call)
        extras.append(PendingAssignment(result.assignments[0], f"extra-{call}", (result.labels or [])[0]))
    lineages = [(t.labels.get(PARENT_LABEL), ONE.key(t.assignment)) for t in finished] + [(p.labels.get(PARENT_LABEL), ONE.key(p)) for p in extras]
    assert all(_generation(p.labels) == 1 for p in extras)
    assert len(set(lineages)) == len(lineages) == N + 5, lineages


def test_more_children_asked_at_once_than_the_spawn_has_left_repeat_none():
    """N + 3 children asked in one call, once the pool is full: the N of the spawn (each with
    the pool's mark), then 3 extra ones, no (parent, point) twice. Counting the spawn's children
    as given is what moves the call on to the extras; without it the spawn came again. For 10
    experiment seeds, on a one-parameter space where repeats are likely."""
    for seed in range(10):
        problem = Problem(ONE, ObjectiveType("maximize"), "accuracy", _problem().settings, seed=seed)
        pool = [_done(f"g0-{i}", {"lr": round(0.1 * (i + 1), 2)}, float(i + 1), _labels(0)) for i in range(N + 1)]
        result = _suggest(problem, pool, N + 3, seed=seed)
        children = list(zip(result.assignments, result.labels or [], strict=True))
        assert len(children) == N + 3 and all(_generation(labels) == 1 for _, labels in children), f"seed {seed}"
        lineages = [(labels[PARENT_LABEL], ONE.key(a)) for a, labels in children]
        assert len(set(lineages)) == N + 3, f"seed {seed}: a child repeated: {lineages}"
        assert sum(POOL_LABEL in labels for _, labels in children) == N, f"seed {seed}"
