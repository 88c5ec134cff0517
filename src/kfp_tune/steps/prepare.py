"""Before anything runs: what this version can run, and the experiment created in the store
or its resume checked. One path for the CLI, ``tune()``, the inline runner and the pipeline's
first step."""

from __future__ import annotations

import logging
import os
import re
from typing import Any

from kfp_tune.algorithms import early_stopping, registry
from kfp_tune.collectors import COLLECTORS, EARLY_STOPPING_COLLECTORS
from kfp_tune.core import claims
from kfp_tune.core.decision import MAX_TRIALS_REACHED, RUNNING, SUGGESTION_END_REACHED, decide
from kfp_tune.core.errors import ExperimentConflict, FieldError, KfpTuneError, SpecError, shown
from kfp_tune.core.loading import status_not_carried
from kfp_tune.core.naming import NEW_EXPERIMENT_NAMING, short_hash
from kfp_tune.core.records import DamagedRecord, ExperimentRecords, payload_of, utc_now
from kfp_tune.core.space import finest_step
from kfp_tune.core.spec import EDITABLE_FIELDS, Experiment
from kfp_tune.core.state import ExperimentState, load_state, read_experiment_record
from kfp_tune.core.template_source import needs_config_map
from kfp_tune.core.vocabulary import CollectorKind, ExperimentPhase, RecordKind, looks_like_credential
from kfp_tune.steps.decide_stop import write_status
from kfp_tune.steps.trial_artifacts import bind_inputs

log = logging.getLogger(__name__)


def runnable_problems(experiment: Experiment) -> list[FieldError]:
    """Valid Katib that this version cannot run yet, reported before anything runs."""
    spec = experiment.spec
    problems: list[FieldError] = []
    assert spec.algorithm is not None
    if not registry.is_implemented(spec.algorithm.algorithm_name):
        problems.append(
            FieldError(
                "spec.algorithm.algorithmName",
                f"{spec.algorithm.algorithm_name!r} is a Katib algorithm this version does not implement yet "
                f"(implemented: {', '.join(registry.implemented())})",
            )
        )
    kind = spec.collector_kind
    if spec.early_stopping is not None:
        if spec.early_stopping.algorithm_name not in early_stopping.RULES:
            problems.append(
                FieldError("spec.earlyStopping.algorithmName", f"early stopping {spec.early_stopping.algorithm_name!r} is not implemented in this version yet")
            )
        elif kind not in EARLY_STOPPING_COLLECTORS:
            problems.append(
                FieldError("spec.earlyStopping", f"early stopping needs the objective's values while a trial runs, which the {kind} collector does not collect: expected one of {', '.join(sorted(EARLY_STOPPING_COLLECTORS))}")
            )
    if kind == CollectorKind.NONE:
        # Katib up to v0.17: the trial wrote its metrics to Katib's DB itself; v0.18 renamed it Push
        problems.append(
            FieldError(
                "spec.metricsCollectorSpec.collector.kind",
                "None is Katib's name before v0.18 for Push (the trial reports its metrics itself, to Katib's DB manager, "
                "which kfp-tune does not serve): use kind Push, with the trial calling kfp_tune.report_metrics, or StdOut if it prints them",
            )
        )
    elif kind not in COLLECTORS:
        problems.append(
            FieldError(
                "spec.metricsCollectorSpec.collector.kind",
                f"the {kind} collector is not implemented in this version yet (implemented: {', '.join(COLLECTORS)})",
            )
        )
    return problems + _too_fine_steps(experiment)


def _too_fine_steps(experiment: Experiment) -> list[FieldError]:
    """A double's step finer than its bounds' float spacing allows (core.space.finest_step): no
    run can tell its grid's values apart. Refused before a run, not by validation, so that an
    experiment an older build stored with one stays readable (status, trials, report)."""
    problems: list[FieldError] = []
    for index, parameter in enumerate(experiment.spec.parameters):
        space = parameter.feasible_space
        if parameter.parameter_type != "double" or space.step in (None, "") or space.min in (None, "") or space.max in (None, ""):
            continue
        low, high, step = float(str(space.min)), float(str(space.max)), float(str(space.step))
        finest = finest_step(low, high)
        if step < finest:
            problems.append(FieldError(
                f"spec.parameters[{index}].feasibleSpace.step",
                f"expected a step of at least {finest:g}: a finer one, at values up to {max(abs(low), abs(high)):g}, is too few float "
                f"spacings wide to tell a value on its grid from one off it; got {step:g}",
            ))
    return problems


