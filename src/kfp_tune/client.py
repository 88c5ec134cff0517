"""``kfp_tune.Client``: what comes after a run starts, read from (and written to) the store.

Katib answers these from its API server (Experiment and Trial objects) and its DB manager
(metrics); kfp-tune keeps everything an experiment knows in its store (a local folder or S3), so
the client reads the store: list experiments, one experiment with Katib's status, wait for a
condition, the optimal trial, a trial's metrics (every step) and its log, edit the budget, and
delete an experiment's records. Only the log of a trial still running on a cluster is read from
Kubernetes, through the Kubernetes launcher's own log read.

Objects come back as :class:`KatibObject`: dicts with Katib's JSON names
(``experiment["status"]["currentOptimalTrial"]``) that also read as Katib's SDK models do
(``experiment.status.current_optimal_trial``). :mod:`kfp_tune.katib_client` puts Katib's
method and argument names on top.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from kfp_tune.core.errors import ExperimentNotFound, FieldError, InputError, KfpTuneError, SpecError, StoreError, masked_url, shown
from kfp_tune.core.interfaces import Store
from kfp_tune.core.records import DamagedRecord, ExperimentRecords, UnreadableRecord, left_out_warning, payload_of, utc_now
from kfp_tune.core.spec import API_VERSION, EDITABLE_FIELDS, TrialTemplate
from kfp_tune.core.state import (
    DELETING,
    TRIAL_NOT_CREATED,
    TRIAL_STALE,
    ExperimentState,
    ExperimentView,
    TrialState,
    deleting_mark,
    experiment_of,
    read_experiment_record,
)
from kfp_tune.core.validation import trial_log_names
from kfp_tune.core.vocabulary import OBJECTIVE_OR_NOTHING, CollectorKind, ExperimentPhase, RecordKind, TrialStatus

log = logging.getLogger(__name__)

CONDITIONS = tuple(condition.value for condition in ExperimentPhase)
"""The experiment conditions Katib's SDK waits for (Restarting: a completed experiment whose
budget was raised, until its next run)."""
EXPERIMENT_LABEL = "katib.kubeflow.org/experiment"
"""The label Katib puts on an experiment's trials."""
LOG_API_RETRY_SECONDS = 10.0
"""How long a log read keeps retrying an unreachable cluster: a reader, not a run, waits."""
LOGS_NEEDS = "list on pods and get on pods/log"
"""The RBAC a person reading a running trial's log needs in its namespace (the guide's RBAC paragraph says the same)."""
# edit_experiment_budget's arguments, and the spec fields they set
_BUDGET_FIELDS = tuple(zip(("max_trial_count", "parallel_trial_count", "max_failed_trial_count"), EDITABLE_FIELDS, strict=True))


def _budget_problem(error: FieldError, given: dict[str, int]) -> str:
    """One refusal of an edited budget, named by the argument the caller gave: a stored count the
    caller left alone that the new maxTrialCount now undercuts (Katib's validator.go,
    ValidateExperiment: maxFailedTrialCount and parallelTrialCount at most maxTrialCount) is said
    as the given argument's problem, with the argument that must come down too."""
    arguments = {field: arg for arg, field in _BUDGET_FIELDS}
    arg = arguments.get(error.path.removeprefix("spec."))
    if arg is None or arg in given:
        return f"{arg or error.path} ({error.path}): {error.message}"
    causes = ", ".join(f"{cause} (spec.{field}) {given[cause]}" for cause, field in _BUDGET_FIELDS if cause in given)
    return f"{causes}: the experiment's {error.path} is then too high ({error.message}); lower it too with {arg}"


_TRIAL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class ExperimentFailedError(KfpTuneError, RuntimeError):
    """The experiment Failed while a caller waited for another condition (a RuntimeError, as
    Katib's SDK raises)."""


class TrialNotFound(StoreError, InputError, RuntimeError):
    """No trial of that name (in that experiment, or in any experiment of the store); a
    RuntimeError too, as Katib's SDK raises."""


class NoLogYet(KfpTuneError):
    """The trial has no stored log yet and none could be read from where it runs, or none was
    ever kept (its launch died, it was never created, or it ended before its output was kept)."""


class KatibObject(dict[str, Any]):
    """A Katib API object: a dict with Katib's JSON field names, that also reads with the
    attribute names of Katib's SDK models (``status.current_optimal_trial.best_trial_name``),
    so code written against ``kubeflow.katib`` keeps working. As in those models, a field that
    is not set reads as None. :meth:`to_dict` gives plain dicts (for YAML)."""

    def __init__(self, data: Mapping[str, Any] | None = None):
        super().__init__({key: katib_value(value) for key, value in (data or {}).items()})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        for key in (json_name(name), name):
            if key in self:
                return self[key]
        return None

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


def json_name(name: str) -> str:
    """The JSON name of a Katib model's attribute (its ``attribute_map``: camelCase)."""
    first, *rest = name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def katib_value(value: Any) -> Any:
    """Mappings as KatibObjects, tuples as lists, and the vocabulary's str enums as the str
    they spell: a condition's ``type`` prints ``Succeeded``, as Katib's SDK gives it, and
    ``kfp_tune.core.template.kubernetes_yaml(obj.to_dict())`` writes a file kubectl and ``kfp-tune
    run`` read (``yaml.safe_dump`` leaves a text such as ``y`` or ``1e-3`` unquoted, which both read
    as a boolean or a number)."""
    if isinstance(value, Mapping) and not isinstance(value, KatibObject):
        return KatibObject(value)
    if isinstance(value, (list, tuple)):
        return [katib_value(item) for item in value]
    if isinstance(value, str) and type(value) is not str:
        return str(value)
    return value


def _plain(value: Any) -> Any:
    """Plain dicts and lists (a KatibObject's values are plain already, :func:`katib_value`)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def has_condition(experiment: Mapping[str, Any], condition: str) -> bool:
    """Whether the object's ``status.conditions`` hold ``condition`` with status True."""
    conditions = (experiment.get("status") or {}).get("conditions") or []
    return any(c.get("type") == condition and c.get("status") == "True" for c in conditions)


