"""Run a trial on this machine: the primary container's command and args as a subprocess.

The command runs as Katib runs it (:mod:`kfp_tune.core.shell_form`): for the StdOut, File and
TensorFlowEvent collectors (and no collector, which is StdOut) through ``sh -c`` with command and
args joined by single spaces, so the shell takes quotes away, expands ``$VAR`` and runs ``&&``;
for the other collectors in exec form, each word as it is. The container's ``env`` goes on top of
this process's environment less any store credentials. ``python`` / ``python3`` as the command
means this Python, so the trial sees the same installed packages; under ``sh -c`` this Python's
folder also comes first in ``PATH``, so a ``python3`` later in the line is this Python too.
``mounts`` maps container paths to local folders, as a volume would (``{"/opt/digits":
"images/sklearn-digits"}``; quoted in the shell line when the folder needs it). Only the primary
container runs, once, whatever the kind's replicas (a PyTorchJob's gets the env of a one-replica
job's master, :func:`~kfp_tune.launchers.replicas.pytorch_master_env`); the earliest deadline a cluster would hold
it to is honoured (the resource's ``activeDeadlineSeconds`` or ``runPolicy.activeDeadlineSeconds``,
its pod's ``activeDeadlineSeconds``, the launcher's ``timeoutSeconds``), failing it with the
reason that kind's controller gives (:func:`trial_deadline`); early stopping stops a running
trial (SIGTERM to its process group, then SIGKILL after a grace period: the group's, so a trial
under ``sh -c`` gets it too, not only the shell);
a trial that ended between two looks is judged on all it printed (``TrialRun.should_stop``);
a rule that raises then leaves it what its end says, handed up on its error.
Early stopping follows the output as it grows: each look reads only what came since the last
(:meth:`~kfp_tune.collectors.running.StopTest.appended`).

GPUs: each running trial gets its own share of the GPUs this process may use (:class:`GpuPool`),
as each trial pod gets its own from the NVIDIA device plugin under Katib: the list
``CUDA_VISIBLE_DEVICES`` gives, else ``NVIDIA_VISIBLE_DEVICES`` where it lists devices (what a pod
given GPUs by the device plugin holds: their UUIDs). A trial whose primary container asks for N
``nvidia.com/gpu`` (its limit, else its request) gets N of them as its ``CUDA_VISIBLE_DEVICES``
(and ``NVIDIA_VISIBLE_DEVICES`` where the list came from there), over the container's own, held
until it ends; one that asks for none gets ``CUDA_VISIBLE_DEVICES=""``, as a pod that asks for
none is given none. A trial waits while the others hold its share, as a pod stays Pending until
its node has the GPUs free; one that asks for more than the list holds gets them all. With no
list (neither is set, or ``NVIDIA_VISIBLE_DEVICES`` is ``all``), the trials see every GPU their process finds.

A trial ends when the process started ends, as a container ends with its main process: what is
left of its process group then (``sleep 60 & python3 train.py``) gets SIGTERM, and SIGKILL after
the grace period (:func:`_end_leftovers`). A process that left the group (``setsid``) is not
reached: a container's every process would need a cgroup, which is not made here.

The trial's log is kept whole up to :data:`~kfp_tune.launchers.kept_log.LOG_HEAD_BYTES` +
:data:`~kfp_tune.launchers.kept_log.LOG_TAIL_BYTES`; past that, its head and tail, and between
them the lines that name a metric (past :data:`~kfp_tune.launchers.kept_log.LOG_MIDDLE_BYTES` of
them, those holding a metric's least, greatest or latest value: :mod:`kfp_tune.launchers.kept_log`,
the rule every launcher keeps).

Each trial runs in its own session and process group: a Ctrl-C in the terminal reaches the
run, not the trials, and the run decides (:meth:`LocalLauncher.interrupt` stops every trial's
whole group, which is then recorded Killed, never as a trial that failed on its own).

File and TensorFlowEvent collectors: the collector's path gets a fresh folder per trial, mapped
like a mount (from the shortest folder above it that the command names, so ``--log-path=/logs``
with a collector path ``/logs/test`` works), and ``$KFP_TUNE_METRICS_PATH`` names it; what the
trial wrote there comes back as the outcome's files. A process has no volume over this machine's
folders, so the path moves only in the words that name it (command, args, env values,
``workingDir``): code that writes the path itself (Katib's default
``/var/log/katib/metrics.log``, which a cluster's volume serves) writes this machine's file and
leaves the trial's folder empty (:func:`unnamed_metrics_folder`;
``validate`` and ``run`` note it before the first trial).

Each trial works in a folder of its own, ``kfp-tune-metrics-*`` under the temporary folder,
removed when it ends. Its output goes to ``trial.log`` there, locked, which the trial inherits:
the trial of a launcher killed outright holds it while it runs, and a later process's first local
trial removes the folder once nothing holds it and it was last written a week ago
(:mod:`kfp_tune.launchers.scratch`, the rule a kfp-local run's scratch folder follows). A trial
that fails while that folder's file system is full (:func:`scratch_full`: its own output was
refused, which a container's stdout stream never is) did not fail on its own: it is given back
(TrialStale) and the run stops, naming the folder (:class:`~kfp_tune.core.errors.TrialMachineryFailed`).

A trial of an experiment with ``suggestion_trial_dir`` (pbt) gets its checkpoint folder mapped
there like a mount: its folder in the store, first filled with a copy of its parent's
(:mod:`kfp_tune.launchers.checkpoints`).

Collectors that run beside the trial, as a cluster's sidecar does (they need the store: the
launcher's ``KFP_TUNE_STORE`` env, which every run sets; the collector's settings come from the
experiment as the store holds it):

- PrometheusMetric: a thread scrapes ``source.httpGet`` (Katib's defaults: port 8080, path
  ``/metrics``) while the trial runs and stores what it reads.
- File and TensorFlowEvent with early stopping: a thread follows the file or folder and stores
  what the trial reports as it comes, for the early stopping monitor.
- Custom: the ``customCollector`` container's command runs as a second process, started before
  the trial, with the trial's place in the store in its env and ``source.fileSystemPath``'s folder
  shared with the trial; it gets SIGTERM once the trial has ended (SIGKILL after the grace
  period). A custom container with no ``command``, or with env from ``valueFrom``, is refused,
  naming the field (:mod:`kfp_tune.collectors.custom`).
"""

from __future__ import annotations

import codecs
import contextlib
import logging
import math
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kfp_tune.core.checkpoints import trial_dir_of
from kfp_tune.core.claims import INTERRUPTED, utc_text
from kfp_tune.core.errors import RunInterrupted, StoreError, TrialMachineryFailed, clipped
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.quantities import quantity_value
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.shell_form import SHELLS, katib_wraps, shell_form
from kfp_tune.core.spec import Experiment
from kfp_tune.core.template import primary_container
from kfp_tune.core.validation import TRAINJOB_CONTAINER, env_name_problem
from kfp_tune.core.vocabulary import (
    EARLY_STOP_MESSAGE,
    EARLY_STOP_REASON,
    FUNCTION_TRIAL_KIND,
    KATIB_TRIAL_VARIABLE,
    STORE_VARIABLE,
    CollectorKind,
    LaunchPhase,
    is_store_credential_variable,
    trial_place_env,
)
from kfp_tune.launchers.checkpoints import TrialFolder
from kfp_tune.launchers.kept_log import READ_CHUNK_BYTES, kept_log, metrics_formats
from kfp_tune.launchers.kubernetes.kinds import primary_pod_container
from kfp_tune.launchers.metrics_files import metrics_root, read_metrics_files
from kfp_tune.launchers.replicas import (
    count_of,
    has_pytorch_master,
    local_container,
    local_primary,
    pytorch_master_env,
    pytorch_replicas,
    replicas_not_run,
    train_job_trainer,
)
from kfp_tune.launchers.scratch import METRICS_PREFIX, TRIAL_LOG, locked_log, sweep_metrics_folders
from kfp_tune.launchers.script_words import script_words

if TYPE_CHECKING:
    from kfp_tune.collectors.running import EarlyStoppingRuleError

log = logging.getLogger(__name__)
COMMAND_LOG_CHARS = 300
"""How much of a trial's command line its "running" log line shows."""

POLL_SECONDS = 0.5
GRACE_SECONDS = 10.0
GROUP_POLL_SECONDS = 0.02
SCRATCH_LOOK_SECONDS = 2.0
"""How often, at most, a running trial's poll asks whether the scratch file system is full: a
hung ``statfs`` (NFS) there holds up the trial's deadline, an interrupt and early stopping."""
SCRATCH_FULL_RECENT_SECONDS = 5.0
"""How close before a trial's failure a look that found the scratch file system full makes it
the disk's failure, not the trial's (more than a look's interval and a poll: a full look that
came just before another trial's folder went, freeing room, still counts)."""
# The most of a failed trial's last log line its message carries (the log stays in the store).
MESSAGE_LOG_CHARS = 300


