"""Run a trial as a call to a Python function in this process (``kfp_tune.tune``).

The function reports its metrics by returning them, or, as a Katib trial does, by printing them
in Katib's ``name=value`` format and returning None: what it prints is read by the StdOut
collector's own parser (:func:`kfp_tune.collectors.stdout.parse_metric_lines`). Trials run on
threads of this process, so what each one prints is told apart by thread (:func:`captured_output`).
"""

from __future__ import annotations

import contextlib
import difflib
import io
import logging
import math
import numbers
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from kfp_tune.collectors.push import function_trial_named
from kfp_tune.collectors.stdout import DEFAULT_FORMAT_NAME, NAME_RULE, missing_metric_hints, parse_metric_lines
from kfp_tune.core.errors import RunInterrupted, shown
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.observation import MetricLog, is_boolean
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.space import SearchSpace, as_given
from kfp_tune.core.vocabulary import KATIB_TRIAL_VARIABLE, LaunchPhase

log = logging.getLogger(__name__)

Objective = Callable[[dict[str, Any]], "float | Mapping[str, float]"]

KEEP_OUTPUT_WAIT_SECONDS = 5.0
"""How long the stop button's answer waits for the running calls' output to be stored (the
store is written on a thread of its own: the answer runs in the signal handler, which may have
interrupted this thread inside the store)."""


def calls_left_running(count: int, waiting: bool = False) -> str:
    """What becomes of ``count`` function trials running when their run is stopped: Python
    cannot stop a call in a thread, so the stop button (SIGINT) does not stop them, whatever
    the run's notice says of its trials. ``waiting``: the run still waits for them (its first
    stop signal); else it has ended, or stops waiting at once."""
    calls = f"{count} trial call(s) {'run' if waiting else 'still run'} in this process's threads, which cannot be stopped from outside"
    if waiting:
        return (f"{calls}: the run waits for them; one that has not returned by then goes on in the background until it returns, "
                "and its result is discarded (restart the kernel, or the Python process, to stop it)")
    return (f"{calls}: they go on in the background until they return, and their results are discarded; "
            "restart the kernel (or the Python process) to stop them")


@dataclass(frozen=True)
class CallersLine:
    """The line that called ``tune()``, taken on its thread: a warning given on a trial's thread
    names it, as ``tune()``'s other warnings do (that thread's stack holds only kfp-tune's frames)."""

    filename: str
    lineno: int
    module_globals: dict[str, Any]

    @classmethod
    def of_caller(cls, depth: int) -> CallersLine:
        """The frame ``depth`` calls above the one calling this."""
        frame = sys._getframe(depth + 1)
        return cls(frame.f_code.co_filename, frame.f_lineno, frame.f_globals)

    def warn(self, message: str) -> None:
        warnings.warn_explicit(message, UserWarning, self.filename, self.lineno, module=self.module_globals.get("__name__"),
                               registry=self.module_globals.setdefault("__warningregistry__", {}), module_globals=self.module_globals)