def _check_int(where: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{where}: {name} must be an integer, got {shown(value)}")
    return value


def checked_seconds(where: str, name: str, value: Any, positive: bool) -> float:
    """``value`` as seconds (a wait's ``timeout`` or ``polling_interval``), or a ValueError naming
    ``where`` and ``name``: a bool, NaN or a negative number is no time to wait."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (value > 0 if positive else value >= 0) or value != value:
        raise ValueError(f"{where}: {name} must be a number of seconds {'above' if positive else 'of at least'} 0, got {shown(value)}")
    return float(value)


class Client:
    """The experiments of one store: ``Client()`` for ``$KFP_TUNE_STORE`` or ``./kfp-tune-runs``,
    ``Client("s3://bucket/prefix")`` (endpoint and credentials from the environment, as every
    command takes them), ``Client("/path/to/folder")``.

    ``kubernetes_client``: a ``kubernetes.client.ApiClient`` to read the logs of trials running on
    a cluster (default: the in-cluster config, else ``~/.kube/config``, when there is one)."""

    def __init__(self, store: str | os.PathLike[str] | Store | None = None, kubernetes_client: Any = None):
        from kfp_tune.stores import is_store, open_store

        if store is None or isinstance(store, (str, os.PathLike)):
            self.store: Store = open_store(None if store is None else os.fspath(store))
        elif is_store(store):
            self.store = store
        else:  # refused here, not as an AttributeError at the first read
            raise TypeError(f"Client: store must be a URI, a folder, a Store object (kfp_tune.core.interfaces.Store) or None, got {shown(store)}")
        self._kubernetes_client = kubernetes_client
        self._warned_damaged: set[tuple[str, str]] = set()
        self._views: dict[str, ExperimentView] = {}
        """One view per experiment read, kept current by ``refresh``: a second look (a poll of
        ``wait_for_experiment_condition``, ``get_experiment`` again) reads the experiment record, a
        listing and the records written since, not every record again (a fresh view of 120 trials
        reads ~480; its records are write-once, so what was read stays true)."""
        self.kubernetes_factory: Callable[[], Any] | None = None
        """Builds the Kubernetes API client on first use, when none was given (KatibClient's
        ``config_file`` / ``context`` / ``client_configuration``)."""

    def __repr__(self) -> str:
        return f"kfp_tune.Client({self.store.uri!r})"

    # --- experiments --------------------------------------------------------------------------

    def experiment_names(self) -> list[str]:
        """The names of the experiments in the store, sorted."""
        return experiment_names(self.store)

    def list_experiments(self) -> list[KatibObject]:
        """Every experiment in the store, as :meth:`get_experiment` gives it, by name. One whose
        experiment record is damaged, or a folder named as no experiment is, is left out, with a
        warning in the log."""
        experiments, problems = self.list_experiments_and_problems()
        for name, problem in problems.items():
            log.warning("experiment %s left out: %s", name, problem)
        return experiments

    def list_experiments_and_problems(self, completed_as_saved: bool = False) -> tuple[list[KatibObject], dict[str, str]]:
        """(:meth:`list_experiments`, the experiments that could not be read: name -> why,
        with the folders no experiment can be read from, :func:`experiment_folders`).
        ``completed_as_saved`` (what ``kfp-tune list`` asks): a completed experiment is read from
        three records whatever its size (:meth:`completed_experiment`), its counts as saved when it
        completed; folding every one made a listing cost the sum of every experiment's size
        (36,674 keys listed and 9.8 MB read for three rows)."""
        names, misnamed = experiment_folders(self.store)
        found, problems = [], dict(misnamed)
        for name in names:
            try:
                found.append((self.completed_experiment(name) if completed_as_saved else None) or self.get_experiment(name))
            except ExperimentNotFound:
                continue  # deleted since it was listed
            except StoreError as exc:
                problems[name] = str(exc)
        return found, problems

    def completed_experiment(self, name: str) -> KatibObject | None:
        """The experiment as :meth:`get_experiment` gives it, from three records only (its
        experiment record, the outcome recorded under its current maxTrialCount, its saved
        status) when it has completed: its saved status is then the one a completed run wrote
        last, which a run changes no more (a run of it only reports it, rewriting it if stale; an
        edit of its budget rewrites it as Restarting). Its trial records are not read: a record
        damaged or removed by hand since it completed is not seen, and the counts are as saved
        (:meth:`get_experiment` and ``kfp-tune status`` read them now). None when it has not
        completed, or one of the three records is missing or unreadable: the caller folds it."""
        from kfp_tune.core.decision import katib_status
        from kfp_tune.core.state import experiment_of, is_outcome

        records = self._records(name)
        try:
            head = read_experiment_record(records)
            saved = records.read(records.status_key(), RecordKind.EXPERIMENT_STATUS) if head is not None else None
            status = saved.get("status") if saved is not None else None
            if head is None or not isinstance(status, dict) or status.get("phase") not in (ExperimentPhase.SUCCEEDED, ExperimentPhase.FAILED):
                return None
            outcome = records.read(records.outcome_key(experiment_of(head, records.experiment_key()).spec.max_trial_count), RecordKind.OUTCOME)
        except (UnreadableRecord, SpecError):
            return None
        if outcome is None or not is_outcome(outcome) or outcome.get("uid") != head.get("uid") or \
                (outcome["phase"], outcome["reason"]) != (status.get("phase"), status.get("reason")):
            return None
        return _experiment_object(name, head, katib_status(status))

    def get_experiment(self, name: str) -> KatibObject:
        """The experiment as Katib's API serves it: ``apiVersion``, ``kind``, ``metadata`` (with
        ``uid`` and ``creationTimestamp``), the stored ``spec`` (defaults applied) and ``status``
        (as ``kubectl get experiment -o json`` shows it). ExperimentNotFound if there is none.
        Damaged trial records are left out of the status (a warning in the log names them)."""
        from kfp_tune.reports import experiment_status

        records = self._records(name)
        head = read_experiment_record(records)
        if head is None:
            raise not_found(self.store, name)
        status, damaged = experiment_status(self.store, name, self._view(name))
        for key, problem in sorted(damaged.items()):
            if (key, problem) not in self._warned_damaged:  # once per record, however many calls read it
                self._warned_damaged.add((key, problem))
                log.warning("experiment %s: %s", name, left_out_warning(key, problem).removeprefix("warning: "))
        return _experiment_object(name, head, status)

    def get_experiment_conditions(self, name: str) -> list[KatibObject]:
        """The experiment's ``status.conditions`` (type, status, reason, message, times)."""
        return list(self.get_experiment(name).status.conditions or [])

    def wait_for_experiment_condition(
        self, name: str, condition: str = ExperimentPhase.SUCCEEDED.value, timeout: float = 600, polling_interval: float = 15,
        each_poll: Callable[[KatibObject | None], None] | None = None, told_timeout: float | None = None,
    ) -> KatibObject:
        """Poll the store until the experiment holds ``condition`` (Created, Running, Restarting,
        Succeeded or Failed); return the experiment then. An experiment that is not in the store
        yet (a pipeline whose first step has not run) is waited for too.

        ExperimentFailedError (a RuntimeError) when it Failed and ``condition`` is another;
        TimeoutError after ``timeout`` seconds, saying where it stands and whether a run drives
        it (an experiment that no run drives stays where it is). ``each_poll`` is given what each
        poll read (None while it is not there), before it is checked. ``told_timeout`` is the
        timeout the TimeoutError names when it is not ``timeout``: a caller that polls on Katib's
        schedule waits less than the timeout its user gave."""
        where = "wait_for_experiment_condition"
        if condition not in CONDITIONS:
            raise ValueError(f"{where}: condition must be one of {', '.join(CONDITIONS)}, got {shown(condition)}")
        limit = checked_seconds(where, "timeout", timeout, positive=False)
        interval = checked_seconds(where, "polling_interval", polling_interval, positive=True)
        self._records(name)
        deadline = time.monotonic() + limit
        while True:
            try:
                experiment: KatibObject | None = self.get_experiment(name)
            except ExperimentNotFound:
                experiment = None
            if each_poll is not None:
                each_poll(experiment)
            if experiment is not None:  # Failed first, as Katib's SDK looks: a Failed experiment was Created too
                if condition != ExperimentPhase.FAILED and has_condition(experiment, ExperimentPhase.FAILED.value):
                    raise ExperimentFailedError(f"experiment {name!r} Failed while waiting for {condition}: {_standing(experiment)}")
                if has_condition(experiment, condition):
                    return experiment
            left = deadline - time.monotonic()
            if left <= 0:
                standing = _standing(experiment) if experiment is not None else f"it is not in {self.store.uri} (yet)"
                told = limit if told_timeout is None else told_timeout
                raise TimeoutError(f"experiment {name!r} did not reach {condition} within {told:g} s: {standing}{self._driver(name)}")
            time.sleep(min(interval, left))

    def _driver(self, name: str) -> str:
        """Which run drives the experiment now, for a message (``"; ..."``)."""
        from kfp_tune.reports import NO_RUN_DRIVES, driving_run

        try:
            running = driving_run(self._records(name).store, name)
        except StoreError:
            return ""
        if running is None:
            return f"; {NO_RUN_DRIVES}"
        return f"; {running} drives it" if running else ""

    def get_optimal_hyperparameters(self, name: str) -> KatibObject | None:
        """The best trial so far, as Katib's ``currentOptimalTrial``: ``bestTrialName``,
        ``parameterAssignments`` (name, value) and ``observation.metrics`` (name, min, max,
        latest); None while no trial has reported the objective."""
        optimal = self.get_experiment(name).status.current_optimal_trial
        if not optimal or not (optimal.observation or {}).get("metrics"):
            return None
        return KatibObject(optimal)

    def edit_experiment_budget(
        self, name: str, max_trial_count: int | None = None, parallel_trial_count: int | None = None, max_failed_trial_count: int | None = None
    ) -> KatibObject:
        """Change the experiment's budget in the store; returns the experiment as it is then.

        Katib's rules decide what may change: the new spec is validated as Katib's webhook does
        (counts above 0, maxFailedTrialCount and parallelTrialCount at most maxTrialCount),
        maxTrialCount must be above the trials the experiment has (whichever count changes: a
        parallel_trial_count alone is refused at maxTrialCount 3 with 3 trials), and a completed experiment
        restarts only when it succeeded by reaching maxTrialCount under resumePolicy
        LongRunning or FromVolume (the stored one). A completed experiment that may restart is
        marked Running (reason ``ExperimentRestarting``) until a run resumes it.

        A run that drives the experiment follows the edit, as Katib's controller does: a run in
        one process (``kfp-tune run --engine inline``, ``tune()``) as each trial ends
        (maxTrialCount, maxFailedTrialCount; a raised parallelTrialCount starts more trials then,
        a lowered one starts none until fewer run), a pipeline at its next checkpoint. A later run given the same spec as the run before it (the
        same YAML file, ``tune()`` call) keeps the edit, as ``kubectl apply`` of the same YAML
        does; a spec whose budget changed since its last run sets that budget."""
        from kfp_tune.core.decision import RESTARTING, Decision, best_trial, count_trials, decide
        from kfp_tune.core.errors import ExperimentConflict
        from kfp_tune.core.loading import load_experiment
        from kfp_tune.core.records import utc_now
        from kfp_tune.core.state import load_state
        from kfp_tune.core.vocabulary import ExperimentPhase
        from kfp_tune.steps.decide_stop import write_status
        from kfp_tune.steps.prepare import init_experiment

        where = "edit_experiment_budget"
        given = {arg: value for arg, value in zip(
            (a for a, _ in _BUDGET_FIELDS), (max_trial_count, parallel_trial_count, max_failed_trial_count), strict=True) if value is not None}
        if not given:
            raise ValueError(f"{where}: nothing to change; give max_trial_count, parallel_trial_count or max_failed_trial_count")
        for arg, value in given.items():
            _check_int(where, arg, value)
        records = self._records(name)
        head = read_experiment_record(records)
        if head is None:
            raise not_found(self.store, name)
        state = load_state(records)  # strict: a damaged experiment is refused, as a run refuses it
        document = copy.deepcopy(head["spec"])
        spec = document.setdefault("spec", {})
        before = {field: spec.get(field) for _, field in _BUDGET_FIELDS}
        for arg, field in _BUDGET_FIELDS:
            if arg in given:
                spec[field] = given[arg]
        try:
            edited = load_experiment(document)
        except SpecError as exc:
            raise InputError(f"{where}: " + "; ".join(_budget_problem(e, given) for e in exc.errors)) from None
        new_max, used = edited.spec.max_trial_count, state.budget_used
        was_finished = decide(state, rounds_left=1).finished
        # Katib's validator.go refuses any change of the spec while maxTrialCount is at or below
        # status.trials ("must be greater than status.trials count"), whichever budget changed;
        # a completed experiment is told first whether it may restart at all (init_experiment)
        if any(before[field] != spec.get(field) for _, field in _BUDGET_FIELDS) and new_max is not None and new_max <= used:
            if new_max != before["maxTrialCount"]:
                raise InputError(
                    f"{where}: max_trial_count (spec.maxTrialCount): experiment {name!r} has {used} trial(s); expected more than "
                    f"{used}, got {new_max} (Katib refuses a maxTrialCount at or below the trials an experiment has)"
                )
            if not was_finished:
                causes = ", ".join(f"{arg} (spec.{field}) {given[arg]}" for arg, field in _BUDGET_FIELDS if arg in given)
                raise ExperimentConflict(  # valid values the experiment cannot take while its maxTrialCount is used up
                    f"{where}: {causes}: experiment {name!r} has {used} trial(s) and its maxTrialCount is {new_max}; Katib changes an "
                    f"experiment's budget only with a maxTrialCount above its trials: raise it too with max_trial_count (more than {used})"
                )
        # a budget the spec leaves out (most leave out maxFailedTrialCount) is None before and after
        changes = ", ".join(f"{field} {before[field]} -> {spec.get(field)}" for _, field in _BUDGET_FIELDS if before[field] != spec.get(field))
        try:
            # the resume rules a run follows (a completed experiment restarts only as Katib's
            # would), written only if no other edit changed the record since `head` was read
            init_experiment(records, edited, edited_from=head)
        except ExperimentConflict as exc:
            raise ExperimentConflict(f"{where}: {exc}") from None
        if was_finished and changes:
            fresh = load_state(records)
            decision = Decision(
                ExperimentPhase.RUNNING, RESTARTING,
                f"Experiment is restarting: its budget was edited ({changes}); the next run of its stored spec resumes it",
                best_trial(fresh), count_trials(fresh),
            )
            write_status(records, fresh, decision, utc_now())
        elif changes and not _driven(records):
            # a run that ended between the checks above and the write (its last look at the
            # budget came first) left a status decided under the old budget: the new one decides
            fresh = load_state(records)
            stored = records.read(records.status_key(), "ExperimentStatus")
            phase = ((stored or {}).get("status") or {}).get("phase")
            decision = decide(fresh, rounds_left=0)
            if phase in (ExperimentPhase.SUCCEEDED, ExperimentPhase.FAILED) and not decision.finished:
                write_status(records, fresh, decision, utc_now())
        return self.get_experiment(name)

    def delete_experiment(self, name: str, confirm: bool = False) -> int:
        """Delete the experiment from the store: every record (``experiments/NAME/``) and every
        artifact file (``artifacts/NAME/``: the inputs its trials read, the models they saved),
        never another experiment's, whatever their names; returns how many were deleted
        (:func:`experiment_keys` tells the two apart). Cannot be undone, so ``confirm=True`` is
        required. Refused while a run drives the experiment. Trial resources a killed run left
        on a cluster are not touched (``kfp-tune cleanup``)."""
        from kfp_tune.core import claims

        records = self._records(name)
        keys, artifacts = experiment_keys(self.store, records)
        if not keys and not artifacts:
            raise not_found(self.store, name)
        if confirm is not True:
            raise InputError(
                f"delete_experiment: deleting experiment {name!r} ({len(keys)} record(s) and {len(artifacts)} artifact file(s) in {self.store.uri}) "
                "cannot be undone; pass confirm=True"
            )
        with contextlib.suppress(DamagedRecord):  # a damaged claim stops every run: none drives the experiment
            claims.refuse_if_busy(records, claims.STOP_FIRST)
        head = records.experiment_key()
        try:
            stored = records.read(head, RecordKind.EXPERIMENT) if head in keys else None
        except UnreadableRecord:  # damaged, or a newer kfp-tune's: deleted all the same, unmarked
            stored = None
        if stored is not None and not stored.get(DELETING):  # first: one stopped half-way is read as partly deleted, not as live
            records.write(head, RecordKind.EXPERIMENT, {**payload_of(stored), **deleting_mark(utc_now())})
        try:  # the artifacts first and the experiment record last: one stopped half-way is still listed, and deleted again
            delete_keys(self.store, artifacts + [key for key in keys if key != head] + [key for key in keys if key == head])
        except StoreError as exc:
            if stored is None or isinstance(exc, ExperimentNotFound):
                raise
            raise StoreError(  # the mark stays: every reader refuses the experiment until a delete ends, which the user must know
                f"{exc}; experiment {name!r} is left marked partly deleted (every command and run refuses it): once this is fixed, run "
                f"kfp-tune delete {name} --yes (Client.delete_experiment(name, confirm=True)) again to finish it",
                transient=exc.transient,
            ) from None
        return len(keys) + len(artifacts)

    # --- trials --------------------------------------------------------------------------------

    def list_trials(self, name: str) -> list[KatibObject]:
        """The experiment's trials as Katib's Trial objects (metadata, ``spec.parameterAssignments``,
        ``status.conditions`` and ``status.observation``), in the order they were created."""
        state = self._state(name)
        return [_katib_trial(state, trial) for trial in state.trials]

    def get_trial(self, trial: str | tuple[str, str]) -> KatibObject:
        """One trial as Katib's Trial object (see :meth:`list_trials`)."""
        _, state, found = self._trial(trial)
        return _katib_trial(state, found)

    def get_trial_metrics(self, trial: str | tuple[str, str], with_time: bool = False) -> list[dict[str, Any]]:
        """Every value the trial reported, in the order reported: ``{"name", "value", "step"}``
        (``step``: the report's step, or its place among that metric's reports; None when a
        Push report gave none). Read as the experiment's metrics collector reads them: from the
        trial's log (StdOut), its metrics files (File, TensorFlowEvent) or its reports (Push).
        A MetricsUnavailable trial's are Katib's: its objective's ``unavailable``, alone for the
        StdOut, File and TensorFlowEvent collectors, after its reports for Push; a Custom or
        PrometheusMetric collector's as read. ``trial``: its name, or ``(experiment, trial)``.
        ``with_time``: each also has ``"time_us"``, the time the trial gave the value (a TEXT
        line's leading RFC 3339 time, a JSON line's ``timestamp``, an event's wall time) in
        microseconds since 1970, or None where it gave none (a Push report, a line without one)."""
        from kfp_tune.collectors import collector_for
        from kfp_tune.core.decision import UNAVAILABLE

        records, state, found = self._trial(trial)
        collected = collector_for(state.experiment)(records, state.experiment, found)
        timed: dict[str, Any] = {"time_us": None} if with_time else {}
        reported = [
            {"name": m.name, "value": m.text if m.text is not None else m.value, "step": m.step, **({"time_us": m.time_us} if with_time else {})}
            for m in collected
        ]
        objective, kind = state.experiment.spec.objective, state.experiment.spec.collector_kind
        if found.status != TrialStatus.METRICS_UNAVAILABLE or objective is None:
            return reported
        # what Katib's observation log holds for it: the objective's "unavailable", alone where the
        # collector reports nothing else then (OBJECTIVE_OR_NOTHING), after a Push trial's reports
        # (its controller's reportUnavailableMetrics); a Custom collector's reports as they are
        unavailable = {"name": objective.objective_metric_name, "value": UNAVAILABLE, "step": None, **timed}
        if kind in OBJECTIVE_OR_NOTHING:
            return [unavailable]
        return [*reported, unavailable] if kind == CollectorKind.PUSH else reported

    def get_trial_logs(self, trial: str | tuple[str, str], container: str | None = None, namespace: str | None = None) -> str:
        """The trial's log (its primary container's output; ``container`` names another one the
        store keeps, such as a Custom collector's). Stored when the trial ends, wherever it ran;
        for a trial still running on a Kubernetes cluster it is read from its primary pod, in
        ``namespace`` (default: the one the trial recorded it ran in, else the experiment's
        ``metadata.namespace``, else the one this process runs in, else ``default``). NoLogYet
        when there is none to read yet, or none was kept (a trial that ended before it printed
        anything: killed, or its run interrupted)."""
        stored = self._stored_log(trial, container)
        if stored is not None:
            return stored
        records, state, found = self._trial(trial)
        return self._log(records, state, found, container, namespace)

    def each_trial_log(
        self, name: str, status: Iterable[str] | None = None, container: str | None = None, namespace: str | None = None
    ) -> Iterator[tuple[KatibObject, str | NoLogYet]]:
        """Each trial's log, in the order created, beside the trial as :meth:`get_trial` gives
        it: every trial's, or only of those whose condition is one of ``status`` (Katib's trial
        conditions: Succeeded, Failed, ...). One look at the experiment, then one read per log
        (:meth:`get_trial_logs` for each trial would look it up each time). A trial with no log
        to read yet comes with its NoLogYet in place of the text, so the others still come;
        ``container`` and ``namespace`` as in :meth:`get_trial_logs`."""
        wanted = None if status is None else trial_statuses("status", status)
        records = self._records(name)
        state = self._state(name)
        for found in list(state.trials):
            if wanted is not None and found.status not in wanted:
                continue
            try:
                text: str | NoLogYet = self._log(records, state, found, container, namespace)
            except NoLogYet as exc:
                text = exc
            yield _katib_trial(state, found), text

    def _stored_log(self, trial: str | tuple[str, str], container: str | None) -> str | None:
        """The trial's stored log read by its key, which only the experiment record is needed
        for: two reads whatever the experiment's size. None where there is none to read so (not
        stored yet, a name that is not valid, no such experiment): the trial is looked up then."""
        if isinstance(trial, tuple) and len(trial) == 2 and isinstance(trial[0], str):
            experiment, name = trial
            experiments = [experiment] if _valid_experiment_name(experiment) else []
        elif isinstance(trial, str):
            name, experiments = trial, _experiments_named_in(trial)
        else:
            return None
        if not _valid_trial_name(name):
            return None
        for experiment in experiments:
            records = ExperimentRecords(self.store, experiment)
            try:
                head = read_experiment_record(records)
                template = experiment_of(head, records.experiment_key()).spec.trial_template if head is not None else None
                if template is None:
                    continue
                text = _read_log(records, name, _log_names(template, container))
            except StoreError:  # damaged, unreadable, or a container name that is not valid: the lookup says so
                return None
            if text is not None:
                return text
        return None

    def _log(self, records: ExperimentRecords, state: ExperimentState, found: TrialState, container: str | None, namespace: str | None) -> str:
        """A trial's log (see :meth:`get_trial_logs`), the trial already found."""
        template = state.experiment.spec.trial_template
        assert template is not None
        names = _log_names(template, container)
        text = _read_log(records, found.name, names)
        if text is not None:
            return text
        if container and container not in _log_names(template, None):
            kept = sorted(Path(key).stem for key in self.store.list(records.logs_prefix(found.name)))
            raise InputError(f"container: trial {found.name!r} has no log of container {container!r}; its logs: {', '.join(kept) or 'none yet'}")
        if found.ended is not None:
            if found.ended.reason in (TRIAL_STALE, TRIAL_NOT_CREATED):  # nothing followed it to its end, or nothing ran
                raise NoLogYet(f"trial {found.name!r} has no log: it ended {found.ended.reason}: {found.ended.message}")
            raise NoLogYet(_kept_no_log(found))
        if found.started is None:
            raise NoLogYet(f"trial {found.name!r} has not started yet ({found.status}): it has no log")
        from_cluster, why = self._cluster_log(state, found, namespace)
        if from_cluster is not None:
            return from_cluster
        raise NoLogYet(f"trial {found.name!r} is running; its log is stored when it ends ({why})")

    def _cluster_log(self, state: ExperimentState, trial: TrialState, namespace: str | None) -> tuple[str | None, str]:
        """(The running trial's log from its primary pod, or None; why there is none.)"""
        template = state.experiment.spec.trial_template
        assert template is not None and template.trial_spec is not None
        if str(template.trial_spec.get("apiVersion", "")).startswith("kfp-tune.kubeflow.org/"):
            return None, "it runs in the process that runs the experiment"
        api = self._kubernetes_api()
        if api is None:
            return None, "a trial run on this machine keeps its output until then, and no Kubernetes cluster is configured to read a pod's log from"
        from kfp_tune.core.trials import trial_run
        from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher
        from kfp_tune.launchers.kubernetes.launcher import PersonsCall

        # where the trial recorded it ran (the launcher config's namespace), as cleanup goes: a
        # Katib example's metadata.namespace (kubeflow) run with launcher_config namespace team-a
        recorded = trial.started.cluster_namespace if trial.started is not None else None
        config = KubernetesConfig.from_dict(
            {"namespace": namespace or recorded or state.experiment.metadata.namespace or "", "apiRetrySeconds": LOG_API_RETRY_SECONDS})
        launcher = KubernetesLauncher(config, api_client=api)
        launcher.persons_call = PersonsCall("kfp-tune logs", LOGS_NEEDS)  # a 403 is the person's, not the run's service account's
        run = trial_run(state.experiment, trial, config.namespace)
        try:
            logs = launcher.trial_logs(run)
        except KfpTuneError:
            raise
        except Exception as exc:  # the API refused or could not be reached
            raise KfpTuneError(f"trial {trial.name!r}: its log could not be read from namespace {config.namespace!r}: {type(exc).__name__}: {str(exc)[:300]}") from None
        text = logs.get(trial_log_names(run.manifest, run.primary_container)[0])
        return text, f"no pod of it runs in namespace {config.namespace!r}, or its container has not started"

    def _kubernetes_api(self) -> Any:
        """The Kubernetes API client: the one given, else the in-cluster or kubeconfig one;
        None when none is configured."""
        if self._kubernetes_client is None and self.kubernetes_factory is not None:
            self._kubernetes_client = self.kubernetes_factory()
        if self._kubernetes_client is None:
            try:
                from kubernetes import client, config
            except ImportError:
                return None
            try:
                config.load_incluster_config()
            except config.ConfigException:
                try:
                    config.load_kube_config()
                except (config.ConfigException, OSError, TypeError):
                    return None
            self._kubernetes_client = client.ApiClient()
        return self._kubernetes_client

    # --- reading -------------------------------------------------------------------------------

    def _records(self, name: str) -> ExperimentRecords:
        from kfp_tune.core.validation import name_problem

        if not isinstance(name, str):
            raise TypeError(f"experiment name must be a string, got {shown(name)}")
        problem = name_problem(name)
        if problem is not None:
            raise InputError(f"experiment name: {problem}")
        return ExperimentRecords(self.store, name)

    def _view(self, name: str, trial: str | None = None) -> ExperimentView:
        """The experiment's lenient view, current as of this call (``_views``); with ``trial``,
        current for that trial (``ExperimentView.refresh_trial``: a lookup of one trial costs
        the same whatever the experiment's size, once the view is built)."""
        view = self._views.get(name) if isinstance(name, str) else None  # another type is refused by _records
        if view is None:
            view = ExperimentView(self._records(name), lenient=True)
            try:
                view.state  # noqa: B018  (read now: a missing experiment raises here, and is not kept)
            except ExperimentNotFound:
                raise not_found(self.store, name) from None
            self._views[name] = view
        elif trial is None:
            view.refresh()
        else:
            view.refresh_trial(trial)
        return view

    def _state(self, name: str, trial: str | None = None) -> ExperimentState:
        view = self._view(name, trial)
        state = view.state
        for key, problem in sorted(view.damaged.items()):
            if (key, problem) not in self._warned_damaged:  # once per record, however many calls read it
                self._warned_damaged.add((key, problem))
                log.warning("experiment %s: %s", name, left_out_warning(key, problem).removeprefix("warning: "))
        return state

    def _trial(self, trial: str | tuple[str, str]) -> tuple[ExperimentRecords, ExperimentState, TrialState]:
        """(records, state, trial) of a trial given by name, or as (experiment, trial)."""
        if isinstance(trial, tuple) and len(trial) == 2:
            experiment, name = trial
            _check_trial_name(name)
            state = self._state(experiment, name)
            found = state.by_name.get(name)
            if found is None:
                names = [t.name for t in state.trials]
                listed = ", ".join(names[:10]) + (f", ... ({len(names)} in all)" if len(names) > 10 else "")
                raise TrialNotFound(f"experiment {experiment!r} has no trial {name!r}; its trials: {listed or 'none yet'}")
            return ExperimentRecords(self.store, experiment), state, found
        if not isinstance(trial, str):
            raise TypeError(f"trial must be a trial name or (experiment name, trial name), got {shown(trial)}")
        _check_trial_name(trial)
        # Katib's SDK asks for the trial by name alone (katib_client.py get_trial_metrics: one
        # GetObservationLog naming it). Trials are named <experiment>-<suffix>, so the experiments
        # the name starts with are asked first, each for that trial only; the store is listed
        # for the others only when none of those has it
        likely = _experiments_named_in(trial)

        def candidates() -> Iterator[str]:
            yield from likely
            yield from (n for n in self.experiment_names() if n not in likely)

        for experiment in candidates():
            try:
                state = self._state(experiment, trial)
            except StoreError:
                continue
            if trial in state.by_name:
                return ExperimentRecords(self.store, experiment), state, state.by_name[trial]
        raise TrialNotFound(f"no trial {trial!r} in any experiment in {self.store.uri}")