def init_experiment(records: ExperimentRecords, experiment: Experiment, edited_from: dict[str, Any] | None = None,
                    check_only: bool = False) -> dict[str, Any]:
    """Create the experiment in the store, or check that it may resume with this spec.
    ``edited_from``: the experiment record the spec was made from (a budget edit), which the
    write is checked against (:func:`write_edit`); else the record as read here. ``check_only``:
    refuse as a run would, but write and log nothing (:func:`resume_refusal`).

    As Katib's webhook rules, only the budgets (``EDITABLE_FIELDS``: maxTrialCount,
    maxFailedTrialCount, parallelTrialCount) may change, and maxTrialCount not below the trials
    already created: another search space, objective, goal, algorithm, trial template or any other
    spec field is refused, so every trial of an experiment ran under the spec its record holds."""
    if experiment.name != records.experiment:
        raise KfpTuneError(f"spec is for experiment {experiment.name!r}, records are for {records.experiment!r}")
    head = read_experiment_record(records) if edited_from is None else edited_from
    spec_dict = experiment.to_dict()
    space_hash = experiment.search_space_hash()
    given = _budgets(spec_dict)
    if head is None:
        if check_only:
            return {}
        if carried := status_not_carried(experiment):
            log.warning("%s", carried)
        created = utc_now()
        uid = short_hash(f"{experiment.name}/{created}/{os.urandom(8).hex()}", 12)
        return records.write_once(
            records.experiment_key(),
            "Experiment",
            {"name": experiment.name, "uid": uid, "created": created, "searchSpaceHash": space_hash, "spec": spec_dict, APPLIED: given},
        )
    applied: dict[str, Any] = {}
    as_given: dict[str, Any] | None = None
    rewritten = _rewritten_by_older(records, head)
    if rewritten is not None:
        if not check_only:
            _warn_rewritten_by_older(experiment.name, rewritten, edit=edited_from is not None)
        head = {key: value for key, value in head.items() if key != APPLIED}  # read as an older kfp-tune's record
    if edited_from is None:  # a run given a spec: an edit made since the last one keeps what this spec did not change
        kept = _edits_kept(head, spec_dict, experiment.name, quiet=check_only)
        if kept:
            _refuse_kept_budgets_over_max(kept, spec_dict, experiment.name)
            experiment = _with_budgets(experiment, kept)
            spec_dict = experiment.to_dict()
        applied = {APPLIED: given}
        as_given = _interpreter_rewrites_undone(head, spec_dict, experiment.name, quiet=check_only)
        if as_given is not None:
            head = {**head, "spec": as_given}
    elif not isinstance(head.get(APPLIED), dict):
        # an older kfp-tune's record: the budgets stored before this edit stand for its last run's,
        # so that the next run of the same spec keeps this edit (_edits_kept)
        applied = {APPLIED: _budgets(head.get("spec", {}))}
    if head["searchSpaceHash"] != space_hash:
        changed = _frozen_fields_changed(head.get("spec", {}), spec_dict) or ["spec.parameters / spec.objective"]
        changed += [field for field in _other_fields_changed(head.get("spec", {}), spec_dict) if not field.startswith(("spec.parameters", "spec.objective", "spec.nasConfig"))]
        raise ExperimentConflict(
            f"experiment {experiment.name!r} already exists in {records.store.uri} with another search space "
            f"or objective ({', '.join(changed)} changed); use a new experiment name to start over"
        )
    if head["spec"] != spec_dict:
        _refuse_edits_katib_refuses(head["spec"], spec_dict, experiment.name)
        state = load_state(records)
        moved = _refuse_namespace_move(head["spec"], spec_dict, state)
        if not moved and _only_metadata_changed(head["spec"], spec_dict) and decide(state, rounds_left=1).finished:
            return head  # Katib takes a label or annotation change of a completed Experiment as a plain update, restarting nothing: reported as it is
        _refuse_metadata_change_of_completed(head["spec"], spec_dict, state)
        restart = _refuse_restart_unless_katib_would(state, experiment, edit=edited_from is not None)
        new_max = experiment.spec.max_trial_count
        if new_max is not None and new_max <= state.budget_used:  # Katib: "must be greater than status.trials count"
            raise ExperimentConflict(
                f"spec.maxTrialCount: experiment {experiment.name!r} already has {state.budget_used} trials (trials killed by an "
                f"interrupted run do not count) and its stored maxTrialCount is {head['spec'].get('spec', {}).get('maxTrialCount')}; "
                f"a changed spec needs a maxTrialCount greater than {state.budget_used}, got {new_max}. To resume as stored, "
                f"give its maxTrialCount in the spec"
            )
        if check_only:
            return head
        if moved:
            log.warning("%s", moved)
        if edited_from is None:  # an edit says what it changed itself
            _warn_budget_changes(head["spec"], spec_dict, experiment.name)
        restarted = {"restarted": utc_now()} if restart else {}  # Katib's Restarting condition, from then on
        head = write_edit(records, head, {**payload_of(head), "spec": spec_dict, **restarted, **applied})
    elif not check_only and (as_given is not None or rewritten is not None or (applied and head.get(APPLIED) != applied[APPLIED])):
        # the stored spec given (edited to it, or an older record): the last given from now on, in its words;
        # a record an older kfp-tune rewrote becomes a revision of this one's again, so it is warned of once
        head = write_edit(records, head, {**payload_of(head), **applied})
    return head


def resume_refusal(records: ExperimentRecords, experiment: Experiment) -> ExperimentConflict | None:
    """The refusal a run of ``experiment`` would meet on the stored experiment, None where it
    would run; found as the run finds it (:func:`init_experiment`), writing and logging nothing:
    for advice that holds only where nothing else would refuse the run (``tune()``'s note on its
    default algorithm)."""
    try:
        init_experiment(records, experiment, check_only=True)
    except ExperimentConflict as refusal:
        return refusal
    return None


