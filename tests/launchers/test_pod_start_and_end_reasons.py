"""What an operator sees of a cluster trial whose pod cannot start or is killed: the launcher
says once, per reason, why its primary pod waits (Unschedulable, ImagePullBackOff), a timeout of
a trial that never started says so, and a failed trial's message names how its primary pod
ended (OOMKilled, Evicted, an exit code). Through the real ``kubernetes`` client against the fake
API server, on a clock the launcher's sleep moves on: a poll is a poll's seconds of the trial."""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Any

import pytest

from conftest import quadratic_experiment
from fake_kube import FakeKube, Script
from kfp_tune.core.interfaces import TrialHandedOver
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.launchers.kubernetes.pod_status import PENDING_NOTE_POLLS, termination
from pod_polls import POLL, TRIAL, Clock, fail_after, oom_killed_worker, pod_lists, polled_launcher

NO_GPU = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found."


def _run(handover: threading.Event | None = None) -> Any:
    experiment = load_experiment(quadratic_experiment(**{"spec.objective.metricStrategies": [{"name": "loss", "value": "min"}]}))
    trial = TrialState(name=TRIAL, index=0, round="run-1-r000", assignment={"x": "0.1", "y": "0.2"}, created="")
    return dataclasses.replace(trial_run(experiment, trial), handover=handover)


def _waits(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "has not started" in r.getMessage()]


# --- a pod that waits ---------------------------------------------------------------------------


def test_an_unschedulable_pod_is_logged_once_with_the_schedulers_reason_after_a_few_polls(kube: FakeKube, caplog: pytest.LogCaptureFixture) -> None:
    """The scheduler finds no node with a free GPU: the pod is Pending, its PodScheduled
    condition False. After PENDING_NOTE_POLLS polls one warning names the pod, its phase and the
    scheduler's reason and message; the 12 polls after it add none. Fails with the old launcher
    (it logged nothing while the trial waited)."""
    caplog.set_level(logging.WARNING)
    kube.script = lambda manifest: Script(run_seconds=1e9, waiting=float("inf"), pending=((0.0, "Unschedulable", NO_GPU),))
    clock = Clock(kube)
    seen_at: list[int] = []
    clock.then = lambda poll: (seen_at.append(poll) if _waits(caplog) and not seen_at else None, fail_after(kube, 15)(poll))
    outcome = polled_launcher(kube, clock).run(_run())
    (pod,) = clock.pods
    assert outcome.reason == "DeadlineExceeded"
    (line,) = _waits(caplog)
    assert f"pod {pod} Pending (Unschedulable: {NO_GPU})" in line and TRIAL in line
    assert seen_at == [PENDING_NOTE_POLLS]  # logged at the poll that made it PENDING_NOTE_POLLS, not before


def test_an_image_that_cannot_be_pulled_is_logged_once_per_reason_not_per_poll(kube: FakeKube, caplog: pytest.LogCaptureFixture) -> None:
    """The kubelet's reasons go ContainerCreating, ErrImagePull, ImagePullBackOff, and back and
    forth between the last two as it retries: one warning for each of the two, with the kubelet's
    message, none for each poll after."""
    caplog.set_level(logging.WARNING)
    back_off = 'Back-off pulling image "registry.example.com/trainer:nope"'
    pull = 'failed to pull and unpack image "registry.example.com/trainer:nope": not found'
    flips = tuple((at * POLL, "ErrImagePull" if at % 2 else "ImagePullBackOff", pull if at % 2 else back_off) for at in range(1, 14))
    kube.script = lambda manifest: Script(run_seconds=1e9, waiting=float("inf"), pending=((0.0, "ContainerCreating", ""), *flips))
    clock = Clock(kube, fail_after(kube, 14))
    polled_launcher(kube, clock).run(_run())
    lines = _waits(caplog)
    assert len(lines) == 2, lines
    assert any(f"Pending (ImagePullBackOff: {back_off})" in line for line in lines)
    assert any(f"Pending (ErrImagePull: {pull})" in line for line in lines)


