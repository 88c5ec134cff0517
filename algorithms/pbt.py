"""Population based training (Jaderberg et al. 2017), as Katib's ``pbt`` suggestion service runs it.

Settings, as Katib's: ``n_population`` (N), ``truncation_threshold`` (t), ``resample_probability``
(None: explore perturbs; p: explore resamples each parameter with probability p, else keeps it) and
``suggestion_trial_dir`` (where each trial sees its checkpoint folder; the launcher provides it,
see :mod:`kfp_tune.core.checkpoints`).

Katib's rules, generation by generation:

- Generation 0 is random members, as many as it takes for more than N of them to succeed (Katib
  seeds N, and draws more while its pool is not full).
- Once more than N members of generation g have succeeded (the pool), generation g+1 is spawned
  from them, N children: members below the pool's t-quantile of the objective are *exploited*
  (``int(N * t)`` of them, at random), each replaced by a child that copies the hyperparameters
  of a member at or above the (1 - t)-quantile, chosen at random; the rest (at random among
  the members at or above the t-quantile) are *explored*: the child perturbs each value (x0.8
  or x1.2 for numbers, clipped to the range and put on the step grid; the next or previous
  list value, wrapping round) or, with ``resample_probability``, resamples it.
- While generation g+1's pool is not full yet and its N children are out, more children of
  g+1 come from generation g's pool the same way, as many as asked at a time.
- A trial that failed, ended MetricsUnavailable or was killed is run again: the same
  hyperparameters, generation and parent, as a new trial (labelled
  ``kfp-tune.kubeflow.org/pbt-retry-of``). Katib re-queues Failed and Killed trials; one that
  ran without its metric joins Katib's pool with no value, and its service fails on the pool's
  quantiles, so here it is a failure like any other (it counts against maxFailedTrialCount).

Every trial carries Katib's labels: ``pbt.suggestion.katib.kubeflow.org/generation`` and, from
generation 1 on, ``pbt.suggestion.katib.kubeflow.org/parent``: the trial whose checkpoint folder
the new trial's starts as a copy of. For an explored child that is the member it perturbs; for
an exploited child it is the better member whose hyperparameters it copies, so the child starts
from that member's weights as well, as the paper's exploit does and as the issue asks. (Katib's
service names the replaced, worse member as the parent of an exploited child, so that child
gets the better member's hyperparameters and the worse member's checkpoint.)

Rebuilt from the history on every call, like every algorithm here: a trial's generation and
parent come back from its stored labels, the pools are the succeeded trials of each generation,
and a generation's N spawned children are drawn from a generator seeded by the experiment's
seed and the generation, so the children still owed are the same whichever call gives them
out. Katib's pools are the trials that completed between two spawns, whatever their
generation; here they are the generations themselves, which is the same when trials run one at
a time and needs no memory of when a trial completed.

Katib queues a generation's N children once, when its pool fills (``PbtJobQueue.generate`` in
``pkg/suggestion/v1beta1/pbt/service.py``), and never draws them again. Here, with parallel
trials, a member of generation g may succeed after the first children of g+1 were given out;
the rest of the spawn is still drawn from the pool as it stood when the first one was: each
spawned child carries :data:`POOL_LABEL` (how many members that pool had and a digest of their
names), from which the pool is found again among the members that have succeeded since. So the
spawn is fixed once drawn: its children repeat none of each other, and it holds
``int(N * t)`` exploited children as Katib's does. The late member joins its generation's pool
for the extra children that come after the spawn.

Random members are drawn as ``random`` draws them (each parameter's distribution applies);
Katib's pbt draws uniformly from the step grid. Perturbed numbers are put back on the step grid,
as every suggested value must be feasible.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kfp_tune.algorithms.base import FinishedTrial, PendingAssignment, Problem, Suggestions
from kfp_tune.algorithms.random_search import sample_assignment, sample_value
from kfp_tune.core.catalogue import setting_default
from kfp_tune.core.checkpoints import GENERATION_LABEL, PARENT_LABEL
from kfp_tune.core.naming import LABEL_PREFIX
from kfp_tune.core.space import Parameter, SearchSpace, Value
from kfp_tune.core.vocabulary import TrialStatus

RETRY_LABEL = f"{LABEL_PREFIX}/pbt-retry-of"
"""On a trial that runs a failed or killed one again: the name of that trial."""
RETRIED = (TrialStatus.FAILED, TrialStatus.METRICS_UNAVAILABLE, TrialStatus.KILLED)
"""The ends a trial is run again for: Katib's (Failed, Killed), and MetricsUnavailable, which
Katib's service does not survive (see the module) and which counts as failed."""
PERTURB_FACTORS = (0.8, 1.2)
POOL_LABEL = f"{LABEL_PREFIX}/pbt-pool"
"""On each of a generation's N spawned children: the pool its spawn was drawn from, as
``<members>-<digest>`` (the digest an exclusive or of a hash of each member's name), so that the
children still owed are drawn from that pool however many members have joined it since."""
POOL_SEARCH_LIMIT = 200_000
"""Sets of late members tried when the pool of a spawn is looked for among the members that
joined after it (as many as the slots that ran beside it, at most): past this, the pool as it
stands now is taken."""
_PLAN = 0x9B7
"""Mixed into the seed of a generation's spawn, to keep it apart from other seeded sequences."""