_swept = threading.Event()


def _sweep_once() -> None:
    """What trials of a killed run left in the temporary folder, swept at this process's first
    local trial (:func:`~kfp_tune.launchers.scratch.sweep_metrics_folders`)."""
    if not _swept.is_set():
        _swept.set()
        sweep_metrics_folders()


def _trainer_notes(manifest: Mapping[str, Any]) -> list[str]:
    """A TrainJob's nodes and processes per node that a local run does not start, as
    :func:`~kfp_tune.launchers.replicas.replicas_not_run` and the ``nprocPerNode`` note say them
    for a PyTorchJob: only its ``spec.trainer`` runs here, once, as one process."""
    trainer = train_job_trainer(manifest)
    if trainer is None:
        return []
    notes = []
    nodes, processes = count_of(trainer.get("numNodes")), count_of(trainer.get("numProcPerNode"))
    if nodes is not None and nodes > 1:
        notes.append(f"TrainJob: numNodes {nodes}: {nodes - 1} more {'node' if nodes == 2 else 'nodes'} will not run locally; only the primary container "
                     f"{TRAINJOB_CONTAINER!r} (spec.trainer) runs, once, as a single process with no peers and no PET_* variables")
    if processes is not None and processes > 1:
        notes.append(f"TrainJob numProcPerNode {processes}: on a cluster torchrun starts {processes} processes in each node (PET_NPROC_PER_NODE); "
                     "locally the command runs as one process")
    return notes


def _amounts(resources: Any, part: str) -> list[tuple[Any, Any]]:
    """The (name, amount) pairs of a container's ``resources.limits`` or ``.requests``, [] for anything else."""
    given = resources.get(part) if isinstance(resources, Mapping) else None
    return list(given.items()) if isinstance(given, Mapping) else []


def _above_zero(amount: Any) -> bool:
    """Whether a resource amount asks for something (``nvidia.com/gpu: 0`` asks for none)."""
    try:
        return quantity_value(amount) > 0
    except (ValueError, TypeError, ArithmeticError):
        return True  # validation names a malformed amount; here it is only said to be not applied


GPU_RESOURCE = "nvidia.com/gpu"
"""The resource a trial's share of the GPUs is counted in (a MIG slice or another vendor's GPU is not shared out)."""
NOT_A_GPU_LIST = ("", "all", "none", "void")
"""The values of ``NVIDIA_VISIBLE_DEVICES`` that name no device: the NVIDIA container toolkit's words."""
_DEVICE = re.compile(r"\d+(:\d+)?|(GPU|MIG)-\S+")
"""A device as ``NVIDIA_VISIBLE_DEVICES`` lists it: an index (a MIG one ``0:1``) or a UUID."""


@dataclass(frozen=True)
class GpuList:
    """The GPUs this process may use, as ``variable`` lists them (indexes or UUIDs)."""

    variable: str
    devices: tuple[str, ...]

    def shown(self) -> str:
        return f"{self.variable}={','.join(self.devices)}"


def visible_gpus(environ: Mapping[str, str]) -> GpuList | None:
    """The GPUs ``environ`` lists: ``CUDA_VISIBLE_DEVICES`` when it is set (empty: none), else
    ``NVIDIA_VISIBLE_DEVICES`` when it lists devices; None when neither does, so the GPUs are not known."""
    if "CUDA_VISIBLE_DEVICES" in environ:
        return GpuList("CUDA_VISIBLE_DEVICES", _device_words(environ["CUDA_VISIBLE_DEVICES"]))
    listed = environ.get("NVIDIA_VISIBLE_DEVICES", "")
    words = _device_words(listed)
    if listed.strip().lower() in NOT_A_GPU_LIST or not all(_DEVICE.fullmatch(word) for word in words):
        return None  # the device plugin's volume-mounts strategy gives a folder's path, not the GPUs
    return GpuList("NVIDIA_VISIBLE_DEVICES", words)


def _device_words(text: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split(",") if word.strip())


def gpus_asked(container: Mapping[str, Any] | None) -> int:
    """How many ``nvidia.com/gpu`` a container asks for: its limit, else its request (a malformed
    amount, which validation names, asks for none here)."""
    resources = container.get("resources") if container is not None else None
    for part in ("limits", "requests"):
        amount = dict(_amounts(resources, part)).get(GPU_RESOURCE)
        if amount is not None:
            try:
                return max(0, math.ceil(quantity_value(amount)))
            except (ValueError, TypeError, ArithmeticError):
                return 0
    return 0


def gpus_set_per_trial(container: Mapping[str, Any] | None) -> bool:
    """Whether the container's ``nvidia.com/gpu`` amount is a trial parameter's placeholder
    (``${trialParameters.gpus}``): known only once a trial's manifest is filled in."""
    resources = container.get("resources") if container is not None else None
    return any("${" in str(amount) for part in ("limits", "requests") for name, amount in _amounts(resources, part) if name == GPU_RESOURCE)


class GpuPool:
    """The GPUs of :func:`visible_gpus`, handed out to the running trials: each holds its share
    until it ends (:meth:`held`), so no two trials run on one GPU."""

    def __init__(self, listed: GpuList | None):
        self.listed = listed
        self._free = list(listed.devices) if listed is not None else []
        self._changed = threading.Condition(threading.Lock())  # its own: an interrupt's signal handler never takes it
        self._told = False

    @contextlib.contextmanager
    def held(self, trial: str, asked: int, interrupted: threading.Event) -> Iterator[dict[str, str]]:
        """The env that gives the trial its share while it runs: ``asked`` GPUs (all of the list,
        where it holds fewer), waited for while other trials hold them; returned when it ends.
        RunInterrupted when the run is interrupted while it waits. {} where no list is known (said once)."""
        listed = self.listed
        if listed is None:
            with self._changed:
                tell, self._told = asked > 0 and not self._told, self._told or asked > 0
            if tell:
                log.info("trial %s asks for %d %s; neither CUDA_VISIBLE_DEVICES nor NVIDIA_VISIBLE_DEVICES lists the GPUs this process may use, "
                         "so no trial gets a share of its own: each sees every GPU its process finds", trial, asked, GPU_RESOURCE)
            yield {}
            return
        wanted = min(asked, len(listed.devices))
        share = self._take(trial, wanted, interrupted)
        try:
            yield self._env(share)
        finally:
            with self._changed:
                self._free = [device for device in listed.devices if device in self._free or device in share]
                self._changed.notify_all()

    def _take(self, trial: str, wanted: int, interrupted: threading.Event) -> list[str]:
        """The first ``wanted`` free GPUs in the list's order, once that many are free."""
        assert self.listed is not None
        with self._changed:
            waited = False
            while len(self._free) < wanted:
                if interrupted.is_set():
                    raise RunInterrupted()
                if not waited:
                    waited = True
                    log.info("trial %s waits for %d %s: %d of %s are free, the others held by the trials running", trial, wanted, GPU_RESOURCE,
                             len(self._free), self.listed.shown())
                self._changed.wait(POLL_SECONDS)  # and looks at the interrupt again
            share, self._free = self._free[:wanted], self._free[wanted:]
        return share

    def _env(self, share: list[str]) -> dict[str, str]:
        assert self.listed is not None
        if self.listed.variable != "NVIDIA_VISIBLE_DEVICES":
            return {"CUDA_VISIBLE_DEVICES": ",".join(share)}
        # NVIDIA_VISIBLE_DEVICES names the host's GPUs, which the container's CUDA numbers from 0 in
        # the list's order: an index there is its place in the list for CUDA; a UUID CUDA takes as is
        cuda = [device if not device[0].isdigit() else str(self.listed.devices.index(device)) for device in share]
        return {"CUDA_VISIBLE_DEVICES": ",".join(cuda), "NVIDIA_VISIBLE_DEVICES": ",".join(share) or "void"}

    def note(self, container: str, asked: int, per_trial: bool = False) -> str:
        """What the trials of a container asking for ``asked`` GPUs (``per_trial``: as many as a trial
        parameter says) get here, for ``run``'s notes ("" where no list is known)."""
        listed = self.listed
        if listed is None:
            return ""
        if per_trial:
            return (f"container {container!r} asks for as many {GPU_RESOURCE} as a trial parameter says: each running trial gets that "
                    f"many of {listed.shown()} as its CUDA_VISIBLE_DEVICES, its own until it ends; a trial waits while the others hold them")
        if not asked:
            return (f"container {container!r} asks for no {GPU_RESOURCE}: each trial gets CUDA_VISIBLE_DEVICES=\"\" (no GPU), "
                    f"as a pod that asks for none gets none of its node's GPUs (here {listed.shown()})")
        given = min(asked, len(listed.devices))
        short = f" (it asks for {asked}, {listed.variable} lists {len(listed.devices)})" if given < asked else ""
        return (f"container {container!r} asks for {asked} {GPU_RESOURCE}: each running trial gets {given} of {listed.shown()} as its "
                f"CUDA_VISIBLE_DEVICES{short}, its own until it ends; a trial waits while the others hold them")


