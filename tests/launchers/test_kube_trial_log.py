"""The Kubernetes launcher follows a StdOut trial's log a poll at a time (kubelet log rotation
loses nothing it read), hands early stopping only the new lines, and stores the log as the local
launcher does (head, tail, every line naming a metric). Through the real ``kubernetes`` client
against the fake API server (tests/support/fake_kube.py), on a clock the launcher's sleep moves
on, so a poll is the poll's seconds of the trial's output whatever the machine's speed."""

from __future__ import annotations

import dataclasses
import random
import threading
from typing import Any, cast

import pytest
from kubernetes import client

from conftest import quadratic_experiment
from fake_kube import FakeKube, Script
from kfp_tune.collectors.running import RunningMetrics, StopTest
from kfp_tune.collectors.stdout import parse_output
from kfp_tune.core.interfaces import TrialHandedOver
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.observation import Observation
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.launchers import kept_log
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher
from pod_polls import POLL, EventClock, RecordingRule, polled_launcher

TRIAL = "quad-log12345"


def _experiment(**overrides: Any) -> Experiment:
    return load_experiment(quadratic_experiment(**{"spec.objective.metricStrategies": [{"name": "loss", "value": "min"}], **overrides}))


def _run(experiment: Experiment, should_stop: Any = None) -> Any:
    trial = TrialState(name=TRIAL, index=0, round="run-1-r000", assignment={"x": "0.1", "y": "0.2"}, created="")
    return trial_run(experiment, trial, should_stop=should_stop)


