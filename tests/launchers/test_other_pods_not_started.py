"""A distributed trial whose other pods cannot start while its primary pod runs or waits: a
PyTorchJob's GPU Workers Unschedulable beside a running Master, an MPIJob's launcher held in
PodInitializing by Workers that no node takes, mpi-operator v2's WaitForWorkersReady that makes no
launcher until they run, a Worker whose image cannot be pulled. The launch-trial log and a
timeout's message name those pods and why, as for the primary pod; the missing launcher is not
blamed on primaryPodLabels (QA operators, session 36, finding 2). Through the real ``kubernetes``
client against the fake API server, on a clock the launcher's sleep moves on."""

from __future__ import annotations

import copy
import dataclasses
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest

from conftest import quadratic_experiment
from fake_kube import MPI_OPERATOR, TRAINING_OPERATOR, FakeKube, Script
from kfp_tune.core.errors import clipped
from kfp_tune.core.interfaces import TrialHandedOver
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import TrialRun, trial_run
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.launchers.kubernetes.pod_status import PENDING_NOTE_POLLS, REASON_LIMIT, StartWatch
from pod_polls import POLL, Clock, pod_lists, polled_launcher

TRIAL = "gang-pods12345"
NO_GPU = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
UNSCHEDULABLE = {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": NO_GPU}]}
BACK_OFF = 'Back-off pulling image "registry.example.com/trainer:typo"'
PULL_BACK_OFF = {"phase": "Pending", "containerStatuses": [{"name": "pytorch", "image": "registry.example.com/trainer:typo", "imageID": "", "restartCount": 0,
                                                            "ready": False, "started": False, "state": {"waiting": {"reason": "ImagePullBackOff", "message": BACK_OFF}}}]}
LAUNCHER_INITIALIZING = {"phase": "Pending",
                         "initContainerStatuses": [{"name": "kubectl-delivery", "image": "mpioperator/kubectl-delivery:latest", "imageID": "", "restartCount": 0,
                                                    "ready": False, "started": True, "state": {"running": {}}}],
                         "containerStatuses": [{"name": "mpi-launcher", "image": "trainer", "imageID": "", "restartCount": 0, "ready": False, "started": False,
                                                "state": {"waiting": {"reason": "PodInitializing"}}}]}
SAID_NO_GPU = f"Pending (Unschedulable: {clipped(NO_GPU, REASON_LIMIT)})"


def _container(name: str) -> dict[str, Any]:
    return {"name": name, "image": "registry.example.com/trainer:1", "command": ["python3", "train.py"], "args": ["x=${trialParameters.x}", "y=${trialParameters.y}"],
            "resources": {"limits": {"nvidia.com/gpu": "1"}}}


def _trial(trial_spec: dict[str, Any], container: str, handover: threading.Event | None = None, **template: Any) -> TrialRun:
    doc = quadratic_experiment(**{"spec.objective.metricStrategies": [{"name": "loss", "value": "min"}]})
    doc["spec"]["trialTemplate"].update({"primaryContainerName": container, "trialSpec": trial_spec, **template})
    trial = TrialState(name=TRIAL, index=0, round="run-1-r000", assignment={"x": "0.1", "y": "0.2"}, created="")
    run = trial_run(load_experiment(doc), trial)
    return run if handover is None else dataclasses.replace(run, handover=handover)


def _pytorchjob() -> dict[str, Any]:
    """A Master and two Workers, a GPU each."""
    return {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "spec": {"pytorchReplicaSpecs": {
        "Master": {"replicas": 1, "restartPolicy": "OnFailure", "template": {"spec": {"containers": [_container("pytorch")]}}},
        "Worker": {"replicas": 2, "restartPolicy": "OnFailure", "template": {"spec": {"containers": [_container("pytorch")]}}}}}}


def _mpijob(api_version: str) -> dict[str, Any]:
    """A Launcher and two GPU Workers; v2beta1's launcher made only once the Workers are ready."""
    spec: dict[str, Any] = {"slotsPerWorker": 1, "mpiReplicaSpecs": {
        "Launcher": {"replicas": 1, "template": {"spec": {"containers": [{**_container("mpi-launcher"), "resources": {}}]}}},
        "Worker": {"replicas": 2, "template": {"spec": {"containers": [{"name": "mpi-worker", "image": "registry.example.com/trainer:1",
                                                                         "resources": {"limits": {"nvidia.com/gpu": "1"}}}]}}}}}
    if api_version == "kubeflow.org/v2beta1":
        spec["launcherCreationPolicy"] = "WaitForWorkersReady"
    return {"apiVersion": api_version, "kind": "MPIJob", "spec": spec}


def _hold(kube: FakeKube, statuses: Callable[[str], dict[str, Any] | None]) -> None:
    """Give each pod of the trial the status ``statuses`` gives its name (None: as the fake
    plays it) and keep it: the fake's kubelet no longer moves it on."""
    with kube.lock:
        for pod in kube.pods_of(TRIAL):
            name = pod["metadata"]["name"]
            status = statuses(name)
            if status is not None:
                kube.pod_logs.pop(("team-a", name), None)
                kube.objects[("", "pods", "team-a", name)]["status"] = copy.deepcopy(status)


def _no_launcher_yet(kube: FakeKube) -> None:
    """mpi-operator v2 under WaitForWorkersReady: no launcher Job (nor its pod) until the Workers are ready."""
    with kube.lock:
        for key in [k for k in kube.objects if k[3].startswith(f"{TRIAL}-launcher")]:
            kube.objects.pop(key)
            kube.pod_logs.pop(("team-a", key[3]), None)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and TRIAL in r.getMessage()]


