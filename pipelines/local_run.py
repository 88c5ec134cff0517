"""Run the compiled pipeline on this machine with ``kfp.local`` (SubprocessRunner, no venv).

Called as a module so the CLI can keep kfp.local's own output in a log file while it shows
progress: ``python -m kfp_tune.pipelines.local_run SPEC_FILE STORE_URI LAUNCHER_JSON ROUNDS ROOT [TAKE_OVER]``
(SPEC_FILE: the experiment as JSON).

Interrupts: kfp.local runs each step as a subprocess in this process's group and has no signal
handling of its own, so SIGINT or SIGTERM sent to the group reaches the step that runs then
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
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from types import FrameType
from typing import Any

from kfp_tune.core.loading import load_experiment
from kfp_tune.core.spec import Experiment


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
    from kfp_tune.pipelines.builder import build_pipeline

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
"""Starts the line that says how a failed step's process ended, in kfp.local's log (read by
``kfp-tune run``: see ``cli._kfp_local_failure``)."""


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
    """On SIGINT / SIGTERM, end the run's claim instead of dying, so the step running now, which
    got the same signal, can stop its trials cleanly, and every later step stops at its claim
    check before starting one. (This module run as a program only: a library call leaves the
    caller's handlers alone.)"""

    received: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        from kfp_tune.core.claims import INTERRUPTED, release_held_by, run_owner
        from kfp_tune.core.records import ExperimentRecords
        from kfp_tune.stores import open_store

        received.append(signum)
        if len(received) > 1:
            return  # the step running now has it too, and stops at once
        ended = None
        with contextlib.suppress(Exception):  # best effort: the steps stop on the signal anyway
            ended = release_held_by(ExperimentRecords(open_store(store_uri), experiment_name), run_owner(), INTERRUPTED)
        if ended is None:  # the run has not claimed the experiment yet: no later step may start
            raise KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) != signal.SIG_IGN:
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


DISPLAY_NAME_NOTICE = r"Task '[^']*': settings \['display_name'\] have no effect in the current local runner"
"""kfp.local's warning (kfp 2.17, ``task_executor._warn_local_only_noops``) for every task the
pipeline names for its UI: the names are for a KFP cluster's UI, and the warning, once a task,
filled the run's log. Only this one is silenced; one for a setting that does change a run (a
resource limit) still shows."""


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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
