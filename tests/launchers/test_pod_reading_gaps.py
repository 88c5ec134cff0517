"""How the Kubernetes launcher reads a trial's pods, where a mutation pass found no test: which
container counts as started, which reason a waiting pod is reported with, which failed pods a
failed trial's message names, how many pod LISTs a trial costs, and what a timeout says. Through
the real ``kubernetes`` client against the fake API server where the launcher's own reading is
the behaviour (as tests/launchers/test_pod_start_and_end_reasons.py), else through pod_status's
public functions on a pod as Kubernetes writes it."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import pytest

from conftest import quadratic_experiment
from fake_kube import FakeKube, Fault, Script
from kfp_tune.core.interfaces import TrialHandedOver
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.launchers.kubernetes.pod_status import PENDING_NOTE_POLLS, StartWatch, failure, has_started, why_not_started
from pod_polls import POLL, TRIAL, Clock, fail_after, oom_killed_worker, pod_lists, polled_launcher

NO_GPU = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."


def _run(collector: str = "StdOut", handover: threading.Event | None = None) -> Any:
    experiment = load_experiment(quadratic_experiment(**{"spec.objective.metricStrategies": [{"name": "loss", "value": "min"}],
                                                         "spec.metricsCollectorSpec": {"collector": {"kind": collector}}}))
    run = trial_run(experiment, TrialState(name=TRIAL, index=0, round="run-1-r000", assignment={"x": "0.1", "y": "0.2"}, created=""))
    return dataclasses.replace(run, handover=handover)


def _failed_workers(kube: FakeKube, count: int) -> None:
    """``count`` older pods of the trial's Job, each OOMKilled: a PyTorchJob's Workers stand-ins."""
    (first,) = kube.pods_of(TRIAL)
    for number in range(count):
        kube.put(oom_killed_worker(first, f"{TRIAL}-worker{number}"), "team-a")


def _failing_trial(kube: FakeKube) -> None:
    kube.script = lambda manifest: Script(outcome="Failed", reason="BackoffLimitExceeded", run_seconds=2 * POLL, log=[(0.0, "loss=0.5")], exit_reason="Error", exit_code=1)


# --- what the launcher reads ------------------------------------------------------------------------


def test_five_failed_workers_are_named_three_and_counted(kube: FakeKube) -> None:
    _failing_trial(kube)
    outcome = polled_launcher(kube, Clock(kube, lambda poll: poll == 1 and _failed_workers(kube, 5))).run(_run())
    assert outcome.message.count("; pod ") == 3 and outcome.message.endswith(": OOMKilled (exit code 137) (and 2 more failed pods)"), outcome.message


def test_other_pods_unreadable_at_the_end_leave_the_primary_pod_s_words(clusters: Callable[..., FakeKube]) -> None:
    """The trial's last pod LIST, of its other pods read for how they ended, is refused: the
    trial still fails, with the Job's words and its primary pod's. A first cluster counts the
    LISTs the same trial makes; on the second the last of them is refused."""
    counted = clusters()
    _failing_trial(counted)
    polled_launcher(counted, Clock(counted)).run(_run())
    last = pod_lists(counted)
    kube = clusters()
    _failing_trial(kube)
    handle = kube.handle

    def refusing_the_last_list(method: str, raw_path: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        if method == "GET" and urlparse(raw_path).path.endswith("/pods") and "watch" not in raw_path and pod_lists(kube) == last - 1:
            kube.faults.append(Fault("GET", r"/pods$", 403, message="pods is forbidden"))
        return handle(method, raw_path, body)

    kube.handle = refusing_the_last_list  # type: ignore[method-assign]
    pods: list[str] = []
    outcome = polled_launcher(kube, Clock(kube, lambda poll: poll == 1 and pods.extend(p["metadata"]["name"] for p in kube.pods_of(TRIAL)))).run(_run())
    assert [c.status for c in kube.calls_to("GET", "pods") if c.verb == "list"][-1] == 403
    assert (outcome.phase, outcome.message) == (LaunchPhase.FAILED, f"simulated failed; primary pod {pods[0]}: Error (exit code 1)")


def test_a_timeout_found_by_a_reattach_reads_the_pod_then_whatever_the_collector(kube: FakeKube) -> None:
    """A Push collector reads no log, so the first poll reads no pod; the timeout found at that
    poll reads it all the same, and says why it never started."""
    kube.script = lambda manifest: Script(run_seconds=1e9, waiting=float("inf"), pending=((0.0, "Unschedulable", NO_GPU),))
    handover = threading.Event()
    clock = Clock(kube, lambda poll: poll == 2 and handover.set())
    with pytest.raises(TrialHandedOver):
        polled_launcher(kube, clock).run(_run("Push", handover))
    (pod,) = [p["metadata"]["name"] for p in kube.pods_of(TRIAL)]
    clock.now += 120
    outcome = polled_launcher(kube, clock, timeout=60).reattach(_run("Push"))
    assert outcome is not None and outcome.message.endswith(f"; it never started: pod {pod} Pending (Unschedulable: {NO_GPU})"), outcome


def test_a_waiting_trial_whose_log_is_read_lists_its_pods_once_a_poll(kube: FakeKube) -> None:
    """StdOut: the pods listed for the log are the ones the start watch looks at, one LIST a poll."""
    kube.script = lambda manifest: Script(run_seconds=1e9, waiting=float("inf"), pending=((0.0, "Unschedulable", NO_GPU),))
    lists: dict[int, int] = {}
    polled_launcher(kube, Clock(kube, lambda poll: (lists.__setitem__(poll, pod_lists(kube)), fail_after(kube, 10)(poll)))).run(_run())
    assert [lists[poll] - lists[poll - 1] for poll in range(2, 10)] == [1] * 8, lists


def test_a_trial_whose_log_is_not_read_is_listed_once_when_it_starts_at_its_first_look(kube: FakeKube) -> None:
    """Push: the start watch's first LIST (poll 3) finds the container running; 30 polls make no other."""
    kube.script = lambda manifest: Script(run_seconds=40 * POLL, waiting=1.5 * POLL)
    lists: dict[int, int] = {}
    polled_launcher(kube, Clock(kube, lambda poll: (lists.__setitem__(poll, pod_lists(kube)), fail_after(kube, 31)(poll)))).run(_run("Push"))
    assert lists[30] == 1, lists