def _run_then_time_out(kube: FakeKube, trial: Callable[[threading.Event | None], TrialRun], at_first_poll: Callable[[], None]) -> str:
    """Follow the trial for PENDING_NOTE_POLLS + 1 polls (``at_first_poll`` sets its pods' states
    after the first), hand it over, and let the next step's reattach find it past a 60 s timeout:
    that outcome's message."""
    handover = threading.Event()
    clock = Clock(kube, lambda poll: (poll == 1 and at_first_poll(), poll == PENDING_NOTE_POLLS + 1 and handover.set()))
    with pytest.raises(TrialHandedOver):
        polled_launcher(kube, clock).run(trial(handover))
    clock.now += 120
    outcome = polled_launcher(kube, clock, timeout=60).reattach(trial(None))
    assert outcome is not None and (outcome.phase, outcome.reason) == (LaunchPhase.FAILED, "DeadlineExceeded")
    return outcome.message


# --- the four cases of the QA report ----------------------------------------------------------------


def test_a_pytorchjob_whose_gpu_workers_are_unschedulable_while_its_master_runs_names_them(clusters: Any, caplog: pytest.LogCaptureFixture) -> None:
    """(a) The Master runs and waits in its rendezvous; both Workers are Unschedulable. One
    warning names the two Workers and the scheduler's words; the timeout says they never started.
    The old launcher logged nothing and the timeout said only that the trial ran past it."""
    caplog.set_level(logging.WARNING)
    kube = clusters(TRAINING_OPERATOR)
    kube.script = lambda manifest: Script(run_seconds=1e9, waiting=0.5 * POLL, log=[(POLL, "waiting for rendezvous")])
    workers = lambda name: UNSCHEDULABLE if "-worker-" in name else None  # noqa: E731
    message = _run_then_time_out(kube, lambda handover: _trial(_pytorchjob(), "pytorch", handover), lambda: _hold(kube, workers))
    (line,) = _warnings(caplog)
    assert f"pods {TRIAL}-worker-0, {TRIAL}-worker-1 {SAID_NO_GPU}" in line, line
    assert "its primary container pytorch has started" in line and f"after {PENDING_NOTE_POLLS} polls" in line
    assert message == (f"the trial ran past the launcher's timeout of 60 s and was deleted; 2 of its other pods never started: "
                       f"pods {TRIAL}-worker-0, {TRIAL}-worker-1 {SAID_NO_GPU}")


