"""The experiment's state: a fold over the records in the store, never stored as the truth.

:class:`ExperimentView` keeps the fold in memory and current: the records this process writes
go through it, and the ones it reads are read once (the write-once ones never change). A fresh
process catches up from snapshot chunks (``snapshots/<seq>.json``, caches of records, rebuilt
from them whenever missing or damaged) and reads only the records no chunk holds. So a step's
cost does not grow with the number of trials before it.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from dataclasses import dataclass, field
from typing import Any

from kfp_tune.core import claims
from kfp_tune.core.catalogue import searched_space
from kfp_tune.core.errors import ExperimentNotFound, ExperimentPartlyDeleted, StoreError
from kfp_tune.core.observation import Observation
from kfp_tune.core.records import (
    DamagedRecord,
    ExperimentRecords,
    R,
    TrialEnded,
    TrialResult,
    TrialStarted,
    UnreadableRecord,
    check_record,
    decode_record,
    outcome_label,
    round_entries,
    round_labels,
)
from kfp_tune.core.space import SearchSpace
from kfp_tune.core.spec import Experiment, parse_experiment
from kfp_tune.core.validation import validate_experiment
from kfp_tune.core.vocabulary import ExperimentPhase, RecordKind, TrialStatus

FINISHED_PHASES = (ExperimentPhase.SUCCEEDED.value, ExperimentPhase.FAILED.value)
"""The phases of a completed experiment (a decision's, a recorded outcome's)."""


def is_outcome(record: dict[str, Any]) -> bool:
    """Whether an outcome record, as read, holds an outcome (a finished phase, its reason,
    message, uid and time); every reader leaves any other out, as the trials' records are the truth."""
    return all(isinstance(record.get(name), str) for name in ("uid", "reason", "message", "time")) and record.get("phase") in FINISHED_PHASES


TRIAL_INTERRUPTED = "RunInterrupted"
"""The reason of a trial that was ``Killed`` because its user interrupted the run (SIGINT,
SIGTERM). Such a trial's budget is given back: it counts towards neither maxTrialCount nor
maxFailedTrialCount, and the next run makes a new trial in its place. (Katib counts every
Killed trial as completed; a trial killed for any other reason still does here.)"""

TRIAL_STALE = "TrialStale"
"""The reason of a trial whose launch-trial stopped following it without recording its end (a
killed process or pod, a store that went away) and that the launcher cannot re-attach to: the
next run records it ``Killed`` without running it again, and gives its budget back (how it
ended is not known, and the run's end is not the trial's failure). No log was kept. (Before
2026-12, such a trial was recorded Failed; those records are read as they are.)"""

TRIAL_NOT_CREATED = "TrialNotCreated"
"""The reason of a trial that was ``Killed`` because the launcher could not create it (see
``core.errors.TrialNotCreated``): nothing ran, so its budget is given back too."""

GIVEN_BACK_REASONS = frozenset({TRIAL_INTERRUPTED, TRIAL_NOT_CREATED, TRIAL_STALE})


@dataclass
class TrialState:
    """One trial, as its records tell it."""

    name: str
    index: int
    round: str
    assignment: dict[str, str]
    created: str
    started: TrialStarted | None = None
    ended: TrialEnded | None = None
    result: TrialResult | None = None
    labels: dict[str, str] = field(default_factory=dict)
    """What the algorithm labelled the trial with (pbt's generation and parent; Katib puts
    them on the Trial), stored in its round; on the trial's resource too."""

    @property
    def status(self) -> TrialStatus:
        """Katib's trial condition: Created, Running, then a terminal one."""
        if self.result is not None:
            return self.result.status
        if self.started is not None:
            return TrialStatus.RUNNING
        return TrialStatus.CREATED

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    @property
    def given_back(self) -> bool:
        """Killed because the user interrupted the run, never created, or left by a run that
        stopped following it: it used no budget (see TRIAL_INTERRUPTED, TRIAL_NOT_CREATED,
        TRIAL_STALE)."""
        return self.result is not None and self.result.status == TrialStatus.KILLED and self.result.reason in GIVEN_BACK_REASONS

    @property
    def made_something(self) -> bool:
        """Whether anything of the trial may exist where it ran: it started, and its create was
        not refused. The started record is written before the create, so one refused
        (TRIAL_NOT_CREATED: a 403 in a Katib example's ``kubeflow``) names a namespace where
        nothing of it exists, nor anywhere else."""
        return self.started is not None and not (self.ended is not None and self.ended.reason == TRIAL_NOT_CREATED)

    @property
    def observation(self) -> Observation:
        if self.result is None:
            return Observation()
        return Observation.from_dict(self.result.observation)

    @property
    def metrics(self) -> dict[str, float]:
        """Metric name -> value after its strategy (empty until the trial is collected)."""
        return dict(self.result.metrics) if self.result is not None else {}

    @property
    def text_metrics(self) -> dict[str, str]:
        """Metric name -> last value, for metrics whose values are text (darts' genotype)."""
        return dict(self.result.text_metrics) if self.result is not None else {}


