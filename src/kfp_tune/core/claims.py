"""Which run drives an experiment: one at a time.

A run claims the experiment by creating ``runs/<seq>.json`` with the store's atomic create, so
of two runs racing for the same sequence number exactly one wins. The claim holds while the run
shows signs of life (``runs/<seq>.beat.json``, rewritten by every step and, while a trial runs,
every ``ttl / 4`` seconds) and until it ends (``runs/<seq>.end.json``). A claim whose last sign
of life is older than the TTL belongs to a run that was killed: the next run may claim, and it
then deals with the trials the dead run left (see ``steps.adopt_orphans``). The one exception is
a kfp.local pipeline's run while the Python that called it runs a step of it (``Claim.live``):
a step of the user's own may take longer than the TTL.

Every step of a run checks that the newest claim is still its own, so a run that was taken
over stops at its next step instead of writing beside the new one.

A tuning step (or component trials) called inside a user's pipeline is one *call* of that
pipeline run: its run id is the pipeline run's id and the call's own (:func:`call_run_id`), so two
calls in one run are two runs here, and an experiment is tuned by one call of a pipeline run only
(:func:`mark_call`).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kfp_tune.core.errors import ExperimentBusy, ExperimentConflict, ExperimentNotFound, InputError, StoreError
from kfp_tune.core.records import DamagedRecord, ExperimentRecords, TrialEnded, TrialStarted, decode_record
from kfp_tune.core.supported_os import on_windows
from kfp_tune.core.vocabulary import MAX_TTL_SECONDS, RUN_TTL_VARIABLE, TRIAL_TTL_VARIABLE, RecordKind

DEFAULT_TTL = 900.0
"""Seconds without a sign of life after which a run's claim lapses. Generous, because a
pipeline step may wait minutes for a node (a GPU) before it can beat."""
INTERRUPTED = "Interrupted"
"""The end reason of a run its user stopped (SIGINT, SIGTERM)."""



CLOCK_SKEW_SECONDS = 3600.0
"""How far ahead of this machine's clock a stored time (a claim's, a heartbeat's, a trial
attempt's) may be and still be taken as written: the clocks of the machines a run's steps run on
may differ, or be stepped back, by this much (an hour), whatever the TTLs (which may be 0). A time
further ahead is damage (a clock set wrong where it was written, or the record's own): taken as
written, it kept a gone run's claim alive until then, for ever at 1e300."""


DEFAULT_TRIAL_TTL = 120.0
"""Seconds without a sign of life from the launch-trial that started a trial after which that
attempt counts as dead (a retry then ends the trial TrialStale instead of waiting for it)."""


def ttl_from_env() -> float:
    raw = os.environ.get(RUN_TTL_VARIABLE)
    return float(raw) if raw else DEFAULT_TTL


def trial_ttl_from_env() -> float:
    raw = os.environ.get(TRIAL_TTL_VARIABLE)
    return float(raw) if raw else DEFAULT_TRIAL_TTL


OWNER_VARIABLE = "KFP_TUNE_RUN_OWNER"
"""The identity (:func:`process_identity`) of the process that owns a run (the CLI, when the
run's steps are its children, as under kfp.local); unset, the claiming process owns it."""


def process_identity(pid: int) -> str:
    """Who owns a claim or follows a trial: ``host/pid``, then on Linux what makes that pid
    comparable, ``boot=<boot id> pidns=<PID namespace inode> start=<start time in ticks>``.

    A hostname alone does not say two processes share a pid space: containers run with the
    host's network (and name), cloned VMs and two laptops both named ``ubuntu`` do not. Katib
    reads no pid: one controller drives experiments, under a leader-election lease that another
    takes only once it lapses (cmd/katib-controller/v1beta1/main.go, ``main``: the manager's
    ``LeaderElection``), which the claim's TTL is here; the pid is kfp-tune's shortcut to see a
    killed run before its TTL, so it must never fire for a process it cannot see. The start
    time tells the owner from a process the kernel has since given its pid. Off Linux (no
    /proc) only ``host/pid``."""
    identity = f"{socket.gethostname()}/{pid}"
    here = _pid_space()
    if here is None:
        return identity
    start = _start_time(pid)
    return f"{identity} boot={here[0]} pidns={here[1]}" + (f" start={start}" if start else "")


def this_process() -> str:
    return process_identity(os.getpid())


def run_owner() -> str:
    return os.environ.get(OWNER_VARIABLE) or this_process()


def run_driver() -> str:
    """What a claim or heartbeat of this process records as the run's :attr:`Claim.driver`: the
    process running its pipeline under kfp.local; "" under :data:`OWNER_VARIABLE`, whose owner is
    the whole run already."""
    return "" if os.environ.get(OWNER_VARIABLE) else pipeline_process()


HAND_OVER_SECONDS = 60.0
"""How long a claim held by one step of a run whose steps are processes of their own (a user's
pipeline under kfp.local) stays live after the run's last sign of life once every process that
gave one is gone: the gap between one step's end and the next step's first beat (3 s for
launch-trial after suggest; a user's own short step in between). A killed, failed or interrupted
run is then taken over this long after its last beat, not after the TTL, whether or not the
process that called its pipeline lives on (a notebook's kernel): that process counts only while
it runs a step (:meth:`Claim.driver_running_a_step`)."""

KFP_EXECUTOR_MODULE = "kfp.dsl.executor_main"
"""What the command line of every step kfp.local starts names, and of each shell between that step
and kfp.local: its SubprocessRunner runs only a lightweight Python component, whose command runs
this module (kfp/local/subprocess_task_handler.py, ``validate_not_container_component``)."""


@functools.cache
def pipeline_process() -> str:
    """The identity (:func:`process_identity`) of the process that runs this step's pipeline under
    kfp.local, "" where there is none to find (not a KFP step; a pod; off Linux).

    kfp.local runs a pipeline in the Python process that called it, and starts each step there,
    from a thread, with ``subprocess.Popen`` (kfp/local/subprocess_task_handler.py,
    ``run_local_subprocess``; no multiprocessing): the step's executor, under one or two ``sh``
    wrappers, whose command lines all name :data:`KFP_EXECUTOR_MODULE`. The first ancestor whose
    command line does not is that process. It must be a Python interpreter: once it is killed its
    wrappers belong to init or a subreaper, which must not be taken for it. PID 1 is taken too
    when it is one (``docker run IMAGE python pipeline.py``, a CI pod, ``unshare``: the pipeline's
    Python is its namespace's init); an init that adopted orphaned wrappers is none (tini, a
    shell, systemd). Read once, while the step starts, before it could be orphaned."""
    if _pid_space() is None or KFP_EXECUTOR_MODULE not in _command_line(os.getpid()):
        return ""
    pid = os.getppid()
    for _ in range(8):  # the executor's wrappers: one or two shells
        if pid < 1:  # 0: no parent to read
            return ""
        command = _command_line(pid)
        if KFP_EXECUTOR_MODULE not in command:
            return process_identity(pid) if command and _runs_python(pid) else ""
        pid = _parent(pid)
    return ""


def _command_line(pid: int) -> str:
    """Process ``pid``'s arguments, spaced; "" when they cannot be read."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _parent(pid: int) -> int:
    """Process ``pid``'s parent (/proc/PID/stat, field 4); 0 when it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(errors="replace").rpartition(")")[2].split()
    except OSError:
        return 0
    return int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 0


def _children(pid: int) -> list[int]:
    """The processes of this machine whose parent is ``pid`` (every /proc/PID/stat read: the
    ``children`` files are only reliable for a stopped process)."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    return [int(entry) for entry in entries if entry.isdigit() and _parent(int(entry)) == pid]


def this_steps_line() -> frozenset[int]:
    """This process and its ancestors: a step's own wrappers, which say nothing of another run of
    the process that runs its pipeline."""
    line: set[int] = set()
    pid = os.getpid()
    while pid > 0 and pid not in line and len(line) < 64:
        line.add(pid)
        pid = _parent(pid)
    return frozenset(line)


def runs_a_step(pid: int) -> bool:
    """Whether process ``pid`` of this machine runs a step of a pipeline under kfp.local now: it
    has a child whose command line names :data:`KFP_EXECUTOR_MODULE` (kfp.local starts each step
    as its child, the step's outermost wrapper naming it too), other than this process's own line
    (:func:`this_steps_line`: the step asking, when it is a step of that process's pipeline)."""
    ours = this_steps_line()
    return any(child not in ours and KFP_EXECUTOR_MODULE in _command_line(child) for child in _children(pid))


def _runs_python(pid: int) -> bool:
    """Whether process ``pid``'s program is a Python interpreter (a script's too: /proc/PID/exe is
    its interpreter)."""
    try:
        program = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return False
    return program.startswith(("python", "pypy"))


_one_step = contextvars.ContextVar("one_step_of_a_run", default=False)


@contextlib.contextmanager
def one_step_of_a_run() -> Iterator[None]:
    """A claim taken inside is held by one step of its run (a KFP component's body), a process
    that ends before its run does: its claim is not freed the moment that process ends
    (:data:`HAND_OVER_SECONDS`). Not so under :data:`OWNER_VARIABLE`, where the owner is the
    whole run (``kfp-tune run``)."""
    token = _one_step.set(True)
    try:
        yield
    finally:
        _one_step.reset(token)


def _pid_space() -> tuple[str, str] | None:
    """(boot id, PID namespace inode) of this process: the pids it can see, on this boot; None
    off Linux, or when /proc is not this PID namespace's (its ``self`` is another pid)."""
    try:
        if os.readlink("/proc/self") != str(os.getpid()):
            return None
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return None
    return (boot, str(namespace)) if boot else None


def _start_time(pid: int) -> str:
    """When process ``pid`` started, in clock ticks after boot (/proc/PID/stat, field 22); ""
    when it cannot be read (no such process, no /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(errors="replace").rpartition(")")[2].split()
    except OSError:
        return ""
    return fields[19] if len(fields) > 19 and fields[19].isdigit() else ""


def owner_is_gone(owner: str) -> bool:
    """Whether ``owner`` (:func:`process_identity`) names a process this one can see and that no
    longer exists (or whose pid another process has since taken). False when its pids are not
    ours to read, so that only its silence for the TTL says it is gone: another host, another
    boot or another PID namespace (a container sharing the host's name), and, on Linux, an
    owner written without boot and namespace (an older kfp-tune's ``host/pid``, or one off
    Linux): such a claim is waited out rather than taken from a run that may be alive."""
    seen = _local_process(owner)
    return seen is not None and not _still_running(*seen)


def owner_running_here(owner: str) -> int | None:
    """The pid of ``owner`` when it is a process of this machine that still runs (a ``kfp-tune
    run`` in another terminal), for a busy message to name; None otherwise."""
    seen = _local_process(owner)
    return seen[0] if seen is not None and _still_running(*seen) else None


def other_user(pid: int) -> str | None:
    """The user that process ``pid`` of this machine runs as (name, else uid) when it is not
    this process's user: on a folder store shared by several people, whom to ask, since only
    they (or root) may stop it. None when it is ours, or cannot be told (no /proc)."""
    try:
        uid = os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None
    return None if uid == os.getuid() else user_words(uid)


def user_words(uid: int) -> str:
    """A Unix user as messages name one: ``name (uid N)``, or ``uid N`` where the name is not
    known (no passwd entry, or no ``pwd`` module). The one spelling for every message, the
    stores' included."""
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def owner_user_words(pid: int) -> str:
    """" of user NAME (uid N)" for a process of another user (:func:`other_user`), else ""."""
    return _of_user(other_user(pid))


def _of_user(user: str | None) -> str:
    return f" of user {user}" if user is not None else ""


def _still_running(pid: int, started: str) -> bool:
    """Whether process ``pid`` exists and is the one that started at ``started`` (when recorded):
    not one the kernel has given its pid since."""
    return process_alive(pid) and not (started and _start_time(pid) not in ("", started))


def _local_process(owner: str) -> tuple[int, str] | None:
    """(pid, start time as recorded, maybe "") of ``owner`` when its pids are this process's to
    read (:func:`owner_is_gone`), else None."""
    head, *extra = owner.split(" ")
    host, _, pid = head.rpartition("/")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    fields = {key: value for key, _, value in (field.partition("=") for field in extra)}
    here = _pid_space()
    if here is not None and (fields.get("boot"), fields.get("pidns")) != here:
        return None
    if here is None and extra:  # recorded on Linux, read where the pids cannot be compared
        return None
    return int(pid), fields.get("start", "")


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine exists and has not ended (a zombie, not yet
    reaped, has ended); one we may not signal exists. On Windows, where os.kill(pid, 0) would
    send CTRL_C_EVENT, not probe (kfp-tune refuses to run there, but a plug-in may import this),
    it is taken to exist: the claim is then waited out for its TTL, as another host's is."""
    if on_windows():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(errors="replace")
    except OSError:  # no /proc (macOS): it exists
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


CALL_SEPARATOR = ".call-"
"""Between a pipeline run's id and a call's own in the run id of one call (:func:`call_run_id`)."""
_CALL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")


def call_run_id(job_id: str, call_id: str) -> str:
    """The run id of one call of a tuning step in pipeline run ``job_id``: the pipeline run's id
    and the call's own (the KFP task id of the call's first task, which passes it on to the
    others), so that two calls in one run never share a claim, rounds or staged inputs, while a
    retry of the same run (the same ids) resumes its own. ``call_id`` "": ``job_id`` itself (a
    pipeline that is one tuning run)."""
    if not call_id:
        return job_id
    if not _CALL_ID.fullmatch(call_id):
        raise InputError(f"call_id: expected letters, digits and '-' (a KFP task id, dsl.PIPELINE_TASK_ID_PLACEHOLDER), got {call_id!r:.80}")
    return f"{job_id}{CALL_SEPARATOR}{call_id}"


def job_and_call(run_id: str) -> tuple[str, str]:
    """(the pipeline run's id, the call's id) of a run id :func:`call_run_id` made; the call is
    "" for a run that is no call."""
    job, separator, call = run_id.rpartition(CALL_SEPARATOR)
    return (job, call) if separator and job and _CALL_ID.fullmatch(call) else (run_id, "")


def mark_call(records: ExperimentRecords, run_id: str) -> None:
    """The first call of a pipeline run to reach the experiment tunes it; any other call of that
    run is refused (ExperimentConflict saying what to do), however the calls are ordered. Katib
    never merges two Experiments of one name: a second one is refused as already existing
    (sdk/python/v1beta1/kubeflow/katib/api/katib_client.py, ``KatibClient.create_experiment``,
    the API server's 409). A later pipeline run resumes the experiment as before; a retry of the
    same run keeps its call's id. A run that is no call (no call id) marks nothing."""
    job, call = job_and_call(run_id)
    if not call:
        return
    now = time.time()
    stored = records.write_once(records.run_call_key(job), RecordKind.RUN_CALL, {"job": job, "call": call, "run": run_id, "at": now, "time": utc_text(now)})
    if stored.get("call") != call:
        raise ExperimentConflict(
            f"experiment {records.experiment!r} is already tuned by another call in this pipeline run ({job!r}, call {stored.get('call')!r}; "
            f"this is call {call!r}): two tuning steps of one run, or two iterations of a ParallelFor, would drive one experiment, "
            "share its claim and its staged inputs, and hand on the same best trial. Give each call its own experiment_name, "
            "or fresh_experiment=True (an experiment of its own for each call of each run)"
        )


@dataclass(frozen=True)
class Claim:
    seq: int
    run: str
    created: float
    last_seen: float
    ended: bool
    ttl: float
    owner: str = ""
    reason: str = ""
    """Why the run ended (its end record's reason); empty while it runs."""
    beaten_by: str = ""
    """Who (:func:`run_owner`) wrote the run's last heartbeat; "" for none, or one an older
    kfp-tune wrote without saying."""
    holder_is_one_step: bool = False
    """The owner is one step of the run (:func:`one_step_of_a_run`), not the whole run."""
    driver: str = ""
    """The process that runs the run's pipeline under kfp.local (:func:`pipeline_process`), as its
    last heartbeat or else its claim names it; "" for none (a pod, ``kfp-tune run``, ``tune()``)."""
    ended_at: float | None = field(default=None, compare=False)
    """When the run ended, as its end record says; None while it runs, or where that is unreadable."""
    taken_now: bool = field(default=False, compare=False)
    """Written by the :func:`claim` call that returned it, not found there (a retry of the same
    run's step, or another call of the same pipeline run, which shares its run id): only a call
    that took the claim may give it back when it is refused."""

    def live(self, now: float) -> bool:
        """Not ended, heard from within the TTL, and not a run whose processes, on this machine,
        are all gone (a killed ``kfp-tune run`` or ``tune()`` is seen as gone at once, not after
        the TTL).

        The owner is the run only where one process drives it all (``kfp-tune run``, ``tune()``,
        or the CLI's kfp.local children under :data:`OWNER_VARIABLE`). In a user's own pipeline
        under kfp.local it is the suggest step's process, which ends when the step does while
        the run's later steps, processes of their own, go on beating: the writer of the last beat
        proves the run alive while it runs, as the owner does, and, once it and the owner are
        gone (the run killed, or interrupted with Ctrl-C, which skips its exit handler), the run
        stays live :data:`HAND_OVER_SECONDS` after its last beat, the gap between two steps. A
        process whose pids are not ours to read (a pod) proves it alive for the TTL.

        The process that runs such a pipeline (:attr:`driver`, the Python that called it; its
        steps are its children) proves it alive while it runs a step (:meth:`driver_running_a_step`)
        on this machine, however long a step of the user's own between two kfp-tune steps takes,
        the TTL included (unless it is 0); once it is gone, no step of the run comes, and the claim
        is free as soon as the steps still running have ended. Alive but running no step, it
        proves nothing: a notebook's kernel, or a script that goes on, lives on after its run
        failed or was interrupted, and the grace and the TTL decide as for an unknown one. This
        call's own step (a kernel running the pipeline again) is no step of the other run.

        A claim last heard from exactly ``ttl`` seconds ago has lapsed: "heard from within the
        TTL" is strictly less, the same boundary as a trial attempt's in ``wait_for_attempt``."""
        if self.ended:
            return False
        if self.ttl > 0 and self.driver_running_a_step() is not None:
            return True
        if now - self.last_seen >= self.ttl:
            return False
        grace = self.grace()
        return grace is None or now - self.last_seen < grace

    def driver_running_here(self) -> int | None:
        """The pid of :attr:`driver` while it runs on this machine, a step or none; None otherwise."""
        return owner_running_here(self.driver) if self.driver else None

    def driver_running_a_step(self) -> int | None:
        """The pid of :attr:`driver` while it runs on this machine and runs a step of a pipeline
        (:func:`runs_a_step`): one of this run, or of another run it started meanwhile (the
        process that asks, or a kernel's pipeline in a thread), the step asking excluded. A sign
        that its run goes on: a run that failed or was interrupted leaves it none. None otherwise."""
        pid = self.driver_running_here()
        return pid if pid is not None and runs_a_step(pid) else None

    def grace(self) -> float | None:
        """How long after its last sign of life the claim stays live, short of its TTL: None while
        a process of the run runs, the one running its pipeline included while it runs a step (or
        runs where its pids are not ours to read, a pod: the TTL decides); :data:`HAND_OVER_SECONDS`
        once the processes of a run whose steps are processes of their own are gone, that one
        unknown or running no step; 0 once a run's one process is gone (``kfp-tune run``,
        ``tune()``), or its pipeline's and its steps'."""
        if not owner_is_gone(self.owner):
            return None
        another_writer = bool(self.beaten_by) and self.beaten_by != self.owner
        if another_writer and not owner_is_gone(self.beaten_by):
            return None  # a later step of its run still runs
        if self.driver_running_a_step() is not None:
            return None  # the process that runs its pipeline runs a step of it
        if self.driver_is_gone():
            return 0.0  # no step of it comes
        return HAND_OVER_SECONDS if self.holder_is_one_step or another_writer else 0.0

    def driver_is_gone(self) -> bool:
        """Whether :attr:`driver` was a process of this machine that has ended."""
        return bool(self.driver) and owner_is_gone(self.driver)

    def describe(self, now: float) -> str:
        """Who holds the claim, for a busy message. A sign of life from a clock ahead of this
        one (by up to :data:`CLOCK_SKEW_SECONDS`) is said as its time: "-1800 s ago" read as a typo."""
        if self.last_seen > now:
            seen = f"last seen at {utc_text(self.last_seen)} (ahead of this machine's clock)"
        else:
            seen = f"last seen {now - self.last_seen:.0f} s ago"
        return f"run {self.run!r} (claimed {utc_text(self.created)}, {seen})"


def utc_text(epoch: float) -> str:
    """A time for people, UTC; one no calendar holds (NaN, 1e300) as the number, never an error."""
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
    except (OverflowError, OSError, ValueError):
        return f"{epoch!r} s after 1970"


def latest_claim(records: ExperimentRecords, own_run: str = "") -> Claim | None:
    """The newest run's claim. DamagedRecord if the claim itself cannot be read (which run
    drives the experiment is then unknown: no run may claim it until it is repaired); a damaged
    heartbeat counts as none, and a damaged end record still says that the run ended. A time no
    clock could have written (not a finite number, or more than :data:`CLOCK_SKEW_SECONDS` ahead
    of this machine's clock) is damage: the claim's, unless its run ended (the end record decides)
    or it is ``own_run``'s (the run reading its own claim is alive, whatever the clock that wrote
    it said); a heartbeat's is none (:func:`seen_time`)."""
    seqs = [seq for key in records.store.list(records.runs_prefix()) if (seq := records.claim_seq_of(key)) is not None]
    if not seqs:
        return None
    seq = max(seqs)
    key = records.claim_key(seq)
    claim = records.read(key, RecordKind.RUN_CLAIM)
    if claim is None:
        raise DamagedRecord(key, "listed, but it cannot be read back")
    at, run, ttl = _number(claim.get("at")), claim.get("run"), _number(claim.get("ttl", DEFAULT_TTL))
    end_key = records.run_end_key(seq)
    end_data = records.store.get(end_key)
    ended, end = end_data is not None, None
    if end_data is not None:
        with contextlib.suppress(DamagedRecord):  # it is there: the run ended, whatever it says
            end = decode_record(end_data, end_key, RecordKind.RUN_ENDED)
    trusted = ended or (bool(own_run) and run == own_run)  # its time decides nothing: the end record, or the run reading it, does
    if (at is None and not trusted) or not isinstance(run, str) or ttl is None or not 0 <= ttl <= MAX_TTL_SECONDS:
        raise DamagedRecord(
            key, f"expected a run name, a time and a TTL (0 to {MAX_TTL_SECONDS} s), got run {run!r}, at {claim.get('at')!r}, ttl {claim.get('ttl')!r}"
        )
    beat = _optional(records, records.run_heartbeat_key(seq), RecordKind.RUN_HEARTBEAT)
    now = time.time()
    if not trusted and seen_time(at, now) is None:  # live until then, were it taken as written: for ever at 1e300
        raise DamagedRecord(
            key, f"its time 'at' ({utc_text(at or 0.0)}) is more than {CLOCK_SKEW_SECONDS:g} s ahead of this machine's clock ({utc_text(now)}): "
            "expected a time the clock of the run that claimed could have written (one set wrong there, or damage); no run may claim "
            f"the experiment until it is repaired: once run {run!r} is gone, set 'at' to when it claimed, or remove the record"
        )
    created = at if at is not None else now  # ended, or own_run's, written by no clock
    last_seen = max(created, (seen_time(beat.get("at"), now) if beat else None) or 0.0)  # a heartbeat from the future is damaged: none
    reason = str(end.get("reason", "")) if end else ""
    ended_at = _number(end.get("at")) if end else None
    beaten_by = str(beat.get("by", "")) if beat and seen_time(beat.get("at"), now) is not None else ""
    one_step = claim.get("holderIsOneStep") is True
    driver = (str(beat.get("driver") or "") if beat and beaten_by else "") or str(claim.get("driver") or "")
    return Claim(seq, run, created, last_seen, ended, ttl, str(claim.get("holder", "")), reason, beaten_by, one_step, driver, ended_at=ended_at)


def _number(value: object) -> float | None:
    """A stored time or duration as a float, or None if it is not a finite number (JSON as
    Python reads it holds NaN, Infinity and integers no float holds: no time is any of them)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def seen_time(value: object, now: float) -> float | None:
    """A stored sign of life's time (a claim's, a heartbeat's, a trial place's), or None when no
    clock could have written it: not a finite number, or more than :data:`CLOCK_SKEW_SECONDS`
    ahead of this machine's clock (a clock set wrong where it was written, or damage). Taken as
    written, it kept its claim, attempt or place alive until then, after its run was gone; taken
    as now, for ever."""
    at = _number(value)
    return at if at is not None and at <= now + CLOCK_SKEW_SECONDS else None


OWN_CLAIM_SLACK_SECONDS = 1.0
"""How long before its run began a claim of this process (:func:`run_owner`) still counts as
that run's (:func:`held_by_this_process`): one clock wrote both times, so only a clock stepped
back a little between them is allowed for, not :data:`CLOCK_SKEW_SECONDS` (an earlier run of
the same process, a second ``kfp-tune`` call in one Python, claimed before)."""


def held_by_this_process(records: ExperimentRecords, since: float) -> bool:
    """Whether the experiment's newest claim is this process's, made since ``since`` (when its
    run began, by this machine's clock): that run claimed it, and may not have released it.
    StoreError when the store cannot say."""
    current = latest_claim(records)
    return current is not None and current.owner == run_owner() and current.created >= since - OWN_CLAIM_SLACK_SECONDS


def _optional(records: ExperimentRecords, key: str, kind: str) -> dict[str, Any] | None:
    """A record that only adds to another (a heartbeat, an end's reason): damaged is as absent."""
    try:
        return records.read(key, kind)
    except DamagedRecord:
        return None


def claim(records: ExperimentRecords, run_id: str, take_over: bool = False, ttl: float | None = None) -> Claim:
    """Make ``run_id`` the run that drives the experiment, or raise ExperimentBusy naming the
    run that does. A retry of the same run's claim is a no-op, returning the claim found
    (``taken_now`` False). ``take_over`` claims even from a
    run that still looks alive (the user knows it is gone). A call of a pipeline run that another
    call of the same run got to first is refused whatever ``take_over`` says (:func:`mark_call`)."""
    ttl = ttl_from_env() if ttl is None else ttl
    mark_call(records, run_id)
    now = time.time()
    current = latest_claim(records, own_run=run_id)
    if current is not None and current.run == run_id and not current.ended:
        return current
    if current is not None and current.live(now) and not take_over:
        raise busy(records, current, now)
    seq = 1 + (current.seq if current else 0)
    payload: dict[str, Any] = {"run": run_id, "at": now, "time": utc_text(now), "ttl": ttl, "holder": run_owner()}
    one_step = _one_step.get() and not os.environ.get(OWNER_VARIABLE)
    if one_step:
        payload["holderIsOneStep"] = True
    driver = run_driver()
    if driver:
        payload["driver"] = driver
    stored = records.write_once(records.claim_key(seq), RecordKind.RUN_CLAIM, payload)
    with _checked_lock:  # a run of this process that was just taken over learns it at its next step
        for checked in [k for k in _checked if k[:2] == (records.store.uri, records.experiment)]:
            del _checked[checked]
    if stored["run"] != run_id:
        raise ExperimentBusy(f"experiment {records.experiment!r} was claimed by run {stored['run']!r} at the same moment", stops=True)
    return Claim(
        seq, run_id, now, now, False, ttl, str(stored.get("holder", "")), holder_is_one_step=stored.get("holderIsOneStep") is True,
        driver=str(stored.get("driver") or ""), taken_now=True,
    )


TAKE_OVER = "or take it over: kfp-tune run --take-over, tune(..., take_over=True), or the pipeline parameter take_over=True"
"""What a run refused for a busy experiment may do instead of waiting."""
STOP_FIRST = "or stop it first: Ctrl-C where it runs, or terminate its KFP run"
"""What a deletion refused for a busy experiment may do instead of waiting (taking it over would run it)."""


def busy(records: ExperimentRecords, current: Claim, now: float, instead: str = TAKE_OVER) -> ExperimentBusy:
    pid = owner_running_here(current.owner)
    if pid is not None:  # a run of this machine that lives: its TTL and taking it over (two runs at once) are no advice
        again = "run again" if instead == TAKE_OVER else "try again"
        user = other_user(pid)
        stopper = f"ask user {user} to stop it" if user is not None else "stop it"
        where, stop = ("this process", "") if pid == os.getpid() else (
            f"process {pid}{_of_user(user)} on this machine",
            f", or {stopper} (Ctrl-C where it runs, or kill {pid}: its running trials are given back) and {again}")
        return ExperimentBusy(f"experiment {records.experiment!r} is being run by {current.describe(now)}, {where}: wait for it to end{stop}")
    driver = current.driver_running_a_step()
    if driver is not None:  # a pipeline under kfp.local in a step, a user's own included: held while that process runs one
        user = other_user(driver)
        stopper = f"ask user {user} to stop it" if user is not None else "stop it"
        again = "run again" if instead == TAKE_OVER else "try again"
        otherwise = f"; if that step is another pipeline's (this run over), wait for it to end, {instead}" if instead == TAKE_OVER else ""
        return ExperimentBusy(
            f"experiment {records.experiment!r} is being run by {current.describe(now)}, a pipeline that process {driver}{_of_user(user)} "
            f"on this machine runs with kfp.local (the Python that called it; its steps are its children), which runs a step of a "
            f"pipeline now: the claim holds while that process runs a step, however long; wait for the run to end, or {stopper} "
            f"(Ctrl-C where it runs) and {again}{otherwise}"
        )
    grace = current.grace()
    idle = current.driver_running_here()
    if idle is not None and grace is not None and 0 < grace < current.ttl:  # the run between two steps, or over in a living process
        after = f" ({instead})" if instead == TAKE_OVER else ""
        return ExperimentBusy(
            f"experiment {records.experiment!r} is being run by {current.describe(now)}, a pipeline that process {idle}{_of_user(other_user(idle))} "
            f"on this machine runs with kfp.local (the Python that called it), which runs no step of it now, and whose steps' processes "
            f"on this machine have all ended: the run is between two steps, or it failed or was interrupted and that process lives on "
            f"(a notebook's kernel, a script that goes on); wait for its next step or, if the run is over, until "
            f"{utc_text(current.last_seen + grace)}, when kfp-tune takes a run whose steps have ended and that was not heard from for "
            f"{grace:g} s as gone{after}"
        )
    if grace is not None and 0 < grace < current.ttl:  # its steps' processes on this machine have ended: between two steps, or killed
        return ExperimentBusy(
            f"experiment {records.experiment!r} is being run by {current.describe(now)}, whose steps' processes on this machine "
            f"have all ended: it is between two steps, or was killed or interrupted; wait for its next step or, if it is gone, until "
            f"{utc_text(current.last_seen + grace)}, when kfp-tune takes a run whose steps have ended and that was not heard from "
            f"for {grace:g} s as gone ({instead})"
        )
    return ExperimentBusy(
        f"experiment {records.experiment!r} is being run by {current.describe(now)}; "
        f"wait for it to end or, if it is gone, until {utc_text(current.last_seen + current.ttl)}, when kfp-tune takes a run "
        f"not heard from for {current.ttl:g} s as gone ({instead})"
    )


def refuse_if_busy(records: ExperimentRecords, instead: str = TAKE_OVER) -> None:
    """Raise ExperimentBusy if another run drives the experiment now (a check before a run, or
    before a deletion, which says ``instead`` what else may be done)."""
    current, now = latest_claim(records), time.time()
    if current is not None and current.live(now):
        raise busy(records, current, now, instead)


CHECK_EVERY_SECONDS = 1.0
"""A run's steps in one process (its slots) read its claim at most this often: a run that was
taken over stops within a second, and a trial does not pay a claim read and write per step."""
_checked: dict[tuple[str, str, str], tuple[float, Claim]] = {}
_checked_lock = threading.Lock()


def check(records: ExperimentRecords, run_id: str) -> Claim:
    """Raise ExperimentBusy unless ``run_id`` still drives the experiment; record a sign of life."""
    key = (records.store.uri, records.experiment, run_id)
    with _checked_lock:
        recent = _checked.get(key)
    if recent is not None and time.monotonic() - recent[0] < CHECK_EVERY_SECONDS:
        return recent[1]
    current = latest_claim(records, own_run=run_id)
    if current is None and records.store.get(records.experiment_key()) is None:
        if recent is not None:  # this run drove it a moment ago
            raise StoreError(
                f"experiment {records.experiment!r} is gone from {records.store.uri} while run {run_id!r} drove it: its records were "
                "deleted or moved during the run; this run stops"
            )
        raise ExperimentNotFound(
            f"no experiment {records.experiment!r} in {records.store.uri}: a run's first step creates it from the experiment's spec "
            "(suggest's experiment_spec, at round_index 0); is the name or the store mistyped?"
        )
    now = time.time()
    if current is None or (current.run != run_id and not current.live(now)):
        raise ExperimentBusy(never_claimed(records, run_id, current, now), stops=True)
    if current.run != run_id:
        raise ExperimentBusy(f"experiment {records.experiment!r} is now driven by run {current.run!r}, not by run {run_id!r}", stops=True)
    if current.ended:
        raise ExperimentBusy(f"run {run_id!r} of experiment {records.experiment!r} has already ended")
    beat(records, current)
    with _checked_lock:
        _checked[key] = (time.monotonic(), current)
    return current


HOW_A_RUN_CLAIMS = "a run claims it in its first step: suggest at round_index 0 with experiment_spec"


def never_claimed(records: ExperimentRecords, run_id: str, last: Claim | None, now: float) -> str:
    """Why a step of ``run_id`` may not go on when no run drives the experiment (``last``, the
    newest claim, ended or no longer live at ``now``, or none): its run holds no claim, which its
    first step takes (a round-0 suggest wired without experiment_spec, a later round whose round 0
    never ran, another run id than suggest's). Not "now driven by" the ended or gone run, which
    drives nothing."""
    if last is None:
        return f"run {run_id!r} holds no claim of experiment {records.experiment!r}, and no run has claimed it yet; {HOW_A_RUN_CLAIMS}"
    if not last.ended:  # killed, or interrupted past its exit handler: gone, not ended
        if now - last.last_seen >= last.ttl:
            gone = f"not heard from for {last.ttl:g} s"
        elif last.grace() == 0:
            gone = "the process that ran its pipeline with kfp.local on this machine has ended" if last.driver_is_gone() else "its process on this machine has ended"
        else:
            gone = f"its steps' processes on this machine have ended, and it was not heard from for {HAND_OVER_SECONDS:g} s"
        return (
            f"run {run_id!r} holds no claim of experiment {records.experiment!r}, and no run drives it: its last run, {last.run!r}, "
            f"was last heard from at {utc_text(last.last_seen)} and is taken as gone ({gone}); {HOW_A_RUN_CLAIMS}"
        )
    when = f" at {utc_text(last.ended_at)}" if last.ended_at is not None else ""
    why = f" ({last.reason})" if last.reason else ""
    return (
        f"run {run_id!r} holds no claim of experiment {records.experiment!r}, and no run drives it: its last run, {last.run!r}, "
        f"ended{when}{why}; {HOW_A_RUN_CLAIMS}"
    )


def beat(records: ExperimentRecords, current: Claim) -> None:
    """A sign of life of the run, saying who gave it (:attr:`Claim.beaten_by`)."""
    now = time.time()
    payload: dict[str, Any] = {"run": current.run, "at": now, "time": utc_text(now), "by": run_owner()}
    driver = run_driver()
    if driver:
        payload["driver"] = driver
    records.write(records.run_heartbeat_key(current.seq), RecordKind.RUN_HEARTBEAT, payload)


def release(records: ExperimentRecords, run_id: str, reason: str) -> None:
    """The run is over: the next run may claim at once."""
    with _checked_lock:
        _checked.pop((records.store.uri, records.experiment, run_id), None)
    current = latest_claim(records, own_run=run_id)
    if current is not None and current.run == run_id and not current.ended:
        now = time.time()
        records.write_once(records.run_end_key(current.seq), RecordKind.RUN_ENDED, {"run": run_id, "at": now, "time": utc_text(now), "reason": reason})


def release_held_by(records: ExperimentRecords, owner: str, reason: str) -> str | None:
    """End the newest run if it is still going and ``owner`` (:func:`process_identity`) holds it: the name
    of the run ended, or None. For a process that owns a run whose steps are its children (the
    CLI under kfp.local), which does not know the run's name."""
    current = latest_claim(records)
    if current is None or current.ended or current.owner != owner:
        return None
    release(records, current.run, reason)
    return current.run


def beat_trial(records: ExperimentRecords, trial: str, attempt: str) -> None:
    now = time.time()
    records.write(
        records.heartbeat_key(trial), RecordKind.TRIAL_HEARTBEAT, {"trial": trial, "attempt": attempt, "owner": this_process(), "at": now, "time": utc_text(now)}
    )


def wait_for_attempt(records: ExperimentRecords, trial: str, started: TrialStarted, poll: float = 2.0) -> TrialEnded | None:
    """The ``ended`` record of a trial another launch-trial attempt started, once it is there;
    None as soon as that attempt has shown no sign of life for the trial TTL, or its process is
    gone from this machine (it died).

    An attempt last heard from exactly the TTL ago counts as dead, as a run's claim that old has
    lapsed (``Claim.live``): one boundary for both, so a retry and a new run agree."""
    ttl = trial_ttl_from_env()
    while True:
        ended = records.read_typed(records.trial_key(trial, TrialEnded.FILE), TrialEnded)
        if ended is not None:
            return ended
        if not attempt_follows(records, trial, started, ttl):
            return None
        time.sleep(min(poll, ttl / 4))


def attempt_follows(records: ExperimentRecords, trial: str, started: TrialStarted, ttl: float | None = None) -> bool:
    """Whether an attempt still follows a started trial that has not ended (:func:`wait_for_attempt`
    waits for such a one's end; for any other the trial is re-attached or given back at once):
    it beat within the trial TTL, its process is not gone from this machine, and it did not
    hand the trial over."""
    return beat_follows(trial_beat(records, trial), started, ttl)


def trial_beat(records: ExperimentRecords, trial: str) -> dict[str, Any] | None:
    """The trial's heartbeat record (``trials/<trial>/beat.json``); damaged is as absent."""
    return _optional(records, records.heartbeat_key(trial), RecordKind.TRIAL_HEARTBEAT)


def beat_follows(beat_record: dict[str, Any] | None, started: TrialStarted, ttl: float | None = None) -> bool:
    """:func:`attempt_follows` from a heartbeat already read (:func:`trial_beat`): a caller that
    also asks whether it handed the trial over reads it once."""
    ttl = trial_ttl_from_env() if ttl is None else ttl
    if beat_record is not None and beat_record.get("handedOver"):
        return False  # the last attempt handed the running trial over: re-attach to it now
    now = time.time()  # a time no clock could have written (NaN, far ahead) is no sign of life: the attempt is given up, not waited for ever
    last_seen = max(seen_time(started.at, now) or 0.0, (seen_time(beat_record.get("at"), now) if beat_record else None) or 0.0)
    owner = str(beat_record.get("owner", "")) if beat_record is not None else started.owner  # who follows it now
    return not (now - last_seen >= ttl or (owner and owner_is_gone(owner)))


def hand_over_trial(records: ExperimentRecords, trial: str, attempt: str) -> None:
    """The attempt stops following its trial, which goes on running: the next attempt need not
    wait for this one's beats to lapse before it re-attaches."""
    now = time.time()
    records.write(
        records.heartbeat_key(trial), RecordKind.TRIAL_HEARTBEAT, {"trial": trial, "attempt": attempt, "at": now, "time": utc_text(now), "handedOver": True}
    )


class Heartbeat:
    """Beats in a background thread while a trial runs: for the run's claim, and for the trial
    (so a retried launch-trial knows this attempt is alive and waits for it)."""

    def __init__(self, records: ExperimentRecords, current: Claim | None, trial: str = "", attempt: str = ""):
        self.records, self.current, self.trial, self.attempt = records, current, trial, attempt
        intervals = [trial_ttl_from_env() / 4] if trial else []
        if current is not None:
            intervals.append(current.ttl / 4)
        self.interval = max(0.25, min(intervals)) if intervals else 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="run-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        if self.interval:
            self._beat()
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _beat(self) -> None:
        try:
            if self.trial:
                beat_trial(self.records, self.trial, self.attempt)
            if self.current is not None:
                beat(self.records, self.current)
        except Exception:  # a store blip: the next beat tries again
            pass

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._beat()