def _chatty(seed: int, seconds: float, lines_per_second: int, reports: int) -> tuple[list[tuple[float, str]], list[float]]:
    """A trial's log: filler lines, ``reports`` ``loss=`` lines among them at random times (several
    lines share each time: a poll's boundary falls between lines of the same time), the
    smallest loss early on."""
    rng = random.Random(seed)
    count = int(seconds * lines_per_second)
    at_report = sorted(rng.sample(range(count), reports))
    values = [round(rng.uniform(0.2, 0.9), 3) for _ in range(reports)]
    values[1] = 0.125
    log, reported = [], []
    for index in range(count):
        at = (index // 4) * 4 / lines_per_second  # four lines per time
        if at_report and index == at_report[0]:
            at_report.pop(0)
            log.append((at, f"epoch {index}: loss={values[len(reported)]}"))
            reported.append(values[len(reported)])
        else:
            log.append((at, f"step {index} " + "x" * 90))
    return log, reported


class RecordingStopTest(StopTest):
    """The experiment's stop test, keeping the texts it is handed."""

    def __init__(self, experiment: Experiment, rule: Any):
        super().__init__(RunningMetrics(cast(Any, None), experiment, TRIAL), rule, [])
        self.handed: list[str] = []

    def appended(self, text: str) -> bool:
        self.handed.append(text)
        return super().appended(text)


def _losses(experiment: Experiment, text: str) -> list[float]:
    return [m.value for m in parse_output(experiment, text) if m.name == "loss"]


def test_every_report_and_the_min_survive_the_kubelet_rotating_the_log(clusters: Any) -> None:
    """containerLogMaxSize 64 KiB, a trial printing about 2 MB over 100 polls: GET pods/log gives
    the current file only, so a log read once at the end held the last file's reports; followed,
    the stored log holds every report, and the min strategy reads the smallest. (The kubelet
    looks at the file just after a poll here: what is printed between a poll and a rotation is
    not read, see the guide.)"""
    kube = clusters()
    kube.log_max_bytes = 64 << 10
    kube.log_check_phase = 0.05  # the lines come each 0.1 s: none between a poll and the kubelet's look
    log, reported = _chatty(seed=11, seconds=100 * POLL, lines_per_second=40, reports=30)
    kube.script = lambda manifest: Script(run_seconds=100 * POLL, log=log)
    experiment = _experiment()
    out = polled_launcher(kube, EventClock()).run(_run(experiment))
    assert out.phase == "Succeeded", out
    stored = out.logs["main"]
    assert _losses(experiment, stored) == reported
    observed = Observation.from_logs(parse_output(experiment, stored), ["loss"])
    assert observed.values({"loss": "min"}) == {"loss": min(reported)} == {"loss": 0.125}
    assert stored == "".join(line + "\n" for _, line in log)  # under the stored log's bound: whole, each line once


def test_early_stopping_is_handed_each_line_once(clusters: Any) -> None:
    """A StopTest is handed what came since its last look: every line once, in order, over
    polls whose boundaries fall between lines of the same time."""
    kube = clusters()
    log, reported = _chatty(seed=12, seconds=20 * POLL, lines_per_second=8, reports=12)
    kube.script = lambda manifest: Script(run_seconds=20 * POLL, log=log)
    experiment = _experiment(**{"spec.earlyStopping": {"algorithmName": "medianstop"}})
    rule = RecordingRule()
    stop = RecordingStopTest(experiment, rule)
    out = polled_launcher(kube, EventClock()).run(_run(experiment, should_stop=stop))
    assert out.phase == "Succeeded", out
    assert "".join(stop.handed) == "".join(line + "\n" for _, line in log)
    assert len([text for text in stop.handed if text]) > 10  # a look at each poll, not one at the end
    assert rule.shown[-1] == reported


def test_a_long_log_is_stored_capped_with_every_report(clusters: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stored log of a long output is its head and tail, a line saying how much was left
    out, and every left-out line that names a metric: the local launcher's rule, one definition."""
    monkeypatch.setattr(kept_log, "LOG_HEAD_BYTES", 4000)
    monkeypatch.setattr(kept_log, "LOG_TAIL_BYTES", 8000)
    kube = clusters()
    log, reported = _chatty(seed=13, seconds=30 * POLL, lines_per_second=20, reports=15)
    kube.script = lambda manifest: Script(run_seconds=30 * POLL, log=log)
    experiment = _experiment()
    out = polled_launcher(kube, EventClock()).run(_run(experiment))
    stored = out.logs["main"]
    printed = "".join(line + "\n" for _, line in log)
    assert len(stored.encode()) < 4000 + 8000 + 200 * (len(reported) + 1)
    assert stored.startswith(printed[: printed.rfind("\n", 0, 4000) + 1])
    tail = printed.encode()[-8000:]
    assert stored.encode().endswith(tail[tail.find(b"\n") + 1:])
    assert "bytes of this trial's output were left out here" in stored
    assert _losses(experiment, stored) == reported


def test_a_trial_without_early_stopping_reads_only_the_new_output(clusters: Any) -> None:
    """No stop test: the output is followed all the same (rotation would lose reports), each poll
    reading about a poll's worth of it, not all of it again; the outcome as before."""
    kube = clusters()
    log, reported = _chatty(seed=14, seconds=40 * POLL, lines_per_second=20, reports=10)
    kube.script = lambda manifest: Script(run_seconds=40 * POLL, log=log)
    experiment = _experiment()
    out = polled_launcher(kube, EventClock()).run(_run(experiment))
    assert out.phase == "Succeeded" and _losses(experiment, out.logs["main"]) == reported
    printed = len("".join(line + "\n" for _, line in log).encode())
    assert kube.log_bytes_served < 4 * printed  # a whole read at each of 40 polls: about 20 times


def test_a_file_collector_trial_reads_no_log_while_it_runs(clusters: Any) -> None:
    """Its metrics are in a file, not the output: one read of the log, at the end, as before."""
    kube = clusters()
    kube.script = lambda manifest: Script(run_seconds=10 * POLL, log=[(float(i), f"line {i}") for i in range(50)])
    experiment = _experiment(**{"spec.metricsCollectorSpec": {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/var/log/m.log", "kind": "File"}}}})
    out = polled_launcher(kube, EventClock()).run(_run(experiment))
    assert out.phase == "Succeeded" and out.logs["main"] == "".join(f"line {i}\n" for i in range(50))
    assert len(kube.calls_to("GET", "log")) == 1


# --- the paths of following a log that a trial takes now and then ---------------------------------
# Each test's docstring names the mutants of the launcher's code (by hand) it was seen to fail on.


def _printed(log: list[tuple[float, str]], partial: tuple[int, ...] = ()) -> str:
    """What the lines print: each with its newline, but the partial ones (Script.partial)."""
    return "".join(line + ("" if index in partial else "\n") for index, (_, line) in enumerate(log))


def _reports(seed: int, seconds: int, prefix: str) -> list[tuple[float, str]]:
    """A line a second, every fifth a ``loss=`` report of a seeded value."""
    rng = random.Random(seed)
    return [(float(at), f"{prefix} epoch {at}: loss={round(rng.uniform(0.2, 0.9), 3)}" if at % 5 == 2 else f"{prefix} step {at}") for at in range(seconds)]


def test_a_restarted_container_starts_the_log_and_the_stop_test_again(clusters: Any) -> None:
    """restartPolicy OnFailure: the container fails at 50 s and the kubelet starts it again in
    the same pod (restartCount 1, a log file of its own; ``previous`` reads the first). The
    stored log and the stop test hold the new container's output only, as in Katib, whose
    collector reports for the attempt that writes its completed marker
    (pkg/metricscollector/v1beta1/common/pns.go, WaitPIDs): the first attempt's smallest loss is
    not the trial's. Fails with the reset on a new ``restartCount`` left out (_FollowedLog.source)."""
    kube = clusters()
    first = [(at, line) for at, line in _reports(21, 50, "first") if at < 50]
    first[7] = (7.0, "first epoch 7: loss=0.01")  # better than anything the second prints
    second = [(50.0 + at, line) for at, line in _reports(22, 50, "second")]
    kube.script = lambda manifest: Script(run_seconds=100.0, log=first + second, restarts=(50.0,))
    experiment = _experiment(**{"spec.earlyStopping": {"algorithmName": "medianstop"}, "spec.trialTemplate.retain": True,
                                "spec.trialTemplate.trialSpec.spec.template.spec.restartPolicy": "OnFailure"})
    rule = RecordingRule()
    out = polled_launcher(kube, EventClock()).run(_run(experiment, should_stop=RecordingStopTest(experiment, rule)))
    assert out.phase == "Succeeded", out
    assert out.logs["main"] == _printed(second)
    assert rule.shown[-1] == _losses(experiment, _printed(second)) and 0.01 not in rule.shown[-1]
    assert 0.01 in rule.shown[len(rule.shown) // 3]  # the first container's reports were judged while it ran
    (pod,) = kube.pods_of(TRIAL)
    assert [s["restartCount"] for s in pod["status"]["containerStatuses"] if s["name"] == "main"] == [1]
    core = client.CoreV1Api(kube.api_client())
    assert core.read_namespaced_pod_log(pod["metadata"]["name"], "team-a", container="main", previous=True) == _printed(first)


def test_a_job_that_retried_is_followed_in_its_new_pod(clusters: Any) -> None:
    """The Job's pod fails at 50 s and the Job controller makes another (backoffLimit): the
    primary pod is the new one, and the stored log and the stop test start again from its
    output. Fails with a new pod of the same restartCount taken for the same container
    (_FollowedLog.source comparing the restart count only)."""
    kube = clusters()
    first = [(at, line) for at, line in _reports(23, 50, "first") if at < 50]
    second = [(50.0 + at, line) for at, line in _reports(24, 50, "second")]
    kube.script = lambda manifest: Script(run_seconds=100.0, log=first + second, retries=(50.0,))
    experiment = _experiment(**{"spec.earlyStopping": {"algorithmName": "medianstop"}, "spec.trialTemplate.retain": True})
    rule = RecordingRule()
    out = polled_launcher(kube, EventClock()).run(_run(experiment, should_stop=RecordingStopTest(experiment, rule)))
    assert out.phase == "Succeeded", out
    assert out.logs["main"] == _printed(second)
    assert rule.shown[-1] == _losses(experiment, _printed(second))
    assert sorted(p["status"]["phase"] for p in kube.pods_of(TRIAL)) == ["Failed", "Running"]


def test_a_line_without_its_newline_is_read_again_whole_and_the_last_taken_at_the_end(clusters: Any) -> None:
    """A line whose newline came a poll later (a CRI partial entry, served without it) is taken
    once, whole, at the next poll; the last line, which never got its newline, is taken as it
    is once the trial has ended, and the stop test is handed its newline then. Fails with an
    unended line taken at each read (read_done ignoring ``ended``: the piece is stored alone and
    the whole line dropped as read before), with it never taken (the last report lost), and
    with the stop test not handed the last newline (judge)."""
    kube = clusters()
    log = [(float(at), f"step {at}") for at in [*range(13), *range(17, 38)]]
    log[12] = (12.0, "epoch 3: loss=")  # its rest comes at 17 s, nothing between: the poll at 15 s reads the piece
    log[13] = (17.0, "0.25")
    log.append((38.0, "epoch 9: loss=0.0625"))  # the program ends without a newline
    partial = (12, len(log) - 1)
    kube.script = lambda manifest: Script(run_seconds=40.0, log=log, partial=partial)
    experiment = _experiment(**{"spec.earlyStopping": {"algorithmName": "medianstop"}})
    rule = RecordingRule()
    stop = RecordingStopTest(experiment, rule)
    out = polled_launcher(kube, EventClock()).run(_run(experiment, should_stop=stop))
    assert out.phase == "Succeeded", out
    printed = _printed(log, partial)
    assert out.logs["main"] == printed and printed.endswith("loss=0.0625")
    assert "".join(stop.handed) == printed + "\n"
    assert rule.shown[-1] == [0.25, 0.0625]


def test_the_log_kept_so_far_is_the_log_once_the_pods_are_gone(clusters: Any) -> None:
    """The trial's pods are deleted as it ends (cleanPodPolicy All): its log is what was read
    until then, the whole lines of the last poll (at 35 s); the line that poll read without its
    newline is left out, as it may have gone on (a value cut short is worse than none), and what
    came after is not there to read. Fails with {} returned once no pod is found (the launcher
    before it followed logs) and with an unended line taken at each read."""
    kube = clusters()
    log = _reports(25, 40, "run")
    log[35] = (35.0, "epoch 35: loss=0.3")  # the program went on with a digit or two after the poll
    kube.script = lambda manifest: Script(run_seconds=40.0, log=log, partial=(35,), clean_pods=True)
    experiment = _experiment()
    out = polled_launcher(kube, EventClock()).run(_run(experiment))
    assert out.phase == "Succeeded", out
    assert out.logs["main"] == _printed(log[:35])
    assert kube.pods_of(TRIAL) == []


def test_lines_of_one_microsecond_split_by_a_poll_are_each_read_once(clusters: Any) -> None:
    """Two lines at 10 s and one 400 ns later: the launcher reads times to the microsecond (as
    Katib's DB keeps them), so all three carry one time, and the poll at 10 s reads the first
    two only. The next poll reads the three again, drops the two it counted and takes the
    third. Fails with every line at the last line's time dropped (no count), and with none."""
    kube = clusters()
    kube.epoch = 1_790_000_000.0  # a whole second: the three lines' times share a microsecond
    log = [(float(at), f"step {at}") for at in range(10)]
    log += [(10.0, "epoch 1: loss=0.5"), (10.0, "step 10"), (10.0000004, "epoch 2: loss=0.25")]
    log += [(float(at), f"step {at}") for at in range(11, 20)]
    kube.script = lambda manifest: Script(run_seconds=20.0, log=log)
    experiment = _experiment(**{"spec.earlyStopping": {"algorithmName": "medianstop"}})
    rule = RecordingRule()
    stop = RecordingStopTest(experiment, rule)
    out = polled_launcher(kube, EventClock()).run(_run(experiment, should_stop=stop))
    assert out.phase == "Succeeded", out
    assert out.logs["main"] == "".join(stop.handed) == _printed(log)
    assert rule.shown[-1] == [0.5, 0.25]
    assert "epoch 2: loss=0.25\n" not in "".join(stop.handed[:3])  # the poll at 10 s did not read it (0, 5, 10 s)


def test_a_trial_picked_up_after_a_checkpoint_reads_its_log_from_the_start(clusters: Any) -> None:
    """A checkpoint hands the running trial over at 20 s; the next step's launcher (a new object,
    a new stop test) picks it up at 32 s and reads its log file from the start: the stored log
    and the new stop test hold every line once. (What the kubelet rotated away before the
    pick-up is not there: see the guide.) Fails with a first read asking only for the last
    seconds (sinceSeconds of a poll and the slack)."""
    kube = clusters()
    log, reported = _chatty(seed=26, seconds=60, lines_per_second=4, reports=8)
    kube.script = lambda manifest: Script(run_seconds=60.0, log=log)
    experiment = _experiment(**{"spec.earlyStopping": {"algorithmName": "medianstop"}})
    clock = EventClock()
    handover = threading.Event()

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now >= 1020.0:
            handover.set()

    first = polled_launcher(kube, clock)
    first._sleep = sleep
    trial = _run(experiment, should_stop=RecordingStopTest(experiment, RecordingRule()))
    with pytest.raises(TrialHandedOver):
        first.run(dataclasses.replace(trial, handover=handover))
    clock.sleep(12.0)
    rule = RecordingRule()
    stop = RecordingStopTest(experiment, rule)
    out = polled_launcher(kube, clock).reattach(_run(experiment, should_stop=stop))
    assert out is not None and out.phase == "Succeeded", out
    assert out.logs["main"] == "".join(stop.handed) == _printed(log)
    assert rule.shown[0] == [value for at, value in zip(*_report_times(log), strict=True) if at <= 32.0]
    assert rule.shown[-1] == reported


def _report_times(log: list[tuple[float, str]]) -> tuple[list[float], list[float]]:
    return [at for at, line in log if "loss=" in line], [float(line.rpartition("=")[2]) for _, line in log if "loss=" in line]


def test_a_plain_stop_test_is_given_the_log_kept_so_far(clusters: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stop test that is not a StopTest is called with the output so far, as the launcher's
    contract says: at each poll the log as the store keeps it (here cut: head, tail, the lines
    naming a metric), growing poll by poll, and at the end with its last line made whole (it
    had no newline). Fails with it handed only the new text (as a StopTest is), and with the
    last line left without its newline."""
    monkeypatch.setattr(kept_log, "LOG_HEAD_BYTES", 2000)
    monkeypatch.setattr(kept_log, "LOG_TAIL_BYTES", 12000)
    kube = clusters()
    log, reported = _chatty(seed=27, seconds=30 * POLL, lines_per_second=4, reports=10)
    log.append((30 * POLL - 1, "done: loss=0.0625"))
    partial = (len(log) - 1,)
    kube.script = lambda manifest: Script(run_seconds=30 * POLL, log=log, partial=partial)
    given: list[str] = []

    def should_stop(output: str) -> bool:
        given.append(output)
        return False

    experiment = _experiment()
    out = polled_launcher(kube, EventClock()).run(_run(experiment, should_stop=should_stop))
    assert out.phase == "Succeeded", out
    stored = out.logs["main"]
    assert "bytes of this trial's output were left out here" in stored and stored.endswith("done: loss=0.0625")
    assert given[-1] == stored + "\n"
    assert _losses(experiment, given[-1]) == [*reported, 0.0625]
    printed = _printed(log, partial)
    early = [text for text in given if "left out here" not in text]  # before the log was cut: all of it so far
    assert len(early) > 5 and all(printed.startswith(text) and text.endswith("\n") for text in early)
    assert [len(text) for text in early] == sorted(len(text) for text in early) and len({len(text) for text in early}) > 5


# --- what a real kubelet and API server do to a followed log now and then ---------------------------


def _followed(kube: FakeKube, log: list[tuple[float, str]], seconds: float, launcher: KubernetesLauncher | None = None,
              **script: Any) -> tuple[Any, RecordingStopTest, str]:
    """Run a trial printing ``log`` under a stop test; its outcome, the stop test, and what it printed."""
    kube.script = lambda manifest: Script(run_seconds=seconds, log=log, **script)
    experiment = _experiment(**{"spec.earlyStopping": {"algorithmName": "medianstop"}})
    stop = RecordingStopTest(experiment, RecordingRule())
    out = (launcher or polled_launcher(kube, EventClock())).run(_run(experiment, should_stop=stop))
    return out, stop, _printed(log, tuple(script.get("partial", ())))


def test_a_container_that_never_starts_ends_deadline_exceeded_with_no_log(clusters: Any) -> None:
    """The trial's container is never started (ContainerCreating): GET pods/log answers 400
    "is waiting to start", as the kubelet does; the trial runs to the launcher's timeout and ends
    DeadlineExceeded, deleted, its logs empty ({}: no read of its container was made, so the
    stop test was never asked). Fails with the log of a container not started given as "" (the
    stop test then asked at each poll)."""
    import time

    kube = clusters()
    kube.script = lambda manifest: Script(run_seconds=600.0, log=[(0.0, "loss=0.5")], waiting=float("inf"))
    asked: list[str] = []
    config = KubernetesConfig(namespace="team-a", poll_seconds=0.05, api_retry_seconds=5.0, timeout_seconds=0.3)
    launcher = KubernetesLauncher(config, api_client=kube.api_client(), sleep=time.sleep)
    out = launcher.run(_run(_experiment(), should_stop=lambda output: asked.append(output) or False))
    assert (out.phase, out.reason, out.logs) == ("Failed", "DeadlineExceeded", {})
    assert asked == [] and kube.stored("jobs", "batch") == []
    reads = kube.calls_to("GET", "log")
    assert reads and {c.status for c in reads} == {400}


def test_a_container_that_starts_late_is_read_once_it_runs(clusters: Any) -> None:
    """The container starts 12 s after the trial (pulling its image): the reads before answer
    400 and nothing is stored or judged; then its log is followed whole."""
    kube = clusters()
    log = [(12.0 + at, f"epoch {at}: loss={round(1 / (at + 1), 3)}") for at in range(20)]
    out, stop, printed = _followed(kube, log, 32.0, waiting=12.0)
    assert out.phase == "Succeeded", out
    assert out.logs["main"] == "".join(stop.handed) == printed
    assert [c.status for c in kube.calls_to("GET", "log")][:3] == [400, 400, 400]


def test_a_line_stamped_before_the_line_written_before_it_is_taken(clusters: Any) -> None:
    """containerd stamps stdout and stderr lines in separate goroutines before their shared
    write: a stderr report follows a stdout line stamped a microsecond later, in one read. The
    stored log and the stop test hold it (Katib's sidecar sees every line). Fails with a line
    stamped before the last one taken dropped whatever its place in the read (the launcher
    before)."""
    kube = clusters()
    kube.epoch = 1_790_000_000.0
    log = [(float(at), f"step {at}") for at in range(10)]
    log += [(10.000002, "step 10 (stdout)"), (10.000001, "epoch 1: loss=0.25 (stderr)")]
    log += [(float(at), f"step {at}") for at in range(11, 20)]
    out, stop, printed = _followed(kube, log, 20.0)
    assert out.phase == "Succeeded", out
    assert out.logs["main"] == "".join(stop.handed) == printed


def test_a_line_stamped_before_one_a_poll_took_is_taken_at_the_next(clusters: Any) -> None:
    """The poll at 10 s takes a stdout line stamped 10 s; a stderr line stamped 100 us before it
    is written after that poll. The next read begins with lines taken (found by time and text)
    and then that line, older than the newest taken: it is new, and taken once. Fails with the
    lines older than the newest taken dropped at a read's start by their times alone."""
    kube = clusters()
    kube.epoch = 1_790_000_000.0
    log = [(float(at), f"step {at}") for at in range(10)]
    log += [(10.0, "step 10 (stdout)"), (9.9999, "epoch 1: loss=0.25 (stderr)")]
    log += [(float(at), f"step {at}") for at in range(11, 20)]
    out, stop, printed = _followed(kube, log, 20.0, written={11: 0.01})
    assert out.phase == "Succeeded", out
    assert out.logs["main"] == "".join(stop.handed) == printed
    assert "loss=0.25" not in "".join(stop.handed[:3])  # the polls at 0, 5 and 10 s did not read it


def test_two_streams_stamped_out_of_order_over_many_polls_lose_and_repeat_nothing(clusters: Any) -> None:
    """Seeded: a line each 0.1 s, every third a stderr line stamped up to 50 us before the line
    written before it and written up to 0.2 s late, some across a poll, some repeating an
    earlier line's text and time. Every line is stored and handed to the stop test once."""
    kube = clusters()
    kube.epoch = 1_790_000_000.0
    rng = random.Random(31)
    log: list[tuple[float, str]] = []
    written: dict[int, float] = {}
    for index in range(600):
        at = index / 10
        if index % 3 == 2:
            at = log[-1][0] - rng.randint(1, 50) / 1e6
            written[index] = rng.uniform(0.0, 0.2)
        text = log[-2][1] if index % 37 == 5 else f"epoch {index}: loss={round(rng.uniform(0.2, 0.9), 3)}"
        if index % 37 == 5:
            at = log[-2][0]
        log.append((at, text))
    out, stop, printed = _followed(kube, log, 61.0, written=written)
    assert out.phase == "Succeeded", out
    assert out.logs["main"] == "".join(stop.handed) == printed
    assert len([text for text in stop.handed if text]) > 10


def test_a_log_read_cut_off_is_dropped_and_read_again(clusters: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """The API server goes away in the middle of a log's body (urllib3's ProtocolError, as the
    connection closes short of its Content-Length): twice at the poll at 15 s, once at the last
    read. The broken read's lines are dropped and the log read again (retried as a request
    is, within apiRetrySeconds): the trial ends Succeeded, deleted, every line stored and
    handed once. Fails with the error let out of the launcher (the Job left running), and with
    a broken read's lines kept (taken twice)."""
    from kfp_tune.launchers.kubernetes import launcher as launcher_module

    monkeypatch.setattr(launcher_module.random, "random", lambda: 0.5)  # the retries' back-off
    monkeypatch.setattr(launcher_module, "READ_CHUNK_BYTES", 256)  # some of a broken read is taken before it breaks
    kube = clusters()
    log = [(at / 4, f"epoch {at}: loss={round(1 / (at + 1), 4)}") for at in range(120)]
    clock = EventClock()
    launcher = polled_launcher(kube, clock)
    cut = [(15.0, 2), (30.0, 1)]

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        while cut and clock.now - 1000.0 >= cut[0][0]:
            kube.faults.append(_cut_log_reads(cut.pop(0)[1]))

    launcher._sleep = sleep
    with caplog.at_level("WARNING"):
        out, stop, printed = _followed(kube, log, 30.0, launcher)
    assert out.phase == "Succeeded", out
    assert out.logs["main"] == "".join(stop.handed) == printed
    assert [f.times for f in kube.faults] == [0, 0] and kube.stored("jobs", "batch") == []
    assert sum("broke off" in r.getMessage() for r in caplog.records) == 3


def _cut_log_reads(times: int, after: int = 700) -> Any:
    """The next ``times`` log reads' bodies cut short: the connection closed ``after`` bytes."""
    from fake_kube import Fault

    return Fault("GET", r"/log$", 200, times=times, body_bytes=after)


def test_log_reads_cut_off_past_api_retry_seconds_are_an_outage_the_trial_outlasts(clusters: Any) -> None:
    """The retries of a broken log read are bounded as a request's are (apiRetrySeconds, here 0);
    a connection lost past them is an API outage, which ends neither the trial nor its follow
    (as Katib's controller requeues): each poll reads again, and once the reads come whole the
    trial's log is read in full. Before, the connection error left run() and the trial was
    recorded Failed while its Job ran on."""
    kube = clusters()
    kube.script = lambda manifest: Script(run_seconds=30.0, log=[(float(at), f"step {at}") for at in range(30)])
    kube.faults.append(_cut_log_reads(10, after=20))
    clock = EventClock()
    kube.clock = clock
    config = KubernetesConfig(namespace="team-a", poll_seconds=POLL, api_retry_seconds=0.0)
    launcher = KubernetesLauncher(config, api_client=kube.api_client(), sleep=clock.sleep, clock=kube.wall)
    out = launcher.run(_run(_experiment()))
    assert out.phase == LaunchPhase.SUCCEEDED and out.logs["main"] == "".join(f"step {at}\n" for at in range(30))
    assert len(kube.calls_to("GET", "log")) > 10


def test_a_line_unfinished_at_a_poll_is_taken_whole_with_the_nodes_clock_ahead(clusters: Any) -> None:
    """The trial's node is 5 s ahead of the launcher (more than LOG_SLACK_SECONDS): a report
    begun at 10.5 s is unfinished at the poll at 15 s. The next read reaches back before its
    time as the node tells it (the launcher saw the node's lines stamped up to 5 s after its own
    clock), so the line comes whole. Fails with sinceSeconds held against the launcher's clock
    alone: the read begins with the line's rest, dropped as the rest of a line taken before."""
    kube = clusters()
    log = [(float(at), f"step {at}") for at in range(10)]
    log += [(10.5, "epoch 1: loss="), (17.0, "0.25")]
    log += [(float(at), f"step {at}") for at in range(18, 30)]
    launcher = polled_launcher(kube, EventClock())
    launcher._clock = lambda: kube.wall() - 5.0
    out, stop, printed = _followed(kube, log, 30.0, launcher, partial=(10,))
    assert out.phase == "Succeeded", out
    assert out.logs["main"] == "".join(stop.handed) == printed and "epoch 1: loss=0.25\n" in printed