APPLIED = "applied"
"""The experiment record's budgets (``EDITABLE_FIELDS``) of the spec a run was last given (a YAML
file, ``tune()``'s arguments): kubectl's last-applied configuration, kept through edits, absent
in records older kfp-tunes wrote."""


def _rewritten_by_older(records: ExperimentRecords, head: dict[str, Any]) -> str | None:
    """How the experiment record shows that a kfp-tune before 2026-12-05 (dde3229) wrote it since
    this one did; None where it does not. Such a version (a run, or its budget edit) replaces the
    record's spec with the one it was given and keeps the fields it does not know as they were:
    ``revision`` still names the last revision this version wrote, whose record
    (``revisions/<n>.json``, written with the experiment record by :func:`write_edit`) holds
    another spec, and ``applied`` no longer says what the last run was given. Revision 0 has no
    revision record, but this version creates it with ``applied`` the budgets of its spec."""
    revision = head.get("revision", 0)
    if isinstance(revision, int) and not isinstance(revision, bool) and revision > 0:
        written = records.read(records.revision_key(revision), RecordKind.EXPERIMENT)
        if written is not None and written.get("spec") != head.get("spec"):
            return f"its spec differs from revision {revision}'s, revisions/{revision:06d}.json, the last this kfp-tune wrote"
        return None
    applied, spec = head.get(APPLIED), head.get("spec")
    if revision == 0 and isinstance(applied, dict) and isinstance(spec, dict):
        inner = spec.get("spec")
        budgets: dict[str, Any] = inner if isinstance(inner, dict) else {}
        if any(budgets.get(field) != value for field, value in applied.items()):
            return "its budgets are not the ones its last run was given, which this kfp-tune stored with them"
    return None


def _warn_rewritten_by_older(name: str, how: str, edit: bool) -> None:
    """Say once (the run or edit then writes a revision of its own) that an edit may be gone:
    the record cannot tell whether the older version ran a YAML or edited a budget, and keeps no
    edit made before it."""
    after = ("this edit starts from its stored spec, whose budgets stand for the last run's" if edit
             else "this run keeps no edit and sets the budgets its spec gives")
    log.warning(
        "experiment %r: its record was rewritten by a kfp-tune before 2026-12-05 (%s): such a version writes the spec it was given "
        "over the stored one, so a kfp-tune edit made since may have been dropped; %s. Check the budgets with kfp-tune status %s, "
        "set them again with kfp-tune edit %s if needed, and run the experiment with this kfp-tune or a later one only",
        name, how, after, name, name,
    )


KFP_LOCAL_REPLACED = "python3"
"""The text kfp.local 2.17 replaced with its Python's path wherever it stood in a step's command
and inputs (``str.replace`` in ``kfp.local.subprocess_task_handler.replace_python_executable``);
``python`` it left alone."""
KFP_LOCAL_PYTHON = r"/(?:[^\s/]+/)*bin/python(?:3(?:\.\d+)?)?"
"""The path it put there: its ``sys.executable`` or the ``bin/python`` of the venv it made, an
interpreter in a ``bin`` folder."""


def _interpreter_rewrites_undone(head: dict[str, Any], spec_dict: dict[str, Any], name: str, quiet: bool = False) -> dict[str, Any] | None:
    """The stored spec with the rewrite of kfp.local 2.17 undone, where each string that differs
    is this spec's with every ``python3`` in it replaced by one path to an interpreter in a
    ``bin`` folder, the same one throughout; None when there is none. Runs of ``--engine
    kfp-local`` before 2026-12-03 (e3949fe, :func:`kfp_tune.pipelines.step_inputs_kept_whole`)
    stored a trial command ``python3 train.py`` as ``/venv/bin/python train.py``
    (kubeflow/pipelines#14459), and the unchanged YAML was refused as another trial template. The
    record takes the spec's words (one revision), with a warning, since a spec changed on purpose
    from such a path to ``python3`` reads the same."""
    interpreters: list[str] = []
    stored = _interpreters_as_given(head.get("spec"), spec_dict, interpreters)
    if len(set(interpreters)) != 1:
        return None
    if not quiet:
        log.warning(
            "experiment %r: its stored spec has %r for 'python3', as kfp.local 2.17 rewrote python3 in runs of kfp-tune before 2026-12-03 "
            "(kubeflow/pipelines#14459): the same spec, stored from now on as this spec gives it (if this spec changed that path "
            "on purpose, stop the run and start a new experiment: %s)", name, interpreters[0], NEW_EXPERIMENT_NAMING,
        )
    return stored


def _interpreters_as_given(stored: Any, given: Any, interpreters: list[str]) -> Any:
    """``stored`` with each string that is ``given``'s as kfp.local 2.17 rewrote it
    (:func:`_as_kfp_local_stored`) replaced by ``given``'s; the interpreter paths found are
    added to ``interpreters``."""
    if isinstance(stored, dict) and isinstance(given, dict):
        return {key: _interpreters_as_given(value, given[key], interpreters) if key in given else value for key, value in stored.items()}
    if isinstance(stored, list) and isinstance(given, list) and len(stored) == len(given):
        return [_interpreters_as_given(value, other, interpreters) for value, other in zip(stored, given, strict=True)]
    if isinstance(stored, str) and isinstance(given, str) and stored != given:
        pattern = _as_kfp_local_stored(given)
        rewritten = pattern.fullmatch(stored) if pattern is not None else None
        if rewritten is not None:
            interpreters.append(rewritten["interpreter"])
            return given
    return stored