def test_an_mpijob_launcher_held_in_pod_initializing_by_unschedulable_workers_names_the_workers(clusters: Any, caplog: pytest.LogCaptureFixture) -> None:
    """(b) kubeflow.org/v1: the launcher's kubectl-delivery init container waits for the Workers,
    which no node takes. Besides the launcher's PodInitializing, the log and the timeout name the
    Workers and why. The old launcher said only PodInitializing."""
    caplog.set_level(logging.WARNING)
    kube = clusters(TRAINING_OPERATOR)
    kube.script = lambda manifest: Script(run_seconds=1e9, waiting=float("inf"))
    pods = lambda name: UNSCHEDULABLE if "-worker-" in name else LAUNCHER_INITIALIZING  # noqa: E731
    message = _run_then_time_out(kube, lambda handover: _trial(_mpijob("kubeflow.org/v1"), "mpi-launcher", handover), lambda: _hold(kube, pods))
    primary, others = _warnings(caplog)
    assert f"pod {TRIAL}-launcher Pending (PodInitializing)" in primary
    assert f"2 of its other pods have not started either after {PENDING_NOTE_POLLS} polls: pods {TRIAL}-worker-0, {TRIAL}-worker-1 {SAID_NO_GPU}" in others, others
    assert message == (f"the trial ran past the launcher's timeout of 60 s and was deleted; it never started: pod {TRIAL}-launcher Pending (PodInitializing); "
                       f"2 of its other pods never started either: pods {TRIAL}-worker-0, {TRIAL}-worker-1 {SAID_NO_GPU}")


def test_mpi_operator_v2_waiting_for_unschedulable_workers_is_not_blamed_on_primary_pod_labels(clusters: Any, caplog: pytest.LogCaptureFixture) -> None:
    """(c) v2beta1 with WaitForWorkersReady: no launcher pod while the Workers are Unschedulable.
    The warning names them and says the launcher waits for them, not that primaryPodLabels
    select none of the pods; the timeout names them. The old launcher pointed at primaryPodLabels."""
    caplog.set_level(logging.WARNING)
    kube = clusters(TRAINING_OPERATOR, MPI_OPERATOR)
    kube.script = lambda manifest: Script(run_seconds=1e9, waiting=float("inf"))

    def workers_unschedulable() -> None:
        _no_launcher_yet(kube)
        _hold(kube, lambda name: UNSCHEDULABLE)

    labels = {"primaryPodLabels": {"training.kubeflow.org/job-role": "launcher"}}
    message = _run_then_time_out(kube, lambda handover: _trial(_mpijob("kubeflow.org/v2beta1"), "mpi-launcher", handover, **labels), workers_unschedulable)
    (line,) = _warnings(caplog)
    assert "primaryPodLabels" not in line, line
    assert f"no primary pod of it after {PENDING_NOTE_POLLS} polls, and 2 of its other pods have not started: pods {TRIAL}-worker-0, {TRIAL}-worker-1 {SAID_NO_GPU}" in line
    assert "once they run" in line
    assert message == (f"the trial ran past the launcher's timeout of 60 s and was deleted; it never started: no primary pod of it was seen; "
                       f"2 of its other pods never started either: pods {TRIAL}-worker-0, {TRIAL}-worker-1 {SAID_NO_GPU}")


def test_a_worker_whose_image_cannot_be_pulled_while_its_master_runs_is_named(clusters: Any, caplog: pytest.LogCaptureFixture) -> None:
    """(d) A typo in the Worker template's image, the Master's right: the Workers in
    ImagePullBackOff are named in the log and at the timeout. The old launcher said nothing."""
    caplog.set_level(logging.WARNING)
    kube = clusters(TRAINING_OPERATOR)
    kube.script = lambda manifest: Script(run_seconds=1e9, waiting=0.5 * POLL, log=[(POLL, "waiting for rendezvous")])
    workers = lambda name: PULL_BACK_OFF if "-worker-" in name else None  # noqa: E731
    message = _run_then_time_out(kube, lambda handover: _trial(_pytorchjob(), "pytorch", handover), lambda: _hold(kube, workers))
    (line,) = _warnings(caplog)
    assert f"pods {TRIAL}-worker-0, {TRIAL}-worker-1 Pending (ImagePullBackOff: {BACK_OFF})" in line, line
    assert message.endswith(f"; 2 of its other pods never started: pods {TRIAL}-worker-0, {TRIAL}-worker-1 Pending (ImagePullBackOff: {BACK_OFF})"), message


# --- what it costs ----------------------------------------------------------------------------------


