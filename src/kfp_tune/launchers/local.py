"""Run a trial on this machine: the primary container's command and args as a subprocess.

Exec form only (no shell), with the container's ``env`` on top of this process's environment
less any store credentials. ``python`` / ``python3`` as the command means this Python, so the
trial sees the same installed packages. ``mounts`` maps container paths to local folders, as a
volume would (``{"/opt/digits": "images/sklearn-digits"}``). Only the primary container runs,
once, whatever the kind's replicas; a Job's ``activeDeadlineSeconds`` is honoured, and early
stopping stops a running trial (SIGTERM, then SIGKILL after a grace period).

File and TensorFlowEvent collectors: the collector's path gets a fresh folder per trial, mapped
like a mount (from the shortest folder above it that the command names, so ``--log-path=/logs``
with a collector path ``/logs/test`` works), and ``$KFP_TUNE_METRICS_PATH`` names it; what the
trial wrote there comes back as the outcome's files.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.template import primary_container
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.launchers.metrics_files import metrics_root, read_metrics_files

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
GRACE_SECONDS = 10.0
CREDENTIAL_VARIABLES = frozenset(
    {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"}
)


class LocalLauncher(Launcher):
    def __init__(self, mounts: Mapping[str, str] | None = None, timeout_seconds: float | None = None, env: Mapping[str, str] | None = None):
        """``env``: more env for every trial (the store's URI, for ``report_metrics``)."""
        self.mounts = {k.rstrip("/") or "/": str(Path(v).expanduser().resolve()) for k, v in (mounts or {}).items()}
        self.timeout_seconds = timeout_seconds
        self.env = dict(env or {})

    def _map(self, text: str, extra: Mapping[str, str] | None = None) -> str:
        """Rewrite a container path (alone, or after ``--flag=``) to its local folder."""
        mounts = {**self.mounts, **(extra or {})}
        for container_path, local_path in sorted(mounts.items(), key=lambda kv: -len(kv[0])):
            for lead in ("", "="):
                marker = lead + container_path
                at = text.find(marker)
                if at == -1 or (lead == "" and at != 0):
                    continue
                end = at + len(marker)
                if end == len(text) or text[end] == "/":
                    return text[: at + len(lead)] + local_path + text[end:]
        return text

    def command_for(self, run: TrialRun, extra: Mapping[str, str] | None = None) -> tuple[list[str], dict[str, str], str | None]:
        """(argv, env, working directory) for a trial; ValueError if it cannot run locally.
        ``extra``: more mounts for this trial only (its metrics folder)."""
        container = primary_container(run.manifest, run.primary_container)
        if container is None:
            raise ValueError(f"no container named {run.primary_container!r} in the trial manifest")
        argv = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
        if not argv:
            raise ValueError(
                f"container {run.primary_container!r} has no command: running locally needs command (and args), "
                "since the image's entrypoint is not known here"
            )
        argv = [self._map(a, extra) for a in argv]
        if Path(argv[0]).name in ("python", "python3"):
            argv[0] = sys.executable
        env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARIABLES}
        env.update(self.env)
        env.update(KFP_TUNE_EXPERIMENT=run.experiment, KFP_TUNE_TRIAL=run.trial)
        for item in container.get("env") or []:
            if "valueFrom" in item:
                raise ValueError(f"env {item.get('name')!r} uses valueFrom, which needs a cluster")
            env[str(item["name"])] = self._map(str(item.get("value", "")), extra)
        workdir = container.get("workingDir")
        return argv, env, self._map(workdir, extra) if workdir else None

    def run(self, trial: TrialRun) -> LaunchOutcome:
        with tempfile.TemporaryDirectory(prefix="kfp-tune-metrics-") as folder:
            return self._run(trial, Path(folder))

    def _run(self, trial: TrialRun, metrics_folder: Path) -> LaunchOutcome:
        extra, local_metrics = self._metrics_mount(trial, metrics_folder)
        try:
            argv, env, cwd = self.command_for(trial, extra)
        except ValueError as exc:
            return LaunchOutcome(LaunchPhase.FAILED, reason="InvalidTrial", message=str(exc))
        if local_metrics is not None:
            env["KFP_TUNE_METRICS_PATH"] = str(local_metrics)
        timeout = _deadline(trial.manifest) or self.timeout_seconds
        log.info("trial %s: running %s", trial.trial, argv[0])
        with tempfile.TemporaryFile() as output:
            try:
                process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=cwd)
            except OSError as exc:
                return LaunchOutcome(LaunchPhase.FAILED, reason="StartError", message=f"cannot start {argv[0]!r}: {exc.strerror}")
            try:
                code, reason, message = self._watch(process, output, trial, timeout)
            except BaseException:
                _stop(process)
                raise
            output.seek(0)
            text = output.read().decode("utf-8", errors="replace")
        if reason == "EarlyStopped":
            phase = LaunchPhase.EARLY_STOPPED
        elif code == 0 and not reason:
            phase = LaunchPhase.SUCCEEDED
        else:
            phase = LaunchPhase.FAILED
        files = read_metrics_files(local_metrics, trial.metrics_path_kind) if local_metrics is not None else {}
        return LaunchOutcome(phase, reason=reason, message=message, exit_code=code, logs={trial.primary_container: text}, files=files)

    def _metrics_mount(self, trial: TrialRun, folder: Path) -> tuple[dict[str, str], Path | None]:
        """({container folder: local folder}, the collector path's local twin) for a File or
        TensorFlowEvent collector; ({}, None) otherwise."""
        if not trial.metrics_path:
            return {}, None
        root, relative = metrics_root(trial.manifest, trial.primary_container, trial.metrics_path, trial.metrics_path_kind)
        directory = trial.metrics_path_kind == "Directory"
        local_root = folder / "mount"
        local = local_root / relative
        (local if directory else local.parent).mkdir(parents=True, exist_ok=True)
        return {root: str(local_root)}, local

    def _watch(self, process: subprocess.Popen, output: Any, trial: TrialRun, timeout: float | None) -> tuple[int, str, str]:
        """Wait for the process; kill it at its deadline, stop it when early stopping says so.
        Returns (exit code, reason, message); reason is empty for a normal end."""
        started = time.monotonic()
        while True:
            left = None if timeout is None else timeout - (time.monotonic() - started)
            poll = POLL_SECONDS if trial.should_stop is not None else None
            wait = left if poll is None else poll if left is None else min(poll, left)
            try:
                code = process.wait(timeout=None if wait is None else max(wait, 0.0))
            except subprocess.TimeoutExpired:
                if left is not None and time.monotonic() - started >= timeout:  # type: ignore[operator]
                    return _stop(process), "DeadlineExceeded", f"the trial ran past its deadline of {timeout:g} s and was killed"
                if trial.should_stop is not None:
                    output.seek(0)
                    if trial.should_stop(output.read().decode("utf-8", errors="replace")):
                        return _stop(process), "EarlyStopped", "stopped early: the early stopping rule judged it worse than the completed trials"
                continue
            return code, ("" if code == 0 else "Error"), ("" if code == 0 else f"exit code {code}")


def _stop(process: subprocess.Popen) -> int:
    """SIGTERM, a grace period, then SIGKILL; returns the exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            return process.wait(timeout=GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


def _deadline(manifest: Mapping[str, Any]) -> float | None:
    spec = manifest.get("spec") or {}
    value = spec.get("activeDeadlineSeconds") if isinstance(spec, dict) else None
    return float(value) if isinstance(value, (int, float)) and value > 0 else None