# --- what a pod says ----------------------------------------------------------------------------------


def _pod(**status: Any) -> dict[str, Any]:
    return {"metadata": {"name": "p"}, "status": {"phase": "Pending", **status}}


def test_a_container_that_ended_without_a_restart_has_started() -> None:
    pod = _pod(phase="Failed", containerStatuses=[{"name": "main", "restartCount": 0, "state": {"terminated": {"reason": "Error", "exitCode": 1}}}])
    assert has_started(pod, "main")


def test_a_scheduled_pod_whose_image_cannot_be_pulled_says_so() -> None:
    pod = _pod(conditions=[{"type": "PodScheduled", "status": "True"}],
               containerStatuses=[{"name": "main", "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}}])
    assert why_not_started(pod, "main") == "ImagePullBackOff: Back-off pulling image"


def test_an_init_container_that_completed_is_passed_over_for_the_one_that_waits() -> None:
    pod = _pod(initContainerStatuses=[{"name": "a", "state": {"terminated": {"reason": "Completed", "exitCode": 0}}},
                                      {"name": "b", "state": {"waiting": {"reason": "ImagePullBackOff"}}}],
               containerStatuses=[{"name": "main", "state": {"waiting": {"reason": "PodInitializing"}}}])
    assert why_not_started(pod, "main") == "init container b: ImagePullBackOff"


def test_a_pod_with_two_failed_containers_names_the_first() -> None:
    pod = _pod(phase="Failed", containerStatuses=[{"name": "main", "state": {"terminated": {"reason": "Error", "exitCode": 1}}},
                                                  {"name": "sidecar", "state": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}])
    assert failure(pod) == "container main Error (exit code 1)"


def test_a_trial_whose_other_pod_ran_and_is_gone_by_the_timeout_is_not_said_never_to_have_started() -> None:
    watch = StartWatch(TRIAL)
    waiting = _pod(conditions=[{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}])
    running = {"metadata": {"name": "q"}, "status": {"phase": "Running", "containerStatuses": [{"name": "main", "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}]}}
    watch.poll(read_anyway=True)
    watch.look([waiting, running], "main", lambda: [waiting, running])
    watch.poll(read_anyway=True)
    watch.look([], "main", lambda: [])
    assert watch.never_started() == ""


def test_no_primary_pod_among_some_says_how_many_there_are(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    pending = [{"metadata": {"name": name}, "status": {"phase": "Pending"}} for name in ("a", "b")]  # of another template, still starting
    watch = StartWatch(TRIAL)
    for _ in range(PENDING_NOTE_POLLS):
        watch.poll(read_anyway=True)
        watch.look([], "main", lambda: pending, selects_none=True)  # primaryPodLabels select no template
    (line,) = [r.getMessage() for r in caplog.records if "no primary pod" in r.getMessage()]
    assert "none of its 2 pod(s) is of a template primaryPodLabels selects" in line