def _gpus_of(trial: TrialRun) -> int:
    """How many ``nvidia.com/gpu`` the container that runs here asks for (:func:`gpus_asked`)."""
    runs = local_primary(trial.manifest, trial.primary_container, trial.primary_pod_labels, trial.pod_labels)
    return gpus_asked(runs[1] if runs is not None else primary_container(trial.manifest, trial.primary_container))


def missing_command(container: str, kind: Any = None) -> str:
    """Why a container without ``command`` cannot run here. ``kind``: the trial template's; a
    ``tune()`` function experiment's (:data:`FUNCTION_TRIAL_KIND`, kfp-tune's record of the
    call: its container has no command or image, and the function is not stored) is named as
    one, with the call that runs it, not as an image whose entrypoint is not known."""
    if kind == FUNCTION_TRIAL_KIND:
        return (f"kind {FUNCTION_TRIAL_KIND} is kfp-tune's record of a tune() function experiment (made by kfp_tune.tune or "
                "KatibClient.tune): the function is not stored with it, so the experiment cannot be run or created from its spec "
                "(a copy of get_experiment's, or its YAML). Call tune(name=..., objective=...) with the function: its name resumes an "
                "unfinished experiment (a larger max_trial_count runs more trials), another name starts a new one; or give a "
                "trialTemplate of your own whose container's command runs the code (a batch/v1 Job)")
    return (f"container {container!r} has no command: on a cluster it runs its image's entrypoint (with args as its arguments), "
            "which is not known here; running locally needs command, the entrypoint's words")


