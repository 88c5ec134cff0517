"""How the Kubernetes launcher ends a trial it follows: early stopping on the log it follows
(StdOut) and on the reports in the store (Push), a trial resource someone else deleted, and a
log read in chunks that end inside a line. Through the real ``kubernetes`` client against the
fake API server (tests/support/fake_kube.py), on a clock the launcher's sleep moves on (as in
test_kube_trial_log.py). Each test's docstring names the mutant of the launcher's code it was
seen to fail on (a mutation pass found no test that did)."""

from __future__ import annotations

import dataclasses
import random
import threading
import time
import types
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from conftest import quadratic_experiment
from fake_kube import FakeKube, Fault, Script
from kfp_tune.algorithms.early_stopping import MedianStop
from kfp_tune.collectors.running import StopTest, stop_test
from kfp_tune.core.interfaces import TrialHandedOver
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.core.vocabulary import EARLY_STOP_REASON, LaunchPhase
from kfp_tune.launchers.kubernetes import KubernetesLauncher
from kfp_tune.launchers.kubernetes import launcher as kube_launcher
from kfp_tune.stores import LocalStore
from pod_polls import POLL, EventClock, polled_launcher

NAMESPACE = "team-a"
TRIAL = "quad-follow123"


def _experiment(**overrides: Any) -> Experiment:
    return load_experiment(quadratic_experiment(**{"spec.objective.metricStrategies": [{"name": "loss", "value": "min"}], "spec.trialTemplate.retain": True, **overrides}))


def _run(experiment: Experiment, should_stop: Any = None) -> Any:
    trial = TrialState(name=TRIAL, index=0, round="run-1-r000", assignment={"x": "0.1", "y": "0.2"}, created="")
    return trial_run(experiment, trial, should_stop=should_stop)


def _printed(log: list[tuple[float, str]]) -> str:
    return "".join(line + "\n" for _, line in log)


class RecordingMedianStop(MedianStop):
    """Katib's medianstop, keeping the values it was shown each time."""

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__(settings)
        self.shown: list[list[float]] = []

    def should_stop(self, objective_type: str, completed: Any, current: Any) -> bool:
        self.shown.append(list(current))
        return super().should_stop(objective_type, completed, current)


def test_a_stdout_trial_whose_log_stops_it_is_deleted_early_stopped(clusters: Any, tmp_path: Path) -> None:
    """Its loss falls from 1.0 to 0.0 over 40 s; medianstop (start_step 21, against a completed
    trial that averaged 0.1) judges the 21st report, loss=0.500 at 20 s, and stops it: the poll
    at 20 s ends it EarlyStopped and deletes the Job (under ``retain`` too); the stored log ends
    with that report. Fails with the stop test's answer on the new lines dropped
    (_FollowedLog.judge returning False where it said stop): the trial ran to its end."""
    kube = clusters()
    log = [(float(at), f"epoch {at}: loss={1 - at / 40:.3f}") for at in range(40)]
    kube.script = lambda manifest: Script(run_seconds=40.0, log=log)
    experiment = _experiment(**{"spec.earlyStopping": {"algorithmName": "medianstop"}})
    rule = RecordingMedianStop({"min_trials_required": 1, "start_step": 21})
    records = ExperimentRecords(LocalStore(tmp_path / "store"), experiment.name)
    clock = EventClock()
    out = polled_launcher(kube, clock).run(_run(experiment, should_stop=stop_test(records, experiment, TRIAL, rule, [[0.1] * 21])))
    assert (out.phase, out.reason) == (LaunchPhase.EARLY_STOPPED, EARLY_STOP_REASON), out
    assert out.logs["main"] == _printed(log[:21]) and out.logs["main"].endswith("epoch 20: loss=0.500\n")
    assert "epoch 39" not in out.logs["main"]
    assert rule.shown[-1][-1] == 0.5 and len(rule.shown[-1]) == 21
    assert kube.stored("jobs", "batch") == [] and len(kube.calls_to("DELETE", "jobs")) == 1
    assert clock.now == 1020.0  # the poll that read the report