class FunctionLauncher(Launcher):
    """Calls ``objective(params)`` with typed parameter values (discrete ones as numbers, a
    categorical one as the object ``objects`` gives for its text, else its text). A number it returns is the
    objective metric; a dict is metric name -> value. None, with the metrics printed as
    ``name=value`` (Katib's StdOut format, one or more per line), reports every printed value of
    ``metric_names`` (default: the objective metric), each print a step. What the call printed is
    the trial's log. An exception fails the trial, with the traceback at the end of its log."""

    def __init__(self, objective: Objective, space: SearchSpace, objective_metric: str, metric_names: Sequence[str] = (),
                 objects: Mapping[str, Mapping[str, Any]] | None = None):
        self.objective, self.space, self.objective_metric = objective, space, objective_metric
        self.objects = dict(objects or {})  # search.categorical_objects: a categorical's values by their text
        self.metric_names = list(dict.fromkeys([objective_metric, *metric_names]))
        self._interrupted = threading.Event()
        self._calls_lock = threading.Lock()
        self._running_calls = 0
        self._records: ExperimentRecords | None = None
        self._outputs: dict[str, tuple[str, io.StringIO]] = {}  # running calls: trial -> (log name, what it printed so far)
        self._outputs_lock = threading.Lock()  # never held across a store write: a call's end must not wait on the store
        self._kept_now: set[str] = set()  # trials whose output so far the stop's keeper is storing now
        self._ended_while_kept: dict[str, dict[str, str]] = {}  # their whole logs, for the keeper to write over its snapshot
        self._told_objective_missing = threading.Event()
        self.warned_at: CallersLine | None = None  # tune()'s caller: where a trial thread's warning points

    def keeps_stopped_output_in(self, records: ExperimentRecords) -> None:
        """Store what each running call has printed when the run is stopped, as its trial's log:
        a call the run then lets go (recorded Killed) never returns its log, and that output is
        the only record of how far it got (a Killed trial pod's log keeps it too). A call that
        ends in the run's grace period replaces it with its whole log, as it ends."""
        self._records = records

    can_interrupt = True

    @property
    def running_calls(self) -> int:
        """How many calls of the function run now; after a stop, those it could not stop."""
        with self._calls_lock:
            return self._running_calls

    def interrupt(self, force: bool = False) -> None:
        """The run is being stopped by its user: no call starts from now on. A call already
        running cannot be stopped from outside (it is Python code in a thread): the run waits a
        grace period for it, then records it Killed and leaves it to end on its own, its result
        discarded (``launch_trial`` writes nothing once the run has let the trial go). Said, as
        the run's notice speaks of stopping its trials."""
        self._interrupted.set()
        running = self.running_calls
        if running:
            log.warning("%s", calls_left_running(running, waiting=not force))
        if self._records is not None and self._outputs:
            keeper = threading.Thread(target=self._keep_output_so_far, args=(self._records,), name="function-trial-output", daemon=True)
            keeper.start()
            keeper.join(KEEP_OUTPUT_WAIT_SECONDS)

    def _keep_output_so_far(self, records: ExperimentRecords) -> None:
        """Each running call's output so far, stored as its trial's log (best effort: the stop
        goes on whatever the store says). The texts are taken under the lock and written outside
        it, so a slow store holds up no call's end; a call that ends while its snapshot is written
        has its whole log written again after it, so the snapshot never replaces it."""
        with self._outputs_lock:
            snapshot = [(trial, log_name, output.getvalue()) for trial, (log_name, output) in self._outputs.items()]
        for trial, log_name, text in snapshot:
            if not text:
                continue
            with self._outputs_lock:
                if trial not in self._outputs:  # it has ended: its end writes its whole log
                    continue
                self._kept_now.add(trial)
            try:
                records.write_text(records.log_key(trial, log_name), text)
            except Exception as exc:  # the store may be what is failing; the stop must not
                log.warning("trial %s: what it printed before the stop could not be kept: %s", trial, exc)
            finally:
                with self._outputs_lock:
                    self._kept_now.discard(trial)
                    whole = self._ended_while_kept.pop(trial, None)
            for name, whole_text in (whole or {}).items():
                try:
                    records.write_text(records.log_key(trial, name), whole_text)
                except Exception as exc:
                    log.warning("trial %s: its whole log could not be written over what it printed before the stop: %s", trial, exc)

    def run(self, trial: TrialRun) -> LaunchOutcome:
        outcome = self._called(trial)
        with self._outputs_lock:
            if trial.trial in self._kept_now:  # the keeper's snapshot is being written: it writes this log after
                self._ended_while_kept[trial.trial] = dict(outcome.logs)
        return outcome

    def _called(self, trial: TrialRun) -> LaunchOutcome:
        """One call of the function, as its trial's outcome."""
        if self._interrupted.is_set():
            raise RunInterrupted()
        params = as_given(self.space.to_python(trial.assignment), self.objects)
        failure: str | None = None
        returned: Any = None
        exited: str | None = None  # how it called sys.exit() when that ended it with status 0
        container = trial.primary_container
        with captured_output() as output, self._counted_call(), function_trial_named(trial.trial), self._output_followed(trial.trial, container, output):
            try:
                returned = self.objective(params)
            except Exception as exc:  # the user's code failed: the trial fails, the experiment goes on
                failure, where = _failure_message(exc), traceback.format_exc()
            except SystemExit as exc:  # sys.exit(): as a trial container that exits with that code
                if _exit_status(exc.code) != 0:
                    failure, where = _exit_message(exc.code), traceback.format_exc()
                else:
                    exited = "sys.exit()" if exc.code is None else f"sys.exit({exc.code!r})"
            except RunInterrupted:
                raise
            except KeyboardInterrupt:  # raised by the function itself: its user stops the run, as with Ctrl-C
                raise RunInterrupted("KeyboardInterrupt", logs={container: output.getvalue()} if output.getvalue() else None) from None
        printed = output.getvalue()
        if failure is not None:
            return LaunchOutcome(LaunchPhase.FAILED, reason="Error", message=failure, logs={container: _joined(printed, where)})
        if returned is None:
            pushed = parse_metric_lines(printed.splitlines(), self.metric_names)
            if not pushed:  # as a container that exits 0 without the metric: collect-metrics records it MetricsUnavailable, as Katib does
                return LaunchOutcome(LaunchPhase.SUCCEEDED, message=self._no_metric_printed(printed, exited), logs={container: printed} if printed else {})
            return LaunchOutcome(LaunchPhase.SUCCEEDED, logs={container: printed}, pushed=pushed)
        try:
            pushed = _metrics(returned, self.objective_metric)
        except (TypeError, ValueError) as exc:
            return LaunchOutcome(LaunchPhase.FAILED, reason="InvalidResult", message=str(exc), logs={container: printed} if printed else {})
        text = "\n".join(f"{m.name}={m.value!r}" for m in pushed)
        return LaunchOutcome(LaunchPhase.SUCCEEDED, logs={container: _joined(printed, text + "\n")}, pushed=pushed)

    def warn_once_if_objective_missing(self, trial: str, returned: Any, caller: str = "tune():", how: str = "returned") -> None:
        """A returned dict without the objective metric ends its trial MetricsUnavailable, and
        one trial settles that the function returns its metrics under other names: said once, at
        the first such trial, in the words of ``caller``'s argument, so that a run of long trainings
        that cannot count is seen at its start. The run goes on with its whole budget, as Katib's does.
        ``how``: how the function gave ``returned``'s metrics (printed them, reported them)."""
        name = self.objective_metric
        if not isinstance(returned, Mapping) or not returned or name in returned or self._told_objective_missing.is_set():
            return
        self._told_objective_missing.set()
        keys = [str(k) for k in returned]
        closest = (difflib.get_close_matches(name, keys, n=1, cutoff=0.0) or keys)[0]
        message = (
            f"{caller} trial {trial} {how} no {name!r} (objective_metric_name is {name!r}), only {shown(dict(returned))}: it ends "
            f"MetricsUnavailable, as will every trial that {'returns' if how == 'returned' else 'reports'} no {name!r}; pass objective_metric_name={closest!r} to optimize "
            f"{closest!r} (said once; the run goes on with its whole budget, as Katib's does)")
        if self.warned_at is None:
            warnings.warn(message, UserWarning, stacklevel=2)
        else:
            self.warned_at.warn(message)

    def printed_metrics(self, printed: str) -> dict[str, float]:
        """The metrics a call's output has in Katib's ``name=value`` format under any name (at
        most three), each its last value: what it reported, where the objective is not among them."""
        _, names = missing_metric_hints(self.objective_metric, printed, every_name=True)
        return {m.name: m.value for m in parse_metric_lines(printed.splitlines(), names)}

    @contextlib.contextmanager
    def _output_followed(self, trial: str, log_name: str, output: io.StringIO) -> Iterator[None]:
        """The call's output, there to be kept at a stop (:meth:`keeps_stopped_output_in`) while it runs."""
        with self._outputs_lock:
            self._outputs[trial] = (log_name, output)
        try:
            yield
        finally:
            with self._outputs_lock:  # the stop's keeper stores no snapshot of it from now on
                self._outputs.pop(trial, None)

    @contextlib.contextmanager
    def _counted_call(self) -> Iterator[None]:
        """One call of the function, counted in :attr:`running_calls` while it runs."""
        with self._calls_lock:
            self._running_calls += 1
        try:
            yield
        finally:
            with self._calls_lock:
                self._running_calls -= 1

    def _no_metric_printed(self, printed: str, exited: str | None = None) -> str:
        """Why a call that returned None (or ``exited``: ended by that ``sys.exit()`` call with
        status 0, returning nothing) reported no objective metric, for the trial's message after
        collect-metrics' own (no such line printed): a name Katib's ``name=value`` format cannot
        carry, or what is expected and what it printed first."""
        name = self.objective_metric
        ended = "the objective returned NoneType" if exited is None else f"the objective called {exited} (exit code 0) without returning"
        if DEFAULT_FORMAT_NAME.fullmatch(name) is None:
            return (f"{ended}, and a printed {name}=<number> cannot be read: Katib's name=value format takes "
                    f"metric names of {NAME_RULE}; return the metrics instead: return {{{name!r}: value}}, "
                    f"or report them as it runs: kfp_tune.report_metrics({{{name!r}: value}})")
        first = printed.strip().splitlines()[0] if printed.strip() else ""
        reported = f"kfp_tune.report_metrics({{{name!r}: value}})"
        expected = (f"expected a number, a dict of metric name -> number, the metrics reported as it runs ({reported}), "
                    f"or printed in Katib's name=value format (print(f\"{name}={{value}}\"))" if exited is None else
                    f"expected the metrics reported ({reported}) or printed in Katib's name=value format before it exits "
                    f"(print(f\"{name}={{value}}\")), or returned instead: a number or a dict of metric name -> number")
        if not first:  # not "it printed nothing": what it wrote where nothing is read may be on the screen
            return f"{ended}; {expected}; {'it printed only blank lines' if printed else _NOTHING_READ}"
        return f"{ended}; {expected}; it printed {shown(first)} first"