def _as_kfp_local_stored(given: str) -> re.Pattern[str] | None:
    """What kfp.local 2.17 made of ``given``: each ``python3`` in it one interpreter's path, the
    same path each time, the rest as it was; None for a string without ``python3``."""
    kept = [re.escape(part) for part in given.split(KFP_LOCAL_REPLACED)]
    if len(kept) == 1:
        return None
    return re.compile(kept[0] + f"(?P<interpreter>{KFP_LOCAL_PYTHON})" + "(?P=interpreter)".join(kept[1:]))


def _budgets(spec_dict: dict[str, Any]) -> dict[str, Any]:
    spec = spec_dict.get("spec", {})
    return {field: spec.get(field) for field in EDITABLE_FIELDS}


def _edits_kept(head: dict[str, Any], spec_dict: dict[str, Any], name: str, quiet: bool = False) -> dict[str, Any]:
    """The budgets to keep from the stored spec for a run given ``spec_dict``: each the spec gives
    as the last run's spec gave it (the same YAML run again) and that an edit (``kfp-tune edit``,
    ``edit_experiment_budget``) changed since. ``kubectl apply`` of an Experiment's YAML after
    ``kubectl edit`` leaves the edited fields alone (its three-way merge patches only what the
    YAML changed since it was last applied), and Katib's controller goes on with the edited
    budget. A budget the spec changes since its last run replaces the stored one, edited or not.
    A record without the last run's budgets (an older kfp-tune's, not edited by this one since)
    keeps the given spec whole."""
    applied = head.get(APPLIED)
    if not isinstance(applied, dict):
        return {}
    stored, given = head.get("spec", {}).get("spec", {}), spec_dict.get("spec", {})
    kept = {field: stored.get(field) for field in EDITABLE_FIELDS
            if field in applied and given.get(field) == applied[field] and stored.get(field) != given.get(field)}
    if not quiet:
        for field, value in kept.items():
            log.info("experiment %r: spec.%s stays %s, as edited since its last run (this spec's %s is the one that run was given)",
                     name, field, value, given.get(field))
    return kept


def _refuse_kept_budgets_over_max(kept: dict[str, Any], spec_dict: dict[str, Any], name: str) -> None:
    """The spec a run's own budgets and the kept (edited) ones make together must still be one
    Katib takes (its webhook: parallelTrialCount and maxFailedTrialCount at most maxTrialCount),
    as ``kubectl apply``'s merged Experiment is checked again: ExperimentConflict naming the kept
    budget and the one it exceeds, before anything is written."""
    budgets = {**_budgets(spec_dict), **kept}
    most = budgets.get("maxTrialCount")
    if not isinstance(most, int):
        return
    for field in ("parallelTrialCount", "maxFailedTrialCount"):
        value = budgets.get(field)
        if isinstance(value, int) and value > most:
            source = "kept as edited since the last run" if field in kept else "this spec's"
            bound = "kept as edited since the last run" if "maxTrialCount" in kept else "this spec's"
            raise ExperimentConflict(
                f"spec.{field}: experiment {name!r} would have {field} {value} ({source}) above maxTrialCount {most} ({bound}), "
                f"which Katib refuses: give spec.{field} (at most {most}) or spec.maxTrialCount (at least {value}) in the spec, "
                f"or change them with kfp-tune edit {name}"
            )


def _with_budgets(experiment: Experiment, budgets: dict[str, Any]) -> Experiment:
    """``experiment`` with the budgets given by their Katib names (``maxTrialCount``), a copy."""
    changed = experiment.model_copy(deep=True)
    fields = {info.alias or field: field for field, info in type(changed.spec).model_fields.items()}
    for alias, value in budgets.items():
        setattr(changed.spec, fields[alias], value)
    return changed


def _frozen_fields_changed(stored: dict[str, Any], given: dict[str, Any]) -> list[str]:
    """Which of what a resume may not change differs (``Experiment.search_space_hash``'s
    fields), named down to the parameter or objective field: ``spec.parameters[lr]``,
    ``spec.objective.type``."""
    before, after = stored.get("spec", {}), given.get("spec", {})
    changed: list[str] = []
    old_params = {p.get("name"): p for p in before.get("parameters") or []}
    new_params = {p.get("name"): p for p in after.get("parameters") or []}
    for name in [*old_params, *[n for n in new_params if n not in old_params]]:
        if old_params.get(name) != new_params.get(name):
            changed.append(f"spec.parameters[{name}]" + ("" if name in old_params and name in new_params else
                                                         " (added)" if name in new_params else " (removed)"))
    old_objective, new_objective = before.get("objective") or {}, after.get("objective") or {}
    for field in ("type", "objectiveMetricName", "additionalMetricNames", "metricStrategies"):
        if old_objective.get(field) != new_objective.get(field):
            changed.append(f"spec.objective.{field}")
    if before.get("nasConfig") != after.get("nasConfig"):
        changed.append("spec.nasConfig")
    return changed