class LocalLauncher(Launcher):
    def __init__(self, mounts: Mapping[str, str] | None = None, timeout_seconds: float | None = None, env: Mapping[str, str] | None = None):
        """``env``: more env for every trial (the store's URI, for ``report_metrics``)."""
        self.mounts = {k.rstrip("/") or "/": str(Path(v).expanduser().resolve()) for k, v in (mounts or {}).items()}
        self.timeout_seconds = timeout_seconds
        self.env = dict(env or {})
        self._lock = threading.RLock()  # an interrupt's signal handler may run on a thread that holds it
        self._running: set[subprocess.Popen[bytes]] = set()
        self._stopped: set[int] = set()
        """Pids of trials stopped by :meth:`interrupt` while they ran."""
        self._interrupted = threading.Event()
        self._experiments: dict[str, tuple[ExperimentRecords, Experiment] | None] = {}
        self._warned_empty: set[str] = set()
        """The experiments a succeeded trial of which left its checkpoint folder empty (told once)."""
        self._full_at: tuple[float, float] | None = None
        """When a look last found the scratch file system full: (time.monotonic(), time.time())."""
        self._looked_at = float("-inf")
        """When a running trial's poll last asked the scratch file system (time.monotonic())."""
        self.gpus = GpuPool(visible_gpus(os.environ))
        """The GPUs handed out to the running trials, each its own share."""
        self._master_ports: dict[str, int] = {}
        """The MASTER_PORT given to each live trial of a PyTorchJob (by its name), released when it
        ends, so that no two trials at once are given the same one."""

    can_interrupt = True

    def interrupt(self, force: bool = False) -> None:
        """The run is being stopped by its user: no trial starts from now on, and every running
        trial's process group gets SIGTERM (``force``: SIGKILL); its :meth:`run` then raises
        RunInterrupted once the group is gone (SIGKILL after the grace period). Returns at once:
        safe to call from a signal handler. Once interrupted, this launcher starts no more trials."""
        with self._lock:
            self._interrupted.set()
            running = list(self._running)
            self._stopped.update(p.pid for p in running if p.poll() is None)
        # every group, also one whose leader has ended: the first SIGTERM ends a trial's sh -c at
        # once, and the program it ran (which may ignore SIGTERM) is what the second must kill
        for process in running:
            _signal_group(process, signal.SIGKILL if force else signal.SIGTERM)

    def _stop_registered(self, process: subprocess.Popen[bytes]) -> None:
        """Stop the trial's process group (:func:`_stop`), keeping it registered until the group is
        gone: its shell may have ended at the first SIGTERM while the program it ran waits out
        the grace period, and a second interrupt must still find the group to SIGKILL it."""
        try:
            _stop(process)
        finally:
            with self._lock:
                self._running.discard(process)
                self._stopped.discard(process.pid)

    def _map(self, text: str, extra: Mapping[str, str] | None = None, quote: bool = False, line: bool = False) -> str:
        """Rewrite a container path (alone, or after ``--flag=``) to its local folder;
        ``quote``: the word goes into a shell line, so the local folder is quoted when it needs it.
        ``line``: the text is a shell line (an ``sh -c`` command's), where every path that starts
        a word of it is mapped (:func:`_map_line`)."""
        mounts = {**self.mounts, **(extra or {})}
        return _map_line(text, mounts) if line else _map_word(text, mounts, quote)

    def unnamed_trial_dir(self, experiment: Experiment) -> str:
        """The experiment's ``suggestion_trial_dir`` when no word of the trial's command, args,
        env or workingDir names it (its script takes the path as its own default, as Katib's
        pbt example does): a cluster mounts the trial's folder there, but here it is mapped only
        where a word names it, so every trial would use that one folder of this machine and the
        store would keep none. "" when it is named, or the experiment keeps no checkpoints."""
        trial_dir = trial_dir_of(experiment)
        container = local_container(experiment)
        if not trial_dir or container is None:
            return ""
        return "" if names_folder(container, trial_dir) else trial_dir

    def unmounted_paths(self, experiment: Experiment) -> list[tuple[str, str]]:
        """(path, folder) for each absolute path the trial's command and args name (a word that
        is one, no parameter in it) that is neither mounted nor on this machine, nor is its
        folder (``folder``: the first one above it that is not here): a file of the trial's
        image (its script), which ``--mount FOLDER=LOCAL_FOLDER`` gives a local copy of. Its
        ``workingDir`` too, last, when it is not a folder here (``folder``: the first one above
        it, or itself, that is not here): no trial could start in it (:func:`working_dir_problem`).
        The collector's metrics folder and the checkpoint folder, which each trial gets, count as mounted."""
        template = experiment.spec.trial_template
        container = local_container(experiment)
        if template is None or container is None:
            return []
        given = {trial_dir_of(experiment).rstrip("/") or "/": ""} if trial_dir_of(experiment) else {}
        collector = experiment.spec.metrics_collector_spec
        source = collector.source.file_system_path if experiment.spec.collector_kind in ("File", "TensorFlowEvent") and collector and collector.source else None
        if source is not None and source.path:
            given[metrics_root(container, source.path, source.kind or "")[0]] = ""
        missing = []
        for word in _named_paths([str(w) for w in (container.get("command") or []) + (container.get("args") or [])]):
            if not word.startswith("/") or "${" in word or self._map(word, given) != word or os.path.lexists(word):
                continue
            folder = Path(word).parent
            if folder.exists():  # a file the trial writes (an output), in a folder that is here
                continue
            while not folder.parent.exists():
                folder = folder.parent
            missing.append((word, str(folder)))
        working_dir = container.get("workingDir")
        if (
            isinstance(working_dir, str) and working_dir.startswith("/") and "${" not in working_dir and self._map(working_dir, given) == working_dir
            and not os.path.isdir(working_dir)  # every trial starts there: a cluster's runtime makes it, this machine does not
        ):
            folder = Path(working_dir)
            while not folder.parent.exists():
                folder = folder.parent
            missing.append((working_dir, str(folder)))
        return missing

    def not_done_here(self, experiment: Experiment, with_resources: bool = True) -> list[str]:
        """What a cluster would do with the trial's resource that a local run does not: the
        replicas that do not run (only the primary container runs, once, whatever the kind's
        replica counts), and (``with_resources``: for ``run``, not ``validate``, where nearly every
        Katib example would get it) the primary container's resource limits and requests other
        than zero, which no process here is held to. Each is said once, before anything runs."""
        template = experiment.spec.trial_template
        manifest = template.trial_spec if template is not None else None
        if template is None or not isinstance(manifest, Mapping):
            return []
        notes = []
        name = template.primary_container_name
        pod_labels = experiment.metadata.labels  # the Experiment's, which choose no primary pod
        runs = local_primary(manifest, name, template.primary_pod_labels, pod_labels)
        skipped = replicas_not_run(manifest, name, template.primary_pod_labels, pod_labels)
        pytorch = pytorch_replicas(manifest)
        master = has_pytorch_master(manifest)
        if skipped:
            where = f" (of {runs[0].split('.')[-2]})" if runs is not None and runs[0].endswith(".template") and runs[0].count(".") == 3 else ""
            given = ""
            if master:
                given = ("; it gets the env a single-replica PyTorchJob's master gets from the Training Operator "
                         "(WORLD_SIZE=1, RANK=0, MASTER_ADDR=127.0.0.1, MASTER_PORT a free port), each unless the container sets it")
            elif pytorch is not None:
                given = ("; with no Master replica that runs, the Training Operator sets no WORLD_SIZE, RANK, MASTER_ADDR or MASTER_PORT "
                         "(only torchrun's PET_* variables, which are not set here either), and none is set here")
            notes.append(
                f"{manifest.get('kind')}: {', '.join(skipped)} will not run locally; only the primary container "
                f"{name!r}{where} runs, once, as a single process with no peers{given}"
            )
        spec = manifest.get("spec")
        spec = spec if isinstance(spec, Mapping) else {}
        nproc = str(spec.get("nprocPerNode", "")).strip() if pytorch is not None else ""
        if nproc.isdigit() and int(nproc) > 1:
            notes.append(f"PyTorchJob nprocPerNode {nproc}: on a cluster torchrun starts {nproc} processes in each pod (WORLD_SIZE = replicas x "
                         f"nprocPerNode, given as PET_* variables); locally the command runs as one process"
                         f"{', with WORLD_SIZE=1' if master else ''}")
        notes += _trainer_notes(manifest)
        own = {str(item.get("name")): item.get("value") for item in ((runs[1] if runs else None) or {}).get("env") or [] if isinstance(item, Mapping)}
        world = str(own.get("WORLD_SIZE", "")).strip()
        if master and world.isdigit() and int(world) > 1 and "RANK" not in own:
            notes.append(f"container {name!r} sets WORLD_SIZE={world} and gets RANK=0 here, with no peers: init_process_group waits for "
                         f"the other {int(world) - 1} ranks, which never start, so the trial hangs until its deadline")
        container = runs[1] if runs is not None else primary_container(manifest, name)
        trainer = train_job_trainer(manifest)  # its container's resources are resourcesPerNode
        resources = (trainer.get("resourcesPerNode") if trainer is not None else container.get("resources")) if container is not None else None
        named = sorted({str(name) for part in ("limits", "requests") for name, amount in _amounts(resources, part) if _above_zero(amount)})
        gpu_note = self.gpus.note(template.primary_container_name, gpus_asked(container), gpus_set_per_trial(container))
        if gpu_note:  # given out here: the note says how
            named = [name for name in named if name != GPU_RESOURCE]
        if named and with_resources:
            notes.append(
                f"container {template.primary_container_name!r} resources ({', '.join(named)}) are not applied locally: the trial uses "
                "this machine's CPUs, memory and GPUs as its process finds them"
            )
        if gpu_note and with_resources:
            notes.append(gpu_note)
        return notes

    def relative_scripts(self, experiment: Experiment) -> tuple[list[str], str]:
        """(words, folder): the relative paths the trial's command names that look like its
        script (:func:`~kfp_tune.launchers.script_words.script_words`: ``python3 run_trial.py``, ``XGBoost/parameter-tuning.py``)
        and are no file in ``folder``, where each trial starts here: its ``workingDir`` (mapped
        by a mount), else the folder this process runs in. In the image such a path is relative
        to the image's working directory, which is not known here, so every trial would fail with
        the interpreter's "can't open file", which says nothing of ``workingDir`` or ``--mount``."""
        container = local_container(experiment)
        if container is None:
            return [], ""
        words = [str(w) for w in (container.get("command") or []) + (container.get("args") or [])]
        working_dir = container.get("workingDir")
        folder = self._map(working_dir) if isinstance(working_dir, str) and working_dir and "${" not in working_dir else os.getcwd()
        missing = [word for word in script_words(words) if not os.path.lexists(os.path.join(folder, word))]
        return list(dict.fromkeys(missing)), folder

    def command_for(self, run: TrialRun, extra: Mapping[str, str] | None = None) -> tuple[list[str], dict[str, str], str | None]:
        """(argv, env, working directory) for a trial; ValueError if it cannot run locally.
        ``extra``: more mounts for this trial only (its metrics folder)."""
        runs = local_primary(run.manifest, run.primary_container, run.primary_pod_labels, run.pod_labels)
        container = runs[1] if runs is not None else primary_container(run.manifest, run.primary_container)
        if container is None:
            raise ValueError(f"no container named {run.primary_container!r} in the trial manifest")
        command, args = container.get("command") or [], container.get("args") or []
        if not isinstance(command, list) or not isinstance(args, list):
            raise ValueError(f"container {run.primary_container!r}: command and args must be lists of strings (exec form), got {command!r} and {args!r}")
        argv = [str(a) for a in command + args]
        if not command:  # args alone are the entrypoint's arguments, not a command line
            raise ValueError(missing_command(run.primary_container))
        wrapped = katib_wraps((run.metrics_collector.get("collector") or {}).get("kind"))
        lines = _shell_lines(argv, wrapped)
        argv = [self._map(a, extra, quote=wrapped, line=index in lines) for index, a in enumerate(argv)]
        if Path(argv[0]).name in ("python", "python3"):
            argv[0] = shlex.quote(sys.executable) if wrapped else sys.executable
        env = {k: v for k, v in os.environ.items() if not is_store_credential_variable(k)}
        if wrapped:
            # the line Katib's webhook runs (core.shell_form); python3 inside it is this Python too
            argv = shell_form(argv)
            env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.defpath)])
        env.update(self.env)
        env.update(trial_place_env(run.experiment, run.trial))
        for index, item in enumerate(container.get("env") or []):
            if "valueFrom" in item:
                raise ValueError(f"env {item.get('name')!r} uses valueFrom, which needs a cluster")
            if (problem := env_name_problem(str(item["name"]))) is not None:  # a template validation did not see (a ConfigMap's)
                raise ValueError(f"container {run.primary_container!r} env[{index}].name: {problem}")
            env[str(item["name"])] = self._map(str(item.get("value", "")), extra)
        own = {str(item["name"]) for item in container.get("env") or []} | set(self.env)
        with self._lock:
            self._master_ports.pop(run.trial, None)
            given = pytorch_master_env(run.manifest, set(self._master_ports.values()))
            if "MASTER_PORT" in given:
                self._master_ports[run.trial] = int(given["MASTER_PORT"])
        env.update({name: value for name, value in given.items() if name not in own})
        env[KATIB_TRIAL_VARIABLE] = run.trial  # over the container's own, as Katib's webhook appends it (mutatePodEnv)
        workdir = container.get("workingDir")
        return argv, env, self._map(workdir, extra) if workdir else None

    def run(self, trial: TrialRun) -> LaunchOutcome:
        _sweep_once()
        try:
            with tempfile.TemporaryDirectory(prefix=METRICS_PREFIX) as folder:
                return self._run(trial, Path(folder))
        finally:
            with self._lock:
                self._master_ports.pop(trial.trial, None)

    def _run(self, trial: TrialRun, metrics_folder: Path) -> LaunchOutcome:
        """The trial made ready (or failed with why it cannot start), run with its collector beside
        it under its locked log, judged once it has ended (a full scratch file system stops the
        run instead), its checkpoint folder kept."""
        extra, local_metrics = self._metrics_mount(trial, metrics_folder)
        ready = self._ready(trial, metrics_folder, extra, local_metrics)
        if isinstance(ready, LaunchOutcome):
            return ready
        with self.gpus.held(trial.trial, _gpus_of(trial), self._interrupted) as gpus:  # its own GPUs, waited for
            ready.env.update(gpus)
            shown = "".join(f" ({name}={value})" for name, value in gpus.items() if name == "CUDA_VISIBLE_DEVICES")
            log.info("trial %s: running %s%s", trial.trial, clipped(shlex.join(ready.argv), COMMAND_LOG_CHARS), shown)  # a shell form's line, not "sh"
            with locked_log(metrics_folder / TRIAL_LOG) as output:  # held while the trial runs, by the trial too: no sweep takes its folder
                ran = self._run_with_collector(trial, ready, output)
                if isinstance(ran, LaunchOutcome):
                    return ran
                ended, beside_logs = ran
                ends_stopped, rule_error = _judged_at_end(trial, ended)
                text = kept_log(output.fileno(), trial.metric_names, metrics_formats(trial.metrics_collector))
                self._raise_if_scratch_was_full(ended, ends_stopped, output.fileno(), metrics_folder, {**beside_logs, trial.primary_container: text})
        phase, reason, message = _phase_of(ended, ends_stopped, text)
        if ready.checkpoint is not None:
            phase, reason, message = self._keep_checkpoint(trial, ready.checkpoint, phase, reason, message)
        files = read_metrics_files(local_metrics, trial.metrics_path_kind) if local_metrics is not None else {}
        outcome = LaunchOutcome(phase, reason=reason, message=message, exit_code=ended.code, logs={**beside_logs, trial.primary_container: text}, files=files)
        if rule_error is not None:  # the run stops on the rule's error; the trial, which had ended, keeps its own end
            rule_error.outcome, rule_error.logs = outcome, rule_error.logs or outcome.logs
            raise rule_error
        return outcome

    def _ready(self, trial: TrialRun, metrics_folder: Path, extra: dict[str, str], local_metrics: Path | None) -> _Ready | LaunchOutcome:
        """All the trial needs to start, or the failed outcome of a trial that cannot: its
        experiment unread (StoreUnavailable), a trial this machine cannot run (InvalidTrial), its
        checkpoint folder not made (CheckpointNotReady), its workingDir no folder here (StartError)."""
        try:
            self._experiment(trial.experiment)  # read once, here, so that a store failure is named as one
        except StoreError as exc:
            return LaunchOutcome(LaunchPhase.FAILED, reason="StoreUnavailable", message=f"the trial's experiment could not be read from the store: {exc}")
        try:
            checkpoint = self._checkpoint(trial, metrics_folder, extra)
            beside = self._beside(trial, metrics_folder, extra, local_metrics)
            argv, env, cwd = self.command_for(trial, extra)
            start_in = None if cwd is None else process_bytes(cwd)  # LANG=C: a str path with é is no folder to os.path
        except ValueError as exc:  # a lone surrogate in workingDir too
            return LaunchOutcome(LaunchPhase.FAILED, reason="InvalidTrial", message=str(exc))
        except StoreError as exc:
            return LaunchOutcome(LaunchPhase.FAILED, reason="CheckpointNotReady", message=f"the trial's checkpoint folder could not be made: {exc}")
        if cwd is not None and start_in is not None and not os.path.isdir(start_in):  # else Popen's error names the command, not the folder
            return LaunchOutcome(LaunchPhase.FAILED, reason="StartError", message=working_dir_problem(trial, cwd))
        if local_metrics is not None:
            env["KFP_TUNE_METRICS_PATH"] = str(local_metrics)
        deadline = trial_deadline(trial.manifest, trial.primary_container, self.timeout_seconds)
        return _Ready(argv, env, cwd, start_in, beside, checkpoint, deadline)

    def _run_with_collector(self, trial: TrialRun, ready: _Ready, output: Any) -> tuple[_Ended, dict[str, str]] | LaunchOutcome:
        """(how the trial ended, what its Custom collector printed): the collector beside it
        started first (a failed outcome when it cannot start), stopped once the trial has ended,
        whatever ended it, an interrupt too."""
        beside = ready.beside
        if beside is not None:
            try:
                beside.start(hold=output.fileno())
            except (OSError, ValueError) as exc:
                return LaunchOutcome(LaunchPhase.FAILED, reason="StartError", message=f"cannot start the metrics collector: {exc}")
        try:
            process = self._start(trial, ready, output)
            if isinstance(process, LaunchOutcome):
                return process
            ended = self._wait_for(trial, process, output, ready.deadline)
        finally:
            beside_logs = beside.stop() if beside is not None else {}
        return ended, beside_logs

    def _start(self, trial: TrialRun, ready: _Ready, output: Any) -> subprocess.Popen[bytes] | LaunchOutcome:
        """The trial's process, in a session of its own, writing to ``output``; or the failed
        outcome of one that cannot start, naming why. Started and registered at once, under the
        lock :meth:`interrupt` takes: an interrupt stops it, or it never starts (RunInterrupted)."""
        with self._lock:
            if self._interrupted.is_set():
                raise RunInterrupted()
            try:
                process = subprocess.Popen(
                    process_argv(ready.argv), stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=process_env(ready.env), cwd=ready.start_in,
                    start_new_session=True,
                )
            except ValueError as exc:  # a NUL in a word or in env, an env name the OS refuses: this trial's, not the run's
                return LaunchOutcome(LaunchPhase.FAILED, reason="StartError", message=f"cannot start {ready.argv[0]!r}: its command, args or env cannot be given to a process: {exc}")
            except OSError as exc:
                message = working_dir_problem(trial, ready.cwd) if ready.cwd is not None and exc.filename == ready.start_in else f"cannot start {ready.argv[0]!r}: {exc.strerror}"
                return LaunchOutcome(LaunchPhase.FAILED, reason="StartError", message=message)
            self._running.add(process)
        return process

    def _wait_for(self, trial: TrialRun, process: subprocess.Popen[bytes], output: Any, deadline: Deadline | None) -> _Ended:
        """How the running trial ended (:meth:`_watch`), once the rest of its group has ended too
        (:func:`_end_leftovers`) and it is no longer registered. Anything raised while it runs (a
        KeyboardInterrupt) stops its group first; a trial the run's interrupt stopped raises
        RunInterrupted with what it printed until then, not a result of its own."""
        printed = _Output(output)
        try:
            code, reason, message = self._watch(process, printed, trial, deadline)
            at = time.monotonic()
        except BaseException:
            self._stop_registered(process)
            raise
        with self._lock:
            stopped = process.pid in self._stopped or reason == INTERRUPTED
        if stopped:  # it ended because the run was interrupted: not a result of its own
            self._stop_registered(process)  # the rest of its group too
            # what it printed until then is kept with it, as a finished trial's log is
            raise RunInterrupted(logs={trial.primary_container: kept_log(output.fileno(), trial.metric_names, metrics_formats(trial.metrics_collector))})
        try:
            _end_leftovers(process)  # it ended by itself (or was stopped): so does the rest of its group
        finally:
            with self._lock:
                self._running.discard(process)
        return _Ended(code, reason, message, at, printed)

    def _raise_if_scratch_was_full(self, ended: _Ended, ends_stopped: bool, fd: int, metrics_folder: Path, logs: dict[str, str]) -> None:
        """TrialMachineryFailed, naming the scratch folder, for a trial that failed while the
        scratch file system was full, or had been just before it ended: its output was refused,
        not the trial's failure. Looked at every trial's end, before its folder goes and frees
        what filled it (:meth:`_seen_full`)."""
        full = self._seen_full(fd)
        was_full = None if full else self._full_near(ended.at)
        if ended.reason == "Error" and not ends_stopped and (full or was_full is not None):
            raise TrialMachineryFailed(scratch_full_message(metrics_folder.parent, ended.code, was_full), logs=logs)

    def _keep_checkpoint(self, trial: TrialRun, checkpoint: TrialFolder, phase: LaunchPhase, reason: str, message: str) -> tuple[LaunchPhase, str, str]:
        """(phase, reason, message) once the trial's checkpoint folder is kept in the store,
        however the trial ended: CheckpointNotSaved when it could not be, as a later trial would
        not find it. A succeeded trial that left it empty is warned of, once per experiment."""
        try:
            checkpoint.save()
        except StoreError as exc:  # a later trial would not find it: this one did not do its job
            return LaunchPhase.FAILED, "CheckpointNotSaved", f"the trial's checkpoint folder could not be kept: {exc}"
        if phase == LaunchPhase.SUCCEEDED and trial.experiment not in self._warned_empty and not any(checkpoint.path.iterdir()):
            self._warned_empty.add(trial.experiment)  # once: a script that writes elsewhere leaves every folder empty
            log.warning(
                "trial %s succeeded and left its checkpoint folder (suggestion_trial_dir %s) empty: the trials that carry on from it "
                "start with nothing; does the trial write its checkpoint where its command names that path?",
                trial.trial, trial.checkpoint_path,
            )
        return phase, reason, message

    def _seen_full(self, fd: int) -> bool:
        """Whether the scratch file system is full now (:func:`scratch_full`), noted for every
        trial running now: a trial that failed on it may look only after another trial's
        folder was removed, which freed room again."""
        if not scratch_full(fd):
            return False
        with self._lock:
            self._full_at = (time.monotonic(), time.time())
        return True

    def _look_while_running(self, fd: int) -> None:
        """:meth:`_seen_full` from a running trial's poll, once every :data:`SCRATCH_LOOK_SECONDS`
        for all the trials together: the file system is the same one, and a look may hang."""
        now = time.monotonic()
        with self._lock:
            if now - self._looked_at < SCRATCH_LOOK_SECONDS:
                return
            self._looked_at = now
        self._seen_full(fd)

    def _full_near(self, ended: float) -> float | None:
        """When (time.time()) a look last found the scratch file system full, where that was at
        most :data:`SCRATCH_FULL_RECENT_SECONDS` before the trial ended (or since), or None: a
        full moment long before its failure (another process filling the disk for a second) is
        not why it failed."""
        with self._lock:
            full_at = self._full_at
        if full_at is None or full_at[0] < ended - SCRATCH_FULL_RECENT_SECONDS:
            return None
        return full_at[1]

    def _experiment(self, name: str) -> tuple[ExperimentRecords, Experiment] | None:
        """The experiment as the store holds it (what launch-trial runs), when this launcher
        knows the store; read once per experiment."""
        if name not in self._experiments:
            found = None
            if self.env.get(STORE_VARIABLE):
                from kfp_tune.core.spec import parse_experiment
                from kfp_tune.core.state import read_experiment_record
                from kfp_tune.stores import open_experiment_records

                records = open_experiment_records(self.env, name)
                head = read_experiment_record(records)
                if head is not None and isinstance(head.get("spec"), dict):
                    found = (records, parse_experiment(head["spec"]))
            self._experiments[name] = found
        return self._experiments[name]

    def _beside(self, trial: TrialRun, folder: Path, extra: dict[str, str], local_metrics: Path | None) -> _Beside | None:
        """What runs beside the trial for its collector (see the module), or None; adds the
        Custom collector's shared folder to ``extra``. ValueError for what cannot run here."""
        from kfp_tune.collectors.observe import Follower, ObservationWriter, collector_source

        known = self._experiment(trial.experiment)
        if known is None:
            return None
        records, experiment = known
        kind = experiment.spec.collector_kind
        if kind == CollectorKind.CUSTOM:
            return self._custom(trial, experiment, records, folder, extra)
        follows = kind == CollectorKind.PROMETHEUS_METRIC or (kind in (CollectorKind.FILE, CollectorKind.TENSORFLOW_EVENT) and experiment.spec.early_stopping is not None)
        if not follows:
            return None
        follower = Follower(collector_source(experiment), local=local_metrics)
        return _Beside(follower=follower, writer=ObservationWriter(records, trial.trial))

    def _custom(self, trial: TrialRun, experiment: Experiment, records: ExperimentRecords, folder: Path, extra: dict[str, str]) -> _Beside:
        from kfp_tune.collectors.custom import FIELD, collector_spec, custom_container, missing_custom_command, shared_folder

        spec = collector_spec(experiment)
        container = custom_container(spec)
        shared = shared_folder(spec)
        if shared:
            local = folder / "custom"
            local.mkdir(parents=True, exist_ok=True)
            extra[shared] = str(local)
        command, args = container.get("command") or [], container.get("args") or []
        if not command:
            raise ValueError(missing_custom_command())
        if not isinstance(command, list) or not isinstance(args, list):
            raise ValueError(f"{FIELD}: command and args must be lists of strings")
        argv = [self._map(str(a), extra) for a in command + args]
        if Path(argv[0]).name in ("python", "python3"):
            argv[0] = sys.executable
        env = {k: v for k, v in os.environ.items() if not is_store_credential_variable(k)}
        env.update(self.env)
        env.update(trial_place_env(trial.experiment, trial.trial))
        for index, item in enumerate(container.get("env") or []):
            if "valueFrom" in item:
                raise ValueError(f"{FIELD}.env[{index}]: {item.get('name')!r} uses valueFrom, which needs a cluster")
            env[str(item["name"])] = self._map(str(item.get("value", "")), extra)
        workdir = container.get("workingDir")
        return _Beside(argv=argv, env=env, cwd=self._map(workdir, extra) if workdir else None, name=str(container["name"]))

    def _checkpoint(self, trial: TrialRun, folder: Path, extra: dict[str, str]) -> TrialFolder | None:
        """The trial's checkpoint folder (:mod:`.checkpoints`), ready and mapped at its
        ``suggestion_trial_dir`` in ``extra``; None when the experiment keeps none. ValueError
        when this launcher does not know the store the folders are kept in."""
        if not trial.checkpoint_path:
            return None
        known = self._experiment(trial.experiment)
        if known is None:
            raise ValueError(
                f"the trial keeps a checkpoint folder at {trial.checkpoint_path} (suggestion_trial_dir), kept in the experiment's store, "
                "and this launcher was given no store (KFP_TUNE_STORE)"
            )
        checkpoint = TrialFolder(known[0], trial.trial, trial.checkpoint_parent, folder)
        extra[trial.checkpoint_path.rstrip("/") or "/"] = str(checkpoint.open())
        return checkpoint

    def _metrics_mount(self, trial: TrialRun, folder: Path) -> tuple[dict[str, str], Path | None]:
        """({container folder: local folder}, the collector path's local twin) for a File or
        TensorFlowEvent collector; ({}, None) otherwise."""
        if not trial.metrics_path:
            return {}, None
        container = primary_pod_container(trial.manifest, trial.primary_container, trial.primary_pod_labels, trial.pod_labels) or {}  # the one that runs here
        root, relative = metrics_root(container, trial.metrics_path, trial.metrics_path_kind)
        directory = trial.metrics_path_kind == "Directory"
        local_root = folder / "mount"
        local = local_root / relative
        (local if directory else local.parent).mkdir(parents=True, exist_ok=True)
        return {root: str(local_root)}, local

    def _watch(self, process: subprocess.Popen, output: _Output, trial: TrialRun, deadline: Deadline | None) -> tuple[int, str, str]:
        """Wait for the process; kill it at its deadline (:func:`trial_deadline`), stop it when
        early stopping says so. Returns (exit code, reason, message); reason is empty for a
        normal end."""
        started = time.monotonic()
        timeout = None if deadline is None else deadline.seconds
        while True:
            left = None if timeout is None else timeout - (time.monotonic() - started)
            wait = POLL_SECONDS if left is None else min(POLL_SECONDS, left)
            try:
                code = process.wait(timeout=max(wait, 0.0))
            except subprocess.TimeoutExpired:
                if self._interrupted.is_set():  # the run is being stopped: so is this trial, group and all
                    return _stop(process), INTERRUPTED, "the run was interrupted"
                if deadline is not None and time.monotonic() - started >= deadline.seconds:
                    return _stop(process), deadline.reason, deadline.message
                if trial.should_stop is not None and output.judge(trial.should_stop):
                    return _stop(process), EARLY_STOP_REASON, EARLY_STOP_MESSAGE
                self._look_while_running(output.fd)
                continue
            return code, ("" if code == 0 else "Error"), ("" if code == 0 else process_end(code))