@dataclass
class Tally:
    """What the stop rules and the designer need after every trial, kept as trials change so a
    step's cost does not grow with the trials before it."""

    counts: dict[str, int] = field(default_factory=lambda: {str(s): 0 for s in TrialStatus})
    best: TrialState | None = None
    created: list[str] = field(default_factory=list)
    """Trial names in the order they were folded in."""
    finished: list[str] = field(default_factory=list)
    """Trial names in the order they reached a terminal status."""
    active: dict[str, TrialState] = field(default_factory=dict)
    """Trials created or running, by name."""
    given_back: int = 0
    """Trials whose budget was given back (``TrialState.given_back``)."""


@dataclass
class ExperimentState:
    experiment: Experiment
    uid: str
    created: str
    trials: list[TrialState] = field(default_factory=list)
    rounds: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_name: dict[str, TrialState] = field(default_factory=dict, repr=False, compare=False)
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    tally: Tally | None = field(default=None, repr=False, compare=False)
    """Counts by status, the best trial, and the orders trials were created and finished in,
    kept up to date by the view that folds the records (None for a state built by hand: the
    readers then count over the trials)."""
    """Derived values worth keeping while the state grows (e.g. the algorithms' view of each
    finished trial, built once): finished trials never change."""

    @property
    def name(self) -> str:
        return self.experiment.name

    def trial(self, name: str) -> TrialState:
        try:
            return self.by_name[name]
        except KeyError:
            raise StoreError(f"experiment {self.name!r} has no trial {name!r}") from None

    def in_spec_order(self, trial: TrialState) -> dict[str, str]:
        """The trial's assignment in the spec's parameter order (any the spec no longer has after,
        by name). Katib's trials hold their assignments in the search space's order, the order
        its suggestion services emit them (pkg/suggestion/v1beta1/internal/trial.py,
        ``Assignment.generate``), and its experiment status copies the best trial's as they are
        (pkg/controller.v1beta1/experiment/util/status_util.go, ``updateTrialsSummary``);
        kfp-tune's records keep them sorted by name (param_10 before param_2)."""
        names = [p.name for p in self.experiment.spec.parameters]
        given = trial.assignment
        return {name: given[name] for name in [*names, *sorted(set(given) - set(names))] if name in given}

    def running_trials(self) -> list[str]:
        """The trials started and not ended, in order: what a run stopping now had running."""
        return [t.name for t in self.trials if not t.is_terminal and t.started is not None and t.ended is None]

    @property
    def exhausted(self) -> bool:
        """Whether the algorithm said, in some round, that the search space has no more points,
        and no trial was given back since: the algorithm said it of the history it was given,
        and a trial given back after that (one it had as pending, or one of that very round)
        puts its point or place back, so the algorithm is asked again. Records folded from the
        store in one go put the rounds first, so a fresh process cannot tell the order and asks
        once more (an exhausted algorithm says so again)."""
        return self.exhausted_rounds > 0 and not self.given_back_since_exhausted

    exhausted_rounds: int = 0
    given_back_since_exhausted: bool = False
    """Whether a trial was given back after the last round that said exhausted was folded in."""
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The experiment's recorded outcomes (``outcomes/<label>.json``), by label: the first
    finished decision under each maxTrialCount it ran with. Katib sets a completed condition once
    and never recomputes it, so a trial that ends later (a goal met after maxFailedTrialCount was
    reached) does not turn a Failed experiment into a Succeeded one."""
    restarted: str | None = None
    """When a completed experiment was last restarted (a larger maxTrialCount under LongRunning
    or FromVolume), if ever: Katib's Restarting condition."""

    def outcome(self) -> dict[str, Any] | None:
        """The outcome recorded under the current maxTrialCount, if the experiment has completed
        under it (None for a Running one, or one restarted since)."""
        recorded = self.outcomes.get(outcome_label(self.experiment.spec.max_trial_count))
        return recorded if recorded is not None and recorded.get("uid") == self.uid else None

    @property
    def given_back(self) -> int:
        """How many trials gave their budget back (``TrialState.given_back``)."""
        return self.tally.given_back if self.tally is not None else sum(t.given_back for t in self.trials)

    @property
    def budget_used(self) -> int:
        """The trials that count towards maxTrialCount: every one but those given back."""
        return len(self.trials) - self.given_back

    def objective_value(self, trial: TrialState) -> float | None:
        """The trial's objective value as Katib's observation has it: None for a trial whose
        value is not ranked (not ended, Failed, Killed: ``TrialStatus.ranked``), whatever it reported."""
        objective = self.experiment.spec.objective
        assert objective is not None
        return trial.metrics.get(objective.objective_metric_name) if trial.status.ranked else None

    def better_text_trial(self, trial: TrialState, best: TrialState | None) -> bool:
        """Whether ``trial``, finished with a text objective (darts' genotype), is the best
        rather than ``best``. Text cannot be compared: as Katib does, the latest trial is the
        best, unless a trial with a number (never in an experiment with a text objective) is."""
        objective = self.experiment.spec.objective
        assert objective is not None
        name = objective.objective_metric_name
        if not trial.status.ranked or name not in trial.text_metrics:
            return False
        return best is None or (name not in best.metrics and best.index < trial.index)