_NOTHING_READ = (
    "no output was read from its thread: what is read is what that thread prints, and what it logs through a logging handler "
    "on stdout or stderr of a logger from logging.getLogger (one there as the trial started, or made on sys.stdout or sys.stderr "
    "since); not read are a QueueHandler (its QueueListener writes from a thread of its own), a handler another thread adds while "
    "the trial runs, loggers made without getLogger, threads it starts, subprocesses and C code: return the metrics, or report "
    "them with kfp_tune.report_metrics"
)
"""Said of a call from which no output was read: what is read and what is not, as the screen
may well show its metric line (a QueueListener's thread wrote it), and what to do instead."""

_NO_TRIAL_VARIABLE = ("a function trial run in this process has no KATIB_TRIAL_NAME (its trials share one environment): "
                      "kfp_tune.trial_name() gives its trial's name; with a host each trial is a container that has it")
"""Added to the failure of a function that read ``os.environ["KATIB_TRIAL_NAME"]``, as Katib's trial pods have it."""


def _failure_message(exc: Exception) -> str:
    """A function's exception as its trial's failure message, with the way out for a Katib
    objective that reads ``KATIB_TRIAL_NAME``."""
    message = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, KeyError) and exc.args == (KATIB_TRIAL_VARIABLE,):
        message += f"; {_NO_TRIAL_VARIABLE}"
    return message


