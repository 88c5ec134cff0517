"""A running trial's metrics for early stopping, whatever its collector: the local launcher's
follower stores a File collector's observations while the trial writes them, and a stop test
on those (Katib's medianstop) stops a trial that would otherwise never end; TensorFlowEvent
files are followed as they grow; Push reports are read as they come."""

from __future__ import annotations

import json
import shlex
import textwrap
from pathlib import Path

from conftest import quadratic_experiment
from kfp_tune.algorithms.early_stopping import MedianStop
from kfp_tune.collectors.observe import Follower, ObservationWriter, collector_source
from kfp_tune.collectors.running import RunningMetrics, stop_test
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.observation import MetricLog
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.launchers import LocalLauncher
from kfp_tune.steps import init_experiment

UNREAD_PARAMETERS = [{"name": "X", "value": "${trialParameters.x}"}, {"name": "Y", "value": "${trialParameters.y}"}]
"""Every parameter reaches the trial, as Katib requires, in variables the trial does not read."""

# Writes one JSON line per report (a string value, as Katib's JSON examples do), then waits for a
# file that never comes: only early stopping ends it.
HANGING_WRITER = textwrap.dedent(r"""
    import json, os, sys, time
    path = sys.argv[1]
    with open(path, "w") as out:
        for loss in (0.9, 0.8, 0.85, 0.7, 0.1):
            out.write(json.dumps({"loss": str(loss)}) + "\n")
            out.flush()
    while not os.path.exists(path + ".never"):
        time.sleep(0.05)
""")

WALL = 1_700_000_000
"""An event's wall time in these tests (seconds since 1970), fixed so that the times are known."""


def test_a_file_collector_trial_is_stopped_early_on_what_it_wrote_so_far(tmp_path, local_store):
    metrics = tmp_path / "katib" / "mnist.json"
    doc = quadratic_experiment(**{
        "spec.metricsCollectorSpec": {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": str(metrics), "kind": "File", "format": "JSON"}}},
        "spec.earlyStopping": {"algorithmName": "medianstop", "algorithmSettings": [{"name": "min_trials_required", "value": "2"}, {"name": "start_step", "value": "4"}]},
        "spec.trialTemplate.trialSpec.spec.template.spec.containers": [
            {"name": "main", "env": UNREAD_PARAMETERS, "image": "python:3.11", "command": ["python3", "-c", shlex.quote(HANGING_WRITER), str(metrics)]}
        ],
    })
    experiment = load_experiment(doc)
    records = ExperimentRecords(local_store, experiment.name)
    init_experiment(records, experiment)
    trial = TrialState(name="quad-t3", index=2, round="", assignment={"x": "0.5", "y": "0.5"}, created="")
    completed = [[0.5, 0.4, 0.3, 0.2], [0.6, 0.5, 0.4, 0.3]]  # averages 0.35 and 0.45: threshold 0.4
    rule = MedianStop({"min_trials_required": 2, "start_step": 4})
    run = trial_run(experiment, trial, should_stop=stop_test(records, experiment, trial.name, rule, completed))
    # the trial never ends by itself: a deadline turns a follower that stores nothing (parsing
    # broken) into a DeadlineExceeded failure instead of a hang; medianstop stops it in seconds
    outcome = LocalLauncher(env={"KFP_TUNE_STORE": local_store.uri}, timeout_seconds=60).run(run)
    assert outcome.phase == "EarlyStopped", outcome
    # its best of the first four reports, 0.7, is worse than 0.4; the fifth (0.1) comes too late
    seen = RunningMetrics(records, experiment, trial.name).read()
    assert [m.value for m in seen][:4] == [0.9, 0.8, 0.85, 0.7]
    assert json.loads(outcome.files["mnist.json"].decode().splitlines()[0]) == {"loss": "0.9"}


def test_without_early_stopping_the_local_launcher_follows_no_file(tmp_path, local_store):
    """A File trial with no early stopping needs nothing beside it: its file is read at the end."""
    metrics = tmp_path / "m.log"
    doc = quadratic_experiment(**{
        "spec.metricsCollectorSpec": {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": str(metrics), "kind": "File", "format": "TEXT"}}},
        "spec.trialTemplate.trialSpec.spec.template.spec.containers": [
            {"name": "main", "env": UNREAD_PARAMETERS, "image": "python:3.11", "command": ["python3", "-c", shlex.quote("import sys; open(sys.argv[1], 'w').write('loss=0.5\\n')"), str(metrics)]}
        ],
    })
    experiment = load_experiment(doc)
    records = ExperimentRecords(local_store, experiment.name)
    init_experiment(records, experiment)
    trial = TrialState(name="quad-t1", index=0, round="", assignment={"x": "0.5", "y": "0.5"}, created="")
    outcome = LocalLauncher(env={"KFP_TUNE_STORE": local_store.uri}).run(trial_run(experiment, trial))
    assert outcome.phase == "Succeeded" and outcome.files == {"m.log": b"loss=0.5\n"}
    assert local_store.list(records.reports_prefix(trial.name)) == []


def test_event_files_are_followed_as_they_grow(tmp_path):
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    doc = quadratic_experiment(**{"spec.metricsCollectorSpec": {"collector": {"kind": "TensorFlowEvent"}, "source": {"fileSystemPath": {"path": str(tmp_path / "events"), "kind": "Directory"}}}})
    follower = Follower(collector_source(load_experiment(doc)), local=tmp_path / "events")
    assert follower.poll() == {}
    writer = EventFileWriter(str(tmp_path / "events" / "train"))

    def add(step: int, loss: float) -> None:
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="train/loss", simple_value=loss)])
        writer.add_event(event_pb2.Event(wall_time=WALL + step + 0.5, step=step, summary=summary))
        writer.flush()

    add(0, 0.5)
    (name,) = follower.poll()
    assert follower.poll()[name] == [MetricLog("loss", 0.5, 0, time_us=WALL * 10**6)]  # the wall time, to the second, as Katib files it
    add(1, 0.25)
    assert follower.poll()[name] == [MetricLog("loss", 0.5, 0, time_us=WALL * 10**6), MetricLog("loss", 0.25, 1, time_us=(WALL + 1) * 10**6)]
    writer.close()