def _warn_budget_changes(stored: dict[str, Any], given: dict[str, Any], name: str) -> None:
    """A run's spec replaces the stored budgets it changed since its last run, as ``kubectl
    apply`` of the YAML replaces Katib's: say so, since a budget edited since is replaced too.
    A budget taken away is a warning; one given (a notebook extending its experiment) is news."""
    before, after = stored.get("spec", {}), given.get("spec", {})
    for field in EDITABLE_FIELDS:
        old, new = before.get(field), after.get(field)
        if old != new:
            lowered = isinstance(old, int) and isinstance(new, int) and new < old
            log.log(logging.WARNING if lowered else logging.INFO, "experiment %r: spec.%s changes from %s (stored) to %s (this spec)", name, field, old, new)


def write_edit(records: ExperimentRecords, head: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """Replace the experiment record ``head`` (as read) with ``payload``, unless another edit
    replaced it since: Katib's API server refuses an Experiment updated from a stale
    resourceVersion (409 Conflict; KatibClient.edit_experiment_budget reports it), and so does
    this, where two budget edits (or an edit and a run resuming with a new budget) read the same
    record and the later plain write dropped the other's change.

    Each edit first takes the next revision's key with the store's create-once (the only atomic
    operation every store has), holding the whole new record, then writes it as the experiment
    record. An edit that finds the revision taken by another refuses (ExperimentConflict);
    should the other have stopped between its two writes, this one completes it first (the
    taken key holds its record), so an experiment is never left unable to take edits. Records
    written before revisions were kept have none: revision 0."""
    revision = head.get("revision", 0)
    if isinstance(revision, bool) or not isinstance(revision, int) or revision < 0:
        raise DamagedRecord(records.experiment_key(), f"'revision' is {revision!r}, expected a whole number")
    record = {**payload, "revision": revision + 1}
    stored = records.write_once(records.revision_key(revision + 1), RecordKind.EXPERIMENT, record)
    if payload_of(stored) != record:
        current = read_experiment_record(records)
        if current is not None and current.get("revision", 0) == revision:
            records.write(records.experiment_key(), RecordKind.EXPERIMENT, payload_of(stored))  # the other edit's second write
        raise ExperimentConflict(
            f"experiment {records.experiment!r} was changed by another edit while this one was made (revision {revision + 1}); "
            f"nothing of this edit was written: read the experiment again and repeat the edit"
        )
    return records.write(records.experiment_key(), RecordKind.EXPERIMENT, record)


RESTARTABLE_POLICIES = ("LongRunning", "FromVolume")


def _other_fields_changed(stored: dict[str, Any], given: dict[str, Any]) -> list[str]:
    """The spec's fields other than the budgets that differ, ``spec.algorithm``, ``spec.trialTemplate``."""
    before, after = stored.get("spec", {}), given.get("spec", {})
    return ["spec." + field for field in sorted(set(before) | set(after)) if field not in EDITABLE_FIELDS and before.get(field) != after.get(field)]


_ABSENT: Any = object()
SHOWN_CHANGES = 3
SHOWN_VALUE_CHARS = 60


def _change_shown(field: str, stored: Any, given: Any) -> str:
    """A changed spec field as a refusal names it: with the stored and the given value of each
    short value that differs under it (``spec.algorithm (algorithmName 'random' stored,
    'bayesianoptimization' given)``), so that a default changed between versions is seen for
    what it is; a long value, or one that may be a credential (any container's env value or
    command line, a value under a name that looks like one), by its path alone (``command[2]
    changed``); the
    field's name alone where more than a few values differ."""
    shown_ones: list[str] = []
    for path, old, new, hidden in _differences(stored, given, ""):
        where = path.lstrip(".")
        if new is _ABSENT:
            shown_ones.append(f"{where} removed" if where else "removed")
        elif old is _ABSENT:
            shown_ones.append(f"{where} added" if where else "added")
        elif not hidden and all(not isinstance(value, (dict, list)) and len(shown(value)) <= SHOWN_VALUE_CHARS for value in (old, new)):
            shown_ones.append(f"{where} {shown(old)} stored, {shown(new)} given" if where else f"{shown(old)} stored, {shown(new)} given")
        elif where:
            shown_ones.append(f"{where} changed")
        else:
            return field
    if not shown_ones or len(shown_ones) > SHOWN_CHANGES:
        return field
    return f"{field} ({'; '.join(shown_ones)})"


def _differences(stored: Any, given: Any, path: str, hidden: bool = False) -> list[tuple[str, Any, Any, bool]]:
    """The values that differ between ``stored`` and ``given``, each with its path under them
    (``.algorithmName``, ``.algorithmSettings[random_state].value``, ``.command[0]``) and whether
    its values are never shown (:func:`_values_hidden`): into mappings, lists of named items (by
    name) and lists of one length (by index)."""
    if stored == given:
        return []
    if isinstance(stored, dict) and isinstance(given, dict):
        return [difference for key in [*stored, *(k for k in given if k not in stored)]
                for difference in _differences(stored.get(key, _ABSENT), given.get(key, _ABSENT), f"{path}.{key}", hidden or _values_hidden(key))]
    if isinstance(stored, list) and isinstance(given, list):
        stored_named, given_named = _by_name(stored), _by_name(given)
        if stored_named is not None and given_named is not None:
            return [difference for key in [*stored_named, *(k for k in given_named if k not in stored_named)]
                    for difference in _differences(stored_named.get(key, _ABSENT), given_named.get(key, _ABSENT), f"{path}[{key}]",
                                                   hidden or _values_hidden(key))]
        if len(stored) == len(given):
            return [difference for i, (old, new) in enumerate(zip(stored, given, strict=True))
                    for difference in _differences(old, new, f"{path}[{i}]", hidden)]
    return [(path, stored, given, hidden)]


VALUES_NEVER_SHOWN = frozenset({"env", "command", "args"})
"""Keys whose values a refusal never shows, whatever their names: a container's ``env`` and its
command line (``--api-key=...``), where a value written out is often a credential."""


def _values_hidden(key: str) -> bool:
    """Whether the values under this key or item name are never shown in a refusal:
    :data:`VALUES_NEVER_SHOWN` and anything named like a credential (``WANDB_API_KEY``,
    ``password``), which the spec's check warns of (:func:`kfp_tune.core.template.written_credentials`)."""
    return key in VALUES_NEVER_SHOWN or looks_like_credential(key)


def _by_name(items: list[Any]) -> dict[str, Any] | None:
    """A list of Katib's named items (settings, parameters, containers) by name, an empty one
    none; None for any other list."""
    names = [item.get("name") for item in items if isinstance(item, dict)]
    named = {name: item for name, item in zip(names, items, strict=False) if isinstance(name, str)}
    return named if len(named) == len(items) == len(names) else None


def _refuse_edits_katib_refuses(stored: dict[str, Any], given: dict[str, Any], name: str) -> None:
    """Katib's webhook: "only spec.parallelTrialCount, spec.maxTrialCount and
    spec.maxFailedTrialCount are editable". A changed algorithm, goal or trial command would
    mix trials run under different specs in one experiment, and the stored spec (the record of
    what the earlier trials ran with) would be overwritten. Both specs are compared with their
    defaults applied (``Experiment.to_dict``), as Katib compares them after its defaulting
    webhook: a default added in a later version would read as a change to every stored
    experiment, so one needs the stored specs brought along with it."""
    changed = _other_fields_changed(stored, given)
    if changed:
        before, after = stored.get("spec", {}), given.get("spec", {})
        named = [_change_shown(field, before.get(field[len("spec."):], _ABSENT), after.get(field[len("spec."):], _ABSENT)) for field in changed]
        raise ExperimentConflict(
            f"experiment {name!r} already exists with another {', '.join(named)}: "
            f"as in Katib, only spec.{', spec.'.join(EDITABLE_FIELDS)} may change when an experiment resumes. "
            f"To run with the new spec, start a new experiment ({NEW_EXPERIMENT_NAMING})"
        )


def _namespace_of(spec_dict: dict[str, Any]) -> str:
    metadata = spec_dict.get("metadata")
    return str((metadata.get("namespace") if isinstance(metadata, dict) else None) or "")


def _refuse_namespace_move(stored: dict[str, Any], given: dict[str, Any], state: ExperimentState) -> str:
    """Kubernetes keeps an object's ``metadata.namespace``, and Katib's experiment of one name in
    two namespaces is two experiments, each with its own trials, while a store keeps one
    experiment per name. A stored experiment resumed from a spec naming another namespace would
    take the first one's trials as the second's (its best trial, its budget) and rewrite its
    namespace, and send its next run (launch-trial takes the namespace from the record) after
    cluster trials where they are not: each would end TrialDeleted while it runs on, unowned.
    Refused once any trial has started, on any engine (a trial the launcher config placed in
    the given namespace too: it is still the stored experiment's); allowed, with a warning, for
    one none of whose trials made anything (a first run refused 403 in ``kubeflow`` created
    nothing, though its trial's started record names it: the refusal's advice is to run it in
    one's own namespace; :attr:`TrialState.made_something`): that warning is returned, for
    the caller to give once the resume is taken ("" for no move)."""
    old, new = _namespace_of(stored), _namespace_of(given)
    if old == new:
        return ""
    started = [trial for trial in state.trials if trial.made_something]
    refused = len([trial for trial in state.trials if trial.started is not None]) - len(started)
    name = state.name

    def said(namespace: str) -> str:
        return repr(namespace) if namespace else "none (the run's namespace)"

    if started:
        where: dict[str, int] = {}
        for trial in started:
            place = trial.started.cluster_namespace if trial.started is not None else None
            key = f"ran in {place!r}" if place else "ran on no cluster"
            where[key] = where.get(key, 0) + 1
        places = ", ".join(f"{count} {key}" for key, count in sorted(where.items()))
        lost = [key.removeprefix("ran in ") for key in where if key.startswith("ran in") and key != f"ran in {new!r}"]
        unfound = (f" A run in {said(new)} would not find those in {', '.join(lost)} (each would end TrialDeleted while it runs on, "
                   "unowned, where it is).") if lost else ""
        completed = " It is completed and its spec is unchanged: a run of it as stored only reports it." if (
            stored.get("spec") == given.get("spec") and decide(state, rounds_left=1).finished) else ""
        verb = "has" if len(started) == 1 else "have"
        raise ExperimentConflict(
            f"metadata.namespace: experiment {name!r} is stored with metadata.namespace {said(old)} and this spec gives {said(new)}, and "
            f"{len(started)} of its trials {verb} started ({places}): Kubernetes keeps an object's namespace, so {name!r} in {said(old)} "
            f"and in {said(new)} are two experiments, while a store keeps one experiment per name, whatever its namespace.{unfound}"
            f"{completed} To resume it, give metadata.namespace {said(old)} as stored; to run the one in {said(new)}, give it "
            f"{NEW_EXPERIMENT_NAMING.replace(', or ', ', ')}, or another store (--store, tune(store=...))"
        )
    how = (f"its trials created nothing ({refused} refused at its create)" if refused else "none of its trials has started")
    return (f"experiment {name!r}: metadata.namespace changes from {said(old)} (stored) to {said(new)} (this spec): {how}, so it moves "
            "(its trials go there unless a launcher config names a namespace)")


def _only_metadata_changed(stored: dict[str, Any], given: dict[str, Any]) -> bool:
    """Whether two experiment documents differ in their ``metadata`` alone (labels, annotations
    such as kubectl's last-applied-configuration a later ``kubectl apply`` rewrites): what
    Katib's controller takes as a plain update, neither a restart nor a change of the search."""
    return {key: value for key, value in stored.items() if key != "metadata"} == {key: value for key, value in given.items() if key != "metadata"}


def _refuse_metadata_change_of_completed(stored: dict[str, Any], given: dict[str, Any], state: ExperimentState) -> None:
    """A completed experiment given its spec unchanged but for another ``metadata.namespace``
    (one none of whose trials started: :func:`_refuse_namespace_move` refuses the others; other
    metadata alone is reported as it is): refused naming those fields. It is no restart of the
    spec (the spec's words would send the user looking for a change they never made), and a run
    of the record as stored only reports it."""
    if stored.get("spec") != given.get("spec") or not decide(state, rounds_left=1).finished:
        return
    before, after = stored.get("metadata") or {}, given.get("metadata") or {}
    changed = [_change_shown(f"metadata.{key}", before.get(key, _ABSENT), after.get(key, _ABSENT))
               for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)]
    old = _namespace_of(stored)
    as_stored = f"run it with metadata.namespace {old!r} as stored" if old else "run it without metadata.namespace, as stored"
    raise ExperimentConflict(
        f"experiment {state.name!r} is completed and its {', '.join(changed) or 'metadata'} changed; its spec is unchanged. To see it, "
        f"{as_stored} (a run of the stored experiment only reports it); to run it elsewhere, start a new experiment ({NEW_EXPERIMENT_NAMING})"
    )