log = logging.getLogger(__name__)

KEYS_PER_TRIAL = 7
"""About how many records a trial leaves (round entry, started, ended, result, reports, ...): what
:meth:`ExperimentView.refresh_open` counts a whole listing by."""
LISTING_PAGE_KEYS = 1000
"""Keys a listing request returns at most (S3's page)."""

SNAPSHOT_CHUNK = 500
"""Records per snapshot chunk: a fresh process reads one chunk per this many records instead of
one request per record."""


DELETING = "deleting"
"""The experiment record's field a delete sets first (when it began), before anything goes: the
record is deleted last, so a delete that stops half-way leaves it saying so."""

DELETING_BY = "deleting_by"
"""Who deletes, beside :data:`DELETING`: its process as a claim names its owner
(:func:`~kfp_tune.core.claims.process_identity`), so a live delete on this machine is named as one."""


def read_experiment_record(records: ExperimentRecords) -> dict[str, Any] | None:
    """The experiment record, None when there is none; ExperimentPartlyDeleted when a delete of
    it began and has not ended (its trials' records may be gone: read as live, it showed as
    Running with no trials, and a run resumed it and re-ran trials under names already used)."""
    head = records.read(records.experiment_key(), RecordKind.EXPERIMENT)
    if head is not None and head.get(DELETING):
        raise ExperimentPartlyDeleted(partly_deleted_message(records, head))
    return head


def partly_deleted_message(records: ExperimentRecords, head: dict[str, Any]) -> str:
    """Why an experiment being deleted is not read. On a shared store the usual reason to see the
    mark is a delete still under way, so both are said; a mark that names its process
    (``deleting_by``, as a claim names its owner; an older kfp-tune's mark has only the time) on
    this machine says which it is."""
    name = records.experiment
    began = f"experiment {name!r} in {records.store.uri} is partly deleted: a delete of it began at {head[DELETING]} and has not finished"
    again = f"run kfp-tune delete {name} --yes (Client.delete_experiment(name, confirm=True)) again to finish it"
    deleter = head.get(DELETING_BY)
    if isinstance(deleter, str):
        pid = claims.owner_running_here(deleter)
        if pid == os.getpid():  # this process's own delete, which raised and was gone past
            return f"{began}: a delete by this process stopped before it ended; {again}"
        if pid is not None:
            return (
                f"{began}: process {pid}{claims.owner_user_words(pid)} on this machine began it and still runs, so the delete is likely "
                f"under way: wait for it to end: then kfp-tune list no longer shows it (if that process's delete failed and it went on, {again})"
            )
        if claims.owner_is_gone(deleter):
            return f"{began}: the process that deleted it ({deleter.split(' ')[0]}) is gone, so the delete stopped; {again}"
    return (
        f"{began}: it may still be under way (wait for it to end: then kfp-tune list no longer shows it), or it stopped (a store error, a killed "
        f"process): then {again}"
    )