def _kept_no_log(trial: TrialState) -> str:
    """Why an ended trial has no stored log, with its status and reason: an empty log would
    be there had its output been kept, so a bare nothing (exit 0, no word) hid that it was not."""
    reason = trial.result.reason if trial.result is not None else trial.ended.reason if trial.ended is not None else ""
    return (
        f"trial {trial.name!r} ({trial.status.value}{': ' + reason if reason else ''}) kept no log: a trial stopped before it printed anything "
        "(killed, or its run interrupted) keeps none, nor does one whose output went with its process or pod before it was stored"
    )


def _log_names(template: TrialTemplate, container: str | None) -> tuple[str, ...]:
    """The names a trial's log asked for may be kept under: the trial's own (``trial_log_names``:
    a TrainJob's under ``node``, or under the name written as kfp-tune kept it before) when
    ``container`` is left out or names it, else ``container``'s alone."""
    own = trial_log_names(template.trial_spec, template.primary_container_name)
    return own if not container or container in own else (container,)


def _read_log(records: ExperimentRecords, trial: str, names: tuple[str, ...]) -> str | None:
    """The first log kept under one of ``names``; None where none is."""
    for name in names:
        text = records.read_text(records.log_key(trial, name))
        if text is not None:
            return text
    return None


def _valid_trial_name(name: Any) -> bool:
    return isinstance(name, str) and _TRIAL_NAME.match(name) is not None and ".." not in name