def test_push_reports_are_read_as_they_come_and_the_collectors_records_are_not_reports(local_store):
    doc = quadratic_experiment(**{"spec.metricsCollectorSpec": {"collector": {"kind": "Push"}}})
    experiment = load_experiment(doc)
    records = ExperimentRecords(local_store, experiment.name)
    running = RunningMetrics(records, experiment, "t")
    assert running.read() == []
    records.write(records.report_key("t", "00000000000000000001-aaaaaa"), "ReportedMetrics", {"metrics": [{"name": "loss", "value": 0.5, "step": 0}]})
    ObservationWriter(records, "t").write({"metrics.log": [MetricLog("loss", 99.0, 0)]})
    assert running.read() == [MetricLog("loss", 0.5, 0)]
    records.write(records.report_key("t", "00000000000000000002-bbbbbb"), "ReportedMetrics", {"metrics": [{"name": "loss", "value": 0.25, "step": 1}]})
    assert running.read() == [MetricLog("loss", 0.5, 0), MetricLog("loss", 0.25, 1)]


def test_stdout_is_read_from_the_output_so_far(local_store):
    experiment = load_experiment(quadratic_experiment())
    should_stop = stop_test(ExperimentRecords(local_store, "quad"), experiment, "t", MedianStop({"min_trials_required": 1, "start_step": 2}), [[0.2, 0.2]])
    assert not should_stop("loss=0.9\n")  # one report: before start_step
    assert should_stop("loss=0.9\nloss=0.3\n")  # best 0.3 > 0.2
    assert not should_stop("loss=0.9\nloss=0.1\n")


def test_the_collector_source_names_katibs_fields(tmp_path: Path):
    doc = quadratic_experiment(**{"spec.metricsCollectorSpec": {
        "collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/katib/m.log", "kind": "File"}, "filter": {"metricsFormat": [r"(\w+):\s*([\d.]+)"]}}}})
    source = collector_source(load_experiment(doc))
    assert (source.kind, source.path, source.file_format, source.formats, source.names) == ("File", "/katib/m.log", "TEXT", (r"(\w+):\s*([\d.]+)",), ("loss", "accuracy"))


def _accuracy_trial(local_store, program: str):
    """A StdOut trial (objective accuracy, maximize) that runs ``program``, and its stop test:
    Katib's medianstop at the first report, against one trial that averaged 0.93."""
    doc = quadratic_experiment(**{
        "spec.objective": {"type": "maximize", "objectiveMetricName": "accuracy"},
        "spec.earlyStopping": {"algorithmName": "medianstop", "algorithmSettings": [{"name": "min_trials_required", "value": "1"}, {"name": "start_step", "value": "1"}]},
        "spec.trialTemplate.trialSpec.spec.template.spec.containers": [{"name": "main", "env": UNREAD_PARAMETERS, "image": "python:3.11", "command": ["python3", "-c", shlex.quote(program)]}],
    })
    experiment = load_experiment(doc)
    records = ExperimentRecords(local_store, experiment.name)
    init_experiment(records, experiment)
    trial = TrialState(name="quad-t2", index=1, round="", assignment={"x": "0.5", "y": "0.5"}, created="")
    rule = MedianStop({"min_trials_required": 1, "start_step": 1})
    return trial_run(experiment, trial, should_stop=stop_test(records, experiment, trial.name, rule, [[0.93]]))


def test_a_half_written_stdout_line_is_not_judged_until_it_is_whole(local_store):
    """The QA reproduction: ``accuracy=0.9`` flushed, ``5`` and the newline a poll later. Judged on
    0.9 (below 0.93) the trial was stopped and kept 0.9; Katib's collector reads whole lines."""
    writes_in_two = "import sys, time; sys.stdout.write('accuracy=0.9'); sys.stdout.flush(); time.sleep(1.5); print('5')"
    outcome = LocalLauncher(env={"KFP_TUNE_STORE": local_store.uri}).run(_accuracy_trial(local_store, writes_in_two))
    assert outcome.phase == "Succeeded", outcome
    assert outcome.logs["main"] == "accuracy=0.95\n"


def test_the_last_stdout_line_counts_once_the_trial_has_ended(local_store):
    """A last line without its newline is whole once the trial has ended: judged on it then."""
    no_newline = "import sys; sys.stdout.write('accuracy=0.9')"
    outcome = LocalLauncher(env={"KFP_TUNE_STORE": local_store.uri}).run(_accuracy_trial(local_store, no_newline))
    assert outcome.phase == "EarlyStopped", outcome


def test_the_stop_test_reads_whole_lines_only(local_store):
    experiment = load_experiment(quadratic_experiment(**{"spec.objective": {"type": "maximize", "objectiveMetricName": "accuracy"}}))
    should_stop = stop_test(ExperimentRecords(local_store, "quad"), experiment, "t", MedianStop({"min_trials_required": 1, "start_step": 1}), [[0.93]])
    assert not should_stop("accuracy=0.9")  # maybe the start of 0.95
    assert not should_stop("accuracy=0.95\naccuracy=0.9")
    assert should_stop("accuracy=0.9\n")
