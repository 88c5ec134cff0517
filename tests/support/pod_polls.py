"""A cluster trial polled on a clock the Kubernetes launcher's sleep moves on, against the fake
API server (fake_kube): a poll is POLL seconds of the trial, and a test acts at a chosen poll
(``Clock``) or at a chosen second (``EventClock``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fake_kube import FakeKube
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher

POLL = 5.0
TRIAL = "quad-pod12345"


class Clock:
    """The cluster's seconds, moved on by the launcher's sleep; ``then`` is called at each poll."""

    def __init__(self, kube: FakeKube, then: Any = None) -> None:
        self.now = 1000.0
        self.polls = 0
        self.then = then
        self.kube = kube
        self.pods: list[str] = []
        """The trial's pods as the first poll saw them (they go with the trial)."""

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.polls += 1
        if self.polls == 1:
            self.pods = [p["metadata"]["name"] for p in self.kube.pods_of(TRIAL)]
        if self.then is not None:
            self.then(self.polls)


class EventClock:
    """The cluster's seconds, moved on by the launcher's sleep; ``at`` runs a callback once the
    clock has reached a time (what happens in the cluster or the store meanwhile: Kueue admits
    the trial, a report is stored)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.events: list[tuple[float, Any]] = []

    def __call__(self) -> float:
        return self.now

    def at(self, seconds: float, event: Any) -> None:
        """``event()`` once ``seconds`` from now have passed."""
        self.events.append((self.now + seconds, event))

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        for due, event in [e for e in self.events if e[0] <= self.now]:
            self.events.remove((due, event))
            event()


class RecordingRule:
    """An early stopping rule that never stops, keeping the values it was shown each time."""

    def __init__(self) -> None:
        self.shown: list[list[float]] = []

    def should_stop(self, objective_type: str, completed: Any, current: Any) -> bool:
        self.shown.append(list(current))
        return False


def after_polls(*steps: Callable[[], None]) -> Callable[[float], None]:
    """A launcher ``sleep`` that plays the next controller step at each wait between polls (no
    clock: for a test that only needs the trial to end)."""
    remaining = list(steps)

    def sleep(seconds: float) -> None:
        if remaining:
            remaining.pop(0)()

    return sleep


def polled_launcher(kube: FakeKube, clock: Clock | EventClock, timeout: float | None = None) -> KubernetesLauncher:
    """A launcher in namespace team-a that polls every POLL seconds of ``clock``. Its trials get
    ``KFP_TUNE_STORE`` in their env, as every run's launcher gives them: only the fake cluster's
    pods see it (its scripts do not read it), so a test that made its launcher without it checks
    the same with this one."""
    kube.clock = clock
    config = KubernetesConfig(namespace="team-a", poll_seconds=POLL, api_retry_seconds=5.0, timeout_seconds=timeout)
    return KubernetesLauncher(config, api_client=kube.api_client(), env={"KFP_TUNE_STORE": "s3://bucket/tuning"}, sleep=clock.sleep, clock=kube.wall)


def fail_after(kube: FakeKube, polls: int) -> Callable[[int], Any]:
    """At that poll, the Job's controller gives up (its backoff or deadline), as a test's end."""
    failed = {"conditions": [{"type": "Failed", "status": "True", "reason": "DeadlineExceeded", "message": "Job was active longer than specified deadline"}]}
    return lambda poll: poll == polls and kube.set_status("jobs", "team-a", TRIAL, failed)


def pod_lists(kube: FakeKube) -> int:
    """How many pod LISTs the cluster has answered."""
    return sum(1 for c in kube.calls_to("GET", "pods") if c.verb == "list")


def oom_killed_worker(primary: dict[str, Any], name: str) -> dict[str, Any]:
    """A pod ``name`` of the trial's Job, older than its ``primary`` pod, OOMKilled: a PyTorchJob
    Worker's stand-in, to put on the cluster."""
    worker = {"apiVersion": "v1", "kind": "Pod", "metadata": {**primary["metadata"], "name": name, "creationTimestamp": "2000-01-01T00:00:00Z"},
              "spec": primary["spec"], "status": {"phase": "Failed", "containerStatuses": [
                  {"name": "main", "image": "trainer", "imageID": "", "ready": False, "restartCount": 0, "state": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]}}
    for key in ("uid", "resourceVersion"):
        worker["metadata"].pop(key, None)
    return worker