def _check_trial_name(name: Any) -> None:
    if not _valid_trial_name(name):
        raise InputError(f"trial name: expected a trial's name (letters, digits, '-', '.' or '_'), got {shown(name)}")


def _valid_experiment_name(name: str) -> bool:
    from kfp_tune.core.validation import name_problem

    return name_problem(name) is None


def _experiments_named_in(trial: str) -> list[str]:
    """The experiment names a trial's name starts with (``<experiment>-<suffix>``), longest
    first: ``a-b-k2x9wq1z`` may be a trial of ``a-b`` or of ``a``."""
    ends = [i for i, char in enumerate(trial) if char == "-" and i > 0]
    return [trial[:i] for i in reversed(ends) if _valid_experiment_name(trial[:i])]


def trial_statuses(where: str, values: Iterable[str]) -> set[TrialStatus]:
    """Katib's trial conditions (``Succeeded``, ``Failed``, ...: ``TrialStatus``) named by
    ``values``, in any case; InputError naming ``where`` and the conditions there are for any
    other value."""
    by_lower = {status.value.lower(): status for status in TrialStatus}
    chosen: set[TrialStatus] = set()
    for value in [values] if isinstance(values, str) else values:
        found = by_lower.get(value.lower()) if isinstance(value, str) else None
        if found is None:
            raise InputError(f"{where}: expected a trial status, one of {', '.join(s.value for s in TrialStatus)}; got {shown(value)}")
        chosen.add(found)
    return chosen


