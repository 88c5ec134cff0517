"""The Kubernetes launcher follows a StdOut trial's log a poll at a time (kubelet log rotation
loses nothing it read), hands early stopping only the new lines, and stores the log as the local
launcher does (head, tail, every line naming a metric). Through the real ``kubernetes`` client
against the fake API server (tests/support/fake_kube.py), on a clock the launcher's sleep moves
on, so a poll is the poll's seconds of the trial's output whatever the machine's speed."""

from __future__ import annotations

import random
from typing import Any, cast

import pytest

from conftest import quadratic_experiment
from fake_kube import FakeKube, Script
from kfp_tune.collectors.running import RunningMetrics, StopTest
from kfp_tune.collectors.stdout import parse_output
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.observation import Observation
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.launchers import kept_log
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher

POLL = 5.0
TRIAL = "quad-log12345"


class Clock:
    """The cluster's seconds, moved on by the launcher's sleep."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _experiment(**overrides: Any) -> Experiment:
    return load_experiment(quadratic_experiment(**{"spec.objective.metricStrategies": [{"name": "loss", "value": "min"}], **overrides}))


def _launcher(kube: FakeKube, clock: Clock) -> KubernetesLauncher:
    kube.clock = clock
    config = KubernetesConfig(namespace="team-a", poll_seconds=POLL, api_retry_seconds=5.0)
    return KubernetesLauncher(config, api_client=kube.api_client(), env={"KFP_TUNE_STORE": "s3://bucket/tuning"}, sleep=clock.sleep, clock=kube.wall)


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


class RecordingRule:
    """An early stopping rule that never stops, keeping the values it was shown each time."""

    def __init__(self) -> None:
        self.shown: list[list[float]] = []

    def should_stop(self, objective_type: str, completed: Any, current: Any) -> bool:
        self.shown.append(list(current))
        return False


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
    out = _launcher(kube, Clock()).run(_run(experiment))
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
    out = _launcher(kube, Clock()).run(_run(experiment, should_stop=stop))
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
    out = _launcher(kube, Clock()).run(_run(experiment))
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
    out = _launcher(kube, Clock()).run(_run(experiment))
    assert out.phase == "Succeeded" and _losses(experiment, out.logs["main"]) == reported
    printed = len("".join(line + "\n" for _, line in log).encode())
    assert kube.log_bytes_served < 4 * printed  # a whole read at each of 40 polls: about 20 times


def test_a_file_collector_trial_reads_no_log_while_it_runs(clusters: Any) -> None:
    """Its metrics are in a file, not the output: one read of the log, at the end, as before."""
    kube = clusters()
    kube.script = lambda manifest: Script(run_seconds=10 * POLL, log=[(float(i), f"line {i}") for i in range(50)])
    experiment = _experiment(**{"spec.metricsCollectorSpec": {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/var/log/m.log", "kind": "File"}}}})
    out = _launcher(kube, Clock()).run(_run(experiment))
    assert out.phase == "Succeeded" and out.logs["main"] == "".join(f"line {i}\n" for i in range(50))
    assert len(kube.calls_to("GET", "log")) == 1