def _exit_status(code: object) -> int:
    """The status a process ends with on ``sys.exit(code)``: None is 0, an int (or a bool) its
    low byte (``-1`` 255, ``300`` 44, ``True`` 1), anything else 1 (Python prints it). An int
    beyond a C long (signed 64 bits) is 255: CPython's ``PyLong_AsLong`` overflows and it exits -1."""
    if code is None:
        return 0
    if not isinstance(code, int):
        return 1
    if not -(2**63) <= code < 2**63:
        return 255
    return int(code) & 0xFF


def _exit_message(code: object) -> str:
    """``sys.exit(code)`` as a container's end reads: ``exit code 3`` (the status the process
    would end with, :func:`_exit_status`); ``sys.exit("why")`` exits 1 having printed why."""
    if code is None or isinstance(code, int):
        return f"exit code {_exit_status(code)}"
    return f"exit code 1: {code}"


def _joined(printed: str, after: str) -> str:
    """What the call printed, then the launcher's own lines, each part on lines of its own."""
    if printed and not printed.endswith("\n"):
        printed += "\n"
    return printed + after


class _ThreadOutput:
    """Stands in for ``sys.stdout`` / ``sys.stderr`` while function trials run: what a trial's
    thread writes is kept for that trial (as a container's log keeps its output) and still goes
    on to the stream that was there, so a notebook shows it as before. Other threads' writes
    pass straight through."""

    def __init__(self, inner: TextIO | None):
        self.inner = inner  # None: there was no stream (pythonw), the output is only kept

    def write(self, text: str) -> int:
        buffer = _buffers.get(threading.get_ident())
        if buffer is not None:
            buffer.write(text)
        return self.inner.write(text) if self.inner is not None else len(text)

    def flush(self) -> None:
        if self.inner is not None:
            self.inner.flush()

    def __getattr__(self, name: str) -> Any:  # encoding, isatty, fileno, ... of the real stream
        return getattr(self.inner, name)