def _driven(records: ExperimentRecords) -> bool:
    """Whether a run drives the experiment now (a damaged claim: none can)."""
    from kfp_tune.core import claims

    try:
        current = claims.latest_claim(records)
    except DamagedRecord:
        return False
    return current is not None and current.live(time.time())


def experiment_phase(experiment: Mapping[str, Any]) -> tuple[str, str, str]:
    """(phase, reason, message) of an experiment, from its conditions: the last that holds."""
    conditions = (experiment.get("status") or {}).get("conditions") or []
    holding = [c for c in conditions if c.get("status") == "True" and c.get("type") != ExperimentPhase.CREATED]
    last = holding[-1] if holding else (conditions[0] if conditions else {})
    return str(last.get("type", ExperimentPhase.CREATED.value)), str(last.get("reason", "")), str(last.get("message", ""))


def best_objective(experiment: Mapping[str, Any]) -> float | None:
    """The optimal trial's objective value, after the objective's metric strategy (min, max or
    latest of what it reported, as Katib reads it)."""
    objective = (experiment.get("spec") or {}).get("objective") or {}
    name = objective.get("objectiveMetricName")
    strategies = {s.get("name"): s.get("value") for s in objective.get("metricStrategies") or []}
    default = "min" if objective.get("type") == "minimize" else "max"
    optimal = (experiment.get("status") or {}).get("currentOptimalTrial") or {}
    for metric in (optimal.get("observation") or {}).get("metrics") or []:
        if metric.get("name") == name:
            try:
                return float(metric.get(strategies.get(name) or default))
            except (TypeError, ValueError):
                return None
    return None