def names_folder(container: Mapping[str, Any], folder: str) -> bool:
    """Whether a word of ``container``'s command, args, env values or ``workingDir`` names
    ``folder`` or a path in it as this launcher maps a mount (:func:`_map_word`; under Katib's
    shell form, :func:`_map_line`): the one rule of where a folder given to a trial reaches it,
    so the notes on a checkpoint folder and a metrics folder say what the run then does."""
    given = {folder.rstrip("/") or "/": "\0"}  # a local folder no word holds: a word it maps changes
    words = [str(w) for w in (container.get("command") or []) + (container.get("args") or [])]
    lines = _shell_lines(words, wrapped=True)
    texts = [(word, index in lines) for index, word in enumerate(words)]
    texts += [(str(item.get("value", "")), False) for item in container.get("env") or [] if isinstance(item, Mapping)]
    texts += [(str(container.get("workingDir") or ""), False)]
    return any((_map_line(text, given) if line else _map_word(text, given, False)) != text for text, line in texts)


def unnamed_metrics_folder(container: Mapping[str, Any], path: str, kind: str) -> str:
    """The folder a local run gives the trial for a File or TensorFlowEvent collector ``path``
    (:func:`~kfp_tune.launchers.metrics_files.metrics_root`), when no word of ``container``
    names it or a path in it (:func:`names_folder`); "" when one does. A process has no volume
    mounted over this machine's folders, as a pod has: a trial whose code writes that path itself
    (Katib's default ``/var/log/katib/metrics.log``, a path written in the script) writes this
    machine's file and leaves its own folder empty."""
    root, _ = metrics_root(container, path, kind)
    return "" if root in ("/", "") or names_folder(container, root) else root


