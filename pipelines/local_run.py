"""Run the compiled pipeline on this machine with ``kfp.local`` (SubprocessRunner, no venv):
both sides of ``kfp-tune run --engine kfp-local``.

The child: called as a module so the CLI can keep kfp.local's own output in a log file while it
shows progress: ``python -m kfp_tune.pipelines.local_run SPEC_FILE STORE_URI LAUNCHER_JSON ROUNDS ROOT [TAKE_OVER]``
(SPEC_FILE: the experiment as JSON). The parent: :func:`run_in_child` starts it, follows its
log (``-v``), passes a Ctrl-C on, and finishes what a child killed outright could not.

Interrupts: kfp.local runs each step as a subprocess in this process's group and has no signal
handling of its own, so SIGINT, SIGTERM or SIGHUP sent to the group reaches the step that runs then
(launch-trial stops its trials and records them Killed, see ``steps.slots``). This process does
not die of it: it ends the run's claim (so no later step starts a trial) and lets kfp.local wind
down, running the pipeline's exit handler, while the step ends. Before the run has claimed the
experiment there is nothing to wind down: kfp.local is stopped there and then.

Killed outright (SIGKILL), this process leaves its steps orphaned: each step's launch-trial slots
watch it (``steps.slots.PIPELINE_PROCESS_VARIABLE``) and stop their trials as on SIGTERM.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn

from kfp_tune.core.errors import KfpTuneError, StoreInputError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.spec import Experiment
from kfp_tune.launchers.scratch import DAY_SECONDS, LEFTOVER_LOG_DAYS, in_use, kept_too_long, locked_log, own_folder, sweep_metrics_folders

if TYPE_CHECKING:
    from kfp_tune.core.interfaces import Store
    from kfp_tune.progress import ProgressWatcher


def run_pipeline_locally(
    experiment: Experiment,
    store_uri: str,
    launcher_config: dict[str, Any],
    rounds: int | None,
    pipeline_root: str,
    take_over: bool = False,
    fresh_experiment: bool = False,
    checkpoint_trials: int = 0,
) -> None:
    """Run the experiment's pipeline under kfp.local; raises if a task fails. No checkpoint
    before the end unless ``checkpoint_trials`` asks for one."""
    from kfp import local

    from kfp_tune.core.claims import OWNER_VARIABLE, run_owner
    from kfp_tune.steps.slots import PIPELINE_PROCESS_VARIABLE

    owned = OWNER_VARIABLE not in os.environ
    if owned:  # this process owns the run: its tasks are its children
        os.environ[OWNER_VARIABLE] = run_owner()
    watched = os.environ.get(PIPELINE_PROCESS_VARIABLE)
    os.environ[PIPELINE_PROCESS_VARIABLE] = str(os.getpid())  # the steps stop their trials once it is gone

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=pipeline_root, raise_on_error=True)
    pipeline = local_pipeline(experiment, store_uri, launcher_config, rounds, checkpoint_trials)
    # s3_endpoint "": the endpoint comes from this machine's environment, as for the CLI.
    try:
        with step_inputs_kept_whole(), step_ends_told():
            pipeline(
                store_uri=store_uri,
                experiment_name=experiment.name,
                launcher_config=json.dumps(launcher_config, sort_keys=True),
                take_over=take_over,
                fresh_experiment=fresh_experiment,
                s3_endpoint="",
            )
    finally:
        if owned:
            del os.environ[OWNER_VARIABLE]
        if watched is None:
            del os.environ[PIPELINE_PROCESS_VARIABLE]
        else:
            os.environ[PIPELINE_PROCESS_VARIABLE] = watched


def local_pipeline(
    experiment: Experiment, store_uri: str, launcher_config: dict[str, Any], rounds: int | None, checkpoint_trials: int = 0
) -> Any:
    """The pipeline a kfp.local run runs. Building it runs every check that can refuse it (the
    spec's size, the trials' resource amounts), so ``kfp-tune run`` builds it before it records
    anything, and a refused experiment leaves nothing in the store to pin its spec."""
    from kfp_tune.launchers.runtime_image import RuntimeImageWarning
    from kfp_tune.pipelines.builder import build_pipeline

    with warnings.catch_warnings():  # kfp.local runs the steps in this Python, not in KFP_TUNE_IMAGE
        warnings.simplefilter("ignore", RuntimeImageWarning)
        # kfp.local has no UI to refresh, and a checkpoint waits for the slowest running trial.
        return build_pipeline(
            experiment, rounds=rounds, store_uri=store_uri, launcher_config=launcher_config, checkpoint_trials=checkpoint_trials, checkpoint_seconds=0.0
        )


# Where kfp.local's bootstrap command ends: the element that runs the component's source; the
# component's own arguments (--executor_input with every input value, the function's name) follow.
COMPONENT_SOURCE_MARKS = ('"$program_path/ephemeral_component.py"', '"$@"')


@contextlib.contextmanager
def step_inputs_kept_whole() -> Iterator[None]:
    """kfp.local's SubprocessRunner (kfp 2.17) points each step's ``python3`` at this Python by
    replacing the text "python3" in every element of the step's command line, the inputs
    included: an experiment named python3-demo became "/path/to/python-demo" (the suggest step
    failed), and a trial command "python3 train.py" was stored as "/path/to/python train.py",
    so running the same experiment file again was refused as a changed spec. While this is
    active the replacement stops where the component's own arguments begin, as
    kubeflow/pipelines#14459 proposes upstream; the bootstrap before them is replaced as before."""
    from kfp.local import subprocess_task_handler as handler

    replace = handler.replace_python_executable

    def bootstrap_only(full_command: list[str], new_executable: str) -> list[str]:
        boundary = next((i for i, part in enumerate(full_command) if all(mark in part for mark in COMPONENT_SOURCE_MARKS)), None)
        if boundary is None:
            return replace(full_command, new_executable)
        return replace(full_command[: boundary + 1], new_executable) + list(full_command[boundary + 1 :])

    handler.replace_python_executable = bootstrap_only
    try:
        yield
    finally:
        handler.replace_python_executable = replace