def _standing(experiment: Mapping[str, Any]) -> str:
    """Where an experiment stands, for a message."""
    phase, reason, message = experiment_phase(experiment)
    return f"it is {phase} ({reason}: {message})"


def _katib_trial_spec_from_experiment(state: ExperimentState, trial: TrialState) -> dict[str, Any]:
    """What Katib's controller copies from the Experiment into each Trial's spec
    (experiment_controller_util.go, ``createTrialInstance``): the objective, the metrics
    collector, the template's retain, primary pod labels and success / failure conditions, and
    ``runSpec``, the trial template rendered with the trial's parameters as it was run (in the
    experiment's namespace; left out for a template kept in a ConfigMap, which the store does
    not hold)."""
    from kfp_tune.core.trials import render_trial, trial_namespace

    experiment = state.experiment
    copied: dict[str, Any] = {}
    if experiment.spec.objective is not None:
        copied["objective"] = experiment.spec.objective.to_dict()
    if experiment.spec.metrics_collector_spec is not None:
        copied["metricsCollector"] = experiment.spec.metrics_collector_spec.to_dict()
    template = experiment.spec.trial_template
    if template is None:
        return copied
    if template.retain:
        copied["retainRun"] = True
    if template.primary_pod_labels:
        copied["primaryPodLabels"] = dict(template.primary_pod_labels)
    if template.success_condition and template.failure_condition:
        copied["successCondition"], copied["failureCondition"] = template.success_condition, template.failure_condition
    if template.trial_spec is not None:
        copied["runSpec"] = render_trial(experiment, trial, trial_namespace(experiment))
    return copied