def _map_word(word: str, mounts: Mapping[str, str], quote: bool) -> str:
    """The word with a mounted container path (the whole word or its start, or after ``=``)
    rewritten to its local folder (the most specific mount; ``quote``: shell-quoted)."""
    for container_path, local_path in sorted(mounts.items(), key=lambda kv: -len(kv[0])):
        for lead in ("", "="):
            marker = lead + container_path
            at = word.find(marker)
            if at == -1 or (lead == "" and at != 0):
                continue
            end = at + len(marker)
            if end == len(word) or word[end] == "/":
                return word[: at + len(lead)] + (shlex.quote(local_path) if quote else local_path) + word[end:]
    return word


_LINE_PATH = re.compile(r"""(?<![^\s'"=:])/[^\s'"`;|&<>():]*""")
"""A path that starts a word of a shell line: at its start, or after whitespace, a quote, ``=`` or ``:``."""


def _shell_lines(argv: list[str], wrapped: bool) -> set[int]:
    """Which words of ``argv`` a shell reads as a line of its own: an ``sh -c`` (``bash -c``)
    command's script, and under Katib's shell form (``wrapped``) every word after ``-c``, which
    it joins into that line (:func:`~kfp_tune.core.shell_form.shell_form`)."""
    if len(argv) < 3 or Path(argv[0]).name not in SHELLS or argv[1] != "-c":
        return set()
    return set(range(2, len(argv))) if wrapped else {2}