STEP_END_MARK = "kfp-tune: the step's process "
"""Starts the line that says how a failed step's process ended, in kfp.local's log: read by
:func:`kfp_local_error`, which ``kfp-tune run --engine kfp-local`` (:func:`run_in_child`) raises
for a failed run."""


def step_end(code: int) -> str:
    """How a step's process ended, from its exit status: kfp.local runs it through ``sh``, which
    ends with 128 + N when the step's Python was killed by signal N (-N: ``sh`` itself was)."""
    from kfp_tune.launchers.local import process_end

    number = -code if code < 0 else code - 128 if code > 128 else 0
    if number in {int(s) for s in signal.Signals}:
        return f"was {process_end(-number)}"  # a trial's words for it too
    return f"ended with exit code {code}"


@contextlib.contextmanager
def step_ends_told() -> Iterator[None]:
    """kfp.local logs that a step failed, never how its process ended: while this is active, a
    step that fails is followed in the output by a line that says so (a killed step leaves no
    error of its own to read)."""
    from kfp.local import subprocess_task_handler as handler

    run = handler.run_local_subprocess

    def telling(full_command: list[str], env_vars: dict[str, str] | None = None) -> int:
        code = run(full_command, env_vars)
        if code != 0:
            print(f"    {STEP_END_MARK}{step_end(code)}", flush=True)
        return code

    handler.run_local_subprocess = telling
    try:
        yield
    finally:
        handler.run_local_subprocess = run