def deleting_mark(when: str) -> dict[str, Any]:
    """The fields a delete sets in the experiment record first: when it began (:data:`DELETING`,
    all an older kfp-tune writes or reads) and who deletes (:data:`DELETING_BY`)."""
    return {DELETING: when, DELETING_BY: claims.this_process()}


class ExperimentView:
    """One experiment's state, kept current in this process.

    Built from the store on first use (snapshot chunks, then the records no chunk holds);
    :meth:`refresh` folds in what others wrote since (one listing, reads only of new keys),
    :meth:`refresh_trial` only what is new of one trial (a listing of its own folder); the
    ``record_*`` methods write a record and fold it at once, so a process that drives the
    experiment never re-reads what it wrote. Thread-safe: the slots of one run share a view.

    A damaged record (:class:`~kfp_tune.core.records.DamagedRecord`) stops a run, which never
    skips one. A reader (``lenient``: ``status``, ``trials``, reports, progress) leaves it out
    instead, and lists it in :attr:`damaged`, so the other trials still show; only a damaged
    experiment record stops a reader too, since nothing can be shown without the spec."""

    def __init__(self, records: ExperimentRecords, lenient: bool = False):
        self.records = records
        self.lenient = lenient
        self.damaged: dict[str, str] = {}
        """Damaged records left out (lenient views only): key -> what is wrong with it."""
        self.lock = threading.RLock()
        self._state: ExperimentState | None = None
        self._space: SearchSpace | None = None
        """The space the stored spec's algorithm searches: every round's assignments are checked
        against it as the round is read."""
        self._folded: dict[str, dict[str, Any]] = {}
        """Every write-once record folded in so far, by key (what snapshot chunks are made of)."""
        self._chunked: set[str] = set()
        self._chunks = 0
        self._pending: dict[str, dict[str, str]] = {}
        """Trial records read before the round that creates their trial, by trial name."""
        self._vanished = False
        """A listed record was gone when read, in the fold under way (:meth:`_head_unchanged`)."""
        self._ended_due: set[str] = set()
        """Trials :meth:`refresh_open` saw end with a result but no ``ended`` record yet (a trial
        given back writes its result first, then ``ended``): their folders are listed again."""

    @property
    def state(self) -> ExperimentState:
        with self.lock:
            if self._state is None:
                self.refresh()
            assert self._state is not None
            return self._state

    def refresh(self) -> ExperimentState:
        """Fold in every record not yet folded. StoreError if the experiment does not exist.

        The listing comes before the experiment record, so that a fold never mixes what a delete
        (:func:`deleting_mark`, then every other record, the experiment record last) left: a
        listing taken after the delete began is followed by the mark (or by no record at all),
        and one taken before it is whole, its records read after then found gone: the
        experiment record is then read again (:meth:`_head_unchanged`). Read the other way
        round, ``kfp-tune run`` read an experiment of 40 trials as "already completed, 27
        trial(s) done" while another person deleted it, then ran it anew from trial 1."""
        with self.lock:
            keys = self.records.store.list(f"{self.records.root}/")
            self._take_head()
            return self._fold_listed(keys)

    def refresh_trial(self, trial: str) -> ExperimentState:
        """Fold in what is new of one trial only: the experiment record (still the same
        experiment, by its uid; its spec, budgets included) and a listing of the trial's own
        folder, reading only its records not folded yet. A lookup then costs the same at 10
        trials or 10,000, as Katib's SDK asks for one trial (katib_client.py ``get_trial``,
        ``get_trial_metrics``: one request naming it); the rest of the state may be older than
        this trial's. A trial the view does not know (a round written since, or none), or
        another experiment of the same name (a new uid), is the whole :meth:`refresh`. The
        listing comes before the experiment record, as in :meth:`refresh`: read the other way
        round, a trial of an experiment another person was deleting showed as Running."""
        with self.lock:
            if self._state is None or trial not in self._state.by_name:
                return self.refresh()
            records = self.records
            keys = records.store.list(records.trial_prefix(trial))
            if not self._take_head():  # deleted and made again since: start over
                return self.refresh()
            self._vanished = False
            for key in keys:
                if key not in self._folded and (typed := records.typed_record_of(key)) is not None:
                    self._read_and_fold(key, typed[1].KIND)
            if self._vanished and not self._head_unchanged():
                return self.refresh()
            return self._state

    def refresh_open(self) -> ExperimentState:
        """Fold in what is new for a progress display, at a cost that does not grow with the
        trials already ended: the rounds' listing (one key a trial, only new rounds read), the
        outcomes', the experiment record (budgets edited while a run goes) and a listing of the
        folder of each trial not ended yet (as :meth:`refresh_trial`), and of each it saw end
        with its result before its ``ended`` record (a trial given back), until that is folded
        too. :meth:`refresh` lists every record of the experiment, about seven keys a trial: the
        progress watcher called it each look, so a look at 3,000 trials on S3 took seconds and its
        lines came tens of seconds apart. A view not read yet, or another experiment of the name since, is the whole
        :meth:`refresh`; what this leaves out (a snapshot chunk, a trial record no round holds)
        changes no trial's status, and the next :meth:`refresh` folds it in. The listings come
        before the experiment record, as in :meth:`refresh`. When the open trials outnumber the
        pages of that whole listing (:data:`KEYS_PER_TRIAL` keys a trial, :data:`LISTING_PAGE_KEYS`
        a page: 16 running of 32 trials), the whole :meth:`refresh` takes fewer requests, and is
        what this does."""
        with self.lock:
            if self._state is None:
                return self.refresh()
            active = self._state.tally.active if self._state.tally is not None else {}
            looked = [*active, *(self._ended_due - active.keys())]
            if len(looked) > math.ceil(KEYS_PER_TRIAL * len(self._state.trials) / LISTING_PAGE_KEYS):
                state = self.refresh()  # one listing of every record takes fewer requests than one per open trial
                self._ended_due = self._ended_unrecorded(looked, state)
                return state
            records = self.records
            rounds = records.store.list(records.rounds_prefix())
            outcomes = records.store.list(records.outcomes_prefix())
            if not self._take_head():  # deleted and made again since: start over
                return self.refresh()
            state = self._state
            assert state is not None and state.tally is not None
            self._vanished = False
            for key in outcomes:
                label = records.outcome_of(key)
                if label is not None and label not in state.outcomes:
                    self._read_outcome(key, label)
            for key in rounds:
                if records.round_of(key) is not None and key not in self._folded:
                    self._read_and_fold(key, RecordKind.ROUND)
            looked = [*state.tally.active, *(self._ended_due - state.tally.active.keys())]
            for trial in looked:
                for key in records.store.list(records.trial_prefix(trial)):
                    if key not in self._folded and (typed := records.typed_record_of(key)) is not None:
                        self._read_and_fold(key, typed[1].KIND)
            self._ended_due = self._ended_unrecorded(looked, state)
            if self._vanished and not self._head_unchanged():
                return self.refresh()
            return state

    @staticmethod
    def _ended_unrecorded(looked: list[str], state: ExperimentState) -> set[str]:
        """Of the trials a look found open, those now ended (a result) with no ``ended`` record
        yet: a trial given back writes its result first, then ``ended``."""
        active = state.tally.active if state.tally is not None else {}
        return {name for name in looked if name not in active and (t := state.by_name.get(name)) is not None and t.started is not None and t.ended is None}

    def _take_head(self) -> bool:
        """Read the experiment record and take its spec; False when the fold started over: the
        first read, or another experiment of that name (a new uid) since the last one."""
        records = self.records
        head = read_experiment_record(records)
        if head is None:
            raise ExperimentNotFound(f"no experiment {records.experiment!r} in {records.store.uri}")
        experiment = experiment_of(head, records.experiment_key())
        self._space = searched_space(experiment.spec)
        same = self._state is not None and self._state.uid == head["uid"]
        if self._state is not None and same:
            self._state.experiment = experiment
        else:
            self._state, self._folded, self._chunked, self._chunks, self._pending = None, {}, set(), 0, {}
            self._state = ExperimentState(experiment=experiment, uid=head["uid"], created=head["created"], tally=Tally())
        restarted = head.get("restarted")
        self._state.restarted = restarted if isinstance(restarted, str) else None
        return same

    def _fold_listed(self, keys: list[str]) -> ExperimentState:
        """Every record of ``keys``, one listing of the whole experiment taken before the
        experiment record was read (:meth:`refresh`), not folded yet."""
        records = self.records
        assert self._state is not None
        self._vanished = False
        chunk_keys = [k for k in keys if k.startswith(records.snapshots_prefix()) and k.endswith(".json")]
        for key in chunk_keys[self._chunks:]:
            self._read_chunk(key, set(keys))
        self._chunks = len(chunk_keys)
        for key in keys:
            label = records.outcome_of(key)
            if label is not None and label not in self._state.outcomes:
                self._read_outcome(key, label)
        rounds = [k for k in keys if records.round_of(k) is not None and k not in self._folded]
        for key in rounds:
            self._read_and_fold(key, RecordKind.ROUND)
        for key in keys:
            if key not in self._folded and (typed := records.typed_record_of(key)) is not None:
                self._read_and_fold(key, typed[1].KIND)
        if self._vanished and not self._head_unchanged():  # before orphans: a round deleted under it is no damage
            return self.refresh()
        if self._pending:
            self._settle_orphans()
        return self._state

    def _head_unchanged(self) -> bool:
        """After a listed record was found gone as it was read (what a delete does, and nothing
        else): the experiment record read again. ExperimentPartlyDeleted when a delete has
        begun, ExperimentNotFound when it has ended; False when another experiment of the name
        was made since (the fold starts over), True when it is the same (the record went some
        other way, and is left out as before)."""
        records = self.records
        assert self._state is not None
        head = read_experiment_record(records)
        if head is None:
            raise ExperimentNotFound(f"experiment {records.experiment!r} in {records.store.uri} was deleted while it was read")
        if head.get("uid") == self._state.uid:
            return True
        self._state = None
        return False

    def _settle_orphans(self) -> None:
        """After a whole listing is folded, the trial records still waiting for their round.
        A round is written before any record of its trials, but a listing is no snapshot (S3
        lists a page at a time while others write): a round written after its page was listed
        may be missing from it while its trials' records, written later, are not. So the rounds
        are listed once more; a trial whose round is not there even then is damage (a round
        record deleted or lost), named once by its folder, which a user may remove as a whole.
        Left uncounted and unshown, its trial's budget was spent again by the next run, under a
        name already used."""
        records = self.records
        for key in records.store.list(records.rounds_prefix()):
            if records.round_of(key) is not None and key not in self._folded:
                self._read_and_fold(key, RecordKind.ROUND)
        damaged_round = any(records.round_of(key) is not None for key in self.damaged)
        for trial_name, keys in sorted(self._pending.items()):
            held = ", ".join(sorted(key.rsplit("/", 1)[-1] for key in keys.values()))
            missing = (
                f"the round record that made it is damaged or missing from {records.rounds_prefix()}: repair it, or restore it from a backup"
                if damaged_round
                else f"the round record that made it is missing from {records.rounds_prefix()} (lost, or deleted by hand): restore it from a backup"
            )
            problem = (
                f"trial {trial_name!r} has records ({held}) but no round record holds it; {missing}, or remove the trial's folder "
                "(the trial is then forgotten; its budget is spent again only if the experiment resumes)"
            )
            folder = records.trial_prefix(trial_name)
            if not self.lenient:
                raise DamagedRecord(folder, problem)
            self.damaged[folder] = problem

    def _read_outcome(self, key: str, label: str) -> None:
        """Fold in one recorded outcome; a damaged one is left out (the trials' records are the
        truth: the outcome is then decided from them again)."""
        state = self._state
        assert state is not None
        try:
            record = self.records.read(key, RecordKind.OUTCOME)
        except StoreError as exc:
            log.warning("outcome record %s ignored: %s", key, exc)
            return
        if record is None:
            self._vanished = True
            return
        if is_outcome(record):
            state.outcomes[label] = record
        else:
            log.warning("outcome record %s ignored: it is not an outcome (phase, reason, message, time)", key)

    def _read_and_fold(self, key: str, kind: str) -> None:
        """Read one record and fold it in; a damaged one raises, or in a lenient view is left out
        and listed in :attr:`damaged` (read again next time: it may have been repaired)."""
        try:
            record = self.records.read(key, kind)
            if record is not None:
                self._fold(key, record)
            else:
                self._vanished = True
        except UnreadableRecord as exc:  # damaged, or a newer kfp-tune's
            self._folded.pop(key, None)
            if not self.lenient:
                raise
            self.damaged[exc.key] = exc.problem
        else:
            self.damaged.pop(key, None)

    def _read_chunk(self, key: str, listed: set[str]) -> None:
        """A snapshot chunk's records, each only if its own key is still listed; a damaged chunk
        is ignored (the records it cached are read one by one instead)."""
        try:
            data = self.records.store.get(key)
            chunk = decode_record(data, key, RecordKind.SNAPSHOT) if data is not None else None
        except StoreError as exc:
            log.warning("snapshot chunk %s ignored: %s", key, exc)
            return
        self._vanished = self._vanished or data is None
        if chunk is None or not isinstance(chunk.get("records"), dict):
            return
        entries = sorted(chunk["records"].items(), key=lambda item: self.records.round_of(item[0]) is None)  # rounds first
        for record_key, record in entries:
            if record_key in listed and record_key not in self._folded and isinstance(record, dict):
                try:
                    self._fold(record_key, record)
                except (StoreError, KeyError, TypeError, ValueError) as exc:
                    log.warning("snapshot chunk %s: entry %s ignored (%s); reading the record itself", key, record_key, exc)
                    self._folded.pop(record_key, None)
                    continue
                self._chunked.add(record_key)

    def _fold(self, key: str, record: dict[str, Any]) -> None:
        state = self._state
        assert state is not None
        round_id = self.records.round_of(key)
        if round_id is not None:
            entries = round_entries(check_record(record, key, RecordKind.ROUND), key)  # all checked before any is folded
            self._check_assignments(key, entries)
            labels = round_labels(record, key)
            state.rounds[round_id] = record
            if record.get("exhausted"):
                state.exhausted_rounds += 1
                state.given_back_since_exhausted = False
            for (name, index, assignment), trial_labels in zip(entries, labels, strict=True):
                trial = TrialState(name=name, index=index, round=round_id, assignment=assignment, created=str(record["created"]), labels=trial_labels)
                if trial.name in state.by_name:
                    continue
                state.by_name[trial.name] = trial
                tally = state.tally
                assert tally is not None
                tally.counts[TrialStatus.CREATED.value] += 1
                tally.created.append(trial.name)
                tally.active[trial.name] = trial
                if state.trials and state.trials[-1].index > trial.index:
                    state.trials.append(trial)
                    state.trials.sort(key=lambda t: t.index)
                else:
                    state.trials.append(trial)
                self.damaged.pop(self.records.trial_prefix(trial.name), None)  # listed as held by no round before this one was read
                for pending_key in self._pending.pop(trial.name, {}).values():
                    self._attach_pending(pending_key)
            self._folded[key] = record
            return
        self._folded[key] = record
        self._attach(key, record)

    def _check_assignments(self, key: str, entries: list[tuple[str, int, dict[str, str]]]) -> None:
        """Each of a round's assignments is a point of the stored search space (exactly its
        parameters, each value one of its own), as the algorithm's were when the round was
        written: a value is handed to the trial's command, so one edited into the record (the
        store is shared: ``a; touch x #`` for a categorical ``[a, b]``) is damage, found before
        any trial of the round is claimed or started."""
        assert self._space is not None
        for position, (_, _, assignment) in enumerate(entries):
            problem = self._space.stored_problem(assignment)
            if problem is not None:
                raise DamagedRecord(key, f"trials[{position}].assignment is not a point of the experiment's search space: {problem}")

    def _attach_pending(self, key: str) -> None:
        """A trial record read before its round, attached now that the round is folded."""
        try:
            self._attach(key, self._folded[key])
        except UnreadableRecord as exc:
            self._folded.pop(key, None)
            if not self.lenient:
                raise
            self.damaged[exc.key] = exc.problem
        else:
            self.damaged.pop(key, None)

    def _attach(self, key: str, record: dict[str, Any]) -> None:
        state = self._state
        assert state is not None
        found = self.records.typed_record_of(key)
        assert found is not None, f"{key} is not a trial record"
        trial_name, kind = found
        trial = state.by_name.get(trial_name)
        if trial is None:
            self._pending.setdefault(trial_name, {})[kind.FILE] = key
            return
        typed = kind.from_record(check_record(record, key, kind.KIND), key)
        if typed.trial != trial_name:
            raise DamagedRecord(key, f"it is a record of trial {typed.trial!r}, not of {trial_name!r}")
        before = trial.status
        if isinstance(typed, TrialStarted):
            trial.started = typed
        elif isinstance(typed, TrialEnded):
            trial.ended = typed
        else:
            trial.result = typed
        self._retally(state, trial, before)

    @staticmethod
    def _retally(state: ExperimentState, trial: TrialState, before: TrialStatus) -> None:
        after = trial.status
        tally = state.tally
        if tally is None or after == before:
            return
        tally.counts[before.value] -= 1
        tally.counts[after.value] += 1
        if after.is_terminal:
            tally.finished.append(trial.name)
            tally.active.pop(trial.name, None)
            tally.given_back += trial.given_back
            state.given_back_since_exhausted = state.given_back_since_exhausted or trial.given_back
            objective = state.experiment.spec.objective
            value = state.objective_value(trial) if objective is not None else None
            if value is not None:
                best = tally.best.metrics.get(objective.objective_metric_name) if tally.best is not None and objective is not None else None
                minimize = objective is not None and objective.type == "minimize"
                better = best is None or (value < best if minimize else value > best)
                if better or (value == best and tally.best is not None and trial.index < tally.best.index):  # the first of equals
                    tally.best = trial
            elif value is None and state.better_text_trial(trial, tally.best):
                tally.best = trial

    # --- writes that fold at once --------------------------------------------------------

    def record_round(self, round_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Write a round record once and fold it; the stored one is returned (a retry's)."""
        key = self.records.round_key(round_id)
        with self.lock:
            self.state  # noqa: B018  (loaded first, so what is written is folded in, never re-read)
            if key in self._folded:
                return self._folded[key]
        record = self.records.write_once(key, RecordKind.ROUND, payload)
        with self.lock:
            if key not in self._folded:
                self._fold(key, record)
            self._maybe_snapshot()
        return record

    def record_trial(self, trial_name: str, typed: R) -> R:
        """Write one of a trial's write-once records and fold it; the stored one is returned."""
        key = self.records.trial_key(trial_name, typed.FILE)
        with self.lock:
            self.state  # noqa: B018  (loaded first, so what is written is folded in, never re-read)
        stored = self.records.create_typed(key, typed)
        with self.lock:
            if key not in self._folded:
                self._fold(key, {"kind": typed.KIND, "version": 1, **stored.to_payload()})
            self._maybe_snapshot()
        return stored

    def _maybe_snapshot(self) -> None:
        """Write a snapshot chunk once SNAPSHOT_CHUNK folded records are in none (best effort:
        a chunk that fails to write is written later, and the records stay the truth)."""
        unchunked = [k for k in self._folded if k not in self._chunked] if len(self._folded) - len(self._chunked) >= SNAPSHOT_CHUNK else []
        if len(unchunked) < SNAPSHOT_CHUNK:
            return
        batch = unchunked[:SNAPSHOT_CHUNK]
        seq = self._chunks
        key = self.records.snapshot_key(seq)
        try:
            stored = self.records.write_once(key, RecordKind.SNAPSHOT, {"records": {k: self._folded[k] for k in batch}})
        except StoreError as exc:
            log.warning("snapshot chunk %s not written (%s); the records are read one by one instead", key, exc)
            return
        self._chunks = seq + 1
        self._chunked.update(k for k in stored.get("records", {}) if k in self._folded)


STORED_SPEC_CHECKED = ("spec.parameters", "spec.objective")
"""The parts of a stored spec held to a given spec's rules when it is read (:func:`experiment_of`)."""


def experiment_of(head: dict[str, Any], key: str) -> Experiment:
    """The experiment an ``experiment.json`` holds; DamagedRecord naming the key if it cannot be
    read, or if its spec breaks a rule a given spec is held to (an edit by hand: ``max: "1e999"``)."""
    for name in ("uid", "created"):
        if not isinstance(head.get(name), str):
            raise DamagedRecord(key, f"{name!r} is {head.get(name)!r}, expected a string")
    if not isinstance(head.get("spec"), dict):
        raise DamagedRecord(key, "it holds no experiment spec")
    try:
        experiment = parse_experiment(head["spec"])
    except Exception as exc:  # stored data, not the user's input: any failure means damage
        raise DamagedRecord(key, f"its spec cannot be read ({type(exc).__name__}: {exc})") from None
    # the rules a given spec gets for what readers compute with (the search space's bounds, the
    # objective): a stored one was given so. Not the others: rules added since an older kfp-tune
    # stored a spec (a GPU request and limit, a random_state range) leave its experiment readable.
    problems = [p for p in validate_experiment(experiment) if p.path.startswith(STORED_SPEC_CHECKED)]
    if problems:
        shown = "; ".join(str(problem) for problem in problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        raise DamagedRecord(key, f"its spec is not valid ({shown})")
    return experiment


def load_state(records: ExperimentRecords) -> ExperimentState:
    """Fold every record of an experiment into its state. StoreError if it does not exist."""
    return ExperimentView(records).state
