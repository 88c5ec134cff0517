"""What a trial's primary pod says about its container, in words: why it has not started (a pod
Pending on an unschedulable request or an image that cannot be pulled; no pod at all while its
resource is suspended, as Kueue queues it, or while its Argo Workflow is paused) and why it ended
(OOMKilled, Evicted, an exit code); and which of a distributed trial's other pods have not started
and why (a PyTorchJob's GPU Workers Unschedulable beside a running Master, which waits for them).

Katib's trial controller reports only the job's conditions (trial_controller_util.go,
``UpdateTrialStatusCondition``: ``TrialFailed. Job reason: BackoffLimitExceeded``), so a trial
whose pod cannot start shows Running, and a failed one does not say how its pod died: the
operator has to find the pod with kubectl. The launcher reads the pod it already lists for the
log and says so itself. Only the reasons and messages Kubernetes itself writes are quoted, and an
exit code: never a container's own termination message, which the program writes (it could hold
what it was given in its env)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kfp_tune.core.errors import clipped

log = logging.getLogger(__name__)

PENDING_NOTE_POLLS = 3
"""How many polls in a row the primary container is seen not started before the launcher logs
why: pulling an image or waiting for a node takes a poll or two on a healthy cluster."""
REASON_LIMIT = 300
"""How much of a message Kubernetes gives (a scheduler's list of nodes can be long) is quoted."""
OTHERS_SHOWN = 3
"""How many of a trial's other pods that have not started are named for one reason (the rest
counted), and how many reasons: a gang of 64 GPU Workers is one line, not 64."""
_NOT_TELLING = ("", "PodInitializing")
"""Waiting reasons of the primary container that say only that something before it is not done."""
QUEUE_NAME = "kueue.x-k8s.io/queue-name"
"""The label (earlier, the annotation) that names the Kueue LocalQueue a resource waits in."""
SUSPENDED = "Suspended"
"""The condition type the Job controller, the Training Operator, mpi-operator, JobSet and
Trainer give a suspended resource (True while it is, False once it resumed)."""
ARGO_WORKFLOW = ("argoproj.io", "Workflow")
"""(group, kind) of an Argo Workflow, whose ``spec.suspend`` is a pause (:func:`paused`), not a hold."""


def _statuses(pod: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    return [s for s in (pod.get("status") or {}).get(key) or [] if isinstance(s, Mapping)]


def _container_status(pod: Mapping[str, Any], container: str) -> Mapping[str, Any]:
    for entry in [*_statuses(pod, "containerStatuses"), *_statuses(pod, "initContainerStatuses")]:
        if entry.get("name") == container:
            return entry
    return {}


def _said(reason: Any, message: Any) -> str:
    """``reason: message`` (either alone when the other is empty), the message clipped."""
    reason, message = str(reason or ""), " ".join(str(message or "").split())
    return ": ".join(part for part in (reason, clipped(message, REASON_LIMIT) if message else "") if part)


def has_started(pod: Mapping[str, Any], container: str) -> bool:
    """Whether the pod's ``container`` has run (runs, ended, or restarted), whatever the pod's
    phase: a pod is Running once any container (an Istio sidecar) runs. A pod that gives no
    status of the container, by its phase."""
    status = _container_status(pod, container)
    if not status:
        return str((pod.get("status") or {}).get("phase") or "Pending") != "Pending"
    state, last = status.get("state") or {}, status.get("lastState") or {}
    return bool(state.get("running") or state.get("terminated") or last.get("terminated") or int(status.get("restartCount") or 0))


def _is_argo_workflow(resource: Mapping[str, Any]) -> bool:
    group = str(resource.get("apiVersion") or "").rpartition("/")[0]
    return (group, resource.get("kind")) == ARGO_WORKFLOW


def suspension(resource: Mapping[str, Any]) -> str:
    """What holds the trial's resource suspended, in words ("" when nothing does): its
    ``spec.suspend`` (Job, JobSet, TrainJob) or ``spec.runPolicy.suspend`` (the Training
    Operator's kinds, mpi-operator's), or its ``Suspended`` condition True, and the Kueue queue
    whose admission resumes it (its ``kueue.x-k8s.io/queue-name``). Its controller makes no pod
    while it is (and deletes those it had), so the usual "no pod" words (a ResourceQuota, a
    webhook) would mislead. Not an Argo Workflow's ``spec.suspend``: a pause, whose running pods
    go on (:func:`paused`)."""
    spec = resource.get("spec") or {}
    run_policy = spec.get("runPolicy")
    run_policy = run_policy if isinstance(run_policy, Mapping) else {}
    suspend = None if _is_argo_workflow(resource) else spec.get("suspend")
    held = [f"{path}: true" for path, value in (("spec.suspend", suspend), ("spec.runPolicy.suspend", run_policy.get("suspend"))) if value is True]
    status = resource.get("status") or {}
    condition = next((c for c in status.get("conditions") or [] if isinstance(c, Mapping) and c.get("type") == SUSPENDED), None)
    if condition is not None and condition.get("status") == "True":
        held.append(f"condition {SUSPENDED}: {_said(condition.get('reason'), condition.get('message'))}")
    if not held:
        return ""
    meta = resource.get("metadata") or {}
    queue = (meta.get("labels") or {}).get(QUEUE_NAME) or (meta.get("annotations") or {}).get(QUEUE_NAME)
    where = f" -n {meta['namespace']}" if meta.get("namespace") else ""
    waits = (f"waiting for Kueue's queue {queue!r} to admit it (kubectl get workloads{where} says why it waits)" if queue
             else f"it has no {QUEUE_NAME} label, so no Kueue queue admits it: it waits until something sets its suspend to false")
    return f"its {resource.get('kind') or 'resource'} is suspended ({'; '.join(held)}): {waits}"


def paused(resource: Mapping[str, Any]) -> str:
    """What pauses the trial's Argo Workflow, in words ("" when it is not paused, or is no Argo
    Workflow): its ``spec.suspend``, which ``argo suspend`` sets. Argo then starts no new step of
    it until ``argo resume``, while the pods already running go on (argoproj/argo-workflows#4876);
    Kueue holds no Workflow by it. So it is no queue: its time counts, and its pods are not
    deleted, as they are when Kueue suspends a Job."""
    if not _is_argo_workflow(resource) or (resource.get("spec") or {}).get("suspend") is not True:
        return ""
    name = (resource.get("metadata") or {}).get("name") or "NAME"
    return (f"its Workflow is paused (spec.suspend: true, as argo suspend sets it): Argo starts no new step of it until it is resumed "
            f"(argo resume {name}), while its pods already running go on")


def _why_not_started(pod: Mapping[str, Any], container: str) -> tuple[str, str]:
    """(what a warning is told apart by, the words): the reason without its message, which may
    change from poll to poll (a back-off's seconds); an init container's, with its name."""
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            reason = str(condition.get("reason") or "NotScheduled")
            return reason, _said(reason, condition.get("message"))
    own = ((_container_status(pod, container).get("state") or {}).get("waiting") or {})
    if str(own.get("reason") or "") not in _NOT_TELLING:
        return str(own.get("reason")), _said(own.get("reason"), own.get("message"))
    for entry in _statuses(pod, "initContainerStatuses"):
        state = entry.get("state") or {}
        waiting, ended = state.get("waiting") or {}, state.get("terminated") or {}
        which = f"init container {entry.get('name')}"
        if str(waiting.get("reason") or "") not in _NOT_TELLING:
            return f"{which}: {waiting.get('reason')}", f"{which}: {_said(waiting.get('reason'), waiting.get('message'))}"
        if ended and int(ended.get("exitCode") or 0):
            return f"{which}: {ended.get('reason')}", f"{which}: {_said(ended.get('reason'), '')} (exit code {ended.get('exitCode')})"
    return str(own.get("reason") or ""), _said(own.get("reason"), own.get("message"))


def why_not_started(pod: Mapping[str, Any], container: str) -> str:
    """Why the pod's ``container`` has not started, as Kubernetes says it: the PodScheduled=False
    condition (``Unschedulable: 0/3 nodes are available: ...``), an init container that waits or
    failed, else the container's own waiting reason (``ImagePullBackOff: Back-off pulling image
    ...``); "" when the pod says nothing yet."""
    return _why_not_started(pod, container)[1]


def _name(pod: Mapping[str, Any]) -> str:
    return str((pod.get("metadata") or {}).get("name") or "")


def _waiting_container(pod: Mapping[str, Any]) -> str:
    """The first of the pod's containers that waits for a reason that tells something
    (``ImagePullBackOff``), "" when none does: a pod that is not the primary one has no container
    of interest of its own."""
    for entry in _statuses(pod, "containerStatuses"):
        if str(((entry.get("state") or {}).get("waiting") or {}).get("reason") or "") not in _NOT_TELLING:
            return str(entry.get("name") or "")
    return ""


def pod_has_started(pod: Mapping[str, Any]) -> bool:
    """Whether a pod that is not the primary one has started: it is past ``Pending`` (its
    containers created, one running or ended)."""
    return str((pod.get("status") or {}).get("phase") or "Pending") != "Pending"


def not_started(pod: Mapping[str, Any], container: str) -> str:
    """``pod NAME Pending (Unschedulable: ...)``: the pod, its phase and why its container has
    not started."""
    return f"pod {_name(pod)} {_state(pod, container)}"


def _state(pod: Mapping[str, Any], container: str) -> str:
    """``Pending (Unschedulable: ...)``: the pod's phase and why its ``container`` has not started."""
    why = why_not_started(pod, container)
    return str((pod.get("status") or {}).get("phase") or "Pending") + (f" ({why})" if why else "")


def _last_terminated(status: Mapping[str, Any]) -> Mapping[str, Any]:
    """How a container status says its container last ended: now, else before its restart ({}: never)."""
    return (status.get("state") or {}).get("terminated") or (status.get("lastState") or {}).get("terminated") or {}


def _ended_words(ended: Mapping[str, Any]) -> str:
    """``OOMKilled (exit code 137)``: a terminated state in Kubernetes' words."""
    return f"{ended.get('reason') or 'Terminated'} (exit code {ended.get('exitCode')})"


def _pod_reason(pod: Mapping[str, Any]) -> str:
    """The pod's own reason when the kubelet gave one (``Evicted: The node was low on ...``), else ""."""
    pod_status = pod.get("status") or {}
    return _said(pod_status.get("reason"), pod_status.get("message")) if pod_status.get("reason") else ""


def termination(pod: Mapping[str, Any], container: str) -> str:
    """How the pod's ``container`` last ended, as Kubernetes says it: ``OOMKilled (exit code
    137)``, ``Error (exit code 1)``, and the pod's own reason when the kubelet gave one
    (``Evicted: The node was low on resource: memory. ...``); "" when nothing is known."""
    ended = _last_terminated(_container_status(pod, container))
    return "; ".join(part for part in (_pod_reason(pod), _ended_words(ended) if ended else "") if part)


def failure(pod: Mapping[str, Any]) -> str:
    """How a pod that is not the primary one failed (a PyTorchJob's Worker OOMKilled while its
    Master only exits 1), in :func:`termination`'s words: the pod's own reason, then the first
    container that ended with a non-zero exit code, named when the pod has several; "" when
    none did."""
    parts = [_pod_reason(pod)]
    several = len(_statuses(pod, "containerStatuses")) > 1
    for status in _statuses(pod, "containerStatuses"):
        ended = _last_terminated(status)
        if ended and (int(ended.get("exitCode") or 0) or ended.get("reason") == "OOMKilled"):
            which = f"container {status.get('name')} " if several else ""
            parts.append(f"{which}{_ended_words(ended)}")
            break
    return "; ".join(part for part in parts if part)


def due(poll: int) -> bool:
    """Whether a trial whose pod is not read for its log anyway (a File, TensorFlowEvent, Push or
    None collector) has its pods listed at this poll: polls 3, 6, 12, 24, ..., so a trial that
    never starts costs a LIST per doubling of its life (12 in 10 hours at 5 s a poll), not one a
    poll, and one that starts at once a single LIST."""
    if poll < PENDING_NOTE_POLLS or poll % PENDING_NOTE_POLLS:
        return False
    times = poll // PENDING_NOTE_POLLS
    return times & (times - 1) == 0


class StartWatch:
    """Follows whether a trial's primary container has started, a poll at a time, and logs once
    per pod and reason why it has not, after :data:`PENDING_NOTE_POLLS` polls: a pod Pending
    forever (unschedulable, an image that cannot be pulled) otherwise shows only as a trial
    running. The trial has started once any pod of its primary template has (a Job of
    parallelism 2 with one pod running and the other unschedulable has), though the pod its log
    is read from may still wait.

    A trial's other pods (a PyTorchJob's Workers, an MPIJob's workers) are looked at too, on the
    polls :func:`due` picks until every pod has started, and at its timeout: the primary one may
    run and wait for them (a rendezvous, ``mpirun``), or not be made until they run (mpi-operator's
    ``WaitForWorkersReady``), so those that have not started are named, with why, once per pod and
    reason (:attr:`reads_all`)."""

    def __init__(self, trial: str, others: bool = True) -> None:
        """``others``: whether the trial's other pods can be listed in one LIST (its kind's pods
        carry its name in a label); else they are not looked at."""
        self.trial = trial
        self.started = False
        """The primary pod's container has started: nothing more to look at."""
        self.ran = False
        """Some pod of the trial's primary template has started its container."""
        self.last_pod: Mapping[str, Any] | None = None
        """The primary pod as last seen before its container started (None: no pod yet)."""
        self.polls = 0
        self.held = ""
        """What holds the trial's resource suspended at the last poll (:func:`suspension`; "": nothing)."""
        self.paused = ""
        """What pauses the trial's Argo Workflow at the last poll (:func:`paused`; "": nothing)."""
        self.held_at: float | None = None
        """The launcher's monotonic time of the last poll that found the resource suspended
        (None: none did): its timeout counts from after it, as a Job's activeDeadlineSeconds
        counts from its ``startTime``, which a resume resets."""
        self.reads_all = False
        """This poll lists every pod of the trial, not only those of its primary template."""
        self.others = others
        """The trial's other pods are listed (its kind's pods carry its name in a label)."""
        self.settled = not others
        """Every pod of the trial has started (or they are not looked at): no more LIST of them
        but the one at its timeout."""
        self.others_waiting: list[tuple[str, str, str]] = []
        """(pod, what its warning is told apart by, its phase and why) of each of the trial's
        other pods that had not started at the last poll that listed them."""
        self._container = ""
        self._told: set[tuple[str, str]] = set()

    def resource(self, held: str, now: float, paused: str = "") -> None:
        """This poll's word on the trial's resource: what holds it suspended ("": nothing), at
        the launcher's monotonic ``now``, and what pauses its Argo Workflow (``paused``; "":
        nothing). A resource suspended after its primary container started (Kueue preempted it:
        its pods are deleted, and it starts over once resumed) is followed from its start again,
        and said so once per suspension. A paused Workflow is said so once per pause, its running
        pods and its time going on."""
        if paused and not self.paused:
            log.warning("trial %s: %s; timeoutSeconds goes on counting while it is paused", self.trial, paused)
        self.paused = paused
        if held:
            if not self.held and (self.started or self.ran):
                log.warning("trial %s: %s; it had started: as when Kueue preempts a trial, its pods are deleted and it starts over "
                            "once resumed, timeoutSeconds counted from then", self.trial, held)
                self.started = self.ran = False
                self.last_pod = None
                self.settled, self.others_waiting = False, []
                self._told.add(("", SUSPENDED))
            self.held_at = now
        self.held = held

    def poll(self, read_anyway: bool, timed_out: bool = False) -> bool:
        """Count a poll; whether the trial's pods are to be read and :meth:`look`-ed at in it:
        every poll while they are read for the log anyway (``read_anyway``), else on the polls
        :func:`due` picks, until the primary container has started; and, until every pod of the
        trial has, on those polls, and at its timeout (``timed_out``) even after, every pod of it
        (:attr:`reads_all`: one LIST of them all, the primary template's picked from it): a Worker
        evicted once all had started may be back Unschedulable, its Master waiting for it."""
        self.polls += 1
        self.reads_all = self.others and (timed_out or (not self.settled and due(self.polls)))
        return self.reads_all or (not self.started and (read_anyway or due(self.polls)))

    def look(self, pods: Sequence[Mapping[str, Any]], container: str, every_pod: Callable[[], Sequence[Mapping[str, Any]]],
             selects_none: bool = False) -> None:
        """This poll's pods of the trial's primary template, the primary one first ([]: none
        yet). ``every_pod``: the trial's pods of every template (a LIST, the same one within a
        poll), asked when :attr:`reads_all`, or to say, once, why none is primary.
        ``selects_none``: primaryPodLabels select no template of the trial, so no pod of it will
        ever be primary, however long its other pods take to start: that is what is said."""
        if self.reads_all:
            primary = {_name(pod) for pod in pods}
            self._others([pod for pod in every_pod() if _name(pod) not in primary])
        if not self.started:
            self._look_primary(pods, container, every_pod, selects_none)
        if self.reads_all:
            self.settled = self.started and not self.others_waiting
            if self.polls >= PENDING_NOTE_POLLS:
                self._tell_others(container)

    def _others(self, pods: Sequence[Mapping[str, Any]]) -> None:
        """Keep which of these pods, none of the primary template, have not started, and why."""
        waiting = [(pod, _waiting_container(pod)) for pod in pods if not pod_has_started(pod)]
        self.others_waiting = [(_name(pod), _why_not_started(pod, container)[0], _state(pod, container)) for pod, container in waiting]

    def _tell_others(self, container: str) -> None:
        """Warn of the other pods that have not started, once per pod and reason."""
        new = [entry for entry in self.others_waiting if entry[:2] not in self._told]
        if not new:
            return
        self._told.update(entry[:2] for entry in new)
        if self.started or self.ran:
            log.warning("trial %s: its primary container %s has started, but %s not after %d polls: %s; a distributed trial's processes "
                        "may wait for them", self.trial, container, _how_many(new, have=True), self.polls, _pods_said(new))
        else:
            log.warning("trial %s: %s not started either after %d polls: %s", self.trial, _how_many(new, have=True), self.polls, _pods_said(new))

    def _look_primary(self, pods: Sequence[Mapping[str, Any]], container: str, every_pod: Callable[[], Sequence[Mapping[str, Any]]],
                      selects_none: bool = False) -> None:
        """:meth:`look` at the primary template's pods, until its container has started."""
        self.ran = self.ran or any(has_started(pod, container) for pod in pods)
        pod = pods[0] if pods else None
        if pod is not None and has_started(pod, container):
            self.started = True
            return
        self.last_pod, self._container = pod, container
        if self.polls < PENDING_NOTE_POLLS:
            return
        if pod is None and self.paused:  # said when the pause was first seen: no step starts while it lasts
            return
        if pod is None and self.held:
            if ("", SUSPENDED) not in self._told:
                self._told.add(("", SUSPENDED))
                log.warning("trial %s: no pod of it after %d polls: %s; timeoutSeconds does not count while it is suspended",
                            self.trial, self.polls, self.held)
            return
        if pod is None:
            if ("", "") not in self._told:
                self._told.add(("", ""))
                listed = every_pod()
                if not self.reads_all:  # pods is []: every pod listed is another one
                    self._others(listed)
                self._told.update(entry[:2] for entry in self.others_waiting)  # one line: the primaryPodLabels hint, or them
                log.warning("trial %s: %s", self.trial, _no_pod(len(listed), self.polls, () if selects_none else self.others_waiting))
            return
        key, _ = _why_not_started(pod, container)
        name = str((pod.get("metadata") or {}).get("name") or "")
        if (name, key) in self._told:
            return
        self._told.add((name, key))
        if self.ran:  # another pod of it runs: this one waits, the trial does not
            log.warning("trial %s: one of its pods has not started its container %s after %d polls, while another of its pods has: %s",
                        self.trial, container, self.polls, not_started(pod, container))
        else:
            log.warning("trial %s: its primary container %s has not started after %d polls: %s", self.trial, container, self.polls, not_started(pod, container))

    def never_started(self) -> str:
        """What a timeout says of a trial no pod of whose primary template ever started ("" otherwise)."""
        if self.started or self.ran:
            return ""
        if self.last_pod is None:
            return "it never started: no primary pod of it was seen"
        return f"it never started: {not_started(self.last_pod, self._container)}"

    def others_never_started(self) -> str:
        """What a timeout says of the trial's other pods that had not started at its last look
        ("" when none)."""
        if not self.others_waiting:
            return ""
        either = "" if self.started or self.ran else " either"
        return f"{_how_many(self.others_waiting)} never started{either}: {_pods_said(self.others_waiting)}"

    def at_timeout(self) -> str:
        """What a timeout's message adds: that the trial never started (:meth:`never_started`),
        which of its other pods never did, and what pauses its Argo Workflow ("" for none)."""
        return "; ".join(part for part in (self.never_started(), self.others_never_started(), self.paused) if part)


def _how_many(waiting: Sequence[tuple[str, str, str]], have: bool = False) -> str:
    """``2 of its other pods`` (``have``: and ``have``, or ``has`` for one, after it)."""
    verb = (" have" if len(waiting) > 1 else " has") if have else ""
    return f"{len(waiting)} of its other pods{verb}"


def _pods_said(waiting: Sequence[tuple[str, str, str]]) -> str:
    """``pods A, B, C and 61 more Pending (Unschedulable: ...)``: the pods that have not started,
    those in the same state together, :data:`OTHERS_SHOWN` named of each and of the states."""
    by_state: dict[str, list[str]] = {}
    for pod, _, state in waiting:
        by_state.setdefault(state, []).append(pod)
    said = []
    for state, pods in list(by_state.items())[:OTHERS_SHOWN]:
        more = f" and {len(pods) - OTHERS_SHOWN} more" if len(pods) > OTHERS_SHOWN else ""
        said.append(f"{'pods' if len(pods) > 1 else 'pod'} {', '.join(pods[:OTHERS_SHOWN])}{more} {state}")
    rest = sum(len(pods) for pods in list(by_state.values())[OTHERS_SHOWN:])
    return "; ".join(said) + (f" (and {rest} more pods that have not started)" if rest else "")


def _no_pod(pods: int, polls: int, waiting: Sequence[tuple[str, str, str]] = ()) -> str:
    """Why no pod is primary after ``polls`` polls: there is none (a ResourceQuota or an admission
    webhook refuses them: the resource's events say which); other pods of it have not started
    (``waiting``, given only where primaryPodLabels select a template), for which its operator
    may wait before it makes the primary one; or none matches."""
    if waiting:
        return (f"no primary pod of it after {polls} polls, and {_how_many(waiting, have=True)} not started: {_pods_said(waiting)}; "
                "its operator may make the primary pod only once they run (as mpi-operator's launcherCreationPolicy WaitForWorkersReady does)")
    if pods == 0:
        return (f"no pod of it exists after {polls} polls: Kubernetes made none for its resource; check the resource's events "
                "(kubectl describe), where a ResourceQuota or an admission webhook that refused its pods is named")
    some = f"its {pods} pod(s)" if pods > 0 else "its pods"
    return f"no primary pod of it after {polls} polls: none of {some} is of a template primaryPodLabels selects"