def _end_run_on_signals(store_uri: str, experiment_name: str) -> None:
    """On SIGINT / SIGTERM / SIGHUP, end the run's claim instead of dying, so the step running now, which
    got the same signal, can stop its trials cleanly, and every later step stops at its claim
    check before starting one. (This module run as a program only: a library call leaves the
    caller's handlers alone.)"""

    received: list[int] = []
    opened: list[Any] = []  # the store the first signal's release uses

    def handler(signum: int, frame: FrameType | None) -> None:
        from kfp_tune.core.claims import INTERRUPTED, release_held_by, run_owner
        from kfp_tune.core.records import ExperimentRecords
        from kfp_tune.steps.slots import stop_store_retries_soon
        from kfp_tune.stores import open_store

        received.append(signum)
        if len(received) > 1:  # the step running now has it too, and stops at once
            if opened:  # a release waiting on a store that is down: a few seconds more
                stop_store_retries_soon(opened[0])
            return
        ended = None
        with contextlib.suppress(Exception):  # best effort: the steps stop on the signal anyway
            opened.append(open_store(store_uri))
            ended = release_held_by(ExperimentRecords(opened[0], experiment_name), run_owner(), INTERRUPTED)
        if ended is None:  # the run has not claimed the experiment yet: no later step may start
            raise KeyboardInterrupt

    from kfp_tune.steps.slots import STOP_SIGNALS, takes_over

    for signum in STOP_SIGNALS:
        if takes_over(signum):
            signal.signal(signum, handler)


PARENT_POLL_SECONDS = 1.0