_buffers: dict[int, io.StringIO] = {}
_installed: dict[str, _ThreadOutput] = {}
_redirected: list[tuple[logging.StreamHandler[Any], _ThreadOutput]] = []
"""The logging handlers whose stream :func:`_redirect_logging_handlers` replaced, each with its stand-in."""
_users = 0
_lock = threading.Lock()


@contextlib.contextmanager
def captured_output() -> Iterator[io.StringIO]:
    """What this thread prints (stdout and stderr, in order) while the block runs, and what it
    logs through a ``logging`` handler that writes to them, made before the block or in it.
    Threads the block starts, subprocesses and C code writing to the file descriptors are not
    seen: a trial that prints from those reports its metrics by returning them instead."""
    global _users
    buffer = io.StringIO()
    ident = threading.get_ident()
    with _lock:
        for name in ("stdout", "stderr"):
            current = getattr(sys, name)
            if not isinstance(current, _ThreadOutput):  # first use, or someone replaced it since
                _installed[name] = _ThreadOutput(current)
                setattr(sys, name, _installed[name])
        _redirect_logging_handlers()
        _users += 1
        outer = _buffers.get(ident)  # a trial that runs tune() itself: its own output resumes after
        _buffers[ident] = buffer
    try:
        yield buffer
    finally:
        with _lock:
            if outer is None:
                _buffers.pop(ident, None)
            else:
                _buffers[ident] = outer
            _users -= 1
            if _users == 0:
                _restore_logging_handlers()
                for name, proxy in list(_installed.items()):
                    if getattr(sys, name) is proxy:  # put back only what is still ours
                        setattr(sys, name, proxy.inner)
                    del _installed[name]
            else:  # a handler this trial's run added on the real stream is read for the trials still running
                _redirect_logging_handlers()