def test_a_container_that_starts_within_a_few_polls_is_not_logged(kube: FakeKube, caplog: pytest.LogCaptureFixture) -> None:
    """Pulling an image for a poll is no news: the trial starts, prints and succeeds, no warning."""
    caplog.set_level(logging.WARNING)
    kube.script = lambda manifest: Script(run_seconds=6 * POLL, waiting=POLL * (PENDING_NOTE_POLLS - 2), log=[(POLL * PENDING_NOTE_POLLS, "loss=0.5")])
    outcome = polled_launcher(kube, Clock(kube)).run(_run())
    assert (outcome.phase, outcome.logs) == (LaunchPhase.SUCCEEDED, {"main": "loss=0.5\n"})
    assert _waits(caplog) == []


def test_a_timeout_of_a_trial_that_never_started_says_so_with_the_reason(kube: FakeKube) -> None:
    """A run's step hands the pending trial over; the next step's reattach finds it past the
    launcher's timeout (timed from its creationTimestamp): DeadlineExceeded, deleted, and the
    message says it never started, naming the pod, its phase and the scheduler's reason.
    Fails with the old launcher (it said only that the trial ran past its timeout)."""
    kube.script = lambda manifest: Script(run_seconds=1e9, waiting=float("inf"), pending=((0.0, "Unschedulable", NO_GPU),))
    handover = threading.Event()
    clock = Clock(kube, lambda poll: poll == 2 and handover.set())
    with pytest.raises(TrialHandedOver):
        polled_launcher(kube, clock).run(_run(handover))
    (pod,) = [p["metadata"]["name"] for p in kube.pods_of(TRIAL)]
    clock.now += 120
    outcome = polled_launcher(kube, clock, timeout=60).reattach(_run())
    assert outcome is not None and (outcome.phase, outcome.reason) == (LaunchPhase.FAILED, "DeadlineExceeded")
    assert outcome.message == (f"the trial ran past the launcher's timeout of 60 s and was deleted; it never started: pod {pod} Pending (Unschedulable: {NO_GPU})")
    assert kube.stored("jobs", "batch") == []


def test_a_timeout_of_a_trial_that_ran_says_only_that(kube: FakeKube) -> None:
    """A trial whose container ran is timed out as before: no word of starting."""
    kube.script = lambda manifest: Script(run_seconds=1e9, log=[(0.0, "loss=0.5")])
    handover = threading.Event()
    clock = Clock(kube, lambda poll: poll == 2 and handover.set())
    with pytest.raises(TrialHandedOver):
        polled_launcher(kube, clock).run(_run(handover))
    clock.now += 120
    outcome = polled_launcher(kube, clock, timeout=60).reattach(_run())
    assert outcome is not None and outcome.message == "the trial ran past the launcher's timeout of 60 s and was deleted"


# --- a pod that was killed ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "said"),
    [
        ({"exit_reason": "OOMKilled", "exit_code": 137}, "OOMKilled (exit code 137)"),
        ({"exit_reason": "Error", "exit_code": 1}, "Error (exit code 1)"),
        ({"evicted": "The node was low on resource: memory. Threshold quantity: 100Mi, available: 60Mi."},
         "Evicted: The node was low on resource: memory. Threshold quantity: 100Mi, available: 60Mi."),
    ],
)
def test_a_failed_trials_message_says_how_its_primary_pod_ended(kube: FakeKube, script: dict[str, Any], said: str) -> None:
    """The Job's condition says BackoffLimitExceeded; the message adds the primary pod's last
    termination as Kubernetes gives it. Fails with the old launcher (the Job's words only)."""
    kube.script = lambda manifest: Script(outcome="Failed", reason="BackoffLimitExceeded", run_seconds=2 * POLL, log=[(0.0, "loss=0.5")], **script)
    clock = Clock(kube)
    outcome = polled_launcher(kube, clock).run(_run())
    (pod,) = clock.pods
    assert (outcome.phase, outcome.reason) == (LaunchPhase.FAILED, "BackoffLimitExceeded")
    assert outcome.message == f"simulated failed; primary pod {pod}: {said}"
    assert "s3://bucket" not in outcome.message