def _stop_when_orphaned() -> None:
    """Started by ``kfp-tune run`` (in its own session, so that a Ctrl-C reaches the CLI only),
    this process would outlive a CLI killed outright and run on unseen. It watches its parent
    instead: once that is gone, it sends its own process group SIGTERM, as the CLI would have."""
    from kfp_tune.core.claims import OWNER_VARIABLE

    parent = os.getppid()
    if OWNER_VARIABLE not in os.environ or os.getpgrp() != os.getpid():
        return  # not the CLI's child leading its own group: whoever started it handles it

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os.killpg(os.getpgrp(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


DISPLAY_NAME_NOTICE = r"Task '[^']*': settings \[(?:'(?:display_name|cpu_request|memory_request)'(?:, |\]))+ have no effect in the current local runner"
"""kfp.local's warning (kfp 2.17, ``task_executor._warn_local_only_noops``) for every task the
pipeline names for its UI and every step's own CPU and memory request
(:data:`~kfp_tune.pipelines.builder.STEP_CPU_REQUEST`): they are for a KFP cluster, and the
warning, once a task, filled the run's log. Only these are silenced; one for a setting that does
change a run (a resource limit) still shows."""


def quiet_display_name_notices() -> None:
    """Silence :data:`DISPLAY_NAME_NOTICE` in this process (the ``kfp-tune run`` child only)."""
    import warnings

    warnings.filterwarnings("ignore", message=DISPLAY_NAME_NOTICE, category=UserWarning, module=r"kfp\.local\.")


def main(argv: list[str]) -> int:
    spec_file, store_uri, launcher_json, rounds, root, *rest = argv
    quiet_display_name_notices()
    with open(spec_file, encoding="utf-8") as spec:  # a file: one argument holds at most 128 KiB
        experiment = load_experiment(json.load(spec))
    _end_run_on_signals(store_uri, experiment.name)
    _stop_when_orphaned()
    run_pipeline_locally(experiment, store_uri, json.loads(launcher_json), int(rounds) or None, root, take_over=rest == ["take-over"])
    return 0


# The parent's side: ``kfp-tune run --engine kfp-local`` starts this module as a child process,
# follows its log and finishes what it could not.


def run_in_child(
    experiment: Experiment,
    store_uri: str,
    launcher_config: dict[str, Any],
    rounds: int | None,
    take_over: bool,
    verbose: int = 0,
    store: Store | None = None,
    progress: ProgressWatcher | None = None,
) -> None:
    """Run the compiled pipeline under kfp.local in a child process, its output in a log file;
    with ``verbose`` (-v) its steps' log lines are logged here too as they are written (-vv: their
    debug lines as well), as the inline engine's are.

    The child gets its own session, so a Ctrl-C (or a closed terminal's SIGHUP) reaches this process only, which passes SIGINT,
    SIGTERM or SIGHUP on to the child's process group (kfp.local's tasks: the one running trials stops
    them and records them Killed). Once the child has ended, whatever it could not finish is
    finished here (``steps.decide_stop.end_interrupted_run``, in ``store``: the caller's, which
    its ``progress`` reads) and RunInterrupted is raised. A second signal stops at once, as the
    inline engine does: ``store``'s retry window is cut to a few seconds, the child's process group
    gets :data:`STOP_AT_ONCE_SECONDS` to end (SIGKILL to what is left), and with the store still
    down RunInterrupted says what could not be recorded (the stopped trials ``progress`` last saw
    running) instead of a store error after its whole window.

    The run's scratch folder (its log and kfp.local's pipeline root) is removed afterwards: the
    records are in the store. A failed run keeps its log, which its error names; -v keeps the log.
    What a run killed outright left is found by the next one (:func:`sweep_scratch_folders`)."""
    from kfp_tune.stores import open_store

    store = store if store is not None else open_store(store_uri)
    _note_leftover_scratch_folders()
    work, log_file = _locked_scratch_folder()
    argv = _child_command(experiment, work, store_uri, launcher_config, rounds, take_over)
    with log_file:  # its lock is held until the scratch folder is dealt with (sweep_scratch_folders)
        child = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=_child_env(work, verbose), start_new_session=True)
        code, received = _wait_passing_signals_on(child, store, work / KFP_LOCAL_LOG, verbose)
        _raise_if_the_child_failed(code, received, child.pid, work, store, experiment.name)
        step_unrecorded = _step_unrecorded(work)
        _clear_scratch_folder(work, verbose)
        if received:
            _end_interrupted(store, experiment.name, received[0], step_unrecorded, progress)


UNRECORDED_NOTE_FILE = "unrecorded.txt"
"""In the run's scratch folder: what a step's RunInterrupted could not record (its ``unrecorded``),
with the store down, for :func:`run_in_child` to say (``steps.entrypoints.UNRECORDED_NOTE_VARIABLE``)."""


def _note_leftover_scratch_folders() -> None:
    """Each scratch folder an earlier run left (:func:`sweep_scratch_folders`), named once."""
    from tqdm import tqdm

    for left in sweep_scratch_folders():
        with contextlib.suppress(OSError):
            tqdm.write(
                f"note: an earlier kfp-local run here ended without removing its scratch folder (its kfp-tune was killed: SIGKILL, or SIGHUP "
                f"where it could not be answered); kfp.local's log of it is kept {LEFTOVER_LOG_DAYS:g} days: {left}", file=sys.stderr,
            )


def _child_command(experiment: Experiment, work: Path, store_uri: str, launcher_config: dict[str, Any], rounds: int | None, take_over: bool) -> list[str]:
    """The child's command line (:func:`main`), its spec written to the scratch folder."""
    spec_path = work / "experiment.json"
    spec_path.write_text(json.dumps(experiment.to_dict()), encoding="utf-8")
    return [
        sys.executable, "-m", "kfp_tune.pipelines.local_run",
        str(spec_path), store_uri, json.dumps(launcher_config), str(rounds or 0), str(work / "pipeline-root"),
    ] + (["take-over"] if take_over else [])


def _child_env(work: Path, verbose: int) -> dict[str, str]:
    """This process owns the run: if it is killed, the next run here sees the claim is dead. The
    child's TMPDIR is the scratch folder: kfp.local's tasks leave a temporary folder each."""
    from kfp_tune.core.claims import OWNER_VARIABLE, run_owner
    from kfp_tune.core.vocabulary import DEBUG_VARIABLE
    from kfp_tune.steps.entrypoints import UNRECORDED_NOTE_VARIABLE

    return {
        **os.environ, OWNER_VARIABLE: run_owner(), "TMPDIR": str(work), UNRECORDED_NOTE_VARIABLE: str(work / UNRECORDED_NOTE_FILE),
        **({DEBUG_VARIABLE: "1"} if verbose > 1 else {}),
    }


def _wait_passing_signals_on(child: subprocess.Popen[bytes], store: Store, log_path: Path, verbose: int) -> tuple[int, list[str]]:
    """The child's exit status, and the names of the signals passed on to it meanwhile; its
    steps' log lines followed with -v; a child killed outright has its steps' stop waited for."""
    from kfp_tune.steps.slots import STOP_SIGNALS, takes_over

    ended = threading.Event()
    follower = threading.Thread(target=follow_steps, args=(log_path, ended), name="kfp-local-log", daemon=True)
    if verbose:
        logging.getLogger(__name__).info("kfp.local's whole log: %s (kept after the run, as -v was given)", log_path)
        follower.start()
    received: list[str] = []
    at_once: list[float] = []  # when the second signal came
    forward = _signal_forwarder(child, store, received, at_once)
    previous = {s: signal.signal(s, forward) for s in STOP_SIGNALS if takes_over(s)}
    try:
        code = wait_stopping_at_once(child, at_once)
        if code < 0 and not received:  # killed outright: its steps, orphaned, stop their trials (steps.slots watches for it)
            print(f"the kfp.local run (pid {child.pid}) was killed by {signal.Signals(-code).name}; waiting for its steps to stop their trials",
                  file=sys.stderr, flush=True)
            kill_group_after(child.pid, ORPHANED_STEPS_SECONDS)
    finally:
        ended.set()
        if follower.is_alive():
            follower.join(timeout=10.0)
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
    return code, received


def _signal_forwarder(child: subprocess.Popen[bytes], store: Store, received: list[str], at_once: list[float]) -> Callable[[int, Any], None]:
    """The handler that passes each stop signal on to the child's process group, noting it in
    ``received`` (and when a second one came in ``at_once``), and says it at once."""
    from tqdm import tqdm

    from kfp_tune.steps.slots import stop_notice, stop_store_retries_soon

    def forward(signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        received.append(name)
        if len(received) == 2:  # stopping at once: a store that is down gets a few seconds more, here too
            at_once.append(time.monotonic())
            stop_store_retries_soon(store)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signum)
        # said at once, in the inline engine's words: kfp.local's own output goes to its log
        with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone: the run is still stopped
            tqdm.write(stop_notice(name, first=len(received) == 1), file=sys.stderr)  # above the progress bar, if one shows

    return forward


def _raise_if_the_child_failed(code: int, received: list[str], pid: int, work: Path, store: Store, experiment_name: str) -> None:
    """A child that failed, or was killed outright, not by a signal passed on: its log kept, the
    rest of the scratch folder removed, and the error raised; killed outright, what its steps
    left running is recorded Killed and the claim released here, as the child could not."""
    from kfp_tune.core.claims import run_owner
    from kfp_tune.core.decision import trials_killed_by_interrupt
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.steps.decide_stop import end_interrupted_run

    if code == 0 or received:
        return
    log_path = work / KFP_LOCAL_LOG
    if code > 0 and ended_on_failed_experiment(log_path):  # the run's deliberate end: the caller's summary says it (exit 1)
        return
    keep_only_the_log(work)  # the log, named below, is kept; the rest goes
    if code < 0:
        how = f"killed by {signal.Signals(-code).name}"
        killed = end_interrupted_run(ExperimentRecords(store, experiment_name), run_owner(), f"its kfp.local process was {how}")
        raise KfpTuneError(
            f"the kfp.local run (pid {pid}) was {how}: {trials_killed_by_interrupt(killed)}; "
            f"the experiment is free for another run. Run the same command to resume (kfp.local's log: {log_path})"
        )
    raise kfp_local_error(log_path)


def _step_unrecorded(work: Path) -> str:
    """What a step's RunInterrupted left unrecorded (:data:`UNRECORDED_NOTE_FILE`), or ""."""
    unrecorded_note = work / UNRECORDED_NOTE_FILE
    return unrecorded_note.read_text(encoding="utf-8", errors="replace") if unrecorded_note.exists() else ""


def _clear_scratch_folder(work: Path, verbose: int) -> None:
    """With -v the log stays where -v said it is; the rest of the scratch folder goes."""
    import shutil

    if verbose:
        keep_only_the_log(work)
    else:
        shutil.rmtree(work, ignore_errors=True)


def _end_interrupted(store: Store, experiment_name: str, signal_name: str, step_unrecorded: str, progress: ProgressWatcher | None) -> NoReturn:
    """Raises RunInterrupted once what the child could not finish is finished here; with the
    store down, saying what could not be recorded."""
    from kfp_tune.core.claims import run_owner
    from kfp_tune.core.errors import RunInterrupted, StoreError
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.steps.decide_stop import end_interrupted_run
    from kfp_tune.steps.slots import unrecorded_after_interrupt

    try:
        killed = end_interrupted_run(ExperimentRecords(store, experiment_name), run_owner(), signal_name)
    except StoreError as exc:  # the store is down: the trials were stopped all the same, and the next run gives them back
        view = progress.view if progress is not None else None
        unrecorded = step_unrecorded or (unrecorded_after_interrupt(view, exc) if view is not None else f"the store could not record the interrupt ({exc})")
        raise RunInterrupted(signal_name, 0, unrecorded=unrecorded) from None
    raise RunInterrupted(signal_name, killed)


KFP_LOCAL_LOG = "kfp-local.log"
"""The kfp.local child's whole output (its steps' log lines among kfp.local's own), in the run's
scratch folder; kept when the run fails, or with -v."""
SCRATCH_PREFIX = "kfp-tune-local-"
"""A kfp-local run's scratch folder, under the temporary folder (``$TMPDIR``): ``kfp-tune-local-*``."""
STARTING_PREFIX = ".kfp-tune-starting-"
"""A scratch folder's name until its log is locked (:func:`_locked_scratch_folder`): the sweep
never takes a folder by it for one whose run has ended."""


def _locked_scratch_folder() -> tuple[Path, BinaryIO]:
    """A new scratch folder and its kfp.local log, open and locked: the lock is held while any
    process of the run has the log open (the child inherits it as its output), and a later run's
    sweep leaves the folder alone until then. The folder gets its swept name only once the lock
    is held, so a sweep starting at the same moment never sees it unlocked."""
    starting = Path(tempfile.mkdtemp(prefix=STARTING_PREFIX))
    log_file = locked_log(starting / KFP_LOCAL_LOG)
    work = starting.with_name(SCRATCH_PREFIX + starting.name.removeprefix(STARTING_PREFIX))
    os.rename(starting, work)
    return work, log_file


def keep_only_the_log(work: Path) -> None:
    """Remove everything in scratch folder ``work`` but its kfp.local log."""
    import shutil

    for item in work.iterdir():
        if item.name != KFP_LOCAL_LOG:
            shutil.rmtree(item, ignore_errors=True) if item.is_dir() and not item.is_symlink() else item.unlink(missing_ok=True)


def sweep_scratch_folders(folder: Path | None = None, now: float | None = None) -> list[Path]:
    """What earlier kfp-local runs left under the temporary folder (``folder``), once none of
    their processes is alive: a run whose ``kfp-tune`` was killed outright (SIGKILL, a SIGHUP
    it could not answer) could not remove its scratch folder. Such a folder is cut down to its
    kfp.local log; a kept log (a killed run's, a failed run's, -v's) is removed
    :data:`LEFTOVER_LOG_DAYS` days after it was last written (the rule of
    :mod:`kfp_tune.launchers.scratch`; local trials' folders that a killed inline run, or this
    machine's kfp.local steps, left are swept here too). Returns the logs of killed runs found
    this time (their folder whole until now: nobody was told), for the caller to name."""
    import shutil

    now = time.time() if now is None else now
    root = Path(folder or tempfile.gettempdir())
    sweep_metrics_folders(root, now)
    found = []
    for starting in root.glob(STARTING_PREFIX + "*"):  # killed before its log was locked
        with contextlib.suppress(OSError):
            info = own_folder(starting)
            if info is not None and now - info.st_mtime > DAY_SECONDS:
                shutil.rmtree(starting, ignore_errors=True)
    for work in sorted(root.glob(SCRATCH_PREFIX + "*")):
        log = work / KFP_LOCAL_LOG
        try:
            info = own_folder(work)
            if info is None:
                continue
            if not log.exists():  # died before its log: after a day, gone
                if now - info.st_mtime > DAY_SECONDS:
                    shutil.rmtree(work, ignore_errors=True)
                continue
            if in_use(log):
                continue
            if kept_too_long(log, now):
                shutil.rmtree(work, ignore_errors=True)
                continue
            untold = any(item.name != KFP_LOCAL_LOG for item in work.iterdir())
            keep_only_the_log(work)
        except OSError:  # removed by another run's sweep meanwhile
            continue
        if untold:
            found.append(log)
    return found
KFP_EXECUTOR_LINE = re.compile(r"^ {4}\[KFP Executor \S+ \S+ (?P<level>[A-Z]+)\]: (?P<message>.*)$")
"""A step's log line as kfp.local shows it: indented, in KFP's executor format (kfp/dsl/executor_main.py)."""
KFP_EXECUTOR_NOISE = ("Looking for component ", "Loading KFP component ", "Got executor_input:", "Wrote executor output file ")
"""KFP's executor's own lines about loading a component and its inputs: no step of kfp-tune's says them."""


class StepLines:
    """Picks the steps' own log lines out of kfp.local's log, as it is written: kfp.local's lines
    (tasks starting and ending, their outputs) and the KFP executor's are left out; a line that
    goes on a step's record (a traceback, a step's plain print) goes with it."""

    def __init__(self) -> None:
        self.task = "kfp.local"
        self.level = logging.INFO
        self.showing = False

    def feed(self, line: str) -> tuple[int, str, str] | None:
        """(level, step, message) for a line to show, else None."""
        line = re.sub(r"\x1b\[[0-9;]*m", "", line.rstrip("\r\n"))
        started = re.search(r"Executing task '([^']+)'", line)
        if started:
            self.task, self.showing = started.group(1), False
            return None
        if not line.startswith("    "):  # kfp.local's own line ends what went before it
            self.showing = False
            return None
        record = KFP_EXECUTOR_LINE.match(line)
        if record:
            message = record.group("message")
            level = logging.getLevelName(record.group("level"))
            self.level = level if isinstance(level, int) else logging.INFO
            self.showing = not message.startswith(KFP_EXECUTOR_NOISE)
            return (self.level, self.task, message) if self.showing else None
        if self.showing and line.strip():
            return self.level, self.task, line[4:]
        return None


def follow_steps(log_path: Path, ended: threading.Event) -> None:
    """Log each step's line of the kfp.local log as it is written (``-v``: the inline engine logs
    them as they happen), under the step's name, until ``ended`` is set and the log is read."""
    lines, pending = StepLines(), ""
    with open(log_path, encoding="utf-8", errors="replace") as log:
        while True:
            finished = ended.is_set()  # read after it is set: nothing written before it is missed
            chunk = log.readline()
            if chunk:
                pending += chunk
                if not pending.endswith("\n") and not finished:
                    continue
                shown_line, pending = lines.feed(pending), ""
                if shown_line is not None:
                    level, task, message = shown_line
                    logging.getLogger(f"step {task}").log(level, "%s", message)
            elif finished:
                return
            else:
                time.sleep(0.1)


STOP_AT_ONCE_SECONDS = 15.0
"""After a second signal, how long ``kfp-tune run`` waits for its kfp.local child's process group
to end before it SIGKILLs what is left: its steps stop their trials at once (SIGKILL) and give a
store that is down ``steps.slots.STORE_SECONDS_AFTER_STOP_AT_ONCE`` more, but a step that started
after (the exit handler) would wait out the store's whole retry window."""


def wait_stopping_at_once(child: subprocess.Popen[bytes], at_once: list[float]) -> int:
    """``child``'s exit status. Once ``at_once`` holds when a second signal came, its process
    group (kfp.local and its steps) has :data:`STOP_AT_ONCE_SECONDS` from then to end, and is
    then killed."""
    while True:
        try:
            code = child.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            if at_once and time.monotonic() > at_once[0] + STOP_AT_ONCE_SECONDS:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(child.pid, signal.SIGKILL)
            continue
        if at_once:  # what kfp.local left of its steps
            kill_group_after(child.pid, max(0.0, at_once[0] + STOP_AT_ONCE_SECONDS - time.monotonic()))
        return code


ORPHANED_STEPS_SECONDS = 60.0
"""How long ``kfp-tune run`` waits for the steps of a kfp.local child killed outright to stop
their trials (a slots step waits up to ``steps.slots.INTERRUPT_WAIT_SECONDS`` for them) before it
kills whatever of them is left."""


def kill_group_after(group: int, seconds: float) -> None:
    """Until process group ``group`` is empty; SIGKILL to what is left of it after ``seconds``
    (the launcher's ``_group_gone_within`` only waits: it leaves the killing to its caller)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            os.killpg(group, signal.SIGKILL if time.monotonic() > deadline else 0)
        except ProcessLookupError:
            return
        except PermissionError:  # a member of it we may not signal: nothing more to do
            return
        time.sleep(0.2)


def ended_on_failed_experiment(log_path: Path) -> bool:
    """Whether a kfp.local run failed only because its experiment ended Failed: its one failed
    step said so (``steps.decide_stop.ExperimentFailed``, fail-if-experiment-failed's one line), as
    the pipeline fails such a run on purpose. ``kfp-tune run`` then ends as the inline engine does,
    with its summary and exit 1, not "the kfp.local pipeline run failed in step ..."."""
    from kfp_tune.steps.decide_stop import ExperimentFailed

    said = f"    {ExperimentFailed.__module__}.{ExperimentFailed.__qualname__}: "
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in log_path.read_text(errors="replace").splitlines()]
    failed = [at for at, line in enumerate(lines) if re.search(r"Task '[^']+' finished with status FAILURE", line)]
    if len(failed) != 1:  # another step failed too (the exit handler): that one is the error
        return False
    started = max((i for i in range(failed[0]) if "Executing task" in lines[i]), default=0)  # the failed step's own output
    return any(line.startswith(said) for line in lines[started:failed[0]])


def kfp_local_error(log_path: Path) -> KfpTuneError:
    """What failed in a kfp.local run: the failed step and the error it ended on (found in the
    log, where kfp.local indents each step's output), or how its process ended (a step killed
    by a signal has no error of its own: ``pipelines.local_run.step_ends_told``), else the log's
    last lines. A step's store refusal (a key revoked or rotated mid-run) is the store's own
    StoreInputError, the step and log after its words, with no class name: ``kfp-tune run`` says
    it as it says the inline engine's, a refusal after the run had started (exit 1: the same
    command resumes once the store accepts the credentials; from another machine, with
    ``--take-over``)."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in log_path.read_text(errors="replace").splitlines()]
    error = re.compile(r"^ {4}((?:kfp_tune(?:\.\w+)+\.[A-Z]\w*)|(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Busy|Conflict|Interrupted|Record|Exit|NotCreated)): (.*)$")
    for at, line in enumerate(lines):
        failed = re.search(r"Task '([^']+)' finished with status FAILURE", line)
        if failed:
            started = max((i for i in range(at) if "Executing task" in lines[i]), default=0)  # the failed step's own output
            own = lines[started:at]
            ended = next((text.strip()[len(STEP_END_MARK):] for text in own if text.strip().startswith(STEP_END_MARK)), "")
            cause = next((m for m in (error.match(text) for text in reversed(own)) if m), None)
            if cause is not None and "killed by signal" not in ended:
                kind = cause.group(1).rsplit(".", 1)[-1]
                if kind == StoreInputError.__name__:
                    return StoreInputError(f"{cause.group(2)} (in step {failed.group(1)}; kfp.local's log: {log_path})")
                return KfpTuneError(f"the kfp.local pipeline run failed in step {failed.group(1)}: {kind}: {cause.group(2)} (its log: {log_path})")
            if ended:
                return KfpTuneError(f"the kfp.local pipeline run failed in step {failed.group(1)}: its process {ended} (its log: {log_path})")
            break
    return KfpTuneError("the kfp.local pipeline run failed; last lines of its log (" + str(log_path) + "):\n" + "\n".join(lines[-25:]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