def test_the_other_pods_cost_no_more_lists_than_a_poll_made_before(clusters: Any) -> None:
    """StdOut: the primary pod is listed every poll for its log; at the polls a note is due (3,
    6, ...) that LIST is of every pod of the trial instead, and once every pod runs none is of
    them. One LIST a poll throughout."""
    kube = clusters(TRAINING_OPERATOR)
    kube.script = lambda manifest: Script(run_seconds=1e9, waiting=0.5 * POLL, log=[(POLL, "waiting for rendezvous")])
    lists: dict[int, int] = {}
    selectors: dict[int, list[str]] = {}

    def then(poll: int) -> None:
        lists[poll] = pod_lists(kube)
        selectors[poll] = [c.query.get("labelSelector", [""])[0] for c in kube.calls_to("GET", "pods") if c.verb == "list"]
        if poll == 1:
            _hold(kube, lambda name: UNSCHEDULABLE if "-worker-" in name else None)
        if poll == 7:  # the nodes came: the Workers run
            _hold(kube, lambda name: {"phase": "Running"} if "-worker-" in name else None)
        if poll == 20:
            kube.set_status("pytorchjobs", "team-a", TRIAL, {"conditions": [{"type": "Failed", "status": "True", "reason": "Stop", "message": "stopped"}]})

    polled_launcher(kube, Clock(kube, then)).run(_trial(_pytorchjob(), "pytorch"))
    assert [lists[poll] - lists[poll - 1] for poll in range(2, 21)] == [1] * 19, lists
    every = f"training.kubeflow.org/job-name={TRIAL}"
    assert [poll for poll in range(1, 21) if selectors[poll][-1] == every] == [3, 6, 12], selectors


# --- the start watch alone --------------------------------------------------------------------------


def _pod(name: str, labels: dict[str, str], **status: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels}, "status": status}