def _nothing_left_to_suggest(algorithm: str) -> str:
    """What an experiment that ended ExperimentSuggestionEndReached ran out of, and what a new
    one needs to try more, from what its algorithm declared where it was registered
    (:func:`kfp_tune.algorithms.registry.search_end`): it is not a grid's alone (hyperband's last
    bracket, darts' one trial, any algorithm that ends on a finite space whose every point was
    tried). The built-ins' own words only while the built-in is registered: a takeover that
    declares nothing is not said to have run hyperband's brackets."""
    ends = registry.search_end(algorithm)
    if algorithm == "hyperband" and ends == "after-its-schedule":
        return "hyperband's brackets were all run: a new experiment runs its schedule again with new draws (other r_l or eta values give another schedule)"
    if algorithm == "darts" and ends == "after-its-schedule":
        return "darts runs one trial, the architecture search itself: a new experiment runs it again"
    if ends == "on-a-finite-space" or (algorithm == "grid" and ends == "after-its-schedule"):
        return "every point of its search space was tried: to try others, widen the search space or make it finer (a smaller step, more list values) in the new experiment"
    if ends == "after-its-schedule":
        return f"algorithm {algorithm!r} ran its whole schedule: a new experiment runs it again"
    return (f"algorithm {algorithm!r} said it has nothing left to suggest, and kfp-tune cannot tell why (its register(..., ends=...) declares "
            "no end of its own): what a new experiment needs for it to suggest more is the algorithm's to say")


