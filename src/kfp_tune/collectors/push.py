"""Katib's Push collector, both halves: the trial reports its metrics itself
(``kfp_tune.report_metrics``), and collect-metrics reads them after it ends.

The launcher tells a trial where it is (``KFP_TUNE_STORE``, ``KFP_TUNE_EXPERIMENT``,
``KFP_TUNE_TRIAL``; on a cluster also ``KFP_TUNE_S3_ENDPOINT`` and the store's credentials,
by Secret reference). Each call writes one record of its own, so nothing is overwritten. A
function's trial run in this process (``kfp_tune.tune``) has no environment of its own: its
calls are kept for that trial instead (:func:`reports_in_this_thread`), as Katib's Push
example reports from inside the objective (``kubeflow.katib.report_metrics``).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import math
import os
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.observation import MetricLog, is_boolean
from kfp_tune.core.records import DamagedRecord, ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.vocabulary import KATIB_TRIAL_VARIABLE, RecordKind

log = logging.getLogger(__name__)

COLLECTOR_STAMP = "collector-"
"""Stamps of the records kfp-tune's own collector writes (:mod:`kfp_tune.collectors.observe`):
not the trial's reports."""


def collect_pushed(records: ExperimentRecords, experiment: Experiment, trial: TrialState) -> list[MetricLog]:
    """What an in-process trial returned (``pushed``), then every ``report_metrics`` call the
    trial made, in the order made."""
    prefix = records.reports_prefix(trial.name)
    pushed = records.pushed_key(trial.name)
    found = [(pushed, records.read(pushed, RecordKind.PUSHED_METRICS))]
    found += [(key, records.read(key, RecordKind.REPORTED_METRICS)) for key in records.store.list(prefix) if not key[len(prefix):].startswith(COLLECTOR_STAMP)]
    return [m for key, record in found if record is not None for m in reported_logs(record, key)]


REPORTED_ENTRY = '{"name": <metric name>, "value": <number>, "step": <integer or null>}'
"""What each of a report's ``metrics`` holds, as :func:`write_report` writes it."""


def reported_logs(record: Mapping[str, Any], key: str) -> list[MetricLog]:
    """The metrics of one report (the record at ``key``), checked: a Custom container may write
    reports itself (:mod:`kfp_tune.collectors.custom`), and collect-metrics and early stopping
    both read them through here.

    A report of another shape (``metrics`` not a list; an entry that is not an object, has no
    name, or a step that is not an integer) is damaged: DamagedRecord naming it, the entry and
    what was expected, as kfp-tune never skips a damaged record. A value that is not a finite
    number (null, text, a boolean: ``true`` is no 1.0) is left out with a warning naming the
    report, as every other collector leaves one out: Katib keeps any value a collector reports
    (its DB keeps values as text: pkg/db/v1beta1/mysql/mysql.go, RegisterObservationLog), and
    its trial controller counts in min and max only what parses as a number
    (pkg/controller.v1beta1/trial/trial_controller_util.go, getMetrics)."""
    entries = record.get("metrics")
    if not isinstance(entries, list):
        raise DamagedRecord(key, f"metrics must be a list of {REPORTED_ENTRY}, got {type(entries).__name__}")
    out = []
    for index, entry in enumerate(entries):
        name, step = reported_entry(entry, key, index)
        try:
            value = metric_number(name, entry.get("value"), f"record {key}")
        except ValueError as exc:
            log.warning("%s; left out (a metric's value is a finite number)", exc)
            continue
        out.append(MetricLog(name, value, step, time_us=entry_time(entry)))
    return out


def entry_time(entry: Mapping[str, Any]) -> int | None:
    """A stored entry's ``time_us``: when the trial gave the value (a TEXT line's leading time, a
    JSON line's ``timestamp``, an event's), None when it gave none or the field is not a whole
    number."""
    time_us = entry.get("time_us")
    return time_us if isinstance(time_us, int) and not isinstance(time_us, bool) else None


def reported_entry(entry: object, key: str, index: int) -> tuple[str, int | None]:
    """The name and step of a report's ``metrics[index]`` (the record at ``key``); DamagedRecord
    naming the entry and what was expected when it is not an object with a name and an integer
    (or null) step. Its value is the caller's to read: a report's and a collector's differ."""
    where = f"metrics[{index}]"
    if not isinstance(entry, dict):
        raise DamagedRecord(key, f"{where} must be {REPORTED_ENTRY}, got {type(entry).__name__}")
    name, step = entry.get("name"), entry.get("step")
    if not isinstance(name, str) or not name:
        raise DamagedRecord(key, f"{where} has no name (a non-empty string): expected {REPORTED_ENTRY}")
    if step is not None and (isinstance(step, bool) or not isinstance(step, int)):
        raise DamagedRecord(key, f"{where} ({name}) has the step {step!r}: expected an integer or null")
    return name, step