def _trial_condition(kind: str, holds: str, reason: str, message: str, time: str) -> dict[str, Any]:
    """A Trial condition as Katib's ``newCondition`` makes it (pkg/apis/controller/trials/v1beta1/
    util.go): its last update and its last transition both at ``time``, when it was set (no
    later update of it is recorded)."""
    return {"type": kind, "status": holds, "reason": reason, "message": message, "lastUpdateTime": time, "lastTransitionTime": time}


def _katib_trial(state: ExperimentState, trial: TrialState) -> KatibObject:
    """A trial as Katib's Trial object, from its records."""
    from kfp_tune.core.decision import observation_metrics
    from kfp_tune.reports import katib_stop_rules

    template = state.experiment.spec.trial_template
    metadata: dict[str, Any] = {"name": trial.name, "labels": {EXPERIMENT_LABEL: state.name}, "creationTimestamp": trial.created}
    if state.experiment.metadata.namespace:
        metadata["namespace"] = state.experiment.metadata.namespace
    conditions = [_trial_condition("Created", "True", "TrialCreated", "Trial is created", trial.created)]
    if trial.started is not None:  # set False as the trial ends (Katib's Mark...Succeeded / Failed / Killed)
        ended = trial.result.time if trial.result is not None else None
        conditions.append(_trial_condition("Running", "False" if ended else "True", "TrialRunning", "Trial is running", ended or trial.started.time))
    status: dict[str, Any] = {"conditions": conditions}
    if trial.started is not None:
        status["startTime"] = trial.started.time
    if trial.result is not None:
        conditions.append(_trial_condition(str(trial.status), "True", trial.result.reason, trial.result.message, trial.result.time))
        status["completionTime"] = trial.result.time
    if trial.status.observed:  # Katib: when the job succeeded or stopped early; none for a Failed or Killed trial
        # Katib's getMetrics (trial_controller_util.go): an entry for every metric it collects,
        # "unavailable" where none was reported, a text value (darts' genotype) as latest only
        objective = state.experiment.spec.objective
        status["observation"] = {"metrics": observation_metrics(trial, objective.metric_names if objective is not None else [])}
    spec: dict[str, Any] = {
        "parameterAssignments": [{"name": k, "value": v} for k, v in state.in_spec_order(trial).items()],  # Katib's: the search space's order
        "primaryContainerName": template.primary_container_name if template is not None else "",
    }
    spec.update(_katib_trial_spec_from_experiment(state, trial))
    rules = katib_stop_rules(trial)
    if rules:  # Katib leaves the field out when there is none (omitempty)
        spec["earlyStoppingRules"] = rules
    return KatibObject({"apiVersion": API_VERSION, "kind": "Trial", "metadata": metadata, "spec": spec, "status": status})


# --- the store: names and deletes ------------------------------------------------------------------


CLOSE_NAMES = 3
"""At most this many experiment names suggested for a name not in the store."""