def _refuse_restart_unless_katib_would(state: ExperimentState, experiment: Experiment, edit: bool = False) -> bool:
    """Katib's rule for a completed experiment whose spec changes (a restart): only one that
    succeeded by reaching maxTrialCount, under resumePolicy LongRunning or FromVolume (the
    stored experiment's), and with a maxTrialCount above the trials it has. kfp-tune keeps
    every experiment's state in the store, so both policies resume the same way; Never keeps
    a completed experiment completed. A run of the unchanged spec only reports it. True when the
    change restarts a completed experiment. ``edit``: a budget edit asks, not a run's spec."""
    finished = decide(state, rounds_left=1)
    if not finished.finished:
        return False  # a Running experiment (out of rounds, interrupted) always resumes, as Katib's keeps running
    policy = state.experiment.spec.resume_policy or "Never"
    name = experiment.name
    if finished.reason != MAX_TRIALS_REACHED or policy not in RESTARTABLE_POLICIES:
        why = (
            f"it completed as {finished.phase} ({finished.reason}), and Katib restarts only an experiment that succeeded by reaching maxTrialCount"
            if finished.reason != MAX_TRIALS_REACHED
            else f"its spec.resumePolicy is {policy}, and Katib restarts a completed experiment only under LongRunning or FromVolume"
        )
        # the policy hint only where it is what stands in the way: under Never, of one that reached maxTrialCount
        # (after the goal, the failed-trial limit or the end of suggestions LongRunning would not have helped)
        later = (
            ", with spec.resumePolicy: LongRunning in its YAML if it should be extendable later"
            if policy not in RESTARTABLE_POLICIES and finished.reason == MAX_TRIALS_REACHED else ""
        )
        if finished.reason == SUGGESTION_END_REACHED:
            later += f"; {_nothing_left_to_suggest(state.experiment.spec.algorithm.algorithm_name if state.experiment.spec.algorithm else '')}"
        if edit:
            raise ExperimentConflict(
                f"experiment {name!r} is completed, and its budget cannot change: {why}. To run more trials, start a new experiment "
                f"({NEW_EXPERIMENT_NAMING}){later}"
            )
        raise ExperimentConflict(
            f"experiment {name!r} is completed and its spec changed: {why}. To run more trials, start a new experiment "
            f"({NEW_EXPERIMENT_NAMING}){later}; or run the spec it completed with, which only reports it"
        )
    new_max = experiment.spec.max_trial_count
    used = state.budget_used
    if new_max is not None and new_max <= used:
        raise ExperimentConflict(
            f"spec.maxTrialCount: experiment {name!r} is completed with {used} trials; to restart it "
            f"(resumePolicy {policy}), expected a maxTrialCount greater than {used}, got {new_max}"
        )
    return True