_IN_PROCESS: contextvars.ContextVar[list[MetricLog] | None] = contextvars.ContextVar("kfp_tune_in_process_reports", default=None)


_function_trials_running = 0
"""How many function trials ``kfp_tune.tune`` runs in this process now, on any thread."""
_function_trials_lock = threading.Lock()

NO_TRIAL_OF_THIS_THREAD = (
    "this thread runs no trial while kfp_tune.tune() runs function trials in this process (a thread that a trial starts "
    "does not take on its trial), and the KFP_TUNE_* variables, which may name some other trial, are not used then"
)
"""Why the helpers refuse a call from a thread with no trial (:func:`no_trial_of_this_thread`)."""


@contextlib.contextmanager
def reports_in_this_thread() -> Iterator[list[MetricLog]]:
    """While the block runs, :func:`report_metrics` called in this thread (a function's trial
    run in this process) adds to the list it gives, in the order called; threads the block
    starts are not seen, as with the trial's prints, and are refused
    (:func:`no_trial_of_this_thread`) unless they run in a copy of this thread's context."""
    global _function_trials_running
    reports: list[MetricLog] = []
    token = _IN_PROCESS.set(reports)
    with _function_trials_lock:
        _function_trials_running += 1
    try:
        yield reports
    finally:
        with _function_trials_lock:
            _function_trials_running -= 1
        _IN_PROCESS.reset(token)


_FUNCTION_TRIAL_NAME: contextvars.ContextVar[str | None] = contextvars.ContextVar("kfp_tune_function_trial_name", default=None)


@contextlib.contextmanager
def function_trial_named(name: str) -> Iterator[None]:
    """While the block runs, :func:`trial_name` in this thread is ``name``: a function's trial
    run in this process, which has no environment of its own to hold ``KATIB_TRIAL_NAME``."""
    token = _FUNCTION_TRIAL_NAME.set(name)
    try:
        yield
    finally:
        _FUNCTION_TRIAL_NAME.reset(token)


def trial_name() -> str:
    """The name of the trial this code runs in, to make a per-trial path (a checkpoint, an output
    folder), as a Katib objective reads ``os.environ["KATIB_TRIAL_NAME"]``: in a function's
    trial that ``kfp_tune.tune`` (or ``KatibClient.tune``) runs in this process, that trial's
    (its threads share one environment, so the variable cannot tell them apart); else
    ``$KATIB_TRIAL_NAME``, which kfp-tune and Katib set in every trial container (a function
    sent to a host reads it there, where kfp-tune itself may not be installed:
    ``os.environ["KATIB_TRIAL_NAME"]``). KfpTuneError where there is none, saying where a KFP
    component trial's name is."""
    name = _FUNCTION_TRIAL_NAME.get()
    if name is not None:
        return name
    if no_trial_of_this_thread():
        raise KfpTuneError(
            "trial_name: this thread runs no trial while kfp_tune.tune() runs function trials in this process (a thread that a "
            f"trial starts does not take on its trial), and ${KATIB_TRIAL_VARIABLE} is not read then (it names no trial of that run): "
            "call it from the trial function's own thread, or run the thread's work in a copy of the trial's context: "
            "threading.Thread(target=contextvars.copy_context().run, args=(work,))"
        )
    from_environment = os.environ.get(KATIB_TRIAL_VARIABLE)
    if from_environment:
        return from_environment
    raise KfpTuneError(
        "trial_name: no trial's name here: this thread runs no function trial of kfp_tune.tune() (or KatibClient.tune) in this "
        f"process, and ${KATIB_TRIAL_VARIABLE}, which every trial container has (kfp-tune and Katib set it), is not set; "
        "in a KFP component trial (kfp_tune.component_trials) it is kfp_tune.TrialReporter(kfp_tune_trial).place.trial, "
        "from the component's kfp_tune_trial input"
    )


def in_a_function_trial() -> bool:
    """Whether this thread runs a function's trial that ``kfp_tune.tune`` runs in this process
    (inside :func:`reports_in_this_thread`): such a trial has no place in a store of its own."""
    return _IN_PROCESS.get() is not None


