"""The Custom collector locally: the user's collector container runs as a second process beside
the trial, shares the folder of ``source.fileSystemPath`` with it, reports with
``kfp_tune.report_metrics`` and gets SIGTERM once the trial has ended; what it reported is the
trial's metrics. What cannot run here is refused, naming the field."""

from __future__ import annotations

from pathlib import Path

from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import load_state
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher

UNREAD_PARAMETERS = [{"name": "X", "value": "${trialParameters.x}"}, {"name": "Y", "value": "${trialParameters.y}"}]
"""Every parameter reaches the trial, as Katib requires, in variables the trial does not read."""

# The user's collector: follows the log the trial writes and reports each finished line; on
# SIGTERM (the trial has ended) it reports what is left, the last unfinished line included.
# It says it is ready (its SIGTERM handler set) with a file in the shared folder.
COLLECTOR = r"""
import os, signal, sys, time
ended = []
signal.signal(signal.SIGTERM, lambda *_: ended.append(True))
from kfp_tune import report_metrics
log = sys.argv[1]
open(os.path.join(os.path.dirname(log), "collector-ready"), "w").close()
done, step = 0, 0
while True:
    last = bool(ended)
    text = open(log).read() if os.path.exists(log) else ""
    lines = text.split("\n")
    if not last:
        lines = lines[:-1]
    for line in lines[done:]:
        if line.strip():
            name, value = line.split("=")
            report_metrics({name: float(value)}, step=step)
            step += 1
    done = max(done, len(lines))
    if last:
        break
    time.sleep(0.05)
print(f"reported {step}")
"""

# The trial: waits for the collector, then writes its log; its last line has no newline.
TRIAL = r"""
import os, sys, time
log = sys.argv[1]
while not os.path.exists(os.path.join(os.path.dirname(log), "collector-ready")):
    time.sleep(0.02)
with open(log, "w") as out:
    out.write("loss=0.5\nloss=0.25\nloss=0.375")
"""


def _experiment(tmp_path: Path, custom: dict, **extra):
    script_dir = tmp_path / "scripts"
    script_dir.mkdir(exist_ok=True)
    (script_dir / "collector.py").write_text(COLLECTOR)
    (script_dir / "trial.py").write_text(TRIAL)
    doc = quadratic_experiment(**{
        "spec.maxTrialCount": 1,
        "spec.parallelTrialCount": 1,
        "spec.maxFailedTrialCount": 1,
        "spec.metricsCollectorSpec": {
            "collector": {"kind": "Custom", "customCollector": custom},
            "source": {"fileSystemPath": {"path": "/katib/mnist.log", "kind": "File"}},
        },
        "spec.trialTemplate.trialSpec.spec.template.spec.containers": [
            {"name": "main", "env": UNREAD_PARAMETERS, "image": "python:3.11", "command": ["python3", str(script_dir / "trial.py"), "/katib/mnist.log"]}
        ],
        **extra,
    })
    return load_experiment(doc)


def test_a_custom_collector_runs_beside_a_local_trial_and_its_reports_are_the_metrics(tmp_path, local_store):
    custom = {"name": "my-collector", "image": "me/collector", "command": ["python3", str(tmp_path / "scripts" / "collector.py")], "args": ["/katib/mnist.log"]}
    experiment = _experiment(tmp_path, custom)
    decision = run_inline(local_store, experiment, LocalLauncher(env={"KFP_TUNE_STORE": local_store.uri}))
    assert decision.phase == "Succeeded", decision.message
    records = ExperimentRecords(local_store, "quad")
    (trial,) = load_state(records).trials
    assert trial.status == "Succeeded"
    assert tuple(trial.result.curve) == (0.5, 0.25, 0.375)  # the last one reported after SIGTERM
    assert trial.metrics["loss"] == 0.25
    assert records.read_text(records.log_key(trial.name, "my-collector")) == "reported 3\n"  # its output is kept too
    assert not Path("/katib/mnist.log").exists()  # the shared folder was a local one


def test_a_custom_collector_without_a_command_is_refused_locally(tmp_path, local_store):
    custom = {"name": "my-collector", "image": "me/collector", "args": ["-m", "loss"]}
    experiment = _experiment(tmp_path, custom)
    run_inline(local_store, experiment, LocalLauncher(env={"KFP_TUNE_STORE": local_store.uri}))
    (trial,) = load_state(ExperimentRecords(local_store, "quad")).trials
    assert trial.status == "Failed"
    assert "spec.metricsCollectorSpec.collector.customCollector.command" in trial.result.message


def test_a_custom_collector_with_env_from_a_cluster_is_refused_locally(tmp_path, local_store):
    custom = {"name": "c", "image": "c", "command": ["python3", "c.py"], "env": [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}
    run_inline(local_store, _experiment(tmp_path, custom), LocalLauncher(env={"KFP_TUNE_STORE": local_store.uri}))
    (trial,) = load_state(ExperimentRecords(local_store, "quad")).trials
    assert trial.status == "Failed" and "customCollector.env[0]" in trial.result.message and "valueFrom" in trial.result.message


# A collector that says whether it holds the trial's log open (an fd of its own on it), then lets the trial go.
HOLDS_LOG = r"""
import os, sys
held = any(os.readlink(f"/proc/self/fd/{fd}").endswith("/trial.log") for fd in os.listdir("/proc/self/fd") if os.path.exists(f"/proc/self/fd/{fd}"))
print(f"holds trial.log: {held}", flush=True)
open(os.path.join(os.path.dirname(sys.argv[1]), "collector-ready"), "w").close()
"""


def test_the_custom_collectors_process_holds_the_trials_log_while_it_runs(tmp_path, local_store):
    """The trial's folder (its locked trial.log) is taken by no sweep while anything of the trial
    runs: the Custom collector's process, which may outlive the trial by the grace period, holds
    the log open too (:mod:`kfp_tune.launchers.scratch`)."""
    (tmp_path / "holds.py").write_text(HOLDS_LOG)
    custom = {"name": "my-collector", "image": "me/collector", "command": ["python3", str(tmp_path / "holds.py")], "args": ["/katib/mnist.log"]}
    run_inline(local_store, _experiment(tmp_path, custom), LocalLauncher(env={"KFP_TUNE_STORE": local_store.uri}))
    records = ExperimentRecords(local_store, "quad")
    (trial,) = load_state(records).trials
    assert records.read_text(records.log_key(trial.name, "my-collector")) == "holds trial.log: True\n"