@dataclass(frozen=True)
class Member:
    """A trial as pbt sees it: its lineage (from its labels) and, once it has succeeded, its
    objective as a value where higher is better (Katib maximises a sign-flipped minimum)."""

    name: str
    assignment: dict[str, Value]
    generation: int
    parent: str
    retry_of: str
    score: float | None = None
    pool: str = ""
    """:data:`POOL_LABEL`, on a spawned child: the pool its generation's spawn was drawn from."""


Child = tuple[dict[str, Value], dict[str, str]]
"""A new trial: its assignment and its labels."""
Lineage = tuple[str, tuple[Any, ...]]
"""A child as a repeat is told: its parent and its point (``SearchSpace.key``)."""
REDRAWS = 8
"""Perturbations tried per member for an extra child before the next member is tried."""


def _lineage(space: SearchSpace, child: Child) -> Lineage:
    return child[1].get(PARENT_LABEL, ""), space.key(child[0])


def member_of(name: str, assignment: dict[str, Value], labels: dict[str, str], score: float | None = None) -> Member:
    """A trial's lineage from its labels; a trial with none (or an unreadable generation) is a
    generation 0 member."""
    try:
        generation = max(0, int(labels.get(GENERATION_LABEL, "0")))
    except ValueError:
        generation = 0
    return Member(name, dict(assignment), generation, labels.get(PARENT_LABEL, ""), labels.get(RETRY_LABEL, ""), score, labels.get(POOL_LABEL, ""))


def child_labels(generation: int, parent: str, retry_of: str = "") -> dict[str, str]:
    labels = {GENERATION_LABEL: str(generation)}
    if parent:
        labels[PARENT_LABEL] = parent
    if retry_of:
        labels[RETRY_LABEL] = retry_of
    return labels


def _name_hash(name: str) -> int:
    return int(hashlib.sha256(name.encode()).hexdigest()[:12], 16)


def pool_mark(pool: Sequence[Member]) -> str:
    """:data:`POOL_LABEL`'s value for a pool: its size and the exclusive or of its members'
    name hashes (48 bits; names are unique in an experiment). The digest of a larger pool, taken
    with this one's, leaves the exclusive or of the members that joined since, which
    :func:`pool_of_mark` looks up."""
    digest = 0
    for member in pool:
        digest ^= _name_hash(member.name)
    return f"{len(pool)}-{digest:012x}"


def pool_of_mark(pool: Sequence[Member], mark: str) -> list[Member] | None:
    """The members of ``pool`` (in its order) that made the pool ``mark`` names: ``pool`` less
    the members that joined it since. None when no such subset is found (a mark damaged, or more
    sets to try than :data:`POOL_SEARCH_LIMIT`)."""
    size, _, digest = mark.partition("-")
    try:
        count, target = int(size), int(digest, 16)
    except ValueError:
        return None
    hashes = [_name_hash(m.name) for m in pool]
    for value in hashes:
        target ^= value  # now the exclusive or of the late members' hashes
    late = len(pool) - count
    if late < 0:
        return None
    if late == 0:
        return list(pool) if target == 0 else None
    position = {value: index for index, value in enumerate(hashes)}
    for others in itertools.islice(itertools.combinations(range(len(pool)), late - 1), POOL_SEARCH_LIMIT):
        rest = target
        for index in others:
            rest ^= hashes[index]
        last = position.get(rest)
        if last is not None and last > (others[-1] if others else -1):  # each set once: its last member looked up
            dropped = {*others, last}
            return [m for index, m in enumerate(pool) if index not in dropped]
    return None