def test_a_failed_trial_whose_pods_are_gone_keeps_the_jobs_words(kube: FakeKube) -> None:
    """Its pods deleted as it ended (cleanPodPolicy: All): nothing to add."""
    kube.script = lambda manifest: Script(outcome="Failed", reason="BackoffLimitExceeded", run_seconds=2 * POLL, log=[(0.0, "loss=0.5")],
                                          exit_reason="OOMKilled", exit_code=137, clean_pods=True)
    outcome = polled_launcher(kube, Clock(kube)).run(_run())
    assert (outcome.reason, outcome.message) == ("BackoffLimitExceeded", "simulated failed")


def test_termination_quotes_kubernetes_words_never_the_containers_own_message() -> None:
    """A container's termination message is what the program wrote (with FallbackToLogsOnError,
    its log's tail): it may hold a value of its env, so it is left out."""
    pod = {"metadata": {"name": "p"}, "status": {"phase": "Failed", "containerStatuses": [
        {"name": "main", "state": {"terminated": {"reason": "Error", "exitCode": 2, "message": "AWS_SECRET_ACCESS_KEY=abc123 was refused"}}}]}}
    assert termination(pod, "main") == "Error (exit code 2)"
    restarted = {"metadata": {"name": "p"}, "status": {"phase": "Running", "containerStatuses": [
        {"name": "main", "restartCount": 1, "state": {"waiting": {"reason": "CrashLoopBackOff"}}, "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]}}
    assert termination(restarted, "main") == "OOMKilled (exit code 137)"
    assert termination({"metadata": {"name": "p"}, "status": {"phase": "Running"}}, "main") == ""


# --- what reading the pods costs, and which pod it reads ------------------------------------------


def test_a_trial_whose_log_is_not_read_lists_its_pods_on_doubling_polls_not_every_poll(kube: FakeKube, caplog: pytest.LogCaptureFixture) -> None:
    """A Push collector reads no log, so each pod LIST is the start watch's own: a trial that
    never starts is listed at polls 3, 6, 12, 24 of 30, not at every poll (29 with the old
    launcher), and still warned of once."""
    caplog.set_level(logging.WARNING)
    experiment = load_experiment(quadratic_experiment(**{"spec.objective.metricStrategies": [{"name": "loss", "value": "min"}],
                                                         "spec.metricsCollectorSpec": {"collector": {"kind": "Push"}}}))
    run = trial_run(experiment, TrialState(name=TRIAL, index=0, round="run-1-r000", assignment={"x": "0.1", "y": "0.2"}, created=""))
    kube.script = lambda manifest: Script(run_seconds=1e9, waiting=float("inf"), pending=((0.0, "Unschedulable", NO_GPU),))
    lists: dict[int, int] = {}
    clock = Clock(kube, lambda poll: (lists.__setitem__(poll, pod_lists(kube)), fail_after(kube, 30)(poll)))
    polled_launcher(kube, clock).run(run)
    assert lists[29] == 4, lists
    assert [poll for poll in range(2, 30) if lists[poll] > lists[poll - 1]] == [3, 6, 12, 24]
    assert len(_waits(caplog)) == 1


def test_a_trial_with_no_pod_at_all_is_warned_of_with_where_to_look(kube: FakeKube, caplog: pytest.LogCaptureFixture) -> None:
    """A ResourceQuota refuses the Job's pods: none exists. After PENDING_NOTE_POLLS polls one
    warning says so and where the reason is (the resource's events). The old launcher said
    nothing while no pod existed."""
    caplog.set_level(logging.WARNING)
    kube.script = lambda manifest: Script(run_seconds=1e9, waiting=float("inf"))

    def refused(poll: int) -> None:
        if poll == 1:
            for pod in kube.pods_of(TRIAL):
                with kube.lock:
                    kube.objects.pop(("", "pods", "team-a", pod["metadata"]["name"]))
        fail_after(kube, 8)(poll)

    polled_launcher(kube, Clock(kube, refused)).run(_run())
    lines = [r.getMessage() for r in caplog.records if "no pod of it exists" in r.getMessage()]
    assert len(lines) == 1 and f"after {PENDING_NOTE_POLLS} polls" in lines[0] and "ResourceQuota" in lines[0] and TRIAL in lines[0]


def _waiting_sibling(kube: FakeKube) -> str:
    """A second pod of the trial's Job (parallelism 2), newer than the first, that no node takes."""
    (first,) = kube.pods_of(TRIAL)
    sibling = {"apiVersion": "v1", "kind": "Pod", "metadata": {**first["metadata"], "name": f"{TRIAL}-zz9zz", "creationTimestamp": "2099-01-01T00:00:00Z"},
               "spec": first["spec"], "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": NO_GPU}]}}
    for key in ("uid", "resourceVersion"):
        sibling["metadata"].pop(key, None)
    kube.put(sibling, "team-a")
    return str(sibling["metadata"]["name"])


def test_a_waiting_pod_beside_one_that_runs_is_named_without_saying_the_trial_never_started(kube: FakeKube, caplog: pytest.LogCaptureFixture) -> None:
    """A Job of parallelism 2: one pod runs, the newer one is Unschedulable. The warning names the
    waiting pod and says another runs; a timeout does not say "it never started" (the old
    launcher said both that its primary container had not started and that it never started)."""
    caplog.set_level(logging.WARNING)
    kube.script = lambda manifest: Script(run_seconds=1e9, waiting=1.5 * POLL, log=[(2 * POLL, "loss=0.5")])
    handover = threading.Event()
    waiting: list[str] = []
    clock = Clock(kube, lambda poll: (poll == 1 and waiting.append(_waiting_sibling(kube)), poll == 5 and handover.set()))
    with pytest.raises(TrialHandedOver):
        polled_launcher(kube, clock).run(_run(handover))
    (line,) = _waits(caplog)
    assert f"pod {waiting[0]} Pending (Unschedulable: {NO_GPU})" in line and "while another of its pods has" in line
    assert "primary container" not in line
    clock.now += 120
    outcome = polled_launcher(kube, clock, timeout=60).reattach(_run())
    assert outcome is not None and outcome.message == "the trial ran past the launcher's timeout of 60 s and was deleted"


def test_distinct_reasons_of_one_init_container_are_each_warned_of(caplog: pytest.LogCaptureFixture) -> None:
    """An init container whose image cannot be pulled, then whose config is refused: two reasons,
    two warnings (the old key, "init container NAME", kept only the first)."""
    from kfp_tune.launchers.kubernetes.pod_status import StartWatch

    caplog.set_level(logging.WARNING)

    def pod(reason: str) -> dict[str, Any]:
        return {"metadata": {"name": "p"}, "status": {"phase": "Pending", "initContainerStatuses": [{"name": "istio-init", "state": {"waiting": {"reason": reason}}}],
                                                     "containerStatuses": [{"name": "main", "state": {"waiting": {"reason": "PodInitializing"}}}]}}

    watch = StartWatch(TRIAL)
    for reason in ["ImagePullBackOff"] * 4 + ["CreateContainerConfigError"] * 2:
        watch.poll(read_anyway=True)
        watch.look([pod(reason)], "main", lambda: [])
    lines = _waits(caplog)
    assert len(lines) == 2, lines
    assert "init container istio-init: CreateContainerConfigError" in lines[1]


def test_a_failed_trials_message_names_another_pod_that_failed(kube: FakeKube) -> None:
    """A PyTorchJob's Worker OOMKilled, its Master exiting 1: the message names both, the other
    pod read in the one LIST at the trial's failure (here a Job's older pod stands for the
    Worker). The old launcher named the primary pod alone."""
    kube.script = lambda manifest: Script(outcome="Failed", reason="BackoffLimitExceeded", run_seconds=2 * POLL, log=[(0.0, "loss=0.5")], exit_reason="Error", exit_code=1)

    def worker_killed(poll: int) -> None:
        if poll == 1:
            (first,) = kube.pods_of(TRIAL)
            kube.put(oom_killed_worker(first, f"{TRIAL}-worker"), "team-a")

    clock = Clock(kube, worker_killed)
    outcome = polled_launcher(kube, clock).run(_run())
    (pod,) = clock.pods
    assert outcome.message == f"simulated failed; primary pod {pod}: Error (exit code 1); pod {TRIAL}-worker: OOMKilled (exit code 137)"