def test_the_watch_stops_listing_every_pod_once_all_have_started() -> None:
    """Polls 3 and 6 read every pod; by 6 all run, so 12 and 24 read none, and the primary container having
    started, no poll reads the primary pods either."""
    master = _pod("m", {}, phase="Running", containerStatuses=[{"name": "pytorch", "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}])
    watch = StartWatch(TRIAL)
    read: list[int] = []
    for poll in range(1, 30):
        worker = _pod("w", {}, phase="Pending" if poll < 5 else "Running")
        if watch.poll(read_anyway=False):
            read.append(poll)
            watch.look([master], "pytorch", lambda: [master, worker])  # noqa: B023
    assert read == [3, 6]
    assert watch.at_timeout() == ""


def test_many_waiting_workers_are_named_a_few_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    """64 Workers Unschedulable: the warning names three and counts the rest, in one line."""
    caplog.set_level(logging.WARNING)
    master = _pod("m", {}, phase="Running", containerStatuses=[{"name": "pytorch", "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}])
    workers = [_pod(f"w-{index}", {}, **UNSCHEDULABLE) for index in range(64)]
    watch = StartWatch(TRIAL)
    for _ in range(PENDING_NOTE_POLLS):
        if watch.poll(read_anyway=True):
            watch.look([master], "pytorch", lambda: [master, *workers])
    (line,) = _warnings(caplog)
    assert f"64 of its other pods have not after {PENDING_NOTE_POLLS} polls: pods w-0, w-1, w-2 and 61 more {SAID_NO_GPU}" in line, line
    assert watch.at_timeout() == f"64 of its other pods never started: pods w-0, w-1, w-2 and 61 more {SAID_NO_GPU}"


def test_no_primary_pod_among_running_pods_still_points_at_primary_pod_labels(caplog: pytest.LogCaptureFixture) -> None:
    """The pods found all run, and none is primary: primaryPodLabels select none, as before."""
    caplog.set_level(logging.WARNING)
    running = [_pod(f"w-{index}", {}, phase="Running") for index in range(2)]
    watch = StartWatch(TRIAL)
    for _ in range(PENDING_NOTE_POLLS):
        if watch.poll(read_anyway=True):
            watch.look([], "main", lambda: running)
    (line,) = _warnings(caplog)
    assert "none of its 2 pod(s) is of a template primaryPodLabels selects" in line


CREATING = {"phase": "Pending", "containerStatuses": [{"name": "pytorch", "image": "i", "imageID": "", "restartCount": 0, "ready": False, "started": False,
                                                       "state": {"waiting": {"reason": "ContainerCreating"}}}]}


def test_primary_pod_labels_that_select_no_template_are_named_while_the_pods_still_start(clusters: Any, caplog: pytest.LogCaptureFixture) -> None:
    """A PyTorchJob whose primaryPodLabels select no template (replica-type chief: it has Master and Worker),
    its three pods still pulling a large image at poll 3: the warning points at primaryPodLabels, not at an
    operator that waits for the pods (review A of 1d7c0d6, finding 2), and the pods are not named as a cause."""
    caplog.set_level(logging.WARNING)
    kube = clusters(TRAINING_OPERATOR)
    kube.script = lambda manifest: Script(run_seconds=1e9, waiting=0.5 * POLL)

    def then(poll: int) -> None:
        if poll == 1:
            _hold(kube, lambda name: CREATING)
        if poll == 4:
            _hold(kube, lambda name: {"phase": "Running"})
        if poll == 20:
            kube.set_status("pytorchjobs", "team-a", TRIAL, {"conditions": [{"type": "Failed", "status": "True", "reason": "Stop", "message": "stopped"}]})

    polled_launcher(kube, Clock(kube, then)).run(_trial(_pytorchjob(), "pytorch", primaryPodLabels={"training.kubeflow.org/replica-type": "chief"}))
    (line,) = [w for w in _warnings(caplog) if "no primary pod" in w]
    assert "none of its 3 pod(s) is of a template primaryPodLabels selects" in line, line
    assert "operator may make the primary pod" not in line
    assert not [w for w in _warnings(caplog) if "other pods" in w], _warnings(caplog)


def test_no_primary_pod_among_starting_pods_points_at_primary_pod_labels_when_they_select_no_template(caplog: pytest.LogCaptureFixture) -> None:
    """The pods found are still Pending and primaryPodLabels select no template: no pod will ever be primary,
    whatever the operator waits for, so the hint is primaryPodLabels'."""
    caplog.set_level(logging.WARNING)
    creating = [_pod(f"w-{index}", {}, **CREATING) for index in range(2)]
    watch = StartWatch(TRIAL)
    for _ in range(4 * PENDING_NOTE_POLLS):
        if watch.poll(read_anyway=True):
            watch.look([], "main", lambda: creating, selects_none=True)
    (line,) = _warnings(caplog)
    assert "none of its 2 pod(s) is of a template primaryPodLabels selects" in line, line


def test_no_primary_pod_while_the_selected_template_waits_for_other_pods_still_names_them(caplog: pytest.LogCaptureFixture) -> None:
    """primaryPodLabels select a template (mpi-operator v2's launcher) that has no pod yet while the
    Workers start: the operator's wording, as before."""
    caplog.set_level(logging.WARNING)
    workers = [_pod(f"w-{index}", {}, **UNSCHEDULABLE) for index in range(2)]
    watch = StartWatch(TRIAL)
    for _ in range(PENDING_NOTE_POLLS):
        if watch.poll(read_anyway=True):
            watch.look([], "mpi-launcher", lambda: workers, selects_none=False)
    (line,) = _warnings(caplog)
    assert "its operator may make the primary pod only once they run" in line and "pods w-0, w-1" in line, line


RUNNING = {"phase": "Running", "containerStatuses": [{"name": "pytorch", "image": "i", "imageID": "", "restartCount": 0, "ready": True, "started": True,
                                                      "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}]}


def test_a_worker_evicted_after_every_pod_started_and_back_unschedulable_is_named_at_the_timeout(caplog: pytest.LogCaptureFixture) -> None:
    """Every pod had started by poll 6 (the watch settled); the Worker is then evicted and made again
    Unschedulable, while the Master waits for it: the timeout lists the pods once more and names it
    (review A of 1d7c0d6, finding 3)."""
    caplog.set_level(logging.WARNING)
    master = _pod("m", {}, **RUNNING)
    read: list[int] = []
    watch = StartWatch(TRIAL)
    for poll in range(1, 60):
        worker = _pod("w-0", {}, **({"phase": "Running"} if poll < 8 else {"phase": "Failed", "reason": "Evicted"} if poll < 10 else UNSCHEDULABLE))
        if watch.poll(read_anyway=False, timed_out=poll == 59):
            read.append(poll)
            watch.look([master], "pytorch", lambda: [master, worker])  # noqa: B023
    assert read == [3, 59]
    assert watch.at_timeout() == f"1 of its other pods never started: pod w-0 {SAID_NO_GPU}"


def test_a_kind_whose_other_pods_are_not_listed_lists_none_at_the_timeout() -> None:
    """A kind whose pods carry no job-name label (others=False): its other pods are not listed, even at the timeout."""
    watch = StartWatch(TRIAL, others=False)
    assert watch.poll(read_anyway=True, timed_out=True)
    assert not watch.reads_all
