"""What a trial's primary pod says about its container, in words: why it has not started (a pod
Pending on an unschedulable request or an image that cannot be pulled) and why it ended (OOMKilled,
Evicted, an exit code).

Katib's trial controller reports only the job's conditions (trial_controller_util.go,
``UpdateTrialStatusCondition``: ``TrialFailed. Job reason: BackoffLimitExceeded``), so a trial
whose pod cannot start shows Running, and a failed one does not say how its pod died: the
operator has to find the pod with kubectl. The launcher reads the pod it already lists for the
log and says so itself. Only the reasons and messages Kubernetes itself writes are quoted, and an
exit code: never a container's own termination message, which the program writes (it could hold
what it was given in its env)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from kfp_tune.core.errors import clipped

log = logging.getLogger(__name__)

PENDING_NOTE_POLLS = 3
"""How many polls in a row the primary container is seen not started before the launcher logs
why: pulling an image or waiting for a node takes a poll or two on a healthy cluster."""
REASON_LIMIT = 300
"""How much of a message Kubernetes gives (a scheduler's list of nodes can be long) is quoted."""
_NOT_TELLING = ("", "PodInitializing")
"""Waiting reasons of the primary container that say only that something before it is not done."""


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


def why_not_started(pod: Mapping[str, Any], container: str) -> str:
    """Why the pod's ``container`` has not started, as Kubernetes says it: the PodScheduled=False
    condition (``Unschedulable: 0/3 nodes are available: ...``), an init container that waits or
    failed, else the container's own waiting reason (``ImagePullBackOff: Back-off pulling image
    ...``); "" when the pod says nothing yet."""
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return _said(condition.get("reason") or "NotScheduled", condition.get("message"))
    own = ((_container_status(pod, container).get("state") or {}).get("waiting") or {})
    if str(own.get("reason") or "") not in _NOT_TELLING:
        return _said(own.get("reason"), own.get("message"))
    for entry in _statuses(pod, "initContainerStatuses"):
        state = entry.get("state") or {}
        waiting, ended = state.get("waiting") or {}, state.get("terminated") or {}
        if str(waiting.get("reason") or "") not in _NOT_TELLING:
            return f"init container {entry.get('name')}: {_said(waiting.get('reason'), waiting.get('message'))}"
        if ended and int(ended.get("exitCode") or 0):
            return f"init container {entry.get('name')}: {_said(ended.get('reason'), '')} (exit code {ended.get('exitCode')})"
    return _said(own.get("reason"), own.get("message"))


def not_started(pod: Mapping[str, Any], container: str) -> str:
    """``pod NAME Pending (Unschedulable: ...)``: the pod, its phase and why its container has
    not started."""
    phase = str((pod.get("status") or {}).get("phase") or "Pending")
    why = why_not_started(pod, container)
    return f"pod {(pod.get('metadata') or {}).get('name')} {phase}" + (f" ({why})" if why else "")


def termination(pod: Mapping[str, Any], container: str) -> str:
    """How the pod's ``container`` last ended, as Kubernetes says it: ``OOMKilled (exit code
    137)``, ``Error (exit code 1)``, and the pod's own reason when the kubelet gave one
    (``Evicted: The node was low on resource: memory. ...``); "" when nothing is known."""
    status = _container_status(pod, container)
    ended = (status.get("state") or {}).get("terminated") or (status.get("lastState") or {}).get("terminated") or {}
    parts = []
    pod_status = pod.get("status") or {}
    if pod_status.get("reason"):
        parts.append(_said(pod_status.get("reason"), pod_status.get("message")))
    if ended:
        parts.append(f"{ended.get('reason') or 'Terminated'} (exit code {ended.get('exitCode')})")
    return "; ".join(parts)


class StartWatch:
    """Follows whether a trial's primary container has started, a poll at a time, and logs once
    per reason why it has not, after :data:`PENDING_NOTE_POLLS` polls: a pod Pending forever
    (unschedulable, an image that cannot be pulled) otherwise shows only as a trial running."""

    def __init__(self, trial: str) -> None:
        self.trial = trial
        self.started = False
        self.last_pod: Mapping[str, Any] | None = None
        """The primary pod as last seen before its container started (None: no pod yet)."""
        self._container = ""
        self._polls = 0
        self._told: set[tuple[str, str]] = set()

    def look(self, pod: Mapping[str, Any] | None, container: str) -> None:
        """One poll's primary pod (None: none yet)."""
        if self.started:
            return
        if pod is not None and has_started(pod, container):
            self.started = True
            return
        self.last_pod, self._container = pod, container
        self._polls += 1
        if pod is None or self._polls < PENDING_NOTE_POLLS:
            return
        why = why_not_started(pod, container)
        name = str((pod.get("metadata") or {}).get("name") or "")
        reason = why.partition(":")[0]
        if (name, reason) not in self._told:
            self._told.add((name, reason))
            log.warning("trial %s: its primary container %s has not started after %d polls: %s", self.trial, container, self._polls, not_started(pod, container))

    def never_started(self) -> str:
        """What a timeout says of a trial whose primary container never started ("" otherwise)."""
        if self.started:
            return ""
        if self.last_pod is None:
            return "it never started: no primary pod of it was seen"
        return f"it never started: {not_started(self.last_pod, self._container)}"