def not_found(store: Store, name: str) -> ExperimentNotFound:
    """``no experiment NAME in STORE``, with the store's closest names (a mistyped name), as a
    mistyped trial lists the experiment's trials: one wording for the CLI and the clients. Where
    the store holds the experiments a recurring run with a fresh experiment per run made of
    NAME, it names them first (:func:`fresh_per_run_names`)."""
    import difflib

    names = experiment_names(store)
    where = f"no experiment {name!r} in {masked_url(store.uri)}"
    fresh = fresh_per_run_names(store, name, names)
    close = difflib.get_close_matches(name, [other for other in names if other not in fresh], n=CLOSE_NAMES)
    did_you_mean = f"; did you mean: {', '.join(close)}?" if close else ""
    if not fresh:
        return ExperimentNotFound(where + did_you_mean)
    shown_names = ", ".join(fresh[:CLOSE_NAMES]) + (f" and {len(fresh) - CLOSE_NAMES} more" if len(fresh) > CLOSE_NAMES else "")
    return ExperimentNotFound(
        f"{where}; it holds {len(fresh)} experiment{'s' if len(fresh) > 1 else ''} named {name}-<6 characters>: {shown_names}. "
        f"A recurring run with a fresh experiment per run (--fresh-experiment) tunes one such experiment per run, named after a "
        f"hash of the run's id (each run's suggest step logs its name); kfp-tune list shows them all" + did_you_mean
    )


def fresh_per_run_names(store: Store, name: str, names: Iterable[str]) -> list[str]:
    """The experiments among ``names`` that runs of a recurring run with a fresh experiment per
    run made of ``name``, which no "did you mean" finds for a short name: named as
    :func:`~kfp_tune.core.naming.per_run_experiment_name` names them (the name, then six
    characters of a hash of the run id) and tuned by that run (its ``runs/`` records name the
    run whose id the suffix hashes). The shape alone would take a hand-named ``digits-random``
    for one. One listing of ``runs/`` and a read or two for each name of that shape."""
    from kfp_tune.core.naming import per_run_experiment_name

    prefix = per_run_experiment_name(name, "")[:-6]
    shaped = [other for other in names if re.fullmatch(re.escape(prefix) + "[0-9a-z]{6}", other)]
    return [other for other in shaped if any(per_run_experiment_name(name, run) == other for run in _runs_named(store, other))]


def _runs_named(store: Store, experiment: str) -> Iterator[str]:
    """The run ids the experiment's run records name (its claims, its pipeline calls), read one
    at a time; a record that cannot be read names none."""
    records = ExperimentRecords(store, experiment)
    calls = f"{records.runs_prefix()}calls/"
    for key in sorted(store.list(records.runs_prefix())):
        kind = RecordKind.RUN_CLAIM if records.claim_seq_of(key) is not None else RecordKind.RUN_CALL if key.startswith(calls) else None
        if kind is None:
            continue
        try:
            record = records.read(key, kind)
        except UnreadableRecord:
            continue
        if record is not None and isinstance(record.get("run"), str):
            yield record["run"]


def experiment_names(store: Store) -> list[str]:
    """The experiments a store holds, sorted (:func:`experiment_folders`)."""
    return experiment_folders(store)[0]


def experiment_folders(store: Store) -> tuple[list[str], dict[str, str]]:
    """(The experiments a store holds: the folders under ``experiments/`` with an experiment
    record and an experiment's name, sorted; the folders with an experiment record that no
    experiment can be read from, as their name is not an experiment's (a copy ``quad_backup``
    made by hand): folder -> why). One rule for every kind of store: a local folder is read by
    its directories; an S3 store by a delimiter listing of ``experiments/`` (every page), then one
    listing of each folder's experiment record, so its cost is the experiments', not their trials'
    keys (about seven a trial); a plug-in's store, which cannot list folders, by listing every key."""
    from kfp_tune.core.validation import name_problem
    from kfp_tune.stores.local import LocalStore
    from kfp_tune.stores.s3 import S3Store

    inner = _innermost(store)
    if isinstance(inner, LocalStore):
        folder = inner.root / "experiments"
        held = {p.name for p in folder.iterdir() if (p / "experiment.json").is_file()} if folder.is_dir() else set()
    elif isinstance(inner, S3Store):
        held = _folders_with_a_record(store, inner.folders("experiments/", limit=None))
    else:
        held = {parts[1] for parts in (key.split("/") for key in store.list("experiments/")) if len(parts) == 3 and parts[2] == "experiment.json"}
    names, misnamed = [], {}
    for name in sorted(held):
        problem = name_problem(name)
        if problem is None:
            names.append(name)
        else:
            misnamed[name] = (f"experiments/{name}/ holds an experiment record but is not named as an experiment is ({problem}); "
                              f"no command can name it (status, delete): rename it to an experiment's name, or remove it, yourself")
    return names, misnamed


EXPERIMENT_RECORD_LOOKERS = 8
"""How many folders' experiment records :func:`experiment_folders` looks for at once on S3."""


def _folders_with_a_record(store: Store, folders: list[str]) -> set[str]:
    """Those of ``experiments/``'s ``folders`` that hold an experiment record: a listing of the
    record's key in each (one request, no body read), :data:`EXPERIMENT_RECORD_LOOKERS` at once."""
    from concurrent.futures import ThreadPoolExecutor

    def holds_record(name: str) -> bool:
        key = f"experiments/{name}/experiment.json"
        return key in store.list(key)

    with ThreadPoolExecutor(max_workers=EXPERIMENT_RECORD_LOOKERS) as pool:
        return {name for name, held in zip(folders, pool.map(holds_record, folders), strict=True) if held}


def _experiment_object(name: str, head: dict[str, Any], status: dict[str, Any]) -> KatibObject:
    """The experiment as Katib's API serves it, from its experiment record and a status."""
    stored = head.get("spec") or {}
    metadata = {**(stored.get("metadata") or {}), "name": name, "uid": head.get("uid"), "creationTimestamp": head.get("created")}
    return KatibObject({"apiVersion": API_VERSION, "kind": "Experiment", "metadata": metadata, "spec": stored.get("spec") or {}, "status": status})


def _innermost(store: Store) -> Any:
    """The store under any retrying wrapper."""
    while hasattr(store, "inner"):
        store = store.inner
    return store


def experiment_keys(store: Store, records: ExperimentRecords) -> tuple[list[str], list[str]]:
    """(the experiment's records, its artifact files) in the store: what deleting it deletes.
    Each listing is of the experiment's own folder, so ``exp`` never takes ``exp-2``'s keys."""
    def under(prefix: str) -> list[str]:
        return [key for key in store.list(prefix) if key.startswith(prefix)]

    return under(f"{records.root}/"), under(f"{records.artifacts_root()}/")


def delete_keys(store: Store, keys: Iterable[str]) -> None:
    """Delete these keys from the store (``Store.delete``: a local folder also drops the
    folders this empties; S3 deletes in batches of a thousand)."""
    store.delete(list(keys))