def perturb(parameter: Parameter, value: Value, rng: np.random.Generator) -> Value:
    """Katib's perturbation: a number times 0.8 or 1.2 (an int truncated first and after),
    clipped to its range and put on its step grid; a list value's neighbour, wrapping round."""
    if parameter.type in ("int", "double"):
        factor = PERTURB_FACTORS[int(rng.integers(2))]
        moved = float(int(int(value) * factor)) if parameter.type == "int" else float(value) * factor
        return parameter.snap(moved)
    if parameter.type in ("discrete", "categorical"):
        position = parameter.choices.index(str(value)) + (-1, 1)[int(rng.integers(2))]
        return parameter.choices[position % len(parameter.choices)]
    return value


class PBT:
    """Katib's ``pbt``: see the module."""

    name = "pbt"

    def __init__(self, settings: dict[str, Any]):
        population, truncation = settings.get("n_population"), settings.get("truncation_threshold")
        self.population = int(setting_default("pbt", "n_population") if population is None else population)
        self.truncation = float(setting_default("pbt", "truncation_threshold") if truncation is None else truncation)  # 0 is Katib's too: no exploit children
        resample = settings.get("resample_probability")
        self.resample: float | None = None if resample is None else float(resample)

    def suggest(
        self,
        problem: Problem,
        history: Sequence[FinishedTrial],
        pending: Sequence[dict[str, Value]],
        n: int,
        rng: np.random.Generator,
    ) -> Suggestions:
        finished = [member_of(t.name, t.assignment, t.labels, self._score(problem, t)) for t in history]
        running = [member_of(p.name, p, p.labels) if isinstance(p, PendingAssignment) else member_of("", p, {}) for p in pending]
        out: list[Child] = self._retries(history, finished, running, n)
        # originals (not retries) of each generation, finished, running or given out in this call,
        # and each generation's children as (parent, point), so that an extra child repeats none
        originals: dict[int, int] = {}
        taken: dict[int, set[Lineage]] = {}
        marks: dict[int, str] = {}  # each generation's spawn's pool (POOL_LABEL), once a child of it is out
        for member in finished + running:
            if not member.retry_of:
                originals[member.generation] = originals.get(member.generation, 0) + 1
                taken.setdefault(member.generation, set()).add((member.parent, problem.space.key(member.assignment)))
            if member.pool:
                marks.setdefault(member.generation, member.pool)
        pools: dict[int, list[Member]] = {}
        for member in finished:
            if member.score is not None:
                pools.setdefault(member.generation, []).append(member)
        while len(out) < n:
            current = max(originals, default=0)
            pool = pools.get(current, [])
            if len(pool) > self.population:  # the pool is full: spawn the next generation
                current += 1
            parents = pools.get(current - 1, [])
            if current == 0 or not parents:  # (no parents: labels not made here; start afresh)
                current = 0
                made = [(sample_assignment(problem.space, rng), child_labels(0, ""))]
            else:
                made = self._children(problem, parents, current, originals.get(current, 0), n - len(out), rng, taken.setdefault(current, set()), marks.get(current))
            for child in made:
                out.append(child)
                originals[current] = originals.get(current, 0) + 1
                taken.setdefault(current, set()).add(_lineage(problem.space, child))
                if POOL_LABEL in child[1]:
                    marks.setdefault(current, child[1][POOL_LABEL])
        return Suggestions([a for a, _ in out], labels=[labels for _, labels in out], repeats=True)

    @staticmethod
    def _score(problem: Problem, trial: FinishedTrial) -> float | None:
        """Higher is better; None for a trial that joins no pool (it did not succeed, or has no
        finite objective)."""
        if trial.status not in (TrialStatus.SUCCEEDED, TrialStatus.EARLY_STOPPED):
            return None
        loss = problem.loss(trial)
        return None if loss is None else -loss

    @staticmethod
    def _retries(history: Sequence[FinishedTrial], finished: list[Member], running: list[Member], n: int) -> list[Child]:
        """Each failed, metrics-less or killed trial (:data:`RETRIED`) that no trial runs again
        yet, run again (oldest first)."""
        retried = {m.retry_of for m in finished + running if m.retry_of}
        out: list[Child] = []
        for trial, member in zip(history, finished, strict=True):
            if len(out) == n:
                break
            if trial.status in RETRIED and trial.name not in retried:
                out.append((dict(trial.assignment), child_labels(member.generation, member.parent, retry_of=trial.name)))
        return out

    def _children(
        self,
        problem: Problem,
        pool: list[Member],
        generation: int,
        given: int,
        wanted: int,
        rng: np.random.Generator,
        taken: set[Lineage],
        mark: str | None = None,
    ) -> list[Child]:
        """Up to ``wanted`` children of ``generation`` from the previous one's ``pool``, after the
        ``given`` already out: first the rest of the generation's N spawned children (the same at
        every call, from their own seed and from the pool as it stood when the first of them was
        given, which ``mark`` names; none repeating another), then batches of as many as are
        wanted from the pool as it stands, each avoiding the (parent, point) of a child the
        generation already has (``taken``) where it can."""
        if given < self.population:
            spawned_from = pool if mark is None else pool_of_mark(pool, mark)
            if spawned_from is None:  # not found (see POOL_SEARCH_LIMIT): the pool as it stands
                spawned_from, mark = pool, None
            mark = mark or pool_mark(spawned_from)
            spawn = self._segment(problem, spawned_from, generation, self.population, np.random.default_rng([problem.seed, _PLAN, generation]), set())
            if given < len(spawn):
                return [(assignment, {**labels, POOL_LABEL: mark}) for assignment, labels in spawn[given : given + wanted]]
        return self._segment(problem, pool, generation, wanted, rng, taken)

    def _segment(
        self, problem: Problem, pool: list[Member], generation: int, count: int, rng: np.random.Generator, taken: set[Lineage] | None = None
    ) -> list[Child]:
        """Katib's truncation selection over a pool: exploit children first (copies of upper
        members), then explore children (perturbed or resampled), ``count`` at most.

        With ``taken`` (the generation's children so far; empty for the N spawned), a child that
        would repeat one of them or of this segment exactly (the same parent and point: the same
        trial run twice) is drawn again: an exploit child copies another upper member, an
        explore child perturbs again (at most :data:`REDRAWS` times), then another member of the
        explored part; where every choice repeats, the first stands. Katib's service does not
        look (pbt/service.py, PbtJobQueue.generate): its exploit children differ in the replaced
        member's folder, where kfp-tune's start from the better member's."""
        scores = np.array([m.score for m in pool], dtype=float)
        low, high = np.quantile(scores, (self.truncation, 1.0 - self.truncation))
        bottom = [m for m in pool if m.score is not None and m.score < low]
        rest = [m for m in pool if m.score is not None and m.score >= low]
        upper = [m for m in rest if m.score is not None and m.score >= high]
        bottom = [bottom[i] for i in rng.permutation(len(bottom))][: int(count * self.truncation)]
        rest = [rest[i] for i in rng.permutation(len(rest))][: count - len(bottom)]
        children: list[Child] = []
        seen = set() if taken is None else set(taken)
        explorable = [m for m in pool if m.score is not None and m.score >= low]
        for pick in rng.integers(len(upper), size=len(bottom)):
            better = upper[int(pick)]
            if taken is not None:
                better = next((m for m in [better, *upper] if (m.name, problem.space.key(m.assignment)) not in seen), better)
            children.append((dict(better.assignment), child_labels(generation, better.name)))
            seen.add(_lineage(problem.space, children[-1]))
        for member in rest:
            child = (self._explore(problem.space, member.assignment, rng), child_labels(generation, member.name))
            if taken is not None and _lineage(problem.space, child) in seen:
                child = self._unseen_explore(problem, generation, [member, *explorable], seen, rng) or child
            children.append(child)
            seen.add(_lineage(problem.space, child))
        return children

    def _unseen_explore(self, problem: Problem, generation: int, members: list[Member], seen: set[Lineage], rng: np.random.Generator) -> Child | None:
        """An explore child of one of ``members`` (in that order) that repeats none in ``seen``."""
        for member in members:
            for _ in range(REDRAWS):
                child = (self._explore(problem.space, member.assignment, rng), child_labels(generation, member.name))
                if _lineage(problem.space, child) not in seen:
                    return child
        return None

    def _explore(self, space: SearchSpace, assignment: dict[str, Value], rng: np.random.Generator) -> dict[str, Value]:
        out: dict[str, Value] = {}
        for parameter in space:
            value = assignment[parameter.name]
            if self.resample is None:
                out[parameter.name] = perturb(parameter, value, rng)
            elif rng.random() < self.resample:
                out[parameter.name] = sample_value(parameter, rng)
            else:
                out[parameter.name] = value
        return out