def _map_line(line: str, mounts: Mapping[str, str]) -> str:
    """Each path that starts a word of the shell line and is a mounted container folder or
    lies in one (``/opt/pbt/x.py`` for ``/opt/pbt``, not ``/opt/pbtx``) rewritten to its local
    folder (the most specific mount), quoted for the shell where the line leaves it unquoted."""
    by_length = sorted(mounts.items(), key=lambda kv: -len(kv[0]))

    def mapped(match: re.Match[str]) -> str:
        path = match.group(0)
        for container_path, local_path in by_length:
            if path == container_path or path.startswith(container_path.rstrip("/") + "/"):
                local = shlex.quote(local_path) if _unquoted_at(line, match.start()) else local_path
                return local + path[len(container_path):]
        return path

    return _LINE_PATH.sub(mapped, line)


def _unquoted_at(line: str, index: int) -> bool:
    """Whether the shell reads ``line[index]`` outside single and double quotes."""
    single = double = escaped = False
    for char in line[:index]:
        if escaped:
            escaped = False
        elif char == "\\" and not single:
            escaped = True
        elif char == "'" and not double:
            single = not single
        elif char == '"' and not single:
            double = not double
    return not (single or double)


def _named_paths(words: list[str]) -> list[str]:
    """The words of a command, with the script of an ``sh -c`` (``bash -c``) command given as
    the paths that start its words: what a mount would map."""
    lines = _shell_lines(words, wrapped=True)
    return [path for index, word in enumerate(words) for path in (_LINE_PATH.findall(word) if index in lines else [word])]


def working_dir_problem(trial: TrialRun, local: str) -> str:
    """Why the trial cannot start in its container's ``workingDir`` (``local``: that folder
    here, mapped by a mount): a cluster's container runtime makes a missing one, nothing makes it
    here, and Popen's own error would name the command (``cannot start 'sh'``), not the folder."""
    container = primary_container(trial.manifest, trial.primary_container) or {}
    written = str(container.get("workingDir") or local)
    where = f"workingDir {written!r}" + (f" (here {local!r})" if local != written else "")
    if os.path.lexists(process_bytes(local)) and not os.path.isdir(process_bytes(local)):
        return f"{where}: not a folder; the trial starts in its workingDir"
    return f"{where}: no such folder on this machine; create it or map it with --mount"


def process_bytes(text: str) -> bytes:
    """A word of a trial's command, args, env or workingDir as its process gets it: in this
    host's encoding, as Python gives any process its words (a host path, ``PATH``, a ``--mount``
    folder keep the bytes they have on disk, a Latin-1 host's too), and in UTF-8 where that
    encoding has no bytes for it, as a container gets its words on Kubernetes (under ``LANG=C``,
    where Python's own encoding refused ``café`` and every such trial failed to start; Python
    reads its arguments as UTF-8 there, PEP 540)."""
    try:
        return os.fsencode(text)
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")


def process_argv(argv: list[str]) -> list[bytes]:
    """The trial's argv as bytes (:func:`process_bytes`); Popen searches PATH for a bytes name too."""
    return [process_bytes(word) for word in argv]


def process_env(env: Mapping[str, str]) -> dict[bytes, bytes]:
    """The trial's env as bytes (:func:`process_bytes`): a variable inherited from this process
    keeps the bytes it came with."""
    return {process_bytes(name): process_bytes(value) for name, value in env.items()}


def process_end(code: int) -> str:
    """How a trial's process ended, from its return code: "exit code 2", or for a negative one
    (Python's word for a process a signal killed) "killed by signal 9 (SIGKILL)"."""
    if code >= 0:
        return f"exit code {code}"
    try:
        return f"killed by signal {-code} ({signal.Signals(-code).name})"
    except ValueError:
        return f"killed by signal {-code}"


def scratch_full(fd: int) -> bool:
    """Whether the file system of ``fd`` (a trial's output) has no block, or no file, left for
    this process: the trial's own writes there (its stdout, its metrics file) were refused with
    ENOSPC. On a cluster a container's stdout is a stream, which never fills. A file system
    that reports no size (a tmpfs mounted with size=0, which has no limit; a FUSE one answering
    zeros) or cannot answer (NFS's ESTALE, EIO) is not called full: every trial failing for a
    reason of its own would otherwise stop the run, at every resume."""
    try:
        info = os.fstatvfs(fd)
    except OSError:
        return False
    if info.f_blocks == 0:
        return False
    root = os.geteuid() == 0  # root may use the blocks kept back for it
    blocks, files = (info.f_bfree, info.f_ffree) if root else (info.f_bavail, info.f_favail)
    return blocks == 0 or (info.f_files > 0 and files == 0)  # f_files 0: a file system that does not count files


def scratch_full_message(folder: Path, code: int, was_full: float | None = None) -> str:
    """Why a trial that failed on a full scratch file system stopped the run, and what to do;
    ``was_full``: when (time.time()) it was seen full, where it has room again by the trial's end."""
    if was_full is None:
        state = "is full"
    else:
        state = f"was full at {utc_text(was_full)} (room again since)"
    return (f"the temporary folder {folder} (TMPDIR), where a local trial's output and scratch files go, {state}: the trial ended "
            f"{process_end(code)}, its writes there refused (No space left on device); free space there, or set TMPDIR to a folder "
            "with room, then run the same command again to resume")


def failure_message(code: int, log: str) -> str:
    """A failed trial's message: how it ended (:func:`process_end`) and the last line its log
    has, as a pod's ``terminationMessagePolicy: FallbackToLogsOnError`` gives the log's tail:
    "exit code 2" alone does not say that the script was not found or which exception ended it."""
    last = clipped(next((line.strip() for line in reversed(log.splitlines()) if line.strip()), ""), MESSAGE_LOG_CHARS)
    return f"{process_end(code)}: {last}" if last else process_end(code)


class _Output:
    """A running trial's output file, read by position (``os.pread``: the trial writes through
    the same open file, whose offset a seek here would move under it)."""

    def __init__(self, file: Any):
        self.fd = file.fileno()
        self.position = 0
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.ends_line = True

    def appended(self) -> Iterator[str]:
        """What the trial printed since the last call, decoded, in chunks; up to the size the
        file had at the call, so a trial printing fast does not keep the reader here."""
        end = os.fstat(self.fd).st_size
        while self.position < end:
            data = os.pread(self.fd, min(READ_CHUNK_BYTES, end - self.position), self.position)
            if not data:
                return
            self.position += len(data)
            self.ends_line = data.endswith(b"\n")
            text = self.decoder.decode(data)
            if text:
                yield text

    def judge(self, should_stop: Callable[[str], bool], ended: bool = False) -> bool:
        """Ask the trial's stop test; ``ended``: the trial has ended, so its last line is whole.
        A :class:`~kfp_tune.collectors.running.StopTest` is handed only the new output (none
        when it does not read it); any other callable, all of it, as the contract says."""
        from kfp_tune.collectors.running import StopTest

        if not isinstance(should_stop, StopTest):
            from kfp_tune.collectors.formats import ended_output

            text = _read(self.fd, 0, os.fstat(self.fd).st_size).decode("utf-8", errors="replace")
            return should_stop(ended_output(text) if ended else text)
        if not should_stop.reads_output:
            return should_stop.appended("")
        for text in self.appended():
            if should_stop.appended(text):
                return True
        if not ended:
            return False
        rest = self.decoder.decode(b"", final=True)
        if not (rest.endswith("\n") or (not rest and self.ends_line)):
            rest += "\n"
        return should_stop.appended(rest)


@dataclass(frozen=True)
class _Ready:
    """A local trial ready to start: its process's words, env and working folder (as given, and
    as the process gets it), what runs beside it for its collector, its checkpoint folder, and
    the deadline it is held to."""

    argv: list[str]
    env: dict[str, str]
    cwd: str | None
    start_in: bytes | None
    beside: _Beside | None
    checkpoint: TrialFolder | None
    deadline: Deadline | None


@dataclass(frozen=True)
class _Ended:
    """How a local trial's process ended (:meth:`LocalLauncher._watch`: reason empty for a
    normal end), when (``time.monotonic()``), and its output, read on to judge it at its end."""

    code: int
    reason: str
    message: str
    at: float
    printed: _Output


def _judged_at_end(trial: TrialRun, ended: _Ended) -> tuple[bool, EarlyStoppingRuleError | None]:
    """(whether the rule stops the trial, which has ended, the rule's error if it raised). It
    ended between two looks: judged on all it reported (the collector's last read is in,
    ``beside.stop()``), as Katib's collector judges each line as it is written. A rule that
    raises here does not make the trial's end: the trial is what its end says, as if no rule had
    been asked, and the error, raised once that is known, stops the run."""
    from kfp_tune.collectors.running import EarlyStoppingRuleError  # as judge() imports StopTest

    if ended.reason not in ("", "Error") or trial.should_stop is None:
        return False, None
    try:
        return ended.printed.judge(trial.should_stop, ended=True), None
    except EarlyStoppingRuleError as exc:
        return False, exc