def prepare(records: ExperimentRecords, experiment: Experiment, run_id: str | None = None, take_over: bool = False) -> dict[str, Any]:
    """The one pre-flight, before any trial: refuse what this version cannot run (SpecError),
    then, for a run (``run_id``), claim the experiment for it, or, for a check before a run
    starts (no ``run_id``), refuse when another run drives it (with ``take_over``, only when its
    claim is damaged, which the run's claim would refuse after the spec was written); then create
    the experiment or check that it may resume with this spec, and with the inputs the run staged
    (:func:`~kfp_tune.steps.trial_artifacts.bind_inputs`). A run whose resume is refused gives
    back the claim it took, not one it found its run holding (another call of the same pipeline
    run, a ParallelFor iteration, drives the experiment under it). Returns the stored experiment
    record."""
    problems = runnable_problems(experiment)
    if needs_config_map(experiment):  # every entry point reads it first; this is the net under them
        problems.append(FieldError("spec.trialTemplate.configMap", "the trial template ConfigMap has not been read: a local run needs it as a file (--trial-templates)"))
    if problems:
        raise SpecError(problems)
    if run_id is None:
        if take_over:  # the run will claim whoever holds it, but a damaged claim refuses it: before the spec is written
            claims.latest_claim(records)
        else:
            claims.refuse_if_busy(records)
        return init_experiment(records, experiment)
    taken = claims.claim(records, run_id, take_over)
    try:
        head = init_experiment(records, experiment)
        bind_inputs(records, run_id)  # under the claim: no other run binds meanwhile
    except KfpTuneError:
        if taken.taken_now:
            claims.release(records, run_id, "refused")
        raise
    mark_running(records)
    return head


def mark_running(records: ExperimentRecords) -> None:
    """A run has just claimed the experiment: its stored status says Running (ExperimentRunning)
    from now, not what the last run left (ExperimentRunInterrupted with "run the same command
    again", ExperimentRunRoundsUsedUp, ExperimentRestarting), which ``kfp-tune status`` and
    ``list`` showed until the new run's first trial ended. Katib recomputes the condition at
    every reconcile: an experiment not completed is Running, "Experiment is running"
    (pkg/controller.v1beta1/experiment/util/status_util.go, ``UpdateExperimentStatusCondition``).
    Nothing is written when the status already says so, when there is none yet (readers decide
    it then), or when the experiment has completed (the run only reports it); damaged records
    are left to the run, which refuses them saying which."""
    try:
        stored = records.read(records.status_key(), RecordKind.EXPERIMENT_STATUS)
    except DamagedRecord:
        stored = {}  # derived: rewritten below
    if stored is None:
        return
    status = stored.get("status")
    if isinstance(status, dict) and (status.get("phase"), status.get("reason")) == (ExperimentPhase.RUNNING, RUNNING):
        return
    try:
        state = load_state(records)
    except DamagedRecord:
        return
    decision = decide(state, rounds_left=1)
    if not decision.finished:
        write_status(records, state, decision, utc_now())