def no_trial_of_this_thread() -> bool:
    """Whether this thread runs no trial while function trials run in this process: a thread
    that a trial started (a ContextVar is not inherited), or any other. The KFP_TUNE_*
    variables are then not this thread's place, even when set (by an outer trial, say): the
    helpers refuse rather than write into another trial."""
    return _IN_PROCESS.get() is None and _function_trials_running > 0


def _reads_as_a_number(text: str) -> bool:
    """Whether ``text`` is a number as Python reads one (``"3"``, ``" -1 "``, ``"3.0"``, ``"1e3"``):
    a step given as text, never a DB manager's address."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def report_metrics(metrics: Mapping[str, float], step: int | str | None = None, timeout: float | None = None, *,
                   db_manager_address: str | None = None) -> None:
    """Record metrics for the running trial (the Push collector reads them after it ends):
    a trial kfp-tune launched, or a function's trial that ``kfp_tune.tune`` runs in this
    process. ValueError, naming the metric, for a value that is not a finite number.

    Katib's ``report_metrics(metrics, db_manager_address=..., timeout=...)`` calls, ported
    unchanged, run too: ``db_manager_address`` and ``timeout`` are accepted and unused (the
    reports go to the trial's store, not to Katib's DB manager), and a str second argument is
    Katib's positional ``db_manager_address``, since a step is an integer: unless it reads as a
    number (``"3"``, ``"-1"``, ``"3.0"``), a step given as text by mistake, refused as before
    rather than dropped."""
    if isinstance(step, str):  # report_metrics(m, "katib-db-manager.kubeflow:6789"): Katib's address, never a step
        if _reads_as_a_number(step):
            raise TypeError(f"report_metrics: step must be an integer or None, got {step!r} (text: a str second argument is "
                            "Katib's db_manager_address, and a number is no address)")
        if db_manager_address is not None:
            raise TypeError("report_metrics: db_manager_address given twice (as the second argument and by name)")
        step = None
    from kfp_tune.stores import TrialPlaceMissing, open_trial_place

    in_process = _IN_PROCESS.get()
    if in_process is not None:
        if not isinstance(metrics, Mapping):
            raise TypeError(f"report_metrics: expected a dict of metric name -> number, got {type(metrics).__name__}")
        if step is not None and (isinstance(step, bool) or not isinstance(step, int)):
            raise TypeError(f"report_metrics: step must be an integer or None, got {step!r}")
        in_process.extend([MetricLog(str(name), metric_number(name, value, "report_metrics"), step) for name, value in metrics.items()])
        return
    if no_trial_of_this_thread():
        raise KfpTuneError(
            f"report_metrics: {NO_TRIAL_OF_THIS_THREAD}: call it from the trial function's own thread, or start the thread's work "
            f"in a copy of the trial's context, made in the trial's thread, one for each thread: "
            f"threading.Thread(target=contextvars.copy_context().run, args=(work,)), or pool.submit(contextvars.copy_context().run, work)"
        )
    try:
        records, trial = open_trial_place()
    except TrialPlaceMissing as exc:
        raise KfpTuneError(f"report_metrics: {exc}: call it from a trial kfp-tune launched (Push collector)") from None
    write_report(records, trial, metrics, step, "report_metrics")


def metric_number(name: str, value: object, caller: str) -> float:
    """A reported value as the number stored; ValueError, naming ``caller`` and the metric, for
    one that is not a finite number: a boolean too, though ``float(True)`` is 1.0."""
    if is_boolean(value):
        raise ValueError(f"{caller}: {name}={value!r} is a boolean, not a number")
    try:
        number = float(value)  # type: ignore[arg-type]  # anything float() takes
    except (TypeError, ValueError):
        raise ValueError(f"{caller}: {name}={value!r} is not a number") from None
    except OverflowError:  # an integer beyond a float's range
        number = math.inf
    if not math.isfinite(number):
        raise ValueError(f"{caller}: {name}={value!r} is not a finite number")
    return number


def write_report(records: ExperimentRecords, trial: str, metrics: Mapping[str, float], step: int | None, caller: str) -> None:
    """One report of a trial's metrics, in the store (what :func:`collect_pushed` reads). Each
    is a record of its own, stamped in report order, so reports from one trial never collide.
    ValueError, naming ``caller``, for a value that is not a finite number (nothing written)."""
    values = [{"name": str(name), "value": metric_number(name, value, caller), "step": step} for name, value in metrics.items()]
    stamp = f"{time.time_ns():020d}-{os.urandom(3).hex()}"
    records.write_once(records.report_key(trial, stamp), RecordKind.REPORTED_METRICS, {"metrics": values})