def _phase_of(ended: _Ended, ends_stopped: bool, text: str) -> tuple[LaunchPhase, str, str]:
    """(phase, reason, message) of a trial that ran: early stopped (while it ran, or
    ``ends_stopped``: on all it printed once it had ended), succeeded (exit code 0, nothing
    stopped it), else failed; one that failed on its own gets how it ended and its log's last
    line (``text``: its log, :func:`failure_message`)."""
    reason, message = (EARLY_STOP_REASON, EARLY_STOP_MESSAGE) if ends_stopped else (ended.reason, ended.message)
    if reason == EARLY_STOP_REASON:
        return LaunchPhase.EARLY_STOPPED, reason, message
    if ended.code == 0 and not reason:
        return LaunchPhase.SUCCEEDED, reason, message
    if reason == "Error":
        message = failure_message(ended.code, text)
    return LaunchPhase.FAILED, reason, message


def _read(fd: int, start: int, size: int) -> bytes:
    """``size`` bytes of the file from ``start`` (fewer at its end), its offset left as it is."""
    parts, position = [], start
    while position < start + size:
        data = os.pread(fd, start + size - position, position)
        if not data:
            break
        parts.append(data)
        position += len(data)
    return b"".join(parts)


def _end_leftovers(process: subprocess.Popen) -> None:
    """What is left of a trial's process group once the process started has ended (a
    background ``sleep 60 &`` of its shell line): SIGTERM, the grace period, then SIGKILL, as
    :func:`_stop` ends a running trial; nothing, and no wait, when nothing is left. On a
    cluster the container ends with its main process, taking every process in it along, and
    the Job is then deleted (Katib: pkg/controller.v1beta1/trial/trial_controller.go,
    reconcileJob). A process that left the group (``setsid``) is not reached."""
    if _group_gone_within(process, 0.0):
        return
    _signal_group(process, signal.SIGTERM)
    if not _group_gone_within(process, GRACE_SECONDS):
        _signal_group(process, signal.SIGKILL)
        _group_gone_within(process, GRACE_SECONDS)


class _Beside:
    """A collector beside a local trial: a thread following its metrics into the store, or the
    Custom collector's process. Started before the trial, stopped once it has ended."""

    def __init__(
        self, follower: Any = None, writer: Any = None, argv: list[str] | None = None, env: dict[str, str] | None = None, cwd: str | None = None, name: str = ""
    ):
        self.follower, self.writer = follower, writer
        self.argv, self.env, self.cwd, self.name = argv, env, cwd, name
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._output: Any = None

    def start(self, hold: int | None = None) -> None:
        """``hold``: the trial's locked log, which the Custom collector's process keeps open too,
        so that no sweep takes the folder they share while it runs (:mod:`.scratch`)."""
        if self.argv is not None:
            self._output = tempfile.TemporaryFile()  # noqa: SIM115 - kept while the trial runs, closed by stop()
            try:
                self._process = subprocess.Popen(
                    process_argv(self.argv), stdout=self._output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    env=None if self.env is None else process_env(self.env), cwd=None if self.cwd is None else process_bytes(self.cwd),
                    start_new_session=True,
                    pass_fds=() if hold is None else (hold,),
                )
            except (OSError, ValueError):
                self._output.close()
                raise
            return
        from kfp_tune.collectors.observe import follow

        self._thread = threading.Thread(target=follow, args=(self.follower, self.writer, self._stop_event, POLL_SECONDS), name="kfp-tune-collector", daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, str]:
        """Stop it (a thread: after a last read, stored; a process: SIGTERM, then SIGKILL after
        the grace period); returns the Custom collector's output, by its container's name."""
        if self._thread is not None:
            self._stop_event.set()
            self._thread.join()
            return {}
        if self._process is None:
            return {}
        _stop(self._process)
        text = kept_log(self._output.fileno())
        self._output.close()
        return {self.name: text}


def _stop(process: subprocess.Popen) -> int:
    """The trial's process group: SIGTERM, a grace period for the group to end, then SIGKILL to
    whatever of it is left; returns the exit code of the process started, once the group is gone.
    The group, not that process: a trial run through ``sh -c`` is the shell's child, and the shell
    ends at SIGTERM at once, before the trial it ran has ended."""
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
    _group_gone_within(process, GRACE_SECONDS)  # also when the shell has gone already (an interrupt's SIGTERM) and its trial not yet
    _signal_group(process, signal.SIGKILL)
    code = process.wait()
    _group_gone_within(process, GRACE_SECONDS)  # killed: gone as soon as the kernel (and init, for the orphans) has reaped them
    return code


def _group_gone_within(process: subprocess.Popen, seconds: float) -> bool:
    """Wait until no process of the group is left (the one started reaped here, the others by
    their parents or init), at most ``seconds``; whether the group is gone."""
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:  # reaped: the group's other members are what killpg finds
            try:
                os.killpg(process.pid, 0)
            except (ProcessLookupError, PermissionError):
                return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(GROUP_POLL_SECONDS)


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    """Signal the trial's process group (its pid: it leads its own session); a group already
    gone is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


@dataclass(frozen=True)
class Deadline:
    """When a trial is killed and the reason its failure gets: that of the controller which
    would end it on a cluster."""

    seconds: float
    reason: str
    message: str


def trial_deadline(manifest: Mapping[str, Any], primary: str, timeout_seconds: float | None = None) -> Deadline | None:
    """The earliest of the deadlines a cluster would hold the trial to (None: it has none).

    - The resource's own: ``spec.activeDeadlineSeconds`` (a Job, a TrainJob; any kind that has
      it there) or ``spec.runPolicy.activeDeadlineSeconds`` (the training-operator's kinds, an
      MPIJob). A Job, a TrainJob and a v2beta1 MPIJob (its launcher Job gets the deadline) fail
      ``DeadlineExceeded``; the training-operator (kubeflow.org/v1) fails its kinds
      ``<Kind>Failed`` (``PyTorchJobFailed``: ``NewReason(kind, JobFailedReason)``).
    - The pod's: ``activeDeadlineSeconds`` of the pod template holding the primary container,
      where the kubelet fails the pod ``DeadlineExceeded``. A Job then makes the pod again until
      ``backoffLimit`` is spent and fails ``BackoffLimitExceeded`` (a v2beta1 MPIJob's launcher
      the same, reported ``BackoffLimitExceeded/DeadlineExceeded``); the training-operator fails
      its kinds ``<Kind>Failed``. Here the trial runs once, as it does when it fails on its own.
    - The launcher's ``timeoutSeconds`` (``DeadlineExceeded``).

    A tie goes to the resource's deadline."""
    api_version, kind = str(manifest.get("apiVersion") or ""), str(manifest.get("kind") or "")
    training_operator = api_version == "kubeflow.org/v1"
    spec = manifest.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    run_policy = spec.get("runPolicy")
    found: list[Deadline] = []

    def add(value: Any, field: str, reason: str) -> None:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            found.append(Deadline(float(value), reason, f"the trial ran past its deadline of {value:g} s ({field}) and was killed"))

    resource_reason = f"{kind}Failed" if training_operator else "DeadlineExceeded"
    add(spec.get("activeDeadlineSeconds"), "spec.activeDeadlineSeconds", resource_reason)
    if isinstance(run_policy, Mapping):
        add(run_policy.get("activeDeadlineSeconds"), "spec.runPolicy.activeDeadlineSeconds", resource_reason)
    pod = _pod_spec_of(manifest, primary_container(manifest, primary))
    if pod is not None:
        if training_operator:
            pod_reason = f"{kind}Failed"
        elif (api_version, kind) == ("batch/v1", "Job"):
            pod_reason = "BackoffLimitExceeded"
        elif (api_version, kind) == ("kubeflow.org/v2beta1", "MPIJob"):
            pod_reason = "BackoffLimitExceeded/DeadlineExceeded"
        else:
            pod_reason = "DeadlineExceeded"
        add(pod[1].get("activeDeadlineSeconds"), f"{pod[0]}.activeDeadlineSeconds", pod_reason)
    if timeout_seconds is not None and timeout_seconds > 0:
        found.append(Deadline(float(timeout_seconds), "DeadlineExceeded", f"the trial ran past the launcher's timeout of {timeout_seconds:g} s and was killed"))
    return min(found, key=lambda deadline: deadline.seconds, default=None)


def _pod_spec_of(tree: Any, container: Any, path: str = "") -> tuple[str, Mapping[str, Any]] | None:
    """(its path, the pod spec) whose ``containers`` hold ``container`` (this very mapping)."""
    if container is None:
        return None
    if isinstance(tree, Mapping):
        containers = tree.get("containers")
        if isinstance(containers, list) and any(item is container for item in containers):
            return path, tree
        for key, value in tree.items():
            found = _pod_spec_of(value, container, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    elif isinstance(tree, list):
        for index, item in enumerate(tree):
            found = _pod_spec_of(item, container, f"{path}[{index}]")
            if found is not None:
                return found
    return None