def test_a_push_trial_whose_stored_reports_stop_it_is_deleted_early_stopped(clusters: Any, tmp_path: Path) -> None:
    """A Push trial's reports are in the store, not its log: the launcher reads no log while it
    runs and asks the stop test at each poll. Its first report (loss 0.9, at 7 s) is before
    medianstop's start_step 2; its second (0.3, at 12 s) is worse than the completed trial's
    0.2: the poll at 15 s ends it EarlyStopped, reads its log once and deletes the Job (under
    ``retain`` too), 45 s before it would have ended. Fails with that branch never taken
    (the trial Succeeded at 60 s) and with its outcome lost (None)."""
    kube = clusters()
    log = [(float(at), f"step {at}") for at in range(60)]
    kube.script = lambda manifest: Script(run_seconds=60.0, log=log)
    experiment = _experiment(**{"spec.metricsCollectorSpec": {"collector": {"kind": "Push"}}, "spec.earlyStopping": {"algorithmName": "medianstop"}})
    records = ExperimentRecords(LocalStore(tmp_path / "store"), experiment.name)
    rule = RecordingMedianStop({"min_trials_required": 1, "start_step": 2})
    should_stop = stop_test(records, experiment, TRIAL, rule, [[0.2, 0.2]])
    assert isinstance(should_stop, StopTest) and not should_stop.reads_output

    def report(number: int, loss: float) -> None:
        records.write(records.report_key(TRIAL, f"{number:020d}-aaaaaa"), "ReportedMetrics", {"metrics": [{"name": "loss", "value": loss, "step": number - 1}]})

    clock = EventClock()
    clock.at(7.0, lambda: report(1, 0.9))
    clock.at(12.0, lambda: report(2, 0.3))
    out = polled_launcher(kube, clock).run(_run(experiment, should_stop=should_stop))
    assert out is not None and (out.phase, out.reason) == (LaunchPhase.EARLY_STOPPED, EARLY_STOP_REASON), out
    assert rule.shown == [[], [], [0.9], [0.9, 0.3]]  # a look at each poll: 0, 5, 10, 15 s
    assert clock.now == 1015.0
    assert kube.stored("jobs", "batch") == [] and len(kube.calls_to("DELETE", "jobs")) == 1
    assert len(kube.calls_to("GET", "log")) == 1
    assert out.logs["main"] == _printed(log[:16])


def test_a_trial_whose_job_someone_deleted_ends_failed_trial_deleted(clusters: Any) -> None:
    """Someone deletes the running trial's Job at 12 s: the next poll finds it gone and the
    trial ends Failed, TrialDeleted, naming the resource (as the guide says: Katib's controller
    would create it again; kfp-tune does not). Fails with that outcome lost (None)."""
    kube = clusters()
    kube.script = lambda manifest: Script(run_seconds=60.0, log=[(float(at), f"step {at}") for at in range(60)])
    experiment = _experiment()
    clock = EventClock()
    batch = client.BatchV1Api(kube.api_client())
    clock.at(12.0, lambda: batch.delete_namespaced_job(TRIAL, NAMESPACE, propagation_policy="Background"))
    out = polled_launcher(kube, clock).run(_run(experiment))
    assert out is not None
    assert (out.phase, out.reason) == (LaunchPhase.FAILED, "TrialDeleted")
    assert out.message == f"jobs.batch {TRIAL!r} was deleted before it finished"
    assert len(kube.calls_to("POST", "jobs")) == 1 and kube.stored("jobs", "batch") == []  # not created again
    assert clock.now == 1015.0 and len(kube.calls_to("DELETE", "jobs")) == 1  # someone else's: the launcher had nothing left to delete


def _rotating_run(clusters: Any, store: Path) -> tuple[str, str, str]:
    """A trial printing about 110 KB over 20 polls whose kubelet rotates its log at 8 KiB, so
    that each read after the first starts with lines not read before (the file begins after the
    last line taken), followed with a stop test that never stops: (what it printed, the stored
    log, the texts the stop test was handed)."""
    kube = clusters()
    kube.log_max_bytes = 8 << 10
    kube.log_check_phase = 0.05  # the lines come each 0.1 s: none between a poll and the kubelet's look
    log = [(at / 10, f"step {at}: loss={(at % 97) / 100:.2f} " + "x" * 90) for at in range(20 * 50)]
    kube.script = lambda manifest: Script(run_seconds=20 * POLL, log=log)
    experiment = _experiment(**{"spec.earlyStopping": {"algorithmName": "medianstop"}})
    handed: list[str] = []

    class Recording(StopTest):
        def appended(self, text: str) -> bool:
            handed.append(text)
            return super().appended(text)

    never = MedianStop({})  # no completed trials: no rule
    running = stop_test(ExperimentRecords(LocalStore(store), experiment.name), experiment, TRIAL, never, []).running
    out = polled_launcher(kube, EventClock()).run(_run(experiment, should_stop=Recording(running, never, [])))
    assert out.phase == LaunchPhase.SUCCEEDED, out
    return _printed(log), out.logs["main"], "".join(handed)


