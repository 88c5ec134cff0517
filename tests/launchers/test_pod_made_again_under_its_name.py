"""A primary pod the Training Operator makes again under the same name is a new attempt: its log
and early stopping start again from its output, as for a restarted container or a Job's new pod.

Training Operator v1.9 deletes a Failed pod and makes it again as ``<job>-<type>-<index>``
(``restartPolicy: ExitCode`` with a retryable exit code, as GPU teams use to retry a preempted or
XID-killed GPU; an evicted pod under ``OnFailure``): pkg/controller.v1/common/pod.go,
ReconcilePods. Katib's collector in the failed pod never reports (it writes its ``completed``
marker only when the command succeeds: pkg/metricscollector/v1beta1/common/pns.go), so only the
attempt that completes reports. Through the real ``kubernetes`` client against the fake API server
(tests/support/fake_kube.py, ``Script.remade``), on a clock the launcher's sleep moves on."""

from __future__ import annotations

import logging
import random
from typing import Any, cast

import pytest

from conftest import quadratic_experiment
from fake_kube import TRAINING_OPERATOR, Script
from kfp_tune.collectors.running import RunningMetrics, StopTest
from kfp_tune.collectors.stdout import parse_output
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.observation import Observation
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from pod_polls import Clock, RecordingRule, polled_launcher

TRIAL = "quad-remade123"
MASTER = f"{TRIAL}-master-0"


def _experiment(restart_policy: str) -> Experiment:
    """A PyTorchJob trial (a Master, ``restartPolicy`` as given), its loss minimized, under medianstop."""
    doc = quadratic_experiment(**{"spec.objective.metricStrategies": [{"name": "loss", "value": "min"}], "spec.trialTemplate.retain": True,
                                  "spec.earlyStopping": {"algorithmName": "medianstop"}})
    template = doc["spec"]["trialTemplate"]
    container = template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["name"] = template["primaryContainerName"] = "pytorch"
    template["trialSpec"] = {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "spec": {"pytorchReplicaSpecs": {
        "Master": {"replicas": 1, "restartPolicy": restart_policy, "template": {"spec": {"containers": [container]}}}}}}
    return load_experiment(doc)


def _attempt(seed: int, start: float, seconds: int, best: float | None = None) -> list[tuple[float, str]]:
    """An attempt's output from ``start``: a line a second, every fifth a seeded ``loss=`` report;
    ``best``: the third report that value (a run that diverged and crashed printed a low loss first)."""
    rng = random.Random(seed)
    lines = [(start + at, f"epoch {at}: loss={round(rng.uniform(0.3, 0.9), 3)}" if at % 5 == 2 else f"step {at}") for at in range(seconds)]
    if best is not None:
        lines[12] = (start + 12, f"epoch 12: loss={best}")
    return lines


def _printed(log: list[tuple[float, str]]) -> str:
    return "".join(line + "\n" for _, line in log)


def test_a_pod_made_again_under_its_name_reports_only_its_own_output(clusters: Any, caplog: pytest.LogCaptureFixture) -> None:
    """``restartPolicy: ExitCode``: the master pod fails at 50 s; the operator makes it again under the same name (new uid,
    restartCount 0), and that attempt succeeds. The stored log and the objective are the second
    attempt's only: its min loss, not the failed attempt's 0.01; early stopping was shown the
    first attempt's reports while it ran and only the second's after. Before, the launcher told
    attempts apart by pod name and restartCount, both the same, and kept the failed attempt's
    lines and its 0.01 as the trial's result (QA gpu, finding 1)."""
    kube = clusters(TRAINING_OPERATOR)
    first, second = _attempt(31, 0.0, 50, best=0.01), _attempt(32, 50.0, 50)
    kube.script = lambda manifest: Script(run_seconds=100.0, log=first + second, remade=(50.0,))
    experiment = _experiment("ExitCode")
    rule = RecordingRule()
    stop = StopTest(RunningMetrics(cast(Any, None), experiment, TRIAL), rule, [])
    uids: list[str] = []  # the master pod's uid seen at each poll
    clock = Clock(kube, then=lambda poll: uids.extend(p["metadata"]["uid"] for p in kube.pods_of(TRIAL) if p["metadata"]["name"] == MASTER))
    launcher = polled_launcher(kube, clock)
    trial = TrialState(name=TRIAL, index=0, round="run-1-r000", assignment={"x": "0.1", "y": "0.2"}, created="")
    with caplog.at_level(logging.INFO, logger="kfp_tune.launchers.kubernetes.launcher"):
        out = launcher.run(trial_run(experiment, trial, should_stop=stop))
    assert out.phase == "Succeeded", out
    assert out.logs["pytorch"] == _printed(second)
    second_losses = [m.value for m in parse_output(experiment, _printed(second)) if m.name == "loss"]
    assert Observation.from_logs(parse_output(experiment, out.logs["pytorch"]), ["loss"]).metrics["loss"].min == min(second_losses)
    assert rule.shown[-1] == second_losses and 0.01 not in rule.shown[-1]
    assert any(0.01 in shown for shown in rule.shown)  # the first attempt's reports were judged while it ran
    assert len(set(uids)) == 2 and [p["metadata"]["name"] for p in kube.pods_of(TRIAL)] == [MASTER]  # the same name, another pod
    (said,) = [r.getMessage() for r in caplog.records if "start again" in r.getMessage()]
    assert MASTER in said and uids[-1] in said