def _redirect_logging_handlers() -> None:
    """Point every logging handler that writes to this process's stdout or stderr (the streams
    there when the capture began, or ``sys.__stdout__`` / ``sys.__stderr__``) at a stand-in
    for that stream, as a container's log holds what its process logs there: a handler keeps
    the stream it was made with (logging set up in a notebook cell before ``tune()``), so
    swapping ``sys.stderr`` alone misses it. A handler made during a trial already holds the
    stand-in. The handler's level, filters and formatter are not touched, and what it writes
    still reaches its stream once. Under ``_lock``; called as each trial starts, and as each
    ends while others run, so a handler added since the first is seen too (from then on)."""
    proxies: dict[int, _ThreadOutput] = {id(p.inner): p for p in _installed.values() if p.inner is not None}
    proxies.update({id(p.inner): p for _, p in _redirected if id(p.inner) not in proxies})
    for stream in (sys.__stdout__, sys.__stderr__):
        if stream is not None and id(stream) not in proxies:
            proxies[id(stream)] = _ThreadOutput(stream)
    for handler in _stream_handlers():
        proxy = proxies.get(id(vars(handler).get("stream")))
        if proxy is None:
            continue
        handler.acquire()
        try:
            if vars(handler).get("stream") is proxy.inner:
                handler.stream = proxy
                _redirected.append((handler, proxy))
        finally:
            handler.release()


def _stream_handlers() -> list[logging.StreamHandler[Any]]:
    """The StreamHandlers of the root logger and of every logger made, each once. Only those
    holding their stream as an attribute (not logging's last-resort handler, whose ``stream``
    reads ``sys.stderr`` as it writes)."""
    loggers = [logging.root, *(v for v in list(logging.root.manager.loggerDict.values()) if isinstance(v, logging.Logger))]
    found: dict[int, logging.StreamHandler[Any]] = {}
    for logger in loggers:
        for handler in list(logger.handlers):
            if isinstance(handler, logging.StreamHandler) and "stream" in vars(handler):
                found.setdefault(id(handler), handler)
    return list(found.values())


def _restore_logging_handlers() -> None:
    """Give each handler :func:`_redirect_logging_handlers` pointed at a stand-in its stream back,
    unless it was given another stream since (``setStream``); and a handler made while trials
    ran, on the stand-in ``sys.stderr`` of that moment (logging set up in the function), the
    stream the stand-in stood for. Under ``_lock``, as the last function trial ends."""
    for handler, proxy in _redirected:
        handler.acquire()
        try:
            if vars(handler).get("stream") is proxy:
                handler.stream = proxy.inner
        finally:
            handler.release()
    _redirected.clear()
    for handler in _stream_handlers():
        handler.acquire()
        try:
            stream = vars(handler).get("stream")
            while isinstance(stream, _ThreadOutput) and stream.inner is not None:
                stream = stream.inner
            if stream is not vars(handler).get("stream"):
                handler.stream = stream
        finally:
            handler.release()


def _kind(value: object) -> str:
    """How a returned value that is no metric is named: its type, and an array's shape."""
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and shape:
        return f"{type(value).__name__} of shape {tuple(shape)} (a metric is one number: .item() of a one-value array, or a reduction such as .mean())"
    return type(value).__name__


def _is_number(value: object) -> bool:
    """A returned value taken as a metric: a real number, or a NumPy / PyTorch / JAX scalar held
    in a 0-d array or tensor (``loss`` where ``loss.item()`` was meant), as Optuna takes what
    ``float()`` takes; never a boolean, text or an array of more than one value."""
    if is_boolean(value):
        return False
    if isinstance(value, numbers.Real):
        return True
    return getattr(value, "shape", None) == () and hasattr(type(value), "__float__")


def _metrics(returned: Any, objective_metric: str) -> list[MetricLog]:
    if _is_number(returned):
        items = {objective_metric: returned}
    elif isinstance(returned, Mapping):
        items = dict(returned)
    else:
        raise TypeError(f"the objective returned {_kind(returned)}; expected a number or a dict of metric name -> number")
    out = []
    for name, value in items.items():
        if not _is_number(value):
            raise TypeError(f"metric {name!r} is {_kind(value)}; expected a number")
        try:
            number = float(value)
        except OverflowError:  # 10**400, a Fraction as large: past any float, as inf is
            continue
        except (TypeError, ValueError, RuntimeError) as exc:  # a 0-d complex array, a tensor that will not convert
            raise TypeError(f"metric {name!r} is {_kind(value)}, which float() refuses: {exc}") from None
        if not math.isfinite(number):
            continue  # a non-finite metric never reaches an algorithm
        out.append(MetricLog(str(name), number, 0))
    return out