def test_a_log_read_in_chunks_that_end_inside_a_line_is_taken_as_when_read_whole(clusters: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The response is read READ_CHUNK_BYTES at a time; at 7 bytes the first line of each read
    comes in pieces, and whether it is new is known only once it is whole (its time). The
    stored log and the stop test's texts are those of the default reads: every line once.
    Fails with a read's first piece dropped instead of kept (_FollowedLog.take), which loses
    the first line of every read after a rotation."""
    printed, stored, handed = _rotating_run(clusters, tmp_path / "default")
    assert stored == handed == printed
    monkeypatch.setattr(kube_launcher, "READ_CHUNK_BYTES", 7)
    assert _rotating_run(clusters, tmp_path / "chunked") == (printed, stored, handed)


def test_a_trial_deleted_at_its_deadline_keeps_no_unfinished_last_line(clusters: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """At the launcher's timeout the trial is still running when its log is read last: a line
    printed without its newline yet (``epoch 13: loss=0.3``, whose ``1`` comes 4 s later) may go
    on, and a value cut short is worse than none, so it is left out, as at any poll. Before, that
    read took the trial as ended and stored ``loss=0.3``, which collect-metrics then read."""
    kube = clusters()
    log = [(float(at), f"step {at}") for at in range(13)] + [(13.0, "epoch 13: loss=0.3"), (17.0, "1")]
    kube.script = lambda manifest: Script(run_seconds=60.0, log=log + [(float(at), f"step {at}") for at in range(18, 60)], partial=(13,))
    clock = EventClock()
    monkeypatch.setattr(kube_launcher, "time", types.SimpleNamespace(monotonic=clock, time=time.time, sleep=time.sleep))
    launcher = polled_launcher(kube, clock)
    launcher.config = dataclasses.replace(launcher.config, timeout_seconds=14.0)
    out = launcher.run(_run(_experiment()))
    assert out is not None and (out.phase, out.reason) == (LaunchPhase.FAILED, "DeadlineExceeded")
    assert out.logs["main"] == "".join(f"step {at}\n" for at in range(13))
    assert kube.stored("jobs", "batch") == []


def _followed_across_checkpoints(launcher: KubernetesLauncher, clock: EventClock, experiment: Experiment, every: float, steps: int = 4) -> list[tuple[str, float]]:
    """Run the trial as a pipeline's steps do: the first step's run, each later step's reattach,
    each step handing it over ``every`` seconds after it began; (how each step ended, when)."""
    ends = []
    for step in range(steps):
        handover = threading.Event()
        clock.at(every, handover.set)
        run = dataclasses.replace(_run(experiment), handover=handover)
        try:
            out = launcher.run(run) if step == 0 else launcher.reattach(run)
        except TrialHandedOver:
            ends.append(("handed over", clock.now))
            continue
        ends.append((out.reason if out is not None else "gone", clock.now))
        break
    return ends


def test_timeout_seconds_counts_from_the_trials_start_across_checkpoint_handovers(clusters: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pipeline hands its Kubernetes trials over to the next step at every checkpoint (600 s
    by default), whose reattach follows them on. timeoutSeconds (12 s; a checkpoint every 7 s
    here) counts from the trial's start, its resource's creationTimestamp: the second step's
    poll at 15 s ends it DeadlineExceeded and deletes it. Before, each step counted from its own
    start, so a timeoutSeconds longer than the checkpoints (the guide's 7200) never fired: the
    trial was handed over at every step."""
    kube = clusters()
    kube.script = lambda manifest: Script(run_seconds=600.0, log=[(0.0, "loss=0.5")])
    clock = EventClock()
    monkeypatch.setattr(kube_launcher, "time", types.SimpleNamespace(monotonic=clock, time=time.time, sleep=time.sleep))
    launcher = polled_launcher(kube, clock)
    launcher.config = dataclasses.replace(launcher.config, timeout_seconds=12.0)
    assert _followed_across_checkpoints(launcher, clock, _experiment(), every=7.0) == [("handed over", 1010.0), ("DeadlineExceeded", 1015.0)]
    assert kube.stored("jobs", "batch") == []


def test_a_trial_this_launcher_created_is_timed_on_its_own_clock_whatever_the_api_servers(clusters: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A review of the handover fix: with this machine's clock 120 s ahead of the API server's, a
    30 s trial under timeoutSeconds 60 ended DeadlineExceeded at its first poll (now minus the
    server's creationTimestamp). The trial this launcher created is timed by its monotonic
    clock: it ends CompletionsReached; the same skew still counts for a reattached one."""
    kube = clusters()
    kube.script = lambda manifest: Script(run_seconds=30.0, log=[(0.0, "loss=0.5")])
    clock = EventClock()
    monkeypatch.setattr(kube_launcher, "time", types.SimpleNamespace(monotonic=clock, time=time.time, sleep=time.sleep))
    launcher = polled_launcher(kube, clock)
    launcher._clock = lambda: kube.wall() + 120.0  # type: ignore[method-assign]  # this machine's clock 120 s ahead
    launcher.config = dataclasses.replace(launcher.config, timeout_seconds=60.0)
    out = launcher.run(_run(_experiment()))
    assert (out.phase, out.reason) == (LaunchPhase.SUCCEEDED, "CompletionsReached")


def _outage(kube: FakeKube, requests: int) -> None:
    """The API server answers the next ``requests`` reads of the trial's Job 503, as while etcd
    changes leader."""
    kube.faults = [Fault("GET", f"/jobs/{TRIAL}$", 503, times=requests, message="etcdserver: leader changed")]


def test_an_api_outage_longer_than_api_retry_seconds_leaves_the_trial_running_and_followed(clusters: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Job's reads fail 503 from 2 s for longer than apiRetrySeconds (5 s): the trial runs
    on and is followed again once the API answers, as Katib's controller requeues; it ends
    Succeeded with its log and its Job deleted. Before, the outage's error left run(), the
    trial was recorded Failed and its Job kept running on the cluster."""
    kube = clusters()
    kube.script = lambda manifest: Script(run_seconds=20.0, log=[(0.0, "loss=0.5")])
    clock = EventClock()
    monkeypatch.setattr(kube_launcher, "time", types.SimpleNamespace(monotonic=clock, time=time.time, sleep=time.sleep))
    monkeypatch.setattr(kube_launcher, "random", random.Random(20261206))
    clock.at(2.0, lambda: _outage(kube, 12))
    out = polled_launcher(kube, clock).run(_run(_experiment(**{"spec.trialTemplate.retain": False})))
    assert out is not None and (out.phase, out.logs) == (LaunchPhase.SUCCEEDED, {"main": "loss=0.5\n"})
    assert kube.faults[0].times == 0 and clock.now >= 1020.0  # followed through the outage to the trial's end
    assert kube.stored("jobs", "batch") == []


def test_a_trial_in_an_api_outage_is_handed_over_at_the_checkpoint_and_reattached(clusters: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """An outage that outlasts the step: the checkpoint hands the trial over as ever (its Job
    left running), and the next step's reattach, whose first read of the Job fails too, follows
    it to its end."""
    kube = clusters()
    kube.script = lambda manifest: Script(run_seconds=25.0, log=[(0.0, "loss=0.5")])
    clock = EventClock()
    monkeypatch.setattr(kube_launcher, "time", types.SimpleNamespace(monotonic=clock, time=time.time, sleep=time.sleep))
    monkeypatch.setattr(kube_launcher, "random", random.Random(20261206))
    launcher = polled_launcher(kube, clock)
    clock.at(2.0, lambda: _outage(kube, 10))
    reattach, left_at_reattach = launcher.reattach, []
    monkeypatch.setattr(launcher, "reattach", lambda run: (left_at_reattach.append(kube.faults[0].times), reattach(run))[1])
    ends = _followed_across_checkpoints(launcher, clock, _experiment(**{"spec.trialTemplate.retain": False}), every=15.0)
    assert [end for end, _ in ends] == ["handed over", "CompletionsReached"], ends  # the Job's Complete condition: Succeeded
    assert left_at_reattach[0] > 0  # the outage still on as the next step began
    assert kube.faults[0].times == 0 and kube.stored("jobs", "batch") == []
